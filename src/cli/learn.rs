//! `rfsentry learn`: build or merge a site's baseline profile from recordings
//! (or, with the `soapy` feature, from a live device).

use super::common::{
    install_stop_handler, progress_bar, run_stop_flag, stop_requested, KeyArgs, PsdArgs,
    RecordingArgs, SiteArgs,
};
use crate::pipeline::{for_each_frame, PipelineSettings};
use crate::profile::learn::{merge, Learner};
use crate::profile::{CaptureSettings, Profile, Site};
use crate::source::file::FileSource;
use crate::source::Source;
use crate::{Error, Result};
use clap::Args;

/// Learn what normal looks like at a site.
#[derive(Debug, Args)]
pub struct LearnArgs {
    #[command(flatten)]
    pub site: SiteArgs,
    #[command(flatten)]
    pub psd: PsdArgs,
    #[command(flatten)]
    pub input: RecordingArgs,
    /// Replace an existing profile instead of merging into it.
    #[arg(long)]
    pub replace: bool,
    /// Skip this many seconds at the start of each recording.
    #[arg(long, default_value_t = 0.0)]
    pub skip: f64,
    /// Learn from at most this long of each recording (or of the device), e.g. 90s, 15m.
    #[arg(long, value_parser = super::common::parse_duration)]
    pub duration: Option<std::time::Duration>,
    /// Free-text description of the site (kept when merging).
    #[arg(long)]
    pub description: Option<String>,
    /// Where the site is (kept when merging).
    #[arg(long)]
    pub location: Option<String>,
    /// Let a merge add tunings the profile does not have yet (making it a
    /// scan plan: monitor --device then visits each for --dwell seconds).
    #[arg(long)]
    pub add_tuning: bool,
    #[command(flatten)]
    pub live: super::live::DeviceArgs,
    #[command(flatten)]
    pub key: KeyArgs,
}

/// Tunings of `sources` that `old` does not have: merging them would make
/// its scan plan longer.
fn new_tunings(old: &Profile, sources: &[Box<dyn Source>]) -> Vec<(String, f64)> {
    let mut found: Vec<(String, f64)> = Vec::new();
    for s in sources {
        let info = s.info();
        for &f in &info.tunings {
            let known = old
                .segments
                .iter()
                .any(|seg| (seg.center_hz - f).abs() < 1.0)
                || found.iter().any(|(_, g)| (g - f).abs() < 1.0);
            if !known {
                found.push((info.name.clone(), f));
            }
        }
    }
    found
}

/// The sources to learn from.
fn sources(args: &LearnArgs) -> Result<Vec<Box<dyn Source>>> {
    if args.live.device.is_some() {
        let rate = args.input.rate.ok_or_else(|| {
            Error::missing("learning from a device", "--rate (samples per second)")
        })?;
        if args.duration.is_none() {
            return Err(Error::missing(
                "learning from a device",
                "--duration (e.g. 15m)",
            ));
        }
        let plan = args.live.plan(args.input.freq)?;
        let existing = Profile::load(&args.site.profile_path()).ok();
        let site_device = existing.as_ref().and_then(|p| p.device.as_ref());
        return Ok(vec![super::live::open_device(
            &args.live,
            site_device,
            rate,
            &plan,
        )?]);
    }
    if args.input.recordings.is_empty() {
        return Err(Error::missing(
            "learn",
            "at least one RECORDING (or --device)",
        ));
    }
    let opts = args.input.open_options();
    args.input
        .recordings
        .iter()
        .map(|path| {
            let reader = super::common::open_recording(path, &opts)?;
            let rate = reader.info().sample_rate;
            let skip = (args.skip.max(0.0) * rate) as u64;
            let limit = args.duration.map(|d| (d.as_secs_f64() * rate) as u64);
            Ok(Box::new(FileSource::new(reader).start_at(skip)?.limit(limit)) as Box<dyn Source>)
        })
        .collect()
}

