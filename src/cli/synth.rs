//! `rfsentry synth scenario.toml -o out.sigmf-meta`: write a labelled
//! synthetic SigMF recording from a scenario file (DESIGN §6, §7).

use crate::iq::Datatype;
use crate::synth::{generate, Scenario};
use crate::{Error, Result};
use std::path::PathBuf;

/// Make a labelled test recording: noise, known emitters, jammers, rogue bursts.
#[derive(clap::Args, Debug)]
pub struct SynthArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
    /// Output recording: `NAME.sigmf-meta`, `NAME.sigmf-data` or `NAME`.
    #[arg(short = 'o', long)]
    pub output: PathBuf,
    /// Sample encoding (cf32_le, ci16_le, ci8, cu8, …); overrides the scenario's.
    #[arg(long)]
    pub datatype: Option<String>,
    /// Random seed; overrides the scenario's.
    #[arg(long)]
    pub seed: Option<u64>,
}

/// Generate the recording and print a one-line summary.
pub fn run(args: &SynthArgs) -> Result<()> {
    let mut scenario = Scenario::load(&args.scenario)?;
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    let datatype = match &args.datatype {
        Some(name) => name
            .parse::<Datatype>()
            .map_err(|message| Error::setting("--datatype", "", message))?,
        None => scenario.datatype,
    };
    let meta = generate(&scenario, &args.output, datatype)?;
    println!(
        "{}: {} samples ({} s at {} S/s, {datatype}), {} known emitters, {} events, seed {}",
        meta.display(),
        scenario.total_samples(),
        scenario.duration_s,
        scenario.sample_rate,
        scenario.emitters.len(),
        scenario.events.len(),
        scenario.seed
    );
    Ok(())
}
