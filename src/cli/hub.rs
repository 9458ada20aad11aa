//! `rfsentry hub`: the command centre (rfsentry-fleet), run until Ctrl-C or
//! SIGTERM; `--export` writes its alerts instead.

use super::CliError;

pub use rfsentry_fleet::cli::HubArgs;

pub fn run(args: &HubArgs) -> Result<(), CliError> {
    let stop = super::common::run_stop_flag();
    Ok(rfsentry_fleet::cli::run_hub(args, stop)?)
}
