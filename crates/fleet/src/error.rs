//! The fleet's errors: what a user typed wrong (a broker URL, a credentials
//! file, an unsafe listen address) and what failed on disk or on the wire,
//! each naming the file, the setting or the address involved.

use std::path::{Path, PathBuf};

/// Errors of the publisher and the hub.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FleetError {
    /// A setting given on the command line (`--heartbeat`, a broker
    /// address, an export bound) has a value it may not have; `value` is
    /// `None` when the setting's presence is the problem.
    #[error("{name}{}: {problem}", value.as_deref().map(|v| format!(" {v}")).unwrap_or_default())]
    Setting {
        name: String,
        value: Option<String>,
        problem: String,
    },
    /// `by` (a setting or a broker address) needs `what`, which was not given.
    #[error("{by} needs {what}")]
    Missing { by: String, what: String },
    /// A file (credentials, certificate, key, cursor, database) does not
    /// hold what was expected.
    #[error("{}: {expected}", path.display())]
    Format { path: PathBuf, expected: String },
    /// TLS could not be set up; `context` names the files (or "TLS").
    #[error("{context}: {message}")]
    Tls { context: String, message: String },
    /// The hub would serve a non-loopback address without a token.
    #[error("refusing to listen on {addr}, which is not a loopback address, without an access token: give --token-file FILE (or RFSENTRY_HUB_TOKEN), or listen on 127.0.0.1")]
    Unprotected { addr: String },
    /// A thread or runtime (`what`) could not be started.
    #[error("cannot start {what}: {source}")]
    Start {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The access pieces shared with the console (the token file).
    #[error(transparent)]
    Access(#[from] rfsentry_console::ConsoleError),
    /// A failure in the core (writing a file atomically).
    #[error(transparent)]
    Core(#[from] rfsentry_core::Error),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The hub's database.
    #[error("hub database {path}: {source}")]
    Db {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// The hub's web server could not start.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}

impl FleetError {
    /// Setting `name` (typed as `value`) is not usable: `problem` says why.
    pub fn setting(
        name: impl Into<String>,
        value: Option<String>,
        problem: impl Into<String>,
    ) -> Self {
        FleetError::Setting {
            name: name.into(),
            value,
            problem: problem.into(),
        }
    }

    /// `path` does not hold `expected`.
    pub fn format(path: &Path, expected: impl Into<String>) -> Self {
        FleetError::Format {
            path: path.to_path_buf(),
            expected: expected.into(),
        }
    }

    pub fn io(path: &Path, source: std::io::Error) -> Self {
        FleetError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub fn db(path: &Path, source: rusqlite::Error) -> Self {
        FleetError::Db {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Result with a [`FleetError`].
pub type Result<T, E = FleetError> = std::result::Result<T, E>;
