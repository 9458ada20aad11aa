//! Learning a site's profile: open the sources (recordings, or a live
//! receiver for a while), check they fit one profile and the one already
//! there, run them through the pipeline into a [`Learner`], then save the
//! profile — merged into the existing one unless replacing — and sign it
//! when a key is given.

use super::{Host, Notice};
use crate::dsp::PsdConfig;
use crate::iq::OpenOptions;
use crate::pipeline::{for_each_frame, PipelineSettings};
use crate::profile::learn::{merge, Learner};
use crate::profile::{CaptureSettings, Profile, Site};
use crate::source::file::FileSource;
use crate::source::Source;
use crate::{Error, Result};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where to learn from.
#[derive(Debug, Clone)]
pub enum LearnInput {
    /// Recordings, each from `skip_s` seconds in and for at most `duration`.
    Recordings {
        paths: Vec<PathBuf>,
        open: OpenOptions,
        skip_s: f64,
        duration: Option<Duration>,
    },
    /// A live receiver (opened through [`Host::open_device`]) at
    /// `sample_rate`, for `duration`, tuned to `tune` (a scan plan) or
    /// `freq`, with `gain_db` (`None`: the device's AGC or the site's gain).
    Device {
        sample_rate: Option<f64>,
        duration: Option<Duration>,
        tune: Vec<f64>,
        freq: Option<f64>,
        gain_db: Option<f64>,
    },
}

/// What `learn` is asked to do.
#[derive(Debug, Clone)]
pub struct LearnOptions {
    /// The site's name (`--site`).
    pub site: String,
    /// Where its profile is (`PROFILE_DIR/SITE.toml`).
    pub profile_path: PathBuf,
    pub psd: PsdConfig,
    pub input: LearnInput,
    /// Replace an existing profile instead of merging into it.
    pub replace: bool,
    /// Site text, kept when merging unless given.
    pub description: Option<String>,
    pub location: Option<String>,
    /// Let a merge add tunings (making the profile a scan plan).
    pub add_tuning: bool,
    /// Seconds at each tuning of a scan plan (`--dwell`).
    pub dwell_s: f64,
    /// The sensor key that signs the profile (`--key`; else the profile's
    /// `[custody]` key).
    pub key: Option<PathBuf>,
}

/// The profile `learn` wrote, and where.
#[derive(Debug)]
pub struct Learned {
    pub profile: Profile,
    pub path: PathBuf,
}

