//! The SoapySDR device source, tested through the real SoapySDR runtime and
//! the `soapysdr` crate: a test-only SoapySDR module (`rfsentry_replay`,
//! built by `util/soapy_replay.rs`) replays sample files as a receiver
//! and injects overflows, stalls and disconnects. Each test uses its own
//! `tag=` so that SoapySDR does not share one device between tests.
//!
//! No assertion depends on timing beyond generous "did not hang" bounds.
#![cfg(feature = "soapy")]

use crate::util::soapy_replay;

use rfsentry::source::devices;
use rfsentry::Result;

use rfsentry::iq::{Datatype, Sample};
use rfsentry::source::soapy::{self, DeviceConfig, SoapySource, Tuning};
use rfsentry::source::{BufferPool, Gap, GapCause, IqBlock, Source, SourceContext, SourceMsg};
use rfsentry::Error;
use soapy_replay::{device_args, position, ramp, setup, write_cf32};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Generous bound for "it did not hang".
const HANG: Duration = Duration::from_secs(10);

/// A replay file of `n` ramp samples in a fresh temporary directory.
fn ramp_file(n: usize) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ramp.cf32");
    write_cf32(&path, &ramp(n));
    (dir, path)
}

fn config(args: String) -> DeviceConfig {
    DeviceConfig {
        args,
        settle_s: 0.0,
        block_len: 4096,
        ..DeviceConfig::default()
    }
}

/// Device arguments that replay `file` in a loop at real time, with `faults`
/// (`k=v` pairs) injected.
fn looping_in_real_time(tag: &str, file: &Path, faults: &[&str]) -> String {
    let mut extra = vec!["loop=1", "pace=realtime"];
    extra.extend(faults);
    device_args(tag, file, &extra)
}

/// Open the device of `cfg` at 1 MS/s, tuned to 100 MHz for good.
fn open_at_100mhz(cfg: DeviceConfig) -> SoapySource {
    SoapySource::open(cfg, 1e6, vec![Tuning::fixed(100e6)]).unwrap()
}

/// A source running on its own thread.
struct Running {
    rx: crossbeam_channel::Receiver<SourceMsg>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<rfsentry::Result<()>>>,
}

fn start(source: SoapySource, capacity: usize) -> Running {
    let (tx, rx) = crossbeam_channel::bounded(capacity);
    let stop = Arc::new(AtomicBool::new(false));
    let ctx = SourceContext {
        out: tx,
        pool: BufferPool::new(source.block_len(), capacity + 4),
        stop: stop.clone(),
    };
    let handle = std::thread::spawn(move || Box::new(source).run(ctx));
    Running {
        rx,
        stop,
        handle: Some(handle),
    }
}

impl Running {
    fn next(&self) -> SourceMsg {
        self.rx
            .recv_timeout(HANG)
            .expect("the source sent nothing for 10 s")
    }

