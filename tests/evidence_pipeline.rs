//! Evidence through the real path: `rfsentry analyze` on the bundled demo
//! writes, for every alert, a spectrogram PNG and an IQ snippet (SigMF) that
//! the alert log points to, plus overview pictures and report.html. The PNGs
//! are decoded back, the snippets are read through rfsentry's own SigMF
//! reader and the alert's signal is found in them at the annotated frequency.

#[path = "support/cli.rs"]
mod cli;

use rfsentry::iq::{open, OpenOptions, Sample};
use rustfft::FftPlanner;
use serde_json::Value;
use std::path::Path;

fn decode_png(path: &Path) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// Strongest bin inside [lo, hi] over the median bin outside it, dB, in the
/// average or (for sweeps, invisible in an average) the max-hold of
/// Hann-windowed 1024-point spectra over the snippet's annotated span.
fn band_power_ratio_db(samples: &[Sample], rate: f64, center: f64, lo: f64, hi: f64) -> f64 {
    let n = 1024;
    let fft = FftPlanner::<f32>::new().plan_fft_forward(n);
    let window = rfsentry::dsp::Window::Hann.coefficients(n);
    let mut acc = vec![0f64; n];
    let mut maxhold = vec![0f64; n];
    for chunk in samples.chunks_exact(n) {
        let mut buf: Vec<Sample> = chunk.iter().zip(&window).map(|(x, w)| x * *w).collect();
        fft.process(&mut buf);
        for ((a, m), x) in acc.iter_mut().zip(maxhold.iter_mut()).zip(&buf) {
            *a += x.norm_sqr() as f64;
            *m = m.max(x.norm_sqr() as f64);
        }
    }
    ratio_db(&acc, rate, center, lo, hi).max(ratio_db(&maxhold, rate, center, lo, hi))
}

fn ratio_db(spectrum: &[f64], rate: f64, center: f64, lo: f64, hi: f64) -> f64 {
    let n = spectrum.len();
    let acc = spectrum;
    let mut inside = 0f64;
    let mut outside = Vec::new();
    for (k, p) in acc.iter().enumerate() {
        let offset = if k < n / 2 {
            k as f64
        } else {
            k as f64 - n as f64
        };
        let f = center + offset * rate / n as f64;
        if f >= lo && f <= hi {
            inside = inside.max(*p);
        } else {
            outside.push(*p);
        }
    }
    outside.sort_by(f64::total_cmp);
    10.0 * (inside / outside[outside.len() / 2]).log10()
}

