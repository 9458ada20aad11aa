//! The alert log: JSON Lines, one [`AlertEvent`] per line, appended and
//! flushed after every line and synced to disk on `raised`/`cleared`, so a
//! crash never loses or corrupts an event already written.
//!
//! Every line is written with one `write` call, so a crash (even SIGKILL)
//! leaves whole lines. Should a line still be torn — a write cut short by a
//! full disk, a power loss — the log repairs itself: a failed write is rolled
//! back to the last whole line, and [`AlertLog::append`] removes an
//! unterminated last line (with a warning) before appending, so a new event
//! is never glued onto the fragment of an old one.

use super::{AlertEvent, EventType};
use crate::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Appends alert events to a `.jsonl` file.
pub struct AlertLog {
    path: PathBuf,
    file: File,
    line: Vec<u8>,
    /// Length of the log up to its last whole line.
    len: u64,
}

impl AlertLog {
    /// Open `path` for appending (created with its directory if missing).
    pub fn append(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        let len = whole_lines_len(&mut file).map_err(|e| Error::io(path, e))?;
        let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        if len < file_len {
            tracing::warn!(
                "{}: removing an incomplete last line ({} bytes, not a whole alert event) left by an earlier run",
                path.display(),
                file_len - len
            );
            file.set_len(len).map_err(|e| Error::io(path, e))?;
            file.sync_data().map_err(|e| Error::io(path, e))?;
        }
        Ok(AlertLog {
            path: path.to_path_buf(),
            file,
            line: Vec::with_capacity(1024),
            len,
        })
    }

    /// Start a fresh log at `path`, emptying any earlier one (for offline
    /// analysis). The file `path` names is emptied in place: a log that is a
    /// symbolic link stays one, and its target is the new log.
    pub fn create(path: &Path) -> Result<Self> {
        if std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
            OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(path)
                .map_err(|e| Error::io(path, e))?;
        }
        Self::append(path)
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
    /// never finished). Returns the ids closed.
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
                continue; // not a whole event: a torn line is repaired on open
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
                cleared.evidence.iq = exists(&last.evidence.iq);
                cleared
                    .details
                    .insert("closed_at_restart".into(), serde_json::Value::Bool(true));
                cleared
            })
            .collect();
        self.write_all(&cleared)?;
        Ok(cleared.into_iter().map(|e| e.id).collect())
    }

    /// Write one event as one line with a single `write` call; synced
    /// unless it is an `updated` event.
    pub fn write(&mut self, event: &AlertEvent) -> Result<()> {
        self.write_all(std::slice::from_ref(event))
    }

    /// Write events in order, one line (one `write` call) each, then sync
    /// once if any is `raised` or `cleared`. All or nothing: when a write or
    /// the sync fails, the log is cut back to where it was, so a retry never
    /// writes a line twice.
    pub fn write_all(&mut self, events: &[AlertEvent]) -> Result<()> {
        let before = self.len;
        let result = self.append_lines(events).and_then(|()| {
            if events.iter().any(|e| e.event != EventType::Updated) {
                self.file.sync_data()?;
            }
            Ok(())
        });
        result.map_err(|e| {
            let _ = self.file.set_len(before);
            self.len = before;
            Error::io(&self.path, e)
        })
    }

    fn append_lines(&mut self, events: &[AlertEvent]) -> std::io::Result<()> {
        for event in events {
            self.line.clear();
            serde_json::to_writer(&mut self.line, event).expect("alert events serialise");
            self.line.push(b'\n');
            self.file.write_all(&self.line)?;
            self.len += self.line.len() as u64;
        }
        Ok(())
    }
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

/// Read an alert log back; lines that are not complete JSON (a torn last line) are skipped.
pub fn read_alert_log(path: &Path) -> Result<Vec<AlertEvent>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut events = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(e) => events.push(e),
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
        let mut log = AlertLog::create(&path).unwrap();
        log.write(&event("a-1", EventType::Raised)).unwrap();
        drop(log);
        // A crash in the middle of a line.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"id":"a-1","event":"clea"#).unwrap();
        drop(f);
        let mut log = AlertLog::append(&path).unwrap();
        log.write(&event("a-1", EventType::Cleared)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        for line in text.lines() {
            serde_json::from_str::<AlertEvent>(line).unwrap();
        }
        let events = read_alert_log(&path).unwrap();
        assert_eq!(events[1].event, EventType::Cleared);
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
