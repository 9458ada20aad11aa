//! `rfsentry monitor`: the field mode. Watches a live SoapySDR receiver
//! (`--device`), or replays a recording at real time so the screen is the one
//! a field user sees; writes alerts and evidence as they happen, and ends
//! cleanly on `--duration`, Ctrl-C or SIGTERM. What the operator sees — the
//! terminal screen, the web console, notifications — is the console crate's,
//! fed by the run's tap.

use super::common::{
    parse_duration, run_stop_flag, stop_reason_for_log, EvidenceArgs, KeyArgs, RecordingArgs,
    SiteArgs,
};
use crate::pipeline::PipelineSettings;
use crate::profile::Profile;
use crate::source::file::FileSource;
use crate::source::Source;
use crate::watch::{watch, SinkOptions, WatchConfig};
use crate::{Error, Result};
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
    let profile = Profile::load(&args.site.profile_path())?;
    let key = args.key.load(Some((&profile, &args.site.profile_path())))?;
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("alerts").join(&args.site.site));
    // One writer per output directory (taken before the device is opened):
    // a second monitor would clear this one's live alerts as left open and
    // race it on evidence files.
    let _lock = crate::alert::out_dir::OutputLock::acquire(&out_dir)?;
    let stop = run_stop_flag();
    // The publisher tails the log on its own thread; the pipeline never waits for it.
    let coverage = profile
        .segments
        .iter()
        .map(|s| {
            let half = profile.capture.sample_rate / 2.0;
            [s.center_hz - half, s.center_hz + half]
        })
        .collect();
    let publisher = args.fleet.start(&profile.site.name, &out_dir, coverage)?;
    let health = publisher.as_ref().map(|p| p.health());
    let source: Box<dyn Source> = match (&args.live.device, args.input.recordings.as_slice()) {
        (Some(_), []) => {
            let plan: Vec<(f64, f64)> = profile
                .segments
                .iter()
                .map(|s| (s.center_hz, s.dwell_s))
                .collect();
            super::live::open_device(
                &args.live,
                profile.device.as_ref(),
                profile.capture.sample_rate,
                &plan,
            )?
        }
        (None, [path]) => {
            let reader = super::common::open_recording(path, &args.input.open_options())?;
            Box::new(FileSource::new(reader).realtime(!args.fast))
        }
        (Some(_), _) => {
            return Err(Error::Conflict {
                command: "monitor".into(),
                first: "--device".into(),
                second: "one RECORDING".into(),
            }
            .into())
        }
        (None, _) => {
            return Err(
                Error::missing("monitor", "--device ARGS or one RECORDING to replay").into(),
            )
        }
    };
    if let Some(d) = args.duration {
        super::common::stop_after(d);
    }
    let info = source.info();
    let now = chrono::Utc::now();
    let id_prefix = format!("{}-{}-", profile.site.name, now.format("%Y%m%dT%H%M%SZ"));
    // A run restarted within the same second appends to the same log: go on
    // numbering after it rather than reuse its ids.
    let first_id = crate::alert::log::next_free_number(&out_dir.join("alerts.jsonl"), &id_prefix);
    let (tap, tap_end) = crate::watch::tap();
    let run_info = rfsentry_console::RunInfo::new(&profile, &info, &out_dir);
    let console =
        rfsentry_console::Console::start(&args.operator.options(), run_info, &profile, tap_end)?;
    let config = WatchConfig {
        out_dir: out_dir.clone(),
        id_prefix,
        first_id,
        fallback_start: now,
        sink: SinkOptions {
            truncate_log: false,
            // The console's terminal screen shows them.
            echo_alerts: false,
            evidence: !args.evidence.no_evidence,
            tap: Some(tap),
            key,
            command: "monitor".into(),
            profile_path: Some(args.site.profile_path()),
            stop_reason: Some(stop_reason_for_log()),
            ..Default::default()
        },
        pipeline: PipelineSettings::new(profile.capture.psd),
        profile,
    };
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
    let summary = watch(
        source,
        config,
        stop,
        health.map(|h| -> crate::watch::StatusFn {
            Box::new(move |s: &crate::watch::Status| {
                h.set(rfsentry_fleet::topics::Health {
                    seconds: s.seconds,
                    rate_sps: s.rate_sps,
                    noise_floor_dbfs: f64::from(s.noise_floor_dbfs),
                    gaps: s.gaps,
                    lost_samples: s.lost_samples,
                    active_alerts: s.active_alerts as u64,
                    total_alerts: s.total_alerts,
                })
            })
        }),
    );
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
    if summary.log_failed {
        // Monitoring went on and every alert reached the terminal, but the
        // record on disk is incomplete: say so, and exit non-zero.
        return Err(Error::LogNotWritten {
            log: out_dir.join("alerts.jsonl"),
        }
        .into());
    }
    Ok(())
}
