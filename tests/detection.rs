//! Detection quality, measured: the scenario matrix (`tests/scenarios/`) —
//! every jammer kind, rogue emitters of several bandwidths and duty cycles, an
//! anomalous known emitter, receiver overload and signal loss, each 6 dB or
//! more over the baseline's p99 — is generated at several seeds with
//! `rfsentry synth`, analysed against a profile learned from a normal
//! recording, and scored with `rfsentry score --json`. The assertions are the
//! issue's targets; quiet recordings at other seeds must raise nothing.

use crate::util::cli;

use serde_json::Value;
use std::path::Path;

const SITE: &str = "matrix-site";
const SEEDS: [u64; 3] = [1, 2, 3];
/// Bin width of the site's profile: 1 MS/s over 1024 bins.
const BIN_HZ: f64 = 1e6 / 1024.0;

fn learn(dir: &Path) -> std::path::PathBuf {
    cli::learn_site(dir, &cli::scenario("baseline.toml"), SITE)
}

fn analyze(profiles: &Path, out: &Path, recording: &Path) -> Vec<Value> {
    cli::analyze_site(SITE, profiles, out, recording)
}

#[test]
fn the_scenario_matrix_meets_the_detection_targets() {
    let dir = tempfile::tempdir().unwrap();
    let profiles = learn(dir.path());
    let mut events: Vec<Value> = Vec::new();
    for seed in SEEDS {
        let rec = cli::synth(
            dir.path(),
            &cli::scenario("matrix.toml"),
            &format!("matrix-{seed}"),
            Some(seed),
            None,
        );
        let out = dir.path().join(format!("out-{seed}"));
        analyze(&profiles, &out, &rec);
        let json = cli::ok(&[
            "score",
            "--json",
            cli::s(&out.join("alerts.jsonl")),
            cli::s(&rec),
        ]);
        let score: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            score["false_alerts"].as_array().unwrap().len(),
            0,
            "seed {seed}: false alerts {}",
            score["false_alerts"]
        );
        events.extend(score["events"].as_array().unwrap().iter().cloned());
    }

    // Probability of detection per kind, over all seeds.
    let mut kinds: std::collections::BTreeMap<String, (u32, u32, u32)> = Default::default();
    let mut latencies = Vec::new();
    for e in &events {
        let k = kinds
            .entry(e["kind"].as_str().unwrap().to_string())
            .or_default();
        k.1 += 1;
        if e["detected"].as_bool().unwrap() {
            k.0 += 1;
            k.2 += e["classified"].as_bool().unwrap() as u32;
            latencies.push(e["latency_s"].as_f64().unwrap());
            let bw = e["bandwidth_hz"].as_f64().unwrap();
            if bw > 0.0 && !e["kind"].as_str().unwrap().starts_with("receiver") {
                let err = e["freq_error_hz"].as_f64().unwrap();
                assert!(
                    err <= (2.0 * BIN_HZ).max(0.1 * bw),
                    "{} at {} s: centre frequency off by {err} Hz (bandwidth {bw} Hz)",
                    e["kind"],
                    e["start_s"]
                );
            }
        }
    }
    let mut detected = 0;
    let mut classified = 0;
    for (kind, (hit, total, right)) in &kinds {
        let pd = *hit as f64 / *total as f64;
        eprintln!("{kind:<22} Pd {pd:.2} ({hit}/{total}), classified {right}/{hit}");
        assert!(
            pd >= 0.95,
            "{kind}: probability of detection {pd:.2} < 0.95"
        );
        detected += hit;
        classified += right;
    }
    assert!(
        kinds.len() >= 8,
        "every alert kind is in the matrix: {kinds:?}"
    );
    let accuracy = classified as f64 / detected as f64;
    assert!(
        accuracy >= 0.9,
        "classification accuracy {accuracy:.2} < 0.90"
    );
    latencies.sort_by(f64::total_cmp);
    let p95 = latencies[((0.95 * latencies.len() as f64).ceil() as usize).max(1) - 1];
    assert!(p95 <= 1.0, "latency p95 {p95:.3} s > 1 s");
}

#[test]
fn quiet_recordings_at_other_seeds_raise_nothing_and_analysis_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let profiles = learn(dir.path());
    for seed in [200u64, 201] {
        let rec = cli::synth(
            dir.path(),
            &cli::scenario("quiet.toml"),
            &format!("quiet-{seed}"),
            Some(seed),
            None,
        );
        let alerts = analyze(&profiles, &dir.path().join(format!("q-{seed}")), &rec);
        assert!(alerts.is_empty(), "seed {seed}: {alerts:?}");
    }
    let rec = cli::synth(
        dir.path(),
        &cli::scenario("matrix.toml"),
        "det",
        Some(7),
        None,
    );
    let a = dir.path().join("det-a");
    let b = dir.path().join("det-b");
    analyze(&profiles, &a, &rec);
    analyze(&profiles, &b, &rec);
    // The events, byte for byte; the chain's records (run times) differ.
    let events = |dir: &std::path::Path| {
        rfsentry::custody::chain::event_bodies(&std::fs::read(dir.join("alerts.jsonl")).unwrap())
    };
    let (la, lb) = (events(&a), events(&b));
    assert!(!la.is_empty());
    assert_eq!(la, lb, "the same input gives byte-identical alert events");
}

