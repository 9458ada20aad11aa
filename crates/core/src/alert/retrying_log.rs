//! The alert log through output failures. Events the log cannot take (a full
//! disk, an I/O error) are held in memory, in order, and written as soon as
//! it takes them again — so a disk that fills during a long watch and is then
//! freed costs no event, and the log stays in stream order. Retries are spaced
//! out (every few seconds, whether or not new events come), held events go
//! in as one batch with one sync, and what is held is bounded: when it is
//! full, the oldest `updated` events go first (`raised` and `cleared` are
//! what an alert's record cannot do without).
//!
//! Besides events it passes on the chain of custody's timing: a signed head
//! when one is due ([`RetryingLog::tick`]) and the run's closing record
//! ([`RetryingLog::close`]), both only once nothing is held (they seal what
//! is in the log).

use super::log::{AlertLog, LogEntry};
use super::{AlertEvent, EventType};
use crate::Result;
use std::collections::VecDeque;
use std::path::Path;
use std::time::{Duration, Instant};

/// Somewhere alert events are written to.
pub trait EventWriter {
    /// Write `entries` in order, all or nothing: on an error none of them is
    /// in the log (so writing them again never doubles a line).
    fn write_entries(&mut self, entries: &[LogEntry]) -> Result<()>;
    /// Where the events go (for messages).
    fn path(&self) -> &Path;
    /// Write a signed chain head if one is due at `now`.
    fn sign_head_if_due(&mut self, _now: Instant) -> Result<bool> {
        Ok(false)
    }
    /// End the run with its closing record, saying why.
    fn close(&mut self, _reason: &str) -> Result<()> {
        Ok(())
    }
    /// Whether the log keeps a chain of custody (evidence is bound into it).
    fn is_chained(&self) -> bool {
        false
    }
}

impl EventWriter for AlertLog {
    fn write_entries(&mut self, entries: &[LogEntry]) -> Result<()> {
        AlertLog::write_entries(self, entries)
    }

    fn path(&self) -> &Path {
        AlertLog::path(self)
    }

    fn sign_head_if_due(&mut self, now: Instant) -> Result<bool> {
        AlertLog::sign_head_if_due(self, now)
    }

    fn close(&mut self, reason: &str) -> Result<()> {
        AlertLog::close(self, reason)
    }

    fn is_chained(&self) -> bool {
        AlertLog::is_chained(self)
    }
}

/// What happened to an event handed to [`RetryingLog::write`].
#[derive(Debug)]
pub enum LogOutcome {
    /// Written, as was everything before it.
    Written,
    /// The log has just started failing: this event and the ones after it
    /// are held until it takes them again.
    Failed(crate::Error),
    /// Held: the log is still failing (or not retried yet).
    Held,
    /// The log takes events again: `written` held events (this one
    /// included) went in.
    Recovered { written: usize },
}

/// Writes alert events through [`EventWriter`] failures (see the module doc).
pub struct RetryingLog<W> {
    writer: W,
    held: VecDeque<LogEntry>,
    max_held: usize,
    retry_every: Duration,
    /// When the next attempt is due while failing; `None` while healthy.
    next_retry: Option<Instant>,
    /// Events given up because too many were held.
    dropped: u64,
}

impl<W: EventWriter> RetryingLog<W> {
    /// Hold at most `max_held` events while failing; retry at most once per `retry_every`.
    pub fn new(writer: W, max_held: usize, retry_every: Duration) -> Self {
        RetryingLog {
            writer,
            held: VecDeque::new(),
            max_held: max_held.max(1),
            retry_every,
            next_retry: None,
            dropped: 0,
        }
    }

    /// Write `event` after every event still held; `now` is the time of the call.
    pub fn write(&mut self, event: &AlertEvent, now: Instant) -> LogOutcome {
        self.write_entry(LogEntry::Alert(event.clone()), now)
    }

    /// Write any line (an evidence record, an acknowledgement) after every
    /// event still held, as [`RetryingLog::write`] does.
    pub fn write_entry(&mut self, entry: LogEntry, now: Instant) -> LogOutcome {
        self.hold(entry);
        if self.next_retry.is_some_and(|due| now < due) {
            return LogOutcome::Held;
        }
        self.attempt(now)
    }

