//! `jamming.swept`: a sawtooth linear chirp over a band every
//! `sweep_period_s` (see [`crate::synth::chirp`]); its level is relative to
//! one 1024-point FFT bin, the band a chirp lights up at any instant.
//!
//! ```toml
//! [[events]]
//! kind = "jamming.swept"
//! start_s = 2.3
//! duration_s = 0.5
//! low_offset_hz = -100e3           # or low_hz
//! high_offset_hz = 100e3           # or high_hz
//! sweep_period_s = 0.01
//! level_db = 15
//! ```

use super::{read_band, EventContext, IncidentKind, Render};
use crate::alert::AlertKind;
use crate::synth::chirp::Chirp;
use crate::synth::gate::Pattern;
use crate::synth::level::min_bandwidth_hz;
use crate::synth::scenario::{Band, Emitter, Scenario};
use crate::synth::toml_fields::Fields;
use crate::synth::validate::{Checked, Checker};
use crate::Result;
use rfsentry_core::units;

/// A swept jammer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Swept {
    pub band: Band,
    pub sweep_period_s: f64,
    pub level_db: f64,
}

impl IncidentKind for Swept {
    fn alert() -> AlertKind {
        AlertKind::JammingSwept
    }

    fn read(fields: &mut Fields, center_hz: f64) -> Result<Self> {
        Ok(Swept {
            band: read_band(fields, center_hz)?,
            sweep_period_s: fields
                .required_number("sweep_period_s", "the sweep period in seconds")?,
            level_db: fields.level()?,
        })
    }

    fn check(&self, check: &Checker) -> Checked {
        check.band(self.band)?;
        check.samples("sweep_period_s", self.sweep_period_s, 2.0)?;
        check.level("level_db", self.level_db)
    }

    fn signal_band(&self, _known: &[Emitter]) -> Option<Band> {
        Some(self.band)
    }

    fn render(&self, event: &EventContext) -> Render {
        let rate = event.rate();
        let chirp = Chirp::new(
            rate,
            self.band.low_offset_hz,
            self.band.high_offset_hz,
            self.sweep_period_s,
            event.power(min_bandwidth_hz(rate), self.level_db),
            event.span.start,
        );
        Render::Signal(Box::new(chirp), Pattern::Continuous)
    }

    fn describe(&self, _scenario: &Scenario, low_hz: f64, high_hz: f64) -> (f64, String) {
        (
            self.level_db,
            format!(
                "{} {}, sweep every {} s",
                units::band(low_hz, high_hz),
                units::level(self.level_db, "dB"),
                units::trimmed(self.sweep_period_s, 4)
            ),
        )
    }
}
