//! Verification of an output directory (`rfsentry verify OUTDIR`): the alert
//! log's chain line by line, every signature, every evidence file, and that
//! the run closed. The first failure is named — the line or file and why
//! (edited, missing, reordered, truncated, evidence changed, signed by
//! another key, …) — and nothing after it is trusted.
//!
//! What is checked, in log order:
//! 1. a genesis record begins the chain; lines before it (a log written
//!    before rfsentry kept a chain) hash to the genesis's `prev`;
//! 2. every later line is sealed, its `seq` one more than the line before,
//!    its `prev` the hash of the line before's exact bytes;
//! 3. every signed record verifies under the trusted key (`--pubkey`, else
//!    the key the genesis names, which proves consistency, not identity);
//! 4. every evidence file a line binds (IQ evidence, spectrograms,
//!    overviews) still has the hash recorded;
//! 5. the log ends with a signed closing record, and nothing follows a
//!    closing record but a new run's start (else it is incomplete: a crash,
//!    a truncation, or a run still going — refused unless
//!    [`VerifyOptions::allow_incomplete`], which still checks all of the
//!    above and says which lines no signature covers);
//! 6. every run is signed, and no evidence file lies in the directory
//!    without a line binding it.

use super::chain::{self, from_hex, sha256, to_hex};
use super::evidence::{evidence_files, hash_file};
use super::key::PublicKey;
use super::record::{self, FileHash, Record};
use crate::layout;
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::{Component, Path};

/// How to verify.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// The key the sensor is known by; without it, the key the log's genesis
    /// names is taken (a forger could have written the whole log with a key
    /// of their own: only a trusted key shows who signed).
    pub pubkey: Option<PublicKey>,
    /// Accept a log without a closing record (a crashed run, or one still
    /// going), checking everything up to its last signed line.
    pub allow_incomplete: bool,
    /// Signed lines a third party received from the sensor as it ran (the
    /// fleet hub's `--export heads`): each must be in the log, byte for
    /// byte, so a log cut after them (or rewritten) shows even with
    /// `allow_incomplete`.
    pub heads: Vec<ReceivedHead>,
}

/// A signed line of a sensor's chain as someone else received it: its
/// `seq` and the SHA-256 of its exact bytes (one line of `rfsentry hub
/// --export heads`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct ReceivedHead {
    /// The sensor's site; heads of other sites are not this log's.
    #[serde(default)]
    pub site: Option<String>,
    pub chain_seq: u64,
    /// Lower-case hex.
    pub sha256: String,
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub at: Option<String>,
}

/// What is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// A line's bytes changed (or its chain fields or signature).
    Edited,
    /// Lines (or the log) are gone.
    Missing,
    /// Lines are out of order.
    Reordered,
    /// The log is cut short mid-line.
    Truncated,
    /// No closing record: a crash, a truncation after a signed line, or a
    /// run still going.
    Incomplete,
    /// A line that no run of the sensor wrote: unsealed, after a close, a
    /// second genesis.
    Forged,
    /// A bound evidence file's content changed.
    EvidenceChanged,
    /// A bound evidence file is gone.
    EvidenceMissing,
    /// An evidence file no line binds.
    EvidenceUnbound,
    /// Signed by a key other than the trusted one.
    OtherKey,
    /// A run wrote no signatures (no `--key`).
    Unsigned,
    /// The log has no chain at all.
    NotChained,
}

impl Problem {
    /// How the verdict names it.
    pub fn name(self) -> &'static str {
        match self {
            Problem::Edited => "edited",
            Problem::Missing => "missing",
            Problem::Reordered => "reordered",
            Problem::Truncated => "truncated",
            Problem::Incomplete => "incomplete",
            Problem::Forged => "forged",
            Problem::EvidenceChanged => "evidence changed",
            Problem::EvidenceMissing => "evidence missing",
            Problem::EvidenceUnbound => "evidence not in the chain",
            Problem::OtherKey => "signed by another key",
            Problem::Unsigned => "unsigned",
            Problem::NotChained => "no chain",
        }
    }
}

/// The first thing that does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub problem: Problem,
    /// 1-based line of the alert log, when a line is at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// The file at fault, relative to the output directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub detail: String,
}

