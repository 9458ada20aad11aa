//! The hub's intake: one MQTT session (persistent, manual acknowledgements)
//! subscribed to every sensor; each message is checked, stored in a batch
//! transaction, and acknowledged to the broker only once that transaction is
//! committed — so a hub killed mid-batch gets the batch again.
//!
//! Bad input is counted and logged, never fatal: a topic outside the
//! contract, an oversized payload, malformed JSON, an unknown schema
//! version, a payload naming another site than its topic, a sensor flooding
//! (beyond a per-site rate). When a sensor's heartbeat says the broker
//! acknowledged events the hub does not have (it was subscribed too late, a
//! broker restart lost its queue), the hub asks the sensor to publish them
//! again (`replay`).

use super::store::{AlertFields, CustodyFields, EventRow, Store, Stored, Tx};
use crate::broker::BrokerSettings;
use crate::error::Result;
use crate::topics::{
    self, parse_topic, IqAnnouncement, ReplayRequest, StatusMessage, Topic, SCHEMA,
};
use rfsentry_core::custody::record::is_custody_event;
use rumqttc::{AsyncClient, Event, Packet, Publish, QoS};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Largest alert, status or announcement payload.
pub const MAX_JSON_BYTES: usize = 64 << 10;
/// Largest evidence picture.
pub const MAX_PNG_BYTES: usize = crate::evidence::MAX_PNG_BYTES as usize;
/// By default a site may send this many messages per second on average…
pub const FLOOD_RATE: f64 = 1000.0;
/// …in bursts of at most this many; beyond, its messages are dropped (and
/// what was an alert event is asked for again once the flood is over).
pub const FLOOD_BURST: f64 = 20_000.0;

/// The per-site limit on messages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloodLimit {
    /// Messages per second, on average.
    pub rate: f64,
    /// Messages in one burst.
    pub burst: f64,
}

impl Default for FloodLimit {
    fn default() -> Self {
        FloodLimit {
            rate: FLOOD_RATE,
            burst: FLOOD_BURST,
        }
    }
}
/// Messages stored per transaction at most.
const BATCH: usize = 1000;
/// Replay requests to one site at most this often.
const REPLAY_EVERY: Duration = Duration::from_secs(2);
/// Rejections of one reason logged one by one before the log thins out.
const LOG_FIRST: u64 = 5;

/// What the hub has counted since it started.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    pub connected: bool,
    pub received: u64,
    pub events_stored: u64,
    pub duplicates: u64,
    pub conflicts: u64,
    pub statuses: u64,
    pub pictures: u64,
    pub iq_announcements: u64,
    pub replays_requested: u64,
    pub store_errors: u64,
    pub rejected: BTreeMap<String, u64>,
    pub rejected_by_site: BTreeMap<String, u64>,
    pub flood_dropped: BTreeMap<String, u64>,
}

/// Shared between the intake and the web server.
pub type SharedStats = Arc<Mutex<Stats>>;

/// What the event loop hands the store thread.
enum Inbound {
    Subscribed,
    Message(Publish),
}

