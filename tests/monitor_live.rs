//! End-to-end live tests: the built `rfsentry` binary learns a profile from,
//! and monitors, a SoapySDR receiver through the real SoapySDR runtime. The
//! receiver is the test-only `rfsentry_replay` module (built by
//! `util/soapy_replay.rs`, found through `SOAPY_SDR_PLUGIN_PATH` in the
//! child's environment), replaying recordings made here with `rfsentry synth`
//! at real time and injecting overflows, stalls and disconnects.
//!
//! The replay device only replays samples: the frequency it is tuned to is a
//! label, so one recording serves every tuning of a scan plan. Each run opens
//! the device with its own `tag=` (SoapySDR shares one device between
//! identical arguments). Sample indices are exact (the device never crosses a
//! fault position within a read), wall-clock time is not: no assertion
//! depends on timing beyond generous "did not hang" bounds.
#![cfg(feature = "soapy")]

use crate::util::soapy_replay;

use rfsentry::profile::Profile;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const RATE: f64 = 250e3;
const CENTER: f64 = 433.92e6;
/// Generous bound for "it did not hang" (on top of a run's own duration).
const HANG: Duration = Duration::from_secs(10);

/// The site: a beacon carrier and an NBFM radio, 250 kS/s at 433.92 MHz.
const SITE: &str = r#"
description = "monitor_live site"
sample_rate = 250000
center_hz = 433.92e6
noise_dbfs = -30
datatype = "cf32_le"

[[emitters]]
name = "beacon"
type = "carrier"
offset_hz = -80e3
level_db = 28

[[emitters]]
name = "radio"
type = "nbfm"
offset_hz = 50e3
deviation_hz = 5000
level_db = 20
"#;
const BEACON_HZ: f64 = CENTER - 80e3;
const RADIO_HZ: f64 = CENTER + 50e3;

const BASELINE: &str = r#"
base = "site.toml"
description = "monitor_live baseline"
seed = 1
duration_s = 6
"#;

/// Incidents: a tone jammer, then a rogue FSK transmitter.
const INCIDENTS: &str = r#"
base = "site.toml"
description = "monitor_live incidents"
seed = 2
duration_s = 6

[[events]]
kind = "jamming.tone"
start_s = 0.8
duration_s = 1.2
offset_hz = 20e3
level_db = 22

[[events]]
kind = "emitter.unknown"
modulation = "fsk"
start_s = 3.2
duration_s = 1.4
offset_hz = 95e3
bandwidth_hz = 12.5e3
level_db = 18
"#;
const TONE_S: (f64, f64) = (0.8, 2.0);
const TONE_OFFSET_HZ: f64 = 20e3;
const ROGUE_S: (f64, f64) = (3.2, 4.6);
const ROGUE_OFFSET_HZ: f64 = 95e3;

// ---------------------------------------------------------------------------
// Fixtures

struct Recordings {
    dir: PathBuf,
    baseline: PathBuf,
    incidents: PathBuf,
    /// The incidents as ci16_le words, for a device whose native format is CS16.
    incidents_ci16: PathBuf,
}

/// The scenario files and their cf32_le recordings, made once per test run.
fn recordings() -> &'static Recordings {
    static R: OnceLock<Recordings> = OnceLock::new();
    R.get_or_init(|| {
        soapy_replay::setup();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("monitor_live");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let make = |name: &str, toml: &str, datatype: &str| {
            let scenario = dir.join(format!("{name}.toml"));
            std::fs::write(&scenario, toml).unwrap();
            let meta = dir.join(format!("{name}.sigmf-meta"));
            let run = Proc::spawn(
                "synth",
                &[
                    "synth",
                    s(&scenario),
                    "-o",
                    s(&meta),
                    "--datatype",
                    datatype,
                ],
            )
            .finish(Duration::from_secs(60));
            run.assert_ok();
            dir.join(format!("{name}.sigmf-data"))
        };
        std::fs::write(dir.join("site.toml"), SITE).unwrap();
        Recordings {
            baseline: make("baseline", BASELINE, "cf32_le"),
            incidents: make("incidents", INCIDENTS, "cf32_le"),
            incidents_ci16: make("incidents-ci16", INCIDENTS, "ci16_le"),
            dir,
        }
    })
}