impl Failure {
    fn line(problem: Problem, line: usize, detail: impl Into<String>) -> Failure {
        Failure {
            problem,
            line: Some(line as u64),
            file: None,
            detail: detail.into(),
        }
    }

    fn file(
        problem: Problem,
        file: &str,
        line: Option<usize>,
        detail: impl Into<String>,
    ) -> Failure {
        Failure {
            problem,
            line: line.map(|l| l as u64),
            file: Some(file.to_string()),
            detail: detail.into(),
        }
    }
}

/// The outcome of verifying a log (or a signed file).
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// What was verified.
    pub target: String,
    /// Everything holds.
    pub verified: bool,
    /// The log ends with a closing record.
    pub complete: bool,
    pub failure: Option<Failure>,
    /// Whole lines in the log.
    pub lines: u64,
    /// Runs (a genesis, then each restart).
    pub runs: u64,
    /// Lines whose signature verified.
    pub signed_lines: u64,
    /// The last line a signature covers.
    pub last_signed_line: Option<u64>,
    /// Evidence files whose hashes matched.
    pub evidence_files: u64,
    /// The key signatures were checked against (`ed25519:…`).
    pub key: Option<String>,
    /// Where that key came from.
    pub key_source: String,
    /// What holds but deserves saying (restarts, repairs, what no signature covers).
    pub notes: Vec<String>,
}

impl Verdict {
    fn new(target: &Path) -> Verdict {
        Verdict {
            target: target.display().to_string(),
            verified: false,
            complete: false,
            failure: None,
            lines: 0,
            runs: 0,
            signed_lines: 0,
            last_signed_line: None,
            evidence_files: 0,
            key: None,
            key_source: String::new(),
            notes: Vec::new(),
        }
    }

    /// The verdict for people, several lines.
    pub fn to_text(&self) -> String {
        let mut out = match &self.failure {
            None => format!("{}: VERIFIED\n", self.target),
            Some(f) => {
                let at = match (&f.file, f.line) {
                    (Some(file), Some(line)) => format!("{file} (bound at line {line})"),
                    (Some(file), None) => file.clone(),
                    (None, Some(line)) => format!("line {line}"),
                    (None, None) => "the log".into(),
                };
                format!(
                    "{}: FAILED at {at}: {}\n  {}\n",
                    self.target,
                    f.problem.name(),
                    f.detail
                )
            }
        };
        if self.failure.is_some() {
            out.push_str(&format!(
                "  stopped at the first failure: nothing after it is trusted ({} signed line(s) verified before it)\n",
                self.signed_lines
            ));
        } else {
            let status = if self.complete {
                "closed"
            } else {
                "not closed"
            };
            let last = self
                .last_signed_line
                .map(|l| format!(", the last at line {l}"))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {} line(s), {} run(s), {status}; {} signed line(s){last}; {} evidence file(s) match\n",
                self.lines, self.runs, self.signed_lines, self.evidence_files
            ));
        }
        if let Some(key) = &self.key {
            out.push_str(&format!("  key: {key} ({})\n", self.key_source));
        }
        for note in &self.notes {
            out.push_str(&format!("  note: {note}\n"));
        }
        out
    }
}

/// Verify the alert log of output directory `dir` and its evidence.
pub fn verify_dir(dir: &Path, opts: &VerifyOptions) -> Verdict {
    let log = dir.join(layout::LOG_FILE);
    let mut v = Verdict::new(&log);
    let result = match std::fs::read(&log) {
        Ok(bytes) => Walk::new(dir, opts, &mut v).check(&bytes),
        Err(e) => Err(Failure::file(
            Problem::Missing,
            layout::LOG_FILE,
            None,
            format!("cannot read the alert log: {e}"),
        )),
    };
    v.failure = result.err();
    v.verified = v.failure.is_none();
    v
}

