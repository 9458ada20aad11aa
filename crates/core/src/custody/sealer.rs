//! The writer's side of the chain for one run: it seals every line the alert
//! log writes, adds the run's custody records — its genesis or start record
//! first, signed heads every minute and after every `cleared`, the signed
//! closing record at the end — and can be rolled back to a [`Mark`] when a
//! write fails, so a retried line is sealed once.
//!
//! It works on line bodies (JSON objects), whatever their event: the alert
//! log calls it for alert events, evidence records and any event others add.
//!
//! A run without a key on a log that has no chain yet keeps the log plain:
//! its lines are the events alone, as before the chain existed, with no
//! custody records (nothing could be signed, so nothing could be verified;
//! tools that read every line as an alert event keep working). Once a log
//! has a chain — a run with a key wrote its genesis — every later run seals
//! into it, with or without a key (`verify` then names the unsigned runs).

use super::chain::{sha256, Chain, LogTail};
use super::key::SensorKey;
use super::record::{
    self, now_rfc3339, Close, FileHash, Head, PreviousRun, Record, Repair, RunStart,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often a signed head is written while a run goes on.
pub const HEAD_EVERY: Duration = Duration::from_secs(60);

/// Who writes the log and with what key: what the genesis or start names.
#[derive(Clone, Default)]
pub struct RunContext {
    /// The sensor's key; `None` writes the chain unsigned.
    pub key: Option<Arc<SensorKey>>,
    pub site: String,
    /// The recording's path or the device arguments.
    pub source: String,
    /// `analyze`, `monitor`, …
    pub command: String,
    /// The baseline profile compared against, and its hash.
    pub profile: Option<FileHash>,
}

impl std::fmt::Debug for RunContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunContext")
            .field("key", &self.key.as_ref().map(|k| k.public().id()))
            .field("site", &self.site)
            .field("source", &self.source)
            .field("command", &self.command)
            .field("profile", &self.profile)
            .finish()
    }
}

/// Seals a run's lines (see the module doc).
pub struct Sealer {
    chain: Chain,
    key: Option<Arc<SensorKey>>,
    /// The genesis or start record, until it is written.
    pending: Option<Record>,
    /// What a new run's start record says (after a close, a later write
    /// starts a new run).
    context: RunStart,
    started: Instant,
    started_at: String,
    /// Lines this run wrote.
    lines: u64,
    last_signed: Instant,
    head_every: Duration,
    /// No chain: lines are written as they are (see the module doc).
    plain: bool,
}

/// Where a [`Sealer`] was, to go back to when a write fails.
pub struct Mark {
    chain: Chain,
    pending: Option<Record>,
    lines: u64,
    last_signed: Instant,
}

impl Sealer {
    /// The sealer of a run appending to a log whose whole lines `tail`
    /// describes (`None`: a file that cannot be read back, e.g. a device;
    /// the chain then starts there). `repair`: a torn last line the run
    /// removed.
    pub fn new(ctx: &RunContext, tail: Option<&LogTail>, repair: Option<Repair>) -> Sealer {
        let public = ctx.key.as_ref().map(|k| k.public());
        let now = Instant::now();
        let at = now_rfc3339();
        let mut start = RunStart {
            at: at.clone(),
            site: ctx.site.clone(),
            host: host_name(),
            software: format!("rfsentry {}", crate::VERSION),
            source: ctx.source.clone(),
            command: ctx.command.clone(),
            public_key: public.map(|k| k.to_hex()),
            key_id: public.map(|k| k.id()),
            profile: ctx.profile.clone(),
            adopted_lines: None,
            previous_run: None,
            repair,
        };
        let (chain, pending) = match tail {
            Some(t) if t.has_genesis => {
                let chain = Chain::after(
                    t.last_seq.unwrap_or(0),
                    t.last_line_hash.unwrap_or_default(),
                );
                start.previous_run = Some(PreviousRun {
                    closed: t.last_event.as_deref() == Some(record::CLOSE),
                    last_seq: t.last_seq,
                    last_signed_seq: t.last_signed_seq,
                });
                (chain, Record::Start(start.clone()))
            }
            Some(t) => {
                // The file holds no chain yet: the genesis binds whatever is
                // there (lines of a log written before rfsentry kept a chain).
                start.adopted_lines = (t.lines > 0).then_some(t.lines);
                (
                    Chain::genesis_after(t.file_hash),
                    Record::Genesis(start.clone()),
                )
            }
            None => (
                Chain::genesis_after(sha256(b"")),
                Record::Genesis(start.clone()),
            ),
        };
        start.adopted_lines = None;
        start.repair = None;
        let plain = ctx.key.is_none() && !tail.is_some_and(|t| t.has_genesis);
        Sealer {
            chain,
            key: ctx.key.clone(),
            pending: (!plain).then_some(pending),
            context: start,
            started: now,
            started_at: at,
            lines: 0,
            last_signed: now,
            head_every: HEAD_EVERY,
            plain,
        }
    }

