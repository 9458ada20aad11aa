//! `rfsentry score`: detection quality of an alert log against the SigMF
//! annotations (ground truth) of the recordings it came from.

use super::common::RecordingArgs;
use crate::alert::log::read_alert_log;
use crate::score::{score, RecordingTruth};
use crate::{Error, Result};
use clap::Args;
use std::path::PathBuf;

/// Score alerts against annotated recordings.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// The alert log (alerts.jsonl).
    pub alerts: PathBuf,
    #[command(flatten)]
    pub input: RecordingArgs,
    /// Print the score as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &ScoreArgs) -> Result<()> {
    if args.input.recordings.is_empty() {
        return Err(Error::config(
            "score needs the annotated RECORDING(s) the alerts came from",
        ));
    }
    let events = read_alert_log(&args.alerts)?;
    let opts = args.input.open_options();
    let truths = args
        .input
        .recordings
        .iter()
        .map(|p| {
            let reader = crate::iq::open(p, &opts)?;
            let info = reader.info();
            Ok(RecordingTruth {
                name: p.display().to_string(),
                sample_rate: info.sample_rate,
                samples: info.total_samples.unwrap_or(0),
                annotations: info.annotations.clone(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let report = score(&events, &truths);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("score serialises")
        );
    } else {
        print!("{}", report.to_table());
    }
    Ok(())
}
