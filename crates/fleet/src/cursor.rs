//! The spool cursor: how much of the alert log the broker has acknowledged,
//! kept durably beside the log (`alerts.jsonl.cursor`, written atomically),
//! so a restarted sensor — even after SIGKILL — publishes every event after
//! it, in order, and none before it.
//!
//! It also holds the numbering: the log's line `k` (from 0) carries the
//! sequence number `base_seq + k + 1`. Sequence numbers only grow for a site:
//! when the log was replaced (an `analyze` moved the old one aside, or it was
//! deleted), the cursor notices by the fingerprint of the last acknowledged
//! line, and the new log's numbering starts after the old one's.

use crate::error::{FleetError, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// The cursor file's format version.
const FORMAT: u64 = 1;

/// The durable cursor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cursor {
    pub format: u64,
    /// Bytes of the log before the first event not yet acknowledged.
    pub offset: u64,
    /// Sequence number of the last acknowledged event (the line ending at `offset`).
    pub acked_seq: u64,
    /// Sequence number before the log's first line.
    pub base_seq: u64,
    /// SHA-256 (hex) of the line ending at `offset`, without its newline; empty at 0.
    pub last_line_sha256: String,
}

impl Cursor {
    /// A cursor at the start of a log numbered from `base_seq + 1`.
    pub fn start(base_seq: u64) -> Self {
        Cursor {
            format: FORMAT,
            offset: 0,
            acked_seq: base_seq,
            base_seq,
            last_line_sha256: String::new(),
        }
    }

    /// Where the cursor of the log at `log` lives.
    pub fn path_for(log: &Path) -> PathBuf {
        let mut s = log.as_os_str().to_owned();
        s.push(".cursor");
        PathBuf::from(s)
    }

    /// Read the cursor at `path`; `None` when there is none. A file that is
    /// not a cursor is an error naming it (removing it publishes the whole
    /// log again, numbered from 1).
    pub fn load(path: &Path) -> Result<Option<Self>> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(FleetError::io(path, e)),
        };
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|e| {
            FleetError::format(
                path,
                format!(
                    "not a publish cursor ({e}); remove it to publish the whole alert log again"
                ),
            )
        })?;
        if cursor.format != FORMAT {
            return Err(FleetError::format(
                path,
                format!(
                    "cursor format {} (this rfsentry reads format {FORMAT})",
                    cursor.format
                ),
            ));
        }
        if cursor.acked_seq < cursor.base_seq {
            return Err(FleetError::format(
                path,
                format!(
                    "acked_seq {} is below base_seq {}",
                    cursor.acked_seq, cursor.base_seq
                ),
            ));
        }
        Ok(Some(cursor))
    }

    /// Save atomically (a synced temporary file renamed into place).
    pub fn save(&self, path: &Path) -> Result<()> {
        let bytes = serde_json::to_vec(self).expect("a cursor serialises");
        rfsentry_core::atomic_file::write_atomic(path, &bytes).map_err(FleetError::from)
    }

    /// Check the cursor against the log at `log`: when the log no longer
    /// holds the acknowledged line at `offset` (replaced or cut), a cursor at
    /// the new log's start numbered after `acked_seq`, with a warning.
    pub fn checked_against(self, log: &Path) -> Self {
        if self.offset == 0 {
            return self;
        }
        match last_line_before(log, self.offset) {
            Ok(Some(line)) if sha256_hex(&line) == self.last_line_sha256 => self,
            _ => {
                tracing::warn!(
                    "{}: the alert log no longer holds the events the cursor {} counts as published (replaced or cut); publishing this log from its start, numbered from {}",
                    log.display(),
                    Cursor::path_for(log).display(),
                    self.acked_seq + 1
                );
                Cursor::start(self.acked_seq)
            }
        }
    }

    /// Move past the line `line` (without newline) that ends at `end` and
    /// carries `seq`.
    pub fn advance(&mut self, end: u64, seq: u64, line: &[u8]) {
        if end > self.offset {
            self.offset = end;
            self.acked_seq = seq;
            self.last_line_sha256 = sha256_hex(line);
        }
    }
}

/// SHA-256 of `bytes` in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The line ending (with its newline) at byte `end` of `log`, without the
/// newline; `None` when byte `end - 1` is not a newline.
fn last_line_before(log: &Path, end: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut f = std::fs::File::open(log)?;
    if f.metadata()?.len() < end {
        return Ok(None);
    }
    // Read back in steps until the previous newline (or the file's start).
    let mut tail = Vec::new();
    let mut pos = end;
    loop {
        let step = pos.min(4096);
        pos -= step;
        f.seek(SeekFrom::Start(pos))?;
        let mut chunk = vec![0; step as usize];
        f.read_exact(&mut chunk)?;
        chunk.extend_from_slice(&tail);
        tail = chunk;
        if tail.last() != Some(&b'\n') {
            return Ok(None);
        }
        let body = &tail[..tail.len() - 1];
        if let Some(nl) = body.iter().rposition(|&b| b == b'\n') {
            return Ok(Some(body[nl + 1..].to_vec()));
        }
        if pos == 0 {
            return Ok(Some(body.to_vec()));
        }
        if tail.len() > 16 << 20 {
            return Ok(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_a_round_trip_and_checks_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("alerts.jsonl");
        std::fs::write(&log, "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n").unwrap();
        let mut c = Cursor::start(10);
        c.advance(16, 12, b"{\"b\":2}");
        let path = Cursor::path_for(&log);
        c.save(&path).unwrap();
        let back = Cursor::load(&path).unwrap().unwrap();
        assert_eq!(back, c);
        assert_eq!(back.clone().checked_against(&log), c);
        // The log replaced by another: numbering goes on after 12, from byte 0.
        std::fs::write(&log, "{\"x\":1}\n{\"y\":2}\n").unwrap();
        let moved = back.checked_against(&log);
        assert_eq!((moved.offset, moved.acked_seq, moved.base_seq), (0, 12, 12));
    }

    #[test]
    fn a_damaged_cursor_is_an_error_naming_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("alerts.jsonl.cursor");
        assert_eq!(Cursor::load(&p).unwrap(), None);
        std::fs::write(&p, "{\"offset\":").unwrap();
        let e = Cursor::load(&p).unwrap_err().to_string();
        assert!(
            e.contains("alerts.jsonl.cursor") && e.contains("remove it"),
            "{e}"
        );
    }
}