    /// Write a signed chain head if one is due and the log is healthy with
    /// nothing held (call it often). `Some(Failed)` when the head could not
    /// be written: the log is then treated as failing.
    pub fn tick(&mut self, now: Instant) -> Option<LogOutcome> {
        if self.next_retry.is_some() || !self.held.is_empty() {
            return None;
        }
        match self.writer.sign_head_if_due(now) {
            Ok(_) => None,
            Err(e) => {
                self.next_retry = Some(now + self.retry_every);
                Some(LogOutcome::Failed(e))
            }
        }
    }

    /// End the run: a last attempt at what is held, then the closing
    /// record saying why. `Ok` when both went in.
    pub fn close(&mut self, reason: &str) -> Result<usize> {
        let written = self.flush()?;
        self.writer.close(reason)?;
        Ok(written)
    }

    /// Try the held events again if a retry is due (call it often: on every
    /// item the sink handles). `None` when there was nothing to do.
    pub fn retry(&mut self, now: Instant) -> Option<LogOutcome> {
        let due = self.next_retry.is_some_and(|due| now >= due) && !self.held.is_empty();
        due.then(|| self.attempt(now))
    }

    /// Write what is held; what that means depends on whether the log was failing.
    fn attempt(&mut self, now: Instant) -> LogOutcome {
        let was_failing = self.next_retry.is_some();
        match self.flush() {
            Ok(written) => {
                self.next_retry = None;
                if was_failing {
                    LogOutcome::Recovered { written }
                } else {
                    LogOutcome::Written
                }
            }
            Err(e) => {
                self.next_retry = Some(now + self.retry_every);
                if was_failing {
                    LogOutcome::Held
                } else {
                    LogOutcome::Failed(e)
                }
            }
        }
    }

    /// One last attempt at what is held (end of the run); `Ok` when nothing is left.
    pub fn finish(&mut self) -> Result<usize> {
        self.flush()
    }

    /// Correct the events still held before they are written (evidence
    /// they name was dropped meanwhile).
    pub fn amend_held(&mut self, mut amend: impl FnMut(&mut AlertEvent)) {
        for entry in self.held.iter_mut() {
            if let LogEntry::Alert(e) = entry {
                amend(e);
            }
        }
    }

    /// The lines still held (not in the log).
    pub fn held_events(&self) -> impl Iterator<Item = &LogEntry> {
        self.held.iter()
    }

    /// Events not written yet.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Events given up because too many were held.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Where the events go.
    /// Whether the log keeps a chain of custody (evidence is bound into it).
    pub fn is_chained(&self) -> bool {
        self.writer.is_chained()
    }

    pub fn path(&self) -> &Path {
        self.writer.path()
    }

    fn hold(&mut self, event: LogEntry) {
        if self.held.len() >= self.max_held {
            let victim = self
                .held
                .iter()
                .position(|e| e.alert().is_some_and(|e| e.event == EventType::Updated))
                .unwrap_or(0);
            self.held.remove(victim);
            self.dropped += 1;
        }
        self.held.push_back(event);
    }