/// Verify a file signed beside it (`FILE.sig`, as `learn --key` signs a profile).
pub fn verify_signed_file(path: &Path, opts: &VerifyOptions) -> Verdict {
    let sig_path = super::detached::signature_path(path);
    let mut v = Verdict::new(path);
    v.runs = 1;
    v.complete = true;
    let name = path.display().to_string();
    let result = (|| {
        let content = std::fs::read(path)
            .map_err(|e| Failure::file(Problem::Missing, &name, None, e.to_string()))?;
        let sig_file = sig_path.display().to_string();
        let sig = std::fs::read(&sig_path).map_err(|e| {
            Failure::file(
                Problem::Unsigned,
                &sig_file,
                None,
                format!("no signature beside it ({e}): sign it with rfsentry learn --key"),
            )
        })?;
        let line = sig.strip_suffix(b"\n").unwrap_or(&sig);
        let bad = |detail: &str| Failure::file(Problem::Edited, &sig_file, None, detail);
        let sealed = chain::parse(line).ok_or_else(|| bad("is not a signature line"))?;
        let Ok(Record::Signature(s)) = serde_json::from_slice::<Record>(&sealed.body) else {
            return Err(bad("is not a file signature record"));
        };
        let named = s.public_key.as_deref().and_then(PublicKey::from_hex);
        let (key, source) = trusted_key(opts, named);
        v.key = key.map(|k| k.id());
        v.key_source = source.into();
        let (Some(key), Some(sig)) = (key, sealed.sig) else {
            return Err(bad("carries no signature"));
        };
        if !key.verifies(&sealed.signed, &sig) {
            return Err(
                match named.filter(|k| *k != key && k.verifies(&sealed.signed, &sig)) {
                    Some(other) => Failure::file(
                        Problem::OtherKey,
                        &sig_file,
                        None,
                        format!("is signed by key {}, not by {}", other.id(), key.id()),
                    ),
                    None => bad("its signature does not verify: it was edited"),
                },
            );
        }
        v.signed_lines = 1;
        if sealed.prev != sha256(&content) {
            return Err(Failure::file(
                Problem::Edited,
                &name,
                None,
                format!(
                    "has changed since it was signed at {} (sha256 signed {}, now {})",
                    s.at,
                    to_hex(&sealed.prev),
                    to_hex(&sha256(&content))
                ),
            ));
        }
        v.notes
            .push(format!("signed at {} by {}", s.at, s.software));
        Ok(())
    })();
    v.failure = result.err();
    v.verified = v.failure.is_none();
    v
}

/// The key to check signatures with, and where it came from.
fn trusted_key(
    opts: &VerifyOptions,
    named: Option<PublicKey>,
) -> (Option<PublicKey>, &'static str) {
    match (opts.pubkey, named) {
        (Some(k), _) => (Some(k), "--pubkey"),
        (None, Some(k)) => (
            Some(k),
            "named by the log itself: this shows the log is consistent, not who wrote it; pass --pubkey with the sensor's known key",
        ),
        (None, None) => (None, "none"),
    }
}

/// Whole lines (without newlines) and a torn last piece, if any.
fn split_lines(bytes: &[u8]) -> (Vec<&[u8]>, Option<&[u8]>) {
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let last = lines.pop().filter(|l| !l.is_empty());
    (lines, last)
}

/// A line's `event` and, for custody records, the record.
fn read_body(body: &[u8]) -> Option<(serde_json::Map<String, serde_json::Value>, Option<String>)> {
    let map: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body).ok()?;
    let event = map
        .get("event")
        .and_then(|e| e.as_str())
        .map(str::to_string);
    Some((map, event))
}

/// One pass over a log.
struct Walk<'a> {
    dir: &'a Path,
    opts: &'a VerifyOptions,
    v: &'a mut Verdict,
    trusted: Option<PublicKey>,
    /// The key the current run's genesis/start names.
    run_key: Option<PublicKey>,
    run_start: usize,
    /// Line of the current run's closing record.
    closed_at: Option<usize>,
    /// Lines that began runs without a key.
    unsigned_runs: Vec<usize>,
    /// Evidence files bound so far.
    bound: BTreeSet<String>,
    /// Files bound, to check once the whole chain holds: (file, line).
    pending: Vec<(FileHash, usize)>,
}

impl<'a> Walk<'a> {
    fn new(dir: &'a Path, opts: &'a VerifyOptions, v: &'a mut Verdict) -> Self {
        Walk {
            dir,
            opts,
            v,
            trusted: None,
            run_key: None,
            run_start: 0,
            closed_at: None,
            unsigned_runs: Vec::new(),
            bound: BTreeSet::new(),
            pending: Vec::new(),
        }
    }

