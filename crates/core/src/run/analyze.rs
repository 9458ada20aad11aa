//! Analysing recordings offline against a site's profile: one writer per
//! output directory (an earlier run moved aside whole), each recording run
//! through the watch (detectors, alert log, evidence) with alert numbers
//! going on from one to the next, then the report. A run interrupted by a
//! stop request, or whose log or report could not be written, ends in an
//! error that says each failure; the log holds, whole, what was found.

use super::{Host, Notice};
use crate::alert::out_dir::{archive_earlier_run, next_number_in, OutputLock};
use crate::evidence::{write_report, Report, ReportRecording};
use crate::iq::OpenOptions;
use crate::pipeline::PipelineSettings;
use crate::profile::Profile;
use crate::source::file::FileSource;
use crate::watch::{watch, SinkOptions, WatchConfig, WatchSummary};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// What `analyze` is asked to do.
#[derive(Debug, Clone)]
pub struct AnalyzeOptions {
    pub recordings: Vec<PathBuf>,
    pub open: OpenOptions,
    /// The site's profile (`PROFILE_DIR/SITE.toml`).
    pub profile_path: PathBuf,
    /// Directory for the alert log, evidence and report.
    pub out_dir: PathBuf,
    /// Write IQ snippets, pictures and the report besides the alert log.
    pub evidence: bool,
    /// The sensor key (`--key`; else the profile's `[custody]` key).
    pub key: Option<PathBuf>,
}

/// Analyse the recordings; see the module doc.
pub fn analyze(opts: &AnalyzeOptions, host: &dyn Host) -> Result<()> {
    if opts.recordings.is_empty() {
        return Err(Error::missing("analyze", "at least one RECORDING"));
    }
    refuse_duplicates(&opts.recordings)?;
    let profile = Profile::load(&opts.profile_path)?;
    let key = super::sensor_key(opts.key.as_deref(), Some((&profile, &opts.profile_path)))?;
    let out_dir = &opts.out_dir;
    // One writer per output directory; an earlier run there is moved aside
    // whole (never truncated), and numbering goes on after its ids.
    let _lock = OutputLock::acquire(out_dir)?;
    if let Some(to) = archive_earlier_run(out_dir)? {
        host.notice(Notice::Archived {
            dir: out_dir,
            to: &to,
        });
    }
    let id_prefix = format!("{}-", profile.site.name);
    let mut next_id = next_number_in(out_dir, &id_prefix);
    let mut total = WatchSummary::default();
    let mut recordings = Vec::new();
    let mut interrupted = None;
    for path in &opts.recordings {
        if host.stop_requested() {
            interrupted = Some(format!("before {}", path.display()));
            break;
        }
        let reader = host.open_recording(path, &opts.open)?;
        let mut source = FileSource::new(reader);
        if opts.evidence {
            // IQ evidence reads an alert's pre-trigger samples back from the
            // recording instead of holding the last seconds in memory.
            source = source.with_reread(host.open_recording(path, &opts.open)?);
        }
        let source = Box::new(source);
        let info = crate::source::Source::info(source.as_ref());
        // A recording that does not say when it was made (raw samples, a
        // SigMF without core:datetime, a WAV without auxi) is dated from its
        // file's modification time minus its duration, and marked as such.
        let (fallback_start, time_basis) = match info.start_time {
            Some(_) => (chrono::DateTime::UNIX_EPOCH, None),
            None => estimated_start(path, info.total_samples, info.sample_rate),
        };
        if let Some(basis) = &time_basis {
            host.notice(Notice::TimeEstimated {
                recording: &info.name,
                basis,
                start: fallback_start,
            });
        }
        let progress = host.progress(&format!("analysing {}", info.name), info.total_samples);
        let progress2 = progress.clone();
        let mut seen = 0u64;
        let config = WatchConfig {
            out_dir: out_dir.clone(),
            id_prefix: id_prefix.clone(),
            first_id: next_id,
            fallback_start,
            sink: SinkOptions {
                truncate_log: false,
                echo_alerts: false,
                evidence: opts.evidence,
                time_basis: time_basis.clone(),
                key: key.clone(),
                command: "analyze".into(),
                profile_path: Some(opts.profile_path.clone()),
                stop_reason: Some(host.stop_reason()),
                ..Default::default()
            },
            pipeline: PipelineSettings::new(profile.capture.psd),
            profile: profile.clone(),
        };
        let summary = watch(
            source,
            config,
            host.stop_flag(),
            Some(Box::new(move |s| {
                progress2.advance(s.samples - seen);
                seen = s.samples;
            })),
        )?;
        progress.finish();
        next_id = summary.next_id;
        host.notice(Notice::Analysed {
            recording: &info.name,
            summary: &summary,
        });
        recordings.push(ReportRecording {
            name: info.name.clone(),
            overview_png: summary.overview_png.clone(),
            samples: summary.samples,
            sample_rate: info.sample_rate,
            center_hz: info.tunings.first().copied().unwrap_or(0.0),
            start_time: info
                .start_time
                .or(time_basis.as_ref().map(|_| fallback_start)),
            time_basis,
        });
        total.samples += summary.samples;
        total.nonfinite_samples += summary.nonfinite_samples;
        total.elapsed_s += summary.elapsed_s;
        total.log_failed |= summary.log_failed;
        total.unlisted_alerts += summary.unlisted_alerts;
        for a in &summary.alert_list {
            total.record(a);
        }
        if host.stop_requested() && info.total_samples.is_some_and(|n| summary.samples < n) {
            interrupted = Some(format!(
                "in {} after {} of {} samples",
                info.name,
                summary.samples,
                info.total_samples.unwrap_or(0)
            ));
            break;
        }
    }
    let log = out_dir.join(crate::layout::LOG_FILE);
    host.notice(Notice::AlertLog { path: &log });
    // Output failures are reported together at the end; the analysis itself ran.
    let mut failures = Vec::new();
    if total.log_failed {
        failures.push(Error::LogNotWritten { log });
    }
    if opts.evidence {
        let report = Report {
            site: profile.site.name.clone(),
            profile: Some(opts.profile_path.display().to_string()),
            generated_by: format!("rfsentry {}", crate::VERSION),
            generated_at: None,
            recordings,
            alerts: total.alert_list.clone(),
            processing_s: Some(total.elapsed_s),
            evidence_prefix: String::new(),
        };
        match write_report(out_dir, &report) {
            Ok(path) => host.notice(Notice::Report { path: &path }),
            Err(e) => failures.push(Error::Report {
                source: Box::new(e),
            }),
        }
    }
    if let Some(at) = interrupted {
        failures.push(Error::Interrupted {
            work: "analysis".into(),
            at,
            consequence:
                "the alert log holds the alerts found up to there; the rest was not analysed"
                    .into(),
        });
    }
    match failures.len() {
        0 => Ok(()),
        1 => Err(failures.remove(0)),
        _ => Err(Error::Failures(failures)),
    }
}