    /// Write every held event, in order, as one batch; returns how many went in.
    fn flush(&mut self) -> Result<usize> {
        if self.held.is_empty() {
            return Ok(0);
        }
        self.writer.write_entries(self.held.make_contiguous())?;
        let written = self.held.len();
        self.held.clear();
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::log::read_alert_log;
    use crate::alert::test_event as event;
    use std::path::PathBuf;

    /// A writer that fails while `broken` is set, keeping what it takes.
    struct Flaky {
        broken: bool,
        taken: Vec<(String, EventType)>,
        attempts: usize,
        path: PathBuf,
    }

    impl EventWriter for Flaky {
        fn write_entries(&mut self, events: &[LogEntry]) -> Result<()> {
            self.attempts += 1;
            if self.broken {
                return Err(crate::Error::io(
                    &self.path,
                    std::io::Error::from_raw_os_error(28), // ENOSPC
                ));
            }
            self.taken.extend(
                events
                    .iter()
                    .filter_map(LogEntry::alert)
                    .map(|e| (e.id.clone(), e.event)),
            );
            Ok(())
        }

        fn path(&self) -> &Path {
            &self.path
        }
    }

    fn flaky() -> Flaky {
        Flaky {
            broken: false,
            taken: Vec::new(),
            attempts: 0,
            path: PathBuf::from("alerts.jsonl"),
        }
    }

    #[test]
    fn a_log_that_fails_then_recovers_gets_every_event_in_order() {
        let t0 = Instant::now();
        let every = Duration::from_secs(5);
        let mut log = RetryingLog::new(flaky(), 100, every);
        assert!(matches!(
            log.write(&event("a", EventType::Raised), t0),
            LogOutcome::Written
        ));
        log.writer.broken = true;
        assert!(matches!(
            log.write(&event("a", EventType::Updated), t0),
            LogOutcome::Failed(_)
        ));
        let attempts = log.writer.attempts;
        assert!(matches!(
            log.write(&event("b", EventType::Raised), t0),
            LogOutcome::Held
        ));
        assert_eq!(log.writer.attempts, attempts, "no retry before it is due");
        log.writer.broken = false; // space freed
        assert!(matches!(
            log.write(&event("a", EventType::Cleared), t0 + Duration::from_secs(1)),
            LogOutcome::Held
        ));
        assert_eq!(log.held(), 3);
        match log.write(&event("b", EventType::Cleared), t0 + every) {
            LogOutcome::Recovered { written } => assert_eq!(written, 4),
            other => panic!("{other:?}"),
        }
        let order: Vec<(&str, EventType)> = log
            .writer
            .taken
            .iter()
            .map(|(id, e)| (id.as_str(), *e))
            .collect();
        use EventType::*;
        assert_eq!(
            order,
            [
                ("a", Raised),
                ("a", Updated),
                ("b", Raised),
                ("a", Cleared),
                ("b", Cleared)
            ]
        );
        assert_eq!((log.held(), log.dropped()), (0, 0));
    }

    #[test]
    fn held_events_are_retried_without_waiting_for_a_new_one() {
        let t0 = Instant::now();
        let every = Duration::from_secs(5);
        let mut log = RetryingLog::new(flaky(), 100, every);
        log.writer.broken = true;
        assert!(matches!(
            log.write(&event("a", EventType::Raised), t0),
            LogOutcome::Failed(_)
        ));
        assert!(
            log.retry(t0 + Duration::from_secs(1)).is_none(),
            "not due yet"
        );
        assert!(matches!(log.retry(t0 + every), Some(LogOutcome::Held)));
        log.writer.broken = false;
        assert!(
            log.retry(t0 + every + Duration::from_secs(1)).is_none(),
            "spaced out"
        );
        match log.retry(t0 + 2 * every) {
            Some(LogOutcome::Recovered { written }) => assert_eq!(written, 1),
            other => panic!("{other:?}"),
        }
        assert!(log.retry(t0 + 3 * every).is_none(), "nothing held");
        assert_eq!(log.writer.taken, [("a".to_string(), EventType::Raised)]);
    }

    #[test]
    fn without_updates_to_give_up_the_oldest_event_goes() {
        let t = Instant::now();
        let mut log = RetryingLog::new(flaky(), 2, Duration::ZERO);
        log.writer.broken = true;
        for id in ["a", "b", "c"] {
            log.write(&event(id, EventType::Raised), t);
        }
        assert_eq!((log.held(), log.dropped()), (2, 1));
        let held: Vec<&str> = log
            .held_events()
            .filter_map(LogEntry::alert)
            .map(|e| e.id.as_str())
            .collect();
        assert_eq!(held, ["b", "c"]);
    }

    #[test]
    fn holding_is_bounded_and_gives_up_updates_first() {
        let t = Instant::now();
        let mut log = RetryingLog::new(flaky(), 3, Duration::ZERO);
        log.writer.broken = true;
        log.write(&event("a", EventType::Raised), t);
        log.write(&event("a", EventType::Updated), t);
        log.write(&event("a", EventType::Updated), t);
        log.write(&event("a", EventType::Cleared), t);
        log.write(&event("b", EventType::Raised), t);
        assert_eq!((log.held(), log.dropped()), (3, 2));
        assert!(log.finish().is_err());
        log.writer.broken = false;
        assert_eq!(log.finish().unwrap(), 3);
        let kinds: Vec<EventType> = log.writer.taken.iter().map(|(_, e)| *e).collect();
        assert_eq!(
            kinds,
            [EventType::Raised, EventType::Cleared, EventType::Raised]
        );
    }

    #[test]
    fn writes_through_to_a_real_alert_log() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("alerts.jsonl");
        let mut log = RetryingLog::new(AlertLog::create(&path).unwrap(), 10, Duration::ZERO);
        for e in [EventType::Raised, EventType::Cleared] {
            assert!(matches!(
                log.write(&event("r", e), Instant::now()),
                LogOutcome::Written
            ));
        }
        assert_eq!(read_alert_log(&path).unwrap().len(), 2);
        assert_eq!(log.path(), path);
    }
}
