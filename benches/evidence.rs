//! Throughput of writing IQ evidence, in samples per second: a SigMF
//! snippet written block by block through `SigmfWriter` (encode, SHA-512 on
//! its own thread, write to a file in the page cache, sync, rename), as the
//! sink does for every alert — cf32_le (a float recording or a device) and
//! cu8 (an RTL-SDR recording, kept in its own encoding).
//!
//! And the evidence work done for every PSD frame of a run whether or not
//! any alert comes (`evidence-per-frame`): the recording overview's
//! accumulation (`Overview::push_frame`, steady state with its rows full, so
//! each frame merges) and the alert pictures' recent history
//! (`SpectrogramRecorder::push_frame`), at FFT 1024 and 65536; and the
//! overview's one-off drawing and PNG encoding at the end of a run
//! (`evidence-overview/render`).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rfsentry::dsp::PsdFrame;
use rfsentry::evidence::{
    render_overview_png, CaptureLimits, Overview, OverviewPicture, SpectrogramRecorder,
};
use rfsentry::iq::{Datatype, Sample, SigmfWriter};
use std::time::Duration;

/// Samples per snippet (32 MiB as cf32).
const SNIPPET_SAMPLES: usize = 1 << 22;
/// Samples per `write` call: a pipeline block.
const BLOCK: usize = 1 << 15;

fn snippet(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let samples: Vec<Sample> = (0..SNIPPET_SAMPLES)
        .map(|i| Sample::from_polar(0.5, i as f32 * 0.1))
        .collect();
    let mut group = c.benchmark_group("evidence-snippet");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(SNIPPET_SAMPLES as u64));
    for (label, datatype) in [("cf32", Datatype::CF32_LE), ("cu8", Datatype::CU8)] {
        let base = dir.path().join(format!("snippet-{label}"));
        group.bench_function(label, |b| {
            b.iter(|| {
                let mut writer =
                    SigmfWriter::create(&base, datatype, 1e6, 100e6).expect("create the snippet");
                for block in samples.chunks(BLOCK) {
                    writer.write(block).expect("write");
                }
                writer.finish().expect("finish")
            })
        });
    }
    group.finish();
}

/// Frame `i` of a 16.8 MS/s stream, 50 ms long, with `bins` bins of noise and a carrier.
fn frame(i: u64, bins: usize) -> PsdFrame {
    let rate = 16_777_216.0;
    let count = 838_860u64;
    PsdFrame {
        segment: 0,
        start_sample: i * count,
        sample_count: count,
        center_hz: 2.44e9,
        sample_rate: rate,
        mean_dbfs: (0..bins)
            .map(|b| -70.0 + ((b as u64 * 7919 + i * 104_729) % 97) as f32 * 0.05)
            .map(|v| if i % 3 == 0 { v } else { v - 0.5 })
            .enumerate()
            .map(|(b, v)| if b == bins / 3 { -40.0 } else { v })
            .collect(),
        max_dbfs: vec![-60.0; bins],
        fft_power_dbfs: vec![-40.0; count as usize / bins],
        clipped: 0,
        probe: Vec::new(),
    }
}

fn per_frame(c: &mut Criterion) {
    let mut group = c.benchmark_group("evidence-per-frame");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1));
    for bins in [1024usize, 65536] {
        let frames: Vec<PsdFrame> = (0..64).map(|i| frame(i, bins)).collect();
        // Steady state: more frames than rows, so every push merges rows.
        let mut overview = Overview::default();
        for i in 0..2 * Overview::DEFAULT_ROWS as u64 {
            overview.push_frame(&frame(i, bins));
        }
        let mut next = 0u64;
        group.bench_function(format!("overview-push-{bins}"), |b| {
            b.iter(|| {
                let mut f = frames[(next % 64) as usize].clone();
                f.start_sample = (2 * Overview::DEFAULT_ROWS as u64 + next) * f.sample_count;
                next += 1;
                overview.push_frame(&f);
            })
        });
        let mut spectro = SpectrogramRecorder::new(CaptureLimits::default());
        let mut next = 0u64;
        group.bench_function(format!("spectrogram-history-push-{bins}"), |b| {
            b.iter(|| {
                let mut f = frames[(next % 64) as usize].clone();
                f.start_sample = next * f.sample_count;
                next += 1;
                spectro.push_frame(&f);
            })
        });
    }
    group.finish();
}

fn overview_render(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut overview = Overview::default();
    for i in 0..4 * Overview::DEFAULT_ROWS as u64 {
        overview.push_frame(&frame(i, 1024));
    }
    let path = dir.path().join("overview.png");
    let mut group = c.benchmark_group("evidence-overview");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("render", |b| {
        b.iter(|| {
            render_overview_png(
                &path,
                &OverviewPicture {
                    site: "bench",
                    recording: "bench.sigmf-meta",
                    overview: &overview,
                    alerts: &[],
                    start_time: None,
                },
            )
            .expect("render")
        })
    });
    group.finish();
}

criterion_group!(benches, snippet, per_frame, overview_render);
criterion_main!(benches);
