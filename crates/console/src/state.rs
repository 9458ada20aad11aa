//! What the console knows about the run: the sensor (fixed at start), every
//! alert of the run with its latest state and its acknowledgements, and the
//! latest health — kept by the hub thread, read by the web handlers and the
//! metrics. JSON shapes of `/api/status` and `/api/alerts` are made here.

use rfsentry_core::alert::{AlertEvent, AlertKind, EventType};
use rfsentry_core::watch::Status;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Instant;

/// Seconds without a new sample after which the input counts as stopped.
pub const STALLED_AFTER_S: f64 = 2.0;

/// The sensor and run, as known when monitoring starts.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub site: String,
    pub description: String,
    /// The recording's path or the device arguments.
    pub source: String,
    /// A receiver (not a replayed recording).
    pub live: bool,
    pub sample_rate: f64,
    pub tunings_hz: Vec<f64>,
    /// Time of sample 0 (RFC 3339), when known.
    pub start_time: Option<String>,
    pub out_dir: PathBuf,
    /// dBm at 0 dBFS, when the profile is calibrated.
    pub dbm_at_0dbfs: Option<f64>,
    /// The profile's noise floor (median over its tunings), dBFS per bin.
    pub baseline_floor_dbfs: f32,
}

/// Who acknowledged an alert, when, and their note.
#[derive(Debug, Clone, PartialEq)]
pub struct AckInfo {
    pub by: String,
    pub at: String,
    pub note: String,
}

/// One alert of the run.
#[derive(Debug, Clone)]
pub struct AlertRecord {
    /// The latest lifecycle event (raised, updated or cleared).
    pub latest: AlertEvent,
    pub acks: Vec<AckInfo>,
    /// The board's sequence number of the last change (clients keep the newest).
    pub seq: u64,
}

impl AlertRecord {
    pub fn is_open(&self) -> bool {
        self.latest.event != EventType::Cleared
    }

    /// The record as `/api/alerts` and the event stream give it: the alert
    /// event's fields, plus `state`, `duration_s`, `acknowledgements`,
    /// `evidence_ready` (the files exist yet) and `seq`.
    pub fn to_json(&self, info: &RunInfo) -> Value {
        let mut v = serde_json::to_value(&self.latest).expect("alert events serialise");
        let obj = v.as_object_mut().expect("an alert event is an object");
        let ready =
            |rel: &Option<String>| rel.as_ref().is_some_and(|r| info.out_dir.join(r).is_file());
        obj.insert(
            "state".into(),
            json!(if self.is_open() { "open" } else { "cleared" }),
        );
        obj.insert(
            "duration_s".into(),
            json!((self.latest.duration_s(info.sample_rate) * 100.0).round() / 100.0),
        );
        obj.insert(
            "acknowledgements".into(),
            Value::Array(
                self.acks
                    .iter()
                    .map(|a| json!({"by": a.by, "at": a.at, "note": a.note}))
                    .collect(),
            ),
        );
        obj.insert(
            "evidence_ready".into(),
            json!({
                "spectrogram": ready(&self.latest.evidence.spectrogram),
                "iq": ready(&self.latest.evidence.iq),
            }),
        );
        obj.insert("seq".into(), json!(self.seq));
        v
    }
}

/// The live picture of the run.
#[derive(Debug)]
pub struct Board {
    pub info: RunInfo,
    alerts: Vec<AlertRecord>,
    index: HashMap<String, usize>,
    seq: u64,
    health: Status,
    started: Instant,
    /// When the sample count last grew.
    last_sample_at: Option<Instant>,
    /// Samples per second over the last health interval.
    recent_rate: f64,
    last_health: Option<(Instant, u64)>,
    /// Monitoring has ended (the tap closed).
    pub ended: bool,
    /// Acknowledgements written.
    pub acks_written: u64,
}

impl Board {
    pub fn new(info: RunInfo) -> Self {
        Board {
            info,
            alerts: Vec::new(),
            index: HashMap::new(),
            seq: 0,
            health: Status::default(),
            started: Instant::now(),
            last_sample_at: None,
            recent_rate: 0.0,
            last_health: None,
            ended: false,
            acks_written: 0,
        }
    }