struct Learned {
    profiles: PathBuf,
    stdout: String,
}

/// Site "venue": learned once, through the device, from 3 s of the baseline.
fn venue() -> &'static Learned {
    static L: OnceLock<Learned> = OnceLock::new();
    L.get_or_init(|| {
        let rec = recordings();
        let profiles = rec.dir.join("profiles");
        let device = device(&rec.baseline, "learn", &["pace=realtime"]);
        let run = Proc::spawn(
            "learn",
            &[
                "learn",
                "--site",
                "venue",
                "--profile-dir",
                s(&profiles),
                "--device",
                &device,
                "--rate",
                "250000",
                "--freq",
                "433.92M",
                "--duration",
                "3s",
            ],
        )
        .finish(Duration::from_secs(3) + HANG);
        run.assert_ok();
        Learned {
            profiles,
            stdout: run.stdout,
        }
    })
}

/// Replay-device arguments for `file` with this test's `tag` and extra `k=v` pairs.
fn device(file: &Path, tag: &str, extra: &[&str]) -> String {
    soapy_replay::device_args(&format!("monitor_live-{tag}"), file, extra)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A fresh output directory for one run.
fn out_dir(tag: &str) -> PathBuf {
    let out = recordings().dir.join(format!("out-{tag}"));
    let _ = std::fs::remove_dir_all(&out);
    out
}

/// `rfsentry monitor` of the venue profile on `device` for `duration`.
fn monitor(site: &Learned, site_name: &str, out: &Path, device: &str, duration: &str) -> Proc {
    Proc::spawn(
        "monitor",
        &[
            "monitor",
            "--site",
            site_name,
            "--profile-dir",
            s(&site.profiles),
            "--out",
            s(out),
            "--device",
            device,
            "--duration",
            duration,
        ],
    )
}

/// `rfsentry monitor` of the venue profile for `seconds` on the incidents
/// recording, replayed by a device with this `tag` and `extra` arguments. The
/// run must end on its own (within `seconds`, rounded up, and [`HANG`]) and
/// succeed; returns it and its alert log, every alert's lifecycle checked.
fn monitor_incidents(tag: &str, extra: &[&str], seconds: f64) -> (Run, Vec<Value>) {
    let out = out_dir(tag);
    let dev = device(&recordings().incidents, tag, extra);
    let run = monitor(venue(), "venue", &out, &dev, &format!("{seconds}s"))
        .finish(Duration::from_secs_f64(seconds.ceil()) + HANG);
    run.assert_ok();
    let log = alerts(&out);
    assert_lifecycles(&log);
    (run, log)
}

// ---------------------------------------------------------------------------
// Running the binary

/// A running `rfsentry` child; its stderr is collected line by line as it comes.
struct Proc {
    what: String,
    child: Option<Child>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<String>>,
}

/// What a finished run printed.
struct Run {
    what: String,
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Run {
    fn assert_ok(&self) {
        assert!(
            self.status.success(),
            "{} failed ({}):\n{}",
            self.what,
            self.status,
            self.output()
        );
    }

    fn output(&self) -> String {
        format!("stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr)
    }
}

impl Proc {
    fn spawn(what: &str, args: &[&str]) -> Proc {
        let replay = soapy_replay::setup();
        let mut child = Command::new(env!("CARGO_BIN_EXE_rfsentry"))
            .args(args)
            .envs(replay.env.iter().map(|(k, v)| (*k, v.as_str())))
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the rfsentry binary runs");
        let mut stdout = child.stdout.take().unwrap();
        let stderr_pipe = child.stderr.take().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, lines) = mpsc::channel();
        let collected = stderr.clone();
        let readers = vec![
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = stdout.read_to_string(&mut text);
                text
            }),
            std::thread::spawn(move || {
                for line in BufReader::new(stderr_pipe).lines().map_while(|l| l.ok()) {
                    collected.lock().unwrap().push_str(&format!("{line}\n"));
                    let _ = tx.send(line);
                }
                String::new()
            }),
        ];
        Proc {
            what: format!("rfsentry {what}"),
            child: Some(child),
            lines,
            stderr,
            readers,
        }
    }

    fn pid(&self) -> libc::pid_t {
        self.child.as_ref().expect("running").id() as libc::pid_t
    }

    /// Wait (at most `bound`) for a stderr line containing every one of `words`.
    fn wait_for_line(&self, words: &[&str], bound: Duration) -> String {
        let deadline = Instant::now() + bound;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if words.iter().all(|w| line.contains(w)) => return line,
                Ok(_) => {}
                Err(_) => panic!(
                    "{}: no stderr line with {words:?} within {bound:?}; stderr so far:\n{}",
                    self.what,
                    self.stderr.lock().unwrap()
                ),
            }
        }
    }

    fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(self.pid(), signal) };
        assert_eq!(rc, 0, "kill({signal}) failed");
    }

    /// Wait for the exit (at most `bound`, else kill it and fail) and collect the output.
    fn finish(mut self, bound: Duration) -> Run {
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + bound;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for rfsentry") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{} did not exit within {bound:?} (killed); stderr:\n{}",
                    self.what,
                    self.stderr.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stdout = self.readers.remove(0).join().unwrap();
        let _ = self.readers.remove(0).join();
        let stderr = self.stderr.lock().unwrap().clone();
        Run {
            what: self.what.clone(),
            status,
            stdout,
            stderr,
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

// ---------------------------------------------------------------------------
// Reading the alert log

/// Every alert event of `out/alerts.jsonl` (none if there is no log; the
/// chain of custody's lines left out); every line must be complete JSON.
fn alerts(out: &Path) -> Vec<Value> {
    let path = out.join("alerts.jsonl");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Vec::new();
    };
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "{}: the last line is incomplete:\n{text}",
        path.display()
    );
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .filter(|e: &Value| matches!(e["event"].as_str(), Some("raised" | "updated" | "cleared")))
        .collect()
}

