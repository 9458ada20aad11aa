//! `jamming.barrage`: band-limited noise flat over a band. A creeping
//! jammer's level rises by `creep_db_per_s` and reaches `level_db` at the
//! event's end; its annotation starts when its level crosses 0 dB (its
//! density equals the noise's, the in-band floor stands 3 dB up).
//!
//! ```toml
//! [[events]]
//! kind = "jamming.barrage"
//! start_s = 2.0
//! duration_s = 2.0
//! low_offset_hz = -50e3            # or low_hz = 433.87e6
//! high_offset_hz = 50e3            # or high_hz
//! level_db = 12                    # reached at the event's end…
//! creep_db_per_s = 1.0             # …optional: rising this fast (annotated from 0 dB)
//! ```

use super::{read_band, EventContext, IncidentKind, Render};
use crate::alert::AlertKind;
use crate::synth::envelope::{Enveloped, SlowGain};
use crate::synth::gate::{Pattern, Span};
use crate::synth::level::db_to_power;
use crate::synth::scenario::{Band, Emitter, Scenario};
use crate::synth::toml_fields::Fields;
use crate::synth::validate::{Checked, Checker};
use crate::Result;
use rfsentry_core::units;

/// A barrage jammer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Barrage {
    pub band: Band,
    pub level_db: f64,
    /// A creeping jammer's rise in dB per second (none: a constant level).
    pub creep_db_per_s: Option<f64>,
}

impl IncidentKind for Barrage {
    fn alert() -> AlertKind {
        AlertKind::JammingBarrage
    }

    fn read(fields: &mut Fields, center_hz: f64) -> Result<Self> {
        Ok(Barrage {
            band: read_band(fields, center_hz)?,
            level_db: fields.level()?,
            creep_db_per_s: fields.number("creep_db_per_s")?,
        })
    }

    fn check(&self, check: &Checker) -> Checked {
        check.band(self.band)?;
        check.level("level_db", self.level_db)?;
        if let Some(creep) = self.creep_db_per_s {
            check.positive("creep_db_per_s", creep)?;
            if self.level_db <= 0.0 {
                return Err(check.fail(
                    "level_db",
                    format!(
                        "expected a creeping jammer to end above the floor (level_db > 0), got {}",
                        self.level_db
                    ),
                ));
            }
        }
        Ok(())
    }

    fn signal_band(&self, _known: &[Emitter]) -> Option<Band> {
        Some(self.band)
    }

    fn render(&self, event: &EventContext) -> Render {
        let noise = event.band_noise(self.band, self.level_db, event.rng());
        let Some(creep) = self.creep_db_per_s else {
            return Render::Signal(noise, Pattern::Continuous);
        };
        // Below `level_db` by `creep` dB per second still to go.
        let (end, creep_per_sample) = (event.span.end, creep / event.rate());
        let ramp = SlowGain::new(move |n| {
            let to_go = end.saturating_sub(n) as f64;
            db_to_power(-creep_per_sample * to_go / 2.0)
        });
        Render::Signal(Box::new(Enveloped::new(noise, ramp)), Pattern::Continuous)
    }

    fn annotated_span(&self, event: &EventContext) -> Span {
        let (span, Some(creep)) = (event.span, self.creep_db_per_s) else {
            return event.span;
        };
        let end_s = event.event.start_s + event.event.duration_s;
        let crossing = event.scenario.sample_at(end_s - self.level_db / creep);
        Span::new(crossing.clamp(span.start, span.end - 1), span.end)
    }

    fn describe(&self, _scenario: &Scenario, low_hz: f64, high_hz: f64) -> (f64, String) {
        let creep = self
            .creep_db_per_s
            .map(|c| format!(", creeping {} dB/s", units::trimmed(c, 3)))
            .unwrap_or_default();
        (
            self.level_db,
            format!(
                "{} {}{creep}",
                units::band(low_hz, high_hz),
                units::level(self.level_db, "dB")
            ),
        )
    }
}
