//! Throughput of writing IQ evidence, in samples per second: a SigMF
//! snippet written block by block through `SigmfWriter` (encode, SHA-512 on
//! its own thread, write to a file in the page cache, sync, rename), as the
//! sink does for every alert — cf32_le (a float recording or a device) and
//! cu8 (an RTL-SDR recording, kept in its own encoding).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
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

criterion_group!(benches, snippet);
criterion_main!(benches);
