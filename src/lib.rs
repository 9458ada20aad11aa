//! rfsentry — a radio-spectrum signal-security monitor.
//!
//! rfsentry learns a site's normal spectrum as a baseline [`profile`], then watches
//! IQ samples (a recording, or a live SoapySDR receiver) through a streaming
//! [`pipeline`]: source → [`dsp`] (Welch PSD) → [`detect`] (jamming, rogue
//! emitters, receiver health against the baseline) → [`alert`] sinks and
//! [`evidence`] (spectrogram PNGs, SigMF IQ snippets, an HTML report).
//!
//! The library lives in the workspace's crates and this crate re-exports them
//! under one name:
//! - `crates/core` (`rfsentry-core`): readers and writers, DSP, baselines,
//!   detectors, the tracker and alert log, evidence, the pipeline; it depends
//!   on nothing above it.
//! - `crates/lab` (`rfsentry-lab`): the labelled-recording generator
//!   ([`synth`]) and the scorer ([`score`]), over the core.
//!
//! The binary (`src/main.rs`) keeps its command line (`src/cli/`) private: it
//! parses arguments and calls these libraries.

pub use rfsentry_core::{
    alert, atomic_file, config_keys, custody, detect, dsp, error, evidence, iq, layout, pipeline,
    profile, run, source, watch, Error, Result, VERSION,
};
pub use rfsentry_lab::{score, synth};
