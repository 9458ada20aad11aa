//! The streaming pipeline: source thread → PSD thread → the caller's stages,
//! joined by bounded crossbeam channels, with sample buffers recycled through
//! a [`BufferPool`] so the steady state allocates no IQ memory.
//!
//! Items flow in sample order: each [`IqBlock`] is followed by the frames it
//! completed, and [`Gap`]s arrive where samples went missing. The last stage
//! hands blocks back to the pool with [`Running::recycle`].

use crate::dsp::{PsdConfig, PsdEngine, PsdFrame};
use crate::source::{BufferPool, Gap, IqBlock, Source, SourceContext, SourceInfo, SourceMsg};
use crate::{Error, Result};
use crossbeam_channel::{bounded, Receiver};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// What flows out of the PSD stage.
#[derive(Debug)]
pub enum StreamItem {
    /// Raw samples (for IQ evidence); hand them back with [`Running::recycle`].
    Block(IqBlock),
    /// An averaged spectrum.
    Frame(PsdFrame),
    /// Samples that never arrived.
    Gap(Gap),
}

/// Pipeline sizing.
#[derive(Debug, Clone)]
pub struct PipelineSettings {
    pub psd: PsdConfig,
    /// Samples per IQ block.
    pub block_len: usize,
    /// Capacity of each bounded channel, in items.
    pub channel_capacity: usize,
    /// Seconds of samples the source's channel holds for a live source (a
    /// receiver cannot wait): a stall downstream — evidence dumping its
    /// pre-trigger ring, a slow disk syncing the alert log — is absorbed
    /// instead of dropping samples. A file source waits, so it keeps
    /// `channel_capacity` (fewer blocks in flight stay in the CPU caches).
    /// Memory only fills while downstream lags, and at most
    /// [`LIVE_BUFFER_MAX_BYTES`] (at very high rates the time is shorter).
    pub live_buffer_s: f64,
}

/// The most a live source's channel may hold, in bytes of samples.
pub const LIVE_BUFFER_MAX_BYTES: usize = 128 << 20;

impl PipelineSettings {
    pub fn new(psd: PsdConfig) -> Self {
        PipelineSettings {
            psd,
            // Blocks small enough that the few in flight stay in the CPU
            // caches between the source and the PSD threads.
            block_len: 1 << 15,
            channel_capacity: 8,
            live_buffer_s: 0.5,
        }
    }
}

/// Blocks of `block_len` samples the live buffer holds: `live_buffer_s` of
/// samples at `sample_rate`, but never more than [`LIVE_BUFFER_MAX_BYTES`]
/// (then the time is shorter), and at least 2 blocks.
pub fn live_buffer_blocks(
    settings: &PipelineSettings,
    sample_rate: f64,
    block_len: usize,
) -> usize {
    let block_bytes = block_len.max(1) * std::mem::size_of::<crate::iq::Sample>();
    let by_time = (settings.live_buffer_s * sample_rate / block_len.max(1) as f64).ceil();
    let by_bytes = LIVE_BUFFER_MAX_BYTES / block_bytes;
    (by_time.min(by_bytes as f64) as usize).max(2)
}

/// A started pipeline: its output channel and its threads.
pub struct Running {
    pub info: SourceInfo,
    pub items: Receiver<StreamItem>,
    pool: BufferPool,
    stop: Arc<AtomicBool>,
    threads: Vec<(&'static str, JoinHandle<Result<()>>)>,
}

impl Running {
    /// Give a block's buffer back to the pool.
    pub fn recycle(&self, block: IqBlock) {
        self.pool.put(block.samples);
    }

    /// The pool blocks come from (for stages that hold blocks, such as evidence rings).
    pub fn pool(&self) -> &BufferPool {
        &self.pool
    }

