//! The real-site features of `synth`, measured on rendered samples (through
//! [`Stream`], no file): frequency hoppers, short rogue bursts, creeping
//! jammers, emitters moved off their channel, drifting emitters, push-to-talk
//! radios; and the example real-site scenario files.

use rfsentry::iq::{Annotation, Sample};
use rfsentry::synth::drift::Wander;
use rfsentry::synth::{annotations, FrequencyDrift, Scenario, Stream};
use rustfft::FftPlanner;
use std::f64::consts::TAU;
use std::path::Path;

/// A scenario from TOML text (no base).
fn scenario(text: &str) -> Scenario {
    Scenario::from_toml_str(text, Path::new("."), "test.toml").unwrap()
}

/// Every sample of `scenario`, streamed in odd-sized blocks.
fn render(scenario: &Scenario) -> Vec<Sample> {
    let mut stream = Stream::new(scenario).unwrap();
    let mut out = Vec::with_capacity(stream.total_samples() as usize);
    let mut block = vec![Sample::default(); 40_009];
    loop {
        let n = stream.next_block(&mut block);
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&block[..n]);
    }
}

fn mean_power(x: &[Sample]) -> f64 {
    x.iter().map(|s| s.norm_sqr() as f64).sum::<f64>() / x.len() as f64
}

fn only_annotation(scenario: &Scenario) -> Annotation {
    let mut all = annotations(scenario).unwrap();
    assert_eq!(all.len(), 1);
    all.remove(0)
}

/// Power of `x` in `[low_hz, high_hz]` (offsets), from an averaged 1024-point periodogram.
fn band_power(x: &[Sample], rate: f64, low_hz: f64, high_hz: f64) -> f64 {
    let n = 1024;
    let fft = FftPlanner::new().plan_fft_forward(n);
    let mut psd = vec![0f64; n];
    let segments = x.chunks_exact(n);
    let count = segments.len() as f64;
    for segment in segments {
        let mut buf = segment.to_vec();
        fft.process(&mut buf);
        for (p, b) in psd.iter_mut().zip(&buf) {
            *p += b.norm_sqr() as f64 / (n * n) as f64 / count;
        }
    }
    psd.iter()
        .enumerate()
        .filter(|(k, _)| {
            let k = *k as f64;
            let f = if k < n as f64 / 2.0 { k } else { k - n as f64 } * rate / n as f64;
            (low_hz..=high_hz).contains(&f)
        })
        .map(|(_, p)| p)
        .sum()
}

/// Instantaneous frequency between consecutive samples, in Hz.
fn frequencies(x: &[Sample], rate: f64) -> Vec<f64> {
    x.windows(2)
        .map(|w| (w[1] * w[0].conj()).arg() as f64 / TAU * rate)
        .collect()
}

/// Runs of `on` chunks: (first chunk, length in chunks).
fn runs(on: &[bool]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut start = None;
    for (i, &v) in on.iter().chain([false].iter()).enumerate() {
        match (start, v) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                runs.push((s, i - s));
                start = None;
            }
            _ => {}
        }
    }
    runs
}

const HOPPER: &str = r#"
seed = 3
sample_rate = 1e6
center_hz = 868.3e6
duration_s = 1.0
noise_dbfs = -60

[[events]]
kind = "emitter.unknown"
modulation = "noise"
bandwidth_hz = 10e3
offset_hz = 0
level_db = 40
hop_channels = 20
hop_spacing_hz = 25e3
dwell_s = 0.03
start_s = 0.1
duration_s = 0.6
"#;

