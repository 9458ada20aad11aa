//! The crate's error type: every failure names the file or field it concerns
//! and what was expected, so the command line can print it and exit non-zero.

use std::path::{Path, PathBuf};

/// Everything that can go wrong in rfsentry.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O operation on a named file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file's content is not what was expected: `field` names the part of it.
    #[error("{}: {field}: {expected}", path.display())]
    Format {
        path: PathBuf,
        field: String,
        expected: String,
    },
    /// A setting (command-line flag, scenario, profile value) is invalid.
    #[error("{0}")]
    Config(String),
    /// A recording does not fit the profile it is checked against.
    #[error("{0}")]
    Mismatch(String),
    /// A receiver (SoapySDR device) failed.
    #[error("device: {0}")]
    Device(String),
}

/// Shorthand for results carrying [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// A format error: `field` of `path` is not `expected`.
    pub fn format(
        path: impl AsRef<Path>,
        field: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        Error::Format {
            path: path.as_ref().to_path_buf(),
            field: field.into(),
            expected: expected.into(),
        }
    }

    /// A configuration error with a message.
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config(message.into())
    }
}
