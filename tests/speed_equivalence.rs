//! The fast paths change nothing: the batched PSD engine (eight segments per
//! kernel pass, AVX2 where the CPU has it, any block size) gives frames that
//! are bit for bit those of a plain one-segment-at-a-time Welch loop written
//! here from the definition, across FFT sizes, windows, overlaps, odd block
//! sizes, retunes and gaps; the whole pipeline does too on generated cf32 and
//! cu8 recordings, and a whole `analyze` run writes a byte-identical alert log
//! whatever the pipeline's block size.

use num_complex::Complex32;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rfsentry::dsp::psd::{to_db, DcMode};
use rfsentry::dsp::{PsdConfig, PsdEngine, PsdFrame, Window, PROBE_MAX_SAMPLES, PROBE_SEGMENTS};
use rfsentry::iq::{Datatype, Sample};
use rfsentry::pipeline::{for_each_frame, PipelineSettings};
use rfsentry::profile::learn::Learner;
use rfsentry::profile::{CaptureSettings, Profile, Site, Thresholds};
use rfsentry::source::file::FileSource;
use rfsentry::synth::Scenario;
use rfsentry::watch::{watch, SinkOptions, WatchConfig};
use rustfft::FftPlanner;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

const RATE: f64 = 1e6;
const CLIP: f32 = 0.999;

/// Every field of a frame, floats as their bits: equal means byte-identical.
fn bits(f: &PsdFrame) -> Vec<u64> {
    let mut out = vec![
        f.segment as u64,
        f.start_sample,
        f.sample_count,
        f.center_hz.to_bits(),
        f.sample_rate.to_bits(),
        f.clipped,
    ];
    out.push(f.probe.len() as u64);
    out.extend(
        f.probe
            .iter()
            .flat_map(|s| [s.re.to_bits() as u64, s.im.to_bits() as u64]),
    );
    for v in [&f.mean_dbfs, &f.max_dbfs, &f.fft_power_dbfs] {
        out.push(v.len() as u64);
        out.extend(v.iter().map(|x| x.to_bits() as u64));
    }
    out
}

fn assert_same(a: &[PsdFrame], b: &[PsdFrame], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: frame count");
    assert!(!a.is_empty(), "{what}: no frames");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(bits(x) == bits(y), "{what}: frame {i} differs");
    }
}

/// Noise, a tone, a few loud (clipped) samples and stretches of exact zeros.
fn signal(len: usize, seed: u64) -> Vec<Sample> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..len)
        .map(|i| {
            if (i / 5000) % 17 == 3 {
                return Sample::default();
            }
            let mut s = Complex32::new(rng.gen_range(-0.05..0.05), rng.gen_range(-0.05..0.05));
            s += Complex32::from_polar(0.3, 0.37 * i as f32);
            if rng.gen_ratio(1, 500) {
                s.re = if rng.gen() { 1.0 } else { -1.0 };
            }
            s
        })
        .collect()
}

/// The plain Welch loop: one segment at a time, windowed, transformed,
/// squared and summed in index order (the definition the engine must match).
fn reference(
    config: PsdConfig,
    segment: usize,
    center_hz: f64,
    start: u64,
    x: &[Sample],
) -> Vec<PsdFrame> {
    let n = config.fft_size;
    let hop = config.hop();
    let per_frame = config.ffts_per_frame(RATE);
    let fft = FftPlanner::<f32>::new().plan_fft_forward(n);
    let w = config.window.coefficients(n);
    let s1: f64 = w.iter().map(|&v| v as f64).sum();
    let s2: f64 = w.iter().map(|&v| (v as f64).powi(2)).sum();
    let tone_norm = (1.0 / (s1 * s1)) as f32;
    let power_norm = (1.0 / (n as f64 * s2)) as f32;
    let shifted = |power: &[f32], scale: f32| -> Vec<f32> {
        let half = n / 2;
        let mut lin: Vec<f32> = (0..n).map(|i| power[(i + n - half) % n] * scale).collect();
        if config.dc == DcMode::Interpolate && n >= 3 {
            lin[half] = 0.5 * (lin[half - 1] + lin[half + 1]);
        }
        lin.into_iter().map(to_db).collect()
    };
    let (mut acc, mut max) = (vec![0.0f32; n], vec![0.0f32; n]);
    let (mut powers, mut clipped, mut count) = (Vec::new(), 0u64, 0usize);
    let mut frame_start = 0usize;
    let mut frames = Vec::new();
    let mut seg = 0usize;
    let mut probe = Vec::new();
    let probe_stride = (per_frame / PROBE_SEGMENTS).max(1);
    let probe_max = (PROBE_MAX_SAMPLES / n).clamp(1, PROBE_SEGMENTS);
    while seg + n <= x.len() {
        if count % probe_stride == 0 && probe.len() < probe_max * n {
            probe.extend_from_slice(&x[seg..seg + n]);
        }
        let mut buf: Vec<Sample> = x[seg..seg + n].iter().zip(&w).map(|(s, w)| s * w).collect();
        clipped += x[seg..seg + hop]
            .iter()
            .filter(|s| s.re.abs() >= CLIP || s.im.abs() >= CLIP)
            .count() as u64;
        fft.process(&mut buf);
        let mut total = 0.0f32;
        for (i, v) in buf.iter().enumerate() {
            let p = v.norm_sqr();
            acc[i] += p;
            max[i] = max[i].max(p);
            total += p;
        }
        powers.push(to_db(total * power_norm));
        count += 1;
        seg += hop;
        if count == per_frame {
            frames.push(PsdFrame {
                segment,
                start_sample: start + frame_start as u64,
                sample_count: (count * hop) as u64,
                center_hz,
                sample_rate: RATE,
                mean_dbfs: shifted(&acc, tone_norm / count as f32),
                max_dbfs: shifted(&max, tone_norm),
                fft_power_dbfs: std::mem::take(&mut powers),
                clipped,
                probe: std::mem::take(&mut probe),
            });
            acc.iter_mut().for_each(|v| *v = 0.0);
            max.iter_mut().for_each(|v| *v = 0.0);
            clipped = 0;
            count = 0;
            frame_start = seg;
        }
    }
    frames
}

