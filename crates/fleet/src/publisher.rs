//! The sensor's publisher (`monitor --publish`): a thread of its own that
//! tails the alert log from the spool cursor and publishes every line to the
//! broker at QoS 1, with the spectrogram PNGs and IQ announcements the lines
//! name, a retained heartbeat and a Last Will.
//!
//! The monitor's pipeline never waits for it: the only link is the log on
//! disk and a shared snapshot of the health numbers. What the broker has
//! acknowledged advances the durable cursor (in log order: a line counts once
//! every message it caused is acknowledged). Every new connection starts
//! again from the cursor, so after an outage, a cut link or a restart every
//! unacknowledged event is published again, in order; the hub drops what it
//! already has by sequence number. A hub that missed events (it was
//! subscribed late) asks for them on the `replay` topic and the publisher
//! reads the log again from there.

use crate::broker::BrokerSettings;
use crate::cursor::{sha256_hex, Cursor};
use crate::error::Result;
use crate::evidence;
use crate::spool::{LogTail, SpoolLine};
use crate::topics::{self, Health, ReplayRequest, SpoolState, StatusMessage, SCHEMA};
use rumqttc::{AsyncClient, Event, LastWill, Outgoing, Packet, QoS};
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Messages in flight at most (below the client's own limit of 100, so its
/// packet ids never collide).
const WINDOW: usize = 64;
/// Reconnection back-off: first and longest wait.
const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(4);
/// How long a cleared alert's IQ snippet is waited for before it is announced missing.
const IQ_WAIT: Duration = Duration::from_secs(90);
/// The cursor is saved at most this often while events are acknowledged.
const SAVE_EVERY: Duration = Duration::from_millis(200);
/// The publisher's clock.
const TICK: Duration = Duration::from_millis(25);

/// What `monitor --publish` sets up.
#[derive(Debug, Clone)]
pub struct PublishConfig {
    pub broker: BrokerSettings,
    /// The sensor's identity: its topics are `rfsentry/v1/<site>/…`.
    pub site: String,
    /// The monitor's output directory (the log is `alerts.jsonl` in it).
    pub out_dir: PathBuf,
    pub heartbeat: Duration,
    /// At the end of a run, how long to go on delivering what is left.
    pub drain: Duration,
    /// Frequency ranges watched, Hz.
    pub coverage: Vec<[f64; 2]>,
}

/// The live health numbers the monitor shares with the publisher.
#[derive(Debug, Clone, Default)]
pub struct HealthHandle(Arc<Mutex<Option<Health>>>);

impl HealthHandle {
    pub fn set(&self, h: Health) {
        if let Ok(mut g) = self.0.lock() {
            *g = Some(h);
        }
    }
    fn get(&self) -> Option<Health> {
        self.0.lock().ok().and_then(|g| g.clone())
    }

    /// A watch run's status callback that keeps this handle's numbers
    /// current (the heartbeat carries them to the command centre).
    pub fn status_fn(self) -> rfsentry_core::watch::StatusFn {
        Box::new(move |s: &rfsentry_core::watch::Status| {
            self.set(Health {
                seconds: s.seconds,
                rate_sps: s.rate_sps,
                noise_floor_dbfs: f64::from(s.noise_floor_dbfs),
                gaps: s.gaps,
                lost_samples: s.lost_samples,
                active_alerts: s.active_alerts as u64,
                total_alerts: s.total_alerts,
            })
        })
    }
}

/// How a publisher's run went.
#[derive(Debug, Clone, Default)]
pub struct PublishReport {
    /// The last sequence number the broker acknowledged.
    pub acked_seq: u64,
    /// Alert events acknowledged in this run (republished ones included).
    pub acked_events: u64,
    /// Bytes of the log still to publish (kept for the next run).
    pub pending_bytes: u64,
    /// The last connection error, if the broker was ever unreachable.
    pub last_error: Option<String>,
    /// Why the cursor could not be saved, if it could not.
    pub cursor_error: Option<String>,
}

/// A running publisher.
pub struct Publisher {
    stop: Arc<AtomicBool>,
    health: HealthHandle,
    thread: Option<JoinHandle<PublishReport>>,
}

impl Publisher {
    /// Check the cursor and start the publisher thread.
    pub fn start(config: PublishConfig) -> Result<Self> {
        let log = config.out_dir.join("alerts.jsonl");
        let cursor_path = Cursor::path_for(&log);
        let cursor = Cursor::load(&cursor_path)?
            .unwrap_or_else(|| Cursor::start(0))
            .checked_against(&log);
        // A connection setting that cannot work is an error now, not a retry loop.
        config
            .broker
            .options(&client_id(&config.site), Duration::from_secs(10))?;
        let stop = Arc::new(AtomicBool::new(false));
        let health = HealthHandle::default();
        let spool = Spool::new(&config, log, cursor_path, cursor);
        let (s, h) = (stop.clone(), health.clone());
        let thread = std::thread::Builder::new()
            .name("rfsentry-publish".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a current-thread runtime starts");
                rt.block_on(run(config, spool, s, h))
            })
            .map_err(|source| crate::error::FleetError::Start {
                what: "the publisher thread",
                source,
            })?;
        Ok(Publisher {
            stop,
            health,
            thread: Some(thread),
        })
    }

    /// Where the monitor puts its health numbers.
    pub fn health(&self) -> HealthHandle {
        self.health.clone()
    }

    /// Stop: deliver what is left for at most the drain time, say goodbye
    /// (`offline`, `stopped`), and report.
    pub fn finish(mut self) -> PublishReport {
        self.stop.store(true, Ordering::SeqCst);
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn client_id(site: &str) -> String {
    format!("rfsentry-sensor-{site}")
}

/// One log line on its way: the messages it caused still unacknowledged.
struct Entry {
    no: u64,
    end: u64,
    seq: u64,
    line_sha256: String,
    outstanding: u32,
    /// A cleared alert's snippet, waited for.
    iq: Option<(String, String, Instant)>,
}

/// The log, the cursor, and the lines in flight.
struct Spool {
    out_dir: PathBuf,
    cursor: Cursor,
    cursor_path: PathBuf,
    tail: LogTail,
    entries: VecDeque<Entry>,
    next_no: u64,
    at_eof: bool,
    dirty: bool,
    last_save: Instant,
    save_error: Option<String>,
    acked_events: u64,
}

/// What a published message stands for.
#[derive(Debug, Clone, Copy)]
enum Tag {
    /// A message of the log line `no`; `alert` for the event itself.
    Part {
        no: u64,
        alert: bool,
    },
    Status {
        goodbye: bool,
    },
}

impl Spool {
    fn new(config: &PublishConfig, log: PathBuf, cursor_path: PathBuf, cursor: Cursor) -> Self {
        let tail = LogTail::new(&log, cursor.offset, cursor.acked_seq + 1);
        Spool {
            out_dir: config.out_dir.clone(),
            cursor,
            cursor_path,
            tail,
            entries: VecDeque::new(),
            next_no: 0,
            at_eof: false,
            dirty: false,
            last_save: Instant::now(),
            save_error: None,
            acked_events: 0,
        }
    }

    /// Forget what was in flight: it is published again from the cursor.
    fn rewind_to_cursor(&mut self) {
        self.entries.clear();
        self.tail
            .seek(self.cursor.offset, self.cursor.acked_seq + 1);
        self.at_eof = false;
    }

    /// Everything in the log is acknowledged.
    fn idle(&self) -> bool {
        self.entries.is_empty() && self.at_eof
    }

    fn entry_mut(&mut self, no: u64) -> Option<&mut Entry> {
        let first = self.entries.front()?.no;
        self.entries.get_mut(no.checked_sub(first)? as usize)
    }

    fn part_done(&mut self, no: u64, is_alert: bool) {
        if let Some(e) = self.entry_mut(no) {
            e.outstanding = e.outstanding.saturating_sub(1);
        }
        if is_alert {
            self.acked_events += 1;
        }
        while self
            .entries
            .front()
            .is_some_and(|e| e.outstanding == 0 && e.iq.is_none())
        {
            let e = self.entries.pop_front().expect("checked");
            if e.end > self.cursor.offset {
                self.cursor.offset = e.end;
                self.cursor.acked_seq = e.seq;
                self.cursor.last_line_sha256 = e.line_sha256;
                self.dirty = true;
            }
        }
    }

    fn maybe_save(&mut self, now: bool) {
        if !self.dirty || (!now && self.last_save.elapsed() < SAVE_EVERY) {
            return;
        }
        self.last_save = Instant::now();
        match self.cursor.save(&self.cursor_path) {
            Ok(()) => {
                self.dirty = false;
                if self.save_error.take().is_some() {
                    tracing::warn!(
                        "{}: the publish cursor is saved again",
                        self.cursor_path.display()
                    );
                }
            }
            Err(e) => {
                if self.save_error.is_none() {
                    tracing::error!(
                        "cannot save the publish cursor (publishing goes on; after a restart, events since the last save are published again): {e}"
                    );
                }
                self.save_error = Some(e.to_string());
            }
        }
    }

    /// The hub lacks events from `from_seq` on: read the log again from there.
    fn replay_from(&mut self, from_seq: u64) {
        let first = self.cursor.base_seq + 1;
        let from = from_seq.max(first);
        if from >= self.tail.next_seq() {
            return; // not read yet: it comes anyway
        }
        match self.tail.offset_of_line(from - first) {
            Ok(Some(off)) => {
                tracing::info!("the hub asked for events from #{from}: publishing them again");
                self.tail.seek(off, from);
                self.at_eof = false;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("{}: {e}", self.tail.path().display()),
        }
    }

    fn pending_bytes(&self) -> u64 {
        self.tail.log_len().saturating_sub(self.cursor.offset)
    }
}

/// A connection: the client, and its packets in flight.
struct Session {
    client: AsyncClient,
    /// Tags of publishes handed to the client, waiting for their packet id.
    sent: VecDeque<Tag>,
    /// Tags by packet id, waiting for the broker's acknowledgement.
    inflight: HashMap<u16, Tag>,
}

impl Session {
    fn publish(&mut self, topic: String, payload: Vec<u8>, retain: bool, tag: Tag) -> bool {
        match self
            .client
            .try_publish(topic, QoS::AtLeastOnce, retain, payload)
        {
            Ok(()) => {
                self.sent.push_back(tag);
                true
            }
            Err(e) => {
                tracing::debug!("publish not queued: {e}");
                false
            }
        }
    }

    fn in_flight(&self) -> usize {
        self.sent.len() + self.inflight.len()
    }
}

/// What the publisher knows besides the spool.
struct Ctx {
    config: PublishConfig,
    health: HealthHandle,
    stop: Arc<AtomicBool>,
    deadline: Option<Instant>,
    report: PublishReport,
}

impl Ctx {
    fn status(&self, spool: &Spool, state: &str, reason: Option<&str>, live: bool) -> Vec<u8> {
        let msg = StatusMessage {
            schema: SCHEMA,
            site: self.config.site.clone(),
            state: state.into(),
            reason: reason.map(str::to_string),
            time: live
                .then(|| chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            heartbeat_s: self.config.heartbeat.as_secs_f64(),
            acked_seq: spool.cursor.acked_seq,
            first_seq: spool.cursor.base_seq + 1,
            coverage: self.config.coverage.clone(),
            health: if live { self.health.get() } else { None },
            spool: SpoolState {
                pending_bytes: spool.pending_bytes(),
                error: spool.save_error.clone(),
            },
            version: rfsentry_core::VERSION.to_string(),
        };
        serde_json::to_vec(&msg).expect("a status serialises")
    }

    /// Stopping, and the drain time is over.
    fn out_of_time(&mut self) -> bool {
        if self.stop.load(Ordering::SeqCst) && self.deadline.is_none() {
            self.deadline = Some(Instant::now() + self.config.drain);
        }
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// How a session ended.
enum Ended {
    /// Everything delivered and goodbye said, or the drain time is over.
    Done,
    /// The connection failed (after connecting, when `connected`).
    Failed { connected: bool },
}

async fn run(
    config: PublishConfig,
    mut spool: Spool,
    stop: Arc<AtomicBool>,
    health: HealthHandle,
) -> PublishReport {
    let mut ctx = Ctx {
        config,
        health,
        stop,
        deadline: None,
        report: PublishReport::default(),
    };
    let mut backoff = BACKOFF_MIN;
    loop {
        match session(&mut ctx, &mut spool).await {
            Ended::Done => break,
            Ended::Failed { connected } => {
                if connected {
                    backoff = BACKOFF_MIN;
                }
            }
        }
        spool.maybe_save(true);
        let until = Instant::now() + backoff;
        while Instant::now() < until {
            if ctx.out_of_time() {
                break;
            }
            tokio::time::sleep(TICK).await;
        }
        if ctx.out_of_time() {
            break;
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
    spool.maybe_save(true);
    let mut report = ctx.report;
    report.acked_seq = spool.cursor.acked_seq;
    report.acked_events = spool.acked_events;
    report.pending_bytes = spool.pending_bytes();
    report.cursor_error = spool.save_error.clone();
    report
}

async fn session(ctx: &mut Ctx, spool: &mut Spool) -> Ended {
    let site = ctx.config.site.clone();
    let mut options = match ctx
        .config
        .broker
        .options(&client_id(&site), Duration::from_secs(10))
    {
        Ok(o) => o,
        Err(e) => {
            tracing::error!("{e}");
            return Ended::Done;
        }
    };
    options.set_last_will(LastWill::new(
        topics::status_topic(&site),
        ctx.status(spool, "offline", Some("connection lost"), false),
        QoS::AtLeastOnce,
        true,
    ));
    options.set_clean_session(true);
    options.set_inflight(100);
    options.set_max_packet_size(1 << 20, (evidence::MAX_PNG_BYTES as usize) + (64 << 10));
    let (client, mut eventloop) = AsyncClient::new(options, 4 * WINDOW);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let pump = tokio::spawn(async move {
        loop {
            let r = eventloop.poll().await;
            let failed = r.is_err();
            if tx.send(r).is_err() || failed {
                break;
            }
        }
    });
    let ended = drive(ctx, spool, client.clone(), &mut rx).await;
    pump.abort();
    ended
}

async fn drive(
    ctx: &mut Ctx,
    spool: &mut Spool,
    client: AsyncClient,
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<
        std::result::Result<Event, rumqttc::ConnectionError>,
    >,
) -> Ended {
    let site = ctx.config.site.clone();
    let broker = ctx.config.broker.url.to_string();
    let mut s = Session {
        client,
        sent: VecDeque::new(),
        inflight: HashMap::new(),
    };
    spool.rewind_to_cursor();
    let mut connected = false;
    let mut next_beat = Instant::now();
    let mut goodbye = GoodBye::NotYet;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                None => return Ended::Failed { connected },
                Some(Err(e)) => {
                    let msg = describe(&e);
                    if goodbye == GoodBye::Acked {
                        return Ended::Done;
                    }
                    if ctx.report.last_error.as_deref() != Some(msg.as_str()) {
                        tracing::warn!("broker {broker}: {msg}; retrying (every event is kept in the alert log until the broker acknowledges it)");
                    } else {
                        tracing::debug!("broker {broker}: {msg}");
                    }
                    ctx.report.last_error = Some(msg);
                    return Ended::Failed { connected };
                }
                Some(Ok(Event::Incoming(Packet::ConnAck(_)))) => {
                    connected = true;
                    if ctx.report.last_error.is_some() {
                        tracing::warn!("broker {broker}: connected again; publishing from event #{}", spool.cursor.acked_seq + 1);
                    } else {
                        tracing::info!("broker {broker}: connected as {site}");
                    }
                    let _ = s.client.try_subscribe(topics::replay_topic(&site), QoS::AtLeastOnce);
                    next_beat = Instant::now();
                }
                Some(Ok(Event::Outgoing(Outgoing::Publish(pkid)))) => {
                    if let Some(tag) = s.sent.pop_front() {
                        s.inflight.insert(pkid, tag);
                    }
                }
                Some(Ok(Event::Incoming(Packet::PubAck(ack)))) => match s.inflight.remove(&ack.pkid) {
                    Some(Tag::Part { no, alert }) => spool.part_done(no, alert),
                    Some(Tag::Status { goodbye: true }) => {
                        goodbye = GoodBye::Acked;
                        let _ = s.client.try_disconnect();
                    }
                    _ => {}
                },
                Some(Ok(Event::Incoming(Packet::Publish(p)))) => {
                    if p.topic == topics::replay_topic(&site) {
                        match serde_json::from_slice::<ReplayRequest>(&p.payload) {
                            Ok(r) if r.schema == SCHEMA => spool.replay_from(r.from_seq),
                            Ok(r) => tracing::warn!("a replay request of schema {} (this rfsentry reads {SCHEMA}); ignored", r.schema),
                            Err(e) => tracing::warn!("a malformed replay request ({e}); ignored"),
                        }
                    }
                }
                Some(Ok(_)) => {}
            },
            _ = tick.tick() => {
                if ctx.out_of_time() {
                    if !spool.idle() {
                        tracing::warn!(
                            "stopping with {} bytes of the alert log not yet acknowledged by {broker}; the next run publishes them",
                            spool.pending_bytes()
                        );
                    }
                    spool.maybe_save(true);
                    let _ = s.client.try_disconnect();
                    return Ended::Done;
                }
                if connected && goodbye == GoodBye::NotYet {
                    publish_lines(ctx, spool, &mut s);
                    if Instant::now() >= next_beat {
                        next_beat = Instant::now() + ctx.config.heartbeat;
                        let payload = ctx.status(spool, "online", None, true);
                        s.publish(topics::status_topic(&site), payload, true, Tag::Status { goodbye: false });
                    }
                    if ctx.stopping() && spool.idle() {
                        spool.maybe_save(true);
                        let payload = ctx.status(spool, "offline", Some("stopped"), true);
                        if s.publish(topics::status_topic(&site), payload, true, Tag::Status { goodbye: true }) {
                            goodbye = GoodBye::Sent;
                        }
                    }
                }
                spool.maybe_save(false);
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GoodBye {
    NotYet,
    Sent,
    Acked,
}

/// Publish new log lines (and due IQ announcements) while the window allows.
fn publish_lines(ctx: &Ctx, spool: &mut Spool, s: &mut Session) {
    let site = ctx.config.site.clone();
    // IQ snippets waited for.
    let mut due = Vec::new();
    for e in spool.entries.iter_mut() {
        if let Some((id, rel, since)) = &e.iq {
            let a = evidence::iq_announcement(&spool.out_dir, &site, id, rel).or_else(|| {
                (since.elapsed() >= IQ_WAIT).then(|| {
                    evidence::iq_missing(
                        &site,
                        id,
                        rel,
                        "the snippet was not written (dropped or the run ended first)",
                    )
                })
            });
            if let Some(a) = a {
                due.push((e.no, a));
                e.iq = None;
                e.outstanding += 1;
            }
        }
    }
    for (no, a) in due {
        let payload = serde_json::to_vec(&a).expect("an announcement serialises");
        s.publish(
            topics::iq_topic(&site, &a.id),
            payload,
            false,
            Tag::Part { no, alert: false },
        );
    }
    while s.in_flight() + 2 < WINDOW {
        let line = match spool.tail.next_line() {
            Ok(Some(l)) => l,
            Ok(None) => {
                spool.at_eof = true;
                return;
            }
            Err(e) => {
                tracing::warn!("{}: {e}", spool.tail.path().display());
                return;
            }
        };
        spool.at_eof = false;
        publish_line(&site, &spool.out_dir.clone(), spool, s, line);
    }
}

fn publish_line(site: &str, out_dir: &Path, spool: &mut Spool, s: &mut Session, line: SpoolLine) {
    let no = spool.next_no;
    spool.next_no += 1;
    let mut entry = Entry {
        no,
        end: line.end,
        seq: line.seq,
        line_sha256: sha256_hex(&line.bytes),
        outstanding: 0,
        iq: None,
    };
    let payload = topics::alert_payload(line.seq, &line.bytes).unwrap_or_else(|| {
        tracing::warn!(
            "{}: line #{} (byte {}) is not an alert event; the hub is told it was skipped",
            spool.tail.path().display(),
            line.seq,
            line.start
        );
        serde_json::to_vec(&serde_json::json!({
            "schema": SCHEMA, "fleet_seq": line.seq, "skipped": "not a JSON object in the alert log"
        }))
        .expect("serialises")
    });
    let mut parts = vec![(topics::alert_topic(site), payload)];
    if let Some(named) = evidence::named(&line.bytes) {
        if let Some(png) = named
            .spectrogram
            .as_deref()
            .and_then(|rel| evidence::read_png(out_dir, rel))
        {
            parts.push((topics::evidence_topic(site, &named.id), png));
        }
        if named.last && topics::valid_name(&named.id) {
            if let Some(rel) = named.iq {
                entry.iq = Some((named.id.clone(), rel, Instant::now()));
            }
        }
    }
    // Counted whether or not the client takes it: a message it refused (its
    // connection is going) keeps the line unacknowledged until the next
    // session publishes it again.
    entry.outstanding = parts.len() as u32;
    spool.entries.push_back(entry);
    for (i, (topic, payload)) in parts.into_iter().enumerate() {
        s.publish(topic, payload, false, Tag::Part { no, alert: i == 0 });
    }
}

/// A connection error as a person reads it.
fn describe(e: &rumqttc::ConnectionError) -> String {
    use rumqttc::ConnectReturnCode as C;
    match e {
        rumqttc::ConnectionError::ConnectionRefused(C::BadUserNamePassword) => {
            "refused the connection: bad user name or password".into()
        }
        rumqttc::ConnectionError::ConnectionRefused(C::NotAuthorized) => {
            "refused the connection: not authorized".into()
        }
        other => other.to_string(),
    }
}
