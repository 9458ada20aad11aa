//! The wire contract between sensors and the hub, version 1: topic names
//! under `rfsentry/v1/<site>/…` and the payload of each.
//!
//! | topic | payload | QoS, retained |
//! |---|---|---|
//! | `rfsentry/v1/<site>/alert` | the alert log's line with `"schema":1,"fleet_seq":N,` spliced in after its `{` (not `seq`: the chain of custody's own field) | 1 |
//! | `rfsentry/v1/<site>/status` | [`StatusMessage`]: heartbeat (`online`) or Last Will / goodbye (`offline`) | 1, retained |
//! | `rfsentry/v1/<site>/evidence/<id>` | the alert's spectrogram PNG | 1 |
//! | `rfsentry/v1/<site>/evidence/<id>/iq` | [`IqAnnouncement`]: the IQ snippet's size and SHA-512 (the samples stay on the sensor) | 1 |
//! | `rfsentry/v1/<site>/replay` | [`ReplayRequest`] from the hub: publish again from this sequence number | 1 |
//!
//! The alert payload keeps the log line's bytes: removing the splice gives
//! the line back exactly ([`original_line`]), whatever fields it carries.

use serde::{Deserialize, Serialize};

/// Every topic starts with this.
pub const PREFIX: &str = "rfsentry/v1";
/// The payload schema this version writes and reads.
pub const SCHEMA: u64 = 1;

pub fn alert_topic(site: &str) -> String {
    format!("{PREFIX}/{site}/alert")
}
pub fn status_topic(site: &str) -> String {
    format!("{PREFIX}/{site}/status")
}
pub fn evidence_topic(site: &str, id: &str) -> String {
    format!("{PREFIX}/{site}/evidence/{id}")
}
pub fn iq_topic(site: &str, id: &str) -> String {
    format!("{PREFIX}/{site}/evidence/{id}/iq")
}
pub fn replay_topic(site: &str) -> String {
    format!("{PREFIX}/{site}/replay")
}
/// What the hub subscribes to: everything sensors publish.
pub const HUB_FILTER: &str = "rfsentry/v1/+/#";

/// A topic taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topic<'a> {
    Alert { site: &'a str },
    Status { site: &'a str },
    Evidence { site: &'a str, id: &'a str },
    Iq { site: &'a str, id: &'a str },
    Replay { site: &'a str },
}

/// Take a topic apart; `None` for anything outside the contract.
pub fn parse_topic(topic: &str) -> Option<Topic<'_>> {
    let rest = topic.strip_prefix(PREFIX)?.strip_prefix('/')?;
    let parts: Vec<&str> = rest.split('/').collect();
    let ok = |s: &str| valid_name(s);
    match parts.as_slice() {
        [site, "alert"] if ok(site) => Some(Topic::Alert { site }),
        [site, "status"] if ok(site) => Some(Topic::Status { site }),
        [site, "replay"] if ok(site) => Some(Topic::Replay { site }),
        [site, "evidence", id] if ok(site) && ok(id) => Some(Topic::Evidence { site, id }),
        [site, "evidence", id, "iq"] if ok(site) && ok(id) => Some(Topic::Iq { site, id }),
        _ => None,
    }
}

/// A site name or alert id as rfsentry makes them: letters, digits, `-`,
/// `_`, `.` (not leading), at most 128 characters — never an MQTT wildcard
/// or separator.
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The splice that starts an alert payload.
fn splice(seq: u64) -> String {
    format!("{{\"schema\":{SCHEMA},\"fleet_seq\":{seq},")
}

/// The alert payload for a log line (without its newline): the line's JSON
/// object with `"schema":1,"fleet_seq":SEQ,` inserted after its `{`. `None` when
/// the line is not a non-empty JSON object.
pub fn alert_payload(seq: u64, line: &[u8]) -> Option<Vec<u8>> {
    let inner = line.strip_prefix(b"{")?;
    let first = inner.iter().find(|b| !b.is_ascii_whitespace())?;
    if *first == b'}'
        || serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(line).is_err()
    {
        return None;
    }
    let mut out = splice(seq).into_bytes();
    out.extend_from_slice(inner);
    Some(out)
}

/// The log line an alert payload was made from (see [`alert_payload`]),
/// when it carries the splice for `seq`.
pub fn original_line(payload: &[u8], seq: u64) -> Option<Vec<u8>> {
    let rest = payload.strip_prefix(splice(seq).as_bytes())?;
    let mut line = Vec::with_capacity(rest.len() + 1);
    line.push(b'{');
    line.extend_from_slice(rest);
    Some(line)
}

/// The live numbers a sensor reports in its heartbeat.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// Seconds of signal watched in this run.
    pub seconds: f64,
    /// Samples processed per second of wall time.
    pub rate_sps: f64,
    pub noise_floor_dbfs: f64,
    pub gaps: u64,
    pub lost_samples: u64,
    pub active_alerts: u64,
    pub total_alerts: u64,
}

