//! Acknowledgements: an operator saying "seen, and here is what I did" about
//! an alert. An acknowledgement is an ordinary line of the alert log — an
//! [`AlertEvent`] with `event: "acknowledged"`, the alert's id and its latest
//! state copied, and who/when/note under `details.acknowledged` — so the log
//! stays the one record of what happened and what people did about it:
//!
//! ```json
//! {"id":"venue-0001","event":"acknowledged","kind":"jamming.tone",…,
//!  "details":{…,"acknowledged":{"by":"night shift (A. Operator)",
//!  "at":"2026-01-01T02:14:09.512Z","note":"walked the hall, found nothing"}}}
//! ```
//!
//! What a person typed is checked here (lengths, no control characters), so
//! every writer of acknowledgements refuses the same things.

use super::{AlertEvent, EventType};
use chrono::{DateTime, SecondsFormat, Utc};
use thiserror::Error;

/// The longest `by` accepted, in characters.
pub const MAX_BY_CHARS: usize = 64;
/// The longest note accepted, in characters.
pub const MAX_NOTE_CHARS: usize = 1000;

/// Who acknowledged an alert, when, and their note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    /// The person (or shift) acknowledging, as they gave it.
    pub by: String,
    /// When the acknowledgement was made.
    pub at: DateTime<Utc>,
    /// What they saw or did (may be empty).
    pub note: String,
}

/// Why an acknowledgement was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum AckError {
    #[error("`by` is empty: say who is acknowledging (at most {MAX_BY_CHARS} characters)")]
    NoOne,
    #[error("`{field}` is {len} characters long; at most {max} are accepted")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("`{field}` holds a control character (U+{code:04X}); plain text is expected (a note may hold line breaks)")]
    ControlCharacter { field: &'static str, code: u32 },
}

impl Acknowledgement {
    /// Check what a person typed: `by` 1–[`MAX_BY_CHARS`] characters on one
    /// line, `note` at most [`MAX_NOTE_CHARS`] (line breaks allowed), no other
    /// control characters; surrounding white space is trimmed.
    pub fn new(by: &str, note: &str, at: DateTime<Utc>) -> Result<Self, AckError> {
        let by = by.trim();
        let note = note.trim();
        if by.is_empty() {
            return Err(AckError::NoOne);
        }
        check("by", by, MAX_BY_CHARS, false)?;
        check("note", note, MAX_NOTE_CHARS, true)?;
        Ok(Acknowledgement {
            by: by.to_string(),
            at,
            note: note.to_string(),
        })
    }

    /// The log line acknowledging the alert whose latest state is `latest`:
    /// that state with `event: "acknowledged"` and `details.acknowledged`.
    pub fn to_event(&self, latest: &AlertEvent) -> AlertEvent {
        let mut event = latest.clone();
        event.event = EventType::Acknowledged;
        event.details.insert(
            "acknowledged".into(),
            serde_json::json!({
                "by": self.by,
                "at": self.at.to_rfc3339_opts(SecondsFormat::Millis, true),
                "note": self.note,
            }),
        );
        event
    }
}

fn check(field: &'static str, text: &str, max: usize, lines: bool) -> Result<(), AckError> {
    let len = text.chars().count();
    if len > max {
        return Err(AckError::TooLong { field, len, max });
    }
    match text
        .chars()
        .find(|&c| c.is_control() && !(lines && (c == '\n' || c == '\t')))
    {
        Some(c) => Err(AckError::ControlCharacter {
            field,
            code: c as u32,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::test_event;

    fn at() -> DateTime<Utc> {
        "2026-01-01T02:14:09.512Z".parse().unwrap()
    }

    #[test]
    fn an_acknowledgement_is_the_latest_state_with_who_when_and_note() {
        let mut latest = test_event("s-0001", EventType::Updated);
        latest.details.insert("width_bins".into(), 3.into());
        let ack = Acknowledgement::new(" A. Operator ", "walked the hall\nnothing", at()).unwrap();
        let e = ack.to_event(&latest);
        assert_eq!(e.event, EventType::Acknowledged);
        assert_eq!((e.id.as_str(), e.kind), ("s-0001", latest.kind));
        assert_eq!(e.details["width_bins"], 3);
        let a = &e.details["acknowledged"];
        assert_eq!(a["by"], "A. Operator");
        assert_eq!(a["at"], "2026-01-01T02:14:09.512Z");
        assert_eq!(a["note"], "walked the hall\nnothing");
        let line = serde_json::to_string(&e).unwrap();
        assert!(line.contains(r#""event":"acknowledged""#), "{line}");
        assert_eq!(serde_json::from_str::<AlertEvent>(&line).unwrap(), e);
    }

    #[test]
    fn what_a_person_typed_is_checked() {
        assert_eq!(Acknowledgement::new("  ", "x", at()), Err(AckError::NoOne));
        let long = "x".repeat(MAX_BY_CHARS + 1);
        assert!(matches!(
            Acknowledgement::new(&long, "", at()),
            Err(AckError::TooLong { field: "by", .. })
        ));
        let note = "é".repeat(MAX_NOTE_CHARS + 1);
        assert!(matches!(
            Acknowledgement::new("a", &note, at()),
            Err(AckError::TooLong { field: "note", .. })
        ));
        assert_eq!(
            Acknowledgement::new("a\nb", "", at()),
            Err(AckError::ControlCharacter {
                field: "by",
                code: 10
            })
        );
        assert!(Acknowledgement::new("a", "bell\u{7}", at()).is_err());
        assert!(Acknowledgement::new("a", &"é".repeat(MAX_NOTE_CHARS), at()).is_ok());
    }
}