    /// Whether the log is kept plain: no chain fields, no custody records.
    pub fn is_plain(&self) -> bool {
        self.plain
    }

    /// Sign heads every `every` instead of every minute (tests).
    pub fn with_head_every(mut self, every: Duration) -> Self {
        self.head_every = every;
        self
    }

    /// Whether lines are signed.
    pub fn is_signed(&self) -> bool {
        self.key.is_some()
    }

    /// Where the sealer is now.
    pub fn mark(&self) -> Mark {
        Mark {
            chain: self.chain,
            pending: self.pending.clone(),
            lines: self.lines,
            last_signed: self.last_signed,
        }
    }

    /// Go back to `mark` (the lines sealed since were not written).
    pub fn rewind(&mut self, mark: Mark) {
        self.chain = mark.chain;
        self.pending = mark.pending;
        self.lines = mark.lines;
        self.last_signed = mark.last_signed;
    }

    /// Seal the run's genesis or start record into `out` if it is not
    /// written yet; returns whether it did.
    pub fn preamble(&mut self, out: &mut Vec<u8>) -> bool {
        match self.pending.take() {
            Some(record) => {
                self.seal_record(&record, out);
                true
            }
            None => false,
        }
    }

    /// Seal a line of the run's own (an event) into `out`.
    pub fn seal(&mut self, body: &[u8], out: &mut Vec<u8>) {
        if self.plain {
            out.extend_from_slice(body);
            out.push(b'\n');
        } else {
            self.chain.seal(body, None, out);
        }
        self.lines += 1;
    }

    /// Whether a periodic head is due at `now` (never for an unsigned run).
    pub fn head_due(&self, now: Instant) -> bool {
        self.key.is_some() && now.saturating_duration_since(self.last_signed) >= self.head_every
    }

    /// Seal a signed head into `out` (nothing for an unsigned run: a head
    /// exists to carry a signature); returns whether it did.
    pub fn head(&mut self, out: &mut Vec<u8>) -> bool {
        if self.key.is_none() {
            return false;
        }
        let head = Record::Head(Head {
            at: now_rfc3339(),
            lines: self.lines,
        });
        self.seal_record(&head, out);
        true
    }

    /// Seal the run's closing record into `out`; a later line starts a new
    /// run (with a start record of its own).
    pub fn close(&mut self, reason: &str, out: &mut Vec<u8>) {
        if self.plain {
            return;
        }
        self.preamble(out);
        let close = Record::Close(Close {
            at: now_rfc3339(),
            reason: reason.to_string(),
            started_at: self.started_at.clone(),
            duration_s: (self.started.elapsed().as_secs_f64() * 1e3).round() / 1e3,
            lines: self.lines,
        });
        self.seal_record(&close, out);
        let mut next = self.context.clone();
        next.at = now_rfc3339();
        next.previous_run = Some(PreviousRun {
            closed: true,
            last_seq: Some(self.chain.next_seq() - 1),
            last_signed_seq: self.key.is_some().then(|| self.chain.next_seq() - 1),
        });
        self.pending = Some(Record::Start(next));
        self.started = Instant::now();
        self.started_at = now_rfc3339();
        self.lines = 0;
    }

    /// Seal a custody record, signed when it is a signed kind.
    fn seal_record(&mut self, record: &Record, out: &mut Vec<u8>) {
        let signer = self.key.as_deref().filter(|_| record.is_signed());
        self.chain.seal(&record.to_body(), signer, out);
        if signer.is_some() {
            self.last_signed = Instant::now();
        }
    }
}

/// This machine's name (empty when unknown).
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}
