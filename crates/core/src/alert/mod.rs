//! Alerts: the kinds rfsentry raises, the event record of the alert log (a
//! stable JSON Lines contract other tools parse), and the sinks that write it.

pub mod ack;
pub mod log;
pub mod out_dir;
pub mod retrying_log;

use serde::{Deserialize, Serialize};
use std::fmt;

/// What an alert is about (DESIGN §4). Serialised exactly as these names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum AlertKind {
    #[serde(rename = "jamming.barrage")]
    JammingBarrage,
    #[serde(rename = "jamming.tone")]
    JammingTone,
    #[serde(rename = "jamming.swept")]
    JammingSwept,
    #[serde(rename = "jamming.pulsed")]
    JammingPulsed,
    #[serde(rename = "emitter.unknown")]
    EmitterUnknown,
    #[serde(rename = "emitter.anomalous")]
    EmitterAnomalous,
    #[serde(rename = "receiver.overload")]
    ReceiverOverload,
    #[serde(rename = "receiver.signal_loss")]
    ReceiverSignalLoss,
    #[serde(rename = "monitoring_gap")]
    MonitoringGap,
}

impl AlertKind {
    /// Every kind, in a stable order.
    pub const ALL: [AlertKind; 9] = [
        AlertKind::JammingBarrage,
        AlertKind::JammingTone,
        AlertKind::JammingSwept,
        AlertKind::JammingPulsed,
        AlertKind::EmitterUnknown,
        AlertKind::EmitterAnomalous,
        AlertKind::ReceiverOverload,
        AlertKind::ReceiverSignalLoss,
        AlertKind::MonitoringGap,
    ];

    /// The name used in the alert log, profiles and annotations.
    pub fn name(self) -> &'static str {
        match self {
            AlertKind::JammingBarrage => "jamming.barrage",
            AlertKind::JammingTone => "jamming.tone",
            AlertKind::JammingSwept => "jamming.swept",
            AlertKind::JammingPulsed => "jamming.pulsed",
            AlertKind::EmitterUnknown => "emitter.unknown",
            AlertKind::EmitterAnomalous => "emitter.anomalous",
            AlertKind::ReceiverOverload => "receiver.overload",
            AlertKind::ReceiverSignalLoss => "receiver.signal_loss",
            AlertKind::MonitoringGap => "monitoring_gap",
        }
    }

    /// The family used when matching alerts to ground truth (`jamming`, `emitter`, …).
    pub fn family(self) -> &'static str {
        self.name().split('.').next().unwrap_or("")
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for AlertKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AlertKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = AlertKind::ALL.iter().map(|k| k.name()).collect();
                format!(
                    "unknown alert kind {s:?}; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// Where an alert is in its lifecycle, or what a person did about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    Raised,
    Updated,
    Cleared,
    /// An operator acknowledged the alert (who, when and their note in
    /// `details.acknowledged`, see [`ack`]); it does not change the alert's
    /// lifecycle: an open alert stays open.
    Acknowledged,
}

/// Paths to an alert's evidence, relative to the alert directory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvidencePaths {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spectrogram: Option<String>,
    /// SHA-256 of the spectrogram PNG, binding it into the log's chain of
    /// custody on the line that names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spectrogram_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iq: Option<String>,
}

/// One line of the alert log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// Stable per alert: every event of one alert carries the same id.
    pub id: String,
    pub event: EventType,
    pub kind: AlertKind,
    pub site: String,
    /// The recording's path, or the device arguments.
    pub recording: String,
    /// RFC 3339 times of the alert's first and (so far) last evidence.
    pub start: String,
    pub end: String,
    /// Sample indices from the start of the recording (end exclusive).
    pub start_sample: u64,
    pub end_sample: u64,
    pub freq_low_hz: f64,
    pub freq_high_hz: f64,
    pub center_hz: f64,
    pub peak_dbfs: f64,
    /// `peak_dbfs` in dBm at the antenna port, when the profile is calibrated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_dbm: Option<f64>,
    /// Power over the baseline (its p99 for emitters, its floor for jamming), dB.
    pub excess_db: f64,
    /// Peak over the local noise floor, dB.
    pub snr_db: f64,
    /// 0–1.
    pub confidence: f64,
    pub evidence: EvidencePaths,
    /// Kind-specific numbers (duty, period, sweep rate, gap cause, …).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl AlertEvent {
    /// Duration in seconds at `sample_rate`.
    pub fn duration_s(&self, sample_rate: f64) -> f64 {
        self.end_sample.saturating_sub(self.start_sample) as f64 / sample_rate
    }
}

/// A plain `jamming.tone` alert event for unit tests (1–2 Hz, samples 0–10).
#[cfg(test)]
pub(crate) fn test_event(id: &str, event: EventType) -> AlertEvent {
    AlertEvent {
        id: id.into(),
        event,
        kind: AlertKind::JammingTone,
        site: "s".into(),
        recording: "r".into(),
        start: "2024-05-01T12:00:00Z".into(),
        end: "2024-05-01T12:00:01Z".into(),
        start_sample: 0,
        end_sample: 10,
        freq_low_hz: 1.0,
        freq_high_hz: 2.0,
        center_hz: 1.5,
        peak_dbfs: -20.0,
        peak_dbm: None,
        excess_db: 10.0,
        snr_db: 12.0,
        confidence: 0.9,
        evidence: EvidencePaths::default(),
        details: Default::default(),
    }
}
