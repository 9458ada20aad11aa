//! Evidence through the real path: `rfsentry analyze` on the bundled demo
//! writes, for every alert, a spectrogram PNG and an IQ snippet (SigMF) that
//! the alert log points to, plus overview pictures and report.html. The
//! alerts are checked against the scenario's own truth
//! (`recordings/demo-incidents.toml`: kind, time and band of each incident),
//! the PNGs are decoded back, and each snippet's samples are decoded here
//! from its bytes (not through rfsentry's reader) and checked against the
//! recording and the incident: it holds the incident's start, and the
//! incident's true band stands out in it.

use crate::util::cli;

use rfsentry::iq::{open, OpenOptions, Sample};
use rustfft::FftPlanner;
use serde_json::Value;
use std::collections::BTreeSet;
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

/// Power (dB, arbitrary reference) of each bin inside [lo, hi] in the
/// max-hold of Hann-windowed 1024-point spectra of `samples` (a sweep shows
/// in it at its full level, not diluted by its duty as in an average).
fn band_bins_db(samples: &[Sample], rate: f64, center: f64, lo: f64, hi: f64) -> Vec<f64> {
    let n = 1024;
    let fft = FftPlanner::<f32>::new().plan_fft_forward(n);
    let window = rfsentry::dsp::Window::Hann.coefficients(n);
    let mut acc = vec![0f64; n];
    for chunk in samples.chunks_exact(n) {
        let mut buf: Vec<Sample> = chunk.iter().zip(&window).map(|(x, w)| x * *w).collect();
        fft.process(&mut buf);
        for (a, x) in acc.iter_mut().zip(&buf) {
            *a = a.max(x.norm_sqr() as f64);
        }
    }
    let inside: Vec<f64> = (0..n)
        .filter(|&k| {
            let offset = if k < n / 2 {
                k as f64
            } else {
                k as f64 - n as f64
            };
            (lo..=hi).contains(&(center + offset * rate / n as f64))
        })
        .map(|k| 10.0 * acc[k].log10())
        .collect();
    inside
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

/// One incident of the demo scenario, from its TOML (the synthesiser's input).
#[derive(Debug)]
struct Incident {
    kind: String,
    start_s: f64,
    end_s: f64,
    low_hz: f64,
    high_hz: f64,
}

/// The incidents of `recordings/demo-incidents.toml`, with absolute
/// frequencies from its base `recordings/demo-site.toml`.
fn demo_truth() -> (f64, Vec<Incident>) {
    let read = |name: &str| -> toml::Value {
        toml::from_str(&std::fs::read_to_string(cli::repo().join("recordings").join(name)).unwrap())
            .unwrap()
    };
    let site = read("demo-site.toml");
    let scenario = read("demo-incidents.toml");
    assert_eq!(scenario["base"].as_str(), Some("demo-site.toml"));
    let f = |v: &toml::Value, key: &str| -> Option<f64> {
        v.get(key)
            .and_then(|x| x.as_float().or(x.as_integer().map(|i| i as f64)))
    };
    let center = f(&site, "center_hz").unwrap();
    let rate = f(&site, "sample_rate").unwrap();
    let incidents = scenario["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let start_s = f(e, "start_s").unwrap();
            let (low, high) = match (f(e, "low_offset_hz"), f(e, "high_offset_hz")) {
                (Some(lo), Some(hi)) => (lo, hi),
                _ => {
                    let off = f(e, "offset_hz").unwrap();
                    let half = f(e, "bandwidth_hz").unwrap_or(0.0) / 2.0;
                    (off - half, off + half)
                }
            };
            Incident {
                kind: e["kind"].as_str().unwrap().to_string(),
                start_s,
                end_s: start_s + f(e, "duration_s").unwrap(),
                low_hz: center + low,
                high_hz: center + high,
            }
        })
        .collect();
    (rate, incidents)
}