    /// Set `stop` and check that `run` returns (without anyone draining the channel).
    fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let handle = self.handle.take().unwrap();
        let deadline = Instant::now() + HANG;
        while !handle.is_finished() {
            assert!(
                Instant::now() < deadline,
                "run did not end within 10 s of stop"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        handle
            .join()
            .expect("source thread panicked")
            .expect("run failed");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn start_of(msg: &SourceMsg) -> u64 {
    match msg {
        SourceMsg::Block(b) => b.start_sample,
        SourceMsg::Gap(g) => g.start_sample,
    }
}

fn end_of(msg: &SourceMsg) -> u64 {
    match msg {
        SourceMsg::Block(b) => b.end_sample(),
        SourceMsg::Gap(g) => g.start_sample + g.lost_samples,
    }
}

/// Read messages, checking that each starts where the previous ended, until
/// `done` says enough has been seen (or 30 s pass, which fails).
fn collect_contiguous(run: &Running, mut done: impl FnMut(&[SourceMsg]) -> bool) -> Vec<SourceMsg> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut msgs: Vec<SourceMsg> = Vec::new();
    while !done(&msgs) {
        assert!(
            Instant::now() < deadline,
            "condition not reached in 30 s: {:?}",
            summary(&msgs)
        );
        let msg = run.next();
        if let Some(prev) = msgs.last() {
            assert_eq!(
                start_of(&msg),
                end_of(prev),
                "not contiguous: {:?} after {:?}",
                brief(&msg),
                brief(prev)
            );
        }
        if let SourceMsg::Gap(g) = &msg {
            assert!(g.lost_samples > 0, "empty gap {g:?}");
        }
        msgs.push(msg);
    }
    msgs
}

/// Run `source` with room for 64 blocks, read contiguous messages until
/// `done` says enough has been seen (see [`collect_contiguous`]), then stop
/// it; returns the messages.
fn stream_until(source: SoapySource, done: impl FnMut(&[SourceMsg]) -> bool) -> Vec<SourceMsg> {
    let run = start(source, 64);
    let msgs = collect_contiguous(&run, done);
    run.stop();
    msgs
}

fn brief(m: &SourceMsg) -> String {
    match m {
        SourceMsg::Block(b) => format!(
            "block {}+{} seg {}",
            b.start_sample,
            b.samples.len(),
            b.segment
        ),
        SourceMsg::Gap(g) => format!(
            "{} gap {}+{}",
            g.cause.name(),
            g.start_sample,
            g.lost_samples
        ),
    }
}

fn summary(msgs: &[SourceMsg]) -> Vec<String> {
    msgs.iter().map(brief).collect()
}

fn gaps<'a>(msgs: &'a [SourceMsg], cause: &'a GapCause) -> impl Iterator<Item = &'a Gap> + 'a {
    msgs.iter().filter_map(move |m| match m {
        SourceMsg::Gap(g) if g.cause == *cause => Some(g),
        _ => None,
    })
}

fn blocks(msgs: &[SourceMsg]) -> impl Iterator<Item = &IqBlock> {
    msgs.iter().filter_map(|m| match m {
        SourceMsg::Block(b) => Some(b),
        _ => None,
    })
}

/// Blocks after the first gap of `cause`.
fn blocks_after(msgs: &[SourceMsg], cause: &GapCause) -> usize {
    match msgs
        .iter()
        .position(|m| matches!(m, SourceMsg::Gap(g) if g.cause == *cause))
    {
        Some(i) => blocks(&msgs[i..]).count(),
        None => 0,
    }
}

/// The first block after the last gap of `cause`, and that gap.
fn resumed_after<'a>(msgs: &'a [SourceMsg], cause: &GapCause) -> (&'a Gap, &'a IqBlock) {
    let i = msgs
        .iter()
        .rposition(|m| matches!(m, SourceMsg::Gap(g) if g.cause == *cause))
        .expect("gap seen");
    let SourceMsg::Gap(gap) = &msgs[i] else {
        unreachable!()
    };
    let block = blocks(&msgs[i..]).next().expect("a block after the gap");
    (gap, block)
}

/// Samples within a block are consecutive file positions (mod the file length).
fn assert_consecutive(block: &IqBlock, file_len: u64) {
    let first = position(block.samples[0]);
    for (k, s) in block.samples.iter().enumerate() {
        assert_eq!(
            position(*s),
            (first + k as u64) % file_len,
            "block {}",
            block.start_sample
        );
    }
}

#[test]
fn lists_and_probes_the_replay_device() {
    setup();
    let (_dir, file) = ramp_file(1000);
    let devices = soapy::list_devices().unwrap();
    let replay = devices
        .iter()
        .find(|d| d.driver == "rfsentry_replay")
        .unwrap_or_else(|| panic!("replay device not listed: {devices:?}"));
    assert_eq!(replay.label, "rfsentry replay (test device)");
    assert!(replay.args.contains("driver=rfsentry_replay"));
    assert!(!replay.args.contains("label="));
    let table = soapy::format_device_list(&devices);
    assert!(
        table.contains("rfsentry_replay") && table.contains("rfsentry replay (test device)"),
        "{table}"
    );

    let args = device_args("probe", &file, &[]);
    let p = soapy::probe(&args).unwrap();
    assert_eq!(p.driver, "rfsentry_replay");
    assert_eq!(p.hardware, "replay");
    assert_eq!(p.rx_channels, 1);
    assert_eq!(
        (p.frequency_ranges[0].min, p.frequency_ranges[0].max),
        (1e6, 6e9)
    );
    let rates: Vec<f64> = p.sample_rates.iter().map(|r| r.min).collect();
    assert_eq!(rates, [250e3, 1.024e6, 2.048e6, 2.4e6]);
    assert_eq!((p.gain_range.min, p.gain_range.max), (0.0, 49.6));
    assert_eq!(p.gain_elements.len(), 1);
    assert_eq!(p.gain_elements[0].name, "LNA");
    assert!(p.has_agc && p.frequency_correction);
    assert_eq!(p.antennas, ["RX"]);
    assert!(
        p.stream_formats.iter().any(|f| f == "CF32"),
        "{:?}",
        p.stream_formats
    );
    let text = p.to_string();
    for want in [
        "rfsentry_replay",
        "1 MHz – 6 GHz",
        "2.048 MS/s",
        "LNA",
        "AGC yes",
        "RX",
    ] {
        assert!(text.contains(want), "{want:?} missing from\n{text}");
    }

    let missing = soapy::probe("driver=rfsentry_no_such_driver").unwrap_err();
    assert!(matches!(missing, Error::Device { .. }), "{missing}");
    let no_file = soapy::probe("driver=rfsentry_replay,tag=probe-nofile").unwrap_err();
    assert!(no_file.to_string().contains("file="), "{no_file}");
}

