//! The alert log: JSON Lines, one [`AlertEvent`] per line, appended and
//! flushed after every line and synced to disk on `raised`/`cleared`, so a
//! crash never loses or corrupts an event already written.

use super::{AlertEvent, EventType};
use crate::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Appends alert events to a `.jsonl` file.
pub struct AlertLog {
    path: PathBuf,
    file: File,
    line: Vec<u8>,
}

impl AlertLog {
    /// Open `path` for appending (created with its directory if missing).
    pub fn append(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        Ok(AlertLog {
            path: path.to_path_buf(),
            file,
            line: Vec::with_capacity(1024),
        })
    }

    /// Start a fresh log at `path`, replacing any earlier one (for offline analysis).
    pub fn create(path: &Path) -> Result<Self> {
        if path.exists() {
            std::fs::remove_file(path).map_err(|e| Error::io(path, e))?;
        }
        Self::append(path)
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Write one event as one line with a single `write` call.
    pub fn write(&mut self, event: &AlertEvent) -> Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, event).expect("alert events serialise");
        self.line.push(b'\n');
        self.file
            .write_all(&self.line)
            .map_err(|e| Error::io(&self.path, e))?;
        if event.event != EventType::Updated {
            self.file
                .sync_data()
                .map_err(|e| Error::io(&self.path, e))?;
        }
        Ok(())
    }
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
