//! The hub's SQLite database: sensors with their last status, every alert
//! event exactly once (keyed by site and sequence number, whatever the broker
//! redelivers), each alert's latest state, and evidence. One writer (the
//! ingest thread) and any number of readers (the web server, the export),
//! in WAL mode; a commit is synced before the broker is acknowledged.
//!
//! The sensors' chain-of-custody lines arrive as events too; the signed ones
//! (the chain's heads) are also kept apart, with each line's SHA-256, so a
//! sensor's log can later be checked against what the centre received
//! (`rfsentry hub --export heads`, then `rfsentry verify --heads`).

use crate::error::{FleetError, Result};
use crate::topics::{IqAnnouncement, StatusMessage};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The database layout version written in `meta`.
const LAYOUT: i64 = 1;

const SCHEMA_SQL: &str = "
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sensors(
  site TEXT PRIMARY KEY,
  first_seen_us INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'unknown',
  reason TEXT,
  status_time TEXT,
  status_received_us INTEGER,
  heartbeat_s REAL NOT NULL DEFAULT 5,
  acked_seq INTEGER NOT NULL DEFAULT 0,
  first_seq INTEGER NOT NULL DEFAULT 1,
  contiguous_seq INTEGER NOT NULL DEFAULT 0,
  max_seq INTEGER NOT NULL DEFAULT 0,
  status_json TEXT
);
CREATE TABLE IF NOT EXISTS events(
  site TEXT NOT NULL,
  seq INTEGER NOT NULL,
  id TEXT,
  event TEXT NOT NULL,
  received_us INTEGER NOT NULL,
  line TEXT NOT NULL,
  PRIMARY KEY(site, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alerts(
  site TEXT NOT NULL,
  id TEXT NOT NULL,
  kind TEXT NOT NULL,
  event TEXT NOT NULL,
  state TEXT NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  events INTEGER NOT NULL DEFAULT 0,
  start TEXT, end_time TEXT,
  center_hz REAL, freq_low_hz REAL, freq_high_hz REAL, peak_dbfs REAL, excess_db REAL,
  last_line TEXT NOT NULL,
  updated_us INTEGER NOT NULL,
  PRIMARY KEY(site, id)
);
CREATE INDEX IF NOT EXISTS alerts_by_end ON alerts(end_time);
CREATE TABLE IF NOT EXISTS chain_heads(
  site TEXT NOT NULL,
  seq INTEGER NOT NULL,
  chain_seq INTEGER NOT NULL,
  event TEXT NOT NULL,
  at TEXT,
  key_id TEXT,
  sha256 TEXT NOT NULL,
  received_us INTEGER NOT NULL,
  PRIMARY KEY(site, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS evidence(
  site TEXT NOT NULL,
  id TEXT NOT NULL,
  png BLOB,
  iq_json TEXT,
  PRIMARY KEY(site, id)
);
";

/// The state an alert is in after an event of this name.
pub fn state_of(event: &str) -> &str {
    match event {
        "raised" | "updated" => "open",
        other => other,
    }
}

/// An alert event, as the ingest checked it.
#[derive(Debug, Clone)]
pub struct EventRow<'a> {
    pub site: &'a str,
    pub seq: u64,
    /// `None` for a chain-of-custody line or a line the sensor could not
    /// publish (skipped).
    pub alert: Option<AlertFields<'a>>,
    /// A chain-of-custody line (`custody.*`).
    pub custody: Option<CustodyFields<'a>>,
    /// The log line (or what stands for it).
    pub line: &'a str,
    pub received_us: i64,
}

/// What the hub indexes of an alert event.
#[derive(Debug, Clone)]
pub struct AlertFields<'a> {
    pub id: &'a str,
    pub event: &'a str,
    pub kind: &'a str,
    pub start: Option<&'a str>,
    pub end: Option<&'a str>,
    pub center_hz: Option<f64>,
    pub freq_low_hz: Option<f64>,
    pub freq_high_hz: Option<f64>,
    pub peak_dbfs: Option<f64>,
    pub excess_db: Option<f64>,
}

/// What the hub keeps of a sensor's chain-of-custody line.
#[derive(Debug, Clone)]
pub struct CustodyFields<'a> {
    /// `custody.genesis`, `custody.head`, `custody.close`…
    pub event: &'a str,
    /// The line's place in the sensor's chain (its `seq`).
    pub chain_seq: u64,
    /// The line carries a signature: a head of the chain.
    pub signed: bool,
    pub at: Option<&'a str>,
    /// The key the line names (genesis and start records).
    pub key_id: Option<&'a str>,
    /// SHA-256 of the line's exact bytes, hex.
    pub sha256: String,
}

/// A signed line of a sensor's chain as the hub received it: what
/// `rfsentry verify --heads` checks the sensor's log against.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ChainHead {
    pub site: String,
    /// The fleet's sequence number of the line.
    pub seq: u64,
    /// The line's `seq` in the sensor's chain.
    pub chain_seq: u64,
    pub event: String,
    pub at: Option<String>,
    pub key_id: Option<String>,
    /// SHA-256 of the line's exact bytes, hex.
    pub sha256: String,
}

