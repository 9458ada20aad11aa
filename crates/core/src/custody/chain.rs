//! The hash chain of the alert log: how a line is sealed, and how a sealed
//! line is read back.
//!
//! Every line is a JSON object. Sealing appends the chain fields after the
//! line's own fields, without touching them:
//!
//! ```text
//! {…the event's fields…,"seq":17,"prev":"<64 hex>"}
//! {…a custody record…,"seq":18,"prev":"<64 hex>","sig":"<128 hex>"}
//! ```
//!
//! - `seq` counts lines from the chain's genesis (0);
//! - `prev` is the SHA-256 of the previous line's exact bytes (its newline
//!   excluded); for the genesis, of every byte before it in the file (lines
//!   written before the log had a chain, usually none);
//! - `sig`, on signed lines only, is the sensor key's Ed25519 signature of the
//!   line's bytes as they were before `,"sig":…` was added (the same line,
//!   ending `"}` after `prev`). As each `prev` covers the line before it, a
//!   signature covers the whole log up to its own line.
//!
//! Readers that do not know the chain see three more fields and ignore them.

use super::key::{SensorKey, SIGNATURE_LEN};
use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The chain fields a line's own fields may not use.
pub const RESERVED_FIELDS: [&str; 3] = ["seq", "prev", "sig"];

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> Hash {
    Sha256::digest(bytes).into()
}

/// Lowercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Exactly `2 N` lowercase hex digits (uppercase is refused: one spelling
/// per value, so no edit can keep a line's meaning).
pub fn from_hex<const N: usize>(s: &[u8]) -> Option<[u8; N]> {
    if s.len() != 2 * N {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; N];
    for (i, pair) in s.chunks_exact(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

/// A sealed line read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed<'a> {
    /// The line's own fields: a JSON object, the chain fields removed.
    pub body: std::borrow::Cow<'a, [u8]>,
    pub seq: u64,
    pub prev: Hash,
    pub sig: Option<[u8; SIGNATURE_LEN]>,
    /// The bytes the signature covers: the line up to `prev`, closed by `}`.
    pub signed: std::borrow::Cow<'a, [u8]>,
}

const SIG_OPEN: &[u8] = b",\"sig\":\"";
const PREV_OPEN: &[u8] = b",\"prev\":\"";
const SEQ_OPEN: &[u8] = b"\"seq\":";

/// Split a line (without its newline) into its body and chain fields;
/// `None` when it does not end in chain fields laid out exactly as
/// [`Chain::seal`] writes them.
pub fn parse(line: &[u8]) -> Option<Sealed<'_>> {
    let rest = line.strip_suffix(b"\"}")?;
    // An optional signature, then `prev`.
    let (unsigned_end, sig) = match rest.len().checked_sub(SIG_OPEN.len() + 2 * SIGNATURE_LEN) {
        Some(at) if rest[at..].starts_with(SIG_OPEN) => {
            let sig = from_hex::<SIGNATURE_LEN>(&rest[at + SIG_OPEN.len()..])?;
            (at, Some(sig))
        }
        _ => (rest.len() + 2, None),
    };
    // The unsigned line: `…,"prev":"<hex>"}`.
    let unsigned = &line[..unsigned_end];
    let unsigned = match sig {
        Some(_) => unsigned, // ends `"` before the signature: `}` is added below
        None => &unsigned[..unsigned.len() - 1],
    };
    let rest = unsigned.strip_suffix(b"\"")?;
    let at = rest.len().checked_sub(PREV_OPEN.len() + 64)?;
    if !rest[at..].starts_with(PREV_OPEN) {
        return None;
    }
    let prev = from_hex::<32>(&rest[at + PREV_OPEN.len()..])?;
    let before_prev = &rest[..at];
    let digits = before_prev
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 || digits > 20 {
        return None;
    }
    let (head, seq_digits) = before_prev.split_at(before_prev.len() - digits);
    if seq_digits.len() > 1 && seq_digits[0] == b'0' {
        return None; // one spelling per number
    }
    let seq: u64 = std::str::from_utf8(seq_digits).ok()?.parse().ok()?;
    let head = head.strip_suffix(SEQ_OPEN)?;
    let body: Vec<u8> = if head == b"{" {
        b"{}".to_vec()
    } else {
        let fields = head.strip_suffix(b",")?;
        if fields.len() < 2 || fields[0] != b'{' {
            return None;
        }
        let mut body = fields.to_vec();
        body.push(b'}');
        body
    };
    let mut signed = unsigned.to_vec();
    signed.push(b'}');
    Some(Sealed {
        body: body.into(),
        seq,
        prev,
        sig,
        signed: signed.into(),
    })
}

/// The events of a log as they were before sealing (each line's body, its
/// chain fields removed; a plain line as it is), leaving out the chain's own
/// `custody.*` records: what two runs over the same input must write alike,
/// whatever their chains (run times, keys) say.
pub fn event_bodies(log: &[u8]) -> Vec<Vec<u8>> {
    #[derive(serde::Deserialize)]
    struct EventOnly {
        event: Option<String>,
    }
    log.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| parse(l).map_or_else(|| l.to_vec(), |s| s.body.into_owned()))
        .filter(|body| {
            serde_json::from_slice::<EventOnly>(body)
                .ok()
                .and_then(|e| e.event)
                .is_some_and(|e| !super::record::is_custody_event(&e))
        })
        .collect()
}

/// The writer's side of the chain: the next line's `seq` and `prev`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chain {
    next_seq: u64,
    prev: Hash,
}

impl Chain {
    /// A chain whose genesis follows `before` (the bytes already in the file).
    pub fn genesis_after(before: Hash) -> Chain {
        Chain {
            next_seq: 0,
            prev: before,
        }
    }