fn str_of<'a>(e: &'a Value, key: &str) -> &'a str {
    e[key].as_str().unwrap_or_else(|| panic!("no {key} in {e}"))
}

fn num(e: &Value, key: &str) -> f64 {
    e[key].as_f64().unwrap_or_else(|| panic!("no {key} in {e}"))
}

/// The raised events of `kind`.
fn raised<'a>(log: &'a [Value], kind: &str) -> Vec<&'a Value> {
    log.iter()
        .filter(|e| str_of(e, "event") == "raised" && str_of(e, "kind") == kind)
        .collect()
}

/// The last event of each alert id (its final state), in order of raising.
fn finals(log: &[Value]) -> Vec<&Value> {
    let mut order = Vec::new();
    let mut last = BTreeMap::new();
    for e in log {
        let id = str_of(e, "id");
        if !last.contains_key(id) {
            order.push(id);
        }
        last.insert(id, e);
    }
    order.into_iter().map(|id| last[id]).collect()
}

/// The final states of `monitoring_gap` alerts, optionally of one cause.
fn gaps<'a>(log: &'a [Value], cause: Option<&str>) -> Vec<&'a Value> {
    finals(log)
        .into_iter()
        .filter(|e| str_of(e, "kind") == "monitoring_gap")
        .filter(|e| cause.map_or(true, |c| e["details"]["cause"] == c))
        .collect()
}

