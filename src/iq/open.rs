//! Opening a recording: the format is recognised by extension (SigMF, raw
//! `.cu8`/`.cs8`/`.cs16`/`.cf32`/`.cfile`, URH's `.complex*`) or by the RIFF
//! header (WAV IQ); rate and frequency come from the metadata, the file name
//! (rtl_433 style) or the `--rate`/`--freq` flags.

use super::IqReader;
use crate::{Error, Result};
use std::path::Path;

/// Settings the user gives for files that do not carry them.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// `--rate`: sample rate in Hz (overrides the file name; SigMF/WAV metadata wins).
    pub sample_rate: Option<f64>,
    /// `--freq`: centre frequency in Hz.
    pub center_hz: Option<f64>,
}

/// Open any supported recording.
pub fn open(path: &Path, _opts: &OpenOptions) -> Result<Box<dyn IqReader>> {
    Err(Error::format(
        path,
        "format",
        "a supported recording (not yet implemented)",
    ))
}
