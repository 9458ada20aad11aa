//! The crate's error type: every failure names the file, setting, device or
//! thread it concerns and what was expected, so the command line can print
//! it and exit non-zero, and a caller can tell one failure from another by
//! its variant rather than by parsing a message.

use std::path::{Path, PathBuf};

/// Everything that can go wrong in rfsentry.
///
/// Each variant says *what* failed and carries the pieces (the setting's
/// name and value, the device, the thread, the files) as fields; the text
/// a user reads is assembled from them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O operation on a named file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file's content is not what was expected: `field` names the part of it.
    #[error("{}: {field}: {expected}", path.display())]
    Format {
        path: PathBuf,
        field: String,
        expected: String,
    },
    /// A setting — a command-line flag (`--rate`), a profile or device field
    /// (`device.ppm`), a PSD parameter — has a value it may not have.
    /// `value` is empty when the setting's mere presence is the problem.
    #[error("{}", setting_text(name, value, expected))]
    Setting {
        name: String,
        value: String,
        expected: String,
    },
    /// A command (or part of one, `by`) lacks an input or setting it needs.
    #[error("{by} needs {what}")]
    Missing { by: String, what: String },
    /// Two inputs or settings that cannot be used together.
    #[error("{command} takes either {first} or {second}, not both")]
    Conflict {
        command: String,
        first: String,
        second: String,
    },
    /// The same recording given twice (by two spellings of its path, or
    /// both files of a SigMF pair).
    #[error("{} and {} are the same recording ({}): give each recording once (it would be analysed twice, its alerts logged twice)", first.display(), second.display(), resolved.display())]
    Duplicate {
        first: PathBuf,
        second: PathBuf,
        resolved: PathBuf,
    },
    /// A recording (or source) does not fit what it is checked against:
    /// its `property` is `found`, which does not match `against` (a
    /// profile, or the first recording of a run).
    #[error("{subject}: {property} {found} does not match {against}")]
    Mismatch {
        subject: String,
        property: String,
        found: String,
        against: String,
    },
    /// A merge into a profile learned with other capture settings.
    #[error("cannot merge into profile {profile:?}: it was learned with different capture settings ({}); learn into a new site name instead", differences.join(", "))]
    MergeCapture {
        profile: String,
        differences: Vec<String>,
    },
    /// A merge that would add tunings to a profile without `--add-tuning`.
    #[error("cannot merge {} into profile {profile:?}, learned at {}: it would add a tuning, which makes the profile a scan plan (monitor --device retunes between its tunings). Learn it as a site of its own (--site {profile}-{:.0}), replace the profile (--replace), or add the tuning on purpose with --add-tuning (each tuning then gets --dwell seconds, default 1)", tunings_text(adding), mhz_list(learned_at_hz), first_mhz(adding))]
    MergeTuning {
        profile: String,
        /// The sources and centre frequencies (Hz) that would be added.
        adding: Vec<(String, f64)>,
        /// The profile's tunings, Hz.
        learned_at_hz: Vec<f64>,
    },
    /// Too few samples for one spectrum frame.
    #[error("{}: no complete spectrum frame: expected at least one integration time ({integration_s} s, {} samples) of samples", sources.join(", "), (integration_s * sample_rate).ceil())]
    TooShort {
        sources: Vec<String>,
        integration_s: f64,
        sample_rate: f64,
    },
    /// A pipeline or helper thread (`stage`) could not start or panicked.
    #[error("{}", stage_text(stage, cause))]
    Stage { stage: String, cause: StageFailure },
    /// A receiver (SoapySDR device) failed while doing `action`.
    #[error("device: {device}: {action}: {message}")]
    Device {
        device: String,
        action: String,
        message: String,
    },
    /// A receiver lacks what a setting asks of it: `setting` `value` (a
    /// channel, antenna, frequency or gain) is outside what it has.
    #[error("{device}: {setting} {value} is outside what the device has: {available}{}", advice.as_deref().map(|a| format!(" ({a})")).unwrap_or_default())]
    Unavailable {
        device: String,
        setting: String,
        value: String,
        available: String,
        advice: Option<String>,
    },
    /// A live receiver asked of an rfsentry built without SoapySDR.
    #[error("{needed_by} needs rfsentry built with SoapySDR support: cargo build --release --features soapy (after apt-get install libsoapysdr-dev)")]
    NoSoapy { needed_by: String },
    /// The output directory is locked by another run (`holder` describes it).
    #[error("{} is in use by another rfsentry run ({holder}); two runs on one output directory would corrupt each other's alert log and evidence: wait for it to end, stop it, or pass another --out", dir.display())]
    Busy { dir: PathBuf, holder: String },
    /// The output directory's lock file was replaced on every attempt.
    #[error("{}: cannot lock the output directory: its lock file keeps being replaced", dir.display())]
    LockReplaced { dir: PathBuf },
    /// An earlier run's output could not be moved aside.
    #[error("cannot move the earlier run's {} to {} (this run would otherwise overwrite it): {source}", from.display(), to.display())]
    Archive {
        from: PathBuf,
        to: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An entry handed to the alert log's writer is not a valid log line.
    #[error("an alert-log line {problem}")]
    LogLine { problem: String },
    /// The alert log could not be written (the alerts reached the terminal).
    #[error("the alert log {} could not be written (see the error above); alerts were printed to the terminal only", log.display())]
    LogNotWritten { log: PathBuf },
    /// The run's HTML report could not be written.
    #[error("the report could not be written: {source}")]
    Report {
        #[source]
        source: Box<Error>,
    },
    /// A seek past the end of a recording.
    #[error("{}: cannot seek to sample {sample}: the recording has {total} samples", path.display())]
    Seek {
        path: PathBuf,
        sample: u64,
        total: u64,
    },
    /// Something (`what`: a profile, a key) could not be encoded.
    #[error("cannot encode {what}: {message}")]
    Encode { what: String, message: String },
    /// The operating system's random source failed.
    #[error("cannot draw a random key from the operating system: {message}")]
    Random { message: String },
    /// A stop was requested while `what` was about to be opened.
    #[error("stopped before opening {what}")]
    StoppedOpening { what: String },
    /// A run (`work`: learning, analysis) was stopped before its end; `at`
    /// says where, `consequence` what was kept.
    #[error("{work} interrupted {at}: {consequence}")]
    Interrupted {
        work: String,
        at: String,
        consequence: String,
    },
    /// A scored alert log is below the quality bar.
    #[error("{}: below the bar: {}", log.display(), short.join("; "))]
    BelowBar { log: PathBuf, short: Vec<String> },
    /// A run finished but some of its output failed: each is said.
    #[error("{}", join(.0))]
    Failures(Vec<Error>),
}

