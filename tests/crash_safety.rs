//! Nothing lost: what rfsentry leaves on disk when it is killed, stopped or
//! cannot write.
//!
//! - SIGKILL at a fixed list of moments during `analyze`, `monitor --fast`
//!   and `learn`: every complete line of the alert log is valid JSON, no
//!   evidence file under its final name is half written (`.part` files are
//!   the temporaries), and a profile is either the old one or a whole new one.
//!   `monitor` appends: the runs killed one after another share one log.
//! - SIGTERM during a real-time `monitor`: exit 0, every raised alert has its
//!   `cleared` line, the summary is printed.
//! - An unwritable output directory or a full disk: a clear error naming
//!   the path, analysis/monitoring goes on, alerts reach the terminal, and
//!   the command exits non-zero at the end.

use crate::util::{cli, long_run};

use long_run::{
    check_outputs, on_demo_site, raised_and_cleared, rfsentry, rfsentry_ok, rfsentry_output,
    TextOutput,
};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A 60 s recording with an event every 3 s, and the demo profile, made once.
struct Setup {
    dir: tempfile::TempDir,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        long_run::learn_demo(dir.path(), 8.0);
        let scenario = long_run::write_scenario(dir.path(), "busy", 60.0, 3.0, 1.0, 5);
        long_run::synth(dir.path(), &scenario, "busy");
        Setup { dir }
    })
}

impl Setup {
    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The 60 s recording's metadata file.
    fn recording(&self) -> PathBuf {
        self.path().join("busy.sigmf-meta")
    }

