//! The chain of custody (issue #16), through the real binary and real files:
//! `keygen`, `analyze --key`, `monitor --key` (SIGKILLed and restarted),
//! `learn --key`, and `verify`, which must pass an untouched run and name
//! every tampering — a byte flipped in any line, a line deleted, two lines
//! swapped, the log truncated before or after a signed head, an evidence
//! file replaced, the log re-signed with another key, a forged line
//! appended — plus a property test: random edits are always detected.

use crate::util::cli;

use proptest::prelude::*;
use rfsentry::alert::log::{AlertLog, LogEntry};
use rfsentry::alert::{AlertEvent, AlertKind, EventType, EvidencePaths};
use rfsentry::custody::chain::{self, Chain};
use rfsentry::custody::record::{self, Record};
use rfsentry::custody::{
    verify_dir, Problem, PublicKey, RunContext, SensorKey, Verdict, VerifyOptions,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// A signed `analyze` of the demo, made once: (dir holding it, run dir,
/// private key, public key file, another key's public file).
struct Pristine {
    _dir: tempfile::TempDir,
    run: PathBuf,
    key: PathBuf,
    public: PathBuf,
    other_key: PathBuf,
    other_public: PathBuf,
}

fn pristine() -> &'static Pristine {
    static P: OnceLock<Pristine> = OnceLock::new();
    P.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("sensor.key");
        let other_key = dir.path().join("other.key");
        let out = cli::ok(&["keygen", "--out", cli::s(&key)]);
        assert!(out.contains("key id:      ed25519:"), "{out}");
        cli::ok(&["keygen", "--out", cli::s(&other_key)]);
        let run = dir.path().join("run");
        cli::ok(&[
            "analyze",
            "--site",
            "demo-venue",
            "--out",
            cli::s(&run),
            "--key",
            cli::s(&key),
            "recordings/demo-incidents.sigmf-meta",
        ]);
        Pristine {
            public: dir.path().join("sensor.key.pub"),
            other_public: dir.path().join("other.key.pub"),
            _dir: dir,
            run,
            key,
            other_key,
        }
    })
}

/// A copy of the pristine run to tamper with.
fn copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("run");
    copy_dir(&pristine().run, &to);
    (dir, to)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn opts(public: &Path) -> VerifyOptions {
    VerifyOptions {
        pubkey: Some(PublicKey::load(public).unwrap()),
        ..Default::default()
    }
}

fn verdict(run: &Path) -> Verdict {
    verify_dir(run, &opts(&pristine().public))
}

fn log_lines(run: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(run.join("alerts.jsonl")).unwrap();
    let mut lines: Vec<Vec<u8>> = bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    assert_eq!(
        lines.pop().as_deref(),
        Some(&b""[..]),
        "ends with a newline"
    );
    lines
}

fn write_lines(run: &Path, lines: &[Vec<u8>]) {
    std::fs::write(run.join("alerts.jsonl"), join_lines(lines)).unwrap();
}

/// Lines joined back into a log, each ending with a newline.
fn join_lines(lines: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for l in lines {
        bytes.extend_from_slice(l);
        bytes.push(b'\n');
    }
    bytes
}

fn event_of(line: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(line).unwrap();
    v["event"].as_str().unwrap_or("").to_string()
}

