//! Opening a recording: recognising its format and deciding where its sample
//! rate and centre frequency come from.
//!
//! # Formats
//!
//! | format | recognised by |
//! |---|---|
//! | SigMF pair (`.sigmf-meta` + `.sigmf-data`) | extension `.sigmf-meta` or `.sigmf-data`, or a base name next to a `.sigmf-meta` |
//! | SigMF archive (`.sigmf`, a tar) | extension `.sigmf` |
//! | WAV IQ (SDR#, SDRuno, HDSDR, SDR Console) | a `RIFF`/`RF64` … `WAVE` header, whatever the extension (`.wav` always goes to the WAV reader) |
//! | raw interleaved IQ | extension: `.cu8`, `.cs8`, `.cs16`, `.cf32`, `.cfile`, URH's `.complex`, `.complex16s`, `.complex16u`, `.complex32s` |
//!
//! # Where the rate and frequency come from (precedence)
//!
//! - **SigMF**: the metadata. `--rate` is never used (`core:sample_rate` is
//!   required); `--freq` fills in the centre frequency of captures that have
//!   no `core:frequency` (else 0 Hz, with a warning).
//! - **WAV**: the rate is the `fmt ` chunk's; the frequency is the `auxi`
//!   chunk's `CenterFreq` when present, else `--freq`, else an error asking
//!   for `--freq`. `--rate` is never used.
//! - **raw**: `--rate`/`--freq` first, then rtl_433-style tokens in the file
//!   name (`g001_433.92M_250k.cu8`), else an error asking for the flag.
//!
//! A flag that is ignored because the metadata already says something
//! different is reported with a warning.

use super::{raw, sigmf, wav, Datatype, IqReader};
use crate::{Error, Result};
use std::path::Path;

/// Highest sample rate accepted from any source: beyond this a value is a
/// typo or corrupt metadata, not a recording.
pub const MAX_SAMPLE_RATE: f64 = 100e9;

/// Settings the user gives for files that do not carry them.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// `--rate`: sample rate in Hz (overrides the file name; SigMF/WAV metadata wins).
    pub sample_rate: Option<f64>,
    /// `--freq`: centre frequency in Hz (overrides the file name; SigMF/WAV metadata wins).
    pub center_hz: Option<f64>,
    /// `--no-verify`: do not check a SigMF `core:sha512` against the data
    /// (SHA-512 on one core is slower than the PSD engine on cf32).
    pub skip_checksum: bool,
}

impl OpenOptions {
    /// Check the flags themselves: a finite, positive, plausible rate and a
    /// finite, non-negative frequency.
    pub fn validate(&self) -> Result<()> {
        if let Some(rate) = self.sample_rate {
            if !is_plausible_sample_rate(rate) {
                return Err(Error::setting(
                    "--rate",
                    rate,
                    format!("a positive number of samples per second, at most {MAX_SAMPLE_RATE:e}"),
                ));
            }
        }
        if let Some(freq) = self.center_hz {
            if !(freq.is_finite() && freq >= 0.0) {
                return Err(Error::setting(
                    "--freq",
                    freq,
                    "a centre frequency in Hz (finite, not negative)",
                ));
            }
        }
        Ok(())
    }
}

/// Whether `rate` can be a real sample rate: finite, positive, at most [`MAX_SAMPLE_RATE`].
pub fn is_plausible_sample_rate(rate: f64) -> bool {
    rate.is_finite() && rate > 0.0 && rate <= MAX_SAMPLE_RATE
}

/// What a recording on disk is, as far as choosing its reader goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingFormat {
    /// `.sigmf-meta` + `.sigmf-data`.
    SigmfPair,
    /// A `.sigmf` tar archive.
    SigmfArchive,
    /// RIFF/WAVE with I and Q as two channels.
    Wav,
    /// Headerless interleaved I/Q of the given encoding.
    Raw(Datatype),
}

/// The formats `open` understands, for error messages.
fn supported_formats() -> String {
    let raw: Vec<String> = raw::RAW_EXTENSIONS
        .iter()
        .map(|(ext, dt)| format!(".{ext} ({dt})"))
        .collect();
    format!(
        "a supported recording: SigMF (.sigmf-meta + .sigmf-data, or a .sigmf archive), WAV IQ (RIFF header, 2 channels), or raw IQ by extension: {}",
        raw.join(", ")
    )
}

