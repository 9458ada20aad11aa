//! Crash-safe file writing: data goes to `NAME.part`, is synced, and only then
//! renamed to `NAME`, so a reader never sees a half-written file under its
//! final name.

use crate::{Error, Result};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The temporary name a file is written under before it is complete.
pub fn part_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".part");
    PathBuf::from(s)
}

/// Write `bytes` to `path` and sync it to disk.
pub fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = File::create(path).map_err(|e| Error::io(path, e))?;
    f.write_all(bytes).map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))
}

/// Write `bytes` to `path` atomically: a synced temporary file renamed into place.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let part = part_path(path);
    let result = write_synced(&part, bytes)
        .and_then(|()| std::fs::rename(&part, path).map_err(|e| Error::io(path, e)));
    if result.is_err() {
        // A full disk must not also leave a half-written `.part` behind.
        let _ = std::fs::remove_file(&part);
    }
    result
}
