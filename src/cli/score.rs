//! `rfsentry score`: detection quality of an alert log against the SigMF
//! annotations (ground truth) of the recordings it came from. A log whose
//! events name other recordings is refused; `--min-pd`, `--max-false` and
//! `--max-latency` make it a CI gate (exit 1 when the log falls short).

use super::common::RecordingArgs;
use crate::alert::log::read_alert_log;
use crate::alert::AlertEvent;
use crate::score::{recording_stem, score, RecordingTruth, ScoreReport};
use crate::{Error, Result};
use clap::Args;
use std::path::PathBuf;

/// Score alerts against annotated recordings.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// The alert log (alerts.jsonl).
    pub alerts: PathBuf,
    #[command(flatten)]
    pub input: RecordingArgs,
    /// Print the score as JSON.
    #[arg(long)]
    pub json: bool,
    /// Fail (exit 1) when the probability of detection over all annotated events is below P (0 to 1).
    #[arg(long, value_name = "P", value_parser = parse_fraction)]
    pub min_pd: Option<f64>,
    /// Fail (exit 1) when there are more than N false alerts.
    #[arg(long, value_name = "N")]
    pub max_false: Option<u64>,
    /// Fail (exit 1) when the 95th percentile of detection latency exceeds S seconds.
    #[arg(long, value_name = "S", value_parser = parse_seconds)]
    pub max_latency: Option<f64>,
}

fn parse_fraction(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!(
            "{s:?}: expected a probability from 0 to 1, e.g. 0.9"
        )),
    }
}

fn parse_seconds(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("{s:?}: expected seconds, 0 or more, e.g. 1.5")),
    }
}

/// The bars of `args` the report does not reach, one sentence each.
fn shortfalls(args: &ScoreArgs, report: &ScoreReport) -> Vec<String> {
    let mut short = Vec::new();
    if let Some(p) = args.min_pd {
        let pd = (report.total > 0).then(|| report.detected as f64 / report.total as f64);
        match pd {
            None => short.push(format!(
                "Pd cannot be measured: the recordings have no annotated events (--min-pd {p})"
            )),
            Some(pd) if pd < p => short.push(format!(
                "Pd {pd:.3} ({}/{} events) is below --min-pd {p}",
                report.detected, report.total
            )),
            Some(_) => {}
        }
    }
    if let Some(n) = args.max_false {
        let found = report.false_alerts.len() as u64;
        if found > n {
            short.push(format!("{found} false alert(s), more than --max-false {n}"));
        }
    }
    if let Some(s) = args.max_latency {
        match report.latency_p95_s {
            Some(l) if l > s => {
                short.push(format!("latency p95 {l:.3} s is above --max-latency {s} s"))
            }
            None if report.total > 0 => short.push(format!(
                "no event was detected, so latency cannot meet --max-latency {s} s"
            )),
            _ => {}
        }
    }
    short
}

/// Refuse a log holding events of recordings other than `truths`: scoring
/// them against the wrong ground truth would count nonsense.
fn check_recordings(
    log: &std::path::Path,
    events: &[AlertEvent],
    truths: &[RecordingTruth],
) -> Result<()> {
    let given: Vec<String> = truths.iter().map(|t| recording_stem(&t.name)).collect();
    let mut others: Vec<&str> = events
        .iter()
        .map(|e| e.recording.as_str())
        .filter(|r| !given.contains(&recording_stem(r)))
        .collect();
    others.sort_unstable();
    others.dedup();
    if others.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = others.iter().take(5).map(|r| format!("{r:?}")).collect();
    Err(Error::format(
        log,
        "recording",
        format!(
            "alerts from the recording(s) given ({}); found alerts from {}{} — score a log against the recordings it came from",
            given.join(", "),
            shown.join(", "),
            if others.len() > 5 { ", …" } else { "" }
        ),
    ))
}

pub fn run(args: &ScoreArgs) -> Result<()> {
    if args.input.recordings.is_empty() {
        return Err(Error::missing(
            "score",
            "the annotated RECORDING(s) the alerts came from",
        ));
    }
    let events = read_alert_log(&args.alerts)?;
    let opts = args.input.open_options();
    let truths = args
        .input
        .recordings
        .iter()
        .map(|p| {
            let reader = super::common::open_recording(p, &opts)?;
            let info = reader.info();
            Ok(RecordingTruth {
                name: p.display().to_string(),
                sample_rate: info.sample_rate,
                samples: info.total_samples.unwrap_or(0),
                annotations: info.annotations.clone(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    check_recordings(&args.alerts, &events, &truths)?;
    let report = score(&events, &truths);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("score serialises")
        );
    } else {
        print!("{}", report.to_table());
    }
    let short = shortfalls(args, &report);
    if short.is_empty() {
        Ok(())
    } else {
        Err(Error::BelowBar {
            log: args.alerts.clone(),
            short,
        })
    }
}