#[test]
fn devices_command_lists_and_probes() {
    setup();
    let (_dir, file) = ramp_file(1000);
    devices::report(None).unwrap();
    let probe = device_args("cli", &file, &[]);
    devices::report(Some(&probe)).unwrap();
    let err: Result<String> = devices::report(Some("driver=rfsentry_no_such_driver"));
    assert!(matches!(err, Err(Error::Device { .. })));
}

#[test]
fn configuration_reaches_the_device() {
    setup();
    let (_dir, file) = ramp_file(1000);
    let args = device_args("config", &file, &[]);
    let cfg = DeviceConfig {
        gain_db: Some(20.0),
        antenna: Some("RX".into()),
        bandwidth_hz: Some(1.5e6),
        ppm: -3.0,
        ..config(args.clone())
    };
    let source = SoapySource::open(cfg, 2.048e6, vec![Tuning::fixed(433.92e6)]).unwrap();
    let info = source.info();
    assert_eq!(info.name, args);
    assert_eq!(info.sample_rate, 2.048e6);
    assert_eq!(info.tunings, [433.92e6]);
    assert_eq!(info.clip_level, 1.0);
    assert!(info.start_time.is_some() && info.total_samples.is_none());

    // Identical arguments give the very device the source holds.
    use soapysdr::Direction::Rx;
    let dev = soapysdr::Device::new(args.as_str()).unwrap();
    assert_eq!(dev.sample_rate(Rx, 0).unwrap(), 2.048e6);
    assert_eq!(
        dev.frequency(Rx, 0).unwrap(),
        433.92e6,
        "corrected by CORR, not shifted"
    );
    assert_eq!(dev.component_frequency(Rx, 0, "CORR").unwrap(), -3.0);
    assert_eq!(dev.gain(Rx, 0).unwrap(), 20.0);
    assert!(!dev.gain_mode(Rx, 0).unwrap(), "manual gain turns AGC off");
    assert_eq!(dev.bandwidth(Rx, 0).unwrap(), 1.5e6);
    drop(source);

    let args = device_args("config-agc", &file, &[]);
    let _source = open_at_100mhz(config(args.clone()));
    let dev = soapysdr::Device::new(args.as_str()).unwrap();
    assert!(dev.gain_mode(Rx, 0).unwrap(), "no gain set: AGC on");
}

#[test]
fn open_errors_are_errors_not_panics() {
    setup();
    let (_dir, file) = ramp_file(1000);
    let plan = || vec![Tuning::fixed(100e6)];
    let open = |cfg: DeviceConfig| {
        SoapySource::open(cfg, 1e6, plan())
            .err()
            .expect("open must fail")
    };

    let e = open(config("driver=rfsentry_no_such_driver".into()));
    assert!(matches!(e, Error::Device { .. }), "{e}");
    let missing = file.with_extension("missing");
    let e = open(config(device_args("err-missing", &missing, &[])));
    assert!(
        matches!(e, Error::Device { ref action, ref message, .. } if action == "open" && message.contains("cannot open")),
        "{e}"
    );
    let e = open(DeviceConfig {
        channel: 1,
        ..config(device_args("err-chan", &file, &[]))
    });
    assert!(
        matches!(e, Error::Unavailable { ref setting, ref value, .. } if setting == "channel" && value == "1"),
        "{e}"
    );
    let e = open(DeviceConfig {
        antenna: Some("TX/RX".into()),
        ..config(device_args("err-ant", &file, &[]))
    });
    assert!(
        matches!(e, Error::Unavailable { ref setting, ref value, .. } if setting == "antenna" && value.contains("TX/RX")),
        "{e}"
    );
    let e = SoapySource::open(config(device_args("err-plan", &file, &[])), 1e6, vec![])
        .err()
        .unwrap();
    assert!(matches!(e, Error::Missing { .. }), "{e}");
}