/// Every alert is raised first, cleared exactly once, and nothing follows its clearing.
fn assert_lifecycles(log: &[Value]) {
    let mut state: BTreeMap<&str, &str> = BTreeMap::new();
    for e in log {
        let (id, event) = (str_of(e, "id"), str_of(e, "event"));
        let before = state.get(id).copied();
        let ok = match event {
            "raised" => before.is_none(),
            "updated" | "cleared" => matches!(before, Some("raised" | "updated")),
            _ => false,
        };
        assert!(ok, "alert {id}: {event} after {before:?}\n{}", lines(log));
        state.insert(id, event);
    }
    let open: Vec<_> = state.iter().filter(|(_, &e)| e != "cleared").collect();
    assert!(
        open.is_empty(),
        "alerts never cleared: {open:?}\n{}",
        lines(log)
    );
}

/// Only these kinds were raised, plus gaps of cause `dropped` (a loaded test
/// machine may fall behind real time).
fn assert_only(log: &[Value], kinds: &[&str], gap_causes: &[&str]) {
    for e in finals(log) {
        let kind = str_of(e, "kind");
        let fine = if kind == "monitoring_gap" {
            let cause = e["details"]["cause"].as_str().unwrap_or("");
            cause == "dropped" || gap_causes.contains(&cause)
        } else {
            kinds.contains(&kind)
        };
        assert!(fine, "unexpected alert {e}\n{}", lines(log));
    }
}

/// One raised alert of `kind` whose centre is within `tol_hz` of `hz`.
fn found<'a>(log: &'a [Value], kind: &str, hz: f64, tol_hz: f64) -> &'a Value {
    let all = raised(log, kind);
    all.iter()
        .copied()
        .find(|e| (num(e, "center_hz") - hz).abs() <= tol_hz)
        .unwrap_or_else(|| panic!("no {kind} within {tol_hz} Hz of {hz} Hz:\n{}", lines(log)))
}

/// The final event of the alert `raised` started.
fn final_of<'a>(log: &'a [Value], raised: &Value) -> &'a Value {
    let id = str_of(raised, "id");
    finals(log)
        .into_iter()
        .find(|e| str_of(e, "id") == id)
        .unwrap()
}

fn lines(log: &[Value]) -> String {
    log.iter().map(|e| format!("  {e}\n")).collect()
}

fn samples(seconds: f64) -> u64 {
    (seconds * RATE) as u64
}

// ---------------------------------------------------------------------------
// Tests

#[test]
fn learn_from_the_device_builds_the_profile() {
    let venue = venue();
    assert!(venue.stdout.contains("1 segment(s)"), "{}", venue.stdout);
    let profile = Profile::load(&Profile::path_in(&venue.profiles, "venue")).unwrap();
    assert_eq!(profile.capture.sample_rate, RATE);
    assert_eq!(profile.segments.len(), 1);
    let seg = &profile.segments[0];
    assert_eq!(seg.center_hz, CENTER);
    // 3 s at 20 frames/s, less what a loaded machine drops.
    assert!(seg.frames >= 10, "{} frames", seg.frames);
    assert!(seg.frames <= 70, "{} frames from 3 s", seg.frames);
    assert_eq!(seg.floor_dbfs.len(), profile.capture.psd.fft_size);
    assert!(profile.site.sources[0].contains("driver=rfsentry_replay"));
    for (name, hz) in [("beacon", BEACON_HZ), ("radio", RADIO_HZ)] {
        assert!(
            profile
                .emitters
                .iter()
                .any(|e| e.low_hz - 5e3 <= hz && hz <= e.high_hz + 5e3),
            "the {name} at {hz} Hz was not learned: {:?}",
            profile.emitters
        );
    }
    assert!(profile.emitters.len() <= 3, "{:?}", profile.emitters);
}

