//! The chain of custody of a run's record: alert logs and evidence that
//! anyone can verify and no one can quietly alter.
//!
//! - [`chain`]: every alert-log line carries the hash of the line before it
//!   (`seq`, `prev`), so an edited, deleted, moved or inserted line shows;
//! - [`key`]: each sensor's Ed25519 key pair (`rfsentry keygen`);
//! - [`record`]: the lines the chain adds — the genesis naming sensor, site,
//!   software and public key; a restart's start record (what it repaired);
//!   signed heads (every minute and after every `cleared`); evidence hashes;
//!   the signed closing record of every run;
//! - [`sealer`]: the writer's side — seals a run's lines and adds its records;
//! - [`verify`]: `rfsentry verify`, which names the first line or file that
//!   fails and why;
//! - [`evidence`]: which files are evidence, their hashes, what a log binds;
//! - [`detached`]: signatures of single files (a profile) beside them.
//!
//! The alert log's writer (`alert::log`) seals every line it writes through
//! [`chain::Chain`], whatever the line's event: the chain lives at the
//! writer, not in the events.

pub mod chain;
pub mod detached;
pub mod evidence;
pub mod key;
pub mod record;
pub mod sealer;
pub mod verify;

pub use key::{PublicKey, SensorKey};
pub use sealer::RunContext;
pub use verify::{
    verify_dir, verify_signed_file, Failure, Problem, ReceivedHead, Verdict, VerifyOptions,
};
