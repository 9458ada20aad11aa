//! Live receivers for `learn --device` and `monitor --device`: builds the
//! SoapySDR source from the flags and the profile's `[device]` table. Without
//! the `soapy` feature these flags give a clear error.

use super::common::{RecordingArgs, SiteArgs};
use crate::dsp::PsdConfig;
use crate::source::Source;
use crate::{Error, Result};

/// The live source(s) for `--device ARGS`.
#[cfg(not(feature = "soapy"))]
pub fn device_sources(
    _device: &str,
    _input: &RecordingArgs,
    _psd: PsdConfig,
    _site: &SiteArgs,
) -> Result<Vec<Box<dyn Source>>> {
    Err(Error::config(
        "--device needs rfsentry built with SoapySDR support: cargo build --release --features soapy (after apt-get install libsoapysdr-dev)",
    ))
}

/// The live source(s) for `--device ARGS`.
#[cfg(feature = "soapy")]
pub fn device_sources(
    _device: &str,
    _input: &RecordingArgs,
    _psd: PsdConfig,
    _site: &SiteArgs,
) -> Result<Vec<Box<dyn Source>>> {
    Err(Error::config("SoapySDR live sources are being integrated"))
}
