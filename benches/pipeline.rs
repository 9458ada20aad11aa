//! The whole `analyze` path end to end, in samples per second (criterion's
//! `Melem/s` = MS/s): a recording generated from `benches/data/` (the
//! wideband speed site, 2^22 samples at 16.8 MS/s with a tone jammer and a
//! rogue transmitter) read from the page cache by a `FileSource`, through the
//! PSD stage, the detectors, the alert tracker and the alert log
//! (`rfsentry::watch::watch`), as cf32 and cu8.
//! `psd-only` is the same without detection (`pipeline::for_each_frame`, what
//! `learn` runs). FFT 1024, Hann, no overlap, 50 ms frames: the defaults.
//!
//! `cargo bench --bench pipeline`; for the full-size comparison with scipy and
//! a bare rustfft loop see `benches/compare.sh`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rfsentry::dsp::PsdConfig;
use rfsentry::iq::Datatype;
use rfsentry::pipeline::{for_each_frame, PipelineSettings};
use rfsentry::profile::learn::Learner;
use rfsentry::profile::{CaptureSettings, Profile, Site, Thresholds};
use rfsentry::source::file::FileSource;
use rfsentry::synth::Scenario;
use rfsentry::watch::{watch, SinkOptions, WatchConfig};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

const BASELINE: &str = "base = \"wideband-site.toml\"\nseed = 21\nduration_s = 0.25\n";
const RECORDING: &str = r#"
base = "wideband-site.toml"
seed = 22
duration_s = 0.25

[[events]]
kind = "jamming.tone"
start_s = 0.05
duration_s = 0.08
offset_hz = 1e6
level_db = 22

[[events]]
kind = "emitter.unknown"
modulation = "fsk"
start_s = 0.15
duration_s = 0.08
offset_hz = -1.5e6
bandwidth_hz = 50e3
level_db = 18
"#;

fn generate(dir: &Path, name: &str, toml: &str, datatype: Datatype) -> PathBuf {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/data");
    let scenario = Scenario::from_toml_str(toml, &data, name).expect("bench scenario");
    rfsentry::synth::generate(&scenario, &dir.join(name), datatype).expect("generate")
}

fn source(path: &Path) -> Box<FileSource> {
    Box::new(FileSource::new(
        rfsentry::iq::open(path, &Default::default()).expect("open"),
    ))
}

fn settings() -> PipelineSettings {
    PipelineSettings::new(PsdConfig::default())
}

fn profile(baseline: &Path) -> Profile {
    let rate = rfsentry::iq::open(baseline, &Default::default())
        .expect("open")
        .info()
        .sample_rate;
    let capture = CaptureSettings {
        sample_rate: rate,
        psd: PsdConfig::default(),
        gain_db: None,
    };
    let mut learner = Learner::new(capture, Thresholds::default());
    let stop = Arc::new(AtomicBool::new(false));
    for_each_frame(
        source(baseline),
        &settings(),
        stop,
        |f| learner.add(&f),
        |_| {},
    )
    .expect("learn");
    learner.finish(Site {
        name: "bench".into(),
        ..Default::default()
    })
}

fn analyze(path: &Path, profile: &Profile, out: &Path) -> u64 {
    let config = WatchConfig {
        profile: profile.clone(),
        out_dir: out.to_path_buf(),
        id_prefix: "bench-".into(),
        first_id: 1,
        fallback_start: chrono::DateTime::UNIX_EPOCH,
        sink: SinkOptions::default(),
        pipeline: settings(),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let summary = watch(source(path), config, stop, None).expect("analyze");
    summary.samples
}

fn pipeline(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let profile = profile(&generate(
        dir.path(),
        "baseline",
        BASELINE,
        Datatype::CF32_LE,
    ));
    let out = dir.path().join("alerts");
    let mut group = c.benchmark_group("pipeline");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for (label, datatype) in [("cf32", Datatype::CF32_LE), ("cu8", Datatype::CU8)] {
        let path = generate(dir.path(), &format!("rec-{label}"), RECORDING, datatype);
        let samples = analyze(&path, &profile, &out);
        group.throughput(Throughput::Elements(samples));
        group.bench_function(format!("analyze/{label}"), |b| {
            b.iter(|| analyze(&path, &profile, &out))
        });
        group.bench_function(format!("psd-only/{label}"), |b| {
            b.iter(|| {
                let stop = Arc::new(AtomicBool::new(false));
                for_each_frame(source(&path), &settings(), stop, |_| {}, |_| {}).expect("run")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
