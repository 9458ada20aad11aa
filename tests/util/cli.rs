//! Running the built `rfsentry` binary from integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Whether the detection-quality tests run at full strength (30 seeds, an
/// hour of busy quiet: the figures the README quotes), as the README's test
/// command and `.ci/run` do, or a quick sample of them (3 seeds, a minute)
/// with `RFSENTRY_QUALITY=quick`, for a fast round while working. The core
/// and the lab are optimised even in the dev profile, so full strength takes
/// a few minutes.
pub fn full_quality() -> bool {
    std::env::var("RFSENTRY_QUALITY").map_or(true, |v| v != "quick")
}

/// The repository root (where `recordings/`, `profiles/` and `tests/scenarios/` live).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A path under `tests/scenarios/`.
pub fn scenario(name: &str) -> PathBuf {
    repo().join("tests/scenarios").join(name)
}

/// Run `rfsentry ARGS` and return its output, whatever the exit status.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rfsentry"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("the rfsentry binary runs")
}

/// Run `rfsentry ARGS`, asserting success; returns stdout.
pub fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "rfsentry {} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `p` as a &str.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Generate `scenario` into `dir/name.sigmf-meta` (optionally at another seed / datatype).
pub fn synth(
    dir: &Path,
    scenario_file: &Path,
    name: &str,
    seed: Option<u64>,
    datatype: Option<&str>,
) -> PathBuf {
    let out = dir.join(format!("{name}.sigmf-meta"));
    let seed_s = seed.map(|x| x.to_string());
    let mut args = vec!["synth", s(scenario_file), "-o", s(&out)];
    if let Some(sd) = &seed_s {
        args.extend(["--seed", sd]);
    }
    if let Some(dt) = datatype {
        args.extend(["--datatype", dt]);
    }
    ok(&args);
    out
}

/// Generate `scenario_file` and learn `site` from it into `dir/profiles`;
/// returns the profile directory.
pub fn learn_site(dir: &Path, scenario_file: &Path, site: &str) -> PathBuf {
    let baseline = synth(dir, scenario_file, "baseline", None, None);
    let profiles = dir.join("profiles");
    ok(&[
        "learn",
        "--site",
        site,
        "--profile-dir",
        s(&profiles),
        s(&baseline),
    ]);
    profiles
}

/// `analyze --no-evidence` one recording against `site` into `out`; returns
/// the alert log's events.
pub fn analyze_site(
    site: &str,
    profiles: &Path,
    out: &Path,
    recording: &Path,
) -> Vec<serde_json::Value> {
    ok(&[
        "analyze",
        "--site",
        site,
        "--profile-dir",
        s(profiles),
        "--out",
        s(out),
        "--no-evidence",
        s(recording),
    ]);
    alert_events(out)
}

/// The `raised`, `updated` and `cleared` events of `out/alerts.jsonl`.
pub fn alert_events(out: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(out.join("alerts.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|e: &serde_json::Value| {
            matches!(e["event"].as_str(), Some("raised" | "updated" | "cleared"))
        })
        .collect()
}

/// Whether a log line (parsed) is one of the chain of custody's own
/// `custody.*` records rather than an event of an alert.
pub fn is_custody_record(line: &serde_json::Value) -> bool {
    line["event"]
        .as_str()
        .is_some_and(|e| e.starts_with("custody."))
}
