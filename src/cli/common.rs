//! Arguments and helpers shared by several subcommands: recording inputs with
//! `--rate`/`--freq`, PSD settings, the profile location, progress bars and
//! Ctrl-C handling.

use crate::dsp::{DcMode, PsdConfig, Window};
use crate::iq::OpenOptions;
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

/// Recordings and the settings for files that do not carry them.
#[derive(Debug, Args, Clone)]
pub struct RecordingArgs {
    /// Recordings: SigMF (.sigmf-meta/.sigmf-data/.sigmf), raw (.cu8 .cs8 .cs16 .cf32 .cfile, URH .complex*), or WAV IQ.
    #[arg(value_name = "RECORDING")]
    pub recordings: Vec<PathBuf>,
    /// Sample rate of raw recordings, Hz (e.g. 2.4e6 or 250k).
    #[arg(long, value_parser = parse_hz)]
    pub rate: Option<f64>,
    /// Centre frequency of raw recordings, Hz (e.g. 433.92M).
    #[arg(long, value_parser = parse_hz)]
    pub freq: Option<f64>,
    /// Do not verify a SigMF recording's core:sha512 against its data (the
    /// check is SHA-512 over every byte, slower than the analysis on cf32).
    #[arg(long)]
    pub no_verify: bool,
}

impl RecordingArgs {
    pub fn open_options(&self) -> OpenOptions {
        OpenOptions {
            sample_rate: self.rate,
            center_hz: self.freq,
            skip_checksum: self.no_verify,
        }
    }
}

/// Where profiles live and which site.
#[derive(Debug, Args, Clone)]
pub struct SiteArgs {
    /// Site name (letters, digits, `-`, `_` and `.`, not leading); its
    /// profile is PROFILE_DIR/SITE.toml.
    #[arg(long, value_parser = parse_site)]
    pub site: String,
    /// Directory of baseline profiles.
    #[arg(long, default_value = "profiles")]
    pub profile_dir: PathBuf,
}

impl SiteArgs {
    pub fn profile_path(&self) -> PathBuf {
        crate::profile::Profile::path_in(&self.profile_dir, &self.site)
    }
}

/// Welch PSD settings.
#[derive(Debug, Args, Clone)]
pub struct PsdArgs {
    /// FFT size in bins.
    #[arg(long, default_value_t = 1024)]
    pub fft_size: usize,
    /// Seconds averaged into one spectrum frame.
    #[arg(long, default_value_t = 0.05)]
    pub integration: f64,
    /// FFT window: hann, hamming, blackman, blackman-harris, flat-top, rectangular.
    #[arg(long, default_value = "hann")]
    pub window: Window,
    /// Overlap between FFT segments, 0 ≤ overlap < 0.95.
    #[arg(long, default_value_t = 0.0)]
    pub overlap: f64,
    /// Keep the DC bin as measured instead of interpolating it.
    #[arg(long)]
    pub keep_dc: bool,
}

impl PsdArgs {
    pub fn config(&self) -> PsdConfig {
        PsdConfig {
            fft_size: self.fft_size,
            window: self.window,
            overlap: self.overlap,
            integration_s: self.integration,
            dc: if self.keep_dc {
                DcMode::Keep
            } else {
                DcMode::Interpolate
            },
        }
    }
}

/// Check a site name before it becomes a file name (`PROFILE_DIR/SITE.toml`,
/// `alerts/SITE/`): 1 to 64 ASCII letters, digits, `-`, `_` and `.`, not
/// starting with `.` or `-`. Whatever was typed is quoted with control
/// characters escaped, never echoed raw to the terminal.
pub fn parse_site(s: &str) -> Result<String, String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let problem = if s.is_empty() {
        Some("it is empty")
    } else if s.len() > 64 {
        Some("it is longer than 64 characters")
    } else if s.starts_with(['.', '-']) {
        Some("it starts with '.' or '-'")
    } else if !s.chars().all(ok_char) {
        Some("it holds characters other than letters, digits, '-', '_' and '.' (a site name becomes a file and directory name)")
    } else {
        None
    };
    match problem {
        None => Ok(s.to_string()),
        Some(why) => Err(format!(
            "{s:?} is not a site name: {why}; expected 1 to 64 ASCII letters, digits, '-', '_' and '.', e.g. venue-a"
        )),
    }
}

