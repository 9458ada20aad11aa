//! Real IQ captured by others (`../shared/recordings/urh`, see its
//! CATALOG.md): real ISM remote controls, sockets and sensors. A site learned
//! from the first half of a capture makes no alert on its second half; a site
//! learned from a quiet stretch finds the real bursts after it as unknown
//! emitters, at the frequency the bursts really have (measured here, by an
//! FFT of the burst samples, independently of rfsentry). Learning and
//! analysis never see the same samples: the part analysed is copied into a
//! temporary file. The recordings are read in place, never copied into the
//! repository.

use crate::util::cli;

use num_complex::Complex32;
use rustfft::FftPlanner;
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
    cli::alert_events(out)
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

/// Bytes per sample of a URH raw file, by extension.
fn sample_bytes(file: &str) -> usize {
    match file.rsplit('.').next() {
        Some("complex16s") | Some("complex16u") => 2,
        Some("complex32s") => 4,
        Some("complex") => 8,
        other => panic!("{file}: unknown URH extension {other:?}"),
    }
}

/// Copy the samples of `recording` from `from` on (to the end) into a new
/// file of the same format in `dir`.
fn tail_of(dir: &Path, recording: &Path, from: u64) -> PathBuf {
    let name = recording.file_name().unwrap().to_str().unwrap();
    let bytes = std::fs::read(recording).unwrap();
    let start = (from as usize * sample_bytes(name)).min(bytes.len());
    let out = dir.join(format!("tail-{name}"));
    std::fs::write(&out, &bytes[start..]).unwrap();
    out
}

/// Samples in a URH raw file.
fn samples_in(recording: &Path) -> u64 {
    let name = recording.file_name().unwrap().to_str().unwrap();
    std::fs::metadata(recording).unwrap().len() / sample_bytes(name) as u64
}

const RAW: [&str; 4] = ["--rate", "1M", "--freq", "433.92M"];

/// Learn `site` from `learn_from` (with `learn_flags`), analyse `analyse`
/// against it, and return the alert events.
fn learn_then_analyze(
    dir: &Path,
    site: &str,
    learn_from: &Path,
    learn_flags: &[&str],
    analyse: &Path,
) -> Vec<Value> {
    let profiles = dir.join("profiles");
    let mut learn = vec!["learn", "--site", site, "--profile-dir", cli::s(&profiles)];
    learn.extend(learn_flags);
    learn.extend(RAW);
    learn.push(cli::s(learn_from));
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
    analyze.extend(RAW);
    analyze.push(cli::s(analyse));
    cli::ok(&analyze);
    alerts(&out)
}

#[test]
fn a_site_learned_from_the_first_half_raises_nothing_on_the_second() {
    let urh = urh_dir();
    let dir = tempfile::tempdir().unwrap();
    for (file, integration) in CAPTURES {
        let site = file.replace('.', "-");
        let recording = urh.join(file);
        let half = samples_in(&recording) / 2;
        let second_half = tail_of(dir.path(), &recording, half);
        let learn_s = format!("{}", half as f64 / 1e6);
        let found = learn_then_analyze(
            dir.path(),
            &site,
            &recording,
            &["--integration", integration, "--duration", &learn_s],
            &second_half,
        );
        assert!(found.is_empty(), "{file}: {found:#?}");
    }
}

/// A signed 8-bit (cs8, `.complex16s`) capture as complex samples.
fn read_cs8(path: &Path) -> Vec<Complex32> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(2)
        .map(|p| Complex32::new(p[0] as i8 as f32, p[1] as i8 as f32))
        .collect()
}

/// Where the bursts of `x` are (Hz offsets at 1 MS/s): their strongest line
/// and their spectral centroid (power-weighted mean frequency of the bins
/// within 20 dB of that line), from the 1 ms stretches more than 10 dB over
/// the 10th-percentile floor, averaged through an 8192-point FFT (122 Hz bins).
fn burst_spectrum_hz(x: &[Complex32]) -> (f64, f64) {
    const MS: usize = 1000;
    const N: usize = 8192;
    let energy: Vec<f32> = x
        .chunks_exact(MS)
        .map(|c| c.iter().map(|s| s.norm_sqr()).sum())
        .collect();
    let mut sorted = energy.clone();
    sorted.sort_by(f32::total_cmp);
    let floor = sorted[sorted.len() / 10].max(1e-9);
    let burst: Vec<Complex32> = x
        .chunks_exact(MS)
        .zip(&energy)
        .filter(|(_, &e)| e > 10.0 * floor)
        .flat_map(|(c, _)| c.iter().copied())
        .collect();
    assert!(burst.len() >= N, "too few burst samples: {}", burst.len());
    let fft = FftPlanner::<f32>::new().plan_fft_forward(N);
    let mut power = vec![0f64; N];
    for chunk in burst.chunks_exact(N) {
        let mut buf = chunk.to_vec();
        fft.process(&mut buf);
        for (p, v) in power.iter_mut().zip(&buf) {
            *p += v.norm_sqr() as f64;
        }
    }
    // Bin k is frequency k (k < N/2) or k - N (negative frequencies).
    let hz = |k: usize| {
        (if k < N / 2 {
            k as f64
        } else {
            k as f64 - N as f64
        }) * 1e6
            / N as f64
    };
    let k = (0..N)
        .max_by(|&a, &b| power[a].total_cmp(&power[b]))
        .unwrap();
    let strong = (0..N).filter(|&j| power[j] >= power[k] / 100.0);
    let (sum, weighted) = strong.fold((0.0, 0.0), |(s, w), j| (s + power[j], w + power[j] * hz(j)));
    (hz(k), weighted / sum)
}