/// Feed `x` (starting at sample `start`) to `engine` in blocks of `block`.
fn feed(engine: &mut PsdEngine, start: u64, x: &[Sample], block: usize, out: &mut Vec<PsdFrame>) {
    for (i, chunk) in x.chunks(block).enumerate() {
        engine.push(start + (i * block) as u64, chunk, |f| out.push(f));
    }
}

fn config(fft_size: usize, overlap: f64, integration_s: f64) -> PsdConfig {
    PsdConfig {
        fft_size,
        overlap,
        integration_s,
        ..Default::default()
    }
}

#[test]
fn engine_matches_the_plain_loop_for_any_fft_size_overlap_and_block_size() {
    let x = signal(300_000, 1);
    // (FFT size, integration): batches of many small FFTs, a size that is not
    // a power of two, the default, the largest size batched by 8 (16384), and
    // segments too large to batch (one per pass: 32768, 65536; two frames
    // each in 300 000 samples).
    for (fft_size, integration_s) in [
        (16, 0.001),
        (100, 0.0123),
        (1024, 0.05),
        (16384, 0.1),
        (32768, 0.1),
        (65536, 0.15),
    ] {
        for overlap in [0.0, 0.5, 0.3, 0.75] {
            let cfg = config(fft_size, overlap, integration_s);
            let expected = reference(cfg, 0, 100e6, 0, &x);
            let blocks: &[usize] = if fft_size <= 100 {
                &[1, 7, 777, 65_536, 300_000]
            } else {
                &[777, 4097, 65_536, 300_000]
            };
            for &block in blocks {
                let mut engine = PsdEngine::new(cfg, RATE, 100e6, CLIP).unwrap();
                let mut got = Vec::new();
                feed(&mut engine, 0, &x, block, &mut got);
                let what = format!("fft {fft_size}, overlap {overlap}, block {block}");
                assert_same(&expected, &got, &what);
            }
        }
    }
}

#[test]
fn windows_and_dc_modes_match_the_plain_loop() {
    let x = signal(200_000, 2);
    for window in Window::ALL {
        for dc in [DcMode::Interpolate, DcMode::Keep] {
            let cfg = PsdConfig {
                window,
                dc,
                ..config(1024, 0.5, 0.02)
            };
            let expected = reference(cfg, 0, 100e6, 0, &x);
            let mut engine = PsdEngine::new(cfg, RATE, 100e6, CLIP).unwrap();
            let mut got = Vec::new();
            feed(&mut engine, 0, &x, 10_007, &mut got);
            assert_same(&expected, &got, &format!("{window:?} {dc:?}"));
        }
    }
}

#[test]
fn retunes_and_gaps_restart_exactly_like_fresh_streams() {
    let x = signal(400_000, 3);
    for overlap in [0.0, 0.5] {
        let cfg = config(1024, overlap, 0.02);
        // Run 1 at tuning 0 from sample 0; a gap; run 2 from sample 250 000;
        // a retune (no gap) at sample 330 000 to tuning 1.
        let (a, b, c) = (&x[..150_000], &x[250_000..330_000], &x[330_000..]);
        let mut expected = reference(cfg, 0, 100e6, 0, a);
        expected.extend(reference(cfg, 0, 100e6, 250_000, b));
        expected.extend(reference(cfg, 1, 101e6, 330_000, c));
        for block in [999, 8192, 65_536] {
            let mut engine = PsdEngine::new(cfg, RATE, 100e6, CLIP).unwrap();
            let mut got = Vec::new();
            feed(&mut engine, 0, a, block, &mut got);
            feed(&mut engine, 250_000, b, block, &mut got);
            engine.retune(1, 101e6);
            feed(&mut engine, 330_000, c, block, &mut got);
            assert_same(
                &expected,
                &got,
                &format!("overlap {overlap}, block {block}"),
            );
        }
    }
}