    /// A new directory `name` for one test's runs (a sibling of the recording).
    fn work_dir(&self, name: &str) -> PathBuf {
        let dir = self.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}

/// Kill delays in milliseconds after the start (a fixed list, so a failure
/// can be replayed): early (opening), during, and near the end of the run.
const KILL_AFTER_MS: [u64; 10] = [2, 15, 35, 60, 90, 130, 180, 260, 400, 700];

fn spawn(dir: &Path, args: &[&str]) -> Child {
    rfsentry(dir, args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start rfsentry")
}

/// Start `args` in `dir` with its stdout and stderr captured.
fn spawn_captured(dir: &Path, args: &[&str]) -> Child {
    rfsentry(dir, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Send `child` SIGTERM through kill(1), as a user or a service manager
/// would; returns whether kill succeeded.
fn sigterm(child: &Child) -> bool {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success()
}

/// Start `args`, SIGKILL it after `delay` (if still running); returns
/// whether it was killed before it finished.
fn kill_after(dir: &Path, args: &[&str], delay: Duration) -> bool {
    let mut child = spawn(dir, args);
    let deadline = Instant::now() + delay;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    true
}

#[test]
fn sigkill_during_analyze_leaves_whole_lines_and_whole_files() {
    let s = setup();
    let mut killed = 0;
    for (i, ms) in KILL_AFTER_MS.iter().enumerate() {
        let out = format!("analyze-{i}");
        let args = on_demo_site(&["analyze"], "profiles", &out, &["busy.sigmf-meta"]);
        killed += kill_after(s.path(), &args, Duration::from_millis(*ms)) as usize;
        let check = check_outputs(&s.path().join(&out));
        assert!(
            check.torn_tail.is_none(),
            "{out}: torn line {:?}",
            check.torn_tail
        );
        println!(
            "analyze killed after {ms} ms: {} events, {} whole evidence files, {} .part",
            check.events.len(),
            check.files.len(),
            check.parts.len()
        );
    }
    assert!(
        killed >= 2,
        "only {killed} runs were killed before they ended"
    );
    // A run to the end afterwards: its log is complete and fresh.
    rfsentry_ok(
        s.path(),
        &on_demo_site(&["analyze"], "profiles", "analyze-0", &["busy.sigmf-meta"]),
    );
    let check = check_outputs(&s.path().join("analyze-0"));
    let (raised, cleared) = raised_and_cleared(&check.events);
    assert!(raised.len() >= 15, "{} alerts", raised.len());
    assert_eq!(raised, cleared);
}

#[test]
fn sigkill_during_monitor_keeps_the_appended_log_whole() {
    let s = setup();
    let mut killed = 0;
    for ms in KILL_AFTER_MS {
        let args = on_demo_site(
            &["monitor", "--fast"],
            "profiles",
            "monitor",
            &["busy.sigmf-meta"],
        );
        killed += kill_after(s.path(), &args, Duration::from_millis(ms)) as usize;
        let check = check_outputs(&s.path().join("monitor"));
        assert!(check.torn_tail.is_none(), "torn line {:?}", check.torn_tail);
    }
    assert!(
        killed >= 2,
        "only {killed} runs were killed before they ended"
    );
    // Simulate the worst case the kernel does not give us with SIGKILL (one
    // write per line): a line torn by a power cut. The next run repairs it.
    let log = s.path().join("monitor/alerts.jsonl");
    let before = check_outputs(&s.path().join("monitor")).events;
    // What the killed runs left open, plus one whole line of an alert a
    // killed run raised (so the case is there whatever the kill timings).
    let (raised, cleared) = raised_and_cleared(&before);
    let mut left_open: Vec<String> = raised
        .into_iter()
        .filter(|id| !cleared.contains(id))
        .collect();
    let mut orphan = before
        .iter()
        .find(|e| e["event"] == "raised")
        .expect("an alert")
        .clone();
    orphan["id"] = "demo-orphan".into();
    left_open.push("demo-orphan".into());
    let mut bytes = std::fs::read(&log).unwrap();
    bytes.extend_from_slice(format!("{orphan}\n").as_bytes());
    bytes.extend_from_slice(br#"{"id":"demo-torn","event":"rai"#);
    std::fs::write(&log, bytes).unwrap();
    let out = rfsentry_ok(
        s.path(),
        &on_demo_site(
            &["monitor", "--fast"],
            "profiles",
            "monitor",
            &["busy.sigmf-meta"],
        ),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("removing an incomplete last line"),
        "{stderr}"
    );
    let check = check_outputs(&s.path().join("monitor"));
    assert!(check.torn_tail.is_none());
    assert!(check.events.len() > before.len());
    // The new run cleared every alert the killed ones left open, marked so.
    assert!(
        stderr.contains("alert(s) an earlier run left open"),
        "{stderr}"
    );
    for id in &left_open {
        let last = check
            .events
            .iter()
            .rev()
            .find(|e| e["id"] == id.as_str())
            .unwrap();
        assert_eq!(last["event"], "cleared", "{id} left open");
        assert_eq!(last["details"]["closed_at_restart"], true, "{id}");
    }
    // Runs started within the same second share an id prefix: their alerts
    // still have distinct ids.
    let (mut raised, _) = raised_and_cleared(&check.events);
    let n = raised.len();
    raised.sort();
    raised.dedup();
    assert_eq!(
        raised.len(),
        n,
        "an alert id was reused in the appended log"
    );
    println!(
        "monitor: {} runs killed, {} events in the shared log, {} alert(s) closed at restart",
        killed,
        check.events.len(),
        left_open.len()
    );
}

#[test]
fn sigkill_during_learn_leaves_the_old_profile_or_a_whole_new_one() {
    let s = setup();
    let dir = s.work_dir("learn-kill");
    let rec = s.recording();
    for ms in KILL_AFTER_MS {
        kill_after(
            &dir,
            &[
                "learn",
                "--site",
                "k",
                "--profile-dir",
                "p",
                rec.to_str().unwrap(),
            ],
            Duration::from_millis(ms),
        );
        check_outputs(&dir);
        if dir.join("p/k.toml").exists() {
            // Loadable by rfsentry itself, not only TOML.
            rfsentry_ok(
                &dir,
                &[
                    "analyze",
                    "--site",
                    "k",
                    "--profile-dir",
                    "p",
                    "--out",
                    "o",
                    rec.to_str().unwrap(),
                ],
            );
        }
    }
}

#[test]
fn sigterm_during_monitor_clears_every_alert_and_prints_the_summary() {
    let s = setup();
    // Real time: the 60 s recording is stopped after a few seconds, while
    // an alert is open (events run 1.5–2.5 s, 4.5–5.5 s, …).
    for (i, after_s) in [2.0f64, 5.2].into_iter().enumerate() {
        let out_dir = format!("term-{i}");
        let child = spawn_captured(
            s.path(),
            &on_demo_site(&["monitor"], "profiles", &out_dir, &["busy.sigmf-meta"]),
        );
        std::thread::sleep(Duration::from_secs_f64(after_s));
        assert!(sigterm(&child));
        let started = Instant::now();
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(started.elapsed() < Duration::from_secs(5), "slow to stop");
        assert!(
            stdout.contains("samples in") && stdout.contains("alert(s)"),
            "{stdout}"
        );
        let check = check_outputs(&s.path().join(&out_dir));
        let (raised, cleared) = raised_and_cleared(&check.events);
        assert!(!raised.is_empty(), "no alert within {after_s} s: {stderr}");
        assert_eq!(raised, cleared, "an alert left open after SIGTERM");
        println!(
            "SIGTERM after {after_s} s: {} raised, all cleared",
            raised.len()
        );
    }
}

/// `n` recordings with the same samples as `rec` (hard links, `NAME-i.sigmf-*`
/// beside it): `analyze` refuses one recording given twice.
fn copies_of(rec: &Path, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let meta = rec.with_file_name(format!("copy{n}-{i}.sigmf-meta"));
            for (from, to) in [
                (rec.to_path_buf(), meta.clone()),
                (
                    rec.with_extension("sigmf-data"),
                    meta.with_extension("sigmf-data"),
                ),
            ] {
                if !to.exists() {
                    std::fs::hard_link(from, &to).unwrap();
                }
            }
            meta.to_str().unwrap().to_string()
        })
        .collect()
}

/// Nothing skipped: every recording given to `analyze` and `learn` is read
/// in full. (A pipeline winding down used to set the process-wide stop
/// flag, so every recording after the first was silently skipped.)
#[test]
fn every_recording_of_several_is_analysed_and_learned() {
    let s = setup();
    let dir = s.work_dir("several");
    let rec = s.recording();
    let three = copies_of(&rec, 3);
    let three: Vec<&str> = three.iter().map(String::as_str).collect();
    let rec = rec.to_str().unwrap();
    let profiles = s.path().join("profiles");
    let out = rfsentry_ok(
        &dir,
        &on_demo_site(&["analyze"], profiles.to_str().unwrap(), "o", &three),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let full: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains(": 15000000 samples in"))
        .collect();
    assert_eq!(full.len(), 3, "{stdout}");
    let (raised, cleared) = raised_and_cleared(&check_outputs(&dir.join("o")).events);
    assert_eq!(raised, cleared);
    let mut unique = raised.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), raised.len(), "ids continue across recordings");

    let frames = |n: usize| {
        let mut args = vec!["learn", "--replace", "--site", "x", "--profile-dir", "p"];
        args.extend(std::iter::repeat(rec).take(n));
        rfsentry_ok(&dir, &args);
        let t: toml::Table =
            toml::from_str(&std::fs::read_to_string(dir.join("p/x.toml")).unwrap()).unwrap();
        t["segments"][0]["frames"].as_integer().unwrap()
    };
    assert_eq!(frames(2), 2 * frames(1));
}

/// Offline work stopped early must not look like success: `analyze` exits
/// non-zero saying where it stopped (its log whole), and `learn` from
/// recordings writes no profile learned from a part of them.
#[test]
fn sigterm_during_analyze_or_learn_is_not_a_partial_success() {
    let s = setup();
    // Ten copies of the recording: a few seconds of work, stopped after 0.5 s.
    let recs = copies_of(&s.recording(), 10);
    let recs: Vec<&str> = recs.iter().map(String::as_str).collect();
    for (name, args) in [
        (
            "analyze",
            on_demo_site(&["analyze"], "profiles", "term-analyze", &[]),
        ),
        (
            "learn",
            vec!["learn", "--site", "fresh", "--profile-dir", "term-learn"],
        ),
    ] {
        let mut all = args.clone();
        all.extend(&recs);
        let child = spawn_captured(s.path(), &all);
        std::thread::sleep(Duration::from_millis(500));
        sigterm(&child);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            // The machine was fast enough to finish first: nothing to check.
            println!("{name} finished before SIGTERM");
            continue;
        }
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(stderr.contains("interrupted"), "{name}: {stderr}");
        match name {
            "analyze" => {
                let check = check_outputs(&s.path().join("term-analyze"));
                assert!(check.torn_tail.is_none());
                println!(
                    "analyze interrupted: {} events kept; {stderr}",
                    check.events.len()
                );
            }
            _ => {
                assert!(stderr.contains("was not written"), "{stderr}");
                assert!(!s.path().join("term-learn/fresh.toml").exists());
                println!("learn interrupted: {stderr}");
            }
        }
    }
}

