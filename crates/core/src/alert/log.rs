//! The alert log: JSON Lines, one event per line, appended and flushed
//! after every line and synced to disk on everything but `updated`, so a
//! crash never loses or corrupts an event already written.
//!
//! Every line is sealed into the log's chain of custody on its way out
//! (`custody::sealer`): whatever its event — alert events, evidence records,
//! events other parts add through [`AlertLog::write_entries`] — it carries
//! `seq` and the hash of the line before it; the run's genesis or start
//! record, signed heads and closing record are added here too, so no line
//! reaches the file outside the chain.
//!
//! Every line is written with one `write` call, so a crash (even SIGKILL)
//! leaves whole lines. Should a line still be torn — a write cut short by a
//! full disk, a power loss — the log repairs itself: a failed write is rolled
//! back to the last whole line (and the chain with it), and opening the log
//! removes an unterminated last line before appending, so a new event is
//! never glued onto the fragment of an old one. That removal is not silent:
//! the run's start record carries the fragment (its length, hash and text),
//! signed.

use super::{AlertEvent, EventType};
use crate::custody::chain::{scan, LogTail};
use crate::custody::record::Repair;
use crate::custody::sealer::{RunContext, Sealer};
use crate::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One line for the log: an alert event, or any other event (an evidence
/// record, an acknowledgement) as a JSON object with an `event` field.
// Alert events are nearly every line: boxing them would cost an allocation
// per event for a smaller rare variant.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum LogEntry {
    Alert(AlertEvent),
    Other(serde_json::Map<String, serde_json::Value>),
}

impl LogEntry {
    /// An event other than an alert's; refused when its fields are not a
    /// JSON object with a string `event`, or use a chain field (`seq`,
    /// `prev`, `sig`).
    pub fn other(value: impl serde::Serialize) -> Result<LogEntry> {
        let map = match serde_json::to_value(value) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => {
                return Err(Error::LogLine {
                    problem: "must be a JSON object".into(),
                })
            }
        };
        if !map.get("event").is_some_and(|e| e.is_string()) {
            return Err(Error::LogLine {
                problem: "needs a string \"event\" field".into(),
            });
        }
        if let Some(f) = crate::custody::chain::RESERVED_FIELDS
            .iter()
            .find(|f| map.contains_key(**f))
        {
            return Err(Error::LogLine {
                problem: format!("may not have a field named {f:?}: the chain of custody uses it"),
            });
        }
        Ok(LogEntry::Other(map))
    }

    /// The line's JSON (without chain fields).
    pub fn to_json(&self) -> String {
        match self {
            LogEntry::Alert(e) => serde_json::to_string(e),
            LogEntry::Other(m) => serde_json::to_string(m),
        }
        .expect("log entries serialise")
    }

    /// The alert event, if it is one.
    pub fn alert(&self) -> Option<&AlertEvent> {
        match self {
            LogEntry::Alert(e) => Some(e),
            LogEntry::Other(_) => None,
        }
    }

    /// Whether the line is synced when written (all but `updated` events).
    fn needs_sync(&self) -> bool {
        !matches!(self, LogEntry::Alert(e) if e.event == EventType::Updated)
    }

    /// One of the chain of custody's own records (`custody.*`).
    fn is_custody_record(&self) -> bool {
        match self {
            LogEntry::Alert(_) => false,
            LogEntry::Other(m) => m
                .get("event")
                .and_then(|e| e.as_str())
                .is_some_and(crate::custody::record::is_custody_event),
        }
    }

    fn is_cleared(&self) -> bool {
        matches!(self, LogEntry::Alert(e) if e.event == EventType::Cleared)
    }

    fn body(&self, out: &mut Vec<u8>) {
        match self {
            LogEntry::Alert(e) => serde_json::to_writer(out, e),
            LogEntry::Other(m) => serde_json::to_writer(out, m),
        }
        .expect("log entries serialise")
    }
}

/// Appends events to a `.jsonl` file, sealed into its chain.
pub struct AlertLog {
    path: PathBuf,
    file: File,
    /// The body of the line being written, then the sealed line.
    body: Vec<u8>,
    line: Vec<u8>,
    /// Length of the log up to its last whole line.
    len: u64,
    sealer: Sealer,
}

