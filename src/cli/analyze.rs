//! `rfsentry analyze`: run recordings through the full pipeline against a
//! site's profile, as fast as the CPU allows; write the alert log (and
//! evidence) and print a summary table. Exits 0 when the analysis ran,
//! whether or not it found anything; non-zero when it was interrupted
//! (Ctrl-C, SIGTERM) before the end — the log then holds, whole, what was
//! found up to there — or when the alert log could not be written.

use super::common::{
    install_stop_handler, progress_bar, run_stop_flag, stop_reason_for_log, stop_requested,
    EvidenceArgs, KeyArgs, RecordingArgs, SiteArgs,
};
use crate::alert::out_dir::{archive_earlier_run, next_number_in, OutputLock};
use crate::evidence::{write_report, Report, ReportRecording};
use crate::pipeline::PipelineSettings;
use crate::profile::Profile;
use crate::source::file::FileSource;
use crate::watch::{watch, SinkOptions, WatchConfig, WatchSummary};
use crate::{Error, Result};
use clap::Args;
use std::path::PathBuf;

/// Analyse recordings offline.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub site: SiteArgs,
    #[command(flatten)]
    pub input: RecordingArgs,
    /// Output directory for alerts.jsonl, pictures and the report (default alerts/SITE).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub evidence: EvidenceArgs,
    #[command(flatten)]
    pub key: KeyArgs,
}