/// Issue #12: a 7 GHz tuning on a 1 MHz – 6 GHz device and a 200 dB gain on
/// a 0–49.6 dB one were accepted silently. Both are refused, naming the
/// device's real range; in-range settings still open.
#[test]
fn tunings_and_gains_outside_the_device_ranges_are_refused() {
    setup();
    let (_dir, file) = ramp_file(1000);
    let e = SoapySource::open(
        config(device_args("range-freq", &file, &[])),
        1e6,
        vec![
            Tuning {
                center_hz: 433.92e6,
                dwell_s: 1.0,
            },
            Tuning {
                center_hz: 7e9,
                dwell_s: 1.0,
            },
        ],
    )
    .err()
    .expect("7 GHz is out of the device's range");
    assert!(
        matches!(e, Error::Unavailable { ref value, ref available, .. } if value == "7000.000000 MHz" && available.contains("1–6000 MHz")),
        "{e}"
    );
    let e = SoapySource::open(
        DeviceConfig {
            gain_db: Some(200.0),
            ..config(device_args("range-gain", &file, &[]))
        },
        1e6,
        vec![Tuning::fixed(433.92e6)],
    )
    .err()
    .expect("200 dB is out of the device's gain range");
    assert!(
        matches!(e, Error::Unavailable { ref setting, ref value, ref available, .. } if setting == "gain" && value == "200 dB" && available == "0–49.6 dB"),
        "{e}"
    );
    let ok = SoapySource::open(
        DeviceConfig {
            gain_db: Some(49.6),
            ..config(device_args("range-ok", &file, &[]))
        },
        1e6,
        vec![Tuning::fixed(5.9e9)],
    );
    assert!(ok.is_ok(), "{:?}", ok.err());
}

#[test]
fn fast_replay_delivers_the_file_exactly() {
    setup();
    const N: usize = 200_000;
    let (_dir, file) = ramp_file(N);
    let args = device_args("exact", &file, &["pace=fast"]);
    let source = open_at_100mhz(config(args));
    // Room for the whole file, so nothing can be dropped however slowly this test reads.
    let run = start(source, N / 4096 + 8);
    let msgs = collect_contiguous(&run, |m| m.last().map_or(0, end_of) >= N as u64);
    assert_eq!(start_of(&msgs[0]), 0);
    let mut received: Vec<Sample> = Vec::new();
    for m in &msgs {
        match m {
            SourceMsg::Block(b) => {
                assert_eq!((b.segment, b.center_hz, b.nonfinite), (0, 100e6, 0));
                received.extend_from_slice(&b.samples);
            }
            SourceMsg::Gap(g) => panic!("unexpected gap {g:?}"),
        }
    }
    assert_eq!(received, ramp(N));
    // End of file: the device reports an error, which reads as a disconnect.
    match run.next() {
        SourceMsg::Gap(g) => {
            assert_eq!(g.cause, GapCause::Disconnected);
            assert_eq!(g.start_sample, N as u64);
        }
        SourceMsg::Block(b) => panic!("samples past the end: {}", b.start_sample),
    }
    run.stop();
}