/// Start the intake: an event-loop task on `rt` and a store thread; they
/// end when `stop` is set.
pub fn start(
    rt: &tokio::runtime::Handle,
    broker: &BrokerSettings,
    client_id: &str,
    db: PathBuf,
    stats: SharedStats,
    flood: FloodLimit,
    stop: Arc<AtomicBool>,
) -> Result<std::thread::JoinHandle<()>> {
    let mut options = broker.options(client_id, Duration::from_secs(10))?;
    options.set_clean_session(false);
    options.set_manual_acks(true);
    options.set_inflight(100);
    // Larger than anything accepted, so an oversized message is refused
    // here (and acknowledged) instead of breaking the connection in a loop.
    options.set_max_packet_size(64 << 20, 64 << 10);
    let (client, mut eventloop) = AsyncClient::new(options, 1024);
    let (tx, rx) = tokio::sync::mpsc::channel::<Inbound>(4096);
    let url = broker.url.to_string();
    let (poll_client, poll_stats, poll_stop) = (client.clone(), stats.clone(), stop.clone());
    rt.spawn(async move {
        let mut last_error = String::new();
        while !poll_stop.load(Ordering::SeqCst) {
            match tokio::time::timeout(Duration::from_millis(250), eventloop.poll()).await {
                Err(_) => continue,
                Ok(Ok(Event::Incoming(Packet::ConnAck(ack)))) => {
                    tracing::warn!(
                        "hub: connected to {url} (session kept by the broker: {})",
                        ack.session_present
                    );
                    last_error.clear();
                    set_connected(&poll_stats, true);
                    let _ = poll_client.try_subscribe(topics::HUB_FILTER, QoS::AtLeastOnce);
                }
                Ok(Ok(Event::Incoming(Packet::SubAck(_)))) => {
                    if tx.send(Inbound::Subscribed).await.is_err() {
                        break;
                    }
                }
                Ok(Ok(Event::Incoming(Packet::Publish(p)))) => {
                    if tx.send(Inbound::Message(p)).await.is_err() {
                        break;
                    }
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    set_connected(&poll_stats, false);
                    let msg = e.to_string();
                    if msg != last_error {
                        tracing::warn!("hub: broker {url}: {msg}; retrying");
                        last_error = msg;
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
        let _ = poll_client.try_disconnect();
    });
    let mut store = Store::open(&db)?;
    std::thread::Builder::new()
        .name("rfsentry-hub-store".into())
        .spawn(move || {
            let mut intake = Intake {
                client,
                stats,
                flood,
                buckets: HashMap::new(),
                replayed: HashMap::new(),
                logged: HashMap::new(),
            };
            intake.run(&mut store, rx);
        })
        .map_err(|source| crate::error::FleetError::Start {
            what: "the hub's store thread",
            source,
        })
}

fn set_connected(stats: &SharedStats, up: bool) {
    if let Ok(mut s) = stats.lock() {
        s.connected = up;
    }
}

/// A per-site token bucket.
struct Bucket {
    tokens: f64,
    at: Instant,
}

struct Intake {
    client: AsyncClient,
    stats: SharedStats,
    flood: FloodLimit,
    buckets: HashMap<String, Bucket>,
    replayed: HashMap<String, Instant>,
    logged: HashMap<&'static str, u64>,
}

/// What one message came to.
enum Outcome {
    Event(Stored),
    Status(Option<(String, u64)>),
    Picture,
    Iq,
    Rejected {
        reason: &'static str,
        site: Option<String>,
        detail: String,
    },
    Flood(String),
    Ignored,
}

impl Intake {
    fn run(&mut self, store: &mut Store, mut rx: tokio::sync::mpsc::Receiver<Inbound>) {
        while let Some(first) = rx.blocking_recv() {
            let mut batch = vec![first];
            while batch.len() < BATCH {
                match rx.try_recv() {
                    Ok(m) => batch.push(m),
                    Err(_) => break,
                }
            }
            self.handle_batch(store, &batch);
        }
    }

    fn handle_batch(&mut self, store: &mut Store, batch: &[Inbound]) {
        loop {
            let received_us = chrono::Utc::now().timestamp_micros();
            let mut outcomes = Vec::with_capacity(batch.len());
            let mut catch_up = Vec::new();
            let result = store.transaction(|tx| {
                for m in batch {
                    match m {
                        Inbound::Subscribed => catch_up.extend(tx.lacking()?),
                        Inbound::Message(p) => outcomes.push(self.handle(tx, p, received_us)?),
                    }
                }
                Ok(())
            });
            match result {
                Ok(()) => {
                    for m in batch {
                        if let Inbound::Message(p) = m {
                            let _ = self.client.try_ack(p);
                        }
                    }
                    let mut replays = catch_up;
                    for o in outcomes {
                        if let Some(r) = self.count(o) {
                            replays.push(r);
                        }
                    }
                    for (site, from) in replays {
                        self.request_replay(&site, from);
                    }
                    return;
                }
                Err(e) => {
                    // Nothing was acknowledged: the broker keeps the batch.
                    if let Ok(mut s) = self.stats.lock() {
                        s.store_errors += 1;
                    }
                    tracing::error!(
                        "hub: cannot store a batch of {} messages (retrying in 1 s): {e}",
                        batch.len()
                    );
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
        }
    }

    fn allowed(&mut self, site: &str) -> bool {
        let now = Instant::now();
        let FloodLimit { rate, burst } = self.flood;
        let b = self.buckets.entry(site.to_string()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rate).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn handle(&mut self, tx: &Tx, p: &Publish, received_us: i64) -> Result<Outcome> {
        let reject = |reason, site: Option<&str>, detail: String| Outcome::Rejected {
            reason,
            site: site.map(str::to_string),
            detail,
        };
        let Some(topic) = parse_topic(&p.topic) else {
            return Ok(reject(
                "unknown topic",
                None,
                p.topic.chars().take(200).collect(),
            ));
        };
        let site = match &topic {
            Topic::Alert { site } | Topic::Status { site } | Topic::Replay { site } => *site,
            Topic::Evidence { site, .. } | Topic::Iq { site, .. } => *site,
        };
        if matches!(topic, Topic::Replay { .. }) {
            return Ok(Outcome::Ignored); // the hub's own requests
        }
        if !self.allowed(site) {
            return Ok(Outcome::Flood(site.to_string()));
        }
        let limit = if matches!(topic, Topic::Evidence { .. }) {
            MAX_PNG_BYTES
        } else {
            MAX_JSON_BYTES
        };
        if p.payload.len() > limit {
            return Ok(reject(
                "oversized",
                Some(site),
                format!("{} bytes on {} (limit {limit})", p.payload.len(), p.topic),
            ));
        }
        match topic {
            Topic::Evidence { site, id } => {
                if !p.payload.starts_with(b"\x89PNG\r\n\x1a\n") {
                    return Ok(reject("not a PNG", Some(site), p.topic.clone()));
                }
                tx.store_picture(site, id, &p.payload)?;
                Ok(Outcome::Picture)
            }
            Topic::Iq { site, id } => {
                let a: IqAnnouncement = match serde_json::from_slice(&p.payload) {
                    Ok(a) => a,
                    Err(e) => {
                        return Ok(reject(
                            "malformed JSON",
                            Some(site),
                            format!("{}: {e}", p.topic),
                        ))
                    }
                };
                if a.schema != SCHEMA {
                    return Ok(reject(
                        "unknown schema",
                        Some(site),
                        format!("{}: schema {}", p.topic, a.schema),
                    ));
                }
                if a.site != site || a.id != id {
                    return Ok(reject(
                        "site mismatch",
                        Some(site),
                        format!("{} names {}/{}", p.topic, a.site, a.id),
                    ));
                }
                tx.store_iq(&a)?;
                Ok(Outcome::Iq)
            }
            Topic::Status { site } => {
                let v: serde_json::Value = match serde_json::from_slice(&p.payload) {
                    Ok(v) => v,
                    Err(e) => {
                        return Ok(reject(
                            "malformed JSON",
                            Some(site),
                            format!("{}: {e}", p.topic),
                        ))
                    }
                };
                if v.get("schema").and_then(|s| s.as_u64()) != Some(SCHEMA) {
                    return Ok(reject(
                        "unknown schema",
                        Some(site),
                        format!(
                            "{}: schema {}",
                            p.topic,
                            v.get("schema").unwrap_or(&serde_json::Value::Null)
                        ),
                    ));
                }
                let s: StatusMessage = match serde_json::from_value(v) {
                    Ok(s) => s,
                    Err(e) => {
                        return Ok(reject(
                            "malformed JSON",
                            Some(site),
                            format!("{}: {e}", p.topic),
                        ))
                    }
                };
                if s.site != site {
                    return Ok(reject(
                        "site mismatch",
                        Some(site),
                        format!("{} carries site {:?}", p.topic, s.site),
                    ));
                }
                let raw = String::from_utf8_lossy(&p.payload);
                let lacking = tx.store_status(&s, &raw, received_us)?;
                let online = s.state == "online";
                Ok(Outcome::Status(
                    lacking
                        .filter(|_| online)
                        .map(|from| (site.to_string(), from)),
                ))
            }
            Topic::Alert { site } => self.handle_alert(tx, site, &p.payload, received_us),
            Topic::Replay { .. } => Ok(Outcome::Ignored),
        }
    }

    fn handle_alert(
        &mut self,
        tx: &Tx,
        site: &str,
        payload: &[u8],
        received_us: i64,
    ) -> Result<Outcome> {
        let reject = |reason, detail: String| Outcome::Rejected {
            reason,
            site: Some(site.to_string()),
            detail,
        };
        let v: serde_json::Value = match serde_json::from_slice(payload) {
            Ok(v @ serde_json::Value::Object(_)) => v,
            Ok(_) => {
                return Ok(reject(
                    "malformed JSON",
                    "an alert that is not a JSON object".into(),
                ))
            }
            Err(e) => return Ok(reject("malformed JSON", format!("alert: {e}"))),
        };
        match v.get("schema").and_then(|s| s.as_u64()) {
            Some(SCHEMA) => {}
            other => {
                return Ok(reject(
                    "unknown schema",
                    format!(
                        "alert of schema {}",
                        other.map_or("(none)".into(), |s| s.to_string())
                    ),
                ))
            }
        }
        let Some(seq) = v
            .get("fleet_seq")
            .and_then(|s| s.as_u64())
            .filter(|&s| s > 0)
        else {
            return Ok(reject(
                "missing field",
                "alert without a positive fleet_seq".into(),
            ));
        };
        let text = |k: &str| v.get(k).and_then(|x| x.as_str());
        let num = |k: &str| v.get(k).and_then(|x| x.as_f64());
        if v.get("skipped").is_some() {
            let line = String::from_utf8_lossy(payload);
            let row = EventRow {
                site,
                seq,
                alert: None,
                custody: None,
                line: &line,
                received_us,
            };
            return Ok(Outcome::Event(tx.store_event(&row)?));
        }
        if let Some(event) = text("event").filter(|e| is_custody_event(e) && e.len() <= 64) {
            // A line of the sensor's chain of custody: kept with its hash;
            // a signed one is a head the sensor's log can be checked against.
            let line_bytes =
                topics::original_line(payload, seq).unwrap_or_else(|| payload.to_vec());
            let Some(sealed) = rfsentry_core::custody::chain::parse(&line_bytes) else {
                return Ok(reject(
                    "missing field",
                    format!("custody line #{seq} is not sealed"),
                ));
            };
            let line = String::from_utf8_lossy(&line_bytes);
            let row = EventRow {
                site,
                seq,
                alert: None,
                custody: Some(CustodyFields {
                    event,
                    chain_seq: sealed.seq,
                    signed: sealed.sig.is_some(),
                    at: text("at"),
                    key_id: text("key_id"),
                    sha256: crate::cursor::sha256_hex(&line_bytes),
                }),
                line: &line,
                received_us,
            };
            return Ok(Outcome::Event(tx.store_event(&row)?));
        }
        let (Some(id), Some(event), Some(kind)) = (text("id"), text("event"), text("kind")) else {
            return Ok(reject(
                "missing field",
                format!("alert #{seq} lacks id, event or kind"),
            ));
        };
        if !topics::valid_name(id) || event.len() > 64 || kind.len() > 64 {
            return Ok(reject(
                "missing field",
                format!("alert #{seq}: id, event or kind not a name"),
            ));
        }
        if text("site") != Some(site) {
            return Ok(reject(
                "site mismatch",
                format!("alert {id} names site {:?} on {site}'s topic", text("site")),
            ));
        }
        let line_bytes = topics::original_line(payload, seq).unwrap_or_else(|| payload.to_vec());
        let line = String::from_utf8_lossy(&line_bytes);
        let row = EventRow {
            site,
            seq,
            alert: Some(AlertFields {
                id,
                event,
                kind,
                start: text("start"),
                end: text("end"),
                center_hz: num("center_hz"),
                freq_low_hz: num("freq_low_hz"),
                freq_high_hz: num("freq_high_hz"),
                peak_dbfs: num("peak_dbfs"),
                excess_db: num("excess_db"),
            }),
            custody: None,
            line: &line,
            received_us,
        };
        Ok(Outcome::Event(tx.store_event(&row)?))
    }

    /// Count an outcome (and log it); returns a replay to ask for.
    fn count(&mut self, o: Outcome) -> Option<(String, u64)> {
        let mut s = self.stats.lock().ok()?;
        s.received += 1;
        match o {
            Outcome::Event(Stored::New) => s.events_stored += 1,
            Outcome::Event(Stored::Duplicate) => s.duplicates += 1,
            Outcome::Event(Stored::Conflict) => {
                s.conflicts += 1;
                tracing::warn!("hub: a sensor sent another event under a sequence number already stored (its cursor was reset?); the first one is kept");
            }
            Outcome::Status(r) => {
                s.statuses += 1;
                return r;
            }
            Outcome::Picture => s.pictures += 1,
            Outcome::Iq => s.iq_announcements += 1,
            Outcome::Ignored => {}
            Outcome::Flood(site) => {
                let n = s.flood_dropped.entry(site.clone()).or_default();
                *n += 1;
                if *n == 1 || n.is_power_of_two() {
                    tracing::warn!(
                        "hub: {site} sends more than {} messages/s (bursts of {}); {n} dropped so far",
                        self.flood.rate,
                        self.flood.burst
                    );
                }
            }
            Outcome::Rejected {
                reason,
                site,
                detail,
            } => {
                *s.rejected.entry(reason.to_string()).or_default() += 1;
                if let Some(site) = &site {
                    *s.rejected_by_site.entry(site.clone()).or_default() += 1;
                }
                let n = self.logged.entry(reason).or_default();
                *n += 1;
                if *n <= LOG_FIRST || n.is_power_of_two() {
                    tracing::warn!(
                        "hub: rejected ({reason}, {n} so far) from {}: {detail}",
                        site.as_deref().unwrap_or("an unknown sender")
                    );
                }
            }
        }
        None
    }

    fn request_replay(&mut self, site: &str, from_seq: u64) {
        let now = Instant::now();
        if self
            .replayed
            .get(site)
            .is_some_and(|t| now.duration_since(*t) < REPLAY_EVERY)
        {
            return;
        }
        self.replayed.insert(site.to_string(), now);
        let payload = serde_json::to_vec(&ReplayRequest {
            schema: SCHEMA,
            from_seq,
        })
        .expect("serialises");
        if self
            .client
            .try_publish(topics::replay_topic(site), QoS::AtLeastOnce, false, payload)
            .is_ok()
        {
            tracing::info!("hub: asking {site} for its events from #{from_seq}");
            if let Ok(mut s) = self.stats.lock() {
                s.replays_requested += 1;
            }
        }
    }
}
