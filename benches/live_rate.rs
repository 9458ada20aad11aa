//! The highest sample rate the live pipeline sustains with zero drops.
//!
//! For each rate, the whole `monitor` pipeline (`rfsentry::watch::watch`: a
//! `SoapySource` → PSD (FFT 1024, Hann, 50 ms frames) → detectors and alert
//! tracker → sink with evidence) watches the test-only `rfsentry_replay`
//! SoapySDR device replaying a noise-and-carrier file in a loop at real time,
//! for a few seconds, against a profile learned from the same samples at
//! that rate. The device models a radio's buffer (`buffer=`: 100 ms of
//! samples): a source thread that does not keep up loses samples to
//! overflows, and a pipeline that does not keep up makes the source drop
//! whole blocks. A rate is sustained when neither happens and the samples
//! were processed at the rate: the device is read for `--seconds`, then the
//! pipeline must drain what it still holds (the live source's channel holds
//! up to 0.5 s of samples, `PipelineSettings::live_buffer_s`), and the rate
//! counted is the samples processed over the time until it has drained
//! (`watch` returned), not over the nominal seconds. A pipeline that falls
//! behind fills that buffer without dropping anything during a short run; its
//! backlog then shows as drain time, and it is not counted as sustained.
//!
//! Two ceilings are measured first, to tell which side limits: the replay
//! device alone (read as fast as it goes through the `soapysdr` crate), and
//! the device plus rfsentry's source thread (blocks discarded at once).
//!
//! ```sh
//! cargo bench --features soapy --bench live_rate            # the table
//! cargo bench --features soapy --bench live_rate -- --seconds 5 --rates 40,60,80
//! ```
//!
//! Options: `--seconds S` per rate (3), `--rates R,R,…` in MS/s (1 … 80, then
//! higher while every rate is sustained), `--block-len N` (the device
//! source's block length; default automatic, about 10 ms), `--no-evidence`
//! (no IQ snippets or pictures, as `analyze --no-evidence` would).
//!
//! Columns: `delivered` MS/s that reached the sink, over the time until the
//! pipeline drained; `drain s` how long that took after the device stopped
//! (backlog plus the end of the run: finishing evidence, the overview picture,
//! joining threads); `frames` spectra made
//! (20 a second when nothing is lost); `gap msgs` gaps the source reported;
//! `dropped` / `overflowed` the share of samples lost to each cause;
//! `kept pace` the sample index reached (samples processed + lost) over
//! rate × the time until drained (≥ 97 % to count as sustained: start-up and
//! the end of the run take ~1 % of 3 s); `alerts` other than
//! gaps (false alarms: should be 0); `cpu` CPU time of the process over wall
//! time, in cores.
//!
//! Without `--bench` (e.g. `cargo test --benches`), one short run at 1 MS/s
//! checks that the harness works.

#[path = "../tests/util/soapy_replay.rs"]
mod soapy_replay;

