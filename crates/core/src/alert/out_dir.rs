//! The output directory of a run (`alerts/SITE` or `--out`): one writer at a
//! time, and no run's record lost to another.
//!
//! - [`OutputLock`]: an exclusive `flock` on `OUT/.rfsentry.lock`, held for
//!   the whole run. The kernel releases it when the process ends in any way
//!   (a SIGKILLed run leaves no stuck lock); the file holds the holder's pid
//!   and command line, so a refused run can say who is writing there.
//! - [`archive_earlier_run`]: `analyze` starts a fresh alert log, but never
//!   by truncating another run's: an earlier run found in OUT (its log,
//!   evidence, pictures and report) is first moved, whole, into
//!   `OUT/runs/<when it was written>/`, where its evidence paths stay valid.
//! - [`next_number_in`]: alert numbering continues after every id of the
//!   same prefix in OUT and its archived runs, so ids stay unique across runs.

use crate::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// Name of the lock file in the output directory.
pub const LOCK_FILE: &str = ".rfsentry.lock";
/// Directory (in the output directory) of earlier runs moved aside.
pub const RUNS_DIR: &str = "runs";

/// An exclusive claim on an output directory; released on drop (and by the
/// kernel if the process dies).
#[derive(Debug)]
pub struct OutputLock {
    path: PathBuf,
    _file: File,
}

impl OutputLock {
    /// Claim `dir` (created if missing) for this process. Another live run
    /// holding it is an error naming its pid and command line. A directory
    /// where no lock file can be made (unwritable, not a directory) is not
    /// refused here: `Ok(None)`, and writing there fails later with its own
    /// clear error while alerts still reach the terminal.
    pub fn acquire(dir: &Path) -> Result<Option<OutputLock>> {
        if let Err(e) = std::fs::create_dir_all(dir) {
            tracing::warn!("{}: cannot create the output directory: {e}", dir.display());
            return Ok(None);
        }
        let path = dir.join(LOCK_FILE);
        // A holder removes the file when it ends; if it did so between our
        // open and our flock, we hold a lock on a file nobody else sees:
        // try again on the file now at `path`.
        for _ in 0..100 {
            let mut file = match OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
            {
                Ok(f) => f,
                Err(e) => {
                    tracing::warn!("{}: cannot lock the output directory: {e}", path.display());
                    return Ok(None);
                }
            };
            // SAFETY: flock on a file descriptor we own.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
                let err = std::io::Error::last_os_error();
                if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                    tracing::warn!(
                        "{}: cannot lock the output directory: {err}",
                        path.display()
                    );
                    return Ok(None);
                }
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(Error::Busy {
                    dir: dir.to_path_buf(),
                    holder: describe_holder(&holder),
                });
            }
            let same = match (file.metadata(), std::fs::metadata(&path)) {
                (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
                _ => false,
            };
            if !same {
                continue;
            }
            let me = format!("pid {}\ncommand {}\n", std::process::id(), command_line());
            let _ = file
                .set_len(0)
                .and_then(|()| file.rewind())
                .and_then(|()| file.write_all(me.as_bytes()));
            return Ok(Some(OutputLock { path, _file: file }));
        }
        Err(Error::LockReplaced {
            dir: dir.to_path_buf(),
        })
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Removed while still locked: a process waiting on the old file sees
        // it is gone (the inode check above) and takes the new one.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// "pid 123: rfsentry monitor …" from a lock file's text (control
/// characters escaped, as the command line came from a user).
fn describe_holder(text: &str) -> String {
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().escape_debug().to_string())
    };
    match (field("pid "), field("command ")) {
        (Some(pid), Some(cmd)) => format!("pid {pid}: {cmd}"),
        (Some(pid), None) => format!("pid {pid}"),
        _ => "it is just starting; its pid is not written yet".into(),
    }
}