/// The spool's state in a heartbeat.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SpoolState {
    /// Bytes of the alert log not yet acknowledged by the broker.
    pub pending_bytes: u64,
    /// Why the cursor could not be saved (a full disk), if it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `rfsentry/v1/<site>/status`, retained: the heartbeat, or the Last Will.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusMessage {
    pub schema: u64,
    pub site: String,
    /// `online` or `offline`.
    pub state: String,
    /// Why offline: `connection lost` (the Last Will), `stopped`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// RFC 3339, the sensor's clock (absent in the Last Will, written at connect).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Seconds between heartbeats: a status older than three of them is stale.
    pub heartbeat_s: f64,
    /// The sequence number of the last alert event the broker acknowledged.
    pub acked_seq: u64,
    /// The first sequence number the sensor can still publish again.
    pub first_seq: u64,
    /// Frequency ranges watched, Hz (one per tuning).
    #[serde(default)]
    pub coverage: Vec<[f64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    #[serde(default)]
    pub spool: SpoolState,
    #[serde(default)]
    pub version: String,
}

/// `rfsentry/v1/<site>/evidence/<id>/iq`: the IQ snippet kept on the sensor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IqAnnouncement {
    pub schema: u64,
    pub site: String,
    pub id: String,
    /// Relative to the sensor's alert directory.
    pub path: String,
    /// Bytes of the `.sigmf-data` file, when written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// Its `core:sha512`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha512: Option<String>,
    /// Why there is no snippet, when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
}

/// `rfsentry/v1/<site>/replay`: the hub lacks events from `from_seq` on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayRequest {
    pub schema: u64,
    pub from_seq: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip_and_refuse_wildcards() {
        assert_eq!(
            parse_topic(&alert_topic("a")),
            Some(Topic::Alert { site: "a" })
        );
        assert_eq!(
            parse_topic(&status_topic("v-1.b")),
            Some(Topic::Status { site: "v-1.b" })
        );
        assert_eq!(
            parse_topic(&iq_topic("a", "a-0001")),
            Some(Topic::Iq {
                site: "a",
                id: "a-0001"
            })
        );
        assert_eq!(
            parse_topic(&evidence_topic("a", "a-1")),
            Some(Topic::Evidence {
                site: "a",
                id: "a-1"
            })
        );
        for bad in [
            "rfsentry/v2/a/alert",
            "rfsentry/v1/+/alert",
            "rfsentry/v1/a/alerts",
            "rfsentry/v1/.x/alert",
            "rfsentry/v1/a/evidence/x/y",
        ] {
            assert_eq!(parse_topic(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_alert_payload_gives_the_log_line_back_byte_for_byte() {
        let line = br#"{"id":"s-1","event":"raised","x":[1,2]}"#;
        let p = alert_payload(7, line).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&p).unwrap();
        assert_eq!(
            (
                v["fleet_seq"].as_u64(),
                v["schema"].as_u64(),
                v["id"].as_str()
            ),
            (Some(7), Some(1), Some("s-1"))
        );
        assert_eq!(original_line(&p, 7).unwrap(), line.to_vec());
        assert_eq!(original_line(&p, 8), None);
        for bad in [&b"{}"[..], b"{ }", b"[1]", b"{\"a\":", b"", b"not json"] {
            assert_eq!(
                alert_payload(1, bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
