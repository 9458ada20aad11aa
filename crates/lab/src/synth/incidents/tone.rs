//! `jamming.tone`: stable carriers, each at `level_db`, annotated one
//! 1024-point FFT bin wide around the lowest to the highest tone.
//!
//! ```toml
//! [[events]]
//! kind = "jamming.tone"
//! start_s = 0.8
//! duration_s = 1.0
//! offset_hz = 20e3                 # or freq_hz = 433.94e6, or a list:
//!                                  # offsets_hz = [...] / freqs_hz = [...]
//! level_db = 22
//! ```

use super::{EventContext, IncidentKind, Render};
use crate::alert::AlertKind;
use crate::synth::carrier::Carrier;
use crate::synth::gate::Pattern;
use crate::synth::scenario::{Band, Emitter, Scenario};
use crate::synth::toml_fields::Fields;
use crate::synth::validate::{Checked, Checker};
use crate::Result;
use rand::Rng;
use rfsentry_core::units;

/// A tone jammer: one carrier or several.
#[derive(Debug, Clone, PartialEq)]
pub struct Tone {
    pub offsets_hz: Vec<f64>,
    pub level_db: f64,
}

impl IncidentKind for Tone {
    fn alert() -> AlertKind {
        AlertKind::JammingTone
    }

    fn read(fields: &mut Fields, center_hz: f64) -> Result<Self> {
        Ok(Tone {
            offsets_hz: read_tones(fields, center_hz)?,
            level_db: fields.level()?,
        })
    }

    fn check(&self, check: &Checker) -> Checked {
        if self.offsets_hz.is_empty() {
            return Err(check.fail(
                "offsets_hz",
                "expected at least one tone frequency".to_string(),
            ));
        }
        for &offset in &self.offsets_hz {
            check.frequency("offsets_hz", offset)?;
        }
        check.level("level_db", self.level_db)
    }

    fn signal_band(&self, _known: &[Emitter]) -> Option<Band> {
        let low = self
            .offsets_hz
            .iter()
            .cloned()
            .fold(f64::INFINITY, f64::min);
        let high = self
            .offsets_hz
            .iter()
            .cloned()
            .fold(f64::NEG_INFINITY, f64::max);
        (low <= high).then(|| Band::new(low, high))
    }

    fn render(&self, event: &EventContext) -> Render {
        let mut rng = event.rng();
        let power = event.power(0.0, self.level_db);
        let carriers: Vec<Carrier> = self
            .offsets_hz
            .iter()
            .map(|&offset| Carrier::new(event.rate(), offset, power, rng.gen()))
            .collect();
        Render::Signal(Box::new(carriers), Pattern::Continuous)
    }

    fn is_carrier(&self, _scenario: &Scenario) -> bool {
        true
    }

    fn describe(&self, scenario: &Scenario, _low_hz: f64, _high_hz: f64) -> (f64, String) {
        let tones: Vec<String> = self
            .offsets_hz
            .iter()
            .map(|f| units::hz(scenario.center_hz + f))
            .collect();
        (
            self.level_db,
            format!("{} {}", tones.join(", "), units::level(self.level_db, "dB")),
        )
    }
}

/// Tone frequencies: `offsets_hz = [...]`, `freqs_hz = [...]`, or one
/// `offset_hz` / `freq_hz`.
fn read_tones(fields: &mut Fields, center_hz: f64) -> Result<Vec<f64>> {
    let list = match (fields.numbers("offsets_hz")?, fields.numbers("freqs_hz")?) {
        (Some(_), Some(_)) => {
            return Err(fields.error(
                "freqs_hz",
                "expected either offsets_hz or freqs_hz, not both",
            ))
        }
        (Some(offsets), None) => Some(offsets),
        (None, Some(freqs)) => Some(freqs.iter().map(|f| f - center_hz).collect()),
        (None, None) => None,
    };
    let single = fields.offset("offset_hz", "freq_hz", center_hz)?;
    match (list, single) {
        (Some(_), Some(_)) => Err(fields.error(
            "offset_hz",
            "expected either one tone (offset_hz / freq_hz) or a list (offsets_hz / freqs_hz), not both",
        )),
        (Some(list), None) => Ok(list),
        (None, Some(one)) => Ok(vec![one]),
        (None, None) => Err(fields.error(
            "offsets_hz",
            "missing; expected offsets_hz = [...] (or freqs_hz, or a single offset_hz / freq_hz)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::annotate::tests::only;
    use crate::synth::incidents::*;

    #[test]
    fn tone_is_one_bin_wide_and_labelled() {
        let a = only(Incident::Tone(Tone {
            offsets_hz: vec![30e3],
            level_db: 20.0,
        }));
        assert_eq!(a.sample_start, 250_000);
        assert_eq!(a.sample_count, Some(375_000));
        assert_eq!(a.kind(), Some("jamming.tone"));
        assert_eq!(a.excess_db(), Some(20.0));
        let bin = 250e3 / 1024.0;
        assert!((a.freq_lower_edge.unwrap() - (433.95e6 - bin / 2.0)).abs() < 1e-3);
        assert!((a.freq_upper_edge.unwrap() - (433.95e6 + bin / 2.0)).abs() < 1e-3);
        assert_eq!(a.label.as_deref(), Some("jamming.tone 433.95 MHz +20 dB"));
    }
}
