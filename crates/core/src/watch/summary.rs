//! What a watch run reports when it ends: counts of alerts by kind, samples,
//! frames, gaps and throughput, and the last state of each alert — at most
//! [`MAX_LISTED_ALERTS`] of them, so a run's memory does not grow with its
//! length (updates replace an alert's entry; later alerts are only counted).

use crate::alert::{AlertEvent, AlertKind, EventType};
use std::collections::{BTreeMap, HashMap};

/// Alerts whose last state a run keeps (for the summary table, the overview
/// picture and the report); about 1 KB each. Alerts beyond are counted.
pub const MAX_LISTED_ALERTS: usize = 10_000;

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
    /// Final state of each alert (its last event), in order of first
    /// appearance; at most [`MAX_LISTED_ALERTS`].
    pub alert_list: Vec<AlertEvent>,
    /// Alerts raised after `alert_list` was full (counted, not listed).
    pub unlisted_alerts: u64,
    /// Position of each listed alert in `alert_list`, by id.
    listed: HashMap<String, usize>,
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
        match self.listed.get(&e.id) {
            Some(&i) => self.alert_list[i] = e.clone(),
            None if self.alert_list.len() < MAX_LISTED_ALERTS => {
                self.listed.insert(e.id.clone(), self.alert_list.len());
                self.alert_list.push(e.clone());
            }
            None => self.unlisted_alerts += u64::from(e.event == EventType::Raised),
        }
    }

    /// The last state recorded for alert `id`, if it is listed.
    pub fn latest(&self, id: &str) -> Option<&AlertEvent> {
        self.listed.get(id).map(|&i| &self.alert_list[i])
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