/// Alerts echoed on the terminal by `monitor`: (event, id).
fn echoed(stderr: &str) -> Vec<(String, String)> {
    stderr
        .lines()
        .filter_map(|l| {
            let l = l.trim_start_matches('\r').trim_start_matches("\x1b[K");
            let mut words = l.split_whitespace();
            let event = words.next()?;
            if event != "raised" && event != "cleared" {
                return None;
            }
            let _kind = words.next()?;
            Some((event.to_string(), words.next()?.to_string()))
        })
        .collect()
}

#[test]
fn unwritable_output_is_reported_and_monitoring_goes_on() {
    let s = setup();
    let dir = s.work_dir("unwritable");
    // Tests may run as root, where permission bits do not bite: make the
    // output impossible by construction instead.
    std::fs::write(dir.join("a-file"), "not a directory").unwrap();
    let rec = s.recording();
    let rec = rec.to_str().unwrap();
    let profiles = s.path().join("profiles");
    let profiles = profiles.to_str().unwrap();
    // Run `command` on the recording against the demo profile, in `dir`,
    // writing to `out`.
    let run = |command: &[&str], out: &str| {
        rfsentry_output(&dir, &on_demo_site(command, profiles, out, &[rec]))
    };

    // The output directory's parent is a regular file.
    let TextOutput {
        code,
        stdout,
        stderr,
    } = run(&["analyze"], "a-file/out");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("a-file/out") && stderr.contains("Not a directory"),
        "{stderr}"
    );
    assert!(stderr.contains("could not be written"), "{stderr}");
    assert!(!stderr.contains("panicked"));
    assert!(
        stdout.contains("alert(s)") && stdout.contains("jamming.tone"),
        "analysis went on: {stdout}"
    );

    let TextOutput { code, stderr, .. } = run(&["monitor", "--fast"], "a-file/out");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("Not a directory"), "{stderr}");
    let alerts = echoed(&stderr);
    assert!(alerts.len() >= 30, "alerts reach the terminal: {stderr}");

    // alerts.jsonl is a directory.
    std::fs::create_dir_all(dir.join("dir-log/alerts.jsonl")).unwrap();
    let TextOutput { code, stderr, .. } = run(&["analyze"], "dir-log");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("dir-log/alerts.jsonl"), "{stderr}");

    // A full disk: the log is /dev/full (ENOSPC on every write).
    if Path::new("/dev/full").exists() {
        std::fs::create_dir_all(dir.join("full")).unwrap();
        std::os::unix::fs::symlink("/dev/full", dir.join("full/alerts.jsonl")).unwrap();
        let TextOutput {
            code,
            stdout,
            stderr,
        } = run(&["monitor", "--fast"], "full");
        assert_eq!(code, Some(1), "{stderr}");
        assert!(
            stderr.contains("full/alerts.jsonl: No space left on device"),
            "{stderr}"
        );
        let failed_at = stderr.find("No space left").unwrap();
        let after = echoed(&stderr[failed_at..]);
        assert!(
            after.len() >= 30,
            "monitoring went on after the disk filled: {stderr}"
        );
        let (raised, cleared): (Vec<_>, Vec<_>) = echoed(&stderr)
            .into_iter()
            .partition(|(e, _)| e == "raised");
        assert_eq!(raised.len(), cleared.len());
        assert!(
            stdout.contains(&format!("{} alert(s)", raised.len())),
            "{stdout}"
        );
        // The events the log never took end the run on stderr as JSON lines.
        // (The chain of custody's own records held with them are printed too.)
        let held: Vec<serde_json::Value> = stderr
            .lines()
            .skip_while(|l| !l.contains("here they are, one JSON line each"))
            .filter_map(|l| serde_json::from_str(l).ok())
            .filter(|e| !cli::is_custody_record(e))
            .collect();
        assert_eq!(held.len(), 2 * raised.len(), "{stderr}");
        assert!(held
            .iter()
            .all(|e| e["id"].is_string() && e["event"].is_string()));
    }
}