use rfsentry::dsp::PsdConfig;
use rfsentry::iq::{Datatype, Sample};
use rfsentry::pipeline::{for_each_frame, PipelineSettings};
use rfsentry::profile::learn::Learner;
use rfsentry::profile::{CaptureSettings, Profile, Site, Thresholds};
use rfsentry::source::soapy::{DeviceConfig, SoapySource, Tuning};
use rfsentry::source::{GapCause, IqBlock, Source, SourceContext, SourceInfo, SourceMsg};
use rfsentry::watch::{watch, SinkOptions, WatchConfig};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CENTER: f64 = 433.92e6;
/// Samples in the replayed file (8 MiB of cf32), looped by the device.
const FILE_SAMPLES: usize = 1 << 20;
/// Seconds of samples the profile is learned from at each rate.
const LEARN_S: f64 = 1.0;
/// The device's buffer, in seconds of samples.
const DEVICE_BUFFER_S: f64 = 0.1;
/// Least `kept pace` of a sustained rate. Opening and activating the
/// stream inside the timed span, and ending the run (threads, evidence),
/// cost about 1 % of a 3 s run when nothing is behind.
const MIN_PACE: f64 = 0.97;
const DEFAULT_RATES_MSPS: [f64; 8] = [1.0, 2.0, 5.0, 10.0, 20.0, 40.0, 60.0, 80.0];
/// Tried after the list while every rate so far was sustained.
const MORE_RATES_MSPS: [f64; 10] = [
    100.0, 125.0, 160.0, 200.0, 250.0, 320.0, 400.0, 500.0, 640.0, 800.0,
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bench = args.iter().any(|a| a == "--bench");
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let seconds: f64 = value("--seconds").map_or(3.0, |s| s.parse().expect("--seconds S"));
    let opts = Options {
        block_len: value("--block-len").map(|s| s.parse().expect("--block-len N")),
        evidence: !args.iter().any(|a| a == "--no-evidence"),
    };
    let listed: Option<Vec<f64>> = value("--rates").map(|s| {
        s.split(',')
            .map(|r| r.trim().parse().expect("--rates MS/s,MS/s,…"))
            .collect()
    });

    let replay = soapy_replay::setup();
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("noise.cf32");
    let samples = Arc::new(soapy_replay::noise_and_carrier(FILE_SAMPLES));
    soapy_replay::write_cf32(&file, &samples);
    let run = |msps: f64, seconds: f64| run_rate(msps * 1e6, seconds, &opts, &file, &samples);

    if !bench {
        let r = run(1.0, 0.5);
        println!("live_rate smoke run: {}", r.row());
        return;
    }

    println!(
        "live_rate: {} cores, load average {}; SoapySDR modules from {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average(),
        replay.plugin_dir.display()
    );
    let device = device_ceiling(&file, 1.0);
    let source = source_ceiling(&file, 1.0);
    println!("ceiling: replay device alone             {device:8.1} MS/s");
    println!("ceiling: device + rfsentry source thread {source:8.1} MS/s");
    println!();
    println!("{}", RateResult::header());
    let mut results = Vec::new();
    let explicit = listed.is_some();
    let rates = listed.unwrap_or_else(|| DEFAULT_RATES_MSPS.to_vec());
    for &msps in &rates {
        let r = run(msps, seconds);
        println!("{}", r.row());
        results.push(r);
    }
    if !explicit {
        for &msps in &MORE_RATES_MSPS {
            if !results.iter().all(|r| r.sustained()) {
                break;
            }
            let r = run(msps, seconds);
            println!("{}", r.row());
            results.push(r);
        }
    }
    // The highest rate below which every rate tried was sustained.
    let best = results
        .iter()
        .take_while(|r| r.sustained())
        .last()
        .map(|r| r.rate);
    println!();
    match best {
        Some(rate) => println!(
            "highest zero-drop rate: {:.0} MS/s (FFT 1024, {seconds} s per rate; load average now {})",
            rate / 1e6,
            load_average()
        ),
        None => println!("no rate was sustained without drops"),
    }
    let first_failure = results.iter().find(|r| !r.sustained());
    if let Some(f) = first_failure {
        let side = if f.overflow_samples > 0 {
            "the source thread / device side (samples were not read in time)"
        } else if f.dropped_samples > 0 || f.drained_s - f.seconds > 0.1 {
            "the pipeline (PSD, detect or sink stage: the source dropped blocks, or a backlog had to drain)"
        } else {
            "the source thread / device side (samples were not read in time)"
        };
        println!(
            "first failure at {:.0} MS/s: limited by {side}",
            f.rate / 1e6
        );
    }
}

/// Replay-device arguments for `file` with a unique tag.
fn device_args(file: &Path, tag: &str, extra: &[&str]) -> String {
    soapy_replay::device_args(&format!("live_rate-{tag}"), file, extra)
}

/// MS/s the replay device delivers read as fast as possible (no pacing).
fn device_ceiling(file: &Path, seconds: f64) -> f64 {
    let args = device_args(file, "ceiling-device", &["pace=fast", "loop=1"]);
    let dev =
        soapysdr::Device::new(soapysdr::Args::from(args.as_str())).expect("open the replay device");
    dev.set_sample_rate(soapysdr::Direction::Rx, 0, 1e6)
        .expect("rate");
    let mut rx = dev.rx_stream::<Sample>(&[0]).expect("rx stream");
    rx.activate(None).expect("activate");
    let mut buf = vec![Sample::default(); 16384];
    let (start, mut n) = (Instant::now(), 0u64);
    while start.elapsed().as_secs_f64() < seconds {
        n += rx.read(&mut [&mut buf[..]], 100_000).expect("read") as u64;
    }
    let _ = rx.deactivate(None);
    n as f64 / start.elapsed().as_secs_f64() / 1e6
}

