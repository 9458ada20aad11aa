//! End-to-end tests of `synth`: scenario files of every event kind become
//! SigMF recordings of the right size in every common datatype, with one
//! ground-truth annotation per event; the checked-in demo recordings match
//! their scenario files.

use rfsentry::iq::Datatype;
use rfsentry::synth::{annotations, generate, Scenario};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A scenario staging every event kind once, one after the other.
const EVERY_KIND: &str = r#"
seed = 7
sample_rate = 100000
center_hz = 868.3e6
duration_s = 1.0
noise_dbfs = -30
start_time = "2026-05-04T03:02:01Z"
description = "every event kind"

[[emitters]]
name = "beacon"
type = "carrier"
offset_hz = -40e3
level_db = 25

[[emitters]]
name = "radio"
type = "nbfm"
freq_hz = 868.32e6
deviation_hz = 2500
level_db = 20

[[emitters]]
name = "sensor"
type = "burst"
modulation = "ook"
offset_hz = 35e3
bitrate = 2000
period_s = 0.05
burst_s = 0.01
level_db = 15

[[events]]
kind = "jamming.barrage"
start_s = 0.0
duration_s = 0.1
low_offset_hz = -30e3
high_offset_hz = 10e3
level_db = 12

[[events]]
kind = "jamming.tone"
start_s = 0.12
duration_s = 0.1
offsets_hz = [5e3, 7e3]
level_db = 20

[[events]]
kind = "jamming.swept"
start_s = 0.24
duration_s = 0.1
low_hz = 868.26e6
high_hz = 868.34e6
sweep_period_s = 0.02
level_db = 20

[[events]]
kind = "jamming.pulsed"
start_s = 0.36
duration_s = 0.1
low_offset_hz = -45e3
high_offset_hz = 45e3
period_s = 0.02
duty = 0.25
level_db = 10

[[events]]
kind = "emitter.unknown"
modulation = "noise"
start_s = 0.48
duration_s = 0.1
offset_hz = -15e3
bandwidth_hz = 8e3
period_s = 0.035
duty = 0.4
level_db = 15

[[events]]
kind = "emitter.anomalous"
emitter = "radio"
start_s = 0.6
duration_s = 0.1
extra_db = 10
widen = 2

[[events]]
kind = "receiver.overload"
start_s = 0.72
duration_s = 0.1
offset_hz = 10e3
power_dbfs = 3

[[events]]
kind = "receiver.signal_loss"
start_s = 0.84
duration_s = 0.1
drop_db = 20
"#;

fn every_kind() -> Scenario {
    Scenario::from_toml_str(EVERY_KIND, Path::new("."), "every-kind.toml").unwrap()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn data_path(meta: &Path) -> PathBuf {
    meta.with_extension("sigmf-data")
}

#[test]
fn every_kind_is_annotated_in_every_datatype() {
    let scenario = every_kind();
    let dir = tempfile::tempdir().unwrap();
    for name in ["cf32_le", "ci16_le", "ci8", "cu8"] {
        let datatype: Datatype = name.parse().unwrap();
        let meta_path = generate(&scenario, &dir.path().join(name), datatype).unwrap();
        assert_eq!(meta_path, dir.path().join(format!("{name}.sigmf-meta")));
        let data = std::fs::read(data_path(&meta_path)).unwrap();
        assert_eq!(data.len(), 100_000 * datatype.sample_bytes(), "{name}");

        let meta = read_json(&meta_path);
        let global = &meta["global"];
        assert_eq!(global["core:datatype"], name);
        assert_eq!(global["core:sample_rate"], 100_000.0);
        assert_eq!(global["core:description"], "every event kind");
        assert_eq!(global["rfsentry:scenario"], "every-kind.toml");
        assert_eq!(global["rfsentry:seed"], 7);
        assert_eq!(meta["captures"][0]["core:frequency"], 868.3e6);
        assert_eq!(
            meta["captures"][0]["core:datetime"],
            "2026-05-04T03:02:01.000000Z"
        );

        let annotations = meta["annotations"].as_array().unwrap();
        let kinds: Vec<&str> = annotations
            .iter()
            .map(|a| a["rfsentry:kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "jamming.barrage",
                "jamming.tone",
                "jamming.swept",
                "jamming.pulsed",
                "emitter.unknown",
                "emitter.anomalous",
                "receiver.overload",
                "receiver.signal_loss"
            ]
        );
        for a in annotations {
            let kind = a["rfsentry:kind"].as_str().unwrap();
            let low = a["core:freq_lower_edge"].as_f64().unwrap();
            let high = a["core:freq_upper_edge"].as_f64().unwrap();
            assert!(low < high, "{kind}");
            assert!(low >= 868.25e6 && high <= 868.35e6, "{kind}: {low}–{high}");
            assert!(a["rfsentry:excess_db"].as_f64().is_some(), "{kind}");
            assert!(a["core:label"].as_str().unwrap().starts_with(kind));
            let end =
                a["core:sample_start"].as_u64().unwrap() + a["core:sample_count"].as_u64().unwrap();
            assert!(end <= 100_000, "{kind}");
        }
        let barrage = &annotations[0];
        assert_eq!(barrage["core:freq_lower_edge"], 868.27e6);
        assert_eq!(barrage["core:freq_upper_edge"], 868.31e6);
        assert_eq!(barrage["rfsentry:excess_db"], 12.0);
        assert_eq!(barrage["core:sample_count"], 10_000);
        // The bursty rogue emitter's span ends with its last burst (0.55–0.564 s).
        assert_eq!(annotations[4]["core:sample_start"], 48_000);
        assert_eq!(annotations[4]["core:sample_count"], 8_400);
        assert_eq!(annotations[5]["rfsentry:excess_db"], 10.0);
        assert_eq!(annotations[6]["core:freq_lower_edge"], 868.25e6);
        assert_eq!(annotations[7]["rfsentry:excess_db"], -20.0);
    }
}

#[test]
fn the_adc_clips_during_overload_only_even_in_float() {
    let scenario = every_kind();
    let dir = tempfile::tempdir().unwrap();
    let meta = generate(&scenario, &dir.path().join("x"), Datatype::CF32_LE).unwrap();
    let bytes = std::fs::read(data_path(&meta)).unwrap();
    let values: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert!(values.iter().all(|v| v.abs() <= 1.0));
    let clipped: Vec<usize> = (0..values.len() / 2)
        .filter(|&n| values[2 * n].abs() == 1.0 || values[2 * n + 1].abs() == 1.0)
        .collect();
    assert!(clipped.len() > 1000, "{}", clipped.len());
    assert!(clipped.iter().all(|&n| (72_000..82_000).contains(&n)));
}

#[test]
fn same_scenario_and_seed_give_identical_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut scenario = every_kind();
    let read = |name: &str, s: &Scenario| {
        let meta = generate(s, &dir.path().join(name), Datatype::CI16_LE).unwrap();
        (
            std::fs::read(data_path(&meta)).unwrap(),
            std::fs::read_to_string(&meta).unwrap(),
        )
    };
    let first = read("a", &scenario);
    assert_eq!(first, read("b", &scenario));
    scenario.seed = 8;
    let other = read("c", &scenario);
    assert_ne!(first.0, other.0);
}

