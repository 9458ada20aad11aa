//! The integration tests, in one binary (one link, one process; the layout
//! ripgrep uses). Each former test binary is a module here, in a file of its
//! own name next to this one; shared helpers live in [`util`].
//!
//! Run everything with `cargo test --workspace --features soapy`; one module
//! with `cargo test --features soapy --test tests -- MODULE::`. The
//! detection-quality modules ([`real_site`], [`detection`]) run at the
//! README's full strength by default; `RFSENTRY_QUALITY=quick` samples them.
//!
//! | module | what it covers |
//! |---|---|
//! | [`bad_input`] | every bad input through the real binary: a clear error naming file, field and what was expected |
//! | [`console`] | the operator console: page in headless chromium, API, SSE, metrics, acknowledgements, notifications, access rule, the terminal screen |
//! | [`crash_safety`] | nothing lost on disk when rfsentry is killed, stopped or cannot write |
//! | [`custody`] | the chain of custody: the tamper matrix through `rfsentry verify`, a killed and restarted monitor, signed profiles, OpenSSL reads the keys, random edits (proptest) |
//! | [`detection`] | detection quality on the scenario matrix (release mode for the full figures) |
//! | [`evidence`] | evidence components on synthetic inputs: PNGs decoded back, IQ snippets, the overview |
//! | [`evidence_pipeline`] | evidence through `rfsentry analyze` on the bundled demo |
//! | [`fleet`] | `monitor --publish` and `rfsentry hub` through a real Mosquitto: outages, kills, restarts, ACL, TLS, floods, the page, export, chain heads |
//! | [`layers`] | the architecture: imports only from the own layer or below, no cycles |
//! | [`learn`] | learning a baseline through the built binary, for several datatypes |
//! | [`monitor_live`] | live `learn`/`monitor` from a SoapySDR receiver (feature `soapy`) |
//! | [`reader_props`] | property tests: any byte stream reads cleanly or fails with a clear error |
//! | [`readers`] | the IQ readers on real recordings by others, WAV files and SigMF archives |
//! | [`real_recordings`] | real ISM captures (URH): learn on some, alert on others |
//! | [`real_site`] | detection on a realistic RTL-SDR-like ISM site (release mode for the table) |
//! | [`soak`] | a long recording replayed through the full pipeline, memory and floor drift watched |
//! | [`soapy_source`] | the SoapySDR device source through the real runtime (feature `soapy`) |
//! | [`speed_equivalence`] | the fast PSD paths give the same frames as the reference loop |
//! | [`synth`] | `synth` end to end: every event kind, every datatype, the labels |
//! | [`synth_real`] | the real-site features of `synth`, measured on rendered samples |
//! | [`util`] | shared helpers (not tests) |
//!
//! A new test file `tests/NAME.rs` needs a `mod NAME;` line and a row here:
//! `Cargo.toml` sets `autotests = false`, so an undeclared file would not run
//! at all — [`index_names_every_test_file`] fails when one is missing.

mod bad_input;
mod console;
mod crash_safety;
mod custody;
mod detection;
mod evidence;
mod evidence_pipeline;
mod fleet;
mod layers;
mod learn;
mod monitor_live;
mod reader_props;
mod readers;
mod real_recordings;
mod real_site;
mod soak;
mod soapy_source;
mod speed_equivalence;
mod synth;
mod synth_real;
mod util;

/// Every `tests/*.rs` file is declared here (`mod NAME;`) and has a row in
/// the index above; otherwise, with `autotests = false`, it would silently
/// never be compiled or run.
#[test]
fn index_names_every_test_file() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let index = std::fs::read_to_string(dir.join("tests.rs")).expect("read tests/tests.rs");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("list tests/") {
        let path = entry.expect("tests/ entry").path();
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension() != Some(std::ffi::OsStr::new("rs")) || name == "tests" {
            continue;
        }
        let declared = index.lines().any(|l| l == format!("mod {name};"));
        let row = index.contains(&format!("//! | [`{name}`] |"));
        if !declared || !row {
            missing.push(name.to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "tests/tests.rs must declare (`mod NAME;`) and index (a `//! | [`NAME`] |` row) every tests/*.rs; missing: {missing:?}"
    );
}
