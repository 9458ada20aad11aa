//! IQ samples: the stream description every reader yields ([`StreamInfo`]),
//! the [`IqReader`] trait, on-disk sample encodings ([`Datatype`]), and the
//! readers and writers for SigMF, raw and WAV recordings.
//!
//! Samples are `Complex<f32>` scaled so that full scale is ±1.0 on I and Q:
//! a full-scale complex tone has power 0 dBFS.

pub mod annotation;
pub mod datatype;
pub mod memory;
pub mod open;
pub mod raw;
pub mod sha512;
pub mod sigmf;
pub mod sigmf_writer;
pub mod stem;
pub mod wav;

use chrono::{DateTime, Utc};
use num_complex::Complex32;

pub use annotation::Annotation;
pub use datatype::Datatype;
pub use open::{open, OpenOptions};
pub use sigmf_writer::SigmfWriter;
pub use stem::recording_stem;

/// One IQ sample, full scale ±1.0.
pub type Sample = Complex32;

/// A change of tuning inside a recording (SigMF `captures[]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Capture {
    /// Index of the first sample this capture applies to.
    pub sample_start: u64,
    /// Centre frequency in Hz.
    pub center_hz: f64,
    /// Wall-clock time of `sample_start`, when known.
    pub datetime: Option<DateTime<Utc>>,
}

/// What a reader knows about the stream it yields.
#[derive(Debug, Clone)]
pub struct StreamInfo {
    /// Human-readable name of the source: the recording's path, or the device arguments.
    pub name: String,
    /// Samples per second.
    pub sample_rate: f64,
    /// Encoding of the samples on disk (or on the wire).
    pub datatype: Datatype,
    /// Number of whole samples, when the length is known.
    pub total_samples: Option<u64>,
    /// Tunings, sorted by `sample_start`; never empty (the first starts at 0).
    pub captures: Vec<Capture>,
    /// Ground-truth or descriptive annotations (SigMF `annotations[]`).
    pub annotations: Vec<Annotation>,
}

impl StreamInfo {
    /// Centre frequency of the first capture.
    pub fn center_hz(&self) -> f64 {
        self.captures.first().map(|c| c.center_hz).unwrap_or(0.0)
    }

    /// Start time of the recording, when known.
    pub fn start_time(&self) -> Option<DateTime<Utc>> {
        self.captures.first().and_then(|c| c.datetime)
    }

    /// Duration in seconds, when the length is known.
    pub fn duration_s(&self) -> Option<f64> {
        self.total_samples.map(|n| n as f64 / self.sample_rate)
    }

    /// The capture in force at `sample`.
    pub fn capture_at(&self, sample: u64) -> &Capture {
        let idx = self.captures.partition_point(|c| c.sample_start <= sample);
        &self.captures[idx.saturating_sub(1)]
    }
}

/// What one [`IqReader::read`] call produced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Samples written to the output; 0 means end of stream.
    pub samples: usize,
    /// Samples that were NaN or infinite on disk; they are replaced by 0 and counted.
    pub nonfinite: usize,
}

/// A source of IQ samples: a recording on disk (or, with the `soapy` feature, a receiver).
pub trait IqReader: Send {
    /// The stream's description.
    fn info(&self) -> &StreamInfo;

    /// Fill `out` with up to `out.len()` samples. Returns 0 samples at end of stream.
    /// A trailing partial sample is not returned (and is reported once with a warning).
    fn read(&mut self, out: &mut [Sample]) -> crate::Result<ReadStats>;

    /// Position the reader so that the next sample read is `sample`.
    fn seek(&mut self, sample: u64) -> crate::Result<()>;
}
