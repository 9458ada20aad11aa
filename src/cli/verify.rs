//! `rfsentry verify`: check an output directory's chain of custody (or a
//! signed profile) and print the verdict; exit 0 only when everything holds.

use crate::custody::{
    verify_dir, verify_signed_file, PublicKey, ReceivedHead, Verdict, VerifyOptions,
};
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
    /// The signed lines the command centre received from this sensor
    /// (rfsentry hub --export heads -o FILE): each must be in the log, so a
    /// log cut or rewritten after them fails even with --allow-incomplete.
    #[arg(long, value_name = "FILE")]
    pub heads: Option<PathBuf>,
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
    let heads = match args.heads.as_deref().map(read_heads).transpose() {
        Ok(h) => h.unwrap_or_default(),
        Err(e) => {
            eprintln!("rfsentry: error: {e}");
            return 1;
        }
    };
    let opts = VerifyOptions {
        pubkey,
        allow_incomplete: args.allow_incomplete,
        heads,
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

/// The heads a hub exported: one JSON object per line.
fn read_heads(path: &std::path::Path) -> Result<Vec<ReceivedHead>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read the heads file: {e}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| {
                format!(
                    "{}:{}: not a chain head ({e}); expected a line of rfsentry hub --export heads",
                    path.display(),
                    i + 1
                )
            })
        })
        .collect()
}