/// Recognise the format of the recording at `path` (see the module doc).
pub fn detect_format(path: &Path) -> Result<RecordingFormat> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "sigmf-meta" | "sigmf-data" => return Ok(RecordingFormat::SigmfPair),
        "sigmf" => return Ok(RecordingFormat::SigmfArchive),
        "wav" => return Ok(RecordingFormat::Wav),
        _ => {}
    }
    let (meta, _) = super::sigmf_writer::sigmf_paths(path);
    if !path.exists() && meta.exists() {
        return Ok(RecordingFormat::SigmfPair);
    }
    if wav::has_wav_header(path)? {
        return Ok(RecordingFormat::Wav);
    }
    match raw::datatype_for_extension(&ext) {
        Some(dt) => Ok(RecordingFormat::Raw(dt)),
        None => Err(Error::format(path, "format", supported_formats())),
    }
}

/// A FIFO, socket or terminal: opening it may block for ever, reading its
/// header consumes samples, and its length is unknown. Refused before any
/// open (for a SigMF pair, both files are checked).
pub(crate) fn refuse_special_file(path: &Path) -> Result<()> {
    use std::os::unix::fs::FileTypeExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let t = meta.file_type();
        if t.is_fifo() || t.is_socket() || t.is_char_device() {
            return Err(Error::format(
                path,
                "samples",
                "a regular file of samples (its length gives the sample count); this is a pipe, FIFO or device: save the samples to a file first",
            ));
        }
    }
    Ok(())
}

/// Open any supported recording.
pub fn open(path: &Path, opts: &OpenOptions) -> Result<Box<dyn IqReader>> {
    opts.validate()?;
    refuse_special_file(path)?;
    Ok(match detect_format(path)? {
        RecordingFormat::SigmfPair => Box::new(sigmf::open_pair(path, opts)?),
        RecordingFormat::SigmfArchive => Box::new(sigmf::open_archive(path, opts)?),
        RecordingFormat::Wav => Box::new(wav::open_wav(path, opts)?),
        RecordingFormat::Raw(dt) => Box::new(raw::open_raw(path, dt, opts)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_recognised_by_extension_then_header() {
        let dir = tempfile::tempdir().unwrap();
        let riff = dir.path().join("capture.cu8");
        let mut header = b"RIFF\0\0\0\0WAVE".to_vec();
        header.extend_from_slice(&[0; 8]);
        std::fs::write(&riff, &header).unwrap();
        assert_eq!(detect_format(&riff).unwrap(), RecordingFormat::Wav);

        let cs16 = dir.path().join("capture.CS16");
        std::fs::write(&cs16, [0u8; 16]).unwrap();
        assert_eq!(
            detect_format(&cs16).unwrap(),
            RecordingFormat::Raw(Datatype::CI16_LE)
        );

        let meta = dir.path().join("rec.sigmf-meta");
        std::fs::write(&meta, "{}").unwrap();
        assert_eq!(
            detect_format(&dir.path().join("rec")).unwrap(),
            RecordingFormat::SigmfPair
        );
        assert_eq!(
            detect_format(Path::new("x.sigmf")).unwrap(),
            RecordingFormat::SigmfArchive
        );
    }

    #[test]
    fn unknown_format_lists_what_is_supported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "hello, not IQ").unwrap();
        let msg = open(&path, &OpenOptions::default())
            .err()
            .expect("a text file is not a recording")
            .to_string();
        assert!(msg.contains("notes.txt"), "{msg}");
        assert!(msg.contains(".sigmf-meta"), "{msg}");
        assert!(msg.contains(".cu8 (cu8)"), "{msg}");
        assert!(msg.contains(".complex16s (ci8)"), "{msg}");
        assert!(msg.contains("WAV"), "{msg}");
    }

    #[test]
    fn missing_file_is_an_io_error_naming_it() {
        let msg = open(Path::new("/nonexistent/dir/a.cu8"), &OpenOptions::default())
            .err()
            .expect("missing file")
            .to_string();
        assert!(msg.contains("/nonexistent/dir/a.cu8"), "{msg}");
    }

    #[test]
    fn flags_are_validated() {
        let bad_rates = [0.0, -1.0, f64::NAN, f64::INFINITY, 2e11];
        for rate in bad_rates {
            let opts = OpenOptions {
                sample_rate: Some(rate),
                center_hz: None,
                ..OpenOptions::default()
            };
            let msg = opts.validate().unwrap_err().to_string();
            assert!(msg.contains("--rate"), "{msg}");
        }
        let opts = OpenOptions {
            sample_rate: Some(2.4e6),
            center_hz: Some(-5.0),
            ..OpenOptions::default()
        };
        assert!(opts.validate().unwrap_err().to_string().contains("--freq"));
        let good = OpenOptions {
            sample_rate: Some(2.4e6),
            center_hz: Some(433.92e6),
            ..OpenOptions::default()
        };
        assert!(good.validate().is_ok());
    }
}
