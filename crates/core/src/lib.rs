//! rfsentry-core — the core library of rfsentry, a radio-spectrum
//! signal-security monitor.
//!
//! rfsentry learns a site's normal spectrum as a baseline [`profile`], then watches
//! IQ samples (a recording, or a live SoapySDR receiver) through a streaming
//! [`pipeline`]: source → [`dsp`] (Welch PSD) → [`detect`] (jamming, rogue
//! emitters, receiver health against the baseline) → [`alert`] sinks and
//! [`evidence`] (spectrogram PNGs, SigMF IQ snippets, an HTML report).
//!
//! It depends on nothing above it: the lab (`rfsentry-lab`: synth, score)
//! and the binary's command line build on it. Its top-level modules are
//! layered (error, atomic_file, config_keys, layout, units < iq < dsp < custody <
//! alert < source < profile < detect, evidence, pipeline < watch < run;
//! `tests/layers.rs` at the repository root checks it). [`run`] holds the
//! commands' runs (learn, analyze, the core's part of monitor), so the
//! command line only parses, calls and prints.
//!
//! # Glossary
//!
//! One word per concept; where a word has had two meanings, the note says
//! which one the code means now.
//!
//! - **sample**: one complex IQ value; **block**: a run of samples as a
//!   source hands them on (`source::IqBlock`).
//! - **tuning**: a centre frequency the receiver is set to. A recording's
//!   tunings are its SigMF `captures[]` ([`iq::Capture`]: *capture* in that
//!   SigMF sense only inside `iq`); a live scan plan is a list of
//!   `source::soapy::Tuning`s.
//! - **segment** (of a profile): the baseline statistics at one tuning
//!   ([`profile::Segment`]). The Welch method's overlapping FFT blocks are
//!   *FFT segments* (`dsp`), never just "segments".
//! - **frame**: one PSD estimate, the average of a frame's FFT segments
//!   ([`dsp::PsdFrame`]); a **bin** is one frequency cell of it.
//! - **baseline** / **profile**: what a site's normal spectrum looks like,
//!   learned by `learn` and stored as `profiles/SITE.toml`; the **floor** is
//!   its per-bin noise level, **excess** how far a signal stands over it (dB).
//! - **detection**: one finding in one frame (or one window of frames) by a
//!   detector; a **track** follows detections of one incident over time
//!   ([`detect::Tracker`]); an **incident** is the real-world event (a
//!   jammer switched on, a rogue transmitter).
//! - **alert**: what rfsentry tells about one incident, identified by its
//!   `id`; an **alert event** is one line of its life in the **alert log**
//!   (`raised`, `updated`, `cleared`, `acknowledged`); the **kind** names
//!   the threat (`jamming.tone`, `emitter.unknown`, …).
//! - **evidence**: the files that back an alert — its **spectrogram**
//!   picture and its **IQ snippet** (SigMF); the spectrogram *capture*
//!   (`evidence::capture`, rows recorded around an alert) is the only other
//!   use of the word capture.
//! - **gap**: samples lost or not watched (overflow, a stalled device, a
//!   scan's other tunings); a **monitoring gap** alert reports a long one.
//! - **chain**: the chain of custody of a keyed run's alert log
//!   ([`custody`]); a **head** is a signed line of it.
//! - Settings types: **`…Config`** is what a user or a profile file sets
//!   (`PsdConfig`, `DeviceConfig`, `WatchConfig`); **`…Settings`** what a
//!   run derives and fixes before it starts (`CaptureSettings`,
//!   `PipelineSettings`); **`…Options`** the switches of one call
//!   (`OpenOptions`, `SinkOptions`, `VerifyOptions`); **`…Limits`** the
//!   bounds that keep memory and disk finite (`EvidenceLimits`,
//!   `CaptureLimits`, `HistoryLimits`).

pub mod alert;
pub mod atomic_file;
pub mod config_keys;
pub mod custody;
pub mod detect;
pub mod dsp;
pub mod error;
pub mod evidence;
pub mod iq;
pub mod layout;
pub mod pipeline;
pub mod profile;
pub mod run;
pub mod source;
pub mod units;
pub mod watch;

pub use error::{Error, Result};

/// The version string written into profiles and evidence.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