/// MS/s the device plus rfsentry's source thread deliver when every block
/// is discarded at once (nothing downstream).
fn source_ceiling(file: &Path, seconds: f64) -> f64 {
    let args = device_args(file, "ceiling-source", &["pace=fast", "loop=1"]);
    let config = DeviceConfig {
        args,
        ..DeviceConfig::default()
    };
    let source = SoapySource::open(config, 1e9, vec![Tuning::fixed(CENTER)]).expect("open");
    let pool = rfsentry::source::BufferPool::new(source.block_len(), 16);
    let (tx, rx) = crossbeam_channel::bounded(8);
    let stop = Arc::new(AtomicBool::new(false));
    let ctx = SourceContext {
        out: tx,
        pool: pool.clone(),
        stop: stop.clone(),
    };
    let thread = std::thread::spawn(move || Box::new(source).run(ctx));
    let (start, mut n) = (Instant::now(), 0u64);
    while start.elapsed().as_secs_f64() < seconds {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(SourceMsg::Block(b)) => {
                n += b.samples.len() as u64;
                pool.put(b.samples);
            }
            // Blocks the source read but dropped because this thread was
            // not scheduled in time still count: the source thread read them.
            Ok(SourceMsg::Gap(g)) if g.cause == GapCause::Dropped => n += g.lost_samples,
            _ => {}
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::SeqCst);
    drop(rx);
    thread.join().expect("source thread").expect("source");
    n as f64 / elapsed / 1e6
}

/// A recording in memory, looped: `total` samples in blocks (learning input).
struct LoopSource {
    samples: Arc<Vec<Sample>>,
    rate: f64,
    total: u64,
}

impl Source for LoopSource {
    fn info(&self) -> SourceInfo {
        SourceInfo {
            name: "live_rate learning".into(),
            sample_rate: self.rate,
            tunings: vec![CENTER],
            clip_level: 1.0,
            start_time: None,
            total_samples: Some(self.total),
            datatype: Datatype::CF32_LE,
            live: true,
            block_len: None,
        }
    }

    fn run(self: Box<Self>, ctx: SourceContext) -> rfsentry::Result<()> {
        let mut at = 0u64;
        while at < self.total && !ctx.stop.load(Ordering::Relaxed) {
            let mut buf = ctx.pool.get();
            let n = (buf.len() as u64).min(self.total - at) as usize;
            buf.truncate(n);
            for (i, s) in buf.iter_mut().enumerate() {
                *s = self.samples[(at as usize + i) % self.samples.len()];
            }
            let block = IqBlock {
                start_sample: at,
                samples: buf,
                segment: 0,
                center_hz: CENTER,
                nonfinite: 0,
            };
            if ctx.out.send(SourceMsg::Block(block)).is_err() {
                break;
            }
            at += n as u64;
        }
        Ok(())
    }
}

/// A profile of the looped samples at `rate`.
fn learn(samples: &Arc<Vec<Sample>>, rate: f64) -> Profile {
    let psd = PsdConfig::default();
    let capture = CaptureSettings {
        sample_rate: rate,
        psd,
        gain_db: None,
    };
    let mut learner = Learner::new(capture, Thresholds::default());
    let source = LoopSource {
        samples: samples.clone(),
        rate,
        total: (LEARN_S * rate) as u64,
    };
    for_each_frame(
        Box::new(source),
        &PipelineSettings::new(psd),
        Arc::new(AtomicBool::new(false)),
        |f| learner.add(&f),
        |_| {},
    )
    .expect("learn");
    learner.finish(Site {
        name: "live-rate".into(),
        ..Site::default()
    })
}

/// What one rate did.
struct RateResult {
    rate: f64,
    /// Seconds the device was read.
    seconds: f64,
    /// Seconds from the start until the pipeline had processed everything read.
    drained_s: f64,
    /// Samples that reached the sink.
    samples: u64,
    frames: u64,
    /// Gap samples by cause (from the monitoring_gap alerts).
    dropped_samples: u64,
    overflow_samples: u64,
    other_gap_samples: u64,
    /// Gap messages (before the tracker merges them into alerts).
    gap_messages: u64,
    /// Sample index reached (samples + lost) over rate × `drained_s`.
    kept_pace: f64,
    alerts: usize,
    /// CPU time of the whole process over `drained_s`, in cores.
    cpu_cores: f64,
}

impl RateResult {
    fn sustained(&self) -> bool {
        self.dropped_samples == 0
            && self.overflow_samples == 0
            && self.other_gap_samples == 0
            && self.kept_pace >= MIN_PACE
    }

    fn header() -> String {
        format!(
            "{:>8} {:>10} {:>7} {:>7} {:>9} {:>12} {:>12} {:>9} {:>6} {:>6}  {}",
            "MS/s",
            "delivered",
            "drain s",
            "frames",
            "gap msgs",
            "dropped",
            "overflowed",
            "kept pace",
            "alerts",
            "cpu",
            "verdict"
        )
    }