impl AlertLog {
    /// Open `path` for appending (created with its directory if missing),
    /// unsigned, for an unnamed run (tests and tools; runs use [`AlertLog::open`]).
    pub fn append(path: &Path) -> Result<Self> {
        Self::open(path, &RunContext::default(), false)
    }

    /// Start a fresh log at `path`, emptying any earlier one, unsigned, for
    /// an unnamed run. The file `path` names is emptied in place: a log that
    /// is a symbolic link stays one, and its target is the new log.
    pub fn create(path: &Path) -> Result<Self> {
        Self::open(path, &RunContext::default(), true)
    }

    /// Open the log of a run described by `ctx` (its key signs): `fresh`
    /// empties any earlier log first, else the run appends, its start
    /// record following the chain already there. The genesis or start
    /// record is written at once; if it cannot be (a full disk), it goes
    /// first with the run's first write that succeeds.
    pub fn open(path: &Path, ctx: &RunContext, fresh: bool) -> Result<Self> {
        if fresh && std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
            OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(path)
                .map_err(|e| Error::io(path, e))?;
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        let regular = file.metadata().is_ok_and(|m| m.is_file());
        let len = whole_lines_len(&mut file).map_err(|e| Error::io(path, e))?;
        let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        let mut repair = None;
        if len < file_len {
            tracing::warn!(
                "{}: removing an incomplete last line ({} bytes, not a whole alert event) left by an earlier run; the run's start record keeps it",
                path.display(),
                file_len - len
            );
            let mut fragment = Vec::new();
            file.seek(SeekFrom::Start(len))
                .and_then(|_| file.read_to_end(&mut fragment))
                .map_err(|e| Error::io(path, e))?;
            repair = Some(Repair::of(&fragment));
            file.set_len(len).map_err(|e| Error::io(path, e))?;
            file.sync_data().map_err(|e| Error::io(path, e))?;
        }
        let tail: Option<LogTail> = match regular {
            true => {
                file.seek(SeekFrom::Start(0))
                    .map_err(|e| Error::io(path, e))?;
                Some(scan(std::io::BufReader::new(&mut file)).map_err(|e| Error::io(path, e))?)
            }
            false => None,
        };
        let mut log = AlertLog {
            path: path.to_path_buf(),
            file,
            body: Vec::with_capacity(1024),
            line: Vec::with_capacity(1024),
            len,
            sealer: Sealer::new(ctx, tail.as_ref(), repair),
        };
        if let Err(e) = log.commit(&[], Tail::None) {
            tracing::warn!("cannot write the run's start record yet: {e}");
        }
        Ok(log)
    }

    /// Whether the log keeps a chain of custody (a run with a key started
    /// it); a plain log is the events alone.
    pub fn is_chained(&self) -> bool {
        !self.sealer.is_plain()
    }