    /// A chain going on after a line of `seq` whose bytes hash to `line_hash`.
    pub fn after(seq: u64, line_hash: Hash) -> Chain {
        Chain {
            next_seq: seq.saturating_add(1),
            prev: line_hash,
        }
    }

    /// The `seq` the next line gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Append to `out` the line of `body` (a JSON object as serde_json
    /// writes it, without chain fields) sealed: chain fields, the signature
    /// when `signer` is given, and a newline.
    pub fn seal(&mut self, body: &[u8], signer: Option<&SensorKey>, out: &mut Vec<u8>) {
        debug_assert!(body.len() >= 2 && body[0] == b'{' && body[body.len() - 1] == b'}');
        let start = out.len();
        out.extend_from_slice(&body[..body.len() - 1]);
        if body.len() > 2 {
            out.push(b',');
        }
        out.extend_from_slice(SEQ_OPEN);
        out.extend_from_slice(self.next_seq.to_string().as_bytes());
        out.extend_from_slice(PREV_OPEN);
        out.extend_from_slice(to_hex(&self.prev).as_bytes());
        out.extend_from_slice(b"\"}");
        if let Some(key) = signer {
            let sig = key.sign(&out[start..]);
            out.pop();
            out.extend_from_slice(SIG_OPEN);
            out.extend_from_slice(to_hex(&sig).as_bytes());
            out.extend_from_slice(b"\"}");
        }
        self.prev = sha256(&out[start..]);
        self.next_seq += 1;
        out.push(b'\n');
    }
}

/// What the writer needs to know of a log it appends to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogTail {
    /// Whole lines in the file.
    pub lines: u64,
    /// SHA-256 of the whole file.
    pub file_hash: Hash,
    /// SHA-256 of the last line, if any.
    pub last_line_hash: Option<Hash>,
    /// `seq` of the last sealed line.
    pub last_seq: Option<u64>,
    /// Whether the file holds a genesis record.
    pub has_genesis: bool,
    /// The `event` of the last sealed line.
    pub last_event: Option<String>,
    /// `seq` of the last signed line.
    pub last_signed_seq: Option<u64>,
}

/// Read a log (whole lines only) to continue its chain.
pub fn scan(mut reader: impl std::io::BufRead) -> std::io::Result<LogTail> {
    #[derive(serde::Deserialize)]
    struct EventOnly {
        event: Option<String>,
    }
    let mut tail = LogTail::default();
    let mut whole = Sha256::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        whole.update(&line);
        let Some(text) = line.strip_suffix(b"\n") else {
            break; // not a whole line (the writer cuts it first)
        };
        tail.lines += 1;
        tail.last_line_hash = Some(sha256(text));
        if let Some(sealed) = parse(text) {
            let event = serde_json::from_slice::<EventOnly>(&sealed.body)
                .ok()
                .and_then(|e| e.event);
            tail.has_genesis |= event.as_deref() == Some(super::record::GENESIS);
            tail.last_seq = Some(sealed.seq);
            if sealed.sig.is_some() {
                tail.last_signed_seq = Some(sealed.seq);
            }
            tail.last_event = event;
        }
    }
    tail.file_hash = whole.finalize().into();
    Ok(tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_line_reads_back_and_its_signature_covers_it() {
        let key = SensorKey::from_seed(&[7; 32]);
        let mut chain = Chain::genesis_after(sha256(b""));
        let mut out = Vec::new();
        chain.seal(br#"{"event":"raised","id":"a"}"#, None, &mut out);
        chain.seal(br#"{"event":"custody.head"}"#, Some(&key), &mut out);
        chain.seal(b"{}", None, &mut out);
        let text = String::from_utf8(out.clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with(r#"{"event":"raised","id":"a","seq":0,"prev":"e3b0c442"#));
        for line in &lines {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
        let first = parse(lines[0].as_bytes()).unwrap();
        assert_eq!(&*first.body, br#"{"event":"raised","id":"a"}"#);
        assert_eq!((first.seq, first.sig), (0, None));
        let head = parse(lines[1].as_bytes()).unwrap();
        assert_eq!(head.seq, 1);
        assert_eq!(head.prev, sha256(lines[0].as_bytes()));
        assert!(key
            .public()
            .verifies(&head.signed, &head.sig.expect("signed")));
        assert!(head.signed.ends_with(b"\"}"));
        assert!(!head.signed.windows(5).any(|w| w == b"\"sig\""));
        let empty = parse(lines[2].as_bytes()).unwrap();
        assert_eq!(&*empty.body, b"{}");
        assert_eq!(chain.next_seq(), 3);
    }

    #[test]
    fn lines_not_laid_out_as_sealed_are_not_read_as_sealed() {
        let mut chain = Chain::after(4, [1; 32]);
        let mut out = Vec::new();
        chain.seal(br#"{"a":1}"#, None, &mut out);
        let line = std::str::from_utf8(&out).unwrap().trim_end();
        assert!(parse(line.as_bytes()).is_some());
        for bad in [
            line.replace("\"seq\":5", "\"seq\":05"),
            line.replace("\"seq\":5", "\"seq\": 5"),
            line.to_uppercase(),
            r#"{"a":1}"#.to_string(),
            line[..line.len() - 1].to_string(),
        ] {
            assert!(parse(bad.as_bytes()).is_none(), "{bad}");
        }
    }

    #[test]
    fn hex_is_one_spelling() {
        assert_eq!(from_hex::<2>(b"0aff"), Some([10, 255]));
        assert_eq!(from_hex::<2>(b"0AFF"), None);
        assert_eq!(from_hex::<2>(b"0af"), None);
        assert_eq!(to_hex(&[10, 255]), "0aff");
    }
}
