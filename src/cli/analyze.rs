//! `rfsentry analyze`: run recordings through the full pipeline against a
//! site's profile, as fast as the CPU allows; write the alert log (and
//! evidence) and print a summary table. Exits 0 when the analysis ran,
//! whether or not it found anything; non-zero when it was interrupted
//! (Ctrl-C, SIGTERM) before the end — the log then holds, whole, what was
//! found up to there — or when the alert log could not be written. The run
//! is the core's (`rfsentry_core::run::analyze`); this parses its flags and
//! prints the summary table of each recording.

use super::common::{install_stop_handler, EvidenceArgs, KeyArgs, RecordingArgs, SiteArgs};
use super::host::CliHost;
use crate::run::analyze::{analyze, AnalyzeOptions};
use crate::run::default_out_dir;
use crate::watch::WatchSummary;
use crate::Result;
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
    // Ctrl-C and SIGTERM end the run cleanly from here on (the log whole).
    install_stop_handler();
    let opts = AnalyzeOptions {
        recordings: args.input.recordings.clone(),
        open: args.input.open_options(),
        profile_path: args.site.profile_path(),
        out_dir: args
            .out
            .clone()
            .unwrap_or_else(|| default_out_dir(&args.site.site)),
        evidence: !args.evidence.no_evidence,
        key: args.key.key.clone(),
    };
    analyze(&opts, &CliHost::default())
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