    /// Sign heads every `every` instead of every minute (tests).
    pub fn with_head_every(mut self, every: std::time::Duration) -> Self {
        self.sealer = self.sealer.with_head_every(every);
        self
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Clear the alerts an earlier run left open: those whose last event in
    /// this log is `raised` or `updated` (the run was killed, crashed or lost
    /// power before it could clear them). Each gets a `cleared` event copied
    /// from its last one, marked `details.closed_at_restart = true`, keeping
    /// only evidence files that exist (a snippet cut off by the crash was
    /// never finished). Then the evidence files that run finished but could
    /// not bind into the chain are bound (`custody.evidence`,
    /// `bound_at_restart`). Returns the ids closed.
    pub fn close_left_open(&mut self) -> Result<Vec<String>> {
        // Only a regular file is read back (a device such as /dev/full never ends).
        if !std::fs::metadata(&self.path).is_ok_and(|m| m.is_file()) {
            return Ok(Vec::new());
        }
        // One pass, line by line, keeping only the alerts still open (a
        // long-running site's log may hold a great many events).
        use std::io::BufRead;
        let file = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        let mut open: std::collections::HashMap<String, (usize, AlertEvent)> = Default::default();
        for (seq, line) in std::io::BufReader::new(file).split(b'\n').enumerate() {
            let line = line.map_err(|e| Error::io(&self.path, e))?;
            let Ok(event) = serde_json::from_slice::<AlertEvent>(&line) else {
                continue; // not an alert event, or a torn line (repaired on open)
            };
            if event.event == EventType::Acknowledged {
                continue; // a person's note, not a change of the alert's state
            } else if event.event == EventType::Cleared {
                open.remove(&event.id);
            } else {
                let first = open.get(&event.id).map_or(seq, |(first, _)| *first);
                open.insert(event.id.clone(), (first, event));
            }
        }
        let mut left: Vec<(usize, AlertEvent)> = open.into_values().collect();
        left.sort_by_key(|(first, _)| *first);
        let dir = self.path.parent().unwrap_or(Path::new("")).to_path_buf();
        let exists = |rel: &Option<String>| rel.clone().filter(|r| dir.join(r).is_file());
        let cleared: Vec<AlertEvent> = left
            .into_iter()
            .map(|(_, last)| {
                let mut cleared = last.clone();
                cleared.event = EventType::Cleared;
                cleared.evidence.spectrogram = exists(&last.evidence.spectrogram);
                cleared.evidence.spectrogram_sha256 = cleared
                    .evidence
                    .spectrogram
                    .as_deref()
                    .and_then(|rel| crate::custody::evidence::sha256_of(&dir, rel).ok())
                    .and_then(|h| h.sha256);
                cleared.evidence.iq = exists(&last.evidence.iq);
                cleared
                    .details
                    .insert("closed_at_restart".into(), serde_json::Value::Bool(true));
                cleared
            })
            .collect();
        self.write_all(&cleared)?;
        let unbound = crate::custody::evidence::unbound_files(&dir, &self.path);
        if !unbound.is_empty() {
            tracing::warn!(
                "{}: binding {} evidence file(s) an earlier run finished but did not bind into the chain",
                self.path.display(),
                unbound.len()
            );
            let record =
                crate::custody::record::Record::Evidence(crate::custody::record::Evidence {
                    id: None,
                    files: unbound,
                    bound_at_restart: true,
                });
            self.write_entries(&[LogEntry::other(&record)?])?;
        }
        Ok(cleared.into_iter().map(|e| e.id).collect())
    }

    /// Write one event as one line with a single `write` call; synced
    /// unless it is an `updated` event.
    pub fn write(&mut self, event: &AlertEvent) -> Result<()> {
        self.write_all(std::slice::from_ref(event))
    }

    /// Write events in order, one line (one `write` call) each, then sync
    /// once if any is not an `updated` event; a `cleared` one is followed by
    /// a signed head. All or nothing: when a write or the sync fails, the
    /// log (and its chain) is cut back to where it was, so a retry never
    /// writes a line twice.
    pub fn write_all(&mut self, events: &[AlertEvent]) -> Result<()> {
        let entries: Vec<LogEntry> = events.iter().cloned().map(LogEntry::Alert).collect();
        self.write_entries(&entries)
    }

    /// Write lines of any event in order, as [`AlertLog::write_all`] does.
    pub fn write_entries(&mut self, entries: &[LogEntry]) -> Result<()> {
        let head = match entries.iter().any(LogEntry::is_cleared) {
            true => Tail::Head,
            false => Tail::None,
        };
        self.commit(entries, head)
    }

    /// Write a signed head if one is due at `now` (every minute, for a
    /// signed run); returns whether it wrote one.
    pub fn sign_head_if_due(&mut self, now: Instant) -> Result<bool> {
        if !self.sealer.head_due(now) {
            return Ok(false);
        }
        self.commit(&[], Tail::Head)?;
        Ok(true)
    }

    /// End the run: its signed closing record, saying why (`reason`). A
    /// later write starts a new run in the log.
    pub fn close(&mut self, reason: &str) -> Result<()> {
        self.commit(&[], Tail::Close(reason))
    }

    /// Seal and write the pending start record, `entries` and `tail`, one
    /// line per `write`; sync if anything but `updated` events went in.
    /// All or nothing (see [`AlertLog::write_all`]).
    fn commit(&mut self, entries: &[LogEntry], tail: Tail) -> Result<()> {
        let before = self.len;
        let mark = self.sealer.mark();
        let result = self.append_lines(entries, tail);
        result.map_err(|e| {
            let _ = self.file.set_len(before);
            self.len = before;
            self.sealer.rewind(mark);
            Error::io(&self.path, e)
        })
    }

    fn append_lines(&mut self, entries: &[LogEntry], tail: Tail) -> std::io::Result<()> {
        let mut sync = false;
        self.line.clear();
        if self.sealer.preamble(&mut self.line) {
            self.flush_line()?;
            sync = true;
        }
        for entry in entries {
            if self.sealer.is_plain() && entry.is_custody_record() {
                continue; // a plain log has no chain to bind into
            }
            self.body.clear();
            entry.body(&mut self.body);
            self.line.clear();
            self.sealer.seal(&self.body, &mut self.line);
            self.flush_line()?;
            sync |= entry.needs_sync();
        }
        self.line.clear();
        match tail {
            Tail::None => {}
            Tail::Head => sync |= self.sealer.head(&mut self.line),
            Tail::Close(reason) => {
                self.sealer.close(reason, &mut self.line);
                sync = true;
            }
        }
        if !self.line.is_empty() {
            self.flush_line()?;
        }
        if sync {
            self.file.sync_data()?;
        }
        Ok(())
    }

    /// Write `self.line` (one or more sealed lines) with one `write` each.
    fn flush_line(&mut self) -> std::io::Result<()> {
        for line in self.line.split_inclusive(|&b| b == b'\n') {
            self.file.write_all(line)?;
            self.len += line.len() as u64;
        }
        self.line.clear();
        Ok(())
    }
}

/// What follows a batch of lines.
#[derive(Debug, Clone, Copy)]
enum Tail<'a> {
    None,
    /// A signed head (after a `cleared`, or when one is due).
    Head,
    /// The run's closing record, and why.
    Close(&'a str),
}

/// The first free alert number for ids `{prefix}{n}` in the log at `path`:
/// one more than the highest already there, 1 if there is none (or no log).
/// A monitor restarted within the same second as an earlier run (same
/// prefix) thus never reuses an id in the log it appends to.
pub fn next_free_number(path: &Path, prefix: &str) -> u64 {
    use std::io::BufRead;
    // Only a regular file is read: the log may be a device (`/dev/full` in
    // tests, `/dev/null`), and reading `/dev/full` never ends.
    let Ok(file) = File::open(path) else {
        return 1;
    };
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return 1;
    }
    let prefix_bytes = prefix.as_bytes();
    let highest = std::io::BufReader::new(file)
        .split(b'\n')
        .map_while(|line| line.ok())
        .filter(|line| {
            prefix_bytes.is_empty() || line.windows(prefix_bytes.len()).any(|w| w == prefix_bytes)
        })
        .filter_map(|line| serde_json::from_slice::<serde_json::Value>(&line).ok())
        .filter_map(|event| {
            event
                .get("id")?
                .as_str()?
                .strip_prefix(prefix)?
                .parse::<u64>()
                .ok()
        })
        .max()
        .unwrap_or(0);
    highest + 1
}