#[test]
fn one_jammer_is_one_alert_with_updates() {
    let dir = tempfile::tempdir().unwrap();
    let profiles = learn(dir.path());
    let scenario = dir.path().join("long-jam.toml");
    std::fs::write(
        &scenario,
        format!(
            "base = \"{}\"\nseed = 9\nduration_s = 8\n\n[[events]]\nkind = \"jamming.pulsed\"\nstart_s = 1.0\nduration_s = 6.0\nlow_offset_hz = -200e3\nhigh_offset_hz = 200e3\nperiod_s = 0.15\nduty = 0.4\nlevel_db = 12\n",
            cli::s(&cli::scenario("site.toml"))
        ),
    )
    .unwrap();
    let rec = cli::synth(dir.path(), &scenario, "long-jam", None, None);
    let alerts = analyze(&profiles, &dir.path().join("out"), &rec);
    let ids: std::collections::BTreeSet<_> = alerts
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0]["kind"], "jamming.pulsed");
    let updates = alerts.iter().filter(|a| a["event"] == "updated").count();
    assert!((3..=8).contains(&updates), "{updates} updates over 6 s");
    assert_eq!(alerts.last().unwrap()["event"], "cleared");
}

/// The README's demo table, pinned: the bundled recording gives exactly its
/// three incidents, and so does the same scenario regenerated at other
/// seeds (30 in an optimised build, 3 in a debug one).
#[test]
fn the_demo_is_exactly_its_three_incidents_whatever_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    let profiles = cli::repo().join("profiles");
    let expected = ["jamming.tone", "emitter.unknown", "jamming.swept"];
    let raised_kinds = |alerts: &[Value]| -> Vec<String> {
        alerts
            .iter()
            .filter(|a| a["event"] == "raised")
            .map(|a| a["kind"].as_str().unwrap().to_string())
            .collect()
    };
    let shipped = cli::analyze_site(
        "demo-venue",
        &profiles,
        &dir.path().join("shipped"),
        &cli::repo().join("recordings/demo-incidents.sigmf-meta"),
    );
    assert_eq!(raised_kinds(&shipped), expected, "{shipped:#?}");
    let starts: Vec<&str> = shipped
        .iter()
        .filter(|a| a["event"] == "raised")
        .map(|a| &a["start"].as_str().unwrap()[11..23])
        .collect();
    assert_eq!(starts, ["00:00:00.786", "00:00:02.359", "00:00:04.325"]);
    let seeds: Vec<u64> = if !cli::full_quality() {
        vec![1, 11, 29]
    } else {
        (1..=30).collect()
    };
    for seed in seeds {
        let rec = cli::synth(
            dir.path(),
            &cli::repo().join("recordings/demo-incidents.toml"),
            &format!("demo-{seed}"),
            Some(seed),
            None,
        );
        let alerts = cli::analyze_site(
            "demo-venue",
            &profiles,
            &dir.path().join(format!("o{seed}")),
            &rec,
        );
        assert_eq!(raised_kinds(&alerts), expected, "seed {seed}: {alerts:#?}");
    }
}

/// The GNSS example: the bundled car-jammer recording is one swept jammer
/// over the L1 band, against the bundled profile.
#[test]
fn the_gnss_car_jammer_is_one_swept_alert() {
    let dir = tempfile::tempdir().unwrap();
    let alerts = cli::analyze_site(
        "gnss-l1",
        &cli::repo().join("profiles"),
        dir.path(),
        &cli::repo().join("recordings/gnss-incidents.sigmf-meta"),
    );
    let raised: Vec<&Value> = alerts.iter().filter(|a| a["event"] == "raised").collect();
    assert_eq!(raised.len(), 1, "{alerts:#?}");
    assert_eq!(raised[0]["kind"], "jamming.swept");
    let (lo, hi) = (
        raised[0]["freq_low_hz"].as_f64().unwrap(),
        raised[0]["freq_high_hz"].as_f64().unwrap(),
    );
    // Its band spans the sweep (±200 kHz of L1), not one line of its comb.
    assert!(
        lo < 1575.42e6 - 150e3 && hi > 1575.42e6 + 150e3,
        "{lo} {hi}"
    );
}