/// How a thread failed: it could not be started, or it panicked.
#[derive(Debug)]
#[non_exhaustive]
pub enum StageFailure {
    /// The operating system refused the thread.
    Spawn(std::io::Error),
    /// The thread panicked.
    Panicked,
}

fn setting_text(name: &str, value: &str, expected: &str) -> String {
    if value.is_empty() {
        format!("{name}: {expected}")
    } else {
        format!("{name} {value}: expected {expected}")
    }
}

fn stage_text(stage: &str, cause: &StageFailure) -> String {
    match cause {
        StageFailure::Spawn(e) => format!("cannot start the {stage} thread: {e}"),
        StageFailure::Panicked => format!("the {stage} thread panicked"),
    }
}

fn mhz_list(hz: &[f64]) -> String {
    hz.iter()
        .map(|f| format!("{:.6} MHz", f / 1e6))
        .collect::<Vec<_>>()
        .join(", ")
}

fn tunings_text(adding: &[(String, f64)]) -> String {
    adding
        .iter()
        .map(|(name, f)| format!("{name} at {:.6} MHz", f / 1e6))
        .collect::<Vec<_>>()
        .join(", ")
}

fn first_mhz(adding: &[(String, f64)]) -> f64 {
    adding.first().map_or(0.0, |(_, f)| f / 1e6)
}

fn join(errors: &[Error]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Shorthand for results carrying [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// A format error: `field` of `path` is not `expected`.
    pub fn format(
        path: impl AsRef<Path>,
        field: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        Error::Format {
            path: path.as_ref().to_path_buf(),
            field: field.into(),
            expected: expected.into(),
        }
    }

    /// Setting `name` has `value`, where `expected` was wanted (`value`
    /// empty: the setting should not be there at all, or has no one value).
    pub fn setting(
        name: impl Into<String>,
        value: impl ToString,
        expected: impl Into<String>,
    ) -> Self {
        Error::Setting {
            name: name.into(),
            value: value.to_string(),
            expected: expected.into(),
        }
    }

    /// `by` needs `what` (an input or a setting it was not given).
    pub fn missing(by: impl Into<String>, what: impl Into<String>) -> Self {
        Error::Missing {
            by: by.into(),
            what: what.into(),
        }
    }

    /// The thread `stage` could not be started.
    pub fn spawn(stage: impl Into<String>, source: std::io::Error) -> Self {
        Error::Stage {
            stage: stage.into(),
            cause: StageFailure::Spawn(source),
        }
    }

    /// The thread `stage` panicked.
    pub fn panicked(stage: impl Into<String>) -> Self {
        Error::Stage {
            stage: stage.into(),
            cause: StageFailure::Panicked,
        }
    }

    /// Device `device` failed at `action`.
    pub fn device(
        device: impl Into<String>,
        action: impl Into<String>,
        message: impl ToString,
    ) -> Self {
        Error::Device {
            device: device.into(),
            action: action.into(),
            message: message.to_string(),
        }
    }
}