/// Learn a site from the quiet stretch (`quiet_s` seconds) at the start of
/// `file`, analyse the rest, and check the bursts there are found at their
/// own frequency.
fn bursts_are_found_at_their_own_frequency(file: &str, quiet_s: &str) {
    let urh = urh_dir();
    let dir = tempfile::tempdir().unwrap();
    let site = file.replace('.', "-");
    let recording = urh.join(file);
    let quiet: f64 = quiet_s.parse().unwrap();
    let quiet_samples = (quiet * 1e6) as u64;
    let rest = tail_of(dir.path(), &recording, quiet_samples);
    let found = learn_then_analyze(
        dir.path(),
        &site,
        &recording,
        &["--integration", "0.005", "--duration", quiet_s],
        &rest,
    );
    let raised: Vec<&Value> = found.iter().filter(|a| a["event"] == "raised").collect();
    assert!(!raised.is_empty(), "{file}: its bursts were not found");
    for a in &raised {
        assert_eq!(a["kind"], "emitter.unknown", "{file}: {a:#}");
    }
    let (peak, centroid) = burst_spectrum_hz(&read_cs8(&rest));
    let (carrier, truth) = (433.92e6 + peak, 433.92e6 + centroid);
    // The bursts are the strongest alert (an 8-bit capture of a 39 dB
    // burst also shows weaker spurs, which may raise alerts of their own).
    let f = |a: &Value, key: &str| a[key].as_f64().unwrap();
    let strongest = raised
        .iter()
        .max_by(|a, b| f(a, "peak_dbfs").total_cmp(&f(b, "peak_dbfs")))
        .unwrap();
    let id = strongest["id"].as_str().unwrap();
    // Raised with a band that holds the bursts' carrier…
    assert!(
        (f(strongest, "freq_low_hz")..=f(strongest, "freq_high_hz")).contains(&carrier),
        "{file}: {id} raised over {}..{} Hz; the bursts' carrier is at {carrier} Hz",
        f(strongest, "freq_low_hz"),
        f(strongest, "freq_high_hz")
    );
    // …and its last event puts its centre on the bursts' centroid within
    // 3 kHz (three bins of the FFT 1024 at 1 MS/s).
    let last = found.iter().rev().find(|a| a["id"] == id).unwrap();
    let centre = f(last, "center_hz");
    assert!(
        (centre - truth).abs() < 3e3,
        "{file}: {id} ends centred at {centre} Hz; the bursts' centroid is {truth} Hz (carrier {carrier} Hz)"
    );
    // The first alert starts where the first burst does, right at the
    // start of the analysed part (the quiet stretch is not in it).
    let first = raised[0]["start_sample"].as_u64().unwrap();
    assert!(first < 50_000, "{file}: first alert at sample {first}");
}

// Each capture starts with a quiet stretch (measured: 10 ms energies within
// 3 dB of the floor) before its first burst: the site is learned from that
// stretch and the rest of the capture is analysed.

/// The remote's key-on splatter, seen as neighbouring emitters of its
/// width and power, is merged into its alert (as a hopper's channels are),
/// widening the band to 433.774–434.103 MHz; the alert is still centred on
/// the bursts, at the power centroid of what it absorbed.
#[test]
fn real_remote_control_bursts_are_found_at_their_own_frequency() {
    bursts_are_found_at_their_own_frequency("elektromaten.complex16s", "0.03");
}

/// The PWM remote's bursts (carrier 434.163 MHz, 44 dB over the floor of
/// an 8-bit capture) are found at their own frequency, not at the middle of
/// whatever band their alert spans.
#[test]
fn real_pwm_bursts_are_found_at_their_own_frequency() {
    bursts_are_found_at_their_own_frequency("pwm.complex16s", "0.04");
}