#[test]
fn every_alert_of_the_demo_has_pictures_iq_and_a_report_entry() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    cli::ok(&[
        "analyze",
        "--site",
        "demo-venue",
        "--out",
        cli::s(&out),
        "recordings/demo-incidents.sigmf-meta",
    ]);
    let events: Vec<Value> = std::fs::read_to_string(out.join("alerts.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let cleared: Vec<&Value> = events.iter().filter(|e| e["event"] == "cleared").collect();
    assert_eq!(
        cleared.len(),
        3,
        "the demo has three incidents: {events:#?}"
    );
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    let recording = std::fs::read("recordings/demo-incidents.sigmf-data").unwrap();
    for e in cleared {
        let id = e["id"].as_str().unwrap();
        assert!(report.contains(id), "report lists {id}");

        let png = out.join(
            e["evidence"]["spectrogram"]
                .as_str()
                .expect("spectrogram path"),
        );
        let (w, h, pixels) = decode_png(&png);
        assert!(w >= 800 && h >= 600, "{w}x{h}");
        let distinct: std::collections::BTreeSet<&[u8]> = pixels.chunks(3).collect();
        assert!(distinct.len() > 50, "{id}: picture looks blank");
        assert!(report.contains(e["evidence"]["spectrogram"].as_str().unwrap()));

        let meta = out.join(e["evidence"]["iq"].as_str().expect("iq path"));
        // Written in the recording's own encoding (ci8): its very bytes.
        let global: Value = serde_json::from_str(&std::fs::read_to_string(&meta).unwrap()).unwrap();
        let global = &global["global"];
        assert_eq!(global["core:datatype"], "ci8", "{id}");
        let first = global["rfsentry:stream_sample_start"].as_u64().unwrap() as usize;
        let snippet = std::fs::read(meta.with_extension("sigmf-data")).unwrap();
        assert_eq!(
            &recording[2 * first..2 * first + snippet.len()],
            &snippet[..],
            "{id}: the snippet is the recording's bytes from sample {first}"
        );
        let mut reader = open(&meta, &OpenOptions::default()).unwrap();
        let info = reader.info().clone();
        let ann = info
            .annotations
            .iter()
            .find(|a| a.kind() == e["kind"].as_str())
            .expect("annotation of the alert");
        assert_eq!(ann.extra["rfsentry:alert_id"], id);
        let mut samples = vec![Sample::default(); info.total_samples.unwrap() as usize];
        let got = reader.read(&mut samples).unwrap().samples;
        samples.truncate(got);
        let start = ann.sample_start as usize;
        let end = (start + ann.sample_count.unwrap() as usize).min(samples.len());
        assert!(end > start + 4096, "{id}: the snippet holds the alert");
        let (lo, hi) = (ann.freq_lower_edge.unwrap(), ann.freq_upper_edge.unwrap());
        let ratio = band_power_ratio_db(
            &samples[start..end],
            info.sample_rate,
            info.center_hz(),
            lo,
            hi,
        );
        assert!(
            ratio > 10.0,
            "{id} ({}): the alert band stands only {ratio:.1} dB over the rest",
            e["kind"]
        );
        assert!(
            lo >= e["freq_low_hz"].as_f64().unwrap() - 1.0
                && hi <= e["freq_high_hz"].as_f64().unwrap() + 1.0
        );
    }
    let overview = out.join("overview-demo-incidents.png");
    let (w, _, _) = decode_png(&overview);
    assert!(w >= 800);
    assert!(report.contains("overview-demo-incidents.png"));
    // No half-written file is left presented as complete.
    for entry in walk(&out) {
        assert!(!entry.to_string_lossy().ends_with(".part"), "{entry:?}");
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// A calibrated profile (`[calibration] dbm_at_0dbfs`) gives every alert a
/// `peak_dbm` — the same peak on the absolute scale — and an uncalibrated one
/// none; a monitoring gap has no level to give.
#[test]
fn a_calibrated_profile_puts_peaks_in_dbm() {
    let dir = tempfile::tempdir().unwrap();
    let profiles = dir.path().join("profiles");
    std::fs::create_dir(&profiles).unwrap();
    let demo = std::fs::read_to_string(cli::repo().join("profiles/demo-venue.toml")).unwrap();
    let calibrated = format!(
        "{demo}\n[calibration]\ndbm_at_0dbfs = -21.5\nnote = \"signal generator at the door\"\n"
    );
    std::fs::write(profiles.join("demo-venue.toml"), calibrated).unwrap();
    let analyze = |profile_dir: &Path, out: &Path| -> Vec<Value> {
        cli::ok(&[
            "analyze",
            "--site",
            "demo-venue",
            "--profile-dir",
            cli::s(profile_dir),
            "--no-evidence",
            "--out",
            cli::s(out),
            "recordings/demo-incidents.sigmf-meta",
        ]);
        std::fs::read_to_string(out.join("alerts.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let events = analyze(&profiles, &dir.path().join("cal"));
    assert!(events.len() >= 6, "{events:#?}");
    for e in &events {
        let dbfs = e["peak_dbfs"].as_f64().unwrap();
        let dbm = e["peak_dbm"].as_f64().expect("peak_dbm");
        assert!((dbm - (dbfs - 21.5)).abs() < 0.011, "{e}");
    }
    let plain = analyze(&cli::repo().join("profiles"), &dir.path().join("plain"));
    assert_eq!(plain.len(), events.len());
    assert!(plain.iter().all(|e| e.get("peak_dbm").is_none()));

    // The report shows both scales.
    let out = dir.path().join("report");
    cli::ok(&[
        "analyze",
        "--site",
        "demo-venue",
        "--profile-dir",
        cli::s(&profiles),
        "--out",
        cli::s(&out),
        "recordings/demo-incidents.sigmf-meta",
    ]);
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    let last = events.last().unwrap();
    let both = format!(
        "{:.1} dBFS ({:.1} dBm)",
        last["peak_dbfs"].as_f64().unwrap(),
        last["peak_dbm"].as_f64().unwrap()
    );
    assert!(report.contains(&both), "{both} not in the report");
}

#[test]
fn no_evidence_writes_only_the_alert_log_in_monitor_and_analyze() {
    let dir = tempfile::tempdir().unwrap();
    for (command, extra) in [("monitor", "--fast"), ("analyze", "--no-evidence")] {
        let out = dir.path().join(command);
        let mut args = vec![
            command,
            "--site",
            "demo-venue",
            "--out",
            cli::s(&out),
            extra,
        ];
        if command == "monitor" {
            args.push("--no-evidence");
        }
        args.push("recordings/demo-incidents.sigmf-meta");
        cli::ok(&args);
        let names: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["alerts.jsonl"], "{command}");
        let log = std::fs::read_to_string(out.join("alerts.jsonl")).unwrap();
        assert!(log.lines().count() >= 6, "{command}: {log}");
        assert!(!log.contains("\"iq\""), "{command}: no evidence paths");
    }
}