/// This process's command line, one line.
fn command_line() -> String {
    std::env::args_os()
        .map(|a| a.to_string_lossy().escape_debug().to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

use crate::layout::{is_run_output, LOG_FILE};
pub use crate::layout::{IQ_DIR, SPECTROGRAM_DIR};

/// Move an earlier run's outputs out of `dir` into `dir/runs/<stamp>/` when
/// `dir` holds an alert log with events in it; returns where they went.
/// Only rfsentry's own outputs move (an `--out .` keeps the user's files).
/// Call with the directory's [`OutputLock`] held.
pub fn archive_earlier_run(dir: &Path) -> Result<Option<PathBuf>> {
    let log = dir.join(LOG_FILE);
    let Ok(meta) = std::fs::metadata(&log) else {
        return Ok(None);
    };
    if !meta.is_file() || meta.len() == 0 {
        return Ok(None);
    }
    let written: chrono::DateTime<chrono::Utc> = meta
        .modified()
        .map(Into::into)
        .unwrap_or_else(|_| chrono::Utc::now());
    let runs = dir.join(RUNS_DIR);
    let stamp = written.format("%Y%m%dT%H%M%SZ").to_string();
    let mut target = runs.join(&stamp);
    let mut n = 2;
    while target.exists() {
        target = runs.join(format!("{stamp}-{n}"));
        n += 1;
    }
    std::fs::create_dir_all(&target).map_err(|e| Error::io(&target, e))?;
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        if is_run_output(&name.to_string_lossy()) {
            let to = target.join(&name);
            std::fs::rename(entry.path(), &to).map_err(|source| Error::Archive {
                from: entry.path(),
                to: to.clone(),
                source,
            })?;
        }
    }
    Ok(Some(target))
}

/// The first free alert number for ids `{prefix}{n}` across `dir`'s log and
/// the logs of its archived runs.
pub fn next_number_in(dir: &Path, prefix: &str) -> u64 {
    let mut logs = vec![dir.join(LOG_FILE)];
    if let Ok(runs) = std::fs::read_dir(dir.join(RUNS_DIR)) {
        logs.extend(runs.flatten().map(|r| r.path().join(LOG_FILE)));
    }
    logs.iter()
        .map(|l| super::log::next_free_number(l, prefix))
        .max()
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_claim_names_the_holder_and_a_dropped_one_is_free_again() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let lock = OutputLock::acquire(&out).unwrap().unwrap();
        // flock is per open file: a second open in this process conflicts too.
        let msg = OutputLock::acquire(&out).unwrap_err().to_string();
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        assert!(msg.contains("in use by another rfsentry run"), "{msg}");
        drop(lock);
        assert!(!out.join(LOCK_FILE).exists());
        assert!(OutputLock::acquire(&out).unwrap().is_some());
    }

    #[test]
    fn an_earlier_run_moves_whole_and_numbering_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        std::fs::create_dir(out.join("iq")).unwrap();
        std::fs::write(out.join("iq/s-0007.sigmf-meta"), "{}").unwrap();
        std::fs::write(out.join("notes.txt"), "mine").unwrap();
        std::fs::write(out.join("overview-x.png"), "png").unwrap();
        let mut log = super::super::log::AlertLog::create(&out.join("alerts.jsonl")).unwrap();
        log.write(&crate::alert::test_event(
            "s-0007",
            crate::alert::EventType::Raised,
        ))
        .unwrap();
        drop(log);
        let to = archive_earlier_run(out).unwrap().unwrap();
        assert!(to.join("alerts.jsonl").is_file());
        assert!(to.join("iq/s-0007.sigmf-meta").is_file());
        assert!(to.join("overview-x.png").is_file());
        assert!(out.join("notes.txt").is_file(), "the user's file stays");
        assert!(!out.join("alerts.jsonl").exists());
        assert_eq!(next_number_in(out, "s-"), 8);
        assert_eq!(archive_earlier_run(out).unwrap(), None, "nothing left");
    }
}
