//! Detection quality against ground truth: alerts from an alert log are
//! matched to the SigMF annotations of the recordings they came from (same
//! kind family, overlapping time and frequency), giving probability of
//! detection by kind and by excess power, classification accuracy, false
//! alerts per hour, detection latency and frequency error.

use crate::alert::{AlertEvent, AlertKind, EventType};
use crate::iq::Annotation;
use serde::Serialize;
use std::collections::BTreeMap;

/// Seconds of slack when matching alert and annotation times.
const TIME_SLACK_S: f64 = 0.5;

/// One recording's ground truth.
#[derive(Debug, Clone)]
pub struct RecordingTruth {
    /// The recording's name as alerts refer to it (any path form; matched by file stem).
    pub name: String,
    pub sample_rate: f64,
    pub samples: u64,
    pub annotations: Vec<Annotation>,
}

/// One alert, as the log tells its story.
#[derive(Debug, Clone)]
struct AlertStory {
    raised: AlertEvent,
    last: AlertEvent,
}

/// How one annotated event fared.
#[derive(Debug, Clone, Serialize)]
pub struct EventOutcome {
    pub recording: String,
    pub kind: String,
    pub excess_db: Option<f64>,
    pub start_s: f64,
    pub end_s: f64,
    pub detected: bool,
    pub alert_id: Option<String>,
    pub alert_kind: Option<AlertKind>,
    pub classified: bool,
    /// Seconds from the event's start to the alert being raised.
    pub latency_s: Option<f64>,
    /// |alert centre − event centre|, Hz.
    pub freq_error_hz: Option<f64>,
    /// The event's bandwidth, Hz.
    pub bandwidth_hz: f64,
    /// Alerts raised for it: one incident should be exactly one alert.
    pub alerts: u64,
}

/// Detected / total.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Rate {
    pub detected: u64,
    pub total: u64,
    pub pd: f64,
}

impl Rate {
    fn add(&mut self, hit: bool) {
        self.total += 1;
        self.detected += hit as u64;
        self.pd = self.detected as f64 / self.total as f64;
    }
}

/// The whole score.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScoreReport {
    pub events: Vec<EventOutcome>,
    pub by_kind: BTreeMap<String, Rate>,
    pub by_excess: BTreeMap<String, Rate>,
    pub detected: u64,
    pub total: u64,
    pub classification_accuracy: f64,
    pub false_alerts: Vec<String>,
    pub false_alerts_per_hour: f64,
    /// Alerts beyond the first for detected events (fragments of one
    /// incident raised as several alerts).
    pub extra_alerts: u64,
    /// Mean alerts per detected event (1.0 is one incident, one alert).
    pub alerts_per_event: f64,
    pub hours: f64,
    pub latency_p50_s: Option<f64>,
    pub latency_p95_s: Option<f64>,
    pub freq_error_p50_hz: Option<f64>,
    pub freq_error_max_hz: Option<f64>,
}

/// Moved into the core library (the alert sink names evidence by it).
pub use crate::iq::recording_stem;

fn excess_bucket(x: Option<f64>) -> String {
    match x {
        None => "unstated".into(),
        Some(x) if x < 6.0 => "< 6 dB".into(),
        Some(x) if x < 10.0 => "6–10 dB".into(),
        Some(x) if x < 20.0 => "10–20 dB".into(),
        Some(_) => "≥ 20 dB".into(),
    }
}

fn percentile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let idx = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
    Some(v[idx])
}