/// The demo's ci8 samples from raw bytes (interleaved signed 8-bit I/Q), scaled to ±1.
fn ci8(bytes: &[u8]) -> Vec<Sample> {
    bytes
        .chunks_exact(2)
        .map(|p| Sample::new(p[0] as i8 as f32 / 128.0, p[1] as i8 as f32 / 128.0))
        .collect()
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
        .filter(|e: &serde_json::Value| {
            matches!(e["event"].as_str(), Some("raised" | "updated" | "cleared"))
        })
        .collect();
    let cleared: Vec<&Value> = events.iter().filter(|e| e["event"] == "cleared").collect();
    let (rate, truth) = demo_truth();
    assert_eq!(truth.len(), 3, "the demo scenario has three incidents");
    assert_eq!(
        cleared.len(),
        truth.len(),
        "one alert per incident: {events:#?}"
    );
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    let recording = std::fs::read("recordings/demo-incidents.sigmf-data").unwrap();
    // A frequency bin of the demo profile (FFT 1024 at 250 kS/s): 244 Hz.
    let bin = rate / 1024.0;
    let mut matched = BTreeSet::new();
    for e in cleared {
        let id = e["id"].as_str().unwrap();
        let (lo, hi, centre) = (
            e["freq_low_hz"].as_f64().unwrap(),
            e["freq_high_hz"].as_f64().unwrap(),
            e["center_hz"].as_f64().unwrap(),
        );
        let (start, end) = (
            e["start_sample"].as_u64().unwrap() as f64 / rate,
            e["end_sample"].as_u64().unwrap() as f64 / rate,
        );
        // The incident this alert reports: same kind, overlapping in time.
        let (n, incident) = truth
            .iter()
            .enumerate()
            .find(|(_, t)| {
                t.kind == e["kind"].as_str().unwrap() && start < t.end_s && end > t.start_s
            })
            .unwrap_or_else(|| panic!("{id}: no incident of its kind and time: {e:#}\n{truth:#?}"));
        assert!(matched.insert(n), "{id}: incident {n} reported twice");
        // Raised within 0.3 s of the incident's start, ended within 0.3 s of its end.
        assert!(
            (start - incident.start_s).abs() < 0.3,
            "{id}: starts at {start} s, {incident:?}"
        );
        assert!(
            (end - incident.end_s).abs() < 0.3,
            "{id}: ends at {end} s, {incident:?}"
        );
        // Its band lies in the incident's, within 2 kHz (a Hann window's
        // main lobe and the detector's grouping: 8 bins) and, for the FSK
        // transmitter, 4 kHz more of modulation skirts; its centre too.
        let slack = 2e3
            + if incident.kind == "emitter.unknown" {
                4e3
            } else {
                0.0
            };
        assert!(
            lo >= incident.low_hz - slack
                && hi <= incident.high_hz + slack
                && (incident.low_hz - slack..=incident.high_hz + slack).contains(&centre),
            "{id}: band {lo}..{hi} (centre {centre}) outside the incident's {incident:?}"
        );
        assert!(report.contains(id), "report lists {id}");

        let png = out.join(
            e["evidence"]["spectrogram"]
                .as_str()
                .expect("spectrogram path"),
        );
        let (w, h, pixels) = decode_png(&png);
        assert!(w >= 800 && h >= 600, "{w}x{h}");
        let distinct: BTreeSet<&[u8]> = pixels.chunks(3).collect();
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
        // It holds the incident from before its true start (at least half
        // a second of the 1 s pre-trigger, however late the alert was
        // raised, or from the recording's start) to the alert's end.
        let truth_start = (incident.start_s * rate) as usize;
        let snippet_end = first + snippet.len() / 2;
        assert!(
            first <= truth_start.saturating_sub((0.5 * rate) as usize)
                && snippet_end >= e["end_sample"].as_u64().unwrap() as usize,
            "{id}: snippet holds samples {first}..{snippet_end}, the incident starts at {truth_start}"
        );
        // The incident's true band stands out in the snippet's own samples,
        // decoded here, over the part where the incident is on.
        let samples = ci8(&snippet);
        let on =
            (truth_start - first)..((incident.end_s * rate) as usize - first).min(samples.len());
        let ratio = band_power_ratio_db(
            &samples[on.clone()],
            rate,
            433.92e6,
            incident.low_hz - bin,
            incident.high_hz + bin,
        );
        assert!(
            ratio > 10.0,
            "{id} ({}): the incident's band stands only {ratio:.1} dB over the rest",
            e["kind"]
        );
        // And it is placed in time: the band's bins rise in max-hold (median
        // over the bins: a known emitter may share part of the band) from
        // the pre-trigger part to the incident.
        let bins_db = |x: &[Sample]| {
            band_bins_db(
                x,
                rate,
                433.92e6,
                incident.low_hz - bin,
                incident.high_hz + bin,
            )
        };
        let (before, during) = (
            bins_db(&samples[..truth_start - first]),
            bins_db(&samples[on]),
        );
        let mut rise: Vec<f64> = during.iter().zip(&before).map(|(d, b)| d - b).collect();
        rise.sort_by(f64::total_cmp);
        let median_rise = rise[rise.len() / 2];
        assert!(
            median_rise > 6.0,
            "{id}: the band's bins rise by only {median_rise:.1} dB (median) from before the incident to during it"
        );

        // The snippet's annotation, as any SigMF reader sees it, names the alert.
        let reader = open(&meta, &OpenOptions::default()).unwrap();
        let info = reader.info().clone();
        assert_eq!(info.total_samples, Some(samples.len() as u64));
        let ann = info
            .annotations
            .iter()
            .find(|a| a.kind() == e["kind"].as_str())
            .expect("annotation of the alert");
        assert_eq!(ann.extra["rfsentry:alert_id"], id);
        assert_eq!(
            first as u64 + ann.sample_start,
            e["start_sample"].as_u64().unwrap(),
            "{id}: the annotation starts where the alert does"
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
        cli::alert_events(out)
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