    fn check(mut self, bytes: &[u8]) -> Result<(), Failure> {
        let (lines, torn) = split_lines(bytes);
        self.v.lines = lines.len() as u64;
        if lines.is_empty() {
            return Err(Failure::line(
                Problem::Truncated,
                1,
                "the log holds no whole line: everything, the genesis included, is gone",
            ));
        }
        let g = self.genesis(&lines)?;
        for i in g..lines.len() {
            self.line(&lines, i, g)?;
        }
        self.received_heads(&lines, g)?;
        // Files are judged once the lines binding them are known authentic.
        for (file, n) in std::mem::take(&mut self.pending) {
            self.check_file(&file, n)?;
        }
        self.end(&lines, torn)?;
        self.unbound_files()
    }

    /// Every head received elsewhere is in the log, byte for byte.
    fn received_heads(&mut self, lines: &[&[u8]], genesis: usize) -> Result<(), Failure> {
        if self.opts.heads.is_empty() {
            return Ok(());
        }
        let site = chain::parse(lines[genesis])
            .and_then(|s| read_body(&s.body))
            .and_then(|(map, _)| map.get("site")?.as_str().map(str::to_string));
        let mut by_seq = std::collections::HashMap::new();
        for (i, line) in lines.iter().enumerate().skip(genesis) {
            if let Some(s) = chain::parse(line) {
                by_seq.insert(s.seq, (i, *line));
            }
        }
        let mut matched = 0;
        let heads = self
            .opts
            .heads
            .iter()
            .filter(|h| h.site.is_none() || site.is_none() || h.site == site);
        for h in heads {
            let what = format!(
                "the signed line seq {} ({} at {}) that the hub received",
                h.chain_seq,
                h.event.as_deref().unwrap_or("a head"),
                h.at.as_deref().unwrap_or("?")
            );
            match by_seq.get(&h.chain_seq) {
                None => {
                    return Err(Failure::line(
                        Problem::Missing,
                        lines.len() + 1,
                        format!("{what} is not in this log: it was cut after line {} (or lines were removed)", lines.len()),
                    ))
                }
                Some((i, line)) if to_hex(&sha256(line)) != h.sha256.to_ascii_lowercase() => {
                    return Err(Failure::line(
                        Problem::Edited,
                        i + 1,
                        format!("line {} is not {what}: its bytes differ (sha256 received {}, here {})", i + 1, h.sha256, to_hex(&sha256(line))),
                    ))
                }
                Some(_) => matched += 1,
            }
        }
        self.v.notes.push(format!(
            "{matched} signed line(s) received by the hub match this log"
        ));
        Ok(())
    }