    fn row(&self) -> String {
        let pct = |n: u64| {
            let total = self.samples + self.dropped_samples + self.overflow_samples;
            100.0 * n as f64 / total.max(1) as f64
        };
        format!(
            "{:>8.1} {:>10.1} {:>7.2} {:>7} {:>9} {:>11.2}% {:>11.2}% {:>8.1}% {:>6} {:>6.2}  {}",
            self.rate / 1e6,
            self.samples as f64 / self.drained_s / 1e6,
            self.drained_s - self.seconds,
            self.frames,
            self.gap_messages,
            pct(self.dropped_samples),
            pct(self.overflow_samples),
            100.0 * self.kept_pace,
            self.alerts,
            self.cpu_cores,
            if self.sustained() {
                "zero drops"
            } else {
                "DROPS"
            }
        )
    }
}

/// How every rate is run.
struct Options {
    block_len: Option<usize>,
    evidence: bool,
}

/// Watch the replay device playing `file` (`samples`) at `rate` for `seconds`.
fn run_rate(
    rate: f64,
    seconds: f64,
    opts: &Options,
    file: &Path,
    samples: &Arc<Vec<Sample>>,
) -> RateResult {
    let profile = learn(samples, rate);
    let tag = format!("rate-{rate}");
    let buffer = format!("buffer={}", ((DEVICE_BUFFER_S * rate) as u64).max(65536));
    let config = DeviceConfig {
        args: device_args(file, &tag, &["pace=realtime", "loop=1", &buffer]),
        block_len: opts.block_len.unwrap_or(DeviceConfig::default().block_len),
        ..DeviceConfig::default()
    };
    let source = SoapySource::open(config, rate, vec![Tuning::fixed(CENTER)]).expect("open");
    let out = file.with_file_name(&tag);
    let stop = Arc::new(AtomicBool::new(false));
    // The device is read from here for `seconds`.
    let started = Instant::now();
    let timer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs_f64(seconds));
            stop.store(true, Ordering::SeqCst);
        })
    };
    let config = WatchConfig {
        pipeline: PipelineSettings::new(profile.capture.psd),
        profile,
        out_dir: out.clone(),
        id_prefix: "live-rate-".into(),
        first_id: 1,
        fallback_start: chrono::Utc::now(),
        sink: SinkOptions {
            truncate_log: true,
            echo_alerts: false,
            evidence: opts.evidence,
            ..SinkOptions::default()
        },
    };
    let cpu_before = cpu_seconds();
    let summary = watch(Box::new(source), config, stop, None).expect("watch");
    // Everything the source read has been processed now: the backlog counts.
    let drained_s = started.elapsed().as_secs_f64().max(seconds);
    let cpu = cpu_seconds() - cpu_before;
    timer.join().expect("timer");

    let mut by_cause: BTreeMap<String, u64> = BTreeMap::new();
    let mut alerts = 0;
    for e in final_events(&out.join("alerts.jsonl")) {
        if e["kind"] == "monitoring_gap" {
            let cause = e["details"]["cause"].as_str().unwrap_or("?").to_string();
            *by_cause.entry(cause).or_default() +=
                e["details"]["lost_samples"].as_u64().unwrap_or(0);
        } else {
            alerts += 1;
        }
    }
    let dropped = by_cause.remove("dropped").unwrap_or(0);
    let overflow = by_cause.remove("overflow").unwrap_or(0);
    let reached = summary.samples + summary.lost_samples;
    RateResult {
        rate,
        seconds,
        drained_s,
        samples: summary.samples,
        frames: summary.frames,
        dropped_samples: dropped,
        overflow_samples: overflow,
        other_gap_samples: by_cause.values().sum(),
        gap_messages: summary.gaps,
        kept_pace: reached as f64 / (rate * drained_s),
        alerts,
        cpu_cores: cpu / drained_s,
    }
}

/// The last event of each alert in an alert log.
fn final_events(log: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut last: BTreeMap<String, Value> = BTreeMap::new();
    for line in text.lines() {
        let e: Value = serde_json::from_str(line).expect("alert log line");
        if e["event"]
            .as_str()
            .is_some_and(|e| e.starts_with("custody."))
        {
            continue; // the chain of custody's own lines
        }
        last.insert(e["id"].as_str().unwrap_or("").to_string(), e);
    }
    last.into_values().collect()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// User + system CPU seconds of this process so far.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}
