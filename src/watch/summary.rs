//! What a watch run reports when it ends: counts of alerts by kind, samples,
//! frames, gaps and throughput.

use crate::alert::{AlertEvent, AlertKind, EventType};
use std::collections::BTreeMap;

/// Totals of one watch run.
#[derive(Debug, Clone, Default)]
pub struct WatchSummary {
    pub samples: u64,
    pub frames: u64,
    pub gaps: u64,
    pub lost_samples: u64,
    /// Samples that were NaN or infinite at the source and were analysed as 0.
    pub nonfinite_samples: u64,
    /// Raised alerts by kind.
    pub alerts: BTreeMap<AlertKind, u64>,
    /// Final state of each alert (its last event).
    pub alert_list: Vec<AlertEvent>,
    pub elapsed_s: f64,
    /// Next unused alert number.
    pub next_id: u64,
    /// Evidence that a limit dropped.
    pub evidence_dropped: u64,
    /// The recording's overview picture, relative to the output directory.
    pub overview_png: Option<String>,
    /// The alert log could not be written (alerts reached only the terminal).
    pub log_failed: bool,
}

impl WatchSummary {
    pub fn record(&mut self, e: &AlertEvent) {
        if e.event == EventType::Raised {
            *self.alerts.entry(e.kind).or_default() += 1;
        }
        match self.alert_list.iter_mut().find(|a| a.id == e.id) {
            Some(a) => *a = e.clone(),
            None => self.alert_list.push(e.clone()),
        }
    }

    pub fn total_alerts(&self) -> u64 {
        self.alerts.values().sum()
    }

    /// Samples per second of processing.
    pub fn rate_msps(&self) -> f64 {
        if self.elapsed_s > 0.0 {
            self.samples as f64 / self.elapsed_s / 1e6
        } else {
            0.0
        }
    }
}
