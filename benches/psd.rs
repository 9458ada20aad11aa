//! PSD kernel throughput (window + FFT + |X|² + Welch average + max-hold) at
//! FFT sizes 256–65536, with and without 50 % overlap, in samples per second.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use num_complex::Complex32;
use rfsentry::dsp::{PsdConfig, PsdEngine};
use std::hint::black_box;

fn noise(n: usize) -> Vec<Complex32> {
    // A cheap deterministic pseudo-noise (LCG): the FFT cost does not depend on content.
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

fn psd_kernel(c: &mut Criterion) {
    let block = noise(1 << 20);
    let mut group = c.benchmark_group("psd");
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(3));
    group.throughput(Throughput::Elements(block.len() as u64));
    for overlap in [0.0, 0.5] {
        for fft_size in [256usize, 1024, 4096, 16384, 65536] {
            let config = PsdConfig {
                fft_size,
                overlap,
                integration_s: 0.05,
                ..Default::default()
            };
            let id = BenchmarkId::new(format!("overlap{}", (overlap * 100.0) as u32), fft_size);
            group.bench_with_input(id, &config, |b, config| {
                let mut engine = PsdEngine::new(*config, 20e6, 0.0, 1.0).unwrap();
                let mut start = 0u64;
                b.iter(|| {
                    let mut frames = 0;
                    engine.push(start, black_box(&block), |_| frames += 1);
                    start += block.len() as u64;
                    black_box(frames)
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, psd_kernel);
criterion_main!(benches);
