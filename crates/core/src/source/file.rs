//! The file source: replays a recording through the pipeline. It never drops
//! samples — it blocks when the next stage is behind — and runs as fast as the
//! CPU allows, or paced at real time (`--realtime`, as a live receiver would).

use super::{IqBlock, Source, SourceContext, SourceInfo, SourceMsg};
use crate::iq::IqReader;
use crate::Result;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Streams a recording (any [`IqReader`]) block by block.
pub struct FileSource {
    reader: Box<dyn IqReader>,
    realtime: bool,
    /// Read at most this many samples (e.g. `--duration`); `None` = to the end.
    limit: Option<u64>,
    /// Index of the first sample read.
    start: u64,
    /// The same recording opened again, for evidence (see [`Source::take_reread`]).
    reread: Option<Box<dyn IqReader>>,
}

impl FileSource {
    pub fn new(reader: Box<dyn IqReader>) -> Self {
        FileSource {
            reader,
            realtime: false,
            limit: None,
            start: 0,
            reread: None,
        }
    }

    /// Offer `reader`, the same recording opened again, to the evidence
    /// writer, which then reads an alert's pre-trigger samples back from it
    /// instead of holding the recent samples in memory.
    pub fn with_reread(mut self, reader: Box<dyn IqReader>) -> Self {
        self.reread = Some(reader);
        self
    }

    /// Pace the replay at the recording's sample rate.
    pub fn realtime(mut self, on: bool) -> Self {
        self.realtime = on;
        self
    }

    /// Start at sample `start` (e.g. `--skip`): samples keep their index in the recording.
    pub fn start_at(mut self, start: u64) -> Result<Self> {
        self.reader.seek(start)?;
        self.start = start;
        Ok(self)
    }

    /// Stop after `samples` samples.
    pub fn limit(mut self, samples: Option<u64>) -> Self {
        self.limit = samples;
        self
    }

    fn tunings(&self) -> Vec<f64> {
        let mut t: Vec<f64> = Vec::new();
        for c in &self.reader.info().captures {
            if !t.iter().any(|f| (f - c.center_hz).abs() < 1.0) {
                t.push(c.center_hz);
            }
        }
        t
    }
}

impl Source for FileSource {
    fn take_reread(&mut self) -> Option<Box<dyn IqReader>> {
        self.reread.take()
    }

    fn info(&self) -> SourceInfo {
        let info = self.reader.info();
        SourceInfo {
            name: info.name.clone(),
            sample_rate: info.sample_rate,
            tunings: self.tunings(),
            clip_level: info.datatype.clip_level(),
            datatype: info.datatype,
            live: false,
            block_len: None,
            start_time: info.start_time(),
            total_samples: match (info.total_samples, self.limit) {
                (Some(t), Some(l)) => Some(t.saturating_sub(self.start).min(l)),
                (Some(t), None) => Some(t.saturating_sub(self.start)),
                (None, l) => l,
            },
        }
    }

    fn run(mut self: Box<Self>, ctx: SourceContext) -> Result<()> {
        let tunings = self.tunings();
        let info = self.reader.info().clone();
        let started = Instant::now();
        let mut position = self.start;
        let end = match (info.total_samples, self.limit) {
            (Some(t), Some(l)) => t.min(self.start.saturating_add(l)),
            (None, Some(l)) => self.start.saturating_add(l),
            (t, l) => t.or(l).unwrap_or(u64::MAX),
        };
        while position < end && !ctx.stop.load(Ordering::Relaxed) {
            let capture = info.capture_at(position).clone();
            // A block never straddles a retune (the next capture's start).
            let next_capture = info
                .captures
                .iter()
                .map(|c| c.sample_start)
                .find(|&s| s > position)
                .unwrap_or(u64::MAX);
            let room = (next_capture.min(end) - position).min(ctx.pool.block_len() as u64) as usize;
            let mut buf = ctx.pool.get();
            buf.truncate(room);
            let stats = self.reader.read(&mut buf)?;
            if stats.samples == 0 {
                break;
            }
            buf.truncate(stats.samples);
            let segment = tunings
                .iter()
                .position(|f| (f - capture.center_hz).abs() < 1.0)
                .unwrap_or(0);
            let block = IqBlock {
                start_sample: position,
                samples: buf,
                segment,
                center_hz: capture.center_hz,
                nonfinite: stats.nonfinite,
            };
            position += stats.samples as u64;
            if self.realtime {
                let due =
                    Duration::from_secs_f64((position - self.start) as f64 / info.sample_rate);
                if let Some(wait) = due.checked_sub(started.elapsed()) {
                    sleep_unless_stopped(wait, &ctx);
                }
            }
            if ctx.out.send(SourceMsg::Block(block)).is_err() {
                break; // downstream ended
            }
        }
        Ok(())
    }
}

/// Sleep in short steps so a stop request is honoured promptly.
fn sleep_unless_stopped(total: Duration, ctx: &SourceContext) {
    let until = Instant::now() + total;
    while !ctx.stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        if now >= until {
            break;
        }
        std::thread::sleep((until - now).min(Duration::from_millis(50)));
    }
}