pub fn run(args: &LearnArgs) -> Result<()> {
    let psd = args.psd.config();
    let sources = sources(args)?;
    let rate = sources[0].info().sample_rate;
    for s in &sources {
        let info = s.info();
        if (info.sample_rate - rate).abs() > 1e-6 * rate {
            return Err(Error::Mismatch {
                subject: info.name.clone(),
                property: "sample rate".into(),
                found: format!("{} Hz", info.sample_rate),
                against: format!(
                    "the first recording's {rate} Hz (one profile needs one sample rate)"
                ),
            });
        }
    }
    psd.validate(rate)?;
    let path = args.site.profile_path();
    let existing = if path.exists() && !args.replace {
        Some(Profile::load(&path)?)
    } else {
        None
    };
    if let Some(old) = &existing {
        let added = new_tunings(old, &sources);
        if !added.is_empty() && !args.add_tuning {
            return Err(Error::MergeTuning {
                profile: old.site.name.clone(),
                adding: added,
                learned_at_hz: old.segments.iter().map(|s| s.center_hz).collect(),
            });
        }
        if args.add_tuning && !(args.live.dwell.is_finite() && args.live.dwell > 0.0) {
            return Err(Error::setting(
                "--dwell",
                args.live.dwell,
                "a positive number of seconds",
            ));
        }
    }
    let thresholds = existing
        .as_ref()
        .map(|p| p.thresholds.clone())
        .unwrap_or_default();
    let capture = CaptureSettings {
        sample_rate: rate,
        psd,
        gain_db: None,
    };
    let mut learner = Learner::new(capture, thresholds);
    let mut names = Vec::new();
    let mut learned_at = String::new();
    install_stop_handler();
    if let (Some(d), Some(_)) = (args.duration, &args.live.device) {
        super::common::stop_after(d);
    }
    let settings = PipelineSettings::new(psd);
    for source in sources {
        if args.live.device.is_none() && stop_requested() {
            break;
        }
        let info = source.info();
        names.push(info.name.clone());
        if learned_at.is_empty() {
            learned_at = info
                .start_time
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default();
        }
        let bar = progress_bar(info.total_samples, &format!("learning {}", info.name));
        let samples = for_each_frame(
            source,
            &settings,
            run_stop_flag(),
            |f| learner.add(&f),
            |n| bar.inc(n),
        )?;
        bar.finish_and_clear();
        tracing::info!(
            "{}: {} samples, {} frames so far",
            info.name,
            samples,
            learner.frames()
        );
    }
    // From recordings, an interrupted run would learn a profile from part of
    // them and save it as if complete: refuse. (From a device, the stop is
    // how learning ends: --duration or Ctrl-C.)
    if args.live.device.is_none() && stop_requested() {
        return Err(Error::Interrupted {
            work: "learning".into(),
            at: format!("after {} frames", learner.frames()),
            consequence: format!(
                "the profile {} was not written (run learn again, or use --duration to learn from part of a recording)",
                path.display()
            ),
        });
    }
    if learner.frames() == 0 {
        return Err(Error::TooShort {
            sources: names,
            integration_s: psd.integration_s,
            sample_rate: rate,
        });
    }
    let site = Site {
        name: args.site.site.clone(),
        description: args.description.clone().unwrap_or_default(),
        location: args.location.clone().unwrap_or_default(),
        learned_by: format!("rfsentry {}", crate::VERSION),
        learned_at,
        tool_version: crate::VERSION.to_string(),
        sources: names,
    };
    let mut learned = learner.finish(site);
    if args.live.device.is_some() {
        learned.capture.gain_db = args.live.gain;
        let plan = args.live.plan(args.input.freq)?;
        for seg in &mut learned.segments {
            if let Some(&(_, dwell)) = plan.iter().find(|(f, _)| (f - seg.center_hz).abs() < 1.0) {
                seg.dwell_s = dwell;
            }
        }
    }
    let profile = match existing {
        Some(old) => {
            let mut merged = merge(&old, &learned)?;
            if args.add_tuning && merged.segments.len() > 1 {
                // A scan plan needs a dwell at every tuning (monitor refuses 0).
                for seg in merged.segments.iter_mut().filter(|s| s.dwell_s <= 0.0) {
                    seg.dwell_s = args.live.dwell;
                    println!(
                        "scan plan: {:.6} MHz dwells {} s (--dwell)",
                        seg.center_hz / 1e6,
                        args.live.dwell
                    );
                }
            }
            if let Some(d) = &args.description {
                merged.site.description = d.clone();
            }
            if let Some(l) = &args.location {
                merged.site.location = l.clone();
            }
            merged
        }
        None => learned,
    };
    profile.save(&path)?;
    super::keygen::sign_profile(&args.key, &profile, &path)?;
    let frames: u64 = profile.segments.iter().map(|s| s.frames).sum();
    println!(
        "profile {}: {} segment(s), {} frames, noise floor {:.1} dBFS/bin, {} known emitter(s)",
        path.display(),
        profile.segments.len(),
        frames,
        profile.segments[0].noise_floor_dbfs,
        profile.emitters.len()
    );
    for e in &profile.emitters {
        println!(
            "  {:<28} {:>10.4}–{:<10.4} MHz  peak {:6.1} dBFS  duty {:.2}",
            e.name,
            e.low_hz / 1e6,
            e.high_hz / 1e6,
            e.peak_dbfs,
            e.duty
        );
    }
    Ok(())
}