/// The same recording named twice (by the same path, another spelling of
/// it, or the other file of a SigMF pair) would be analysed twice, its
/// alerts logged twice under new ids: refused before anything runs.
pub fn refuse_duplicates(paths: &[PathBuf]) -> Result<()> {
    let mut seen: Vec<(PathBuf, &PathBuf)> = Vec::new();
    for path in paths {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let (meta, _) = crate::iq::sigmf_writer::sigmf_paths(path);
        let key_path =
            if ext == "sigmf-meta" || ext == "sigmf-data" || (!path.exists() && meta.exists()) {
                meta
            } else {
                path.clone()
            };
        // A path that cannot be resolved fails to open later, with its own message.
        let Ok(key) = std::fs::canonicalize(&key_path) else {
            continue;
        };
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
            return Err(Error::Duplicate {
                first: first.to_path_buf(),
                second: path.clone(),
                resolved: key,
            });
        }
        seen.push((key, path));
    }
    Ok(())
}

/// Sample 0's time for a recording that does not carry one: its file's
/// modification time (when the recorder stopped writing) minus its
/// duration, and how that was found. Without a modification time: the Unix
/// epoch, said to be unknown.
pub fn estimated_start(
    path: &Path,
    total_samples: Option<u64>,
    sample_rate: f64,
) -> (chrono::DateTime<chrono::Utc>, Option<String>) {
    let (_, data) = crate::iq::sigmf_writer::sigmf_paths(path);
    let samples_file = if data.exists() {
        data
    } else {
        path.to_path_buf()
    };
    let modified = std::fs::metadata(&samples_file)
        .and_then(|m| m.modified())
        .ok();
    let duration_ms = total_samples.map_or(0.0, |n| n as f64 / sample_rate * 1e3);
    let start = modified
        .map(chrono::DateTime::<chrono::Utc>::from)
        .and_then(|end| {
            end.checked_sub_signed(chrono::Duration::milliseconds(
                duration_ms.clamp(0.0, 1e15) as i64
            ))
        });
    match start {
        Some(t) if t.timestamp() >= 0 => (
            t,
            Some("file modification time minus the recording's duration (estimated)".to_string()),
        ),
        _ => (
            chrono::DateTime::UNIX_EPOCH,
            Some("unknown: the recording gives no time and its file none; times count from 1970-01-01".to_string()),
        ),
    }
}
