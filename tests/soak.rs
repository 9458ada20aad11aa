//! Soak: a long generated recording with events sprinkled in, replayed
//! time-compressed (`monitor --fast`) through the full pipeline, while the
//! process's resident memory is sampled. It must show:
//!
//! - flat memory: after a warm-up, the peak RSS of the second half of the run
//!   is no higher than the first half's (plus 5 % or 2 MB);
//! - no drift in the noise-floor estimate: the monitor's live floor, the
//!   local floor under each repeated alert (peak − SNR) and the floor
//!   re-learned from the first and last windows of the recording all stay
//!   within 0.5 dB;
//! - every event detected and no false alert (`rfsentry score --json`);
//! - no alert left open: every raised id has its `cleared` line, and no
//!   alert outlasts its event by more than the clear hold-off and a frame.
//!
//! `cargo test` runs the short form (2 minutes of signal, a few seconds).
//! `scripts/soak.sh [MINUTES]` runs the full one (default 30 minutes) in a
//! release build; it sets the environment variables below.
//!
//! - `RFSENTRY_SOAK_MINUTES`: minutes of signal (default 2).
//! - `RFSENTRY_SOAK_EVERY_S`: seconds between events (default 10, or 30 from
//!   10 minutes on).
//! - `RFSENTRY_SOAK_DIR`: where to put the recording (default: a temporary
//!   directory, deleted afterwards; 30 minutes are ~900 MB).

use crate::util::long_run;

use long_run::{check_outputs, on_demo_site, raised_and_cleared, rfsentry, rfsentry_ok};
use std::io::Read;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

const EVENT_S: f64 = 2.0;
const RATE: f64 = 250e3;
/// How much longer than its event an alert may last: the clear hold-off
/// (1 s) and a couple of 50 ms frames, with room to spare.
const CLEAR_SLACK_S: f64 = 2.0;

fn env_f64(name: &str) -> Option<f64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Resident set size of `pid` in kB, from /proc (None once it has exited).
fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[values.len() / 2]
}

/// Medians of the first and last third of `series`.
fn first_and_last_third(series: &[f64]) -> (f64, f64) {
    let third = (series.len() / 3).max(1);
    (
        median(&mut series[..third].to_vec()),
        median(&mut series[series.len() - third..].to_vec()),
    )
}

/// The noise floor (dBFS/bin) learned from `seconds` of `rec` after `skip`.
fn learned_floor(dir: &Path, site: &str, rec: &str, skip: f64, seconds: f64) -> f64 {
    rfsentry_ok(
        dir,
        &[
            "learn",
            "--replace",
            "--site",
            site,
            "--profile-dir",
            "windows",
            "--skip",
            &skip.to_string(),
            "--duration",
            &format!("{seconds}s"),
            rec,
        ],
    );
    profile_floor(&dir.join("windows").join(format!("{site}.toml")))
}

fn profile_floor(path: &Path) -> f64 {
    let t: toml::Table = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    t["segments"][0]["noise_floor_dbfs"].as_float().unwrap()
}

/// `signal t=5.0s floor -58.3 dBFS` from the monitor's log: its live noise
/// floor every 5 s of signal (timed by the stream, so a fast replay logs as
/// many as a live run; the status line, twice a second of wall time, may
/// come only three times in a short fast replay).
fn status_floors(stderr: &str) -> Vec<f64> {
    stderr
        .lines()
        .filter(|l| l.contains("signal t=") && l.contains(" floor "))
        .filter_map(|l| {
            let after = l.split(" floor ").nth(1)?;
            after.split_whitespace().next()?.parse().ok()
        })
        .collect()
}

