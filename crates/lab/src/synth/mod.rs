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
//! A real site is not a clean one (DESIGN §9): scenarios can impair the
//! receiver (`[receiver]`: DC spike, IQ image, gain drift — [`receiver`]; 8-bit
//! quantisation comes from writing `cu8`/`ci8`), make known emitters wander in
//! frequency ([`drift`]), add legitimate intermittent users (push-to-talk
//! radios, jittered sensors — [`gate`]) and stage harder incidents (frequency
//! hoppers — [`hop`], short rogue bursts, creeping jammers — [`envelope`],
//! emitters moved off their channel).
//!
//! Module map: the scenario model ([`scenario`]), its range checks
//! ([`validate`]) and its TOML form ([`scenario_file`], [`toml_fields`]); the
//! incident kinds, one module each holding all there is to a kind — its
//! parameters, TOML keys, checks, signal and annotation ([`incidents`]); the
//! signal families, one per module ([`noise`], [`carrier`], [`nbfm`],
//! [`keyed`], [`band_noise`], [`chirp`], [`hop`]) over shared building blocks
//! ([`signal`], [`oscillator`], [`drift`], [`envelope`], [`fir`], [`gate`],
//! [`rng`], [`level`]; numbers for people from `rfsentry_core::units`); the receiver's impairments
//! ([`receiver`]); and the assembly of a scenario into a [`mixer::Mixer`]
//! ([`assemble`]), its ground truth ([`annotate`]), the block [`Stream`] of its
//! samples (for tests that need hours of signal without a file) and the
//! SigMF writer ([`mod@generate`]).

pub mod annotate;
pub mod assemble;
pub mod band_noise;
pub mod carrier;
pub mod chirp;
pub mod drift;
pub mod envelope;
pub mod fir;
pub mod gate;
pub mod generate;
pub mod hop;
pub mod incidents;
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
pub mod stream;
pub mod toml_fields;
pub mod validate;

pub use annotate::annotations;
pub use generate::{generate, BLOCK_SAMPLES};
pub use incidents::{Incident, IncidentKind, RogueModulation, RogueTiming};
pub use keyed::Keying;
pub use scenario::{
    Band, BurstSpec, BurstTrain, DutyCycle, Emitter, EmitterKind, Event, FrequencyDrift, GainDrift,
    Hopping, Impairments, PttSpec, Scenario, DEFAULT_START_TIME,
};
pub use signal::Signal;
pub use stream::Stream;
