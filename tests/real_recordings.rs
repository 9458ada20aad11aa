//! Real IQ captured by others (`../shared/recordings/urh`, see its
//! CATALOG.md): real ISM remote controls, sockets and sensors. A site learned
//! from a capture makes no alert on that same capture; a site learned from a
//! quiet stretch of it finds the capture's real bursts as unknown emitters.
//! The files are read in place, never copied into the repository.

#[path = "support/cli.rs"]
mod cli;

use serde_json::Value;
use std::path::{Path, PathBuf};

fn urh() -> Option<PathBuf> {
    [
        cli::repo().join("../shared/recordings/urh"),
        PathBuf::from("/work/shared/recordings/urh"),
    ]
    .into_iter()
    .find(|p| p.is_dir())
}

fn alerts(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out.join("alerts.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// (file, integration seconds): short captures get shorter frames.
const CAPTURES: [(&str, &str); 10] = [
    ("elektromaten.complex16s", "0.05"),
    ("pwm.complex16s", "0.05"),
    ("two_participants.complex16s", "0.05"),
    ("esaver.complex16s", "0.02"),
    ("ook_overshoot.complex16s", "0.02"),
    ("homematic.complex32s", "0.01"),
    ("fsk.complex", "0.005"),
    ("steckdose_anlernen.complex", "0.005"),
    ("wsp.complex", "0.005"),
    ("enocean.complex", "0.005"),
];

/// The URH folder, which the tests need.
fn urh_dir() -> PathBuf {
    urh().expect(
        "../shared/recordings/urh is missing: the real recordings are part of the test data",
    )
}

/// Learn `site` from `recording` (with `learn_flags`), analyse the whole
/// recording against it, and return the alert events.
fn learn_then_analyze(
    dir: &Path,
    site: &str,
    recording: &Path,
    learn_flags: &[&str],
) -> Vec<Value> {
    let profiles = dir.join("profiles");
    let raw = ["--rate", "1M", "--freq", "433.92M"];
    let mut learn = vec!["learn", "--site", site, "--profile-dir", cli::s(&profiles)];
    learn.extend(learn_flags);
    learn.extend(raw);
    learn.push(cli::s(recording));
    cli::ok(&learn);
    let out = dir.join(site);
    let mut analyze = vec![
        "analyze",
        "--site",
        site,
        "--profile-dir",
        cli::s(&profiles),
        "--out",
        cli::s(&out),
    ];
    analyze.extend(raw);
    analyze.push(cli::s(recording));
    cli::ok(&analyze);
    alerts(&out)
}

#[test]
fn a_capture_learned_as_normal_raises_nothing() {
    let urh = urh_dir();
    let dir = tempfile::tempdir().unwrap();
    for (file, integration) in CAPTURES {
        let site = file.replace('.', "-");
        let found = learn_then_analyze(
            dir.path(),
            &site,
            &urh.join(file),
            &["--integration", integration],
        );
        assert!(found.is_empty(), "{file}: {found:#?}");
    }
}

#[test]
fn real_bursts_are_found_when_the_site_was_learned_without_them() {
    let urh = urh_dir();
    let dir = tempfile::tempdir().unwrap();
    // Each capture starts with a quiet stretch (measured: 10 ms energies
    // within 3 dB of the floor) before its first burst.
    for (file, quiet_s) in [
        ("elektromaten.complex16s", "0.03"),
        ("pwm.complex16s", "0.04"),
    ] {
        let site = file.replace('.', "-");
        let found = learn_then_analyze(
            dir.path(),
            &site,
            &urh.join(file),
            &["--integration", "0.005", "--duration", quiet_s],
        );
        let raised: Vec<&Value> = found.iter().filter(|a| a["event"] == "raised").collect();
        assert!(!raised.is_empty(), "{file}: its bursts were not found");
        for a in &raised {
            assert_eq!(a["kind"], "emitter.unknown", "{file}: {a:#}");
            let centre = a["center_hz"].as_f64().unwrap();
            assert!((433.42e6..434.42e6).contains(&centre), "{file}: {centre}");
        }
        // The first alert starts where the first burst does, right after the quiet stretch.
        let first = raised[0]["start_sample"].as_u64().unwrap();
        let quiet: f64 = quiet_s.parse().unwrap();
        assert!(
            (first as f64) < (quiet + 0.05) * 1e6,
            "{file}: first alert at sample {first}"
        );
    }
}