#[test]
fn overflows_become_gaps_and_samples_keep_flowing() {
    setup();
    const N: u64 = 1_000_000;
    let (_dir, file) = ramp_file(N as usize);
    let args = looping_in_real_time(
        "overflow",
        &file,
        &["overflow_every=10", "overflow_skip=1000"],
    );
    let overflow = GapCause::Overflow;
    let msgs = stream_until(open_at_100mhz(config(args)), |m| {
        gaps(m, &overflow).count() >= 3 && matches!(m.last(), Some(SourceMsg::Block(_)))
    });

    for b in blocks(&msgs) {
        assert_consecutive(b, N);
    }
    // Around each overflow: the index jumps by the gap's count, and the
    // device really skipped 1000 samples there.
    let mut checked = 0;
    for w in msgs.windows(3) {
        if let [SourceMsg::Block(before), SourceMsg::Gap(g), SourceMsg::Block(after)] = w {
            if g.cause == GapCause::Overflow {
                assert!(g.lost_samples >= 1);
                assert_eq!(after.start_sample, g.start_sample + g.lost_samples);
                let last = position(*before.samples.last().unwrap());
                assert_eq!(position(after.samples[0]), (last + 1 + 1000) % N);
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 1,
        "no block/overflow/block sequence: {:?}",
        summary(&msgs)
    );
}

#[test]
fn vanished_device_is_reopened_and_streams_on() {
    setup();
    const N: u64 = 1_000_000;
    let (_dir, file) = ramp_file(N as usize);
    let args = looping_in_real_time("vanish", &file, &["vanish_after=300000", "absent_s=1"]);
    // Settling after the reopen must not open an unexplained hole in the index.
    let cfg = DeviceConfig {
        settle_s: 0.01,
        ..config(args)
    };
    let gone = GapCause::Disconnected;
    let msgs = stream_until(open_at_100mhz(cfg), |m| blocks_after(m, &gone) >= 5);

    let lost: u64 = gaps(&msgs, &gone).map(|g| g.lost_samples).sum();
    assert!(lost > 0);
    let before: u64 = blocks(&msgs)
        .take_while(|b| b.start_sample < 300_000)
        .map(|b| b.samples.len() as u64)
        .sum();
    assert_eq!(start_of(&msgs[0]), 10_000, "the first 10 ms settle");
    assert_eq!(before, 290_000, "every sample before the fault arrived");
    // The reopened device streams on from where it vanished, after settling
    // 10 ms, and the block follows the gap directly (collect_contiguous).
    let (gap, block) = resumed_after(&msgs, &gone);
    assert_eq!(block.start_sample, gap.start_sample + gap.lost_samples);
    assert_eq!(position(block.samples[0]), 310_000);
    for b in blocks(&msgs) {
        assert_consecutive(b, N);
    }
}

#[test]
fn stall_becomes_a_timeout_gap_then_recovers() {
    setup();
    const N: u64 = 1_000_000;
    let (_dir, file) = ramp_file(N as usize);
    let args = looping_in_real_time("stall", &file, &["timeout_after=200000", "timeout_s=1.5"]);
    let timeout = GapCause::Timeout;
    let msgs = stream_until(open_at_100mhz(config(args)), |m| {
        blocks_after(m, &timeout) >= 5
    });

    assert_eq!(
        gaps(&msgs, &GapCause::Disconnected).count(),
        0,
        "a 1.5 s stall is not a disconnect"
    );
    let lost: u64 = gaps(&msgs, &timeout).map(|g| g.lost_samples).sum();
    assert!(
        lost >= 500_000,
        "a stall of over 0.5 s at 1 MS/s, got {lost}"
    );
    let (_, block) = resumed_after(&msgs, &timeout);
    assert_eq!(
        position(block.samples[0]),
        200_000,
        "the stalled device streams on"
    );
}

#[test]
fn a_consumer_that_does_not_read_costs_drops_not_a_blocked_driver() {
    setup();
    let (_dir, file) = ramp_file(100_000);
    let args = device_args("drops", &file, &["loop=1", "pace=fast"]);
    let run = start(open_at_100mhz(config(args)), 2);
    std::thread::sleep(Duration::from_millis(300));

    let first = [run.next(), run.next()];
    assert!(
        first.iter().all(|m| matches!(m, SourceMsg::Block(_))),
        "{:?}",
        summary(&first)
    );
    assert_eq!(start_of(&first[0]), 0);
    let dropped = GapCause::Dropped;
    let mut msgs: Vec<SourceMsg> = first.into_iter().collect();
    let more = collect_contiguous(&run, |m| m.len() >= 40);
    assert_eq!(start_of(&more[0]), end_of(msgs.last().unwrap()));
    msgs.extend(more);
    match &msgs[2] {
        SourceMsg::Gap(g) => {
            assert_eq!(g.cause, dropped);
            // The source went on reading while nobody listened: many blocks were dropped.
            assert!(g.lost_samples >= 4 * 4096, "{g:?}");
            assert_eq!(g.lost_samples % 4096, 0, "whole blocks are dropped");
        }
        other => panic!("expected the dropped-samples gap, got {:?}", brief(other)),
    }
    assert!(gaps(&msgs, &dropped).count() >= 1);
    // Stop while the channel is full and nobody reads.
    std::thread::sleep(Duration::from_millis(100));
    run.stop();
}

#[test]
fn stop_ends_run_while_the_device_is_absent_or_stalled() {
    setup();
    let (_dir, file) = ramp_file(100_000);
    let cases = [
        (
            "stop-absent",
            "vanish_after=50000",
            "absent_s=60",
            GapCause::Disconnected,
        ),
        (
            "stop-stall",
            "timeout_after=50000",
            "timeout_s=60",
            GapCause::Timeout,
        ),
    ];
    for (tag, fault, duration, cause) in cases {
        let args = looping_in_real_time(tag, &file, &[fault, duration]);
        stream_until(open_at_100mhz(config(args)), |m| {
            gaps(m, &cause).count() >= 1
        });
    }
}

#[test]
fn scan_plan_visits_both_tunings() {
    setup();
    const N: u64 = 1_000_000;
    let (_dir, file) = ramp_file(N as usize);
    let args = looping_in_real_time("scan", &file, &[]);
    let plan = vec![
        Tuning {
            center_hz: 100e6,
            dwell_s: 0.05,
        },
        Tuning {
            center_hz: 200e6,
            dwell_s: 0.05,
        },
    ];
    let cfg = DeviceConfig {
        settle_s: 0.01,
        ppm: 5.0,
        ..config(args.clone())
    };
    let source = SoapySource::open(cfg, 1e6, plan.clone()).unwrap();
    assert_eq!(source.info().tunings, [100e6, 200e6]);
    let run = start(source, 64);

    // Watch the device's frequency through a second handle on the same device.
    use soapysdr::Direction::Rx;
    let dev = soapysdr::Device::new(args.as_str()).unwrap();
    let mut tuned: Vec<f64> = Vec::new();
    let mut msgs: Vec<SourceMsg> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let visits = |msgs: &[SourceMsg]| {
        let segs: Vec<usize> = blocks(msgs).map(|b| b.segment).collect();
        1 + segs.windows(2).filter(|w| w[0] != w[1]).count()
    };
    while visits(&msgs) < 6 || tuned.len() < 2 {
        assert!(
            Instant::now() < deadline,
            "scan incomplete: {:?} tuned {tuned:?}",
            summary(&msgs)
        );
        let f = dev.frequency(Rx, 0).unwrap();
        if !tuned.contains(&f) {
            tuned.push(f);
        }
        msgs.push(run.next());
    }
    run.stop();
    tuned.sort_by(f64::total_cmp);
    assert_eq!(
        tuned,
        [100e6, 200e6],
        "the device was retuned (CORR corrects, so no shift)"
    );
    assert_eq!(dev.component_frequency(Rx, 0, "CORR").unwrap(), 5.0);

    // Blocks carry their tuning. A visit is a dwell of 50 000 samples (gaps
    // count: the receiver stayed tuned) after 10 000 discarded settling
    // samples, which are the only index jumps without a gap.
    assert_eq!(start_of(&msgs[0]), 10_000, "the first tuning settles too");
    let (mut segment, mut visit_len, mut visits) = (None, 0u64, 0);
    for (i, m) in msgs.iter().enumerate() {
        let mut jump = 0;
        if let SourceMsg::Block(b) = m {
            assert_eq!(b.center_hz, plan[b.segment].center_hz);
            assert_consecutive(b, N);
            if segment.is_some_and(|s| s != b.segment) {
                assert_eq!(visit_len, 50_000, "one dwell: {:?}", summary(&msgs[..=i]));
                (jump, visit_len, visits) = (10_000, 0, visits + 1);
            }
            segment = Some(b.segment);
        }
        if i > 0 {
            assert_eq!(
                start_of(m),
                end_of(&msgs[i - 1]) + jump,
                "{:?}",
                summary(&msgs[..=i])
            );
        }
        visit_len += end_of(m) - start_of(m);
    }
    assert!(visits >= 5);
}

/// A device whose native words are 16- or 8-bit integers at full range is
/// read in that format and converted exactly as a ci16/ci8 recording is (so
/// its evidence can keep the words); one that claims another full scale is
/// read as CF32, converted by its driver.
#[test]
fn native_integer_words_are_read_as_such_and_converted_exactly() {
    setup();
    let dir = tempfile::tempdir().unwrap();
    let n = 20_000usize;
    // Words spread over the whole range, extremes included.
    let word16 = |i: usize| ((i as i64 * 3277) % 65536 - 32768) as i16;
    let word8 = |i: usize| ((i as i64 * 37) % 256 - 128) as i8;
    let path16 = dir.path().join("words.cs16");
    let bytes16: Vec<u8> = (0..2 * n).flat_map(|i| word16(i).to_le_bytes()).collect();
    std::fs::write(&path16, bytes16).unwrap();
    let path8 = dir.path().join("words.cs8");
    std::fs::write(
        &path8,
        (0..2 * n).map(|i| word8(i) as u8).collect::<Vec<u8>>(),
    )
    .unwrap();
    let as16 = |i: usize| f32::from(word16(i));
    let as8 = |i: usize| f32::from(word8(i));
    /// The file, the extra device arguments, the datatype read, the full
    /// scale, and the I/Q word at an index.
    type Case<'a> = (
        &'a PathBuf,
        &'a [&'a str],
        Datatype,
        f32,
        &'a dyn Fn(usize) -> f32,
    );
    let cases: [Case; 3] = [
        (&path16, &["format=CS16"], Datatype::CI16_LE, 32768.0, &as16),
        (&path8, &["format=CS8"], Datatype::CI8, 128.0, &as8),
        (
            &path16,
            &["format=CS16", "full_scale=2048"],
            Datatype::CF32_LE,
            2048.0,
            &as16,
        ),
    ];
    for (file, extra, datatype, scale, word) in cases {
        let source = open_at_100mhz(config(device_args("native", file, extra)));
        assert_eq!(source.info().datatype, datatype, "{extra:?}");
        let run = start(source, 8);
        let SourceMsg::Block(block) = run.next() else {
            panic!("{extra:?}: a gap before any block")
        };
        assert!(!block.samples.is_empty());
        for (k, s) in block.samples.iter().enumerate() {
            let i = block.start_sample as usize + k;
            let want = Sample::new(word(2 * i) / scale, word(2 * i + 1) / scale);
            assert_eq!(*s, want, "{extra:?}: sample {i}");
        }
        run.stop();
    }
}

