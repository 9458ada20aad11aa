//! Detection on a realistic site (issue 11, DESIGN §9): the RTL-SDR-like
//! ISM site of `tests/scenarios/real-site.toml` — 8-bit samples, a DC
//! spike, IQ images, gain drifting with temperature, a drifting beacon, a
//! voice link, two bursty sensors with irregular timing and a push-to-talk
//! radio — learned from a minute of its normal traffic, then attacked by
//! every threat of `real-threats.toml` at several seeds: weak (3 dB floor
//! rise, 6 dB tones and emitters) and strong, every jammer's time shape, a
//! bursting rogue, a hopper, a creeping jammer, a moved known emitter.
//!
//! It runs the full matrix of 30 seeds and an hour of busy quiet (the
//! README's figures; a few minutes, the core being optimised in every
//! profile); `RFSENTRY_QUALITY=quick` runs two seeds and two minutes for a
//! fast round while working. Both print the table the README quotes.

use crate::util::cli;

use rfsentry::detect::{DetectionEngine, Tracker};
use rfsentry::dsp::PsdEngine;
use rfsentry::iq::{Datatype, Sample};
use rfsentry::profile::Profile;
use rfsentry::synth::{Scenario, Stream, BLOCK_SAMPLES};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const SITE: &str = "real-site";

/// Learn the site's profile from a minute of its normal traffic.
fn learn(dir: &Path) -> PathBuf {
    cli::learn_site(dir, &cli::scenario("real-baseline.toml"), SITE)
}

/// Generate the threats at `seed`, analyse and score them.
fn threats_at(dir: &Path, profiles: &Path, seed: u64) -> Value {
    let rec = cli::synth(
        dir,
        &cli::scenario("real-threats.toml"),
        &format!("threats-{seed}"),
        Some(seed),
        None,
    );
    let out = dir.join(format!("out-{seed}"));
    cli::ok(&[
        "analyze",
        "--site",
        SITE,
        "--profile-dir",
        cli::s(profiles),
        "--out",
        cli::s(&out),
        "--no-evidence",
        cli::s(&rec),
    ]);
    let json = cli::ok(&[
        "score",
        "--json",
        cli::s(&out.join("alerts.jsonl")),
        cli::s(&rec),
    ]);
    // 115 s of 8-bit samples a seed: keep the disk small over 30 seeds.
    std::fs::remove_file(rec.with_extension("sigmf-data")).ok();
    serde_json::from_str(&json).unwrap()
}

/// Strength bucket of an event: weak (< 10 dB over the floor) or strong.
fn strength(e: &Value) -> &'static str {
    match e["excess_db"].as_f64() {
        Some(x) if x < 10.0 => "weak",
        _ => "strong",
    }
}