/// Score `events` (a whole alert log) against `truths`.
pub fn score(events: &[AlertEvent], truths: &[RecordingTruth]) -> ScoreReport {
    let mut stories: Vec<AlertStory> = Vec::new();
    for e in events {
        match stories.iter_mut().find(|s| s.raised.id == e.id) {
            Some(s) => s.last = e.clone(),
            None if e.event == EventType::Raised => stories.push(AlertStory {
                raised: e.clone(),
                last: e.clone(),
            }),
            None => {}
        }
    }
    let single = truths.len() == 1;
    let mut report = ScoreReport::default();
    let mut used = vec![false; stories.len()];
    let mut latencies = Vec::new();
    let mut freq_errors = Vec::new();
    let mut classified = 0u64;
    for truth in truths {
        let stem = recording_stem(&truth.name);
        let rate = truth.sample_rate;
        let slack = (TIME_SLACK_S * rate) as u64;
        report.hours += truth.samples as f64 / rate / 3600.0;
        for ann in &truth.annotations {
            let Some(kind) = ann.kind() else { continue };
            let family = kind.split('.').next().unwrap_or(kind);
            let start = ann.sample_start;
            let end = ann.sample_end().unwrap_or(start);
            let (lo, hi) = (
                ann.freq_lower_edge.unwrap_or(f64::MIN),
                ann.freq_upper_edge.unwrap_or(f64::MAX),
            );
            let matches = |s: &AlertStory| {
                let a = &s.last;
                (single || recording_stem(&a.recording) == stem)
                    && a.kind.family() == family
                    && a.start_sample <= end.saturating_add(slack)
                    && a.end_sample.saturating_add(slack) >= start
                    && a.freq_low_hz <= hi
                    && a.freq_high_hz >= lo
            };
            let hits: Vec<usize> = (0..stories.len())
                .filter(|&i| matches(&stories[i]))
                .collect();
            for &i in &hits {
                used[i] = true;
            }
            // The best match: the right kind if any, else the earliest.
            let best = hits
                .iter()
                .copied()
                .find(|&i| stories[i].last.kind.name() == kind)
                .or_else(|| hits.first().copied());
            let bandwidth = if hi > lo && hi < f64::MAX {
                hi - lo
            } else {
                0.0
            };
            let mut outcome = EventOutcome {
                recording: truth.name.clone(),
                kind: kind.to_string(),
                excess_db: ann.excess_db(),
                start_s: start as f64 / rate,
                end_s: end as f64 / rate,
                detected: best.is_some(),
                alert_id: None,
                alert_kind: None,
                classified: false,
                latency_s: None,
                freq_error_hz: None,
                bandwidth_hz: bandwidth,
                alerts: hits.len() as u64,
            };
            if let Some(i) = best {
                let s = &stories[i];
                outcome.alert_id = Some(s.raised.id.clone());
                // The alert's settled kind: a jammer's may be refined after
                // it is raised, once its pattern shows (a slow pulse).
                outcome.alert_kind = Some(s.last.kind);
                outcome.classified = s.last.kind.name() == kind;
                let latency = s.raised.end_sample.saturating_sub(start) as f64 / rate;
                outcome.latency_s = Some(latency);
                latencies.push(latency);
                if bandwidth > 0.0 {
                    let err = (s.last.center_hz - 0.5 * (lo + hi)).abs();
                    outcome.freq_error_hz = Some(err);
                    freq_errors.push(err);
                }
                classified += outcome.classified as u64;
            }
            report
                .by_kind
                .entry(kind.to_string())
                .or_default()
                .add(outcome.detected);
            report
                .by_excess
                .entry(excess_bucket(outcome.excess_db))
                .or_default()
                .add(outcome.detected);
            report.total += 1;
            report.detected += outcome.detected as u64;
            report.events.push(outcome);
        }
    }
    let detected: Vec<&EventOutcome> = report.events.iter().filter(|e| e.detected).collect();
    report.extra_alerts = detected.iter().map(|e| e.alerts.saturating_sub(1)).sum();
    report.alerts_per_event = if detected.is_empty() {
        0.0
    } else {
        detected.iter().map(|e| e.alerts).sum::<u64>() as f64 / detected.len() as f64
    };
    report.false_alerts = stories
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(s, _)| {
            format!(
                "{} {} {:.4} MHz at {}",
                s.raised.id,
                s.raised.kind,
                s.last.center_hz / 1e6,
                s.raised.start
            )
        })
        .collect();
    report.false_alerts_per_hour = if report.hours > 0.0 {
        report.false_alerts.len() as f64 / report.hours
    } else {
        0.0
    };
    report.classification_accuracy = if report.detected > 0 {
        classified as f64 / report.detected as f64
    } else {
        0.0
    };
    report.latency_p50_s = percentile(&latencies, 0.5);
    report.latency_p95_s = percentile(&latencies, 0.95);
    report.freq_error_p50_hz = percentile(&freq_errors, 0.5);
    report.freq_error_max_hz = percentile(&freq_errors, 1.0);
    report
}

impl ScoreReport {
    /// A human-readable summary table.
    pub fn to_table(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<22} {:>8} {:>8} {:>6}",
            "kind", "detected", "events", "Pd"
        );
        for (k, r) in &self.by_kind {
            let _ = writeln!(
                s,
                "{:<22} {:>8} {:>8} {:>6.2}",
                k, r.detected, r.total, r.pd
            );
        }
        let _ = writeln!(
            s,
            "\n{:<22} {:>8} {:>8} {:>6}",
            "excess over floor", "detected", "events", "Pd"
        );
        for (k, r) in &self.by_excess {
            let _ = writeln!(
                s,
                "{:<22} {:>8} {:>8} {:>6.2}",
                k, r.detected, r.total, r.pd
            );
        }
        let opt = |x: Option<f64>, unit: &str, scale: f64| {
            x.map(|v| format!("{:.3} {unit}", v * scale))
                .unwrap_or_else(|| "–".into())
        };
        let _ = writeln!(
            s,
            "\ndetected {}/{} events; classification accuracy {:.2}",
            self.detected, self.total, self.classification_accuracy
        );
        let _ = writeln!(
            s,
            "alerts per detected event {:.2} ({} extra)",
            self.alerts_per_event, self.extra_alerts
        );
        let _ = writeln!(
            s,
            "false alerts: {} ({:.2} per hour over {:.4} h)",
            self.false_alerts.len(),
            self.false_alerts_per_hour,
            self.hours
        );
        let _ = writeln!(
            s,
            "latency p50 {}, p95 {}",
            opt(self.latency_p50_s, "s", 1.0),
            opt(self.latency_p95_s, "s", 1.0)
        );
        let _ = writeln!(
            s,
            "frequency error p50 {}, max {}",
            opt(self.freq_error_p50_hz, "kHz", 1e-3),
            opt(self.freq_error_max_hz, "kHz", 1e-3)
        );
        for fa in &self.false_alerts {
            let _ = writeln!(s, "  false alert: {fa}");
        }
        for e in self.events.iter().filter(|e| !e.detected) {
            let _ = writeln!(
                s,
                "  missed: {} at {:.2} s ({})",
                e.kind, e.start_s, e.recording
            );
        }
        s
    }
}
