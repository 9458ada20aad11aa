//! The core's part of a `monitor` run: its source (a live receiver on the
//! profile's scan plan, or one recording replayed at real time), the band
//! it covers, its alert numbering and its watch configuration. What the
//! operator sees (the console) and what goes to the command centre (the
//! fleet) are built above the core; the command line puts them together.

use super::Host;
use crate::iq::OpenOptions;
use crate::pipeline::PipelineSettings;
use crate::profile::Profile;
use crate::source::file::FileSource;
use crate::source::Source;
use crate::watch::{SinkOptions, StopReason, Tap, WatchConfig, WatchSummary};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::sync::Arc;

/// Where a monitor run reads from.
#[derive(Debug, Clone)]
pub enum MonitorInput {
    /// A live receiver (`--device`), opened through [`Host::open_device`]
    /// on the profile's scan plan.
    Device,
    /// A recording replayed at real time (or as fast as possible).
    Replay {
        path: PathBuf,
        open: OpenOptions,
        realtime: bool,
    },
}

impl MonitorInput {
    /// The input from what was given: a device, recordings, or both.
    pub fn choose(
        device: bool,
        recordings: &[PathBuf],
        open: &OpenOptions,
        realtime: bool,
    ) -> Result<MonitorInput> {
        match (device, recordings) {
            (true, []) => Ok(MonitorInput::Device),
            (false, [path]) => Ok(MonitorInput::Replay {
                path: path.clone(),
                open: open.clone(),
                realtime,
            }),
            (true, _) => Err(Error::Conflict {
                command: "monitor".into(),
                first: "--device".into(),
                second: "one RECORDING".into(),
            }),
            (false, _) => Err(Error::missing(
                "monitor",
                "--device ARGS or one RECORDING to replay",
            )),
        }
    }

    /// Open the source.
    pub fn open(&self, profile: &Profile, host: &dyn Host) -> Result<Box<dyn Source>> {
        match self {
            MonitorInput::Device => host.open_device(
                profile.device.as_ref(),
                profile.capture.sample_rate,
                &scan_plan(profile),
            ),
            MonitorInput::Replay {
                path,
                open,
                realtime,
            } => {
                let reader = host.open_recording(path, open)?;
                Ok(Box::new(FileSource::new(reader).realtime(*realtime)))
            }
        }
    }
}

/// The profile's tunings as a live scan plan: (centre Hz, dwell s) each.
pub fn scan_plan(profile: &Profile) -> Vec<(f64, f64)> {
    profile
        .segments
        .iter()
        .map(|s| (s.center_hz, s.dwell_s))
        .collect()
}

/// The bands the profile's tunings cover, [low Hz, high Hz] each.
pub fn coverage(profile: &Profile) -> Vec<[f64; 2]> {
    profile
        .segments
        .iter()
        .map(|s| {
            let half = profile.capture.sample_rate / 2.0;
            [s.center_hz - half, s.center_hz + half]
        })
        .collect()
}

/// What a monitor run writes, and how.
#[derive(Debug, Clone)]
pub struct MonitorOptions {
    /// Directory for the alert log and evidence.
    pub out_dir: PathBuf,
    /// Write IQ snippets and pictures besides the alert log.
    pub evidence: bool,
    pub key: Option<Arc<crate::custody::SensorKey>>,
    /// The site's profile, named in the log's records.
    pub profile_path: PathBuf,
}

/// The watch configuration of a monitor run started at `now`: alert ids
/// `SITE-STAMP-n`, numbered on after any a run restarted within the same
/// second already wrote; events go to `tap` (the console) rather than the
/// terminal.
pub fn watch_config(
    profile: Profile,
    opts: &MonitorOptions,
    tap: Option<Tap>,
    stop_reason: StopReason,
    now: DateTime<Utc>,
) -> WatchConfig {
    let id_prefix = format!("{}-{}-", profile.site.name, now.format("%Y%m%dT%H%M%SZ"));
    // A run restarted within the same second appends to the same log: go on
    // numbering after it rather than reuse its ids.
    let first_id = crate::alert::log::next_free_number(
        &opts.out_dir.join(crate::layout::LOG_FILE),
        &id_prefix,
    );
    WatchConfig {
        out_dir: opts.out_dir.clone(),
        id_prefix,
        first_id,
        fallback_start: now,
        sink: SinkOptions {
            truncate_log: false,
            // The console's terminal screen shows them.
            echo_alerts: false,
            evidence: opts.evidence,
            tap,
            key: opts.key.clone(),
            command: "monitor".into(),
            profile_path: Some(opts.profile_path.clone()),
            stop_reason: Some(stop_reason),
            ..Default::default()
        },
        pipeline: PipelineSettings::new(profile.capture.psd),
        profile,
    }
}

/// The end of a run: an error when the alert log could not be written
/// (monitoring went on, and every alert reached the terminal, but the
/// record on disk is incomplete).
pub fn check_log(summary: &WatchSummary, opts: &MonitorOptions) -> Result<()> {
    if summary.log_failed {
        return Err(Error::LogNotWritten {
            log: opts.out_dir.join(crate::layout::LOG_FILE),
        });
    }
    Ok(())
}
