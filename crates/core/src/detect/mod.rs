//! Detection: every frame's averaged spectrum is compared with the baseline,
//! per bin, in dB. Detectors turn one frame into [`Detection`]s; the
//! [`tracker`] turns detections over time into alerts with a lifecycle
//! (raised → updated → cleared), so one jammer makes one alert.
//!
//! - [`view`]: the per-frame comparison with the baseline every detector reads.
//! - [`clusters`]: the CFAR core — bins clearly above baseline p99 and the
//!   local floor, grouped into clusters.
//! - [`tone`], [`emitter`]: narrow carriers (tone jammers); unknown and anomalous emitters.
//! - [`wideband`]: barrage, swept and pulsed jammers ([`onoff`]: the pulse test).
//! - [`comb`]: a comb of lines (a sweep far faster than one FFT) as one jammer.
//! - [`burst`]: bursts only the max-hold shows, held between repetitions.
//! - [`slow`]: the sensitive path — a 0.5 s average against the floor, gain drift followed.
//! - [`health`]: receiver overload and signal loss.
//! - [`engine`]: runs them all in order on each frame.

pub mod burst;
pub mod clusters;
pub mod comb;
pub mod emitter;
pub mod engine;
pub mod envelope;
pub mod health;
pub mod onoff;
pub mod slow;
pub mod tone;
pub mod tracker;
pub mod view;
pub mod wideband;

use crate::alert::AlertKind;
use serde_json::{Map, Value};

pub use engine::DetectionEngine;
pub use tracker::Tracker;

/// One detector's finding in one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub kind: AlertKind,
    pub low_hz: f64,
    pub high_hz: f64,
    pub peak_dbfs: f32,
    /// Over the baseline (p99 for emitters, floor for jamming), dB.
    pub excess_db: f32,
    /// Over the local noise floor, dB.
    pub snr_db: f32,
    /// 0–1.
    pub confidence: f32,
    /// Kind-specific numbers for the alert log.
    pub details: Map<String, Value>,
    /// Seconds after this frame during which the finding stands even when
    /// no frame shows it: an intermittent threat (a burst every few
    /// seconds, a slow pulse) is one incident while it recurs. 0 for
    /// findings that hold only while they are seen.
    pub hold_s: f64,
}

impl Detection {
    pub fn center_hz(&self) -> f64 {
        0.5 * (self.low_hz + self.high_hz)
    }
}

/// Confidence from how far a measure stands above its threshold (dB).
pub fn confidence_from_margin(margin_db: f32) -> f32 {
    (0.6 + margin_db / 25.0).clamp(0.5, 0.99)
}