/// What storing an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    /// Already there, the same event: a redelivery.
    Duplicate,
    /// Already there under this sequence number, but another event.
    Conflict,
}

/// A sensor as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SensorRow {
    pub site: String,
    pub state: String,
    pub reason: Option<String>,
    pub status_time: Option<String>,
    pub status_received_us: Option<i64>,
    pub heartbeat_s: f64,
    pub acked_seq: u64,
    pub first_seq: u64,
    pub stored_seq: u64,
    pub max_seq: u64,
    pub status: Option<serde_json::Value>,
    pub open_alerts: u64,
    pub last_alert: Option<serde_json::Value>,
    /// The latest signed line of the sensor's chain of custody received.
    pub chain_head: Option<serde_json::Value>,
}

/// An alert's latest state.
#[derive(Debug, Clone, Serialize)]
pub struct AlertRow {
    pub site: String,
    pub id: String,
    pub kind: String,
    pub state: String,
    /// The name of its latest event.
    pub event: String,
    pub start: Option<String>,
    pub end: Option<String>,
    pub center_hz: Option<f64>,
    pub freq_low_hz: Option<f64>,
    pub freq_high_hz: Option<f64>,
    pub peak_dbfs: Option<f64>,
    pub excess_db: Option<f64>,
    pub events: u64,
    pub first_seq: u64,
    pub last_seq: u64,
    pub picture: bool,
    pub iq: Option<serde_json::Value>,
    /// The latest event as the sensor's log has it.
    pub latest: serde_json::Value,
}

/// Which alerts a listing or export wants.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AlertFilter {
    pub site: Option<String>,
    pub kind: Option<String>,
    /// `open`, `cleared`, `acknowledged`.
    pub state: Option<String>,
    /// RFC 3339: alerts whose end is at or after.
    pub since: Option<String>,
    /// RFC 3339: alerts whose start is at or before.
    pub until: Option<String>,
    pub limit: Option<u64>,
}

/// One connection to the hub's database.
pub struct Store {
    path: PathBuf,
    conn: Connection,
}

fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

