//! `jamming.pulsed`: band-limited noise over a band, gated on for
//! `period_s · duty` every `period_s`, the first pulse at the event's start.
//!
//! ```toml
//! [[events]]
//! kind = "jamming.pulsed"
//! start_s = 4
//! duration_s = 1
//! low_offset_hz = -70e3            # or low_hz
//! high_offset_hz = 0               # or high_hz
//! period_s = 0.05
//! duty = 0.3                       # on fraction, in (0, 1]
//! level_db = 15
//! ```

use super::{read_band, read_duty_cycle, EventContext, IncidentKind, Render};
use crate::alert::AlertKind;
use crate::synth::annotate::duty_label;
use crate::synth::gate::Pattern;
use crate::synth::scenario::{Band, DutyCycle, Emitter, Scenario};
use crate::synth::toml_fields::Fields;
use crate::synth::validate::{Checked, Checker};
use crate::Result;
use rfsentry_core::units;

/// A pulsed jammer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pulsed {
    pub band: Band,
    pub duty_cycle: DutyCycle,
    pub level_db: f64,
}

impl IncidentKind for Pulsed {
    fn alert() -> AlertKind {
        AlertKind::JammingPulsed
    }

    fn read(fields: &mut Fields, center_hz: f64) -> Result<Self> {
        let band = read_band(fields, center_hz)?;
        let duty_cycle = read_duty_cycle(fields)?;
        Ok(Pulsed {
            band,
            duty_cycle: fields.required(
                "period_s",
                duty_cycle,
                "the pulse period in seconds (with duty, the on fraction)",
            )?,
            level_db: fields.level()?,
        })
    }

    fn check(&self, check: &Checker) -> Checked {
        check.band(self.band)?;
        check.duty_cycle(self.duty_cycle)?;
        check.level("level_db", self.level_db)
    }

    fn signal_band(&self, _known: &[Emitter]) -> Option<Band> {
        Some(self.band)
    }

    fn render(&self, event: &EventContext) -> Render {
        let d = self.duty_cycle;
        Render::Signal(
            event.band_noise(self.band, self.level_db, event.rng()),
            Pattern::periodic(event.span.start, event.rate(), d.period_s, d.duty),
        )
    }

    fn describe(&self, _scenario: &Scenario, low_hz: f64, high_hz: f64) -> (f64, String) {
        (
            self.level_db,
            format!(
                "{} {}{}",
                units::band(low_hz, high_hz),
                units::level(self.level_db, "dB"),
                duty_label(self.duty_cycle)
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::assemble::tests::{power_db, quiet, render};
    use crate::synth::incidents::*;

    #[test]
    fn pulsed_jammer_has_its_duty_cycle_inside_its_span_only() {
        let mut s = quiet(1.0);
        s.push_event(Event::new(
            0.2,
            0.6,
            Incident::Pulsed(Pulsed {
                band: Band::new(-20e3, 20e3),
                duty_cycle: DutyCycle {
                    period_s: 0.02,
                    duty: 0.3,
                },
                level_db: 40.0,
            }),
        ));
        let x = render(&s);
        // 0.5 ms blocks: on or off (the noise floor is 40 dB down).
        let on: Vec<bool> = x.chunks(50).map(|b| power_db(b) > -75.0).collect();
        assert!(on[..400].iter().all(|&b| !b));
        assert!(on[1600..].iter().all(|&b| !b));
        let duty = on[400..1600].iter().filter(|&&b| b).count() as f64 / 1200.0;
        assert!((duty - 0.3).abs() < 0.02, "{duty}");
        // Each period starts on: blocks 400, 440, 480… are on, the block before 400 is off.
        assert!((0..30).all(|k| on[400 + 40 * k] && !on[400 + 40 * k + 20]));
    }
}
