//! `receiver.signal_loss`: everything — noise and signals — drops by
//! `drop_db` (a cut cable, a dead LNA). It has no signal of its own; it is
//! annotated over the whole receiver band with an excess of `-drop_db`.
//!
//! ```toml
//! [[events]]
//! kind = "receiver.signal_loss"
//! start_s = 7.0
//! duration_s = 0.5
//! drop_db = 15
//! ```

use super::{whole_band, EventContext, IncidentKind, Render};
use crate::alert::AlertKind;
use crate::synth::scenario::{Band, Emitter, Scenario};
use crate::synth::toml_fields::Fields;
use crate::synth::validate::{Checked, Checker};
use crate::Result;
use rfsentry_core::units;

/// A loss of signal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignalLoss {
    pub drop_db: f64,
}

impl IncidentKind for SignalLoss {
    fn alert() -> AlertKind {
        AlertKind::ReceiverSignalLoss
    }

    fn read(fields: &mut Fields, _center_hz: f64) -> Result<Self> {
        Ok(SignalLoss {
            drop_db: fields.required_number("drop_db", "how many dB everything drops")?,
        })
    }

    fn check(&self, check: &Checker) -> Checked {
        check.positive("drop_db", self.drop_db)?;
        check.level("drop_db", self.drop_db)
    }

    fn signal_band(&self, _known: &[Emitter]) -> Option<Band> {
        None
    }

    fn render(&self, _event: &EventContext) -> Render {
        Render::DropGain(self.drop_db)
    }

    fn annotated_band(&self, scenario: &Scenario) -> Band {
        whole_band(scenario)
    }

    fn describe(&self, _scenario: &Scenario, _low_hz: f64, _high_hz: f64) -> (f64, String) {
        (-self.drop_db, units::level(-self.drop_db, "dB"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::assemble::tests::{power_db, render, RATE};
    use crate::synth::incidents::*;

    #[test]
    fn signal_loss_drops_everything_by_its_depth() {
        let mut s = Scenario::new(RATE, 100e6, 1.0, -30.0, 4);
        s.push_emitter(Emitter::carrier("beacon", 10e3, 30.0));
        s.push_event(Event::new(
            0.5,
            0.3,
            Incident::SignalLoss(SignalLoss { drop_db: 20.0 }),
        ));
        let x = render(&s);
        let before = power_db(&x[..50_000]);
        let during = power_db(&x[50_000..80_000]);
        assert!((before - during - 20.0).abs() < 0.2, "{before} {during}");
        assert!((power_db(&x[80_000..]) - before).abs() < 0.2);
    }
}