/// Parse a frequency or rate: `433.92M`, `250k`, `1.2G`, `2.4e6`, `1000000`.
pub fn parse_hz(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, mult) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1e3),
        Some('M') => (&t[..t.len() - 1], 1e6),
        Some('G' | 'g') => (&t[..t.len() - 1], 1e9),
        _ => (t, 1.0),
    };
    let v: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a frequency: expected a number with an optional k/M/G suffix, e.g. 433.92M"))?;
    let hz = v * mult;
    if !(hz.is_finite() && hz > 0.0 && hz < 1e12) {
        return Err(format!(
            "{s:?} is out of range: expected a positive frequency below 1 THz"
        ));
    }
    Ok(hz)
}

/// Parse a duration: `90s`, `15m`, `2h`, `1h30m`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    if let Ok(secs) = s.parse::<f64>() {
        if secs.is_finite() && secs > 0.0 {
            return Ok(std::time::Duration::from_secs_f64(secs));
        }
    }
    humantime::parse_duration(s)
        .map_err(|e| format!("{s:?} is not a duration ({e}): expected e.g. 90s, 15m, 2h"))
}

/// Stop requests — Ctrl-C, SIGTERM, or the end of `--duration` — and the
/// flags of the pipeline runs they stop.
///
/// Each run (one recording, or one device session) gets its own flag from
/// [`run_stop_flag`]: a stop request sets every live run flag, but a run
/// also sets its own flag when it winds down (`pipeline::Running::join`),
/// and that must neither stop the next recording of `analyze`/`learn` nor
/// make the user's first Ctrl-C count as a second one.
struct Stops {
    requested: AtomicBool,
    /// Why the first stop was requested (for the log's closing record).
    reason: OnceLock<String>,
    /// Recordings or devices being opened now ([`while_opening`]): an open
    /// can block for ever (a FIFO without a writer, a stuck driver), and
    /// nothing is in flight yet.
    opening: std::sync::atomic::AtomicUsize,
    runs: Mutex<Vec<Weak<AtomicBool>>>,
}

fn stops() -> &'static Stops {
    static STOPS: OnceLock<Stops> = OnceLock::new();
    STOPS.get_or_init(|| {
        if let Err(e) = ctrlc::set_handler(|| {
            if stops().requested.load(Ordering::SeqCst) {
                // Second Ctrl-C: the user insists.
                std::process::exit(130);
            }
            if stops().opening.load(Ordering::SeqCst) > 0 {
                // Blocked opening a recording or a device: nothing to
                // finish, and the open may never return.
                eprintln!("rfsentry: stopped while opening a recording or device");
                std::process::exit(130);
            }
            request_stop("interrupted (Ctrl-C or SIGTERM)");
        }) {
            tracing::warn!("cannot install the Ctrl-C handler: {e}");
        }
        Stops {
            requested: AtomicBool::new(false),
            reason: OnceLock::new(),
            opening: std::sync::atomic::AtomicUsize::new(0),
            runs: Mutex::new(Vec::new()),
        }
    })
}

/// Open a recording; a stop request (Ctrl-C, SIGTERM) while the open is
/// blocked — a FIFO nobody writes to yet — ends the process at once.
pub fn open_recording(
    path: &std::path::Path,
    opts: &OpenOptions,
) -> crate::Result<Box<dyn crate::iq::IqReader>> {
    while_opening(&path.display().to_string(), || crate::iq::open(path, opts))
}

/// Run `open` (of a recording or a device, named `what`) so that a stop
/// request while it is blocked — a FIFO without a writer, a driver that
/// never returns from its open — ends the process at once: nothing is in
/// flight yet, and the call may never return.
pub fn while_opening<T>(what: &str, open: impl FnOnce() -> crate::Result<T>) -> crate::Result<T> {
    struct Opening;
    impl Drop for Opening {
        fn drop(&mut self) {
            stops().opening.fetch_sub(1, Ordering::SeqCst);
        }
    }
    let s = stops();
    s.opening.fetch_add(1, Ordering::SeqCst);
    let _opening = Opening;
    if s.requested.load(Ordering::SeqCst) {
        return Err(crate::Error::StoppedOpening {
            what: what.to_string(),
        });
    }
    open()
}

/// Install the Ctrl-C/SIGTERM handler (once); call early in a command.
pub fn install_stop_handler() {
    let _ = stops();
}

