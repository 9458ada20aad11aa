//! The console's errors: what stops it from starting, said clearly (the
//! address, the file, what was expected).

use std::path::PathBuf;
use thiserror::Error;

/// Why the console (or a notifier) could not start.
#[derive(Debug, Error)]
pub enum ConsoleError {
    #[error("--listen {addr}: not a loopback address, and no access token: give --token-file FILE (a file holding a secret of at least {min} characters) to serve other machines, or listen on 127.0.0.1")]
    NeedsToken { addr: String, min: usize },
    #[error("--listen {addr}: cannot listen there: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("--listen {addr}: expected an address and port such as 127.0.0.1:8080 or [::1]:8080")]
    BadAddress { addr: String },
    #[error("--token-file {path}: {source}")]
    TokenFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("--token-file {path}: {what}")]
    BadToken { path: PathBuf, what: String },
    #[error("--notify-webhook {url}: {what}")]
    BadWebhook { url: String, what: String },
    #[error("--notify-exec: {what}")]
    BadExec { what: String },
    #[error("cannot start the console's {what}: {source}")]
    Start {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
}