    /// Take an alert event; returns the alert's record after it.
    pub fn on_alert(&mut self, e: &AlertEvent) -> &AlertRecord {
        self.seq += 1;
        let seq = self.seq;
        let i = match self.index.get(&e.id) {
            Some(&i) => i,
            None => {
                self.index.insert(e.id.clone(), self.alerts.len());
                self.alerts.push(AlertRecord {
                    latest: e.clone(),
                    acks: Vec::new(),
                    seq,
                });
                self.alerts.len() - 1
            }
        };
        let record = &mut self.alerts[i];
        record.seq = seq;
        match e.event {
            EventType::Acknowledged => {
                let a = e.details.get("acknowledged").cloned().unwrap_or_default();
                let text = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                record.acks.push(AckInfo {
                    by: text("by"),
                    at: text("at"),
                    note: text("note"),
                });
                self.acks_written += 1;
            }
            _ => record.latest = e.clone(),
        }
        &self.alerts[i]
    }

    /// Take the live status.
    pub fn on_health(&mut self, s: &Status) {
        let now = Instant::now();
        if s.samples > self.health.samples || (self.last_sample_at.is_none() && s.samples > 0) {
            self.last_sample_at = Some(now);
        }
        if let Some((at, samples)) = self.last_health {
            let dt = now.duration_since(at).as_secs_f64();
            if dt > 0.0 {
                self.recent_rate = s.samples.saturating_sub(samples) as f64 / dt;
            }
        }
        self.last_health = Some((now, s.samples));
        self.health = s.clone();
    }

    pub fn health(&self) -> &Status {
        &self.health
    }

    pub fn alert(&self, id: &str) -> Option<&AlertRecord> {
        self.index.get(id).map(|&i| &self.alerts[i])
    }

    pub fn alerts(&self) -> &[AlertRecord] {
        &self.alerts
    }

    pub fn open_alerts(&self) -> impl Iterator<Item = &AlertRecord> {
        self.alerts.iter().filter(|a| a.is_open())
    }