#[test]
fn a_hopper_sits_on_one_channel_per_dwell_and_is_annotated_over_its_hop_set() {
    let s = scenario(HOPPER);
    let x = render(&s);
    let rate = 1e6;
    let channel = |c: usize| -237.5e3 + 25e3 * c as f64;
    let mut visited = std::collections::BTreeSet::new();
    for dwell in 0..20 {
        let start = 100_000 + 30_000 * dwell;
        let middle = &x[start + 5_000..start + 25_000];
        let total = mean_power(middle);
        let (best, power) = (0..20)
            // ±6 kHz: the 10 kHz channel plus the FFT bins its edges fall in.
            .map(|c| {
                (
                    c,
                    band_power(middle, rate, channel(c) - 6e3, channel(c) + 6e3),
                )
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        assert!(power / total > 0.9, "dwell {dwell}: {}", power / total);
        visited.insert(best);
    }
    assert!(visited.len() >= 8, "{visited:?}");
    // Silent before and after.
    let noise = 1e-6;
    assert!((mean_power(&x[..100_000]) / noise - 1.0).abs() < 0.05);
    assert!((mean_power(&x[700_000..]) / noise - 1.0).abs() < 0.05);
    let a = only_annotation(&s);
    assert_eq!(a.freq_lower_edge, Some(868.3e6 - 242.5e3));
    assert_eq!(a.freq_upper_edge, Some(868.3e6 + 242.5e3));
    assert_eq!((a.sample_start, a.sample_count), (100_000, Some(600_000)));
    assert_eq!(a.kind(), Some("emitter.unknown"));
}

const SHORT_BURSTS: &str = r#"
seed = 4
sample_rate = 100e3
center_hz = 433.92e6
duration_s = 10.0
noise_dbfs = -60

[[events]]
kind = "emitter.unknown"
modulation = "fsk"
bandwidth_hz = 10e3
offset_hz = 20e3
level_db = 30
burst_s = 0.005
period_s = 0.5
jitter = 0.2
start_s = 1.0
duration_s = 8.0
"#;

#[test]
fn short_rogue_bursts_have_their_length_period_and_jitter_and_are_annotated_first_to_last() {
    let s = scenario(SHORT_BURSTS);
    let x = render(&s);
    // 0.1 ms chunks; the bursts stand 20 dB over the whole floor.
    let on: Vec<bool> = x.chunks(10).map(|c| mean_power(c) > 1e-5).collect();
    let bursts = runs(&on);
    assert!((14..=19).contains(&bursts.len()), "{}", bursts.len());
    assert_eq!(bursts[0].0, 10_000, "the first burst starts the event");
    assert!(
        bursts.iter().all(|b| (49..=51).contains(&b.1)),
        "{bursts:?}"
    );
    let gaps: Vec<f64> = bursts
        .windows(2)
        .map(|w| (w[1].0 - w[0].0) as f64 * 1e-4)
        .collect();
    assert!(gaps.iter().all(|g| (0.399..=0.601).contains(g)), "{gaps:?}");
    assert!(
        gaps.iter().any(|g| (g - 0.5).abs() > 0.05),
        "no jitter: {gaps:?}"
    );
    let a = only_annotation(&s);
    let last = bursts.last().unwrap();
    assert_eq!(a.sample_start, 100_000);
    let end = a.sample_start + a.sample_count.unwrap();
    assert!(
        end.abs_diff(((last.0 + last.1) * 10) as u64) <= 10,
        "{end} {last:?}"
    );
    assert!(
        a.label
            .as_deref()
            .unwrap()
            .ends_with("0.005 s bursts every 0.5 s"),
        "{:?}",
        a.label
    );
}

const CREEPING: &str = r#"
seed = 5
sample_rate = 100e3
center_hz = 433.92e6
duration_s = 4.0
noise_dbfs = -40

[[events]]
kind = "jamming.barrage"
low_offset_hz = -20e3
high_offset_hz = 20e3
level_db = 20
creep_db_per_s = 10
start_s = 0.5
duration_s = 3.0
"#;

#[test]
fn a_creeping_jammer_rises_at_its_rate_and_is_annotated_from_the_floor_crossing() {
    let s = scenario(CREEPING);
    let x = render(&s);
    let noise = 1e-4;
    // The jammer holds 40 % of the band: its level over the floor density.
    let level = |chunk: &[Sample]| 10.0 * ((mean_power(chunk) / noise - 1.0) / 0.4).log10();
    let mut checked = 0;
    for (k, chunk) in x.chunks(10_000).enumerate() {
        let middle = (k as f64 + 0.5) * 0.1;
        if middle < 0.5 {
            assert!((mean_power(chunk) / noise - 1.0).abs() < 0.03);
            continue;
        }
        let expected = 20.0 - 10.0 * (3.5 - middle);
        if middle > 3.5 {
            assert!((mean_power(chunk) / noise - 1.0).abs() < 0.03);
        } else if expected >= 0.0 {
            let got = level(chunk);
            assert!(
                (got - expected).abs() < 0.3,
                "{middle} s: {got} vs {expected}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 20);
    let a = only_annotation(&s);
    // 20 dB at 10 dB/s: it crosses the floor 2 s before its end, at 1.5 s.
    assert_eq!(a.sample_start, 150_000);
    assert_eq!(a.sample_count, Some(200_000));
    assert_eq!(a.excess_db(), Some(20.0));
    assert!(a.label.as_deref().unwrap().contains("creeping 10 dB/s"));
}

const MOVED: &str = r#"
seed = 6
sample_rate = 250e3
center_hz = 433.92e6
duration_s = 3.0
noise_dbfs = -50

[[emitters]]
name = "radio"
type = "nbfm"
offset_hz = 50e3
deviation_hz = 5e3
level_db = 30

[[events]]
kind = "emitter.anomalous"
emitter = "radio"
extra_db = 0
shift_hz = 30e3
start_s = 1.0
duration_s = 1.0
"#;

#[test]
fn an_emitter_moved_off_its_channel_leaves_it_and_is_annotated_where_it_went() {
    let s = scenario(MOVED);
    let x = render(&s);
    let home = |x: &[Sample]| band_power(x, 250e3, 40e3, 60e3) / mean_power(x);
    let away = |x: &[Sample]| band_power(x, 250e3, 70e3, 90e3) / mean_power(x);
    let (before, during, after) = (&x[..250_000], &x[250_000..500_000], &x[500_000..]);
    assert!(home(before) > 0.9 && away(before) < 0.01);
    assert!(home(during) < 0.01 && away(during) > 0.9);
    assert!(home(after) > 0.9 && away(after) < 0.01);
    let a = only_annotation(&s);
    // NBFM of 5 kHz deviation occupies 2 × (5 + 3) kHz (Carson).
    assert_eq!(a.freq_lower_edge, Some(433.92e6 + 80e3 - 8e3));
    assert_eq!(a.freq_upper_edge, Some(433.92e6 + 80e3 + 8e3));
    assert!(a.label.as_deref().unwrap().ends_with("moved +30 kHz"));
}

/// A scenario of one drifting emitter (`kind_keys` after its type).
fn drifting(kind_keys: &str) -> Scenario {
    scenario(&format!(
        r#"
seed = 7
sample_rate = 100e3
center_hz = 433.92e6
duration_s = 4.0
noise_dbfs = -90

[[emitters]]
name = "wanderer"
offset_hz = 10e3
level_db = 100
drift_hz = 1000
drift_period_s = 2
{kind_keys}
"#
    ))
}

/// The drift expected at sample `n`, in Hz.
fn expected_drift(n: usize) -> f64 {
    let drift = FrequencyDrift {
        depth_hz: 1000.0,
        period_s: 2.0,
    };
    Wander::of_emitter(7, "wanderer", 100e3, drift).offset_hz(n as u64, 100e3)
}

#[test]
fn drifting_carriers_wander_by_their_depth_with_continuous_phase() {
    let x = render(&drifting("type = \"carrier\""));
    let f = frequencies(&x, 100e3);
    // Phase continuous: no jump between consecutive samples anywhere (a phase
    // step of 1 % of a cycle would show as a 1 kHz spike; the floor's own
    // jitter is ~10 Hz).
    let worst = f
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0f64, f64::max);
    assert!(worst < 150.0, "{worst} Hz");
    let (mut low, mut high) = (f64::MAX, f64::MIN);
    for start in (0..f.len() - 1000).step_by(5000) {
        let mean = f[start..start + 1000].iter().sum::<f64>() / 1000.0;
        let expected = 10e3 + expected_drift(start + 500);
        assert!(
            (mean - expected).abs() < 10.0,
            "{start}: {mean} vs {expected}"
        );
        (low, high) = (low.min(mean), high.max(mean));
    }
    assert!(
        (low - 9e3).abs() < 20.0 && (high - 11e3).abs() < 20.0,
        "{low}–{high}"
    );
}

#[test]
fn drifting_fm_and_burst_emitters_follow_the_same_wander() {
    for (kind, window) in [
        ("type = \"nbfm\"\ndeviation_hz = 2000", 20_000),
        (
            "type = \"burst\"\nmodulation = \"fsk\"\ndeviation_hz = 2000\nbitrate = 10000\nperiod_s = 0.4\nburst_s = 0.2",
            0,
        ),
    ] {
        let x = render(&drifting(kind));
        let f = frequencies(&x, 100e3);
        // Averaging windows: fixed ones for FM, each burst for the sensor.
        let windows: Vec<(usize, usize)> = if window > 0 {
            (0..f.len() - window).step_by(window).map(|s| (s, window)).collect()
        } else {
            let on: Vec<bool> = x.chunks(100).map(|c| mean_power(c) > 1e-4).collect();
            runs(&on)
                .into_iter()
                .map(|(s, n)| (s * 100 + 200, n * 100 - 400))
                .collect()
        };
        assert!(windows.len() >= 9, "{kind}");
        let mut spread = (f64::MAX, f64::MIN);
        for (start, len) in windows {
            let mean = f[start..start + len].iter().sum::<f64>() / len as f64;
            let expected = 10e3 + expected_drift(start + len / 2);
            assert!((mean - expected).abs() < 150.0, "{kind} at {start}: {mean} vs {expected}");
            spread = (spread.0.min(mean), spread.1.max(mean));
        }
        assert!(spread.1 - spread.0 > 1200.0, "{kind}: {spread:?}");
    }
}

const PTT: &str = r#"
seed = 8
sample_rate = 20e3
center_hz = 433.92e6
duration_s = 60.0
noise_dbfs = -60

[[emitters]]
name = "walkie"
type = "ptt"
offset_hz = 2e3
deviation_hz = 2500
level_db = 30
key_s = [0.2, 0.8]
idle_s = [0.5, 4.0]
"#;

#[test]
fn a_push_to_talk_radio_talks_in_random_spells_and_is_not_annotated() {
    let s = scenario(PTT);
    assert!(annotations(&s).unwrap().is_empty());
    let x = render(&s);
    // 10 ms chunks.
    let on: Vec<bool> = x.chunks(200).map(|c| mean_power(c) > 1e-5).collect();
    let spells = runs(&on);
    assert!(spells.len() >= 12, "{}", spells.len());
    assert!(!on[0], "it starts silent");
    for (start, len) in &spells[..spells.len() - 1] {
        assert!((19..=81).contains(len), "spell at {start}: {len}");
    }
    for w in spells.windows(2) {
        let idle = w[1].0 - w[0].0 - w[0].1;
        assert!((49..=401).contains(&idle), "{idle}");
    }
    let fraction = on.iter().filter(|&&b| b).count() as f64 / on.len() as f64;
    assert!((0.08..=0.35).contains(&fraction), "{fraction}");
}

fn real_scenario(name: &str) -> Scenario {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    Scenario::load(&dir.join(name)).unwrap()
}

#[test]
fn the_real_site_files_stage_an_impaired_receiver_and_normal_traffic_only() {
    for (name, seed, duration_s) in [
        ("real-baseline.toml", 300, 60.0),
        ("real-quiet.toml", 400, 300.0),
    ] {
        let s = real_scenario(name);
        assert_eq!(
            (s.seed, s.duration_s, s.sample_rate),
            (seed, duration_s, 1e6)
        );
        assert_eq!(s.datatype, rfsentry::iq::Datatype::CU8);
        assert_eq!(s.receiver.dc_spike_db, Some(15.0));
        assert_eq!(s.receiver.iq_image_dbc, Some(-30.0));
        assert_eq!(s.receiver.gain_drift.map(|d| d.period_s), Some(240.0));
        let names: Vec<&str> = s.emitters.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["beacon", "voice", "meter", "door", "walkie"]);
        assert!(annotations(&s).unwrap().is_empty());
    }
    // Its first 0.5 s through the 8-bit writer: a floor of ~5 LSB per
    // component (≈ 128 counts² of power) under a 15 dB DC spike.
    let s = real_scenario("real-baseline.toml");
    let mut stream = Stream::new(&s).unwrap();
    let mut x = vec![Sample::default(); 500_000];
    assert_eq!(stream.next_block(&mut x), x.len());
    let mut bytes = Vec::new();
    rfsentry::iq::Datatype::CU8.encode(&x, &mut bytes);
    let mut decoded = vec![Sample::default(); x.len()];
    rfsentry::iq::Datatype::CU8.decode(&bytes, &mut decoded);
    let quiet_floor = band_power(&decoded, 1e6, -60e3, -10e3) / 50e3 * 1e6;
    let sigma_lsb = (quiet_floor / 2.0).sqrt() * 127.5;
    assert!((4.0..6.5).contains(&sigma_lsb), "{sigma_lsb} LSB");
    let bin = 1e6 / 1024.0;
    let dc = band_power(&decoded, 1e6, -bin / 2.0, bin / 2.0) / (quiet_floor * bin / 1e6);
    let dc_db = 10.0 * dc.log10();
    assert!((13.5..17.5).contains(&dc_db), "{dc_db} dB");
}
