//! Signatures of single files beside them (`profiles/SITE.toml.sig`, as
//! `learn --key` signs the profile it writes): one sealed line, as in the
//! alert log, whose `prev` is the SHA-256 of the signed file and whose
//! signature covers that line.

use super::chain::{sha256, Chain};
use super::key::SensorKey;
use super::record::{now_rfc3339, FileSignature, Record};
use crate::Result;
use std::path::{Path, PathBuf};

/// Where the signature of `path` goes: `path.sig`.
pub fn signature_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".sig");
    PathBuf::from(s)
}

/// Sign the file at `path` as it is now; writes `path.sig` atomically and
/// returns its path.
pub fn sign_file(key: &SensorKey, path: &Path) -> Result<PathBuf> {
    let content = std::fs::read(path).map_err(|e| crate::Error::io(path, e))?;
    let public = key.public();
    let record = Record::Signature(FileSignature {
        at: now_rfc3339(),
        file: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        software: format!("rfsentry {}", crate::VERSION),
        public_key: Some(public.to_hex()),
        key_id: Some(public.id()),
    });
    let mut line = Vec::new();
    Chain::genesis_after(sha256(&content)).seal(&record.to_body(), Some(key), &mut line);
    let sig_path = signature_path(path);
    crate::atomic_file::write_atomic(&sig_path, &line)?;
    Ok(sig_path)
}