#[test]
fn monitor_raises_and_clears_the_tone_jammer_and_the_rogue() {
    let (run, log) = monitor_incidents("incidents", &["pace=realtime", "loop=0"], 5.6);
    assert_only(&log, &["jamming.tone", "emitter.unknown"], &[]);
    let tone = found(&log, "jamming.tone", CENTER + TONE_OFFSET_HZ, 3e3);
    let rogue = found(&log, "emitter.unknown", CENTER + ROGUE_OFFSET_HZ, 5e3);
    // No fault: the sample index is the file position.
    let start = |e: &Value| e["start_sample"].as_u64().unwrap();
    assert!(
        (samples(TONE_S.0 - 0.1)..samples(TONE_S.1)).contains(&start(tone)),
        "{tone}"
    );
    assert!(
        (samples(ROGUE_S.0 - 0.1)..samples(ROGUE_S.1)).contains(&start(rogue)),
        "{rogue}"
    );
    assert_eq!(raised(&log, "jamming.tone").len(), 1, "{}", lines(&log));
    assert_eq!(raised(&log, "emitter.unknown").len(), 1, "{}", lines(&log));
    // The terminal shows them as they happen, and the summary at the end.
    for kind in ["jamming.tone", "emitter.unknown"] {
        for event in ["raised", "cleared"] {
            assert!(
                run.stderr
                    .lines()
                    .any(|l| l.contains(event) && l.contains(kind)),
                "no '{event} {kind}' on stderr:\n{}",
                run.output()
            );
        }
    }
    assert!(run.stderr.contains("Ctrl-C to stop"), "{}", run.output());
    assert!(run.stdout.contains("alert(s)"), "{}", run.output());
}

#[test]
fn a_16_bit_device_is_monitored_in_its_own_words_and_its_evidence_keeps_them() {
    let rec = recordings();
    let out = out_dir("cs16");
    let dev = device(
        &rec.incidents_ci16,
        "cs16",
        &["pace=realtime", "format=CS16"],
    );
    let run = monitor(venue(), "venue", &out, &dev, "5.6s").finish(Duration::from_secs(6) + HANG);
    run.assert_ok();
    let log = alerts(&out);
    assert_lifecycles(&log);
    assert_only(&log, &["jamming.tone", "emitter.unknown"], &[]);
    let tone = found(&log, "jamming.tone", CENTER + TONE_OFFSET_HZ, 3e3);
    // The snippet is the device's words, byte for byte, from where it starts.
    let iq = final_of(&log, tone)["evidence"]["iq"]
        .as_str()
        .expect("IQ evidence");
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join(iq)).unwrap()).unwrap();
    assert_eq!(meta["global"]["core:datatype"], "ci16_le");
    let first = meta["global"]["rfsentry:stream_sample_start"]
        .as_u64()
        .unwrap() as usize;
    let snippet = std::fs::read(out.join(iq).with_extension("sigmf-data")).unwrap();
    let words = std::fs::read(&rec.incidents_ci16).unwrap();
    assert!(
        snippet.len() > 4 * samples(1.0) as usize,
        "{} bytes",
        snippet.len()
    );
    assert!(
        words[4 * first..4 * first + snippet.len()] == snippet[..],
        "the snippet is the device's words from sample {first}"
    );
}

#[test]
fn nan_samples_from_the_device_are_zeroed_counted_and_raise_nothing() {
    let rec = recordings();
    let poisoned = rec.dir.join("baseline-nan.sigmf-data");
    let mut bytes = std::fs::read(&rec.baseline).unwrap();
    for (i, sample) in bytes.chunks_exact_mut(8).enumerate() {
        if i % 997 == 0 {
            sample[..4].copy_from_slice(&f32::NAN.to_le_bytes());
        }
    }
    std::fs::write(&poisoned, &bytes).unwrap();
    let out = out_dir("nan");
    let dev = device(&poisoned, "nan", &["pace=realtime"]);
    let run = monitor(venue(), "venue", &out, &dev, "1.5s").finish(Duration::from_secs(2) + HANG);
    run.assert_ok();
    assert!(
        run.stderr
            .contains("the device delivered NaN or infinite samples"),
        "{}",
        run.output()
    );
    assert!(
        run.stdout.contains("NaN/infinite sample(s) analysed as 0"),
        "{}",
        run.output()
    );
    let log = alerts(&out);
    assert_only(&log, &[], &[]);
}