/// SoapySDR's own chatter (drivers log "[INFO] …" on opening) stays behind
/// rfsentry's messages at the default level, and shows with
/// `RUST_LOG=soapysdr=info`, through rfsentry's log.
#[test]
fn driver_chatter_is_held_back_unless_asked_for() {
    setup();
    let (_dir, file) = ramp_file(1000);
    let probe = device_args("chatter", &file, &[]);
    let run = |rust_log: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_rfsentry"));
        cmd.args(["devices", "--probe", &probe]);
        cmd.env_remove("RUST_LOG");
        if let Some(v) = rust_log {
            cmd.env("RUST_LOG", v);
        }
        let out = cmd.output().expect("run rfsentry devices");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let quiet = run(None);
    assert!(
        !quiet.contains("rfsentry_replay: opening"),
        "the driver's info line reached the user:\n{quiet}"
    );
    let asked = run(Some("soapysdr=info"));
    assert!(
        asked.contains("rfsentry_replay: opening") && asked.contains("soapysdr"),
        "RUST_LOG=soapysdr=info shows the driver's log, as rfsentry's:\n{asked}"
    );
    // A device that cannot be opened: rfsentry's error comes first, and
    // names what the driver said; nothing of the driver's before it.
    let missing = device_args("chatter-missing", Path::new("/nonexistent/iq.cf32"), &[]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rfsentry"))
        .args(["devices", "--probe", &missing])
        .env_remove("RUST_LOG")
        .output()
        .expect("run rfsentry devices");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stderr.lines().next().unwrap_or("");
    assert!(
        first.starts_with("rfsentry: error:")
            && first.contains("open")
            && first
                .contains("the driver said: rfsentry_replay: open(/nonexistent/iq.cf32) failed"),
        "the useful error first, the driver's words after it:\n{stderr}"
    );
}