#[test]
fn soak_replay_keeps_memory_flat_floor_steady_and_finds_every_event() {
    let minutes = env_f64("RFSENTRY_SOAK_MINUTES").unwrap_or(2.0);
    let duration_s = (minutes * 60.0).round();
    let every_s =
        env_f64("RFSENTRY_SOAK_EVERY_S").unwrap_or(if minutes >= 10.0 { 30.0 } else { 10.0 });
    let tmp = match std::env::var_os("RFSENTRY_SOAK_DIR") {
        Some(d) => tempfile::tempdir_in(d).unwrap(),
        None => tempfile::tempdir().unwrap(),
    };
    let dir = tmp.path();

    // Baseline: 20 s of the demo site's normal day.
    long_run::learn_demo(dir, 20.0);
    let baseline_floor = profile_floor(&dir.join("profiles/demo.toml"));

    let t = Instant::now();
    let scenario = long_run::write_scenario(dir, "soak", duration_s, every_s, EVENT_S, 3);
    let rec = long_run::synth(dir, &scenario, "soak");
    let synth_s = t.elapsed().as_secs_f64();
    let rec = rec.to_str().unwrap().to_string();

    // The replay, with RSS sampled every 10 ms and the live status logged.
    let stderr_path = dir.join("monitor.stderr");
    let args = on_demo_site(&["monitor", "--fast"], "profiles", "out", &[&rec]);
    let started = Instant::now();
    let mut child = rfsentry(dir, &args)
        .env(
            "RUST_LOG",
            "warn,rfsentry::cli::monitor=debug,rfsentry_core::watch::sink=debug",
        )
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdout_pipe = child.stdout.take().unwrap();
    let stdout_reader = std::thread::spawn(move || {
        let mut s = String::new();
        stdout_pipe.read_to_string(&mut s).unwrap();
        s
    });
    let mut rss: Vec<(f64, u64)> = Vec::new();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if let Some(kb) = rss_kb(pid) {
            rss.push((started.elapsed().as_secs_f64(), kb));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let wall_s = started.elapsed().as_secs_f64();
    let stdout = stdout_reader.join().unwrap();
    let stderr = std::fs::read_to_string(&stderr_path).unwrap();
    assert!(status.success(), "monitor failed: {status:?}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // Memory: after a 10 % warm-up, the second half peaks no higher.
    assert!(
        rss.len() >= 8,
        "only {} RSS samples in {wall_s:.1} s",
        rss.len()
    );
    let warm = rss.len() / 10;
    let steady = &rss[warm..];
    let (first, second) = steady.split_at(steady.len() / 2);
    let peak = |s: &[(f64, u64)]| s.iter().map(|&(_, kb)| kb).max().unwrap();
    let (rss1, rss2) = (peak(first), peak(second));
    let allowed = rss1 + (rss1 / 20).max(2048);

    // Alerts: whole log, every raised id cleared, none outlasting its event.
    let check = check_outputs(&dir.join("out"));
    assert!(check.torn_tail.is_none());
    let (raised, cleared) = raised_and_cleared(&check.events);
    let mut open: Vec<&String> = raised.iter().filter(|id| !cleared.contains(id)).collect();
    open.dedup();
    let too_long: Vec<String> = check
        .events
        .iter()
        .filter(|e| e["event"] == "cleared")
        .filter_map(|e| {
            let span = (e["end_sample"].as_u64()? - e["start_sample"].as_u64()?) as f64 / RATE;
            (span > EVENT_S + CLEAR_SLACK_S).then(|| format!("{} lasted {span:.2} s", e["id"]))
        })
        .collect();

    // Detection: every annotated event, no false alert.
    let score = rfsentry_ok(dir, &["score", "--json", "out/alerts.jsonl", &rec]);
    let score: serde_json::Value = serde_json::from_slice(&score.stdout).unwrap();
    let (detected, total) = (
        score["detected"].as_u64().unwrap(),
        score["total"].as_u64().unwrap(),
    );
    let false_alerts = score["false_alerts"].as_array().unwrap().clone();
    let missed: Vec<String> = score["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["detected"] == false)
        .map(|e| format!("{} at {} s", e["kind"], e["start_s"]))
        .collect();

    // Noise floor: (1) the monitor's live estimate over the run.
    // At least six floor lines (two per third) are needed to compare
    // thirds; fewer is a failure, not a check skipped.
    let live = status_floors(&stderr);
    let live_drift = (live.len() >= 6).then(|| first_and_last_third(&live));
    // (2) The local floor under the same tone jammer (+20 kHz) each time it
    // was raised: peak − SNR.
    let local: Vec<f64> = check
        .events
        .iter()
        .filter(|e| e["event"] == "raised" && e["kind"] == "jamming.tone")
        .filter(|e| (e["center_hz"].as_f64().unwrap() - 433.94e6).abs() < 5e3)
        .map(|e| e["peak_dbfs"].as_f64().unwrap() - e["snr_db"].as_f64().unwrap())
        .collect();
    let local_drift = (local.len() >= 3).then(|| first_and_last_third(&local));
    // (3) The floor re-learned from the first and the last window.
    let window = (duration_s / 4.0).min(60.0);
    let floor_start = learned_floor(dir, "start", &rec, 0.0, window);
    let floor_end = learned_floor(dir, "end", &rec, duration_s - window, window);

    let report = serde_json::json!({
        "command": format!("rfsentry {}", args.join(" ")),
        "signal_minutes": minutes,
        "events_every_s": every_s,
        "synth_s": synth_s,
        "monitor_wall_s": wall_s,
        "replay_speed": duration_s / wall_s,
        "rss_samples": rss.len(),
        "rss_first_half_peak_kb": rss1,
        "rss_second_half_peak_kb": rss2,
        "events_detected": detected,
        "events_total": total,
        "false_alerts": false_alerts,
        "alerts_raised": raised.len(),
        "alerts_cleared": cleared.len(),
        "floor_baseline_dbfs": baseline_floor,
        "floor_learned_first_window_dbfs": floor_start,
        "floor_learned_last_window_dbfs": floor_end,
        "floor_live_first_third_dbfs": live_drift.map(|d| d.0),
        "floor_live_last_third_dbfs": live_drift.map(|d| d.1),
        "floor_under_tone_first_third_dbfs": local_drift.map(|d| d.0),
        "floor_under_tone_last_third_dbfs": local_drift.map(|d| d.1),
    });
    println!(
        "soak report: {}",
        serde_json::to_string_pretty(&report).unwrap()
    );
    println!("{stdout}");

    let mut problems = Vec::new();
    if rss2 > allowed {
        problems.push(format!(
            "memory grew: second-half peak {rss2} kB > first-half peak {rss1} kB + margin"
        ));
    }
    if detected != total || !missed.is_empty() {
        problems.push(format!(
            "missed {} of {total} events: {missed:?}",
            total - detected
        ));
    }
    if !false_alerts.is_empty() {
        problems.push(format!("false alerts: {false_alerts:?}"));
    }
    if total < (duration_s / every_s) as u64 - 1 {
        problems.push(format!("only {total} events annotated"));
    }
    if live_drift.is_none() {
        problems.push(format!(
            "only {} floor line(s) for {duration_s} s of signal: \
             the live floor's drift needs at least 6 (two per third) to be checked",
            live.len()
        ));
    }
    if !open.is_empty() {
        problems.push(format!("alerts never cleared: {open:?}"));
    }
    if !too_long.is_empty() {
        problems.push(format!("alerts left open after their event: {too_long:?}"));
    }
    for (what, a, b) in [
        (
            "learned floor, first vs last window",
            floor_start,
            floor_end,
        ),
        (
            "learned floor, baseline vs last window",
            baseline_floor,
            floor_end,
        ),
    ]
    .into_iter()
    .chain(live_drift.map(|(a, b)| ("live floor, first vs last third", a, b)))
    .chain(local_drift.map(|(a, b)| ("floor under the tone, first vs last third", a, b)))
    {
        if (a - b).abs() > 0.5 {
            problems.push(format!("noise floor drift ({what}): {a:.2} → {b:.2} dBFS"));
        }
    }
    assert!(problems.is_empty(), "soak failed:\n{}", problems.join("\n"));
}

/// A cut antenna left for a weekend: a recording of zeros (a sparse file,
/// nothing on disk) raises `receiver.signal_loss` on its first frames and
/// keeps it open to the end. Memory must stay flat however long the alert
/// lasts: from 10 % to 90 % of the run, RSS varies by at most 3 MB.
/// `RFSENTRY_LOSS_FRAMES` sets the length (default 100 000 frames of 50 ms;
/// `scripts/soak.sh` runs 1 000 000 in a release build).
#[test]
fn an_alert_open_for_a_long_run_keeps_memory_flat() {
    let frames = env_f64("RFSENTRY_LOSS_FRAMES").unwrap_or(100_000.0) as u64;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // The demo profile: 250 kS/s at 433.92 MHz, 50 ms frames (12 500 samples).
    let samples_per_frame = 12_500u64;
    let zeros = dir.join("cut-antenna.cf32");
    let file = std::fs::File::create(&zeros).unwrap();
    file.set_len(frames * samples_per_frame * 8).unwrap();
    drop(file);
    let profiles = long_run::repo().join("profiles");
    let args = [
        "monitor",
        "--fast",
        "--site",
        "demo-venue",
        "--profile-dir",
        profiles.to_str().unwrap(),
        "--out",
        "out",
        "--rate",
        "250k",
        "--freq",
        "433.92M",
        zeros.to_str().unwrap(),
    ];
    let started = Instant::now();
    let mut child = rfsentry(dir, &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdout_pipe = child.stdout.take().unwrap();
    let stdout_reader = std::thread::spawn(move || {
        let mut s = String::new();
        stdout_pipe.read_to_string(&mut s).unwrap();
        s
    });
    let mut rss: Vec<u64> = Vec::new();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        rss.extend(rss_kb(pid));
        std::thread::sleep(Duration::from_millis(20));
    };
    let wall_s = started.elapsed().as_secs_f64();
    let stdout = stdout_reader.join().unwrap();
    assert!(status.success(), "monitor failed: {status:?}\n{stdout}");
    let analysed: u64 = stdout
        .split(" frames")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(analysed >= frames, "every frame analysed: {stdout}");
    let check = check_outputs(&dir.join("out"));
    let kinds: Vec<(&str, &str)> = check
        .events
        .iter()
        .filter(|e| e["event"] != "updated")
        .map(|e| (e["event"].as_str().unwrap(), e["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("raised", "receiver.signal_loss"),
            ("cleared", "receiver.signal_loss")
        ],
        "one alert, open the whole run"
    );
    assert!(rss.len() >= 20, "only {} RSS samples", rss.len());
    // From 10 % in to 90 %: the last samples include drawing the end-of-run
    // pictures (a one-off canvas of a few MB), which is not growth.
    let steady = &rss[rss.len() / 10..rss.len() * 9 / 10];
    let (low, high) = (*steady.iter().min().unwrap(), *steady.iter().max().unwrap());
    println!(
        "signal loss for {analysed} frames ({:.1} h of signal) in {wall_s:.1} s: {} updates logged, RSS {low}–{high} kB after warm-up",
        frames as f64 * 0.05 / 3600.0,
        check.events.len() - 2
    );
    assert!(
        high - low <= 3 * 1024,
        "memory grew with the alert open: RSS {low} → {high} kB"
    );
}
