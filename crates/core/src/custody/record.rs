//! The custody records: the lines the chain itself adds to the alert log,
//! each a JSON object whose `event` starts with `custody.` (readers of alert
//! events skip them).
//!
//! | `event` | when | signed |
//! |---|---|---|
//! | `custody.genesis` | the log's first chained line: sensor, site, software, public key | yes |
//! | `custody.start` | every later run appending to the log (a restart): what it found (an earlier run that did not close, a torn line it removed) | yes |
//! | `custody.head` | every minute and after every `cleared`: the chain so far | yes |
//! | `custody.evidence` | an evidence file finished: its hashes | no (the next head covers it) |
//! | `custody.close` | the run's end: why, how long, how many lines | yes |
//!
//! (`custody.signature` is the one line of a file signed beside it, `FILE.sig`.)

use serde::{Deserialize, Serialize};

/// `event` of the genesis record.
pub const GENESIS: &str = "custody.genesis";
/// `event` of a later run's first record.
pub const START: &str = "custody.start";
/// `event` of a signed chain head.
pub const HEAD: &str = "custody.head";
/// `event` of an evidence record.
pub const EVIDENCE: &str = "custody.evidence";
/// `event` of a run's closing record.
pub const CLOSE: &str = "custody.close";
/// Prefix of every custody record's `event`.
pub const PREFIX: &str = "custody.";

/// Whether an `event` value names a custody record.
pub fn is_custody_event(event: &str) -> bool {
    event.starts_with(PREFIX)
}

/// A line the chain adds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event")]
pub enum Record {
    #[serde(rename = "custody.genesis")]
    Genesis(RunStart),
    #[serde(rename = "custody.start")]
    Start(RunStart),
    #[serde(rename = "custody.head")]
    Head(Head),
    #[serde(rename = "custody.evidence")]
    Evidence(Evidence),
    #[serde(rename = "custody.close")]
    Close(Close),
    /// A single file's signature beside it (`FILE.sig`), not in a log.
    #[serde(rename = "custody.signature")]
    Signature(FileSignature),
}

impl Record {
    /// Whether the line is signed when the run has a key.
    pub fn is_signed(&self) -> bool {
        !matches!(self, Record::Evidence(_))
    }

    /// The record as the JSON object written (chain fields not included).
    pub fn to_body(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("custody records serialise")
    }
}

/// Who is writing, from when: the genesis of a log, or a later run's start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RunStart {
    /// RFC 3339 wall-clock time the record was written.
    pub at: String,
    /// The site name (the sensor is the site plus its key).
    pub site: String,
    /// The machine the sensor runs on.
    pub host: String,
    /// `rfsentry <version>`.
    pub software: String,
    /// What the run watches: the recording's path or the device arguments.
    pub source: String,
    /// The command (`analyze`, `monitor`, …).
    pub command: String,
    /// The key that signs this run, 64 hex digits; absent when unsigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// The key's short id (`ed25519:…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The baseline profile the run compares against, and its hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<FileHash>,
    /// Genesis only: lines already in the file when the chain began (a log
    /// written before rfsentry kept one); `prev` holds their hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopted_lines: Option<u64>,
    /// Start only: how the run before this one ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_run: Option<PreviousRun>,
    /// A torn last line this run removed before appending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repair: Option<Repair>,
}

/// How the previous run in the log ended, as the next one found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousRun {
    /// It wrote its closing record.
    pub closed: bool,
    /// `seq` of its last line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<u64>,
    /// `seq` of its last signed line: lines after it were sealed but not
    /// signed by that run (this start's signature now covers them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_signed_seq: Option<u64>,
}

/// An incomplete last line removed before appending (a write cut short by a
/// crash, a full disk or a power loss). Kept here, so the removal is itself
/// on the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repair {
    pub removed_bytes: u64,
    pub removed_sha256: String,
    /// The removed bytes as text (invalid UTF-8 replaced), at most
    /// [`REPAIR_TEXT_MAX`] bytes of it.
    pub removed_text: String,
}

/// Most bytes of a removed fragment quoted in a [`Repair`].
pub const REPAIR_TEXT_MAX: usize = 4096;

impl Repair {
    /// The record of removing `fragment`.
    pub fn of(fragment: &[u8]) -> Repair {
        let quoted = &fragment[..fragment.len().min(REPAIR_TEXT_MAX)];
        Repair {
            removed_bytes: fragment.len() as u64,
            removed_sha256: super::chain::to_hex(&super::chain::sha256(fragment)),
            removed_text: String::from_utf8_lossy(quoted).into_owned(),
        }
    }
}

/// A signed chain head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// RFC 3339 wall-clock time.
    pub at: String,
    /// Lines this run has written before this one.
    pub lines: u64,
}

/// Evidence files bound into the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The alert the files are evidence of (none for an overview picture).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub files: Vec<FileHash>,
    /// Bound by a restarted run, not when written (the run that wrote them
    /// ended before it could).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bound_at_restart: bool,
}

/// A file (path relative to the output directory) and its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileHash {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// For IQ data: the SigMF `core:sha512`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha512: Option<String>,
}

/// A run's closing record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Close {
    /// RFC 3339 wall-clock time.
    pub at: String,
    /// Why the run ended: end of the recording, `--duration`, Ctrl-C/SIGTERM.
    pub reason: String,
    /// When the run started (its genesis or start record).
    pub started_at: String,
    /// Wall-clock seconds from start to close.
    pub duration_s: f64,
    /// Lines this run wrote before this one.
    pub lines: u64,
}

/// A file signed beside it (a profile): its hash is the line's `prev`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSignature {
    /// RFC 3339 wall-clock time.
    pub at: String,
    /// The signed file's name.
    pub file: String,
    pub software: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

/// The wall-clock time as records write it.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_tagged_by_event_and_read_back() {
        let head = Record::Head(Head {
            at: "2026-01-01T00:00:00.000Z".into(),
            lines: 3,
        });
        let body = head.to_body();
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            r#"{"event":"custody.head","at":"2026-01-01T00:00:00.000Z","lines":3}"#
        );
        assert_eq!(serde_json::from_slice::<Record>(&body).unwrap(), head);
        assert!(serde_json::from_slice::<Record>(br#"{"event":"raised"}"#).is_err());
        let repair = Repair::of(&[b'{', 0xff, b'x']);
        assert_eq!(repair.removed_bytes, 3);
        assert_eq!(repair.removed_text, "{\u{fffd}x");
    }
}