// ------------------------------------------------ whole pipeline and alert log

/// Generate `toml` (a scenario based on tests/scenarios/site.toml) as `datatype` into `dir`.
fn recording(dir: &Path, name: &str, toml: &str, datatype: Datatype) -> PathBuf {
    let scenarios = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let scenario = Scenario::from_toml_str(toml, &scenarios, name).unwrap();
    rfsentry::synth::generate(&scenario, &dir.join(name), datatype).unwrap()
}

const BASELINE: &str = "base = \"site.toml\"\nseed = 31\nduration_s = 2\n";
const INCIDENTS: &str = r#"
base = "site.toml"
seed = 32
duration_s = 3

[[events]]
kind = "jamming.tone"
start_s = 0.5
duration_s = 0.8
offset_hz = 100e3
level_db = 22

[[events]]
kind = "emitter.unknown"
modulation = "fsk"
start_s = 1.6
duration_s = 0.8
offset_hz = 350e3
bandwidth_hz = 12.5e3
level_db = 18
"#;

fn settings(psd: PsdConfig, block_len: usize) -> PipelineSettings {
    let mut s = PipelineSettings::new(psd);
    s.block_len = block_len;
    s
}

fn frames_of(path: &Path, settings: &PipelineSettings) -> Vec<PsdFrame> {
    let reader = rfsentry::iq::open(path, &Default::default()).unwrap();
    let mut frames = Vec::new();
    for_each_frame(
        Box::new(FileSource::new(reader)),
        settings,
        Arc::new(AtomicBool::new(false)),
        |f| frames.push(f),
        |_| {},
    )
    .unwrap();
    frames
}

fn learn(path: &Path, psd: PsdConfig) -> Profile {
    let capture = CaptureSettings {
        sample_rate: RATE,
        psd,
        gain_db: None,
    };
    let mut learner = Learner::new(capture, Thresholds::default());
    for f in frames_of(path, &PipelineSettings::new(psd)) {
        learner.add(&f);
    }
    learner.finish(Site {
        name: "speed".into(),
        ..Default::default()
    })
}

fn alert_log(path: &Path, profile: &Profile, settings: PipelineSettings, out: &Path) -> Vec<u8> {
    let reader = rfsentry::iq::open(path, &Default::default()).unwrap();
    let config = WatchConfig {
        profile: profile.clone(),
        out_dir: out.to_path_buf(),
        id_prefix: "speed-".into(),
        first_id: 1,
        fallback_start: chrono::DateTime::UNIX_EPOCH,
        sink: SinkOptions::default(),
        pipeline: settings,
    };
    watch(
        Box::new(FileSource::new(reader)),
        config,
        Arc::new(AtomicBool::new(false)),
        None,
    )
    .unwrap();
    // The events byte for byte (the chain's records hold run times).
    rfsentry::custody::chain::event_bodies(&std::fs::read(out.join("alerts.jsonl")).unwrap())
        .join(&b'\n')
}

#[test]
fn pipeline_frames_and_alert_logs_are_identical_for_any_block_size() {
    let dir = tempfile::tempdir().unwrap();
    for overlap in [0.0, 0.5] {
        let psd = config(1024, overlap, 0.05);
        let base = recording(dir.path(), "base", BASELINE, Datatype::CF32_LE);
        let profile = learn(&base, psd);
        for datatype in [Datatype::CF32_LE, Datatype::CU8] {
            let rec = recording(
                dir.path(),
                &format!("incidents-{datatype}"),
                INCIDENTS,
                datatype,
            );
            // The plain loop over the whole recording, read in one go.
            let mut reader = rfsentry::iq::open(&rec, &Default::default()).unwrap();
            let total = reader.info().total_samples.unwrap() as usize;
            let mut x = vec![Sample::default(); total];
            assert_eq!(reader.read(&mut x).unwrap().samples, total);
            let expected = reference(psd, 0, reader.info().center_hz(), 0, &x);

            let mut logs = Vec::new();
            for (i, block) in [1 << 16, 1 << 15, 4099, 1 << 18, 333]
                .into_iter()
                .enumerate()
            {
                let s = settings(psd, block);
                let what = format!("{datatype}, overlap {overlap}, block {block}");
                assert_same(&expected, &frames_of(&rec, &s), &what);
                let out = dir.path().join(format!("out-{datatype}-{overlap}-{i}"));
                logs.push((what, alert_log(&rec, &profile, s, &out)));
            }
            let (_, first) = &logs[0];
            assert!(
                String::from_utf8_lossy(first).contains("\"raised\""),
                "the incidents raise alerts"
            );
            for (what, log) in &logs[1..] {
                assert!(log == first, "{what}: the alert log differs");
            }
        }
    }
}
