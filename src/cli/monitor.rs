//! `rfsentry monitor`: the field mode. Watches a live SoapySDR receiver
//! (`--device`), or replays a recording at real time so the screen is the one
//! a field user sees; writes alerts and evidence as they happen, shows a live
//! status line, and ends cleanly on `--duration`, Ctrl-C or SIGTERM.

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
use std::io::{IsTerminal, Write};
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
    pub key: KeyArgs,
}

pub fn run(args: &MonitorArgs) -> Result<()> {
    if !args.live.tune.is_empty() || args.live.dwell != 1.0 {
        // They used to be accepted and silently ignored.
        return Err(Error::config(
            "monitor takes its tunings and dwell times from the profile's [[segments]] (what learn --tune/--dwell made); --tune and --dwell are for learn",
        ));
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
            return Err(Error::config(
                "monitor takes either --device or one RECORDING, not both",
            ))
        }
        (None, _) => {
            return Err(Error::config(
                "monitor needs --device ARGS or one RECORDING to replay",
            ))
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
    let config = WatchConfig {
        out_dir: out_dir.clone(),
        id_prefix,
        first_id,
        fallback_start: now,
        sink: SinkOptions {
            truncate_log: false,
            echo_alerts: true,
            evidence: !args.evidence.no_evidence,
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
    let terminal = std::io::stderr().is_terminal();
    let summary = watch(
        source,
        config,
        stop,
        Some(Box::new(move |s| {
            let line = format!(
                "t={:8.1}s  rate {:6.2} MS/s  floor {:6.1} dBFS  gaps {} (lost {:.2} s)  active {}  total {}",
                s.seconds,
                s.rate_sps / 1e6,
                s.noise_floor_dbfs,
                s.gaps,
                s.lost_samples as f64 / info.sample_rate,
                s.active_alerts,
                s.total_alerts
            );
            if terminal {
                eprint!("\r\x1b[K{line}");
                let _ = std::io::stderr().flush();
            } else {
                tracing::debug!("{line}");
            }
        })),
    )?;
    if terminal {
        eprintln!();
    }
    super::analyze::print_summary(&info.name, &summary);
    if summary.log_failed {
        // Monitoring went on and every alert reached the terminal, but the
        // record on disk is incomplete: say so, and exit non-zero.
        return Err(Error::config(format!(
            "the alert log {} could not be written (see the error above); alerts were printed to the terminal only",
            out_dir.join("alerts.jsonl").display()
        )));
    }
    Ok(())
}
