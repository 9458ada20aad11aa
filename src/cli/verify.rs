//! `rfsentry verify`: check an output directory's chain of custody (or a
//! signed profile) and print the verdict; exit 0 only when everything holds.

use crate::custody::{verify_dir, verify_signed_file, PublicKey, Verdict, VerifyOptions};
use clap::Args;
use std::path::PathBuf;

/// Verify a run's alert log and evidence.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// An output directory (alerts/SITE, or --out), its alerts.jsonl, or a signed profile (.toml with .toml.sig beside it).
    #[arg(value_name = "OUTDIR")]
    pub target: PathBuf,
    /// The sensor's public key (FILE.pub from rfsentry keygen); without it,
    /// the key the log names is used, which shows the log is consistent but not who wrote it.
    #[arg(long, value_name = "FILE")]
    pub pubkey: Option<PathBuf>,
    /// The verdict as JSON on stdout, for tools.
    #[arg(long)]
    pub json: bool,
    /// Accept a log without a closing record (a crashed run, or one still
    /// going); everything up to its last signed line is still checked.
    #[arg(long)]
    pub allow_incomplete: bool,
}

/// Returns the exit code: 0 verified, 1 not (or the check could not run).
pub fn run(args: &VerifyArgs) -> i32 {
    let pubkey = match args.pubkey.as_deref().map(PublicKey::load).transpose() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("rfsentry: error: {e}");
            return 1;
        }
    };
    let opts = VerifyOptions {
        pubkey,
        allow_incomplete: args.allow_incomplete,
    };
    let target = &args.target;
    let verdict: Verdict = if target.is_dir() {
        verify_dir(target, &opts)
    } else if target
        .file_name()
        .is_some_and(|n| n == crate::layout::LOG_FILE)
    {
        verify_dir(target.parent().unwrap_or(std::path::Path::new(".")), &opts)
    } else if target.is_file() {
        verify_signed_file(target, &opts)
    } else {
        eprintln!(
            "rfsentry: error: {}: not found; expected an output directory (alerts/SITE) or a signed profile",
            target.display()
        );
        return 1;
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&verdict).expect("verdicts serialise")
        );
    } else {
        print!("{}", verdict.to_text());
    }
    if verdict.verified {
        0
    } else {
        1
    }
}
