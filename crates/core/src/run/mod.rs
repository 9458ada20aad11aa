//! The commands' runs, assembled from the layers below: [`learn`] a site's
//! profile from recordings or a device, [`analyze`] recordings against it,
//! and the pieces of a [`monitor`] run that are the core's (its scan plan,
//! its alert numbering, its watch configuration).
//!
//! A run takes plain option structs and a [`Host`]: what the program around
//! it provides — stop requests (Ctrl-C, SIGTERM, `--duration`), progress
//! display, opening inputs in a way a stop can interrupt, opening a live
//! receiver — and what it tells the user along the way ([`Notice`]). The
//! command line implements [`Host`] with its progress bars and signal
//! handling; a test or another program can implement it with none.

pub mod analyze;
pub mod learn;
pub mod monitor;

use crate::custody::SensorKey;
use crate::iq::{IqReader, OpenOptions};
use crate::profile::Profile;
use crate::source::Source;
use crate::watch::{StopReason, WatchSummary};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// Progress of one source through a run (a progress bar, or nothing).
pub trait Progress: Send + Sync {
    /// `samples` more samples have been processed.
    fn advance(&self, samples: u64);
    /// The source is done: take the display down.
    fn finish(&self);
}

/// A [`Progress`] that shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn advance(&self, _samples: u64) {}
    fn finish(&self) {}
}

/// What a run tells its user on the way (the command line prints each).
#[derive(Debug)]
#[non_exhaustive]
pub enum Notice<'a> {
    /// An earlier run's alert log in `dir` was moved, with its evidence, to `to`.
    Archived { dir: &'a Path, to: &'a Path },
    /// `recording` does not say when it was made: its times are estimated
    /// from `basis`, starting about `start`.
    TimeEstimated {
        recording: &'a str,
        basis: &'a str,
        start: DateTime<Utc>,
    },
    /// One recording has been analysed.
    Analysed {
        recording: &'a str,
        summary: &'a WatchSummary,
    },
    /// The run's alert log.
    AlertLog { path: &'a Path },
    /// The run's report was written to `path`.
    Report { path: &'a Path },
    /// A merged scan plan's tuning got `dwell_s` seconds (from `--dwell`).
    DwellSet { center_hz: f64, dwell_s: f64 },
    /// The profile at `profile` was signed: `signature`, by key `key_id`.
    Signed {
        signature: &'a Path,
        key_id: String,
        profile: &'a Path,
    },
    /// No key this time: the old `signature` beside the profile no longer
    /// matches it.
    StaleSignature { signature: &'a Path },
}

/// What a run needs from the program that hosts it.
pub trait Host {
    /// Whether a stop was requested (by the user, or by a `--duration`
    /// running out) — as opposed to a run ending by itself.
    fn stop_requested(&self) -> bool;
    /// A fresh stop flag for one pipeline run: set when a stop is
    /// requested (already set if one was), and free for the run to set.
    fn stop_flag(&self) -> Arc<AtomicBool>;
    /// Why the run was stopped, asked when the log's closing record is written.
    fn stop_reason(&self) -> StopReason {
        StopReason(Arc::new(|| None))
    }
    /// Request a stop after `duration` (a live source's `--duration`).
    fn stop_after(&self, duration: Duration);
    /// Open a recording (the host may make a blocked open interruptible).
    fn open_recording(&self, path: &Path, opts: &OpenOptions) -> Result<Box<dyn IqReader>> {
        crate::iq::open(path, opts)
    }
    /// Open a live receiver: `site_device` is the profile's `[device]`
    /// table, if any; `plan` is (centre Hz, dwell s) per tuning.
    fn open_device(
        &self,
        site_device: Option<&toml::Table>,
        sample_rate: f64,
        plan: &[(f64, f64)],
    ) -> Result<Box<dyn Source>> {
        let _ = (site_device, sample_rate, plan);
        Err(Error::NoSoapy {
            needed_by: "--device".into(),
        })
    }
    /// Show the progress of `label` over `total_samples` (when known).
    fn progress(&self, label: &str, total_samples: Option<u64>) -> Arc<dyn Progress> {
        let _ = (label, total_samples);
        Arc::new(NoProgress)
    }
    /// Tell the user something.
    fn notice(&self, notice: Notice<'_>) {
        let _ = notice;
    }
}

/// Where a site's alerts go when no `--out` is given: `alerts/SITE`.
pub fn default_out_dir(site: &str) -> PathBuf {
    PathBuf::from("alerts").join(site)
}

/// The sensor key of a run: `explicit` (`--key`), else the key the profile
/// at `profile_path` names in `[custody]`; `None` when neither is given.
pub fn sensor_key(
    explicit: Option<&Path>,
    profile: Option<(&Profile, &Path)>,
) -> Result<Option<Arc<SensorKey>>> {
    let path = explicit
        .map(Path::to_path_buf)
        .or_else(|| profile.and_then(|(p, path)| p.custody_key(path)));
    match path {
        Some(path) => Ok(Some(Arc::new(SensorKey::load(&path)?))),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests;
