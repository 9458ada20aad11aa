//! rfsentry — a radio-spectrum signal-security monitor.
//!
//! rfsentry learns a site's normal spectrum as a baseline [`profile`], then watches
//! IQ samples (a recording, or a live SoapySDR receiver) through a streaming
//! [`pipeline`]: source → [`dsp`] (Welch PSD) → [`detect`] (jamming, rogue
//! emitters, receiver health against the baseline) → [`alert`] sinks and
//! [`evidence`] (spectrogram PNGs, SigMF IQ snippets, an HTML report).
//!
//! The binary (`src/main.rs`) is a thin command line over this library.

pub mod alert;
pub mod atomic_file;
pub mod config_keys;
pub mod cli;
pub mod detect;
pub mod dsp;
pub mod error;
pub mod evidence;
pub mod iq;
pub mod pipeline;
pub mod profile;
pub mod score;
pub mod source;
pub mod synth;
pub mod watch;

pub use error::{Error, Result};

/// The version string written into profiles and evidence.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
