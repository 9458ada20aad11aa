//! `receiver.overload`: a strong nearby NBFM transmitter of total power
//! `power_dbfs` that drives the ADC into clipping. Annotated over the whole
//! receiver band, with its excess over the floor within its own band.
//!
//! ```toml
//! [[events]]
//! kind = "receiver.overload"
//! start_s = 6.4
//! duration_s = 0.3
//! offset_hz = 10e3                 # or freq_hz
//! power_dbfs = 2
//! ```

use super::{whole_band, EventContext, IncidentKind, Render};
use crate::alert::AlertKind;
use crate::synth::gate::Pattern;
use crate::synth::level::{db_to_power, level_db};
use crate::synth::nbfm::{self, Nbfm};
use crate::synth::scenario::{Band, Emitter, Scenario};
use crate::synth::toml_fields::Fields;
use crate::synth::validate::{Checked, Checker};
use crate::Result;
use rfsentry_core::units;

/// Peak deviation of the overloading transmitter, in Hz.
pub const OVERLOAD_DEVIATION_HZ: f64 = 5000.0;

/// An overloading transmitter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Overload {
    pub offset_hz: f64,
    pub power_dbfs: f64,
}

impl IncidentKind for Overload {
    fn alert() -> AlertKind {
        AlertKind::ReceiverOverload
    }

    fn read(fields: &mut Fields, center_hz: f64) -> Result<Self> {
        Ok(Overload {
            offset_hz: fields.required_offset("offset_hz", "freq_hz", center_hz)?,
            power_dbfs: fields
                .required_number("power_dbfs", "the transmitter's total power in dBFS")?,
        })
    }

    fn check(&self, check: &Checker) -> Checked {
        check.frequency("offset_hz", self.offset_hz)?;
        check.level("power_dbfs", self.power_dbfs)?;
        match self.signal_band(&[]) {
            Some(band) => check.occupied("offset_hz", band),
            None => Ok(()),
        }
    }

    fn signal_band(&self, _known: &[Emitter]) -> Option<Band> {
        Some(Band::around(
            self.offset_hz,
            nbfm::bandwidth_hz(OVERLOAD_DEVIATION_HZ),
        ))
    }

    fn render(&self, event: &EventContext) -> Render {
        let transmitter = Nbfm::new(
            event.rate(),
            self.offset_hz,
            OVERLOAD_DEVIATION_HZ,
            db_to_power(self.power_dbfs),
            event.rng(),
        );
        Render::Signal(Box::new(transmitter), Pattern::Continuous)
    }

    fn annotated_band(&self, scenario: &Scenario) -> Band {
        whole_band(scenario)
    }

    fn describe(&self, scenario: &Scenario, _low_hz: f64, _high_hz: f64) -> (f64, String) {
        let excess = level_db(
            scenario.noise_dbfs,
            scenario.sample_rate,
            nbfm::bandwidth_hz(OVERLOAD_DEVIATION_HZ),
            db_to_power(self.power_dbfs),
        );
        (
            excess,
            format!(
                "{} {}",
                units::hz(scenario.center_hz + self.offset_hz),
                units::level(self.power_dbfs, "dBFS")
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iq::Sample;
    use crate::synth::assemble::tests::{render, RATE};
    use crate::synth::incidents::*;

    #[test]
    fn overload_clips_the_adc_during_its_span() {
        let mut s = Scenario::new(RATE, 100e6, 1.0, -30.0, 4);
        s.push_event(Event::new(
            0.4,
            0.2,
            Incident::Overload(Overload {
                offset_hz: 20e3,
                power_dbfs: 3.0,
            }),
        ));
        let x = render(&s);
        let clipped = |x: &[Sample]| {
            x.iter()
                .filter(|s| s.re.abs() >= 1.0 || s.im.abs() >= 1.0)
                .count()
        };
        assert_eq!(clipped(&x[..40_000]), 0);
        assert_eq!(clipped(&x[60_000..]), 0);
        assert!(clipped(&x[40_000..60_000]) > 10_000);
    }
}
