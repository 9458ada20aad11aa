//! What a sensor sends of an alert's evidence: the spectrogram PNG the log
//! line names (once it is on disk), and for the IQ snippet — which stays on
//! the sensor — its size and `core:sha512` once the snippet is complete
//! (its `.sigmf-meta` is renamed into place last).

use crate::topics::{IqAnnouncement, SCHEMA};
use std::path::Path;

/// Largest PNG sent (the hub refuses larger evidence payloads too).
pub const MAX_PNG_BYTES: u64 = 8 << 20;

/// The evidence an alert log line names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Named {
    pub id: String,
    /// `cleared` (the last event: the snippet is announced then).
    pub last: bool,
    pub spectrogram: Option<String>,
    pub iq: Option<String>,
}

/// The evidence named in a log line (any line that is a JSON object).
pub fn named(line: &[u8]) -> Option<Named> {
    let v: serde_json::Value = serde_json::from_slice(line).ok()?;
    let id = v.get("id")?.as_str()?.to_string();
    let ev = v.get("evidence");
    let path = |k: &str| {
        ev.and_then(|e| e.get(k))
            .and_then(|p| p.as_str())
            .filter(|p| safe_relative(p))
            .map(str::to_string)
    };
    Some(Named {
        last: v.get("event").and_then(|e| e.as_str()) == Some("cleared"),
        spectrogram: path("spectrogram"),
        iq: path("iq"),
        id,
    })
}

/// A path inside the alert directory (no `..`, not absolute).
fn safe_relative(p: &str) -> bool {
    let path = Path::new(p);
    !p.is_empty()
        && path
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// The PNG at `out/rel`, if it is there and not too large.
pub fn read_png(out: &Path, rel: &str) -> Option<Vec<u8>> {
    let path = out.join(rel);
    let len = std::fs::metadata(&path).ok()?.len();
    if len > MAX_PNG_BYTES {
        tracing::warn!(
            "{}: {len} bytes, over the {MAX_PNG_BYTES} bytes sent to the hub; not sent",
            path.display()
        );
        return None;
    }
    std::fs::read(&path).ok()
}

/// The announcement of the snippet `out/rel` (a `.sigmf-meta`), once it is
/// complete; `None` while it is not there yet.
pub fn iq_announcement(out: &Path, site: &str, id: &str, rel: &str) -> Option<IqAnnouncement> {
    let meta_path = out.join(rel);
    let meta = std::fs::read(&meta_path).ok()?;
    let data_path = meta_path.with_extension("sigmf-data");
    let mut a = IqAnnouncement {
        schema: SCHEMA,
        site: site.into(),
        id: id.into(),
        path: rel.into(),
        bytes: None,
        sha512: None,
        missing: None,
    };
    let v: serde_json::Value = match serde_json::from_slice(&meta) {
        Ok(v) => v,
        Err(e) => {
            a.missing = Some(format!("its metadata is not JSON: {e}"));
            return Some(a);
        }
    };
    a.sha512 = v["global"]["core:sha512"].as_str().map(str::to_string);
    match std::fs::metadata(&data_path) {
        Ok(m) => a.bytes = Some(m.len()),
        Err(e) => a.missing = Some(format!("{}: {e}", data_path.display())),
    }
    Some(a)
}

/// The announcement for a snippet that never appeared.
pub fn iq_missing(site: &str, id: &str, rel: &str, why: &str) -> IqAnnouncement {
    IqAnnouncement {
        schema: SCHEMA,
        site: site.into(),
        id: id.into(),
        path: rel.into(),
        bytes: None,
        sha512: None,
        missing: Some(why.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_only_paths_inside_the_alert_directory() {
        let n = named(br#"{"id":"a-1","event":"cleared","evidence":{"spectrogram":"spectrograms/a-1.png","iq":"../../etc/passwd"}}"#).unwrap();
        assert_eq!(n.spectrogram.as_deref(), Some("spectrograms/a-1.png"));
        assert_eq!(n.iq, None);
        assert!(n.last);
        assert_eq!(named(b"[]"), None);
    }

    #[test]
    fn a_snippet_is_announced_with_size_and_hash_once_written() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            iq_announcement(dir.path(), "s", "a-1", "iq/a-1.sigmf-meta"),
            None
        );
        std::fs::create_dir(dir.path().join("iq")).unwrap();
        std::fs::write(dir.path().join("iq/a-1.sigmf-data"), [0u8; 24]).unwrap();
        std::fs::write(
            dir.path().join("iq/a-1.sigmf-meta"),
            r#"{"global":{"core:sha512":"abc"},"captures":[],"annotations":[]}"#,
        )
        .unwrap();
        let a = iq_announcement(dir.path(), "s", "a-1", "iq/a-1.sigmf-meta").unwrap();
        assert_eq!(
            (a.bytes, a.sha512.as_deref(), a.missing),
            (Some(24), Some("abc"), None)
        );
    }
}
