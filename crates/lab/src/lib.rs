//! rfsentry-lab — the lab beside the monitor: [`synth`], the generator of
//! labelled SigMF test recordings, and [`score`], which measures an alert log
//! against their ground truth. Both stay user commands (`rfsentry synth`,
//! `rfsentry score`); both build on the core library and nothing in the core
//! depends on them.

// The core modules the lab builds on, bound at the crate root so the lab's
// files name them as `crate::alert::…`, `crate::iq::…`.
use rfsentry_core::{alert, iq, Error, Result};

pub mod score;
pub mod synth;
