//! `rfsentry monitor`: the field mode. Watches a live SoapySDR receiver
//! (`--device`), or replays a recording at real time so the screen is the one
//! a field user sees; writes alerts and evidence as they happen, and ends
//! cleanly on `--duration`, Ctrl-C or SIGTERM. What the operator sees — the
//! terminal screen, the web console, notifications — is the console crate's,
//! fed by the run's tap. The core's part of the run (its source, alert
//! numbering and watch configuration) is `rfsentry_core::run::monitor`;
//! this puts it together with the console and the fleet's publisher.

use super::common::{
    parse_duration, run_stop_flag, stop_reason_for_log, EvidenceArgs, KeyArgs, RecordingArgs,
    SiteArgs,
};
use super::host::CliHost;
use crate::profile::Profile;
use crate::run::default_out_dir;
use crate::run::monitor::{check_log, coverage, watch_config, MonitorInput, MonitorOptions};
use crate::watch::watch;
use crate::Error;
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

/// Watch a site live.
#[derive(Debug, Args)]
pub struct MonitorArgs {
    #[command(flatten)]
    pub site: SiteArgs,
    #[command(flatten)]
    pub input: RecordingArgs,
    /// Output directory for alerts.jsonl and evidence (default alerts/SITE).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub live: super::live::DeviceArgs,
    /// Stop after this long, e.g. 90s, 15m, 2h.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Replay a recording as fast as possible instead of at real time.
    #[arg(long)]
    pub fast: bool,
    #[command(flatten)]
    pub evidence: EvidenceArgs,
    #[command(flatten)]
    pub operator: super::operator::OperatorArgs,
    /// Publishing to the command centre's broker (`--publish`, rfsentry-fleet).
    #[command(flatten)]
    pub fleet: rfsentry_fleet::cli::PublishArgs,
    #[command(flatten)]
    pub key: KeyArgs,
}

pub fn run(args: &MonitorArgs) -> Result<(), super::CliError> {
    if !args.live.tune.is_empty() || args.live.dwell != 1.0 {
        // They used to be accepted and silently ignored.
        return Err(Error::setting(
            "--tune/--dwell",
            "",
            "monitor takes its tunings and dwell times from the profile's [[segments]] (what learn --tune/--dwell made); --tune and --dwell are for learn",
        )
        .into());
    }
    let profile_path = args.site.profile_path();
    let profile = Profile::load(&profile_path)?;
    let key = args.key.load(Some((&profile, &profile_path)))?;
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| default_out_dir(&args.site.site));
    // One writer per output directory (taken before the device is opened):
    // a second monitor would clear this one's live alerts as left open and
    // race it on evidence files.
    let _lock = crate::alert::out_dir::OutputLock::acquire(&out_dir)?;
    let stop = run_stop_flag();
    // The publisher tails the log on its own thread; the pipeline never waits for it.
    let publisher = args
        .fleet
        .start(&profile.site.name, &out_dir, coverage(&profile))?;
    let health = publisher.as_ref().map(|p| p.health());
    let input = MonitorInput::choose(
        args.live.device.is_some(),
        &args.input.recordings,
        &args.input.open_options(),
        !args.fast,
    )?;
    let source = input.open(&profile, &CliHost::with_device(&args.live))?;
    if let Some(d) = args.duration {
        super::common::stop_after(d);
    }
    let info = source.info();
    let now = chrono::Utc::now();
    let (tap, tap_end) = crate::watch::tap();
    let run_info = rfsentry_console::RunInfo::new(&profile, &info, &out_dir);
    let console =
        rfsentry_console::Console::start(&args.operator.options(), run_info, &profile, tap_end)?;
    let opts = MonitorOptions {
        out_dir: out_dir.clone(),
        evidence: !args.evidence.no_evidence,
        key,
        profile_path,
    };
    let config = watch_config(profile, &opts, Some(tap), stop_reason_for_log(), now);
    eprintln!(
        "monitoring {} at {:.4} MHz, {} S/s; alerts → {}; Ctrl-C to stop",
        info.name,
        info.tunings.first().copied().unwrap_or(0.0) / 1e6,
        info.sample_rate,
        out_dir.join("alerts.jsonl").display()
    );
    if let Some(addr) = console.local_addr() {
        let ack = match args.operator.token_file.as_ref() {
            Some(_) => "open /?token=TOKEN once in a browser".to_string(),
            None => format!(
                "acknowledging needs the token in {}",
                out_dir.join(".console-token").display()
            ),
        };
        eprintln!("console: http://{addr}/ ({ack})");
    }
    // The console shows the status on the screen; the fleet's heartbeat
    // carries it to the command centre.
    let summary = watch(source, config, stop, health.map(|h| h.status_fn()));
    // The last events reach the screen and the notifiers before the summary.
    let mut console = console;
    console.end_of_run(Duration::from_secs(10));
    let summary = summary?;
    super::analyze::print_summary(&info.name, &summary);
    if let Some(p) = publisher {
        let r = p.finish();
        eprintln!(
            "published to {}: the broker has acknowledged events up to #{}; {} bytes of the log left for the next run{}",
            args.fleet.publish.as_deref().unwrap_or(""),
            r.acked_seq,
            r.pending_bytes,
            r.cursor_error.map(|e| format!(" (cursor not saved: {e})")).unwrap_or_default()
        );
    }
    if console.serving() && !super::common::stop_requested() {
        // The input ended (a replay): the console stays up for the operator
        // to look back, until Ctrl-C, SIGTERM or --duration.
        eprintln!("input ended; the console stays up until Ctrl-C (or --duration)");
        while !super::common::stop_requested() {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    console.stop();
    // Monitoring went on and every alert reached the terminal, but a log
    // that could not be written is an incomplete record: exit non-zero.
    check_log(&summary, &opts)?;
    Ok(())
}
