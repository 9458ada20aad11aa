//! Helpers shared by the integration-test modules (one place instead of
//! `#[path]` pulls): running the built binary, the long demo scenario, WAV
//! files built byte by byte, the SoapySDR replay module, and a real Mosquitto
//! broker (with the fleet hub as a process) for the fleet tests.

pub mod cli;
pub mod long_run;
pub mod mosquitto;
#[cfg(feature = "soapy")]
pub mod soapy_replay;
pub mod wav_file;
