//! Helpers shared by the integration-test modules (one place instead of
//! `#[path]` pulls): running the built binary, the long demo scenario, WAV
//! files built byte by byte, and the SoapySDR replay module.

pub mod cli;
pub mod long_run;
#[cfg(feature = "soapy")]
pub mod soapy_replay;
pub mod wav_file;
