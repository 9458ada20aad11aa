//! `rfsentry learn`: build or merge a site's baseline profile from recordings
//! (or, with the `soapy` feature, from a live device). The flags become a
//! `run::learn::LearnOptions`; the learning itself is the core's
//! (`rfsentry_core::run::learn`); this prints the profile it wrote.

use super::common::{KeyArgs, PsdArgs, RecordingArgs, SiteArgs};
use super::host::CliHost;
use crate::run::learn::{learn, LearnInput, LearnOptions, Learned};
use crate::Result;
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

pub fn run(args: &LearnArgs) -> Result<()> {
    let input = if args.live.device.is_some() {
        LearnInput::Device {
            sample_rate: args.input.rate,
            duration: args.duration,
            tune: args.live.tune.clone(),
            freq: args.input.freq,
            gain_db: args.live.gain,
        }
    } else {
        LearnInput::Recordings {
            paths: args.input.recordings.clone(),
            open: args.input.open_options(),
            skip_s: args.skip,
            duration: args.duration,
        }
    };
    let opts = LearnOptions {
        site: args.site.site.clone(),
        profile_path: args.site.profile_path(),
        psd: args.psd.config(),
        input,
        replace: args.replace,
        description: args.description.clone(),
        location: args.location.clone(),
        add_tuning: args.add_tuning,
        dwell_s: args.live.dwell,
        key: args.key.key.clone(),
    };
    let Learned { profile, path } = learn(&opts, &CliHost::with_device(&args.live))?;
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
