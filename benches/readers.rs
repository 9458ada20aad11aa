//! Throughput of the first hot path of every offline run, in samples per
//! second (criterion's `elem/s`, i.e. `Melem/s` = MS/s): `Datatype::decode`
//! alone, and a full reader streaming a generated file from disk (page
//! cache), for cu8, cs16 (ci16_le) and cf32 (cf32_le); and the way back,
//! `Datatype::encode`, which IQ evidence snippets go through.

use criterion::measurement::WallTime;
use criterion::{
    black_box, criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput,
};
use rfsentry::iq::{open, Datatype, IqReader, OpenOptions, Sample};
use std::time::Duration;

/// Samples per `decode` call: a typical pipeline block.
const DECODE_SAMPLES: usize = 1 << 16;
/// Samples in the generated recording (16 MiB as cf32).
const FILE_SAMPLES: usize = 1 << 21;
/// Samples per `read` call of the full reader.
const READ_BLOCK: usize = 1 << 16;

/// Benchmark label (also the raw file extension) and encoding.
const FORMATS: [(&str, Datatype); 3] = [
    ("cu8", Datatype::CU8),
    ("cs16", Datatype::CI16_LE),
    ("cf32", Datatype::CF32_LE),
];

fn signal(n: usize) -> Vec<Sample> {
    (0..n)
        .map(|i| Sample::from_polar(0.5, i as f32 * 0.1))
        .collect()
}

fn configure<'c>(c: &'c mut Criterion, name: &str, samples: usize) -> BenchmarkGroup<'c, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(samples as u64));
    group
}

fn decode(c: &mut Criterion) {
    let samples = signal(DECODE_SAMPLES);
    let mut group = configure(c, "decode", DECODE_SAMPLES);
    for (label, datatype) in FORMATS {
        let mut bytes = Vec::new();
        datatype.encode(&samples, &mut bytes);
        let mut out = vec![Sample::default(); DECODE_SAMPLES];
        group.bench_function(label, |b| {
            b.iter(|| datatype.decode(black_box(&bytes), black_box(&mut out)))
        });
    }
    group.finish();
}

fn encode(c: &mut Criterion) {
    let samples = signal(DECODE_SAMPLES);
    let mut group = configure(c, "encode", DECODE_SAMPLES);
    for (label, datatype) in FORMATS {
        let mut bytes = Vec::with_capacity(DECODE_SAMPLES * datatype.sample_bytes());
        group.bench_function(label, |b| {
            b.iter(|| {
                bytes.clear();
                datatype.encode(black_box(&samples), &mut bytes);
                bytes.len()
            })
        });
    }
    group.finish();
}

fn full_reader(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let samples = signal(FILE_SAMPLES);
    let mut group = configure(c, "reader", FILE_SAMPLES);
    for (label, datatype) in FORMATS {
        let mut bytes = Vec::new();
        datatype.encode(&samples, &mut bytes);
        let path = dir.path().join(format!("bench_433.92M_2400k.{label}"));
        std::fs::write(&path, &bytes).expect("write the recording");
        let mut reader = open(&path, &OpenOptions::default()).expect("open the recording");
        let mut block = vec![Sample::default(); READ_BLOCK];
        group.bench_function(label, |b| {
            b.iter(|| read_everything(reader.as_mut(), &mut block))
        });
    }
    group.finish();
}

/// Read the whole recording from the start; returns the sample count.
fn read_everything(reader: &mut dyn IqReader, block: &mut [Sample]) -> usize {
    reader.seek(0).expect("seek to the start");
    let mut total = 0;
    loop {
        let n = reader.read(block).expect("read").samples;
        if n == 0 {
            return total;
        }
        total += black_box(n);
    }
}

criterion_group!(benches, decode, encode, full_reader);
criterion_main!(benches);