/// A live scan plan: `tune` (several centre frequencies, each dwelt on
/// `dwell_s`) or the single `freq`, as (centre Hz, dwell s) per tuning.
pub fn scan_plan(tune: &[f64], freq: Option<f64>, dwell_s: f64) -> Result<Vec<(f64, f64)>> {
    let freqs: Vec<f64> = if tune.is_empty() {
        freq.into_iter().collect()
    } else {
        tune.to_vec()
    };
    if freqs.is_empty() {
        return Err(Error::missing(
            "a live device",
            "a centre frequency: --freq F, or --tune F1,F2,… for a scan plan",
        ));
    }
    if freqs.len() > 1 && !(dwell_s.is_finite() && dwell_s > 0.0) {
        return Err(Error::setting(
            "--dwell",
            dwell_s,
            "a positive number of seconds",
        ));
    }
    let dwell = if freqs.len() > 1 { dwell_s } else { 0.0 };
    Ok(freqs.into_iter().map(|f| (f, dwell)).collect())
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

/// The sources to learn from, and the live scan plan (if live).
type Sources = (Vec<Box<dyn Source>>, Option<Vec<(f64, f64)>>);

fn sources(opts: &LearnOptions, host: &dyn Host) -> Result<Sources> {
    match &opts.input {
        LearnInput::Device {
            sample_rate,
            duration,
            tune,
            freq,
            ..
        } => {
            let rate = sample_rate.ok_or_else(|| {
                Error::missing("learning from a device", "--rate (samples per second)")
            })?;
            if duration.is_none() {
                return Err(Error::missing(
                    "learning from a device",
                    "--duration (e.g. 15m)",
                ));
            }
            let plan = scan_plan(tune, *freq, opts.dwell_s)?;
            let existing = Profile::load(&opts.profile_path).ok();
            let site_device = existing.as_ref().and_then(|p| p.device.as_ref());
            let source = host.open_device(site_device, rate, &plan)?;
            Ok((vec![source], Some(plan)))
        }
        LearnInput::Recordings {
            paths,
            open,
            skip_s,
            duration,
        } => {
            if paths.is_empty() {
                return Err(Error::missing(
                    "learn",
                    "at least one RECORDING (or --device)",
                ));
            }
            let sources = paths
                .iter()
                .map(|path| {
                    let reader = host.open_recording(path, open)?;
                    let rate = reader.info().sample_rate;
                    let skip = (skip_s.max(0.0) * rate) as u64;
                    let limit = duration.map(|d| (d.as_secs_f64() * rate) as u64);
                    Ok(
                        Box::new(FileSource::new(reader).start_at(skip)?.limit(limit))
                            as Box<dyn Source>,
                    )
                })
                .collect::<Result<_>>()?;
            Ok((sources, None))
        }
    }
}

/// Learn (or merge into) the site's profile, save it and sign it; the
/// profile written is returned for the caller to describe.
pub fn learn(opts: &LearnOptions, host: &dyn Host) -> Result<Learned> {
    let psd = opts.psd;
    let (sources, live_plan) = sources(opts, host)?;
    let live = live_plan.is_some();
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
    let path = opts.profile_path.clone();
    let existing = if path.exists() && !opts.replace {
        Some(Profile::load(&path)?)
    } else {
        None
    };
    if let Some(old) = &existing {
        let added = new_tunings(old, &sources);
        if !added.is_empty() && !opts.add_tuning {
            return Err(Error::MergeTuning {
                profile: old.site.name.clone(),
                adding: added,
                learned_at_hz: old.segments.iter().map(|s| s.center_hz).collect(),
            });
        }
        if opts.add_tuning && !(opts.dwell_s.is_finite() && opts.dwell_s > 0.0) {
            return Err(Error::setting(
                "--dwell",
                opts.dwell_s,
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
    if let LearnInput::Device {
        duration: Some(d), ..
    } = &opts.input
    {
        host.stop_after(*d);
    }
    let settings = PipelineSettings::new(psd);
    for source in sources {
        if !live && host.stop_requested() {
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
        let progress = host.progress(&format!("learning {}", info.name), info.total_samples);
        let samples = for_each_frame(
            source,
            &settings,
            host.stop_flag(),
            |f| learner.add(&f),
            |n| progress.advance(n),
        )?;
        progress.finish();
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
    if !live && host.stop_requested() {
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
        name: opts.site.clone(),
        description: opts.description.clone().unwrap_or_default(),
        location: opts.location.clone().unwrap_or_default(),
        learned_by: format!("rfsentry {}", crate::VERSION),
        learned_at,
        tool_version: crate::VERSION.to_string(),
        sources: names,
    };
    let mut learned = learner.finish(site);
    if let (LearnInput::Device { gain_db, .. }, Some(plan)) = (&opts.input, &live_plan) {
        learned.capture.gain_db = *gain_db;
        for seg in &mut learned.segments {
            if let Some(&(_, dwell)) = plan.iter().find(|(f, _)| (f - seg.center_hz).abs() < 1.0) {
                seg.dwell_s = dwell;
            }
        }
    }
    let profile = match existing {
        Some(old) => {
            let mut merged = merge(&old, &learned)?;
            if opts.add_tuning && merged.segments.len() > 1 {
                // A scan plan needs a dwell at every tuning (monitor refuses 0).
                for seg in merged.segments.iter_mut().filter(|s| s.dwell_s <= 0.0) {
                    seg.dwell_s = opts.dwell_s;
                    host.notice(Notice::DwellSet {
                        center_hz: seg.center_hz,
                        dwell_s: opts.dwell_s,
                    });
                }
            }
            if let Some(d) = &opts.description {
                merged.site.description = d.clone();
            }
            if let Some(l) = &opts.location {
                merged.site.location = l.clone();
            }
            merged
        }
        None => learned,
    };
    profile.save(&path)?;
    sign(opts.key.as_deref(), &profile, &path, host)?;
    Ok(Learned { profile, path })
}

/// Sign the profile just written at `path` when a key is given (`key`, or
/// the profile's `[custody]` key): `path.sig` beside it.
fn sign(key: Option<&Path>, profile: &Profile, path: &Path, host: &dyn Host) -> Result<()> {
    let sig = crate::custody::detached::signature_path(path);
    match super::sensor_key(key, Some((profile, path)))? {
        Some(key) => {
            let written = crate::custody::detached::sign_file(&key, path)?;
            host.notice(Notice::Signed {
                signature: &written,
                key_id: key.public().id(),
                profile: path,
            });
        }
        None if sig.exists() => host.notice(Notice::StaleSignature { signature: &sig }),
        None => {}
    }
    Ok(())
}