    /// Find and check the genesis; returns its index.
    fn genesis(&mut self, lines: &[&[u8]]) -> Result<usize, Failure> {
        let is_genesis = |l: &&[u8]| {
            chain::parse(l).is_some_and(|s| {
                read_body(&s.body).is_some_and(|(_, e)| e.as_deref() == Some(record::GENESIS))
            })
        };
        let Some(g) = lines.iter().position(is_genesis) else {
            return Err(match lines.iter().position(|l| chain::parse(l).is_some()) {
                Some(i) if i > 0 => Failure::line(
                    Problem::Edited,
                    i,
                    format!("line {i} does not read as a sealed line, and the chain after it has no genesis: it was the genesis, edited (or the genesis was deleted and line {i} added)"),
                ),
                Some(i) => Failure::line(
                    Problem::Missing,
                    i + 1,
                    format!("line {} is chained but no genesis precedes it: the chain's first line was deleted", i + 1),
                ),
                None => Failure::line(
                    Problem::NotChained,
                    1,
                    "the log has no chain of custody: it was written without a key (monitor/analyze --key FILE, made by rfsentry keygen), by an rfsentry before the chain, or by another tool",
                ),
            });
        };
        if let Some(i) = lines[..g].iter().position(|l| chain::parse(l).is_some()) {
            return Err(Failure::line(
                Problem::Missing,
                i + 1,
                format!(
                    "line {} is chained but comes before the genesis at line {}: the log's first genesis was deleted",
                    i + 1,
                    g + 1
                ),
            ));
        }
        let sealed = chain::parse(lines[g]).expect("found as sealed");
        let Ok(Record::Genesis(start)) = serde_json::from_slice::<Record>(&sealed.body) else {
            return Err(Failure::line(
                Problem::Edited,
                g + 1,
                "the genesis record does not read: edited",
            ));
        };
        let prefix_len: usize = lines[..g].iter().map(|l| l.len() + 1).sum();
        let prefix: Vec<u8> = lines[..g]
            .iter()
            .flat_map(|l| l.iter().chain(b"\n"))
            .copied()
            .collect();
        debug_assert_eq!(prefix.len(), prefix_len);
        if start.adopted_lines.unwrap_or(0) != g as u64 {
            return Err(Failure::line(
                Problem::Missing,
                1,
                format!(
                    "the genesis (line {}) adopted {} line(s) written before the chain; {g} are there",
                    g + 1,
                    start.adopted_lines.unwrap_or(0)
                ),
            ));
        }
        if sealed.prev != sha256(&prefix) {
            return Err(match g {
                0 => Failure::line(Problem::Edited, 1, "the genesis's prev is not the hash of an empty file: edited"),
                _ => Failure::line(
                    Problem::Edited,
                    1,
                    format!("lines 1–{g}, written before the chain, changed since the genesis at line {} bound them", g + 1),
                ),
            });
        }
        if g > 0 {
            self.v.notes.push(format!(
                "lines 1–{g} predate the chain: the genesis (line {}) bound them as they were, but no signature was made when they were written",
                g + 1
            ));
        }
        let named = match start.public_key.as_deref() {
            Some(hex) => Some(PublicKey::from_hex(hex).ok_or_else(|| {
                Failure::line(
                    Problem::Edited,
                    g + 1,
                    "the genesis names no valid public key: edited",
                )
            })?),
            None => None,
        };
        let (trusted, source) = trusted_key(self.opts, named);
        self.trusted = trusted;
        self.v.key = trusted.map(|k| k.id());
        self.v.key_source = source.into();
        Ok(g)
    }

