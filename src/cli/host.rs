//! The command line as the host of a library run (`rfsentry_core::run::Host`):
//! its Ctrl-C/SIGTERM handling and `--duration`, progress bars on a
//! terminal, opens a stop can interrupt, the receiver the device flags
//! describe, and the printing of what a run has to say.

use super::common::{
    open_recording, progress_bar, run_stop_flag, stop_after, stop_reason_for_log, stop_requested,
};
use super::live::DeviceArgs;
use crate::iq::{IqReader, OpenOptions};
use crate::run::{Host, Notice, Progress};
use crate::source::Source;
use crate::watch::StopReason;
use crate::Result;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// The command line's host; `device` is given when `--device` may be opened.
#[derive(Default)]
pub struct CliHost<'a> {
    pub device: Option<&'a DeviceArgs>,
}

impl<'a> CliHost<'a> {
    /// A host that opens the receiver `device` describes.
    pub fn with_device(device: &'a DeviceArgs) -> Self {
        CliHost {
            device: Some(device),
        }
    }
}

/// A progress bar as a run's [`Progress`].
struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn advance(&self, samples: u64) {
        self.0.inc(samples);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Host for CliHost<'_> {
    fn stop_requested(&self) -> bool {
        stop_requested()
    }

    fn stop_flag(&self) -> Arc<AtomicBool> {
        run_stop_flag()
    }

    fn stop_reason(&self) -> StopReason {
        stop_reason_for_log()
    }

    fn stop_after(&self, duration: Duration) {
        stop_after(duration);
    }

    fn open_recording(&self, path: &Path, opts: &OpenOptions) -> Result<Box<dyn IqReader>> {
        open_recording(path, opts)
    }

    fn open_device(
        &self,
        site_device: Option<&toml::Table>,
        sample_rate: f64,
        plan: &[(f64, f64)],
    ) -> Result<Box<dyn Source>> {
        let device = self.device.cloned().unwrap_or_default();
        super::live::open_device(&device, site_device, sample_rate, plan)
    }

    fn progress(&self, label: &str, total_samples: Option<u64>) -> Arc<dyn Progress> {
        Arc::new(Bar(progress_bar(total_samples, label)))
    }

    fn notice(&self, notice: Notice<'_>) {
        match notice {
            Notice::Archived { dir, to } => eprintln!(
                "rfsentry: {} held an earlier run's alert log: moved it, with its evidence, to {}",
                dir.display(),
                to.display()
            ),
            Notice::TimeEstimated {
                recording,
                basis,
                start,
            } => eprintln!(
                "rfsentry: {recording} does not say when it was recorded: times are estimated from the {basis}, starting about {}",
                start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            Notice::Analysed { recording, summary } => {
                super::analyze::print_summary(recording, summary)
            }
            Notice::AlertLog { path } => println!("alert log: {}", path.display()),
            Notice::Report { path } => println!("report: {}", path.display()),
            Notice::DwellSet { center_hz, dwell_s } => println!(
                "scan plan: {:.6} MHz dwells {dwell_s} s (--dwell)",
                center_hz / 1e6
            ),
            Notice::Signed {
                signature,
                key_id,
                profile,
            } => println!(
                "signature: {} (key {key_id}; check it with rfsentry verify {})",
                signature.display(),
                profile.display()
            ),
            Notice::StaleSignature { signature } => eprintln!(
                "rfsentry: {} no longer matches the profile it signed (learn again with --key to sign it)",
                signature.display()
            ),
            other => tracing::info!("{other:?}"),
        }
    }
}
