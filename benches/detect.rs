//! Per-frame cost of each detector (clusters, wideband, the slow path, the
//! burst path, health) and of the whole detection engine, on
//! frames made from noise with a few signals, against a baseline learned from
//! noise. Reported in frames per second (and, at 1 MS/s with 50 ms frames,
//! one frame stands for 50 000 samples).
//!
//! `detect-wideband-rate` runs the whole engine on frames of a wideband
//! receiver (16.8 MS/s, FFT 1024: 819 FFT segments per 50 ms frame), quiet
//! and with a barrage jammer raising most of the band, reported in samples
//! per second of signal (criterion's `Melem/s` = MS/s): what the detect
//! thread can keep up with.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use num_complex::Complex32;
use rfsentry::detect::burst::BurstDetector;
use rfsentry::detect::clusters::find_clusters;
use rfsentry::detect::slow::SlowPath;
use rfsentry::detect::view::{FrameView, SegmentMasks};
use rfsentry::detect::wideband::WidebandDetector;
use rfsentry::detect::{health, DetectionEngine};
use rfsentry::dsp::{PsdConfig, PsdEngine, PsdFrame};
use rfsentry::profile::learn::Learner;
use rfsentry::profile::{CaptureSettings, Profile, Site, Thresholds};
use std::hint::black_box;

const RATE: f64 = 1e6;

fn frames(seconds: f64, tone: bool, seed: u64) -> Vec<PsdFrame> {
    let n = (seconds * RATE) as usize;
    let mut x = seed.wrapping_mul(0x9E3779B97F4A7C15) | 1;
    let samples: Vec<Complex32> = (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let a = ((x & 0xFFFF) as f32 / 65536.0 - 0.5) * 0.05;
            let b = (((x >> 16) & 0xFFFF) as f32 / 65536.0 - 0.5) * 0.05;
            let mut s = Complex32::new(a, b);
            if tone {
                s += Complex32::from_polar(0.05, 0.7 * i as f32);
            }
            s
        })
        .collect();
    let mut engine = PsdEngine::new(PsdConfig::default(), RATE, 100e6, 1.0).unwrap();
    let mut out = Vec::new();
    engine.push(0, &samples, |f| out.push(f));
    out
}

fn profile() -> Profile {
    let capture = CaptureSettings {
        sample_rate: RATE,
        psd: PsdConfig::default(),
        gain_db: None,
    };
    let mut learner = Learner::new(capture, Thresholds::default());
    for f in frames(4.0, false, 1) {
        learner.add(&f);
    }
    learner.finish(Site {
        name: "bench".into(),
        ..Default::default()
    })
}

fn detectors(c: &mut Criterion) {
    let profile = profile();
    // Three seconds: the slow path reports after two (its warm-up).
    let live = frames(3.0, true, 2);
    let seg = &profile.segments[0];
    let masks = SegmentMasks::new(&profile, seg);
    let mut group = c.benchmark_group("detect");
    group.sample_size(20);
    group.throughput(Throughput::Elements(live.len() as u64));
    group.bench_function("clusters", |b| {
        b.iter(|| {
            for f in &live {
                black_box(find_clusters(&FrameView::new(f, &profile, seg, &masks)));
            }
        })
    });
    group.bench_function("wideband", |b| {
        let mut w = WidebandDetector::default();
        b.iter(|| {
            for f in &live {
                black_box(w.detect(
                    &FrameView::new(f, &profile, seg, &masks),
                    &masks.open_bins,
                    0.0,
                ));
            }
        })
    });
    group.bench_function("slow", |b| {
        b.iter(|| {
            let mut slow = SlowPath::default();
            for f in &live {
                black_box(slow.detect(&FrameView::new(f, &profile, seg, &masks), &[], false));
            }
        })
    });
    group.bench_function("bursts", |b| {
        let mut bursts = BurstDetector::default();
        b.iter(|| {
            for f in &live {
                black_box(bursts.detect(
                    &FrameView::new(f, &profile, seg, &masks),
                    0.0,
                    &[],
                    &[],
                    &[],
                ));
            }
        })
    });
    group.bench_function("health", |b| {
        b.iter(|| {
            for f in &live {
                let v = FrameView::new(f, &profile, seg, &masks);
                black_box((health::overload(&v), health::signal_loss(&v)));
            }
        })
    });
    group.bench_function("engine", |b| {
        let mut engine = DetectionEngine::new(profile.clone());
        b.iter(|| {
            for f in &live {
                black_box(engine.detect(f));
            }
        })
    });
    group.finish();
}

/// Frames as a 16.8 MS/s receiver makes them (synthetic, straight in dB):
/// a -100 dBFS floor, a bursty known emitter (FFT segment powers 10 dB up
/// for 50 ms every 0.2 s) and, from frame `raise_from` on, a barrage 15 dB
/// above the floor over bins 200..800.
fn wideband_frames(count: u64, raise_from: u64, seed: u64) -> Vec<PsdFrame> {
    const BINS: usize = 1024;
    const FFTS: usize = 819;
    let rate = 16_777_216.0;
    let mut x = seed.wrapping_mul(0x9E3779B97F4A7C15) | 1;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x & 0xFFFF) as f32 / 65536.0
    };
    (0..count)
        .map(|i| {
            let raised = i >= raise_from;
            let mean: Vec<f32> = (0..BINS)
                .map(|b| {
                    let level = if raised && (200..800).contains(&b) {
                        -85.0
                    } else {
                        -100.0
                    };
                    level + rnd() - 0.5
                })
                .collect();
            let power = if raised { -60.0 } else { -70.0 };
            // Bursts: 819 of every 3277 segments (50 ms every 0.2 s).
            let burst = |k: usize| {
                let g = i as usize * FFTS + k;
                if g % 3277 < 819 {
                    10.0
                } else {
                    0.0
                }
            };
            PsdFrame {
                segment: 0,
                start_sample: i * (FFTS * BINS) as u64,
                sample_count: (FFTS * BINS) as u64,
                center_hz: 2.44e9,
                sample_rate: rate,
                max_dbfs: mean.iter().map(|v| v + 6.0).collect(),
                mean_dbfs: mean,
                fft_power_dbfs: (0..FFTS).map(|k| power + burst(k) + rnd()).collect(),
                clipped: 0,
                probe: Vec::new(),
            }
        })
        .collect()
}

fn wideband_rate(c: &mut Criterion) {
    let capture = CaptureSettings {
        sample_rate: 16_777_216.0,
        psd: PsdConfig::default(),
        gain_db: None,
    };
    let mut learner = Learner::new(capture, Thresholds::default());
    for f in wideband_frames(40, u64::MAX, 3) {
        learner.add(&f);
    }
    let profile = learner.finish(Site {
        name: "bench-wideband".into(),
        ..Default::default()
    });
    let mut group = c.benchmark_group("detect-wideband-rate");
    group.sample_size(10);
    for (label, raise_from) in [("quiet", u64::MAX), ("barrage", 0)] {
        let live = wideband_frames(20, raise_from, 4);
        let samples: u64 = live.iter().map(|f| f.sample_count).sum();
        group.throughput(Throughput::Elements(samples));
        group.bench_function(label, |b| {
            b.iter(|| {
                let mut engine = DetectionEngine::new(profile.clone());
                for f in &live {
                    black_box(engine.detect(f));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, detectors, wideband_rate);
criterion_main!(benches);