#[test]
fn overflows_become_gaps_and_monitoring_goes_on() {
    // The replay device reads ~30 times a second here: an overflow every ~0.7 s.
    let (run, log) = monitor_incidents("overflow", &["pace=realtime", "overflow_every=20"], 5.6);
    assert_only(&log, &["jamming.tone", "emitter.unknown"], &["overflow"]);
    let overflows = gaps(&log, Some("overflow"));
    assert!(!overflows.is_empty(), "no overflow gap:\n{}", lines(&log));
    let reported: u64 = overflows
        .iter()
        .map(|g| g["details"]["gaps"].as_u64().unwrap())
        .sum();
    assert!(
        reported >= 2,
        "{reported} overflow(s) in 5.6 s:\n{}",
        lines(&log)
    );
    for g in &overflows {
        assert!(g["details"]["lost_samples"].as_u64().unwrap() >= 1, "{g}");
    }
    // Both incidents are still found, the rogue after the first overflow.
    found(&log, "jamming.tone", CENTER + TONE_OFFSET_HZ, 3e3);
    let rogue = found(&log, "emitter.unknown", CENTER + ROGUE_OFFSET_HZ, 5e3);
    assert!(num(rogue, "start_sample") > num(overflows[0], "start_sample"));
    assert!(
        run.stderr.contains("raised   monitoring_gap"),
        "{}",
        run.output()
    );
}

#[test]
fn a_vanished_device_is_one_gap_then_monitoring_recovers() {
    // Disconnect between the tone and the rogue, for a second; the reopened
    // device streams on from where it stopped.
    let at = samples(2.4);
    let vanish = format!("vanish_after={at}");
    let (run, log) = monitor_incidents("vanish", &["pace=realtime", &vanish, "absent_s=1"], 6.8);
    assert_only(
        &log,
        &["jamming.tone", "emitter.unknown"],
        &["disconnected"],
    );
    let lost = gaps(&log, Some("disconnected"));
    assert_eq!(lost.len(), 1, "one outage, one alert:\n{}", lines(&log));
    let gap = lost[0];
    assert_eq!(gap["start_sample"].as_u64(), Some(at), "{gap}");
    assert!(
        gap["details"]["lost_s"].as_f64().unwrap() >= 0.9,
        "absent for 1 s: {gap}"
    );
    let tone = found(&log, "jamming.tone", CENTER + TONE_OFFSET_HZ, 3e3);
    assert!(num(final_of(&log, tone), "end_sample") <= num(gap, "start_sample"));
    let rogue = found(&log, "emitter.unknown", CENTER + ROGUE_OFFSET_HZ, 5e3);
    assert!(
        num(rogue, "start_sample") > num(gap, "end_sample"),
        "{rogue}\n{gap}"
    );
    assert!(run.stderr.contains("device lost"), "{}", run.output());
}

#[test]
fn a_stalled_device_is_a_timeout_gap() {
    // A 1 s stall before the tone: the tone arrives after it.
    let at = samples(0.5);
    let stall = format!("timeout_after={at}");
    let (_, log) = monitor_incidents("stall", &["pace=realtime", &stall, "timeout_s=1"], 3.5);
    assert_only(&log, &["jamming.tone"], &["timeout"]);
    let stalls = gaps(&log, Some("timeout"));
    assert_eq!(stalls.len(), 1, "one stall, one alert:\n{}", lines(&log));
    let gap = stalls[0];
    assert_eq!(gap["start_sample"].as_u64(), Some(at), "{gap}");
    assert!(gap["details"]["lost_s"].as_f64().unwrap() >= 0.5, "{gap}");
    let tone = found(&log, "jamming.tone", CENTER + TONE_OFFSET_HZ, 3e3);
    assert!(
        num(tone, "start_sample") > num(gap, "end_sample"),
        "{tone}\n{gap}"
    );
}