    /// Check line `i` (0-based) of the chain that began at `g`.
    fn line(&mut self, lines: &[&[u8]], i: usize, g: usize) -> Result<(), Failure> {
        let n = i + 1;
        let line = lines[i];
        let Some(sealed) = chain::parse(line) else {
            let chain_like = line
                .windows(6)
                .any(|w| w == b"\"prev\"" || w == b"\"seq\":");
            return Err(match serde_json::from_slice::<serde_json::Value>(line) {
                Ok(serde_json::Value::Object(_)) if !chain_like => Failure::line(
                    Problem::Forged,
                    n,
                    format!("line {n} has no chain fields: it was added outside rfsentry's writer (inserted or appended by hand)"),
                ),
                _ => Failure::line(Problem::Edited, n, format!("line {n} is not a sealed JSON line: edited or cut")),
            });
        };
        if serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(line).is_err() {
            return Err(Failure::line(
                Problem::Edited,
                n,
                format!("line {n} is not valid JSON: edited"),
            ));
        }
        let Some((body, event)) = read_body(&sealed.body) else {
            return Err(Failure::line(
                Problem::Edited,
                n,
                format!("line {n} is not a JSON object: edited"),
            ));
        };
        if chain::RESERVED_FIELDS.iter().any(|f| body.contains_key(*f)) {
            return Err(Failure::line(
                Problem::Edited,
                n,
                format!("line {n} repeats a chain field: edited"),
            ));
        }
        let expected = (i - g) as u64;
        if sealed.seq != expected {
            return Err(seq_failure(lines, i, sealed.seq, expected));
        }
        if i > g && sealed.prev != sha256(lines[i - 1]) {
            // Line i-1 changed, or line i's own `prev`: line i is intact if
            // the line after it still records its hash (or, last, its
            // signature still holds).
            let this_edited = match lines.get(i + 1).and_then(|l| chain::parse(l)) {
                Some(next) => next.prev != sha256(line),
                None => sealed.sig.is_some_and(|sig| {
                    !self
                        .trusted
                        .or(self.run_key)
                        .is_some_and(|k| k.verifies(&sealed.signed, &sig))
                }),
            };
            return Err(match this_edited {
                true => Failure::line(
                    Problem::Edited,
                    n,
                    format!("line {n} was edited: its prev no longer matches line {}, nor does its hash match what line {} records", n - 1, n + 1),
                ),
                false => Failure::line(
                    Problem::Edited,
                    n - 1,
                    format!("line {} was edited: its bytes no longer hash to the prev that line {n} records", n - 1),
                ),
            });
        }
        if let Some(c) = self
            .closed_at
            .filter(|_| event.as_deref() != Some(record::START))
        {
            return Err(Failure::line(
                Problem::Forged,
                n,
                format!("line {n} comes after the run's closing record (line {c}) without a new run's start: it was appended after the run ended"),
            ));
        }
        let custody = event.as_deref().is_some_and(record::is_custody_event);
        let rec = if custody {
            Some(serde_json::from_slice::<Record>(&sealed.body).map_err(|_| {
                Failure::line(
                    Problem::Edited,
                    n,
                    format!("line {n} is a custody record that does not read: edited"),
                )
            })?)
        } else {
            None
        };
        match &rec {
            Some(Record::Genesis(_)) if i != g => {
                return Err(Failure::line(
                    Problem::Forged,
                    n,
                    format!("line {n} is a second genesis: another log was spliced in"),
                ))
            }
            Some(Record::Genesis(s)) => self.begin_run(n, s, None)?,
            Some(Record::Start(s)) => {
                let unclosed = self.closed_at.is_none().then_some(n - 1);
                self.begin_run(n, s, unclosed)?
            }
            Some(Record::Close(_)) => self.closed_at = Some(n),
            Some(Record::Evidence(e)) => {
                for f in &e.files {
                    self.bind(f, n)?;
                }
                if e.bound_at_restart {
                    self.v.notes.push(format!(
                        "line {n} bound {} file(s) at a restart, not when they were written (the run that wrote them ended first)",
                        e.files.len()
                    ));
                }
            }
            Some(Record::Head(_)) | Some(Record::Signature(_)) | None => {}
        }
        if rec.is_none() {
            self.alert_line(&body, n)?;
        }
        let must_sign = rec.as_ref().is_some_and(Record::is_signed);
        match sealed.sig {
            Some(sig) => self.signature(n, &sealed.signed, &sig)?,
            None if must_sign && self.run_key.is_some() => {
                return Err(Failure::line(
                    Problem::Edited,
                    n,
                    format!("line {n} lost its signature: edited"),
                ))
            }
            None => {}
        }
        Ok(())
    }

    /// A genesis or start record at line `n`; `unclosed`: the last line of
    /// a run before it that did not close.
    fn begin_run(
        &mut self,
        n: usize,
        s: &record::RunStart,
        unclosed: Option<usize>,
    ) -> Result<(), Failure> {
        if let Some(last) = unclosed {
            let unsigned = match self.v.last_signed_line {
                Some(l) if l as usize >= last => String::new(),
                Some(l) => format!("; its lines {}–{last} were not signed by it (the restart's signature covers them as found)", l + 1),
                None => format!("; none of its lines {}–{last} was signed by it", self.run_start),
            };
            self.v.notes.push(format!(
                "the run starting at line {} ended at line {last} without its closing record (a crash, kill or power loss), and was restarted at line {n}{unsigned}",
                self.run_start
            ));
        }
        if let Some(r) = &s.repair {
            self.v.notes.push(format!(
                "line {n}: the run removed an incomplete last line ({} bytes, sha256 {}) before appending",
                r.removed_bytes, r.removed_sha256
            ));
        }
        self.v.runs += 1;
        self.run_start = n;
        self.closed_at = None;
        self.run_key = match s.public_key.as_deref() {
            Some(hex) => Some(PublicKey::from_hex(hex).ok_or_else(|| {
                Failure::line(
                    Problem::Edited,
                    n,
                    format!("line {n} names no valid public key: edited"),
                )
            })?),
            None => None,
        };
        if self.run_key.is_none() {
            self.unsigned_runs.push(n);
        }
        if self.trusted.is_none() {
            // No --pubkey and an unsigned genesis: the first key a run names.
            self.trusted = self.run_key;
            self.v.key = self.trusted.map(|k| k.id());
            if self.trusted.is_some() {
                self.v.key_source = format!("named at line {n}: this shows the log is consistent, not who wrote it; pass --pubkey with the sensor's known key");
            }
        }
        Ok(())
    }

