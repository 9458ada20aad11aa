//! rfsentry-core — the core library of rfsentry, a radio-spectrum
//! signal-security monitor.
//!
//! rfsentry learns a site's normal spectrum as a baseline [`profile`], then watches
//! IQ samples (a recording, or a live SoapySDR receiver) through a streaming
//! [`pipeline`]: source → [`dsp`] (Welch PSD) → [`detect`] (jamming, rogue
//! emitters, receiver health against the baseline) → [`alert`] sinks and
//! [`evidence`] (spectrogram PNGs, SigMF IQ snippets, an HTML report).
//!
//! It depends on nothing above it: the lab (`rfsentry-lab`: synth, score)
//! and the binary's command line build on it. Its top-level modules are
//! layered (error, atomic_file, config_keys, layout, units < iq < dsp < custody <
//! alert < source < profile < detect, evidence, pipeline < watch; `tests/layers.rs` at the
//! repository root checks it).

pub mod alert;
pub mod atomic_file;
pub mod config_keys;
pub mod custody;
pub mod detect;
pub mod dsp;
pub mod error;
pub mod evidence;
pub mod iq;
pub mod layout;
pub mod pipeline;
pub mod profile;
pub mod source;
pub mod units;
pub mod watch;

pub use error::{Error, Result};

/// The version string written into profiles and evidence.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