/// Ask every run to stop (what Ctrl-C, SIGTERM and `--duration` do),
/// saying why.
pub fn request_stop(reason: &str) {
    let s = stops();
    let _ = s.reason.set(reason.to_string());
    s.requested.store(true, Ordering::SeqCst);
    let runs = s.runs.lock().unwrap_or_else(|e| e.into_inner());
    for run in runs.iter().filter_map(Weak::upgrade) {
        run.store(true, Ordering::SeqCst);
    }
}

/// Whether a stop was requested (by the user or `--duration`), as opposed
/// to a run ending by itself.
pub fn stop_requested() -> bool {
    stops().requested.load(Ordering::SeqCst)
}

/// Why the first stop was requested, if one was.
pub fn stop_reason() -> Option<String> {
    stops().reason.get().cloned()
}

/// The run's stop reason, for the log's closing record.
pub fn stop_reason_for_log() -> crate::watch::StopReason {
    crate::watch::StopReason(Arc::new(stop_reason))
}

/// A stop flag for one pipeline run: set by [`request_stop`] (already set
/// if a stop was requested before), and free for the run to set itself.
pub fn run_stop_flag() -> Arc<AtomicBool> {
    let s = stops();
    let flag = Arc::new(AtomicBool::new(false));
    let mut runs = s.runs.lock().unwrap_or_else(|e| e.into_inner());
    runs.retain(|r| r.strong_count() > 0);
    runs.push(Arc::downgrade(&flag));
    // Read under the lock: a request either sees this flag or is seen here.
    flag.store(s.requested.load(Ordering::SeqCst), Ordering::SeqCst);
    flag
}

/// Request a stop after `duration` (for `--duration` on live sources).
pub fn stop_after(duration: std::time::Duration) {
    install_stop_handler();
    std::thread::spawn(move || {
        std::thread::sleep(duration);
        request_stop(&format!(
            "--duration {} elapsed",
            humantime::format_duration(duration)
        ));
    });
}

/// A progress bar on stderr when it is a terminal (hidden otherwise).
pub fn progress_bar(total_samples: Option<u64>, label: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = match total_samples {
        Some(n) => indicatif::ProgressBar::new(n),
        None => indicatif::ProgressBar::new_spinner(),
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {percent:>3}% {human_pos}/{human_len} samples, eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(label.to_string());
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hz_suffixes() {
        assert_eq!(parse_hz("433.92M").unwrap(), 433.92e6);
        assert_eq!(parse_hz("250k").unwrap(), 250e3);
        assert_eq!(parse_hz("2.4e6").unwrap(), 2.4e6);
        assert!(parse_hz("abc").is_err());
        assert!(parse_hz("-5").is_err());
        assert!(parse_hz("0").is_err());
    }

    #[test]
    fn site_names() {
        for good in ["venue-a", "demo_venue.2", "A1"] {
            assert_eq!(parse_site(good).unwrap(), good);
        }
        for bad in [
            "",
            "../../x",
            "a/b",
            ".hidden",
            "-x",
            "a b",
            "caf\u{e9}",
            "x\u{1b}[2J",
        ] {
            assert!(parse_site(bad).is_err(), "{bad:?}");
        }
        let msg = parse_site("x\u{1b}[2Jy").unwrap_err();
        assert!(!msg.contains('\u{1b}'), "escaped: {msg}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s").unwrap().as_secs(), 90);
        assert_eq!(parse_duration("15m").unwrap().as_secs(), 900);
        assert_eq!(parse_duration("2h").unwrap().as_secs(), 7200);
        assert_eq!(parse_duration("1.5").unwrap().as_millis(), 1500);
        assert!(parse_duration("soon").is_err());
    }
}

/// Whether a run writes evidence beside its alert log.
#[derive(Debug, Args, Clone)]
pub struct EvidenceArgs {
    /// Write only the alert log: no IQ snippets, pictures or report.
    #[arg(long)]
    pub no_evidence: bool,
}

/// The sensor key that signs what a command writes.
#[derive(Debug, Args, Clone)]
pub struct KeyArgs {
    /// The sensor's private key (from `rfsentry keygen`): signs the alert
    /// log's chain of custody (or the profile, for learn). Default: the
    /// profile's [custody] key, if it names one.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
}

impl KeyArgs {
    /// Load `--key`, else the key the profile at `profile_path` names in
    /// `[custody]`; `None` when neither is given.
    pub fn load(
        &self,
        profile: Option<(&crate::profile::Profile, &std::path::Path)>,
    ) -> crate::Result<Option<Arc<crate::custody::SensorKey>>> {
        crate::run::sensor_key(self.key.as_deref(), profile)
    }
}