    /// The flag that stops the source.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// Ask the source to stop; items already in flight still arrive.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Wait for the threads; the first error wins. Dropping `items` here
    /// ends them: each stops as soon as its next hand-off downstream finds
    /// no one listening. The caller's stop flag is left as it was (it may be
    /// shared with other runs).
    pub fn join(self) -> Result<()> {
        let Running { items, threads, .. } = self;
        drop(items);
        let mut first = Ok(());
        for (name, t) in threads {
            let r = t.join().unwrap_or_else(|_| Err(Error::panicked(name)));
            if first.is_ok() {
                first = r;
            }
        }
        first
    }
}

/// Start the source and PSD threads. `stop` ends the source early (Ctrl-C, duration).
pub fn start(
    source: Box<dyn Source>,
    settings: &PipelineSettings,
    stop: Arc<AtomicBool>,
) -> Result<Running> {
    let info = source.info();
    settings.psd.validate(info.sample_rate)?;
    let cap = settings.channel_capacity.max(1);
    // A device sends blocks of its own length: size everything from it.
    let block_len = info.block_len.unwrap_or(settings.block_len).max(1);
    let source_cap = if info.live {
        live_buffer_blocks(settings, info.sample_rate, block_len)
    } else {
        cap
    };
    // Blocks in flight: two channels, the PSD stage, the consumer, plus
    // slack; no more buffers are kept for reuse than the live buffer holds
    // (and a few), so a stall does not leave hundreds of big ones behind.
    let pool = BufferPool::new(block_len, source_cap.max(cap) + 4);
    let (src_tx, src_rx) = bounded::<SourceMsg>(source_cap);
    let (item_tx, item_rx) = bounded::<StreamItem>(cap);

    let ctx = SourceContext {
        out: src_tx,
        pool: pool.clone(),
        stop: stop.clone(),
    };
    let source_thread = std::thread::Builder::new()
        .name("rfsentry-source".into())
        .spawn(move || source.run(ctx))
        .map_err(|e| Error::spawn("source", e))?;

    let mut engine = PsdEngine::new(
        settings.psd,
        info.sample_rate,
        info.tunings.first().copied().unwrap_or(0.0),
        info.clip_level,
    )?;
    let psd_thread = std::thread::Builder::new()
        .name("rfsentry-psd".into())
        .spawn(move || {
            let mut segment = usize::MAX;
            let mut frames = Vec::new();
            for msg in src_rx {
                match msg {
                    SourceMsg::Block(block) => {
                        if block.segment != segment {
                            segment = block.segment;
                            engine.retune(block.segment, block.center_hz);
                        }
                        engine.push(block.start_sample, &block.samples, |f| frames.push(f));
                        if item_tx.send(StreamItem::Block(block)).is_err() {
                            break;
                        }
                        for f in frames.drain(..) {
                            if item_tx.send(StreamItem::Frame(f)).is_err() {
                                return Ok(());
                            }
                        }
                    }
                    SourceMsg::Gap(gap) => {
                        if item_tx.send(StreamItem::Gap(gap)).is_err() {
                            break;
                        }
                    }
                }
            }
            Ok(())
        })
        .map_err(|e| Error::spawn("PSD", e))?;

    Ok(Running {
        info,
        items: item_rx,
        pool,
        stop,
        threads: vec![("source", source_thread), ("psd", psd_thread)],
    })
}

/// Run `source` through the PSD stage and hand every frame to `on_frame`
/// (blocks are recycled, gaps counted). `on_samples` sees the sample count of
/// each block (for progress). Returns the number of samples processed.
pub fn for_each_frame(
    source: Box<dyn Source>,
    settings: &PipelineSettings,
    stop: Arc<AtomicBool>,
    mut on_frame: impl FnMut(PsdFrame),
    mut on_samples: impl FnMut(u64),
) -> Result<u64> {
    let running = start(source, settings, stop)?;
    let mut samples = 0u64;
    for item in running.items.clone() {
        match item {
            StreamItem::Block(b) => {
                samples += b.samples.len() as u64;
                on_samples(b.samples.len() as u64);
                running.recycle(b);
            }
            StreamItem::Frame(f) => on_frame(f),
            StreamItem::Gap(g) => {
                tracing::warn!("{} samples lost ({})", g.lost_samples, g.cause.name())
            }
        }
    }
    running.join()?;
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iq::{Datatype, Sample};
    use crate::source::{SourceContext, SourceMsg};

    /// The next block of a faint steady carrier, from `*start_sample` on.
    fn next_block(ctx: &SourceContext, start_sample: &mut u64) -> IqBlock {
        let mut samples = ctx.pool.get();
        samples.resize(ctx.pool.block_len(), Sample::new(0.01, 0.0));
        let block = IqBlock {
            start_sample: *start_sample,
            samples,
            segment: 0,
            center_hz: 100e6,
            nonfinite: 0,
        };
        *start_sample = block.end_sample();
        block
    }

    /// A live-like source that streams until told to stop or nobody listens.
    struct Endless;

    impl Source for Endless {
        fn info(&self) -> SourceInfo {
            SourceInfo {
                name: "endless".into(),
                sample_rate: 1e6,
                tunings: vec![100e6],
                clip_level: 1.0,
                start_time: None,
                total_samples: None,
                datatype: Datatype::CF32_LE,
                live: true,
                block_len: None,
            }
        }

        fn run(self: Box<Self>, ctx: SourceContext) -> Result<()> {
            let mut start_sample = 0;
            while !ctx.stop.load(Ordering::Relaxed) {
                let block = next_block(&ctx, &mut start_sample);
                if ctx.out.send(SourceMsg::Block(block)).is_err() {
                    break;
                }
            }
            Ok(())
        }
    }

    /// A source that hands blocks on without waiting (as a receiver must)
    /// until the channel is full, and counts them.
    struct Filler {
        live: bool,
        sent: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl Source for Filler {
        fn info(&self) -> SourceInfo {
            SourceInfo {
                sample_rate: 4e6,
                live: self.live,
                ..Endless.info()
            }
        }

        fn run(self: Box<Self>, ctx: SourceContext) -> Result<()> {
            let mut start_sample = 0;
            loop {
                let block = next_block(&ctx, &mut start_sample);
                if ctx.out.try_send(SourceMsg::Block(block)).is_err() {
                    return Ok(());
                }
                self.sent.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    #[test]
    fn a_live_source_can_run_ahead_of_a_stalled_consumer_by_live_buffer_s() {
        let settings = PipelineSettings::new(PsdConfig::default());
        let buffered = |live: bool| {
            let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let source = Filler {
                live,
                sent: sent.clone(),
            };
            let running = start(Box::new(source), &settings, Arc::default()).unwrap();
            // Nobody reads `items` until the source has found the channel full.
            while !running.threads[0].1.is_finished() {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            running.join().unwrap();
            sent.load(Ordering::SeqCst)
        };
        // 0.5 s at 4 MS/s in blocks of 32 Ki samples: 62 blocks.
        let blocks = (0.5 * 4e6 / settings.block_len as f64).ceil() as usize;
        assert!(buffered(true) >= blocks, "live");
        // A file source keeps the small channels: what fits is the two
        // channels and the block the PSD stage holds.
        assert!(buffered(false) <= 2 * settings.channel_capacity + 1, "file");
    }

    #[test]
    fn the_live_buffer_keeps_its_bound_for_any_device_block_length() {
        let settings = PipelineSettings::new(PsdConfig::default());
        let sample = std::mem::size_of::<Sample>();
        for rate in [250e3, 2.4e6, 16.8e6, 80e6, 500e6] {
            for block_len in [1 << 14, 1 << 15, 1 << 17, 1 << 20] {
                let blocks = live_buffer_blocks(&settings, rate, block_len);
                let bytes = blocks * block_len * sample;
                let seconds = (blocks * block_len) as f64 / rate;
                assert!(
                    bytes <= LIVE_BUFFER_MAX_BYTES.max(2 * block_len * sample),
                    "{rate} S/s, {block_len}: {bytes} bytes"
                );
                let block_s = block_len as f64 / rate;
                assert!(
                    seconds <= (settings.live_buffer_s + block_s).max(2.0 * block_s),
                    "{rate} S/s, {block_len}: {seconds} s"
                );
            }
        }
    }

    /// A device-like source sending blocks of its own length (not the pool's).
    struct DeviceSized {
        block_len: usize,
        sent: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl Source for DeviceSized {
        fn info(&self) -> SourceInfo {
            SourceInfo {
                sample_rate: 16.8e6,
                block_len: Some(self.block_len),
                ..Endless.info()
            }
        }

        fn run(self: Box<Self>, ctx: SourceContext) -> Result<()> {
            let mut start_sample = 0;
            loop {
                let mut samples = ctx.pool.get();
                samples.resize(self.block_len, Sample::new(0.01, 0.0));
                let block = IqBlock {
                    start_sample,
                    samples,
                    segment: 0,
                    center_hz: 100e6,
                    nonfinite: 0,
                };
                start_sample = block.end_sample();
                if ctx.out.try_send(SourceMsg::Block(block)).is_err() {
                    return Ok(());
                }
                self.sent.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    #[test]
    fn device_sized_blocks_fill_at_most_the_documented_live_buffer() {
        let settings = PipelineSettings::new(PsdConfig::default());
        // 16.8 MS/s in 1 Mi-sample blocks: 0.5 s would be 9 blocks (72 MiB);
        // sized from the pool's 32 Ki it was 257 blocks, 2 GiB.
        let block_len = 1 << 20;
        let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let source = DeviceSized {
            block_len,
            sent: sent.clone(),
        };
        let running = start(Box::new(source), &settings, Arc::default()).unwrap();
        assert_eq!(running.pool().block_len(), block_len);
        while !running.threads[0].1.is_finished() {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        running.join().unwrap();
        let held = sent.load(Ordering::SeqCst);
        let bytes = held * block_len * std::mem::size_of::<Sample>();
        // The live buffer, plus what the PSD stage and the next channel hold.
        let most = live_buffer_blocks(&settings, 16.8e6, block_len) + settings.channel_capacity + 1;
        assert!(
            held <= most,
            "{held} blocks ({bytes} bytes) buffered, at most {most}"
        );
        assert!(held >= 9, "0.5 s is buffered: {held} blocks");
    }

    #[test]
    fn join_ends_an_endless_source_and_leaves_the_callers_stop_flag_alone() {
        let stop = Arc::new(AtomicBool::new(false));
        let settings = PipelineSettings::new(PsdConfig::default());
        let running = start(Box::new(Endless), &settings, stop.clone()).unwrap();
        let frames = running
            .items
            .iter()
            .filter(|item| matches!(item, StreamItem::Frame(_)))
            .take(2)
            .count();
        assert_eq!(frames, 2);
        // Should join stop ending the source, fail rather than hang.
        let (done, joined) = crossbeam_channel::bounded(1);
        std::thread::spawn(move || done.send(running.join()));
        let result = joined.recv_timeout(std::time::Duration::from_secs(30));
        result.expect("join ended the endless source").unwrap();
        assert!(
            !stop.load(Ordering::SeqCst),
            "join must not stop other runs"
        );
    }
}