pub fn run(args: &AnalyzeArgs) -> Result<()> {
    if args.input.recordings.is_empty() {
        return Err(Error::missing("analyze", "at least one RECORDING"));
    }
    refuse_duplicates(&args.input.recordings)?;
    let profile = Profile::load(&args.site.profile_path())?;
    let key = args.key.load(Some((&profile, &args.site.profile_path())))?;
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("alerts").join(&args.site.site));
    let opts = args.input.open_options();
    install_stop_handler();
    // One writer per output directory; an earlier run there is moved aside
    // whole (never truncated), and numbering goes on after its ids.
    let _lock = OutputLock::acquire(&out_dir)?;
    if let Some(to) = archive_earlier_run(&out_dir)? {
        eprintln!(
            "rfsentry: {} held an earlier run's alert log: moved it, with its evidence, to {}",
            out_dir.display(),
            to.display()
        );
    }
    let id_prefix = format!("{}-", profile.site.name);
    let mut next_id = next_number_in(&out_dir, &id_prefix);
    let mut total = WatchSummary::default();
    let mut recordings = Vec::new();
    let mut interrupted = None;
    for path in &args.input.recordings {
        if stop_requested() {
            interrupted = Some(format!("before {}", path.display()));
            break;
        }
        let reader = super::common::open_recording(path, &opts)?;
        let mut source = FileSource::new(reader);
        if !args.evidence.no_evidence {
            // IQ evidence reads an alert's pre-trigger samples back from the
            // recording instead of holding the last seconds in memory.
            source = source.with_reread(super::common::open_recording(path, &opts)?);
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
            eprintln!(
                "rfsentry: {} does not say when it was recorded: times are estimated from the {basis}, starting about {}",
                info.name,
                fallback_start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            );
        }
        let bar = progress_bar(info.total_samples, &format!("analysing {}", info.name));
        let bar2 = bar.clone();
        let mut seen = 0u64;
        let config = WatchConfig {
            out_dir: out_dir.clone(),
            id_prefix: id_prefix.clone(),
            first_id: next_id,
            fallback_start,
            sink: SinkOptions {
                truncate_log: false,
                echo_alerts: false,
                evidence: !args.evidence.no_evidence,
                time_basis: time_basis.clone(),
                key: key.clone(),
                command: "analyze".into(),
                profile_path: Some(args.site.profile_path()),
                stop_reason: Some(stop_reason_for_log()),
                ..Default::default()
            },
            pipeline: PipelineSettings::new(profile.capture.psd),
            profile: profile.clone(),
        };
        let summary = watch(
            source,
            config,
            run_stop_flag(),
            Some(Box::new(move |s| {
                bar2.inc(s.samples - seen);
                seen = s.samples;
            })),
        )?;
        bar.finish_and_clear();
        next_id = summary.next_id;
        print_summary(&info.name, &summary);
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
        if stop_requested() && info.total_samples.is_some_and(|n| summary.samples < n) {
            interrupted = Some(format!(
                "in {} after {} of {} samples",
                info.name,
                summary.samples,
                info.total_samples.unwrap_or(0)
            ));
            break;
        }
    }
    println!("alert log: {}", out_dir.join("alerts.jsonl").display());
    // Output failures are reported together at the end; the analysis itself ran.
    let mut failures = Vec::new();
    if total.log_failed {
        failures.push(Error::LogNotWritten {
            log: out_dir.join("alerts.jsonl"),
        });
    }
    if !args.evidence.no_evidence {
        let report = Report {
            site: profile.site.name.clone(),
            profile: Some(args.site.profile_path().display().to_string()),
            generated_by: format!("rfsentry {}", crate::VERSION),
            generated_at: None,
            recordings,
            alerts: total.alert_list.clone(),
            processing_s: Some(total.elapsed_s),
            evidence_prefix: String::new(),
        };
        match write_report(&out_dir, &report) {
            Ok(path) => println!("report: {}", path.display()),
            Err(e) => failures.push(Error::Report {
                source: Box::new(e),
            }),
        }
    }
    if let Some(at) = interrupted {
        failures.push(Error::Interrupted {
            work: "analysis".into(),
            at,
            consequence: "the alert log holds the alerts found up to there; the rest was not analysed".into(),
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
fn refuse_duplicates(paths: &[PathBuf]) -> Result<()> {
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
fn estimated_start(
    path: &std::path::Path,
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

/// Print one recording's summary table.
pub fn print_summary(name: &str, s: &WatchSummary) {
    let nonfinite = match s.nonfinite_samples {
        0 => String::new(),
        n => format!(", {n} NaN/infinite sample(s) analysed as 0"),
    };
    println!(
        "{name}: {} samples in {:.2} s ({:.1} MS/s), {} frames, {} alert(s){nonfinite}",
        s.samples,
        s.elapsed_s,
        s.rate_msps(),
        s.frames,
        s.total_alerts()
    );
    if s.alert_list.is_empty() {
        return;
    }
    let w = s
        .alert_list
        .iter()
        .map(|a| a.id.len())
        .max()
        .unwrap_or(2)
        .max(2);
    println!(
        "  {:<w$} {:<21} {:>12} {:>8} {:>12} {:>9} {:>8}",
        "id", "kind", "start", "dur s", "centre MHz", "BW kHz", "excess"
    );
    for a in &s.alert_list {
        println!(
            "  {:<w$} {:<21} {:>12} {:>8} {:>12.4} {:>9.1} {:>+7.1}",
            a.id,
            a.kind.name(),
            a.start
                .split('T')
                .nth(1)
                .unwrap_or(&a.start)
                .trim_end_matches('Z'),
            format!("{:.2}", seconds_between(&a.start, &a.end)),
            a.center_hz / 1e6,
            (a.freq_high_hz - a.freq_low_hz) / 1e3,
            a.excess_db
        );
    }
    if s.unlisted_alerts > 0 {
        println!(
            "  … and {} more alert(s), in the alert log only",
            s.unlisted_alerts
        );
    }
}

fn seconds_between(start: &str, end: &str) -> f64 {
    match (
        chrono::DateTime::parse_from_rfc3339(start),
        chrono::DateTime::parse_from_rfc3339(end),
    ) {
        (Ok(a), Ok(b)) => (b - a).num_milliseconds() as f64 / 1e3,
        _ => 0.0,
    }
}
