//! `monitor`'s flags for the operator: the web console (`--listen`,
//! `--token-file`), notifications (`--notify-exec`, `--notify-webhook`) and
//! the terminal screen (`--no-bell`, `--local-time`), handed as they are to
//! the console crate.

use clap::Args;
use rfsentry_console::{ConsoleOptions, NotifyOptions};
use std::path::PathBuf;

/// What the operator sees and hears.
#[derive(Debug, Args, Clone, Default)]
pub struct OperatorArgs {
    /// Serve the operator console (web page, JSON API, /metrics) at this address, e.g. 127.0.0.1:8080.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// File holding the console's access token (needed to listen beyond loopback; mode 600).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Run this shell command on each raised/cleared/acknowledged alert, the alert's JSON on its stdin.
    #[arg(long, value_name = "CMD")]
    pub notify_exec: Option<String>,
    /// POST each raised/cleared/acknowledged alert's JSON to this URL (retried).
    #[arg(long, value_name = "URL")]
    pub notify_webhook: Option<String>,
    /// No terminal bell when an alert is raised.
    #[arg(long)]
    pub no_bell: bool,
    /// Show times on the terminal in local time instead of UTC.
    #[arg(long)]
    pub local_time: bool,
}

impl OperatorArgs {
    pub fn options(&self) -> ConsoleOptions {
        ConsoleOptions {
            listen: self.listen.clone(),
            token_file: self.token_file.clone(),
            notify: NotifyOptions {
                exec: self.notify_exec.clone(),
                webhook: self.notify_webhook.clone(),
                webhook_backoff: None,
            },
            no_bell: self.no_bell,
            local_time: self.local_time,
        }
    }
}
