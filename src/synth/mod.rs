//! `rfsentry synth`: a deterministic generator of labelled SigMF test
//! recordings — the ground truth the detectors and their scoring are measured
//! against (DESIGN §7).
//!
//! A [`Scenario`] (usually a TOML file, see [`Scenario::load`]) describes a
//! recording: a complex Gaussian noise floor, known emitters present all the
//! time, and timed incidents (jammers, rogue transmitters, receiver faults),
//! each written as a SigMF annotation naming its alert kind, its band and its
//! excess power. [`generate()`] streams the samples in fixed-size blocks, so
//! memory stays constant whatever the duration; the same scenario and seed
//! always give byte-identical files.
//!
//! Level convention: a signal's `level_db` is its power spectral density over
//! the noise density within its occupied bandwidth `B`, so its total power is
//! `noise_power / sample_rate · max(B, sample_rate / 1024) · 10^(level_db / 10)`
//! (see [`level`]).
//!
//! Module map: the scenario model ([`scenario`]), its range checks
//! ([`validate`]) and its TOML form ([`scenario_file`], [`toml_fields`]); the
//! signal families, one per module ([`noise`], [`carrier`], [`nbfm`],
//! [`keyed`], [`band_noise`], [`chirp`]) over shared building blocks
//! ([`signal`], [`oscillator`], [`fir`], [`gate`], [`rng`], [`level`],
//! [`mod@format`]); and the assembly of a scenario into a [`mixer::Mixer`]
//! ([`assemble`]), its ground truth ([`annotate`]) and the block-streaming
//! writer ([`mod@generate`]).

pub mod annotate;
pub mod assemble;
pub mod band_noise;
pub mod carrier;
pub mod chirp;
pub mod envelope;
pub mod fir;
pub mod format;
pub mod gate;
pub mod generate;
pub mod keyed;
pub mod level;
pub mod mixer;
pub mod nbfm;
pub mod noise;
pub mod oscillator;
pub mod receiver;
pub mod rng;
pub mod scenario;
pub mod scenario_file;
pub mod signal;
pub mod toml_fields;
pub mod validate;

pub use annotate::annotations;
pub use generate::{generate, BLOCK_SAMPLES};
pub use keyed::Keying;
pub use scenario::{
    Band, BurstSpec, DutyCycle, Emitter, EmitterKind, Event, Incident, RogueModulation, Scenario,
    DEFAULT_START_TIME,
};
pub use signal::Signal;