fn recordings() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("recordings")
}

#[test]
fn checked_in_demo_recordings_match_their_scenarios() {
    for (name, events) in [("demo-baseline", 0), ("demo-incidents", 3)] {
        let scenario = Scenario::load(&recordings().join(format!("{name}.toml"))).unwrap();
        let names: Vec<&str> = scenario.emitters.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["gate-beacon", "staff-radio", "door-sensor"]);
        assert_eq!(
            (
                scenario.sample_rate,
                scenario.center_hz,
                scenario.noise_dbfs
            ),
            (250e3, 433.92e6, -30.0)
        );
        assert_eq!(scenario.datatype, Datatype::CI8);

        let meta_path = recordings().join(format!("{name}.sigmf-meta"));
        let meta = read_json(&meta_path);
        assert_eq!(meta["global"]["core:datatype"], "ci8");
        assert_eq!(meta["global"]["rfsentry:scenario"], format!("{name}.toml"));
        assert_eq!(meta["global"]["rfsentry:seed"], scenario.seed);
        let expected = serde_json::to_value(annotations(&scenario).unwrap()).unwrap();
        assert_eq!(
            meta["annotations"], expected,
            "{name}: regenerate the recording"
        );
        assert_eq!(expected.as_array().unwrap().len(), events);
        let data = std::fs::metadata(data_path(&meta_path)).unwrap();
        assert_eq!(data.len(), scenario.total_samples() * 2);
    }
}

#[test]
fn the_recordings_directory_stays_small() {
    let total: u64 = std::fs::read_dir(recordings())
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(total <= 6_000_000, "recordings/ holds {total} bytes");
}

/// The command line end to end: `rfsentry synth` writes the recording and says so.
#[test]
fn the_command_writes_a_recording_and_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo.sigmf-meta");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rfsentry"))
        .arg("synth")
        .arg(recordings().join("demo-incidents.toml"))
        .arg("-o")
        .arg(&out)
        .args(["--datatype", "cu8", "--seed", "5"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("1500000 samples"), "{stdout}");
    assert!(stdout.contains("3 events"), "{stdout}");
    let meta = read_json(&out);
    assert_eq!(meta["global"]["core:datatype"], "cu8");
    assert_eq!(meta["global"]["rfsentry:seed"], 5);
    assert_eq!(std::fs::metadata(data_path(&out)).unwrap().len(), 3_000_000);

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "seed = 1\nsample_rate = -5\ncenter_hz = 1e6\nduration_s = 1\nnoise_dbfs = -30\n",
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rfsentry"))
        .arg("synth")
        .arg(&bad)
        .arg("-o")
        .arg(dir.path().join("bad"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.toml: sample_rate: expected a number greater than 0"),
        "{stderr}"
    );
}