/// `rfsentry verify ARGS`: (exit code, stdout).
fn verify_bin(args: &[&str]) -> (i32, String) {
    let mut all = vec!["verify"];
    all.extend(args);
    let out = cli::run(&all);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn failure(v: &Verdict) -> (Problem, Option<u64>, Option<String>) {
    let f = v
        .failure
        .as_ref()
        .unwrap_or_else(|| panic!("not detected:\n{}", v.to_text()));
    (f.problem, f.line, f.file.clone())
}

#[test]
fn an_untouched_signed_run_verifies_and_says_what_it_checked() {
    let p = pristine();
    let (code, text) = verify_bin(&[cli::s(&p.run), "--pubkey", cli::s(&p.public)]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("VERIFIED") && text.contains("(--pubkey)"),
        "{text}"
    );
    let (code, json) = verify_bin(&[cli::s(&p.run), "--pubkey", cli::s(&p.public), "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["verified"], true);
    assert_eq!(v["complete"], true);
    assert_eq!(v["runs"], 1);
    // Every evidence file is bound: 3 snippets (meta + data), 3 pictures, the overview.
    assert_eq!(v["evidence_files"], 10, "{json}");
    // Every cleared event is followed by a signed head; the log ends signed.
    let lines = log_lines(&p.run);
    for (i, l) in lines.iter().enumerate() {
        if event_of(l) == "cleared" {
            assert_eq!(event_of(&lines[i + 1]), record::HEAD);
        }
    }
    assert_eq!(event_of(lines.last().unwrap()), record::CLOSE);
    assert_eq!(event_of(&lines[0]), record::GENESIS);
    let genesis: serde_json::Value = serde_json::from_slice(&lines[0]).unwrap();
    let public = PublicKey::load(&p.public).unwrap();
    assert_eq!(genesis["public_key"], public.to_hex());
    assert_eq!(genesis["site"], "demo-venue");
    assert!(genesis["software"]
        .as_str()
        .unwrap()
        .starts_with("rfsentry "));
    assert_eq!(genesis["profile"]["path"], "profiles/demo-venue.toml");
    let close: serde_json::Value = serde_json::from_slice(lines.last().unwrap()).unwrap();
    assert_eq!(close["reason"], "end of the recording");
    // The key stays private: never in the log, the output or the verdict.
    let secret = std::fs::read_to_string(&p.key).unwrap();
    let secret_b64: String = secret.lines().filter(|l| !l.starts_with("-----")).collect();
    let log = std::fs::read_to_string(p.run.join("alerts.jsonl")).unwrap();
    assert!(!log.contains(&secret_b64) && !text.contains(&secret_b64));
    // Without --pubkey: consistent, but the verdict says whose key it trusted.
    let (code, text) = verify_bin(&[cli::s(&p.run)]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("named by the log itself"), "{text}");
    // Score still reads the log (the chain's fields are extra).
    let score = cli::ok(&[
        "score",
        cli::s(&p.run.join("alerts.jsonl")),
        "recordings/demo-incidents.sigmf-meta",
    ]);
    assert!(score.contains("Pd"), "{score}");
}

#[test]
fn a_byte_flipped_in_any_line_is_detected_and_names_that_line() {
    let (_d, run) = copy();
    let lines = log_lines(&run);
    for i in 0..lines.len() {
        for at in [
            0,
            lines[i].len() / 3,
            lines[i].len() / 2,
            lines[i].len() - 2,
        ] {
            let mut edited = lines.clone();
            edited[i][at] ^= 0x01;
            write_lines(&run, &edited);
            let v = verdict(&run);
            let (problem, line, _) = failure(&v);
            assert_eq!(
                line,
                Some(i as u64 + 1),
                "byte {at} of line {}: {}",
                i + 1,
                v.to_text()
            );
            assert!(
                matches!(
                    problem,
                    Problem::Edited | Problem::Missing | Problem::Reordered
                ),
                "{}",
                v.to_text()
            );
        }
    }
    // A digit of excess_db in the first alert (as an editor would): "edited".
    let i = lines.iter().position(|l| event_of(l) == "raised").unwrap();
    let text = String::from_utf8(lines[i].clone()).unwrap();
    let at = text.find("\"excess_db\":").unwrap() + 12;
    let mut edited = lines.clone();
    edited[i][at] = if edited[i][at] == b'9' { b'8' } else { b'9' };
    write_lines(&run, &edited);
    let (code, out) = verify_bin(&[cli::s(&run), "--pubkey", cli::s(&pristine().public)]);
    assert_eq!(code, 1);
    assert!(
        out.contains(&format!("FAILED at line {}: edited", i + 1)),
        "{out}"
    );
}

#[test]
fn a_deleted_line_is_named_missing_and_the_last_one_incomplete() {
    let (_d, run) = copy();
    let lines = log_lines(&run);
    for i in 0..lines.len() {
        let mut edited = lines.clone();
        edited.remove(i);
        write_lines(&run, &edited);
        let v = verdict(&run);
        let (problem, line, _) = failure(&v);
        if i + 1 == lines.len() {
            assert_eq!(problem, Problem::Incomplete, "{}", v.to_text());
        } else {
            assert_eq!(
                (problem, line),
                (Problem::Missing, Some(i as u64 + 1)),
                "{}",
                v.to_text()
            );
        }
    }
}

#[test]
fn swapped_lines_are_named_reordered() {
    let (_d, run) = copy();
    let lines = log_lines(&run);
    for i in 1..lines.len() - 1 {
        let mut edited = lines.clone();
        edited.swap(i, i + 1);
        write_lines(&run, &edited);
        let v = verdict(&run);
        assert_eq!(
            (failure(&v).0, failure(&v).1),
            (Problem::Reordered, Some(i as u64 + 1)),
            "{}",
            v.to_text()
        );
    }
    // Far apart too.
    let mut edited = lines.clone();
    edited.swap(2, lines.len() - 3);
    write_lines(&run, &edited);
    let v = verdict(&run);
    assert_eq!(failure(&v).0, Problem::Reordered, "{}", v.to_text());
}

#[test]
fn a_truncated_log_is_incomplete_before_and_after_a_signed_head() {
    let (_d, run) = copy();
    let lines = log_lines(&run);
    let heads: Vec<usize> = (0..lines.len())
        .filter(|&i| event_of(&lines[i]) == record::HEAD)
        .collect();
    assert!(heads.len() >= 2, "heads after every cleared");
    let public = cli::s(&pristine().public).to_string();
    // Cut right after a signed head, and between two heads.
    for (keep, covered) in [(heads[0] + 1, true), (heads[1] - 1, false)] {
        write_lines(&run, &lines[..keep]);
        let v = verdict(&run);
        assert_eq!(failure(&v).0, Problem::Incomplete, "{}", v.to_text());
        let (code, out) = verify_bin(&[cli::s(&run), "--pubkey", &public]);
        assert_eq!(code, 1);
        assert!(
            out.contains("incomplete") && out.contains("without the run's closing record"),
            "{out}"
        );
        // --allow-incomplete checks everything up to the last signed head.
        let (code, out) = verify_bin(&[cli::s(&run), "--pubkey", &public, "--allow-incomplete"]);
        assert_eq!(code, 0, "{out}");
        assert_eq!(out.contains("no signature covers them"), !covered, "{out}");
        // ... but still finds an edit in what is left.
        let mut edited = lines[..keep].to_vec();
        edited[1][20] ^= 1;
        write_lines(&run, &edited);
        let (code, out) = verify_bin(&[cli::s(&run), "--pubkey", &public, "--allow-incomplete"]);
        assert_eq!(code, 1, "{out}");
    }
    // Cut in the middle of a line.
    let mut bytes = std::fs::read(pristine().run.join("alerts.jsonl")).unwrap();
    bytes.truncate(bytes.len() - 40);
    std::fs::write(run.join("alerts.jsonl"), &bytes).unwrap();
    let v = verdict(&run);
    assert_eq!(
        (failure(&v).0, failure(&v).1),
        (Problem::Truncated, Some(lines.len() as u64)),
        "{}",
        v.to_text()
    );
    // An empty log.
    std::fs::write(run.join("alerts.jsonl"), b"").unwrap();
    assert_eq!(failure(&verdict(&run)).0, Problem::Truncated);
}

#[test]
fn replaced_missing_or_added_evidence_is_named() {
    let cases: [(&str, Tamper, Problem); 5] = [
        (
            "iq/demo-venue-0002.sigmf-data",
            |r| flip(r, "iq/demo-venue-0002.sigmf-data", 100),
            Problem::EvidenceChanged,
        ),
        (
            "iq/demo-venue-0001.sigmf-meta",
            |r| flip(r, "iq/demo-venue-0001.sigmf-meta", 30),
            Problem::EvidenceChanged,
        ),
        (
            "spectrograms/demo-venue-0003.png",
            |r| {
                std::fs::copy(
                    r.join("spectrograms/demo-venue-0001.png"),
                    r.join("spectrograms/demo-venue-0003.png"),
                )
                .unwrap();
            },
            Problem::EvidenceChanged,
        ),
        (
            "overview-demo-incidents.png",
            |r| std::fs::remove_file(r.join("overview-demo-incidents.png")).unwrap(),
            Problem::EvidenceMissing,
        ),
        (
            "spectrograms/planted.png",
            |r| {
                std::fs::copy(
                    r.join("spectrograms/demo-venue-0001.png"),
                    r.join("spectrograms/planted.png"),
                )
                .unwrap();
            },
            Problem::EvidenceUnbound,
        ),
    ];
    for (file, tamper, problem) in cases {
        let (_d, run) = copy();
        tamper(&run);
        let v = verdict(&run);
        let (got, _, named) = failure(&v);
        assert_eq!(
            (got, named.as_deref()),
            (problem, Some(file)),
            "{}",
            v.to_text()
        );
    }
    let (_d, run) = copy();
    flip(&run, "iq/demo-venue-0001.sigmf-data", 100);
    let (code, out) = verify_bin(&[cli::s(&run), "--pubkey", cli::s(&pristine().public)]);
    assert_eq!(code, 1);
    assert!(
        out.contains("FAILED at iq/demo-venue-0001.sigmf-data (bound at line")
            && out.contains("evidence changed"),
        "{out}"
    );
}

/// A change made to a copied run.
type Tamper = fn(&Path);

fn flip(run: &Path, rel: &str, at: usize) {
    let path = run.join(rel);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[at] ^= 1;
    std::fs::write(&path, bytes).unwrap();
}

/// Re-seal `lines` from line `from` on with `key` (as a forger holding
/// another key would), renaming the key in run records.
fn reseal(lines: &[Vec<u8>], from: usize, key: &SensorKey) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = lines[..from].to_vec();
    let last = chain::parse(&lines[from - 1]).unwrap();
    let mut c = Chain::after(last.seq, chain::sha256(&lines[from - 1]));
    for line in &lines[from..] {
        let sealed = chain::parse(line).unwrap();
        let mut body = sealed.body.into_owned();
        let mut sign = false;
        if let Ok(mut rec) = serde_json::from_slice::<Record>(&body) {
            sign = rec.is_signed();
            if let Record::Start(s) | Record::Genesis(s) = &mut rec {
                s.public_key = Some(key.public().to_hex());
            }
            body = rec.to_body();
        }
        let mut buf = Vec::new();
        c.seal(&body, sign.then_some(key), &mut buf);
        buf.pop();
        out.push(buf);
    }
    out
}

#[test]
fn a_log_signed_by_another_key_is_named() {
    let p = pristine();
    // The untouched run checked against another sensor's key.
    let (code, out) = verify_bin(&[cli::s(&p.run), "--pubkey", cli::s(&p.other_public)]);
    assert_eq!(code, 1);
    assert!(
        out.contains("FAILED at line 1: signed by another key"),
        "{out}"
    );
    // A forger who edits a line and re-signs the rest with their own key.
    let (_d, run) = copy();
    let lines = log_lines(&run);
    let i = lines.iter().position(|l| event_of(l) == "raised").unwrap();
    let mut edited = lines.clone();
    let text = String::from_utf8(edited[i].clone())
        .unwrap()
        .replace("jamming.tone", "emitter.unknown");
    edited[i] = text.into_bytes();
    let forger = SensorKey::load(&p.other_key).unwrap();
    // Re-chained from the edit on: no prev gives it away, the signatures do.
    let tail = reseal(&edited, i, &forger);
    write_lines(&run, &tail);
    let v = verdict(&run);
    let (problem, line, _) = failure(&v);
    assert_eq!(problem, Problem::Edited, "{}", v.to_text());
    assert!(line.unwrap() as usize > i, "{}", v.to_text());
    // The whole log re-signed under the forger's key, genesis included.
    let mut all = reseal(&lines, 1, &forger);
    let mut genesis: Record =
        serde_json::from_slice(&chain::parse(&lines[0]).unwrap().body).unwrap();
    if let Record::Genesis(s) = &mut genesis {
        s.public_key = Some(forger.public().to_hex());
    }
    let mut buf = Vec::new();
    Chain::genesis_after(chain::sha256(b"")).seal(&genesis.to_body(), Some(&forger), &mut buf);
    buf.pop();
    all[0] = buf;
    let all = reseal(&all, 1, &forger);
    write_lines(&run, &all);
    let v = verdict(&run);
    assert_eq!(
        (failure(&v).0, failure(&v).1),
        (Problem::OtherKey, Some(1)),
        "{}",
        v.to_text()
    );
    // Self-consistent: without a trusted key it passes, and says so.
    let v = verify_dir(&run, &VerifyOptions::default());
    assert!(
        v.verified && v.key_source.contains("not who wrote it"),
        "{}",
        v.to_text()
    );
}

#[test]
fn a_forged_line_appended_is_named() {
    let (_d, run) = copy();
    let lines = log_lines(&run);
    let n = lines.len() as u64;
    // A plain alert event, as an editor would add it.
    let first = lines.iter().find(|l| event_of(l) == "raised").unwrap();
    let mut plain: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(first).unwrap();
    for f in ["seq", "prev"] {
        plain.remove(f);
    }
    plain.insert("id".into(), "demo-venue-0099".into());
    let mut edited = lines.clone();
    edited.push(serde_json::to_vec(&plain).unwrap());
    write_lines(&run, &edited);
    let v = verdict(&run);
    assert_eq!(
        (failure(&v).0, failure(&v).1),
        (Problem::Forged, Some(n + 1)),
        "{}",
        v.to_text()
    );
    // The same line sealed onto the chain by someone who knows the format.
    let last = chain::parse(lines.last().unwrap()).unwrap();
    let mut c = Chain::after(last.seq, chain::sha256(lines.last().unwrap()));
    let mut buf = Vec::new();
    c.seal(&serde_json::to_vec(&plain).unwrap(), None, &mut buf);
    buf.pop();
    let mut edited = lines.clone();
    edited.push(buf);
    write_lines(&run, &edited);
    let v = verdict(&run);
    assert_eq!(
        (failure(&v).0, failure(&v).1),
        (Problem::Forged, Some(n + 1)),
        "{}",
        v.to_text()
    );
    assert!(
        v.to_text().contains("after the run's closing record"),
        "{}",
        v.to_text()
    );
    let (code, out) = verify_bin(&[cli::s(&run), "--pubkey", cli::s(&pristine().public)]);
    assert_eq!(code, 1);
    assert!(
        out.contains(&format!("FAILED at line {}: forged", n + 1)),
        "{out}"
    );
}

#[test]
fn a_monitor_killed_and_restarted_verifies() {
    let p = pristine();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("live");
    let args = |fast: bool| {
        let mut a = vec![
            "monitor".to_string(),
            "--site".into(),
            "demo-venue".into(),
            "--out".into(),
            cli::s(&out).into(),
            "--key".into(),
            cli::s(&p.key).into(),
        ];
        if fast {
            a.push("--fast".into());
        }
        a.push("recordings/demo-incidents.sigmf-meta".into());
        a
    };
    // At real time (6 s of signal): killed once the first alert is logged.
    let mut child = Command::new(env!("CARGO_BIN_EXE_rfsentry"))
        .args(args(false))
        .current_dir(cli::repo())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let log = out.join("alerts.jsonl");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&log).is_ok_and(|t| t.contains("\"raised\"")) {
        assert!(Instant::now() < deadline, "the monitor logged no alert");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let public = cli::s(&p.public);
    let (code, text) = verify_bin(&[cli::s(&out), "--pubkey", public]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("incomplete"), "{text}");
    let (code, text) = verify_bin(&[cli::s(&out), "--pubkey", public, "--allow-incomplete"]);
    assert_eq!(code, 0, "{text}");
    // Restarted: it records what it found (the open alert closed at restart,
    // the earlier run's end), signs it, and the whole log verifies.
    cli::ok(&args(true).iter().map(String::as_str).collect::<Vec<_>>());
    let (code, text) = verify_bin(&[cli::s(&out), "--pubkey", public]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("2 run(s)") && text.contains("without its closing record"),
        "{text}"
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("closed_at_restart"), "{logged}");
    assert!(logged.contains("\"event\":\"custody.start\""), "{logged}");
}

#[test]
fn learn_signs_its_profile_and_the_profile_can_name_the_key() {
    let p = pristine();
    let dir = tempfile::tempdir().unwrap();
    let profiles = dir.path().join("profiles");
    let out = cli::ok(&[
        "learn",
        "--site",
        "signed",
        "--profile-dir",
        cli::s(&profiles),
        "--key",
        cli::s(&p.key),
        "recordings/demo-baseline.sigmf-meta",
    ]);
    assert!(out.contains("signature:"), "{out}");
    let profile = profiles.join("signed.toml");
    let public = cli::s(&p.public);
    let (code, text) = verify_bin(&[cli::s(&profile), "--pubkey", public]);
    assert_eq!(code, 0, "{text}");
    let (code, text) = verify_bin(&[cli::s(&profile), "--pubkey", cli::s(&p.other_public)]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("signed by another key"), "{text}");
    // The site names its key in [custody] (relative to the profile): no --key needed.
    let mut text = std::fs::read_to_string(&profile).unwrap();
    std::fs::copy(&p.key, dir.path().join("site.key")).unwrap();
    text.push_str("\n[custody]\nkey = \"../site.key\"\n");
    std::fs::write(&profile, &text).unwrap();
    let (code, verdict_text) = verify_bin(&[cli::s(&profile), "--pubkey", public]);
    assert_eq!(code, 1);
    assert!(
        verdict_text.contains("has changed since it was signed"),
        "{verdict_text}"
    );
    let run = dir.path().join("run");
    cli::ok(&[
        "analyze",
        "--site",
        "signed",
        "--profile-dir",
        cli::s(&profiles),
        "--out",
        cli::s(&run),
        "--no-evidence",
        "recordings/demo-incidents.sigmf-meta",
    ]);
    let (code, text) = verify_bin(&[cli::s(&run), "--pubkey", public]);
    assert_eq!(code, 0, "{text}");
    // A key file others can read is refused, naming the fix.
    let loose = dir.path().join("site.key");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
    let refused = cli::run(&[
        "analyze",
        "--site",
        "signed",
        "--profile-dir",
        cli::s(&profiles),
        "--out",
        cli::s(&dir.path().join("run2")),
        "recordings/demo-incidents.sigmf-meta",
    ]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("site.key: file mode") && stderr.contains("chmod 600"),
        "{stderr}"
    );
    // keygen never replaces a key.
    let again = cli::run(&["keygen", "--out", cli::s(&p.key)]);
    assert_eq!(again.status.code(), Some(1));
    // A run without a key keeps its log plain: nothing to verify.
    let unsigned = dir.path().join("unsigned");
    cli::ok(&[
        "analyze",
        "--site",
        "demo-venue",
        "--out",
        cli::s(&unsigned),
        "--no-evidence",
        "recordings/demo-incidents.sigmf-meta",
    ]);
    let (code, text) = verify_bin(&[cli::s(&unsigned)]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("FAILED at line 1: no chain"), "{text}");
    let plain = std::fs::read_to_string(unsigned.join("alerts.jsonl")).unwrap();
    assert!(
        !plain.is_empty()
            && plain
                .lines()
                .all(|l| !l.contains("custody.") && !l.contains("\"prev\":")),
        "a keyless log is the events alone:\n{plain}"
    );
}

/// A signed log made through the library's writer: events, an
/// acknowledgement-like event of another kind, restarts and closes.
fn library_log(dir: &Path) -> (Vec<u8>, PublicKey) {
    let key = Arc::new(SensorKey::from_seed(&[42; 32]));
    let ctx = RunContext {
        key: Some(key.clone()),
        site: "prop".into(),
        source: "recording".into(),
        command: "monitor".into(),
        profile: None,
    };
    let path = dir.join("alerts.jsonl");
    let event = |id: &str, e: EventType| AlertEvent {
        id: id.into(),
        event: e,
        kind: AlertKind::JammingBarrage,
        site: "prop".into(),
        recording: "recording".into(),
        start: "2026-01-01T00:00:00Z".into(),
        end: "2026-01-01T00:00:01Z".into(),
        start_sample: 0,
        end_sample: 100,
        freq_low_hz: 1.0,
        freq_high_hz: 2.0,
        center_hz: 1.5,
        peak_dbfs: -30.0,
        peak_dbm: None,
        excess_db: 9.5,
        snr_db: 12.0,
        confidence: 0.9,
        evidence: EvidencePaths::default(),
        details: Default::default(),
    };
    for run in 0..2 {
        let mut log = AlertLog::open(&path, &ctx, false).unwrap();
        let id = format!("p-{run}");
        log.write(&event(&id, EventType::Raised)).unwrap();
        log.write(&event(&id, EventType::Updated)).unwrap();
        let ack = serde_json::json!({"event": "acknowledged", "id": id, "by": "operator"});
        log.write_entries(&[LogEntry::other(ack).unwrap()]).unwrap();
        log.write(&event(&id, EventType::Cleared)).unwrap();
        log.close("end of the recording").unwrap();
    }
    (std::fs::read(&path).unwrap(), key.public())
}

/// One random edit of a log.
#[derive(Debug, Clone)]
enum Edit {
    Flip { at: usize, bit: u8 },
    Delete(usize),
    Swap(usize, usize),
    Duplicate(usize),
    Truncate(usize),
    Insert(usize, String),
}

fn apply(log: &[u8], edit: &Edit) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = log.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    lines.pop();
    let n = lines.len();
    match edit {
        Edit::Flip { at, bit } => {
            let mut out = log.to_vec();
            out[at % log.len()] ^= 1 << (bit % 8);
            out
        }
        Edit::Delete(i) => {
            lines.remove(i % n);
            join_lines(&lines)
        }
        Edit::Swap(i, j) => {
            let (i, j) = (i % n, j % n);
            let (i, j) = if i == j { (i, (i + 1) % n) } else { (i, j) };
            lines.swap(i, j);
            join_lines(&lines)
        }
        Edit::Duplicate(i) => {
            let l = lines[i % n].clone();
            lines.insert(i % n, l);
            join_lines(&lines)
        }
        Edit::Truncate(len) => log[..len % log.len()].to_vec(),
        Edit::Insert(i, text) => {
            lines.insert(i % (n + 1), text.clone().into_bytes());
            join_lines(&lines)
        }
    }
}

fn edits() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, bit)| Edit::Flip { at, bit }),
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Edit::Swap(i, j)),
        any::<usize>().prop_map(Edit::Duplicate),
        any::<usize>().prop_map(Edit::Truncate),
        (any::<usize>(), "[ -~]{0,40}").prop_map(|(i, t)| Edit::Insert(i, t)),
        (any::<usize>(), 0u64..1000).prop_map(|(i, n)| Edit::Insert(
            i,
            format!(
                r#"{{"event":"acknowledged","id":"p-{n}","seq":{n},"prev":"{}"}}"#,
                "0".repeat(64)
            )
        )),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_edits_to_a_valid_log_are_always_detected(edit in edits()) {
        static LOG: OnceLock<(tempfile::TempDir, Vec<u8>, PublicKey)> = OnceLock::new();
        let (_dir, log, public) = LOG.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let (log, public) = library_log(dir.path());
            (dir, log, public)
        });
        let opts = VerifyOptions { pubkey: Some(*public), ..Default::default() };
        let work = tempfile::tempdir().unwrap();
        std::fs::write(work.path().join("alerts.jsonl"), log).unwrap();
        prop_assert!(verify_dir(work.path(), &opts).verified, "the untouched log verifies");
        let edited = apply(log, &edit);
        prop_assume!(edited != *log);
        std::fs::write(work.path().join("alerts.jsonl"), &edited).unwrap();
        let v = verify_dir(work.path(), &opts);
        prop_assert!(!v.verified, "{:?} went undetected:\n{}", edit, v.to_text());
    }
}

/// The key files and signatures are standard Ed25519 that other tools
/// check: OpenSSL derives the same public key from the private key file,
/// and verifies a signed line of the log with the `.pub` file alone.
#[test]
fn openssl_reads_the_keys_and_verifies_the_signatures() {
    let p = pristine();
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl is installed (.ci/run installs it)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let derived = run(&["pkey", "-in", cli::s(&p.key), "-pubout"]);
    assert_eq!(derived, std::fs::read_to_string(&p.public).unwrap());
    let lines = log_lines(&p.run);
    let close = chain::parse(lines.last().unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (msg, sig) = (dir.path().join("msg"), dir.path().join("sig"));
    std::fs::write(&msg, &close.signed).unwrap();
    std::fs::write(&sig, close.sig.unwrap()).unwrap();
    let out = run(&[
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        cli::s(&p.public),
        "-rawin",
        "-in",
        cli::s(&msg),
        "-sigfile",
        cli::s(&sig),
    ]);
    assert!(out.contains("Signature Verified Successfully"), "{out}");
}