    /// Check a signature at line `n` over `signed`.
    fn signature(&mut self, n: usize, signed: &[u8], sig: &[u8; 64]) -> Result<(), Failure> {
        let Some(trusted) = self.trusted.or(self.run_key) else {
            return Err(Failure::line(
                Problem::Forged,
                n,
                format!("line {n} is signed, but its run names no key: edited"),
            ));
        };
        if !trusted.verifies(signed, sig) {
            let other = self
                .run_key
                .filter(|k| *k != trusted && k.verifies(signed, sig));
            return Err(match other {
                Some(k) => Failure::line(
                    Problem::OtherKey,
                    n,
                    format!(
                        "line {n} is signed by key {} (named at line {}), not by {} ({})",
                        k.id(),
                        self.run_start,
                        trusted.id(),
                        if self.opts.pubkey.is_some() {
                            "--pubkey"
                        } else {
                            "the key the log began with"
                        }
                    ),
                ),
                None => Failure::line(
                    Problem::Edited,
                    n,
                    format!("line {n} was edited: its signature no longer matches its bytes"),
                ),
            });
        }
        self.v.signed_lines += 1;
        self.v.last_signed_line = Some(n as u64);
        Ok(())
    }

    /// An alert event (or any other event line): the spectrogram it names
    /// with its hash is bound.
    fn alert_line(
        &mut self,
        body: &serde_json::Map<String, serde_json::Value>,
        n: usize,
    ) -> Result<(), Failure> {
        let evidence = body.get("evidence").and_then(|e| e.as_object());
        let picture = evidence
            .and_then(|e| e.get("spectrogram"))
            .and_then(|p| p.as_str());
        let hash = evidence
            .and_then(|e| e.get("spectrogram_sha256"))
            .and_then(|h| h.as_str());
        if let (Some(path), Some(hash)) = (picture, hash) {
            let file = FileHash {
                path: path.to_string(),
                sha256: Some(hash.to_string()),
                sha512: None,
            };
            self.bind(&file, n)?;
        }
        Ok(())
    }

    /// Record a file bound at line `n` (checked against its hash later).
    fn bind(&mut self, f: &FileHash, n: usize) -> Result<(), Failure> {
        let rel = Path::new(&f.path);
        let inside =
            !f.path.is_empty() && rel.components().all(|c| matches!(c, Component::Normal(_)));
        if !inside {
            return Err(Failure::file(
                Problem::Forged,
                &f.path,
                Some(n),
                format!("line {n} binds a file outside the output directory"),
            ));
        }
        let want256 = match &f.sha256 {
            Some(h) => Some(from_hex::<32>(h.as_bytes()).ok_or_else(|| {
                Failure::line(
                    Problem::Edited,
                    n,
                    format!("line {n} records a malformed sha256: edited"),
                )
            })?),
            None => None,
        };
        let want512 = match &f.sha512 {
            Some(h) => Some(from_hex::<64>(h.as_bytes()).ok_or_else(|| {
                Failure::line(
                    Problem::Edited,
                    n,
                    format!("line {n} records a malformed sha512: edited"),
                )
            })?),
            None => None,
        };
        if want256.is_none() && want512.is_none() {
            return Err(Failure::line(
                Problem::Edited,
                n,
                format!("line {n} binds {} without a hash: edited", f.path),
            ));
        }
        self.bound.insert(f.path.clone());
        self.pending.push((f.clone(), n));
        Ok(())
    }