#[test]
fn every_threat_on_a_real_site_is_found_named_and_one_alert() {
    let dir = tempfile::tempdir().unwrap();
    let profiles = learn(dir.path());
    let seeds: Vec<u64> = if cli::full_quality() {
        (1..=30).collect()
    } else {
        vec![1, 2]
    };
    // Two workers: the machine has two cores.
    let scores: Vec<(u64, Value)> = std::thread::scope(|s| {
        let halves: Vec<Vec<u64>> = vec![
            seeds.iter().copied().step_by(2).collect(),
            seeds.iter().copied().skip(1).step_by(2).collect(),
        ];
        let workers: Vec<_> = halves
            .into_iter()
            .map(|part| {
                let (dir, profiles) = (dir.path(), &profiles);
                s.spawn(move || {
                    part.into_iter()
                        .map(|seed| (seed, threats_at(dir, profiles, seed)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });

    // (kind, strength) → (events, detected, classified, alerts)
    let mut table: BTreeMap<(String, &str), [u64; 4]> = BTreeMap::new();
    let mut latencies: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    // Alerts no annotation explains: in quiet stretches (false alarms), or
    // during an incident but of another family (strays of that incident).
    let mut false_alerts = Vec::new();
    let mut strays = Vec::new();
    for (seed, score) in &scores {
        let spans: Vec<(f64, f64)> = score["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["start_s"].as_f64().unwrap(), e["end_s"].as_f64().unwrap()))
            .collect();
        for fa in score["false_alerts"].as_array().unwrap() {
            let line = format!("seed {seed}: {}", fa.as_str().unwrap());
            let at = seconds_into_recording(fa.as_str().unwrap());
            if spans.iter().any(|&(a, b)| at >= a - 1.0 && at <= b + 1.0) {
                strays.push(line);
            } else {
                false_alerts.push(line);
            }
        }
        for e in score["events"].as_array().unwrap() {
            let kind = e["kind"].as_str().unwrap().to_string();
            let row = table.entry((kind, strength(e))).or_default();
            row[0] += 1;
            if e["detected"].as_bool().unwrap() {
                row[1] += 1;
                row[2] += e["classified"].as_bool().unwrap() as u64;
                row[3] += e["alerts"].as_u64().unwrap();
                latencies
                    .entry(strength(e))
                    .or_default()
                    .push(e["latency_s"].as_f64().unwrap());
            }
        }
    }
    let hours: f64 = scores
        .iter()
        .map(|(_, s)| s["hours"].as_f64().unwrap())
        .sum();
    let pct = |v: &mut Vec<f64>, q: f64| {
        v.sort_by(f64::total_cmp);
        v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1]
    };
    eprintln!(
        "{} seeds, {:.2} h of signal\n| kind | strength | events | Pd | classified | alerts per event |\n|---|---|---|---|---|---|",
        seeds.len(),
        hours
    );
    let (mut events, mut detected, mut classified, mut alerts) = (0, 0, 0, 0);
    for ((kind, strength), [n, d, c, a]) in &table {
        eprintln!(
            "| {kind} | {strength} | {n} | {:.2} | {:.2} | {:.2} |",
            *d as f64 / *n as f64,
            *c as f64 / (*d).max(1) as f64,
            *a as f64 / (*d).max(1) as f64
        );
        events += n;
        detected += d;
        classified += c;
        alerts += a;
    }
    let mut weak = latencies.remove("weak").unwrap_or_default();
    let mut strong = latencies.remove("strong").unwrap_or_default();
    eprintln!(
        "all: Pd {:.3} ({detected}/{events}), classification {:.3}, alerts per incident {:.3}, false alerts {} ({:.1}/h), stray alerts during incidents {}, latency strong p50 {:.2} s p95 {:.2} s, weak p50 {:.2} s p95 {:.2} s",
        detected as f64 / events as f64,
        classified as f64 / detected as f64,
        alerts as f64 / detected as f64,
        false_alerts.len(),
        false_alerts.len() as f64 / hours,
        strays.len(),
        pct(&mut strong, 0.5),
        pct(&mut strong, 0.95),
        pct(&mut weak, 0.5),
        pct(&mut weak, 0.95),
    );

    // The targets. Every incident is one alert here (690 alerts for
    // 690 incidents); one extra alert in the whole matrix is tolerated so
    // that a machine whose FFT kernels round differently (rustfft and the
    // PSD pick AVX or SSE at run time) tipping one borderline hopper does
    // not fail the build — two would.
    assert!(false_alerts.is_empty(), "false alerts: {false_alerts:#?}");
    assert!(
        strays.len() <= seeds.len() / 10 + 1,
        "{} stray alerts during incidents: {strays:#?}",
        strays.len()
    );
    for ((kind, strength), [n, d, _, _]) in &table {
        let pd = *d as f64 / *n as f64;
        let target = if *strength == "weak" { 0.9 } else { 1.0 };
        assert!(pd >= target, "{kind} ({strength}): Pd {pd:.2} < {target}");
    }
    let accuracy = classified as f64 / detected as f64;
    assert!(accuracy >= 0.95, "classification {accuracy:.3} < 0.95");
    assert!(
        alerts <= detected + 1,
        "{} alerts for {detected} incidents: one incident, one alert",
        alerts
    );
    assert!(
        pct(&mut weak, 0.95) <= 2.0,
        "weak events confirmed too late"
    );
    assert!(
        pct(&mut strong, 0.95) <= 0.3,
        "strong events raised too late"
    );
}

/// Seconds from the recording's start (2026-01-01T00:00:00Z, the
/// scenarios' default) of a false alert as `score` words it ("… at TIME").
fn seconds_into_recording(false_alert: &str) -> f64 {
    let time = false_alert.rsplit(" at ").next().unwrap();
    let t = chrono::DateTime::parse_from_rfc3339(time).unwrap();
    (t.timestamp_millis() - 1_767_225_600_000) as f64 / 1e3
}

/// Samples at the datatype's resolution (the 8-bit receiver's steps).
fn quantise(datatype: Datatype, block: &mut [Sample], bytes: &mut Vec<u8>) {
    bytes.clear();
    datatype.encode(block, bytes);
    datatype.decode(bytes, block);
}

/// Stream `scenario` through the PSD engine, the detectors and the tracker
/// (no file is written); returns the alerts raised.
fn raised_while_streaming(scenario: &Scenario, profile: &Profile) -> Vec<String> {
    let mut stream = Stream::new(scenario).unwrap();
    let mut psd = PsdEngine::new(
        profile.capture.psd,
        scenario.sample_rate,
        scenario.center_hz,
        scenario.datatype.clip_level(),
    )
    .unwrap();
    let mut engine = DetectionEngine::new(profile.clone());
    let mut tracker = Tracker::new(
        profile.thresholds.clone(),
        SITE,
        "stream",
        "quiet-",
        scenario.sample_rate,
        scenario.start_time,
    );
    let mut block = vec![Sample::default(); BLOCK_SAMPLES];
    let mut bytes = Vec::new();
    let mut raised = Vec::new();
    let mut at = 0u64;
    loop {
        let n = stream.next_block(&mut block);
        if n == 0 {
            break;
        }
        quantise(scenario.datatype, &mut block[..n], &mut bytes);
        psd.push(at, &block[..n], |frame| {
            let found = engine.detect(&frame);
            for e in tracker.on_frame(
                frame.segment,
                frame.start_sample,
                frame.end_sample(),
                frame.bin_width_hz(),
                &found,
            ) {
                if e.event == rfsentry::alert::EventType::Raised {
                    raised.push(format!(
                        "{} {} {:.4} MHz at {} {}",
                        e.id,
                        e.kind,
                        e.center_hz / 1e6,
                        e.start,
                        serde_json::Value::Object(e.details)
                    ));
                }
            }
        });
        at += n as u64;
    }
    raised
}

#[test]
fn an_hour_of_busy_quiet_with_every_impairment_raises_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let profiles = learn(dir.path());
    let profile = Profile::load(&Profile::path_in(&profiles, SITE)).unwrap();
    // Two half hours (one minute each in a debug build) at other seeds, one per core.
    let minutes = if cli::full_quality() { 30.0 } else { 1.0 };
    let quiet = Scenario::load(&cli::scenario("real-quiet.toml")).unwrap();
    let raised: Vec<String> = std::thread::scope(|s| {
        let workers: Vec<_> = [501u64, 502]
            .into_iter()
            .map(|seed| {
                let mut scenario = quiet.clone();
                scenario.seed = seed;
                scenario.duration_s = minutes * 60.0;
                let profile = &profile;
                s.spawn(move || raised_while_streaming(&scenario, profile))
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    eprintln!(
        "{} min of busy quiet: {} alerts",
        2.0 * minutes,
        raised.len()
    );
    assert!(raised.is_empty(), "{raised:#?}");
}
