//! Per-frame cost of each detector and of the whole detection engine, on
//! frames made from noise with a few signals, against a baseline learned from
//! noise. Reported in frames per second (and, at 1 MS/s with 50 ms frames,
//! one frame stands for 50 000 samples).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use num_complex::Complex32;
use rfsentry::detect::clusters::find_clusters;
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
    let live = frames(1.0, true, 2);
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
                black_box(w.detect(&FrameView::new(f, &profile, seg, &masks)));
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

criterion_group!(benches, detectors);
criterion_main!(benches);
