//! Evidence files as the console serves them: only alert pictures and IQ
//! snippets (`spectrograms/`, `iq/`) of the run's output directory and the
//! recording's overview pictures, by a path that cannot leave it, and what
//! the evidence weighs on disk.

use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

/// The sub-directories of the output directory whose files are served.
pub const SERVED_DIRS: [&str; 2] = ["spectrograms", "iq"];

/// The file under `out` that the URL path `rel` (already percent-decoded)
/// names, when it is evidence: `spectrograms/…` or `iq/…` (or an
/// `overview-*.png` at the top), made of plain names only — no `..`, no
/// root, no hidden file, no back-slash — and, symbolic links resolved, still
/// inside `out`. `None` otherwise.
pub fn resolve(out: &Path, rel: &str) -> Option<PathBuf> {
    if rel.is_empty() || rel.contains('\\') || rel.contains('\0') || rel.len() > 512 {
        return None;
    }
    let parts: Vec<&str> = rel.split('/').collect();
    let plain = parts.iter().all(|p| {
        !p.is_empty()
            && !p.starts_with('.')
            && matches!(Path::new(p).components().next(), Some(Component::Normal(_)))
    });
    if !plain {
        return None;
    }
    let allowed = match parts.as_slice() {
        [dir, _file] => SERVED_DIRS.contains(dir),
        [file] => file.starts_with("overview-") && file.ends_with(".png"),
        _ => false,
    };
    if !allowed {
        return None;
    }
    let root = out.canonicalize().ok()?;
    let path = root.join(rel).canonicalize().ok()?;
    (path.starts_with(&root) && path.is_file()).then_some(path)
}

/// The content type of an evidence file.
pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("png") => "image/png",
        Some("sigmf-meta") => "application/json",
        _ => "application/octet-stream",
    }
}

/// Evidence bytes on disk and space left, measured at most every few seconds.
#[derive(Debug)]
pub struct DiskUse {
    out: PathBuf,
    every: Duration,
    last: Option<(Instant, u64, Option<u64>)>,
}

impl DiskUse {
    pub fn new(out: &Path) -> Self {
        DiskUse {
            out: out.to_path_buf(),
            every: Duration::from_secs(5),
            last: None,
        }
    }

    /// (evidence bytes, free bytes on the output's file system).
    pub fn get(&mut self) -> (u64, Option<u64>) {
        let now = Instant::now();
        match self.last {
            Some((at, bytes, free)) if now.duration_since(at) < self.every => (bytes, free),
            _ => {
                let bytes = evidence_bytes(&self.out);
                let free = free_bytes(&self.out);
                self.last = Some((now, bytes, free));
                (bytes, free)
            }
        }
    }
}

/// Bytes of the files in the evidence directories and the overview pictures.
pub fn evidence_bytes(out: &Path) -> u64 {
    let size_of_dir = |dir: PathBuf| -> u64 {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .filter_map(|e| e.metadata().ok())
                    .filter(|m| m.is_file())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    };
    let overviews: u64 = std::fs::read_dir(out)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with("overview-"))
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    SERVED_DIRS
        .iter()
        .map(|d| size_of_dir(out.join(d)))
        .sum::<u64>()
        + overviews
}

/// Free bytes (for an unprivileged user) on the file system holding `path`.
pub fn free_bytes(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `s` a writable statvfs.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut s) };
    (rc == 0).then(|| s.f_bavail as u64 * s.f_frsize as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_evidence_inside_the_output_directory_resolves() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir_all(out.join("iq")).unwrap();
        std::fs::create_dir_all(out.join("spectrograms")).unwrap();
        std::fs::write(out.join("iq/a.sigmf-meta"), "{}").unwrap();
        std::fs::write(out.join("spectrograms/a.png"), "png").unwrap();
        std::fs::write(out.join("overview-x.png"), "png").unwrap();
        std::fs::write(out.join("alerts.jsonl"), "").unwrap();
        std::fs::write(out.join(".console-token"), "secret").unwrap();
        std::fs::write(dir.path().join("outside"), "secret").unwrap();
        std::os::unix::fs::symlink(dir.path().join("outside"), out.join("iq/link")).unwrap();
        assert!(resolve(&out, "iq/a.sigmf-meta").is_some());
        assert!(resolve(&out, "spectrograms/a.png").is_some());
        assert!(resolve(&out, "overview-x.png").is_some());
        for bad in [
            "../outside",
            "iq/../../outside",
            "iq/../alerts.jsonl",
            "alerts.jsonl",
            ".console-token",
            "iq/.hidden",
            "iq/link",
            "/etc/passwd",
            "iq//a.sigmf-meta",
            "iq\\..\\..\\outside",
            "iq/missing",
            "iq",
            "",
        ] {
            assert!(resolve(&out, bad).is_none(), "{bad}");
        }
        assert_eq!(
            evidence_bytes(&out),
            2 + 3 + 3,
            "a symbolic link is not evidence"
        );
        assert!(free_bytes(&out).is_some());
    }
}
