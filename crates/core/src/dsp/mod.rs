//! Signal processing: FFT windows and the streaming Welch PSD engine that
//! turns IQ samples into averaged spectra ([`PsdFrame`]s) in dBFS per bin.

pub mod psd;
pub mod window;

pub use psd::{DcMode, PsdConfig, PsdEngine, PsdFrame, PROBE_MAX_SAMPLES, PROBE_SEGMENTS};
pub use window::Window;
