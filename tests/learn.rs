//! Learning a baseline through the built binary: synth → learn → the profile
//! file, for several datatypes; the profile lists exactly the known emitters
//! at the right frequencies, the same recording in any datatype learns the
//! same statistics (within quantisation), learning again merges, and a
//! recording that does not fit the profile is a clear error.

use crate::util::cli;

use rfsentry::profile::{EmitterSource, Profile};
use std::path::Path;

/// The known emitters of tests/scenarios/site.toml: (name, centre offset from 868.3 MHz).
const KNOWN: [(&str, f64); 3] = [("beacon", -300e3), ("sensor", -150e3), ("voice", 200e3)];
const CENTER: f64 = 868.3e6;

fn short_baseline(dir: &Path) -> std::path::PathBuf {
    let s = dir.join("short.toml");
    std::fs::write(
        &s,
        format!(
            "base = \"{}\"\nseed = 5\nduration_s = 6\n",
            cli::s(&cli::scenario("site.toml"))
        ),
    )
    .unwrap();
    s
}

fn learn(dir: &Path, site: &str, recording: &Path, extra: &[&str]) -> Profile {
    let profiles = dir.join("profiles");
    let mut args = vec!["learn", "--site", site, "--profile-dir", cli::s(&profiles)];
    args.extend(extra);
    args.push(cli::s(recording));
    cli::ok(&args);
    Profile::load(&profiles.join(format!("{site}.toml"))).unwrap()
}

#[test]
fn the_profile_lists_exactly_the_known_emitters_in_every_datatype() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = short_baseline(dir.path());
    let mut floors = Vec::new();
    for datatype in ["ci16_le", "cf32_le", "cu8"] {
        let rec = cli::synth(
            dir.path(),
            &scenario,
            &format!("base-{datatype}"),
            None,
            Some(datatype),
        );
        let p = learn(dir.path(), datatype, &rec, &[]);
        assert_eq!(p.site.name, datatype);
        assert_eq!(p.capture.sample_rate, 1e6);
        assert_eq!(p.capture.psd.fft_size, 1024);
        assert_eq!(p.segments.len(), 1);
        assert_eq!(p.segments[0].center_hz, CENTER);
        assert!(p.segments[0].frames >= 100);
        let learned: Vec<_> = p
            .emitters
            .iter()
            .filter(|e| e.source == EmitterSource::Learned)
            .collect();
        assert_eq!(learned.len(), KNOWN.len(), "{datatype}: {learned:#?}");
        for (name, offset) in KNOWN {
            let f = CENTER + offset;
            assert!(
                learned
                    .iter()
                    .any(|e| e.low_hz <= f && f <= e.high_hz && (e.center_hz() - f).abs() < 5e3),
                "{datatype}: {name} at {f} Hz not among {learned:#?}"
            );
        }
        let sensor = learned
            .iter()
            .find(|e| (e.center_hz() - (CENTER - 150e3)).abs() < 5e3)
            .unwrap();
        assert!(sensor.duty < 0.5, "the sensor is bursty: {sensor:?}");
        floors.push(p.segments[0].noise_floor_dbfs);
    }
    // -35 dBFS of noise over 1024 Hann bins: -35 - 30.1 + 1.76 = -63.3 dBFS per bin.
    for f in &floors {
        assert!((f - -63.3).abs() < 0.6, "noise floor {f}");
    }
    assert!((floors[0] - floors[1]).abs() < 0.15, "{floors:?}");
    assert!((floors[0] - floors[2]).abs() < 0.5, "{floors:?}");
}

#[test]
fn learning_again_merges_and_a_mismatch_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = short_baseline(dir.path());
    let a = cli::synth(dir.path(), &scenario, "a", Some(11), None);
    let b = cli::synth(dir.path(), &scenario, "b", Some(12), None);
    let first = learn(
        dir.path(),
        "venue",
        &a,
        &["--description", "ballot counting hall"],
    );
    let merged = learn(dir.path(), "venue", &b, &[]);
    assert_eq!(merged.segments[0].frames, 2 * first.segments[0].frames);
    assert_eq!(merged.site.sources.len(), 2);
    assert_eq!(merged.site.description, "ballot counting hall");
    assert_eq!(merged.emitters.len(), first.emitters.len());

    // Another FFT size cannot merge into this profile.
    let profiles = dir.path().join("profiles");
    let out = cli::run(&[
        "learn",
        "--site",
        "venue",
        "--profile-dir",
        cli::s(&profiles),
        "--fft-size",
        "2048",
        cli::s(&b),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot merge")
            && err.contains("venue")
            && err.contains("fft_size: 1024 in the profile, 2048 now"),
        "{err}"
    );

    // A recording at another rate does not fit the profile.
    let other = dir.path().join("other.toml");
    std::fs::write(
        &other,
        "seed = 1\nsample_rate = 2000000\ncenter_hz = 868.3e6\nduration_s = 1\nnoise_dbfs = -35\n",
    )
    .unwrap();
    let rec = cli::synth(dir.path(), &other, "other", None, None);
    let out = cli::run(&[
        "analyze",
        "--site",
        "venue",
        "--profile-dir",
        cli::s(&profiles),
        "--out",
        cli::s(&dir.path().join("o")),
        cli::s(&rec),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sample rate") && err.contains("2000000"),
        "{err}"
    );
}

#[test]
fn the_bundled_demo_profile_matches_its_recording() {
    let profile = Profile::load(&cli::repo().join("profiles/demo-venue.toml")).unwrap();
    assert_eq!(profile.site.name, "demo-venue");
    assert_eq!(profile.emitters.len(), 3, "{:#?}", profile.emitters);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let stdout = cli::ok(&[
        "analyze",
        "--site",
        "demo-venue",
        "--out",
        cli::s(&out),
        "recordings/demo-baseline.sigmf-meta",
    ]);
    assert!(stdout.contains("0 alert(s)"), "{stdout}");
}
