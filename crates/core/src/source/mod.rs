//! Sources: the first stage of the pipeline. A source thread reads IQ samples
//! (a recording, or a SoapySDR device with the `soapy` feature) into recycled
//! buffers and sends them downstream as [`SourceMsg`]s over a bounded channel.
//!
//! A file source never drops: it blocks when the next stage is behind. A
//! device source never blocks the driver: when the channel is full it drops
//! whole blocks and reports the hole as a [`Gap`].

pub mod devices;
pub mod file;
pub mod pool;
#[cfg(feature = "soapy")]
pub mod soapy;

use crate::iq::{Datatype, Sample};
use crossbeam_channel::Sender;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

pub use pool::BufferPool;

/// A run of consecutive samples at one tuning.
#[derive(Debug)]
pub struct IqBlock {
    /// Index of the first sample, counted from the start of the stream
    /// (samples lost in gaps are counted too, so time stays true).
    pub start_sample: u64,
    pub samples: Vec<Sample>,
    /// Scan-plan segment (tuning index); 0 for a single tuning.
    pub segment: usize,
    pub center_hz: f64,
    /// Samples that were NaN/Inf at the source and were zeroed.
    pub nonfinite: usize,
}

impl IqBlock {
    /// Exclusive end sample index.
    pub fn end_sample(&self) -> u64 {
        self.start_sample + self.samples.len() as u64
    }
}

/// Why samples are missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GapCause {
    /// The driver reported an overflow (samples lost before they reached us).
    Overflow,
    /// The DSP fell behind and whole blocks were dropped.
    Dropped,
    /// The device returned no samples in time.
    Timeout,
    /// The stream failed with an error.
    StreamError(String),
    /// The device vanished; it is being reopened.
    Disconnected,
}

impl GapCause {
    /// Short machine-readable name for the alert log.
    pub fn name(&self) -> &'static str {
        match self {
            GapCause::Overflow => "overflow",
            GapCause::Dropped => "dropped",
            GapCause::Timeout => "timeout",
            GapCause::StreamError(_) => "stream_error",
            GapCause::Disconnected => "disconnected",
        }
    }
}

/// Samples that never reached the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Gap {
    /// Index of the first missing sample.
    pub start_sample: u64,
    /// How many samples are missing (estimated from time for timeouts and disconnects).
    pub lost_samples: u64,
    pub cause: GapCause,
    /// Scan-plan segment (tuning index) the receiver was at when the gap began.
    pub segment: usize,
    /// Centre frequency of that tuning, Hz.
    pub center_hz: f64,
}

/// What a source sends downstream.
#[derive(Debug)]
pub enum SourceMsg {
    Block(IqBlock),
    Gap(Gap),
}

/// What a source is, as the rest of the pipeline needs to know it.
#[derive(Debug, Clone)]
pub struct SourceInfo {
    /// The recording's path or the device arguments (the alert log's `recording`).
    pub name: String,
    pub sample_rate: f64,
    /// Tunings in scan-plan order (one for a plain recording).
    pub tunings: Vec<f64>,
    /// |I| or |Q| at or above which a sample counts as clipped.
    pub clip_level: f32,
    /// Wall-clock time of sample 0 (recording metadata, or the clock for a device).
    pub start_time: Option<chrono::DateTime<chrono::Utc>>,
    /// Total samples when known (for progress).
    pub total_samples: Option<u64>,
    /// How the samples were encoded before conversion to `Complex<f32>`
    /// (a recording's datatype; cf32 for devices). IQ evidence keeps it when
    /// that is exact.
    pub datatype: Datatype,
    /// A receiver streaming now: it cannot wait for downstream (a file can).
    pub live: bool,
    /// Samples per block when the source chooses its own block length (a
    /// device); `None`: it fills the pool's blocks. The pipeline sizes its
    /// buffers from this, so their bound in bytes and seconds holds.
    pub block_len: Option<usize>,
}

/// The channels and flags a source thread works with.
pub struct SourceContext {
    pub out: Sender<SourceMsg>,
    pub pool: BufferPool,
    /// Set when the run should end (Ctrl-C, `--duration`, downstream failure).
    pub stop: Arc<AtomicBool>,
}

/// A producer of IQ blocks, run on its own thread.
pub trait Source: Send {
    fn info(&self) -> SourceInfo;
    /// A second reader of the stream's own samples (sample `i` of the reader
    /// is the block sample with `start_sample` `i`), for IQ evidence: with it
    /// the sink need not keep recent samples in memory. Taken once, before
    /// [`run`](Self::run); `None` for a live source.
    fn take_reread(&mut self) -> Option<Box<dyn crate::iq::IqReader>> {
        None
    }
    /// Produce blocks until the stream ends or `ctx.stop` is set.
    fn run(self: Box<Self>, ctx: SourceContext) -> crate::Result<()>;
}