    /// Seconds since the console started.
    pub fn uptime_s(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Seconds since the last new sample (since start, when none came yet).
    pub fn seconds_since_last_sample(&self) -> f64 {
        self.last_sample_at
            .unwrap_or(self.started)
            .elapsed()
            .as_secs_f64()
    }

    /// The input has stopped: no new sample for [`STALLED_AFTER_S`] while monitoring.
    pub fn input_stopped(&self) -> bool {
        !self.ended && self.seconds_since_last_sample() > STALLED_AFTER_S
    }

    /// A monitoring gap is open (samples are being lost).
    pub fn in_gap(&self) -> bool {
        self.open_alerts()
            .any(|a| a.latest.kind == AlertKind::MonitoringGap)
    }

    /// Open and cleared alerts by kind.
    pub fn counts_by_kind(&self) -> BTreeMap<AlertKind, (u64, u64)> {
        let mut counts: BTreeMap<AlertKind, (u64, u64)> =
            AlertKind::ALL.iter().map(|&k| (k, (0, 0))).collect();
        for a in &self.alerts {
            let c = counts.entry(a.latest.kind).or_default();
            match a.is_open() {
                true => c.0 += 1,
                false => c.1 += 1,
            }
        }
        counts
    }

    /// `/api/alerts`: every alert of the run, in the order they were raised.
    pub fn alerts_json(&self) -> Value {
        Value::Array(self.alerts.iter().map(|a| a.to_json(&self.info)).collect())
    }

    /// `/api/status`; `disk` is (evidence bytes, free bytes), `extra` is added as is.
    pub fn status_json(&self, disk: (u64, Option<u64>), extra: Map<String, Value>) -> Value {
        let h = &self.health;
        let i = &self.info;
        let by_kind: Map<String, Value> = self
            .counts_by_kind()
            .into_iter()
            .filter(|(_, (open, cleared))| open + cleared > 0)
            .map(|(k, (open, cleared))| {
                (
                    k.name().to_string(),
                    json!({"open": open, "cleared": cleared}),
                )
            })
            .collect();
        let r1 = |x: f64| (x * 10.0).round() / 10.0;
        let mut v = json!({
            "site": i.site,
            "description": i.description,
            "version": rfsentry_core::VERSION,
            "sensor": {
                "source": i.source,
                "live": i.live,
                "sample_rate": i.sample_rate,
                "tunings_hz": i.tunings_hz,
                "start_time": i.start_time,
                "calibrated": i.dbm_at_0dbfs.is_some(),
                "dbm_at_0dbfs": i.dbm_at_0dbfs,
            },
            "monitoring": !self.ended,
            "uptime_s": r1(self.uptime_s()),
            "samples": h.samples,
            "stream_s": (h.seconds * 1000.0).round() / 1000.0,
            "samples_per_s": self.recent_rate.round(),
            "gaps": h.gaps,
            "lost_samples": h.lost_samples,
            "noise_floor_dbfs": r1(h.noise_floor_dbfs as f64),
            "baseline_floor_dbfs": r1(i.baseline_floor_dbfs as f64),
            "seconds_since_last_sample": r1(self.seconds_since_last_sample()),
            "input_stopped": self.input_stopped(),
            "in_gap": self.in_gap(),
            "open_alerts": self.open_alerts().count(),
            "total_alerts": self.alerts.len(),
            "alerts_by_kind": by_kind,
            "acknowledgements": self.acks_written,
            "evidence_bytes": disk.0,
            "disk_free_bytes": disk.1,
        });
        if let Some(obj) = v.as_object_mut() {
            obj.extend(extra);
        }
        v
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn info() -> RunInfo {
        RunInfo {
            site: "s".into(),
            description: String::new(),
            source: "r".into(),
            live: false,
            sample_rate: 10.0,
            tunings_hz: vec![1e6],
            start_time: None,
            out_dir: PathBuf::from("/nonexistent"),
            dbm_at_0dbfs: None,
            baseline_floor_dbfs: -60.0,
        }
    }

    fn event(id: &str, event: EventType, kind: AlertKind) -> AlertEvent {
        let mut v = json!({
            "id": id, "event": "raised", "kind": "jamming.tone", "site": "s", "recording": "r",
            "start": "2024-05-01T12:00:00Z", "end": "2024-05-01T12:00:01Z",
            "start_sample": 0, "end_sample": 25, "freq_low_hz": 1.0, "freq_high_hz": 2.0,
            "center_hz": 1.5, "peak_dbfs": -20.0, "excess_db": 10.0, "snr_db": 12.0,
            "confidence": 0.9, "evidence": {}
        });
        v["event"] = serde_json::to_value(event).unwrap();
        v["kind"] = serde_json::to_value(kind).unwrap();
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn an_alert_keeps_its_latest_state_and_its_acknowledgements() {
        let mut b = Board::new(info());
        b.on_alert(&event("a", EventType::Raised, AlertKind::JammingTone));
        b.on_alert(&event("g", EventType::Raised, AlertKind::MonitoringGap));
        assert!(b.in_gap());
        let mut ack = event("a", EventType::Acknowledged, AlertKind::JammingTone);
        ack.details.insert(
            "acknowledged".into(),
            json!({"by": "op", "at": "2024-05-01T12:00:02Z", "note": "seen"}),
        );
        b.on_alert(&ack);
        let a = b.alert("a").unwrap();
        assert!(a.is_open(), "an acknowledgement does not clear an alert");
        assert_eq!(a.acks[0].note, "seen");
        b.on_alert(&event("g", EventType::Cleared, AlertKind::MonitoringGap));
        assert!(!b.in_gap());
        let list = b.alerts_json();
        assert_eq!(list[0]["id"], "a");
        assert_eq!(list[0]["state"], "open");
        assert_eq!(list[0]["event"], "raised");
        assert_eq!(list[0]["duration_s"], 2.5);
        assert_eq!(list[0]["acknowledgements"][0]["by"], "op");
        assert_eq!(list[1]["state"], "cleared");
        assert!(list[1]["seq"].as_u64() > list[0]["seq"].as_u64());
        let s = b.status_json((5, Some(7)), Map::new());
        assert_eq!(s["open_alerts"], 1);
        assert_eq!(s["alerts_by_kind"]["jamming.tone"]["open"], 1);
        assert_eq!(s["alerts_by_kind"]["monitoring_gap"]["cleared"], 1);
        assert_eq!(s["acknowledgements"], 1);
    }
}
