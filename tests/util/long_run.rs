//! Shared by the crash-safety and soak tests: a long scenario on the demo
//! site with events sprinkled in, a learned baseline for it, and helpers to
//! run the real binary and check what it left on disk. The bad-input tests
//! use it to run the binary too.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_rfsentry");

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The rfsentry binary, ready to run `args` in `dir` without the caller's
/// `RUST_LOG` (so that its stderr is what a user would see).
pub fn rfsentry<S: AsRef<OsStr>>(dir: &Path, args: &[S]) -> Command {
    let mut command = Command::new(BIN);
    command.args(args).current_dir(dir).env_remove("RUST_LOG");
    command
}

/// What a finished run printed, as text, and its exit code.
pub struct TextOutput {
    /// None when a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Run rfsentry in `dir` to its end, whatever its exit status.
pub fn rfsentry_output<S: AsRef<OsStr>>(dir: &Path, args: &[S]) -> TextOutput {
    let out = rfsentry(dir, args).output().expect("run rfsentry");
    TextOutput {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Run rfsentry in `dir`; panics (with stderr) unless it exits 0.
pub fn rfsentry_ok(dir: &Path, args: &[&str]) -> Output {
    let out = rfsentry(dir, args).output().expect("run rfsentry");
    assert!(
        out.status.success(),
        "rfsentry {args:?} failed ({:?}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Events cycled through the scenario: a tone jammer, a rogue FSK
/// transmitter, a barrage jammer over most of the band, and a second tone.
/// Narrow ones avoid the demo site's known emitters (-80, -40 ± 20, +50 kHz).
pub const EVENT_KINDS: [&str; 4] = [
    "kind = \"jamming.tone\"\noffset_hz = 20e3\nlevel_db = 22",
    "kind = \"emitter.unknown\"\nmodulation = \"fsk\"\noffset_hz = 95e3\nbandwidth_hz = 12.5e3\nlevel_db = 18",
    "kind = \"jamming.barrage\"\nlow_offset_hz = -110e3\nhigh_offset_hz = 110e3\nlevel_db = 10",
    "kind = \"jamming.tone\"\noffset_hz = -100e3\nlevel_db = 25",
];

/// A scenario on the demo site (`recordings/demo-site.toml`) lasting
/// `duration_s`, with one event of `event_s` every `every_s` seconds
/// (the first after `every_s / 2`), written to `dir/NAME.toml`.
pub fn write_scenario(
    dir: &Path,
    name: &str,
    duration_s: f64,
    every_s: f64,
    event_s: f64,
    seed: u64,
) -> PathBuf {
    let mut text = format!(
        "base = {:?}\ndescription = \"rfsentry long run: an event every {every_s} s\"\nseed = {seed}\nduration_s = {duration_s}\n",
        repo().join("recordings/demo-site.toml").display().to_string()
    );
    let mut start = every_s / 2.0;
    let mut n = 0;
    while start + event_s < duration_s - 1.0 {
        text.push_str(&format!(
            "\n[[events]]\nstart_s = {start}\nduration_s = {event_s}\n{}\n",
            EVENT_KINDS[n % EVENT_KINDS.len()]
        ));
        start += every_s;
        n += 1;
    }
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Synthesise `scenario` to `dir/NAME.sigmf-meta` (ci8); returns the metadata path.
pub fn synth(dir: &Path, scenario: &Path, name: &str) -> PathBuf {
    let out = format!("{name}.sigmf-meta");
    rfsentry_ok(
        dir,
        &[
            "synth",
            scenario.to_str().unwrap(),
            "-o",
            &out,
            "--datatype",
            "ci8",
        ],
    );
    dir.join(out)
}

/// Learn site `demo` in `dir/profiles` from a fresh normal-day recording of
/// `seconds` (seed 11).
pub fn learn_demo(dir: &Path, seconds: f64) {
    let scenario = write_scenario(dir, "normal", seconds, 1e9, 1.0, 11);
    let rec = synth(dir, &scenario, "normal");
    rfsentry_ok(
        dir,
        &[
            "learn",
            "--site",
            "demo",
            "--profile-dir",
            "profiles",
            rec.to_str().unwrap(),
        ],
    );
}

/// `COMMAND --site demo --profile-dir PROFILE_DIR --out OUT RECORDINGS…`:
/// the arguments that run `command` (`analyze`, `monitor`, `monitor --fast`)
/// against the demo site's baseline (see [`learn_demo`]).
pub fn on_demo_site<'a>(
    command: &[&'a str],
    profile_dir: &'a str,
    out: &'a str,
    recordings: &[&'a str],
) -> Vec<&'a str> {
    let mut args = command.to_vec();
    args.extend(["--site", "demo", "--profile-dir", profile_dir, "--out", out]);
    args.extend(recordings);
    args
}

/// What a check of an output directory found.
#[derive(Debug, Default)]
pub struct OutputCheck {
    /// Complete alert-event lines of alerts.jsonl, parsed.
    pub events: Vec<serde_json::Value>,
    /// A last line without its newline (allowed only after a crash).
    pub torn_tail: Option<String>,
    /// Evidence files checked whole: (path, kind).
    pub files: Vec<(PathBuf, &'static str)>,
    /// Files still under a temporary `.part` name.
    pub parts: Vec<PathBuf>,
}

/// Check everything under `out`: every complete line of every `.jsonl` is a
/// JSON object with `id`, `event` and `kind` (or a sealed `custody.*` record); no file under its final name is
/// half written (`.sigmf-meta` parse and their data match size and sha512,
/// `.png` decode, `.html` end with `</html>`, `.toml` parse). `.part` files
/// are temporaries and ignored. Panics with the problem found.
pub fn check_outputs(out: &Path) -> OutputCheck {
    let mut check = OutputCheck::default();
    if !out.exists() {
        return check;
    }
    let mut stack = vec![out.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".part") {
                check.parts.push(path);
                continue;
            }
            let ext = path.extension().map(|e| e.to_string_lossy().into_owned());
            match ext.as_deref() {
                Some("jsonl") => check_log(&path, &mut check),
                Some("sigmf-meta") => {
                    check_sigmf(&path);
                    check.files.push((path, "sigmf"));
                }
                Some("png") => {
                    check_png(&path);
                    check.files.push((path, "png"));
                }
                Some("html") => {
                    let text = std::fs::read_to_string(&path).unwrap();
                    assert!(
                        text.trim_end().ends_with("</html>"),
                        "{} is cut short",
                        path.display()
                    );
                    check.files.push((path, "html"));
                }
                Some("toml") => {
                    let text = std::fs::read_to_string(&path).unwrap();
                    toml::from_str::<toml::Table>(&text)
                        .unwrap_or_else(|e| panic!("{} is not TOML: {e}", path.display()));
                    check.files.push((path, "toml"));
                }
                _ => {}
            }
        }
    }
    check
}

fn check_log(path: &Path, check: &mut OutputCheck) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<&str> = text.split('\n').collect();
    let tail = lines.pop().unwrap_or("");
    if !tail.is_empty() {
        check.torn_tail = Some(tail.to_string());
    }
    for (n, line) in lines.iter().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| {
            panic!(
                "{} line {}: not JSON ({e}): {line:?}",
                path.display(),
                n + 1
            )
        });
        // The chain of custody's own lines are sealed and carry no alert.
        if v["event"]
            .as_str()
            .is_some_and(|e| e.starts_with("custody."))
        {
            assert!(
                v.get("seq").is_some() && v.get("prev").is_some(),
                "{} line {}: a custody record without chain fields: {line}",
                path.display(),
                n + 1
            );
            continue;
        }
        for key in ["id", "event", "kind", "start", "end"] {
            assert!(
                v.get(key).is_some(),
                "{} line {}: no {key}: {line}",
                path.display(),
                n + 1
            );
        }
        check.events.push(v);
    }
}

fn check_sigmf(meta_path: &Path) {
    let meta: serde_json::Value = serde_json::from_slice(&std::fs::read(meta_path).unwrap())
        .unwrap_or_else(|e| panic!("{}: not JSON: {e}", meta_path.display()));
    let data_path = meta_path.with_extension("sigmf-data");
    let data = std::fs::read(&data_path).unwrap_or_else(|e| {
        panic!(
            "{} is complete but {} is not: {e}",
            meta_path.display(),
            data_path.display()
        )
    });
    let datatype = meta["global"]["core:datatype"].as_str().unwrap();
    let sample_bytes = match datatype {
        "ci8" | "cu8" => 2,
        "ci16_le" | "ci16_be" | "cu16_le" => 4,
        "cf32_le" | "cf32_be" | "ci32_le" => 8,
        "cf64_le" => 16,
        other => panic!("{}: unexpected datatype {other}", meta_path.display()),
    };
    assert_eq!(
        data.len() % sample_bytes,
        0,
        "{}: not a whole number of samples",
        data_path.display()
    );
    if let Some(count) = meta["annotations"]
        .as_array()
        .and_then(|a| a.first())
        .and_then(|a| a["core:sample_count"].as_u64())
    {
        let start = meta["annotations"][0]["core:sample_start"]
            .as_u64()
            .unwrap_or(0);
        assert!(
            (start + count) as usize <= data.len() / sample_bytes,
            "{}: annotation runs past the data",
            meta_path.display()
        );
    }
    if let Some(sha) = meta["global"]["core:sha512"].as_str() {
        use sha2::Digest;
        let hex: String = sha2::Sha512::digest(&data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            hex,
            sha,
            "{}: sha512 does not match the data",
            data_path.display()
        );
    }
}

fn check_png(path: &Path) {
    let file = std::fs::File::open(path).unwrap();
    let mut reader = png::Decoder::new(file)
        .read_info()
        .unwrap_or_else(|e| panic!("{}: not a PNG: {e}", path.display()));
    let mut buf = vec![0; reader.output_buffer_size()];
    reader
        .next_frame(&mut buf)
        .unwrap_or_else(|e| panic!("{}: PNG cut short: {e}", path.display()));
}

/// Ids raised and ids cleared in `events`.
pub fn raised_and_cleared(events: &[serde_json::Value]) -> (Vec<String>, Vec<String>) {
    let ids = |what: &str| {
        events
            .iter()
            .filter(|e| e["event"] == what)
            .map(|e| e["id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    (ids("raised"), ids("cleared"))
}
