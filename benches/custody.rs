//! What the chain of custody costs a sensor, against the monitoring it
//! rides on: one second of a 20 MS/s receiver through the PSD engine (FFT
//! 1024, 50 ms frames) versus the chain's work in a heavy second of alerts.
//!
//! - `custody/serialize-event`: an `updated` alert event serialised, as the
//!   log did before the chain (for reference: not the chain's cost);
//! - `custody/seal-event`: sealing that line (SHA-256 of it for the next
//!   line's `prev`, `seq`, `prev` appended);
//! - `custody/seal-sign-head`: a head sealed and signed (Ed25519);
//! - `custody/bind-png`: hashing a 250 kB spectrogram to bind it;
//! - `custody/busy-second`: what a busy second asks of the chain — 23 lines
//!   sealed (20 alerts updating, one raised, one cleared, one evidence
//!   record), one signed head (after the `cleared`) and one picture bound;
//!   the periodic head (one a minute) is left out, being far smaller;
//! - `monitor-20MSps/psd-1s`: the PSD of 20 M samples, the least of what
//!   monitoring does with that second (detection, the sink, I/O come on top).
//!
//! The chain's share is `busy-second / psd-1s` (README, "Chain of custody").

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use num_complex::Complex32;
use rfsentry::alert::{AlertEvent, AlertKind, EventType, EvidencePaths};
use rfsentry::custody::chain::{sha256, Chain};
use rfsentry::custody::record::{Head, Record};
use rfsentry::custody::SensorKey;
use rfsentry::dsp::{PsdConfig, PsdEngine};
use std::hint::black_box;

fn event() -> AlertEvent {
    let mut details = serde_json::Map::new();
    details.insert("width_bins".into(), 3.into());
    AlertEvent {
        id: "venue-20261204T120000Z-0042".into(),
        event: EventType::Updated,
        kind: AlertKind::EmitterUnknown,
        site: "venue".into(),
        recording: "device \"driver=rtlsdr,serial=00000001\"".into(),
        start: "2026-12-04T12:00:00.786Z".into(),
        end: "2026-12-04T12:00:05.081Z".into(),
        start_sample: 196_608,
        end_sample: 270_336,
        freq_low_hz: 433_939_653.3,
        freq_high_hz: 433_941_362.3,
        center_hz: 433_940_507.8,
        peak_dbfs: -37.8,
        peak_dbm: None,
        excess_db: 18.5,
        snr_db: 20.8,
        confidence: 0.99,
        evidence: EvidencePaths {
            iq: Some("iq/venue-20261204T120000Z-0042.sigmf-meta".into()),
            ..Default::default()
        },
        details,
    }
}

fn head() -> Vec<u8> {
    Record::Head(Head {
        at: "2026-12-04T12:00:05.081Z".into(),
        lines: 1234,
    })
    .to_body()
}

fn noise(n: usize) -> Vec<Complex32> {
    let mut x = 0x2545F4914F6CDD1Du64;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let a = ((x >> 40) as f32 / (1u64 << 24) as f32) - 0.5;
            let b = ((x >> 16 & 0xFF_FFFF) as f32 / (1u64 << 24) as f32) - 0.5;
            Complex32::new(a, b)
        })
        .collect()
}

fn custody(c: &mut Criterion) {
    let key = SensorKey::from_seed(&[9; 32]);
    let event = event();
    let head = head();
    let png: Vec<u8> = (0..250_000u32)
        .map(|i| ((i * 2_654_435_761) >> 24) as u8)
        .collect();
    let mut group = c.benchmark_group("custody");
    let mut chain = Chain::after(1000, [7; 32]);
    let mut line = Vec::with_capacity(1024);
    let mut body = Vec::with_capacity(1024);
    group.bench_function("serialize-event", |b| {
        b.iter(|| {
            body.clear();
            serde_json::to_writer(&mut body, black_box(&event)).unwrap();
            black_box(body.len())
        })
    });
    body.clear();
    serde_json::to_writer(&mut body, &event).unwrap();
    group.bench_function("seal-event", |b| {
        b.iter(|| {
            line.clear();
            chain.seal(black_box(&body), None, &mut line);
            black_box(line.len())
        })
    });
    group.bench_function("seal-sign-head", |b| {
        b.iter(|| {
            line.clear();
            chain.seal(black_box(&head), Some(&key), &mut line);
            black_box(line.len())
        })
    });
    group.bench_function("bind-png", |b| {
        b.iter(|| black_box(sha256(black_box(&png))))
    });
    group.bench_function("busy-second", |b| {
        b.iter(|| {
            for _ in 0..23 {
                line.clear();
                chain.seal(black_box(&body), None, &mut line);
            }
            line.clear();
            chain.seal(&head, Some(&key), &mut line);
            black_box(sha256(black_box(&png)));
            black_box(line.len())
        })
    });
    group.finish();
}

fn monitoring(c: &mut Criterion) {
    let block = noise(1 << 20);
    let rate = 20e6;
    let blocks = (rate as usize).div_ceil(block.len()); // 20 M samples
    let mut group = c.benchmark_group("monitor-20MSps");
    group.sample_size(10);
    group.throughput(Throughput::Elements((blocks * block.len()) as u64));
    let config = PsdConfig {
        fft_size: 1024,
        integration_s: 0.05,
        ..Default::default()
    };
    let mut engine = PsdEngine::new(config, rate, 0.0, 1.0).unwrap();
    let mut start = 0u64;
    group.bench_function("psd-1s", |b| {
        b.iter(|| {
            let mut frames = 0;
            for _ in 0..blocks {
                engine.push(start, black_box(&block), |_| frames += 1);
                start += block.len() as u64;
            }
            black_box(frames)
        })
    });
    group.finish();
}

criterion_group!(benches, custody, monitoring);
criterion_main!(benches);