/// Whether `line` is a whole JSON object of an event other than an alert's
/// (`event` is not raised/updated/cleared).
fn is_other_event(line: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct EventOnly {
        event: String,
    }
    serde_json::from_str::<EventOnly>(line)
        .is_ok_and(|e| !matches!(e.event.as_str(), "raised" | "updated" | "cleared"))
}

/// The length of `file` up to and including its last newline (0 if it has none).
fn whole_lines_len(file: &mut File) -> std::io::Result<u64> {
    let len = file.metadata()?.len();
    let mut end = len;
    let mut buf = [0u8; 4096];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        if let Some(i) = chunk.iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// Read the alert events of a log back. Lines of other events (the chain's
/// `custody.*` records, evidence records, acknowledgements) are skipped, and
/// so is a torn last line (with a warning).
pub fn read_alert_log(path: &Path) -> Result<Vec<AlertEvent>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut events = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(e) => events.push(e),
            Err(_) if is_other_event(line) => {}
            Err(e) if n + 1 == text.lines().count() && !text.ends_with('\n') => {
                tracing::warn!("{}: ignoring incomplete last line: {e}", path.display());
            }
            Err(e) => {
                return Err(Error::format(
                    path,
                    format!("line {}", n + 1),
                    format!("an alert event as JSON ({e})"),
                ))
            }
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::test_event as event;

    #[test]
    fn append_removes_a_torn_last_line_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("alerts.jsonl");
        let key = std::sync::Arc::new(crate::custody::SensorKey::from_seed(&[7; 32]));
        let ctx = RunContext {
            key: Some(key),
            ..RunContext::default()
        };
        for (signed, ctx) in [(false, RunContext::default()), (true, ctx)] {
            let mut log = AlertLog::open(&path, &ctx, true).unwrap();
            log.write(&event("a-1", EventType::Raised)).unwrap();
            drop(log);
            // A crash in the middle of a line.
            let mut f = OpenOptions::new().append(true).open(&path).unwrap();
            f.write_all(br#"{"id":"a-1","event":"clea"#).unwrap();
            drop(f);
            let mut log = AlertLog::open(&path, &ctx, false).unwrap();
            log.write(&event("a-1", EventType::Cleared)).unwrap();
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines() {
                serde_json::from_str::<serde_json::Value>(line).unwrap();
            }
            let events = read_alert_log(&path).unwrap();
            assert_eq!(events.len(), 2);
            assert_eq!(events[1].event, EventType::Cleared);
            if !signed {
                // A plain log: the events alone, the torn piece gone.
                assert_eq!(text.lines().count(), 2, "{text}");
                continue;
            }
            // genesis, raised, the restart's start record, cleared, the
            // signed head after it; the removal is on the record.
            assert_eq!(text.lines().count(), 5, "{text}");
            let start: serde_json::Value =
                serde_json::from_str(text.lines().nth(2).unwrap()).unwrap();
            assert_eq!(start["event"], "custody.start");
            assert_eq!(
                start["repair"]["removed_text"],
                r#"{"id":"a-1","event":"clea"#
            );
            assert_eq!(start["previous_run"]["closed"], false);
        }
    }

    #[test]
    fn a_signed_run_killed_with_a_torn_line_and_restarted_verifies() {
        use crate::custody::{verify_dir, SensorKey, VerifyOptions};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("alerts.jsonl");
        let key = std::sync::Arc::new(SensorKey::from_seed(&[3; 32]));
        let ctx = RunContext {
            key: Some(key.clone()),
            site: "s".into(),
            source: "r".into(),
            command: "monitor".into(),
            profile: None,
        };
        let opts = VerifyOptions {
            pubkey: Some(key.public()),
            ..Default::default()
        };
        let mut log = AlertLog::open(&path, &ctx, false).unwrap();
        log.write(&event("k-1", EventType::Raised)).unwrap();
        log.write(&event("k-1", EventType::Cleared)).unwrap();
        log.write(&event("k-2", EventType::Raised)).unwrap();
        drop(log); // SIGKILL: no closing record
        let incomplete = verify_dir(dir.path(), &opts);
        assert_eq!(
            incomplete.failure.as_ref().map(|f| f.problem),
            Some(crate::custody::Problem::Incomplete),
            "{}",
            incomplete.to_text()
        );
        let allowed = verify_dir(
            dir.path(),
            &VerifyOptions {
                allow_incomplete: true,
                ..opts.clone()
            },
        );
        assert!(allowed.verified, "{}", allowed.to_text());
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"id":"k-2","ev"#).unwrap();
        drop(f);

        let mut log = AlertLog::open(&path, &ctx, false).unwrap();
        assert_eq!(log.close_left_open().unwrap(), ["k-2"]);
        log.close("end of the recording").unwrap();
        let v = verify_dir(dir.path(), &opts);
        assert!(v.verified, "{}", v.to_text());
        assert_eq!(v.runs, 2);
        let notes = v.notes.join("\n");
        assert!(
            notes.contains("removed an incomplete last line (15 bytes"),
            "{notes}"
        );
        assert!(notes.contains("without its closing record"), "{notes}");
    }

    #[test]
    fn create_empties_the_file_a_symlinked_log_points_to() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("kept-elsewhere.jsonl");
        let link = dir.path().join("alerts.jsonl");
        std::fs::write(&target, "old line\n").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let mut log = AlertLog::create(&link).unwrap();
        log.write(&event("c-1", EventType::Raised)).unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        let events = read_alert_log(&target).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].id, "c-1");
    }

    #[test]
    fn alerts_left_open_by_a_killed_run_are_cleared_on_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("alerts.jsonl");
        std::fs::create_dir(dir.path().join("spectrograms")).unwrap();
        std::fs::write(dir.path().join("spectrograms/k-2.png"), b"png").unwrap();
        let mut log = AlertLog::create(&path).unwrap();
        log.write(&event("k-1", EventType::Raised)).unwrap();
        log.write(&event("k-1", EventType::Cleared)).unwrap();
        let mut open = event("k-2", EventType::Raised);
        open.evidence.iq = Some("iq/k-2.sigmf-meta".into()); // never finished
        open.evidence.spectrogram = Some("spectrograms/k-2.png".into());
        log.write(&open).unwrap();
        open.event = EventType::Updated;
        log.write(&open).unwrap();
        log.write(&event("k-3", EventType::Raised)).unwrap();
        drop(log); // killed here

        let mut log = AlertLog::append(&path).unwrap();
        assert_eq!(log.close_left_open().unwrap(), ["k-2", "k-3"]);
        assert!(log.close_left_open().unwrap().is_empty(), "closed once");
        let events = read_alert_log(&path).unwrap();
        assert_eq!(events.len(), 7);
        let k2 = &events[5];
        assert_eq!((k2.id.as_str(), k2.event), ("k-2", EventType::Cleared));
        assert_eq!(k2.details["closed_at_restart"], true);
        assert_eq!(k2.evidence.iq, None);
        assert_eq!(
            k2.evidence.spectrogram.as_deref(),
            Some("spectrograms/k-2.png")
        );
        // Bound into the chain as the restart found it.
        assert_eq!(
            k2.evidence.spectrogram_sha256.as_deref(),
            Some(crate::custody::chain::to_hex(&crate::custody::chain::sha256(b"png")).as_str())
        );
        assert_eq!(
            (events[6].id.as_str(), events[6].event),
            ("k-3", EventType::Cleared)
        );
    }

    #[test]
    fn a_log_that_is_only_a_fragment_starts_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("alerts.jsonl");
        std::fs::write(&path, br#"{"id":"#).unwrap();
        let mut log = AlertLog::append(&path).unwrap();
        log.write(&event("b-1", EventType::Raised)).unwrap();
        assert_eq!(read_alert_log(&path).unwrap().len(), 1);
    }

    #[test]
    fn numbering_continues_after_ids_of_the_same_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("alerts.jsonl");
        assert_eq!(next_free_number(&path, "s-20240501T120000Z-"), 1);
        let mut log = AlertLog::create(&path).unwrap();
        for id in [
            "s-20240501T120000Z-0002",
            "s-20240501T120000Z-0011",
            "s-20240501T115959Z-0040",
            "other-0099",
        ] {
            log.write(&event(id, EventType::Raised)).unwrap();
        }
        assert_eq!(next_free_number(&path, "s-20240501T120000Z-"), 12);
        assert_eq!(next_free_number(&path, "s-20240501T120001Z-"), 1);
        // A device is not read (reading /dev/full never ends).
        assert_eq!(next_free_number(Path::new("/dev/full"), "s-"), 1);
    }

    #[test]
    fn a_full_disk_is_an_error_naming_the_log() {
        let full = Path::new("/dev/full");
        if !full.exists() {
            return;
        }
        let mut log = AlertLog::append(full).unwrap();
        let msg = log
            .write(&event("c-1", EventType::Raised))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("/dev/full"), "{msg}");
        assert!(msg.contains("No space left"), "{msg}");
    }
}
