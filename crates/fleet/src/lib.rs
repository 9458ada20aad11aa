//! rfsentry-fleet: every venue's alerts reach one command centre through an
//! MQTT broker, with nothing lost.
//!
//! - Sensor side (`monitor --publish`): [`publisher`] tails the alert log
//!   ([`spool`]) from a durable [`cursor`] and publishes each event, the
//!   [`evidence`] it names and a heartbeat under the [`topics`] contract,
//!   through the [`broker`] connection settings.
//! - Command centre (`rfsentry hub`): [`hub`] subscribes to every sensor,
//!   stores each event exactly once in SQLite and serves a web page and a
//!   JSON API behind the [`access`] rule.
//!
//! Nothing here is in the monitor's pipeline: the publisher reads the log
//! the pipeline writes, on a thread of its own.

pub mod access;
pub mod broker;
pub mod cli;
pub mod cursor;
pub mod error;
pub mod evidence;
pub mod hub;
pub mod publisher;
pub mod spool;
pub mod topics;

pub use error::{FleetError, Result};
