//! Rendering speed of `synth`, in samples per second: the real site of
//! `tests/scenarios/real-baseline.toml` (1 MS/s: noise, a drifting beacon, an
//! NBFM link, two bursty sensors, a push-to-talk radio, DC spike, IQ image and
//! gain drift), the same site with an ideal receiver, and the bare noise floor,
//! streamed in [`BLOCK_SAMPLES`] blocks with no file.
//!
//! `cargo bench --bench synth`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rfsentry::iq::Sample;
use rfsentry::synth::{Impairments, Scenario, Stream, BLOCK_SAMPLES};
use std::hint::black_box;
use std::path::Path;

/// Samples rendered per iteration: one second of the site.
const SAMPLES: usize = 1 << 20;

fn real_site() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios/real-baseline.toml");
    Scenario::load(&path).expect("real-baseline.toml")
}

fn render(c: &mut Criterion) {
    let busy = real_site();
    let mut ideal = busy.clone();
    ideal.receiver = Impairments::default();
    let mut floor = busy.clone();
    floor.emitters.clear();
    floor.receiver = Impairments::default();
    let mut group = c.benchmark_group("synth");
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(5));
    group.throughput(Throughput::Elements(SAMPLES as u64));
    for (name, scenario) in [
        ("real-site", &busy),
        ("ideal-receiver", &ideal),
        ("noise-only", &floor),
    ] {
        group.bench_function(name, |b| {
            let mut block = vec![Sample::default(); BLOCK_SAMPLES];
            b.iter(|| {
                let mut stream = Stream::new(scenario).unwrap();
                let mut left = SAMPLES;
                while left > 0 {
                    let n = stream.next_block(&mut block[..left.min(BLOCK_SAMPLES)]);
                    black_box(&block[..n]);
                    left -= n;
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
