//! Evidence files in the chain: which files of an output directory are
//! evidence, their hashes, and the files a log binds — for the sink (binding
//! a finished snippet), a restarted run (binding what a killed run finished
//! but could not bind) and `verify` (every evidence file bound, none changed).

use super::chain::{self, to_hex};
use super::record::{FileHash, Record};
use crate::layout;
use std::collections::BTreeSet;
use std::io::{BufRead, Read};
use std::path::Path;

/// A file's SHA-256 and SHA-512, each when asked for.
pub type FileDigests = (Option<[u8; 32]>, Option<[u8; 64]>);

/// Hash the file at `path` (a regular file) with SHA-256 and/or SHA-512, streamed.
pub fn hash_file(path: &Path, sha256: bool, sha512: bool) -> std::io::Result<FileDigests> {
    use sha2::Digest;
    let mut file = std::fs::File::open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut h256 = sha256.then(sha2::Sha256::new);
    let mut h512 = sha512.then(sha2::Sha512::new);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        if let Some(h) = h256.as_mut() {
            h.update(&buf[..n]);
        }
        if let Some(h) = h512.as_mut() {
            h.update(&buf[..n]);
        }
    }
    Ok((
        h256.map(|h| h.finalize().into()),
        h512.map(|h| h.finalize().into()),
    ))
}

/// The SHA-256 of `dir/rel`, as a [`FileHash`].
pub fn sha256_of(dir: &Path, rel: &str) -> std::io::Result<FileHash> {
    let (h, _) = hash_file(&dir.join(rel), true, false)?;
    Ok(FileHash {
        path: rel.to_string(),
        sha256: h.map(|h| to_hex(&h)),
        sha512: None,
    })
}

/// The hashes binding a finished SigMF snippet (`meta_rel`, relative to
/// `dir`): the metadata file's SHA-256, and its data file's SHA-512 as the
/// metadata's `core:sha512` gives it (computed as the samples were written).
pub fn sigmf_pair(dir: &Path, meta_rel: &str) -> std::io::Result<Vec<FileHash>> {
    let meta_bytes = std::fs::read(dir.join(meta_rel))?;
    let meta = FileHash {
        path: meta_rel.to_string(),
        sha256: Some(to_hex(&chain::sha256(&meta_bytes))),
        sha512: None,
    };
    let doc: serde_json::Value = serde_json::from_slice(&meta_bytes)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    let sha512 = doc["global"]["core:sha512"]
        .as_str()
        .ok_or_else(|| std::io::Error::other("no core:sha512 in the metadata"))?;
    let data_rel = match meta_rel.strip_suffix(".sigmf-meta") {
        Some(stem) => format!("{stem}.sigmf-data"),
        None => return Err(std::io::Error::other("not a .sigmf-meta path")),
    };
    let data = FileHash {
        path: data_rel,
        sha256: None,
        sha512: Some(sha512.to_string()),
    };
    Ok(vec![meta, data])
}

/// The evidence files in output directory `dir`, relative to it and sorted:
/// the files in the evidence directories (not hidden, not `.part`) and the
/// overview pictures.
pub fn evidence_files(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !layout::is_evidence_entry(&name) {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            for inner in std::fs::read_dir(&path).into_iter().flatten().flatten() {
                let inner_name = inner.file_name().to_string_lossy().into_owned();
                if !inner_name.starts_with('.') && !inner_name.ends_with(".part") {
                    files.push(format!("{name}/{inner_name}"));
                }
            }
        } else {
            files.push(name);
        }
    }
    files.sort();
    files
}

/// The files a log's lines bind: its evidence records, and the spectrograms
/// alert events name with their hash.
pub fn bound_in_log(reader: impl BufRead) -> std::io::Result<BTreeSet<String>> {
    let mut bound = BTreeSet::new();
    for line in reader.split(b'\n') {
        let line = line?;
        let Some(sealed) = chain::parse(&line) else {
            continue;
        };
        if let Ok(Record::Evidence(e)) = serde_json::from_slice::<Record>(&sealed.body) {
            bound.extend(e.files.into_iter().map(|f| f.path));
        } else if let Some(path) = spectrogram_bound_by(&sealed.body) {
            bound.insert(path);
        }
    }
    Ok(bound)
}

/// The spectrogram an event line's body names with its hash.
pub fn spectrogram_bound_by(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Line {
        evidence: Option<Paths>,
    }
    #[derive(serde::Deserialize)]
    struct Paths {
        spectrogram: Option<String>,
        spectrogram_sha256: Option<String>,
    }
    let paths = serde_json::from_slice::<Line>(body).ok()?.evidence?;
    paths
        .spectrogram
        .filter(|_| paths.spectrogram_sha256.is_some())
}

/// Hashes of the evidence files in `dir` that no line of `log` binds (IQ
/// data by SHA-512, anything else by SHA-256). A file that cannot be read
/// is left out (with a warning).
pub fn unbound_files(dir: &Path, log: &Path) -> Vec<FileHash> {
    let bound = match std::fs::File::open(log) {
        Ok(f) if f.metadata().is_ok_and(|m| m.is_file()) => {
            bound_in_log(std::io::BufReader::new(f)).unwrap_or_default()
        }
        _ => BTreeSet::new(),
    };
    evidence_files(dir)
        .into_iter()
        .filter(|f| !bound.contains(f))
        .filter_map(|rel| {
            let iq_data = rel.ends_with(".sigmf-data");
            match hash_file(&dir.join(&rel), !iq_data, iq_data) {
                Ok((h256, h512)) => Some(FileHash {
                    path: rel,
                    sha256: h256.map(|h| to_hex(&h)),
                    sha512: h512.map(|h| to_hex(&h)),
                }),
                Err(e) => {
                    tracing::warn!("{}: cannot hash this evidence file to bind it: {e}", rel);
                    None
                }
            }
        })
        .collect()
}
