//! Test support for the SoapySDR path: builds the test-only `rfsentry_replay`
//! SoapySDR module (`testing/soapy-replay/replay.cpp`) into
//! `target/soapy-replay/` (once per test binary, again only when the source
//! is newer), points SoapySDR at it through the process environment before
//! any SoapySDR call, and writes cf32 sample files for it to replay.
//!
//! Use with `use crate::util::soapy_replay;` (benches: `#[path]` to this file) and
//! call [`setup`] first in every test that touches SoapySDR.

#![allow(dead_code)]

use num_complex::Complex32;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The built module and the environment that makes SoapySDR load it (and only it).
pub struct Replay {
    /// Directory holding `librfsentry_replay.so`.
    pub plugin_dir: PathBuf,
    /// `SOAPY_SDR_PLUGIN_PATH` and `SOAPY_SDR_ROOT` settings (also for child processes).
    pub env: Vec<(&'static str, String)>,
}

/// Build the module if needed and set the environment for this process.
/// Panics with instructions when SoapySDR's development files are missing.
pub fn setup() -> &'static Replay {
    static REPLAY: OnceLock<Replay> = OnceLock::new();
    REPLAY.get_or_init(|| {
        let replay = build();
        for (key, value) in &replay.env {
            // Every test calls setup() before SoapySDR, and SoapySDR reads
            // these once, when it first loads modules.
            std::env::set_var(key, value);
        }
        replay
    })
}

fn build() -> Replay {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = manifest.join("testing/soapy-replay/replay.cpp");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("target"));
    let plugin_dir = target.join("soapy-replay");
    let lib = plugin_dir.join("librfsentry_replay.so");
    if is_stale(&lib, &source) {
        let pkg = Command::new("pkg-config")
            .args(["--cflags", "--libs", "SoapySDR"])
            .output();
        let flags = match pkg {
            Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
            _ => panic!(
                "SoapySDR development files not found (`pkg-config --exists SoapySDR` failed). \
                 The `soapy` feature's tests build a test SoapySDR module and need them: \
                 apt-get install libsoapysdr-dev g++ pkg-config"
            ),
        };
        std::fs::create_dir_all(&plugin_dir).expect("create target/soapy-replay");
        // Build beside the final name (not *.so, so SoapySDR never loads a half-written file), then rename.
        let tmp = plugin_dir.join(format!("librfsentry_replay.{}.tmp", std::process::id()));
        let status = Command::new("g++")
            .args(["-shared", "-fPIC", "-O2", "-o"])
            .arg(&tmp)
            .arg(&source)
            .args(flags.split_whitespace())
            .status()
            .unwrap_or_else(|e| {
                panic!("cannot run g++ ({e}): apt-get install libsoapysdr-dev g++ pkg-config")
            });
        assert!(status.success(), "g++ failed to build {}", source.display());
        std::fs::rename(&tmp, &lib).expect("install librfsentry_replay.so");
    }
    Replay {
        env: vec![
            ("SOAPY_SDR_PLUGIN_PATH", plugin_dir.display().to_string()),
            // Skip the system's modules: faster, quieter, and only our device.
            ("SOAPY_SDR_ROOT", "/nonexistent".to_string()),
        ],
        plugin_dir,
    }
}

fn is_stale(lib: &Path, source: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(lib), modified(source)) {
        (Some(built), Some(src)) => src > built,
        _ => true,
    }
}

/// Write samples as raw cf32_le (what the replay device reads).
pub fn write_cf32(path: &Path, samples: &[Complex32]) {
    let mut bytes = Vec::with_capacity(samples.len() * 8);
    for s in samples {
        bytes.extend_from_slice(&s.re.to_le_bytes());
        bytes.extend_from_slice(&s.im.to_le_bytes());
    }
    std::fs::write(path, bytes).expect("write cf32 file");
}

/// Complex Gaussian noise (about -30 dBFS) plus a carrier 12.5 % of the
/// rate above the centre: the same spectrum, bin for bin, at every rate
/// (the live benches replay it in a loop).
pub fn noise_and_carrier(n: usize) -> Vec<Complex32> {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let noise = Normal::new(0.0f32, 0.0224).expect("normal");
    (0..n)
        .map(|i| {
            let phase = 2.0 * std::f32::consts::PI * 0.125 * i as f32;
            Complex32::new(noise.sample(&mut rng), noise.sample(&mut rng))
                + Complex32::from_polar(0.1, phase)
        })
        .collect()
}

/// `n` samples whose value tells their position: sample `i` is `i - i·j`
/// (exact in f32 up to 2^24).
pub fn ramp(n: usize) -> Vec<Complex32> {
    (0..n)
        .map(|i| Complex32::new(i as f32, -(i as f32)))
        .collect()
}

/// The file position a [`ramp`] sample came from.
pub fn position(s: Complex32) -> u64 {
    s.re as u64
}

/// Device arguments for the replay device: a distinct `tag` per test (SoapySDR
/// shares one device between identical arguments), the file, and extra `k=v` pairs.
pub fn device_args(tag: &str, file: &Path, extra: &[&str]) -> String {
    let mut args = format!("driver=rfsentry_replay,tag={tag},file={}", file.display());
    for kv in extra {
        args.push(',');
        args.push_str(kv);
    }
    args
}