    /// Check a file bound at line `n` against its recorded hash.
    fn check_file(&mut self, f: &FileHash, n: usize) -> Result<(), Failure> {
        let rel = Path::new(&f.path);
        let want256 = f
            .sha256
            .as_deref()
            .and_then(|h| from_hex::<32>(h.as_bytes()));
        let want512 = f
            .sha512
            .as_deref()
            .and_then(|h| from_hex::<64>(h.as_bytes()));
        let (got256, got512) = hash_file(&self.dir.join(rel), want256.is_some(), want512.is_some())
            .map_err(|e| {
                Failure::file(
                    Problem::EvidenceMissing,
                    &f.path,
                    Some(n),
                    format!("cannot be read ({e}); line {n} bound it"),
                )
            })?;
        let changed = |kind: &str, want: &[u8], got: &[u8]| {
            Failure::file(
                Problem::EvidenceChanged,
                &f.path,
                Some(n),
                format!(
                    "has changed since line {n} bound it: {kind} recorded {}, now {}",
                    to_hex(want),
                    to_hex(got)
                ),
            )
        };
        if let (Some(w), Some(got)) = (want256, got256) {
            if w != got {
                return Err(changed("sha256", &w, &got));
            }
        }
        if let (Some(w), Some(got)) = (want512, got512) {
            if w != got {
                return Err(changed("sha512", &w, &got));
            }
        }
        self.v.evidence_files += 1;
        Ok(())
    }

    /// The end of the log: torn, closed, signed.
    fn end(&mut self, lines: &[&[u8]], torn: Option<&[u8]>) -> Result<(), Failure> {
        let last = lines.len();
        if let Some(t) = torn {
            let detail = format!(
                "line {} is cut short ({} bytes without a newline): a write torn by a crash, or the log was truncated mid-line",
                last + 1,
                t.len()
            );
            if !self.opts.allow_incomplete {
                return Err(Failure::line(Problem::Truncated, last + 1, detail));
            }
            self.v.notes.push(detail);
        }
        self.v.complete = self.closed_at == Some(last);
        if !self.v.complete {
            let covered = match self.v.last_signed_line {
                Some(l) if l as usize == last => "every line is covered by a signature".to_string(),
                Some(l) => format!("lines {}–{last} are sealed but no signature covers them: anyone with write access could have changed or added them", l + 1),
                None => "no signature covers any line".to_string(),
            };
            let detail = format!(
                "the log ends at line {last} without the run's closing record: the run crashed or was killed, the log was truncated, or the run is still going; {covered}"
            );
            if !self.opts.allow_incomplete {
                return Err(Failure::line(Problem::Incomplete, last, detail));
            }
            self.v
                .notes
                .push(format!("incomplete (--allow-incomplete): {detail}"));
        }
        if let Some(&n) = self.unsigned_runs.first() {
            return Err(Failure::line(
                Problem::Unsigned,
                n,
                format!("the run starting at line {n} is not signed (written without --key): its chain shows the log is consistent, but anyone who can edit the file could rebuild it"),
            ));
        }
        Ok(())
    }

    /// Every evidence file in the directory must be bound by some line.
    fn unbound_files(&mut self) -> Result<(), Failure> {
        let unbound = evidence_files(self.dir)
            .into_iter()
            .find(|f| !self.bound.contains(f));
        if let Some(f) = unbound {
            let detail = "is not bound to the chain: no line records its hash (added or replaced after the run, or the run ended before it could bind it)";
            if self.opts.allow_incomplete && !self.v.complete {
                self.v.notes.push(format!("{f} {detail}"));
                return Ok(());
            }
            return Err(Failure::file(Problem::EvidenceUnbound, &f, None, detail));
        }
        Ok(())
    }
}

/// Why line `i` has `seq` `found` where `expected` was due.
fn seq_failure(lines: &[&[u8]], i: usize, found: u64, expected: u64) -> Failure {
    let n = i + 1;
    if found < expected {
        return Failure::line(
            Problem::Reordered,
            n,
            format!("line {n} has seq {found} after seq {}: lines are out of order (moved or duplicated)", expected - 1),
        );
    }
    let moved = lines[i + 1..]
        .iter()
        .position(|l| chain::parse(l).is_some_and(|s| s.seq == expected));
    match moved {
        Some(j) => Failure::line(
            Problem::Reordered,
            n,
            format!("line {n} has seq {found} where seq {expected} was due, and that line is at line {}: lines were moved", i + j + 2),
        ),
        None => Failure::line(
            Problem::Missing,
            n,
            format!(
                "{} line(s) (seq {expected}–{}) are missing before line {n}: deleted",
                found - expected,
                found - 1
            ),
        ),
    }
}