#[test]
fn ctrl_c_mid_alert_ends_cleanly() {
    let rec = recordings();
    let out = out_dir("sigint");
    let dev = device(&rec.incidents, "sigint", &["pace=realtime"]);
    let proc = monitor(venue(), "venue", &out, &dev, "30s");
    proc.wait_for_line(&["raised", "jamming.tone"], Duration::from_secs(5) + HANG);
    proc.signal(libc::SIGINT);
    let run = proc.finish(HANG);
    run.assert_ok();
    let log = alerts(&out);
    assert_lifecycles(&log);
    let tone = found(&log, "jamming.tone", CENTER + TONE_OFFSET_HZ, 3e3);
    assert_eq!(str_of(final_of(&log, tone), "event"), "cleared");
    assert!(
        run.stderr
            .lines()
            .any(|l| l.contains("cleared") && l.contains("jamming.tone")),
        "{}",
        run.output()
    );
    assert!(run.stdout.contains("alert(s)"), "{}", run.output());
}

#[test]
fn ctrl_c_while_the_device_is_gone_or_stalled_ends_promptly() {
    let rec = recordings();
    let faults = [
        ("sigint-absent", ["vanish_after=50000", "absent_s=60"]),
        ("sigint-stall", ["timeout_after=50000", "timeout_s=60"]),
    ];
    let runs: Vec<_> = faults
        .iter()
        .map(|(tag, fault)| {
            let out = out_dir(tag);
            let dev = device(&rec.incidents, tag, &["pace=realtime", fault[0], fault[1]]);
            (out.clone(), monitor(venue(), "venue", &out, &dev, "60s"))
        })
        .collect();
    for (out, proc) in runs {
        // The fault has been reported: the source is reopening or waiting.
        proc.wait_for_line(&["raised", "monitoring_gap"], Duration::from_secs(3) + HANG);
        std::thread::sleep(Duration::from_millis(300));
        proc.signal(libc::SIGINT);
        let run = proc.finish(HANG);
        run.assert_ok();
        let log = alerts(&out);
        assert_lifecycles(&log);
        assert_only(&log, &[], &["disconnected", "timeout"]);
        assert_eq!(gaps(&log, None).len(), 1, "{}", lines(&log));
    }
}

/// Issue #12: SIGTERM while the device's reopen hangs in the driver (it never
/// returns) ends the process within a second or so: the reopen runs on a
/// helper thread that is left behind.
#[test]
fn sigterm_while_a_device_reopen_hangs_ends_the_process() {
    let rec = recordings();
    let out = out_dir("sigterm-hung-reopen");
    let dev = device(
        &rec.incidents,
        "sigterm-hung-reopen",
        &["pace=realtime", "vanish_after=50000", "vanish_hang=1"],
    );
    let proc = monitor(venue(), "venue", &out, &dev, "60s");
    proc.wait_for_line(&["raised", "monitoring_gap"], Duration::from_secs(3) + HANG);
    // The first reopen starts 0.1 s after the loss, and never returns.
    std::thread::sleep(Duration::from_millis(600));
    let signalled = Instant::now();
    proc.signal(libc::SIGTERM);
    let run = proc.finish(Duration::from_secs(5));
    assert!(
        signalled.elapsed() < Duration::from_secs(5),
        "took {:?}",
        signalled.elapsed()
    );
    run.assert_ok();
    let log = alerts(&out);
    assert_lifecycles(&log);
    assert_only(&log, &[], &["disconnected"]);
}

