//! The fleet's errors: what a user typed wrong (a broker URL, a credentials
//! file, an unsafe listen address) and what failed on disk or on the wire,
//! each naming the file, the setting or the address involved.

use std::path::{Path, PathBuf};

/// Errors of the publisher and the hub.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// A setting given on the command line or in a file is not usable.
    #[error("{0}")]
    Config(String),
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
    pub fn config(msg: impl Into<String>) -> Self {
        FleetError::Config(msg.into())
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
