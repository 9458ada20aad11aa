//! `GET /metrics`: the run in the Prometheus text format, through the
//! `prometheus-client` crate. Counters follow the sink's running totals;
//! gauges that depend on the clock or the disk are set when scraped.

use crate::state::Board;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use rfsentry_core::alert::{AlertEvent, EventType};
use rfsentry_core::watch::Status;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindEvent {
    kind: String,
    event: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindState {
    kind: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Notification {
    pub channel: String,
    pub outcome: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// The registry and the metrics in it.
pub struct Metrics {
    registry: Registry,
    samples: Counter,
    lost_samples: Counter,
    gaps: Counter,
    alert_events: Family<KindEvent, Counter>,
    alerts: Family<KindState, Gauge>,
    open_alerts: Gauge,
    floor: FloatGauge,
    baseline_floor: FloatGauge,
    since_last_sample: FloatGauge,
    input_stopped: Gauge,
    evidence_bytes: Gauge,
    disk_free: Gauge,
    uptime: FloatGauge,
    clients: Gauge,
    pub notifications: Family<Notification, Counter>,
    /// The totals last seen, to turn them into counter increments.
    seen: (u64, u64, u64),
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut r = Registry::with_prefix("rfsentry");
        let m = Metrics {
            registry: Registry::default(),
            samples: Counter::default(),
            lost_samples: Counter::default(),
            gaps: Counter::default(),
            alert_events: Family::default(),
            alerts: Family::default(),
            open_alerts: Gauge::default(),
            floor: FloatGauge::default(),
            baseline_floor: FloatGauge::default(),
            since_last_sample: FloatGauge::default(),
            input_stopped: Gauge::default(),
            evidence_bytes: Gauge::default(),
            disk_free: Gauge::default(),
            uptime: FloatGauge::default(),
            clients: Gauge::default(),
            notifications: Family::default(),
            seen: (0, 0, 0),
        };
        r.register("samples", "Samples analysed", m.samples.clone());
        r.register(
            "lost_samples",
            "Samples lost before analysis (dropped blocks, overflows, timeouts, disconnects)",
            m.lost_samples.clone(),
        );
        r.register(
            "gaps",
            "Monitoring gaps (times samples were lost)",
            m.gaps.clone(),
        );
        r.register(
            "alert_events",
            "Alert events by kind and event (raised, updated, cleared, acknowledged)",
            m.alert_events.clone(),
        );
        r.register(
            "alerts",
            "Alerts of this run by kind and state (open, cleared)",
            m.alerts.clone(),
        );
        r.register("open_alerts", "Alerts open now", m.open_alerts.clone());
        r.register(
            "noise_floor_dbfs",
            "Median level of the latest spectrum, dBFS per bin",
            m.floor.clone(),
        );
        r.register(
            "baseline_floor_dbfs",
            "The site profile's noise floor, dBFS per bin",
            m.baseline_floor.clone(),
        );
        r.register(
            "seconds_since_last_sample",
            "Seconds since a new sample arrived",
            m.since_last_sample.clone(),
        );
        r.register(
            "input_stopped",
            "1 when no sample has arrived for a while during monitoring",
            m.input_stopped.clone(),
        );
        r.register(
            "evidence_bytes",
            "Bytes of evidence (IQ snippets, pictures) in the output directory",
            m.evidence_bytes.clone(),
        );
        r.register(
            "disk_free_bytes",
            "Free bytes on the output directory's file system",
            m.disk_free.clone(),
        );
        r.register(
            "uptime_seconds",
            "Seconds since monitoring started",
            m.uptime.clone(),
        );
        r.register(
            "console_clients",
            "Event-stream clients connected",
            m.clients.clone(),
        );
        r.register(
            "notifications",
            "Notifications by channel (exec, webhook) and outcome (sent, failed, dropped)",
            m.notifications.clone(),
        );
        // Every kind and state is a series from the start, at 0.
        for kind in rfsentry_core::alert::AlertKind::ALL {
            for state in ["open", "cleared"] {
                let _ = m.alerts.get_or_create(&KindState {
                    kind: kind.name().into(),
                    state: state.into(),
                });
            }
        }
        Metrics { registry: r, ..m }
    }

    /// An alert event happened.
    pub fn on_alert(&self, e: &AlertEvent) {
        let event = match e.event {
            EventType::Raised => "raised",
            EventType::Updated => "updated",
            EventType::Cleared => "cleared",
            EventType::Acknowledged => "acknowledged",
        };
        self.alert_events
            .get_or_create(&KindEvent {
                kind: e.kind.name().into(),
                event: event.into(),
            })
            .inc();
    }

    /// The sink's running totals.
    pub fn on_health(&mut self, s: &Status) {
        let (samples, lost, gaps) = self.seen;
        self.samples.inc_by(s.samples.saturating_sub(samples));
        self.lost_samples
            .inc_by(s.lost_samples.saturating_sub(lost));
        self.gaps.inc_by(s.gaps.saturating_sub(gaps));
        self.seen = (
            s.samples.max(samples),
            s.lost_samples.max(lost),
            s.gaps.max(gaps),
        );
        self.floor.set(s.noise_floor_dbfs as f64);
    }

    pub fn notification(&self, channel: &str, outcome: &str) {
        self.notifications
            .get_or_create(&Notification {
                channel: channel.into(),
                outcome: outcome.into(),
            })
            .inc();
    }

    /// The text exposition, with the gauges of `board` brought up to date.
    pub fn render(&self, board: &Board, disk: (u64, Option<u64>), clients: usize) -> String {
        for (kind, (open, cleared)) in board.counts_by_kind() {
            for (state, n) in [("open", open), ("cleared", cleared)] {
                self.alerts
                    .get_or_create(&KindState {
                        kind: kind.name().into(),
                        state: state.into(),
                    })
                    .set(n as i64);
            }
        }
        self.open_alerts.set(board.open_alerts().count() as i64);
        self.baseline_floor
            .set(board.info.baseline_floor_dbfs as f64);
        self.since_last_sample
            .set(board.seconds_since_last_sample());
        self.input_stopped.set(board.input_stopped() as i64);
        self.evidence_bytes.set(disk.0 as i64);
        if let Some(free) = disk.1 {
            self.disk_free.set(free.min(i64::MAX as u64) as i64);
        }
        self.uptime.set(board.uptime_s());
        self.clients.set(clients as i64);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String does not fail");
        text
    }
}

/// The content type of the exposition.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_names_every_metric() {
        let mut m = Metrics::new();
        let board = Board::new(crate::state::tests::info());
        m.on_health(&Status {
            samples: 1000,
            lost_samples: 10,
            gaps: 1,
            noise_floor_dbfs: -61.5,
            ..Default::default()
        });
        m.on_health(&Status {
            samples: 1500,
            lost_samples: 10,
            gaps: 1,
            noise_floor_dbfs: -61.0,
            ..Default::default()
        });
        let text = m.render(&board, (123, Some(456)), 2);
        for line in [
            "# TYPE rfsentry_samples counter",
            "rfsentry_samples_total 1500",
            "rfsentry_lost_samples_total 10",
            "rfsentry_gaps_total 1",
            "rfsentry_noise_floor_dbfs -61.0",
            "rfsentry_evidence_bytes 123",
            "rfsentry_disk_free_bytes 456",
            "rfsentry_open_alerts 0",
            "rfsentry_alerts{kind=\"jamming.tone\",state=\"open\"} 0",
            "rfsentry_console_clients 2",
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }
}
