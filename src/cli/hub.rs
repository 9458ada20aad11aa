//! `rfsentry hub`: the command centre (rfsentry-fleet), run until Ctrl-C or
//! SIGTERM; `--export` writes its alerts instead.

use crate::{Error, Result};

pub use rfsentry_fleet::cli::HubArgs;

pub fn run(args: &HubArgs) -> Result<()> {
    let stop = super::common::run_stop_flag();
    rfsentry_fleet::cli::run_hub(args, stop).map_err(|e| Error::config(e.to_string()))
}