impl Store {
    /// Open (creating) the database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| FleetError::io(dir, e))?;
        }
        let conn = Connection::open(path).map_err(|e| FleetError::db(path, e))?;
        let store = Store {
            path: path.to_path_buf(),
            conn,
        };
        store.setup()?;
        Ok(store)
    }

    /// Open an existing database for reading (the export).
    pub fn open_existing(path: &Path) -> Result<Self> {
        if !path.is_file() {
            return Err(FleetError::format(
                path,
                "no hub database there (rfsentry hub --db creates it)",
            ));
        }
        Self::open(path)
    }

    fn db<T>(&self, r: rusqlite::Result<T>) -> Result<T> {
        r.map_err(|e| FleetError::db(&self.path, e))
    }

    fn setup(&self) -> Result<()> {
        self.db(self.conn.busy_timeout(std::time::Duration::from_secs(10)))?;
        self.db(self.conn.pragma_update(None, "journal_mode", "WAL"))?;
        self.db(self.conn.pragma_update(None, "synchronous", "FULL"))?;
        self.db(self.conn.execute_batch(SCHEMA_SQL))?;
        let layout: Option<String> = self.db(self
            .conn
            .query_row("SELECT value FROM meta WHERE key='layout'", [], |r| {
                r.get(0)
            })
            .optional())?;
        match layout {
            None => {
                self.db(self.conn.execute(
                    "INSERT INTO meta(key, value) VALUES('layout', ?1)",
                    [LAYOUT.to_string()],
                ))?;
            }
            Some(v) if v == LAYOUT.to_string() => {}
            Some(v) => {
                return Err(FleetError::format(
                    &self.path,
                    format!("hub database layout {v} (this rfsentry reads layout {LAYOUT})"),
                ))
            }
        }
        Ok(())
    }

    /// Run `f` in one transaction.
    pub fn transaction<T>(&mut self, f: impl FnOnce(&Tx) -> Result<T>) -> Result<T> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction()
            .map_err(|e| FleetError::db(&path, e))?;
        let out = f(&Tx {
            tx: &tx,
            path: &path,
        })?;
        tx.commit().map_err(|e| FleetError::db(&path, e))?;
        Ok(out)
    }

    /// Sensors, by site.
    pub fn sensors(&self) -> Result<Vec<SensorRow>> {
        let mut st = self.db(self.conn.prepare(
            "SELECT s.site, s.state, s.reason, s.status_time, s.status_received_us, s.heartbeat_s,
                    s.acked_seq, s.first_seq, s.contiguous_seq, s.max_seq, s.status_json,
                    (SELECT COUNT(*) FROM alerts a WHERE a.site = s.site AND a.state = 'open'),
                    (SELECT json_object('id', a.id, 'kind', a.kind, 'state', a.state, 'start', a.start, 'end', a.end_time)
                       FROM alerts a WHERE a.site = s.site ORDER BY a.first_seq DESC LIMIT 1),
                    (SELECT json_object('seq', h.seq, 'chain_seq', h.chain_seq, 'event', h.event, 'at', h.at, 'sha256', h.sha256)
                       FROM chain_heads h WHERE h.site = s.site ORDER BY h.seq DESC LIMIT 1)
             FROM sensors s ORDER BY s.site",
        ))?;
        let rows = st.query_map([], |r| {
            let status: Option<String> = r.get(10)?;
            let last: Option<String> = r.get(12)?;
            let head: Option<String> = r.get(13)?;
            Ok(SensorRow {
                site: r.get(0)?,
                state: r.get(1)?,
                reason: r.get(2)?,
                status_time: r.get(3)?,
                status_received_us: r.get(4)?,
                heartbeat_s: r.get(5)?,
                acked_seq: r.get::<_, i64>(6)? as u64,
                first_seq: r.get::<_, i64>(7)? as u64,
                stored_seq: r.get::<_, i64>(8)? as u64,
                max_seq: r.get::<_, i64>(9)? as u64,
                status: status.and_then(|s| serde_json::from_str(&s).ok()),
                open_alerts: r.get::<_, i64>(11)? as u64,
                last_alert: last.and_then(|s| serde_json::from_str(&s).ok()),
                chain_head: head.and_then(|s| serde_json::from_str(&s).ok()),
            })
        });
        let rows = self.db(rows)?;
        self.db(rows.collect())
    }

    /// Alerts' latest states, latest first.
    pub fn alerts(&self, f: &AlertFilter) -> Result<Vec<AlertRow>> {
        let mut sql = String::from(
            "SELECT a.site, a.id, a.kind, a.state, a.event, a.start, a.end_time, a.center_hz,
                    a.freq_low_hz, a.freq_high_hz, a.peak_dbfs, a.excess_db, a.events, a.first_seq,
                    a.last_seq, e.png IS NOT NULL, e.iq_json, a.last_line
             FROM alerts a LEFT JOIN evidence e ON e.site = a.site AND e.id = a.id WHERE 1=1",
        );
        let mut args: Vec<String> = Vec::new();
        let mut add = |cond: &str, v: &Option<String>| {
            if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                args.push(v.clone());
                sql.push_str(&format!(" AND {cond} ?{}", args.len()));
            }
        };
        add("a.site =", &f.site);
        add("a.kind =", &f.kind);
        add("a.state =", &f.state);
        add("a.end_time >=", &f.since);
        add("a.start <=", &f.until);
        let limit = f.limit.unwrap_or(500).min(100_000);
        sql.push_str(&format!(
            " ORDER BY a.end_time DESC, a.site, a.id LIMIT {limit}"
        ));
        let mut st = self.db(self.conn.prepare(&sql))?;
        let rows = st.query_map(rusqlite::params_from_iter(args.iter()), alert_row);
        let rows = self.db(rows)?;
        self.db(rows.collect())
    }

    /// One alert and all its events, in sequence order.
    pub fn alert_detail(
        &self,
        site: &str,
        id: &str,
    ) -> Result<Option<(AlertRow, Vec<serde_json::Value>)>> {
        let row = self.db(
            self.conn
                .query_row(
                    "SELECT a.site, a.id, a.kind, a.state, a.event, a.start, a.end_time, a.center_hz,
                            a.freq_low_hz, a.freq_high_hz, a.peak_dbfs, a.excess_db, a.events, a.first_seq,
                            a.last_seq, e.png IS NOT NULL, e.iq_json, a.last_line
                     FROM alerts a LEFT JOIN evidence e ON e.site = a.site AND e.id = a.id
                     WHERE a.site = ?1 AND a.id = ?2",
                    [site, id],
                    alert_row,
                )
                .optional(),
        )?;
        let Some(row) = row else { return Ok(None) };
        let mut st = self.db(self.conn.prepare(
            "SELECT seq, received_us, line FROM events WHERE site = ?1 AND id = ?2 ORDER BY seq",
        ))?;
        let events = self.db(st.query_map([site, id], |r| {
            let line: String = r.get(2)?;
            Ok(serde_json::json!({
                "seq": r.get::<_, i64>(0)?,
                "received_us": r.get::<_, i64>(1)?,
                "line": serde_json::from_str::<serde_json::Value>(&line).unwrap_or(serde_json::Value::String(line)),
            }))
        }))?;
        Ok(Some((row, self.db(events.collect())?)))
    }

    /// An alert's spectrogram.
    pub fn picture(&self, site: &str, id: &str) -> Result<Option<Vec<u8>>> {
        let png: Option<Option<Vec<u8>>> = self.db(self
            .conn
            .query_row(
                "SELECT png FROM evidence WHERE site = ?1 AND id = ?2",
                [site, id],
                |r| r.get(0),
            )
            .optional())?;
        Ok(png.flatten())
    }

    /// The signed lines of the sensors' chains received, by site and in
    /// order (`site`: only that one).
    pub fn chain_heads(&self, site: Option<&str>) -> Result<Vec<ChainHead>> {
        let mut st = self.db(self.conn.prepare(
            "SELECT site, seq, chain_seq, event, at, key_id, sha256 FROM chain_heads
             WHERE ?1 IS NULL OR site = ?1 ORDER BY site, seq",
        ))?;
        let rows = self.db(st.query_map([site], |r| {
            Ok(ChainHead {
                site: r.get(0)?,
                seq: r.get::<_, i64>(1)? as u64,
                chain_seq: r.get::<_, i64>(2)? as u64,
                event: r.get(3)?,
                at: r.get(4)?,
                key_id: r.get(5)?,
                sha256: r.get(6)?,
            })
        }))?;
        self.db(rows.collect())
    }

    /// Events stored per site with their sequence numbers (for checks and benches).
    pub fn event_seqs(&self, site: &str) -> Result<Vec<u64>> {
        let mut st = self.db(self
            .conn
            .prepare("SELECT seq FROM events WHERE site = ?1 ORDER BY seq"))?;
        let rows = self.db(st.query_map([site], |r| r.get::<_, i64>(0).map(|v| v as u64)))?;
        self.db(rows.collect())
    }
}