/// Issue #12: `--gain 200` on a 0–49.6 dB device is refused before monitoring, naming the range.
#[test]
fn a_gain_outside_the_device_range_is_refused() {
    let rec = recordings();
    let out = out_dir("gain-200");
    let dev = device(&rec.incidents, "gain-200", &["pace=realtime"]);
    let site = venue();
    let run = Proc::spawn(
        "monitor --gain 200",
        &[
            "monitor",
            "--site",
            "venue",
            "--profile-dir",
            s(&site.profiles),
            "--out",
            s(&out),
            "--device",
            &dev,
            "--gain",
            "200",
            "--duration",
            "2s",
        ],
    )
    .finish(HANG);
    assert!(!run.status.success(), "{}", run.output());
    assert!(
        run.stderr.contains("gain 200 dB") && run.stderr.contains("0–49.6 dB"),
        "{}",
        run.output()
    );
}

#[test]
fn a_scan_plan_is_learned_and_monitored() {
    let rec = recordings();
    let tunings = [CENTER, 434.5e6];
    let scan = Learned {
        profiles: rec.dir.join("profiles-scan"),
        stdout: String::new(),
    };
    let dev = device(&rec.baseline, "scan-learn", &["pace=realtime"]);
    let run = Proc::spawn(
        "learn --tune",
        &[
            "learn",
            "--site",
            "scan",
            "--profile-dir",
            s(&scan.profiles),
            "--device",
            &dev,
            "--rate",
            "250k",
            "--tune",
            "433.92M,434.5M",
            "--dwell",
            "0.5",
            "--duration",
            "3s",
        ],
    )
    .finish(Duration::from_secs(3) + HANG);
    run.assert_ok();
    assert!(run.stdout.contains("2 segment(s)"), "{}", run.output());
    let profile = Profile::load(&Profile::path_in(&scan.profiles, "scan")).unwrap();
    let centers: Vec<f64> = profile.segments.iter().map(|s| s.center_hz).collect();
    assert_eq!(centers, tunings);
    for seg in &profile.segments {
        assert_eq!(seg.dwell_s, 0.5);
        assert!(
            seg.frames >= 5,
            "{} frames at {} Hz",
            seg.frames,
            seg.center_hz
        );
        // The same samples at both tunings: the beacon is learned in each.
        let beacon = seg.center_hz - 80e3;
        assert!(
            profile
                .emitters
                .iter()
                .any(|e| e.low_hz - 5e3 <= beacon && beacon <= e.high_hz + 5e3),
            "no beacon learned at {beacon} Hz: {:?}",
            profile.emitters
        );
    }

    // Monitor the baseline (nothing to find) and the incidents' tone (in
    // both segments, at each tuning's offset) side by side.
    let quiet_out = out_dir("scan-quiet");
    let tone_out = out_dir("scan-tone");
    let quiet_dev = device(&rec.baseline, "scan-quiet", &["pace=realtime"]);
    let tone_dev = device(&rec.incidents, "scan-tone", &["pace=realtime"]);
    let quiet = monitor(&scan, "scan", &quiet_out, &quiet_dev, "3s");
    let tone = monitor(&scan, "scan", &tone_out, &tone_dev, "3s");
    let (quiet, tone) = (
        quiet.finish(Duration::from_secs(3) + HANG),
        tone.finish(HANG),
    );
    quiet.assert_ok();
    tone.assert_ok();

    let log = alerts(&quiet_out);
    assert_lifecycles(&log);
    assert_only(&log, &[], &[]);

    let log = alerts(&tone_out);
    assert_lifecycles(&log);
    assert_only(&log, &["jamming.tone"], &[]);
    let tones = raised(&log, "jamming.tone");
    assert!(
        !tones.is_empty(),
        "no tone:\n{}\n{}",
        lines(&log),
        tone.output()
    );
    for t in &tones {
        let seg = tunings
            .iter()
            .find(|&&f| (num(t, "center_hz") - (f + TONE_OFFSET_HZ)).abs() <= 3e3)
            .unwrap_or_else(|| panic!("tone not at a tuning + 20 kHz: {t}"));
        assert!(
            num(t, "freq_low_hz") >= seg - RATE / 2.0 && num(t, "freq_high_hz") <= seg + RATE / 2.0
        );
    }
}