/// Every alert event of the log at `path`, parsed (the chain's lines left out).
fn log_events(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|e: &serde_json::Value| {
            matches!(e["event"].as_str(), Some("raised" | "updated" | "cleared"))
        })
        .collect()
}

/// The record is sacred: while a `monitor` writes into an output directory,
/// a second `monitor` and an `analyze` are refused with the holder's pid,
/// and clear none of its alerts; afterwards `analyze` moves the monitor's
/// run aside whole instead of truncating it, and ids never repeat across
/// runs. A SIGKILLed run leaves no stuck lock.
#[test]
fn one_writer_per_output_and_no_run_wipes_another() {
    let s = setup();
    let dir = s.work_dir("one-writer");
    let rec = s.recording();
    let rec = rec.to_str().unwrap();
    let profiles = s.path().join("profiles");
    let profiles = profiles.to_str().unwrap();
    // Real time: it runs long enough to be in the way.
    let first = spawn_captured(
        &dir,
        &on_demo_site(
            &["monitor", "--duration", "20s"],
            profiles,
            "shared",
            &[rec],
        ),
    );
    let lock = dir.join("shared/.rfsentry.lock");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&lock).is_ok_and(|t| t.contains("command")) {
        assert!(Instant::now() < deadline, "the monitor never took its lock");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Wait for a raised alert: the second run must find one open.
    let log = dir.join("shared/alerts.jsonl");
    while !std::fs::read_to_string(&log).is_ok_and(|t| t.contains("\"raised\"")) {
        assert!(Instant::now() < deadline, "the monitor raised nothing");
        std::thread::sleep(Duration::from_millis(20));
    }
    for command in [&["monitor", "--fast"][..], &["analyze"][..]] {
        let out = rfsentry_output(&dir, &on_demo_site(command, profiles, "shared", &[rec]));
        assert_eq!(out.code, Some(1), "{command:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("in use by another rfsentry run")
                && out.stderr.contains(&format!("pid {}", first.id()))
                && out.stderr.contains("monitor --duration 20s"),
            "{command:?}: {}",
            out.stderr
        );
    }
    sigterm(&first);
    let out = first.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!lock.exists(), "the lock file goes with its run");
    let monitor_log = std::fs::read_to_string(dir.join("shared/alerts.jsonl")).unwrap();
    assert!(monitor_log.lines().count() >= 2, "{monitor_log}");
    assert!(
        !monitor_log.contains("closed_at_restart"),
        "nobody cleared the running monitor's alerts: {monitor_log}"
    );

    // analyze twice into the same directory: each earlier run moves aside.
    for _ in 0..2 {
        rfsentry_ok(
            &dir,
            &on_demo_site(&["analyze"], profiles, "shared", &[rec]),
        );
    }
    let mut runs: Vec<PathBuf> = std::fs::read_dir(dir.join("shared/runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    runs.sort();
    assert_eq!(runs.len(), 2, "{runs:?}");
    let archived: Vec<String> = runs
        .iter()
        .map(|r| std::fs::read_to_string(r.join("alerts.jsonl")).unwrap())
        .collect();
    assert!(
        archived.contains(&monitor_log),
        "the monitor's log is kept byte for byte"
    );
    // Evidence named by archived logs is still where they say.
    for run in &runs {
        for e in log_events(&run.join("alerts.jsonl")) {
            if e["event"] != "cleared" {
                continue;
            }
            for key in ["iq", "spectrogram"] {
                if let Some(rel) = e["evidence"][key].as_str() {
                    assert!(run.join(rel).is_file(), "{} names {rel}", run.display());
                }
            }
        }
    }
    let mut raised = std::collections::BTreeSet::new();
    for log in runs
        .iter()
        .map(|r| r.join("alerts.jsonl"))
        .chain([dir.join("shared/alerts.jsonl")])
    {
        for e in log_events(&log).iter().filter(|e| e["event"] == "raised") {
            let id = e["id"].as_str().unwrap().to_string();
            assert!(raised.insert(id.clone()), "id {id} used by two runs");
        }
    }
    check_outputs(&dir.join("shared"));

    // A SIGKILLed run leaves no stuck lock.
    assert!(kill_after(
        &dir,
        &on_demo_site(&["monitor"], profiles, "killed", &[rec]),
        Duration::from_millis(700)
    ));
    rfsentry_ok(
        &dir,
        &on_demo_site(
            &["monitor", "--fast", "--no-evidence"],
            profiles,
            "killed",
            &[rec],
        ),
    );
}

/// A run given a FIFO nobody writes to never hangs: it is refused at once
/// (opening it would block), and SIGTERM would end it within a second —
/// a raw FIFO, a SigMF pair whose data file is a FIFO, and a WAV FIFO.
#[test]
fn a_fifo_recording_never_hangs_the_run() {
    let s = setup();
    let dir = s.work_dir("fifo");
    let mkfifo = |name: &str| {
        let c = std::ffi::CString::new(dir.join(name).to_str().unwrap()).unwrap();
        // SAFETY: mkfifo on a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    };
    mkfifo("ff.cu8");
    mkfifo("ff.wav");
    mkfifo("pair.sigmf-data");
    std::fs::copy(
        s.recording().with_extension("sigmf-meta"),
        dir.join("pair.sigmf-meta"),
    )
    .unwrap();
    let profiles = s.path().join("profiles");
    for (command, rec) in [
        ("analyze", "ff.cu8"),
        ("monitor", "ff.cu8"),
        ("analyze", "pair.sigmf-meta"),
        ("monitor", "pair.sigmf-meta"),
        ("analyze", "ff.wav"),
    ] {
        let out = format!("{command}-{}", rec.replace('.', "-"));
        let args = on_demo_site(
            &[command, "--rate", "250k", "--freq", "433.92M"],
            profiles.to_str().unwrap(),
            &out,
            &[rec],
        );
        let mut child = spawn_captured(&dir, &args);
        std::thread::sleep(Duration::from_millis(700));
        if child.try_wait().unwrap().is_none() {
            sigterm(&child);
        }
        let t = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if t.elapsed() > Duration::from_secs(1) {
                child.kill().unwrap();
                panic!("{command} {rec}: SIGTERM ignored while opening a FIFO");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        assert!(!status.success(), "{command} {rec}: stopped is not success");
        let mut stderr = String::new();
        if let Some(mut e) = child.stderr.take() {
            use std::io::Read;
            let _ = e.read_to_string(&mut stderr);
        }
        assert!(
            stderr.contains("a regular file of samples") && stderr.contains("FIFO"),
            "{command} {rec}: not refused as a FIFO:\n{stderr}"
        );
    }
}

/// A full disk for evidence (a file size limit: writes past 256 KiB fail
/// with EFBIG, as on a full disk) and a log that cannot be written at all:
/// no `.part` file is left, a cleared alert names only evidence that
/// exists and says why the rest was dropped, and while the log fails no
/// evidence takes the space it needs.
#[test]
fn a_full_disk_leaves_no_debris_and_names_no_missing_evidence() {
    use std::os::unix::process::CommandExt;
    let s = setup();
    let dir = s.work_dir("disk-full");
    let rec = s.recording();
    let profiles = s.path().join("profiles");
    let args = on_demo_site(
        &["analyze"],
        profiles.to_str().unwrap(),
        "small",
        &[rec.to_str().unwrap()],
    );
    let mut command = rfsentry(&dir, &args);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit {
                rlim_cur: 256 << 10,
                rlim_max: 256 << 10,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &limit);
            Ok(())
        });
    }
    let out = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let check = check_outputs(&dir.join("small"));
    assert!(check.parts.is_empty(), "debris: {:?}", check.parts);
    let cleared: Vec<&serde_json::Value> = check
        .events
        .iter()
        .filter(|e| e["event"] == "cleared")
        .collect();
    assert!(!cleared.is_empty());
    let mut dropped = 0;
    for e in &cleared {
        match e["evidence"]["iq"].as_str() {
            Some(rel) => assert!(dir.join("small").join(rel).is_file(), "{e}"),
            None => {
                assert!(e["details"]["iq_evidence_dropped"].is_string(), "{e}");
                dropped += 1;
            }
        }
    }
    assert!(dropped > 0, "the limit dropped some evidence: {stderr}");

    // The log on a full disk (/dev/full): evidence gives way to it.
    if Path::new("/dev/full").exists() {
        let full = dir.join("full");
        std::fs::create_dir_all(&full).unwrap();
        std::os::unix::fs::symlink("/dev/full", full.join("alerts.jsonl")).unwrap();
        let out = rfsentry_output(
            &dir,
            &on_demo_site(
                &["monitor", "--fast"],
                profiles.to_str().unwrap(),
                "full",
                &[rec.to_str().unwrap()],
            ),
        );
        assert_eq!(out.code, Some(1), "{}", out.stderr);
        let snippets = std::fs::read_dir(full.join("iq"))
            .map(|d| d.count())
            .unwrap_or(0);
        assert_eq!(
            snippets, 0,
            "IQ evidence written while the log could not be"
        );
        let held: Vec<serde_json::Value> = out
            .stderr
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .filter(|e| !cli::is_custody_record(e))
            .collect();
        assert!(!held.is_empty(), "{}", out.stderr);
        assert!(held
            .iter()
            .all(|e| e["evidence"]["iq"].is_null()
                && e["details"]["iq_evidence_dropped"].is_string()));
    }
}