fn alert_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AlertRow> {
    let iq: Option<String> = r.get(16)?;
    let latest: String = r.get(17)?;
    Ok(AlertRow {
        site: r.get(0)?,
        id: r.get(1)?,
        kind: r.get(2)?,
        state: r.get(3)?,
        event: r.get(4)?,
        start: r.get(5)?,
        end: r.get(6)?,
        center_hz: r.get(7)?,
        freq_low_hz: r.get(8)?,
        freq_high_hz: r.get(9)?,
        peak_dbfs: r.get(10)?,
        excess_db: r.get(11)?,
        events: r.get::<_, i64>(12)? as u64,
        first_seq: r.get::<_, i64>(13)? as u64,
        last_seq: r.get::<_, i64>(14)? as u64,
        picture: r.get(15)?,
        iq: iq.and_then(|s| serde_json::from_str(&s).ok()),
        latest: serde_json::from_str(&latest).unwrap_or(serde_json::Value::Null),
    })
}

/// Writes inside one transaction.
pub struct Tx<'a> {
    tx: &'a rusqlite::Transaction<'a>,
    path: &'a Path,
}

impl Tx<'_> {
    fn db<T>(&self, r: rusqlite::Result<T>) -> Result<T> {
        r.map_err(|e| FleetError::db(self.path, e))
    }

    fn ensure_sensor(&self, site: &str) -> Result<()> {
        self.db(self.tx.execute(
            "INSERT OR IGNORE INTO sensors(site, first_seen_us) VALUES(?1, ?2)",
            params![site, now_us()],
        ))?;
        Ok(())
    }

    /// Store one event (once), update its alert's latest state and the
    /// site's contiguous sequence number.
    pub fn store_event(&self, e: &EventRow) -> Result<Stored> {
        self.ensure_sensor(e.site)?;
        let (id, event) = match (&e.alert, &e.custody) {
            (Some(a), _) => (Some(a.id), a.event),
            (None, Some(c)) => (None, c.event),
            (None, None) => (None, "skipped"),
        };
        let inserted = self.db(self.tx.execute(
            "INSERT OR IGNORE INTO events(site, seq, id, event, received_us, line) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
            params![e.site, e.seq as i64, id, event, e.received_us, e.line],
        ))?;
        if inserted == 0 {
            let (old_id, old_event): (Option<String>, String) = self.db(self.tx.query_row(
                "SELECT id, event FROM events WHERE site = ?1 AND seq = ?2",
                params![e.site, e.seq as i64],
                |r| Ok((r.get(0)?, r.get(1)?)),
            ))?;
            return Ok(if old_id.as_deref() == id && old_event == event {
                Stored::Duplicate
            } else {
                Stored::Conflict
            });
        }
        if let Some(a) = &e.alert {
            self.db(self.tx.execute(
                "INSERT INTO alerts(site, id, kind, event, state, first_seq, last_seq, events, start, end_time,
                                    center_hz, freq_low_hz, freq_high_hz, peak_dbfs, excess_db, last_line, updated_us)
                 VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6, 1, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                 ON CONFLICT(site, id) DO UPDATE SET
                   events = events + 1,
                   first_seq = min(first_seq, excluded.first_seq),
                   kind = CASE WHEN excluded.last_seq > last_seq THEN excluded.kind ELSE kind END,
                   event = CASE WHEN excluded.last_seq > last_seq THEN excluded.event ELSE event END,
                   state = CASE WHEN excluded.last_seq > last_seq THEN excluded.state ELSE state END,
                   start = CASE WHEN excluded.last_seq > last_seq THEN excluded.start ELSE start END,
                   end_time = CASE WHEN excluded.last_seq > last_seq THEN excluded.end_time ELSE end_time END,
                   center_hz = CASE WHEN excluded.last_seq > last_seq THEN excluded.center_hz ELSE center_hz END,
                   freq_low_hz = CASE WHEN excluded.last_seq > last_seq THEN excluded.freq_low_hz ELSE freq_low_hz END,
                   freq_high_hz = CASE WHEN excluded.last_seq > last_seq THEN excluded.freq_high_hz ELSE freq_high_hz END,
                   peak_dbfs = CASE WHEN excluded.last_seq > last_seq THEN excluded.peak_dbfs ELSE peak_dbfs END,
                   excess_db = CASE WHEN excluded.last_seq > last_seq THEN excluded.excess_db ELSE excess_db END,
                   last_line = CASE WHEN excluded.last_seq > last_seq THEN excluded.last_line ELSE last_line END,
                   updated_us = excluded.updated_us,
                   last_seq = max(last_seq, excluded.last_seq)",
                params![
                    e.site, a.id, a.kind, a.event, state_of(a.event), e.seq as i64, a.start, a.end,
                    a.center_hz, a.freq_low_hz, a.freq_high_hz, a.peak_dbfs, a.excess_db, e.line, e.received_us
                ],
            ))?;
        }
        if let Some(c) = e.custody.as_ref().filter(|c| c.signed) {
            self.db(self.tx.execute(
                "INSERT OR IGNORE INTO chain_heads(site, seq, chain_seq, event, at, key_id, sha256, received_us)
                 VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![e.site, e.seq as i64, c.chain_seq as i64, c.event, c.at, c.key_id, c.sha256, e.received_us],
            ))?;
        }
        self.advance_contiguous(e.site, e.seq)?;
        Ok(Stored::New)
    }

    /// Move the site's contiguous sequence number over what is stored.
    fn advance_contiguous(&self, site: &str, seq: u64) -> Result<()> {
        let (mut contiguous, first): (i64, i64) = self.db(self.tx.query_row(
            "SELECT contiguous_seq, first_seq FROM sensors WHERE site = ?1",
            [site],
            |r| Ok((r.get(0)?, r.get(1)?)),
        ))?;
        contiguous = contiguous.max(first - 1);
        if seq as i64 == contiguous + 1 {
            let mut st = self.db(self.tx.prepare_cached(
                "SELECT seq FROM events WHERE site = ?1 AND seq > ?2 ORDER BY seq",
            ))?;
            let mut rows = self.db(st.query(params![site, contiguous]))?;
            while let Some(r) = self.db(rows.next())? {
                let s: i64 = self.db(r.get(0))?;
                if s != contiguous + 1 {
                    break;
                }
                contiguous = s;
            }
        }
        self.db(self.tx.execute(
            "UPDATE sensors SET contiguous_seq = ?2, max_seq = max(max_seq, ?3) WHERE site = ?1",
            params![site, contiguous, seq as i64],
        ))?;
        Ok(())
    }

    /// Store a status; returns the first sequence number the hub lacks up to
    /// what the sensor says the broker acknowledged (`None`: nothing lacking).
    pub fn store_status(
        &self,
        s: &StatusMessage,
        raw: &str,
        received_us: i64,
    ) -> Result<Option<u64>> {
        self.ensure_sensor(&s.site)?;
        self.db(self.tx.execute(
            "UPDATE sensors SET state = ?2, reason = ?3, status_time = coalesce(?4, status_time),
                    status_received_us = ?5, heartbeat_s = ?6, acked_seq = max(acked_seq, ?7),
                    first_seq = max(first_seq, ?8), contiguous_seq = max(contiguous_seq, ?8 - 1),
                    status_json = CASE WHEN ?4 IS NULL AND status_json IS NOT NULL
                                       THEN json_set(status_json, '$.state', ?2, '$.reason', ?3)
                                       ELSE ?9 END
             WHERE site = ?1",
            params![
                s.site,
                s.state,
                s.reason,
                s.time,
                received_us,
                s.heartbeat_s,
                s.acked_seq as i64,
                s.first_seq.max(1) as i64,
                raw
            ],
        ))?;
        let (contiguous, acked): (i64, i64) = self.db(self.tx.query_row(
            "SELECT contiguous_seq, acked_seq FROM sensors WHERE site = ?1",
            [&s.site],
            |r| Ok((r.get(0)?, r.get(1)?)),
        ))?;
        Ok((acked > contiguous).then_some(contiguous as u64 + 1))
    }

    /// Store an alert's spectrogram.
    pub fn store_picture(&self, site: &str, id: &str, png: &[u8]) -> Result<()> {
        self.ensure_sensor(site)?;
        self.db(self.tx.execute(
            "INSERT INTO evidence(site, id, png) VALUES(?1, ?2, ?3)
             ON CONFLICT(site, id) DO UPDATE SET png = excluded.png",
            params![site, id, png],
        ))?;
        Ok(())
    }

    /// Store an IQ snippet's announcement.
    pub fn store_iq(&self, a: &IqAnnouncement) -> Result<()> {
        self.ensure_sensor(&a.site)?;
        let json = serde_json::to_string(a).expect("serialises");
        self.db(self.tx.execute(
            "INSERT INTO evidence(site, id, iq_json) VALUES(?1, ?2, ?3)
             ON CONFLICT(site, id) DO UPDATE SET iq_json = excluded.iq_json",
            params![a.site, a.id, json],
        ))?;
        Ok(())
    }

    /// Every known site with what it lacks (`contiguous + 1`), for a catch-up.
    pub fn lacking(&self) -> Result<Vec<(String, u64)>> {
        let mut st = self.db(self
            .tx
            .prepare("SELECT site, contiguous_seq + 1 FROM sensors WHERE state = 'online'"))?;
        let rows = self.db(st.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))))?;
        self.db(rows.collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev<'a>(site: &'a str, seq: u64, id: &'a str, event: &'a str, line: &'a str) -> EventRow<'a> {
        EventRow {
            site,
            seq,
            alert: Some(AlertFields {
                id,
                event,
                kind: "jamming.tone",
                start: Some("2026-01-01T00:00:00Z"),
                end: Some("2026-01-01T00:00:01Z"),
                center_hz: Some(1.0),
                freq_low_hz: None,
                freq_high_hz: None,
                peak_dbfs: None,
                excess_db: None,
            }),
            custody: None,
            line,
            received_us: 1,
        }
    }

    #[test]
    fn events_are_stored_once_and_the_latest_seq_wins() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("hub.sqlite")).unwrap();
        let r = s
            .transaction(|tx| {
                Ok(vec![
                    tx.store_event(&ev("a", 2, "a-1", "cleared", "{\"n\":2}"))?,
                    tx.store_event(&ev("a", 1, "a-1", "raised", "{\"n\":1}"))?,
                    tx.store_event(&ev("a", 1, "a-1", "raised", "{\"n\":1}"))?,
                    tx.store_event(&ev("a", 1, "a-9", "raised", "{\"n\":1}"))?,
                ])
            })
            .unwrap();
        assert_eq!(
            r,
            [
                Stored::New,
                Stored::New,
                Stored::Duplicate,
                Stored::Conflict
            ]
        );
        let alerts = s.alerts(&AlertFilter::default()).unwrap();
        assert_eq!(alerts.len(), 1);
        assert_eq!(
            (
                alerts[0].state.as_str(),
                alerts[0].events,
                alerts[0].last_seq
            ),
            ("cleared", 2, 2)
        );
        assert_eq!(s.sensors().unwrap()[0].stored_seq, 2);
        assert_eq!(s.event_seqs("a").unwrap(), [1, 2]);
    }

    #[test]
    fn a_status_reports_what_the_hub_lacks() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("hub.sqlite")).unwrap();
        let status = StatusMessage {
            schema: 1,
            site: "a".into(),
            state: "online".into(),
            reason: None,
            time: Some("2026-01-01T00:00:00Z".into()),
            heartbeat_s: 5.0,
            acked_seq: 3,
            first_seq: 1,
            coverage: vec![],
            health: None,
            spool: Default::default(),
            version: "x".into(),
        };
        let lack = s
            .transaction(|tx| {
                tx.store_event(&ev("a", 1, "a-1", "raised", "{}"))?;
                tx.store_event(&ev("a", 3, "a-1", "cleared", "{}"))?;
                tx.store_status(&status, "{}", 5)
            })
            .unwrap();
        assert_eq!(lack, Some(2));
        let lack = s
            .transaction(|tx| {
                tx.store_event(&ev("a", 2, "a-1", "updated", "{}"))?;
                tx.store_status(&status, "{}", 6)
            })
            .unwrap();
        assert_eq!(lack, None);
        assert_eq!(s.sensors().unwrap()[0].stored_seq, 3);
    }
}
