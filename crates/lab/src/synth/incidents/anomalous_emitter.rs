//! `emitter.anomalous`: a known emitter misbehaves — louder by `extra_db`,
//! its bandwidth grown by `widen`, or moved by `shift_hz`. During the event
//! the known emitter is muted and replaced by its altered copy (which
//! drifts in step with it); the annotation covers the copy's band.
//!
//! ```toml
//! [[events]]
//! kind = "emitter.anomalous"
//! emitter = "beacon"               # the name of a known emitter
//! start_s = 5
//! duration_s = 0.5
//! extra_db = 3                     # level rise (optional with shift_hz, default 0)
//! widen = 1                        # optional bandwidth factor (≥ 1; not for a carrier)
//! shift_hz = 30e3                  # optional: moved off its channel
//! ```

use super::{EventContext, IncidentKind, Render};
use crate::alert::AlertKind;
use crate::synth::assemble::emitter_signal;
use crate::synth::scenario::{Band, Emitter, EmitterKind, Scenario};
use crate::synth::toml_fields::Fields;
use crate::synth::validate::{Checked, Checker};
use crate::Result;
use rfsentry_core::units;

/// An anomaly of the known emitter `emitter`: it rises by `extra_db`, its
/// bandwidth grows by `widen` (1 = unchanged) and it moves by `shift_hz`
/// (0 = on its channel).
#[derive(Debug, Clone, PartialEq)]
pub struct AnomalousEmitter {
    pub emitter: String,
    pub extra_db: f64,
    pub widen: f64,
    pub shift_hz: f64,
}

impl AnomalousEmitter {
    /// The altered copy of `known`.
    fn altered(&self, known: &Emitter) -> Emitter {
        known.widened(self.widen).shifted(self.shift_hz)
    }
}

impl IncidentKind for AnomalousEmitter {
    fn alert() -> AlertKind {
        AlertKind::EmitterAnomalous
    }

    fn read(fields: &mut Fields, _center_hz: f64) -> Result<Self> {
        let emitter = fields.string("emitter")?;
        let shift_hz = fields.number("shift_hz")?;
        // A moved emitter need not be louder too.
        let extra_db = match (fields.number("extra_db")?, shift_hz) {
            (Some(extra_db), _) => extra_db,
            (None, Some(_)) => 0.0,
            (None, None) => fields.required_number(
                "extra_db",
                "how many dB the emitter's level rises (or shift_hz, how far it moves)",
            )?,
        };
        Ok(AnomalousEmitter {
            emitter: fields
                .required("emitter", emitter, "the name of a known emitter")?
                .to_string(),
            extra_db,
            widen: fields.number("widen")?.unwrap_or(1.0),
            shift_hz: shift_hz.unwrap_or(0.0),
        })
    }

    fn check(&self, check: &Checker) -> Checked {
        let emitter = &self.emitter;
        let scenario = check.scenario();
        let Some(known) = scenario.emitter(emitter) else {
            let names: Vec<&str> = scenario.emitters.iter().map(|e| e.name.as_str()).collect();
            return Err(check.fail(
                "emitter",
                format!(
                    "expected the name of a known emitter ({}), got {emitter:?}",
                    if names.is_empty() {
                        "there are none".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
            ));
        };
        check.level("extra_db", self.extra_db)?;
        check.at_least("widen", self.widen, 1.0)?;
        if self.widen != 1.0 && known.kind == EmitterKind::Carrier {
            return Err(check.fail(
                "widen",
                format!(
                    "expected no widening: emitter {emitter:?} is a carrier, which has no bandwidth to widen"
                ),
            ));
        }
        check.occupied("widen", known.widened(self.widen).band())?;
        if !self.shift_hz.is_finite() {
            return Err(check.fail(
                "shift_hz",
                format!("expected a number, got {}", self.shift_hz),
            ));
        }
        check.occupied("shift_hz", self.altered(known).band())
    }

    fn signal_band(&self, known: &[Emitter]) -> Option<Band> {
        known
            .iter()
            .find(|e| e.name == self.emitter)
            .map(|e| self.altered(e).band())
    }

    fn render(&self, event: &EventContext) -> Render {
        let scenario = event.scenario;
        let Some(known) = scenario.emitter(&self.emitter) else {
            return Render::Nothing;
        };
        let (signal, pattern) = emitter_signal(
            scenario,
            &self.altered(known),
            known.level_db + self.extra_db,
            event.key,
            Some(event.span.start),
        );
        Render::Signal(signal, pattern)
    }

    fn replaces(&self) -> Option<&str> {
        Some(&self.emitter)
    }

    fn is_carrier(&self, scenario: &Scenario) -> bool {
        scenario
            .emitter(&self.emitter)
            .is_some_and(|e| e.kind == EmitterKind::Carrier)
    }

    fn describe(&self, scenario: &Scenario, _low_hz: f64, _high_hz: f64) -> (f64, String) {
        let at = scenario
            .emitter(&self.emitter)
            .map(|e| units::hz(scenario.center_hz + e.offset_hz))
            .unwrap_or_default();
        let mut wider = if self.widen != 1.0 {
            format!(", {}× wider", units::trimmed(self.widen, 2))
        } else {
            String::new()
        };
        if self.shift_hz != 0.0 {
            let sign = if self.shift_hz > 0.0 { "+" } else { "" };
            wider += &format!(", moved {sign}{}", units::hz(self.shift_hz));
        }
        (
            self.extra_db,
            format!(
                "{} {at} {}{wider}",
                self.emitter,
                units::level(self.extra_db, "dB")
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::annotate::tests::only;
    use crate::synth::assemble::tests::{power_db, quiet, render};
    use crate::synth::incidents::*;

    #[test]
    fn anomalous_emitter_uses_its_widened_band_and_extra_db() {
        let a = only(Incident::AnomalousEmitter(AnomalousEmitter {
            emitter: "radio".into(),
            extra_db: 10.0,
            widen: 2.0,
            shift_hz: 0.0,
        }));
        assert_eq!(a.excess_db(), Some(10.0));
        assert!((a.freq_lower_edge.unwrap() - (433.97e6 - 16e3)).abs() < 1e-6);
        assert!((a.freq_upper_edge.unwrap() - (433.97e6 + 16e3)).abs() < 1e-6);
        assert_eq!(
            a.label.as_deref(),
            Some("emitter.anomalous radio 433.97 MHz +10 dB, 2× wider")
        );
    }

    #[test]
    fn anomalous_emitter_replaces_the_known_one_louder() {
        let mut s = quiet(1.0);
        s.push_emitter(Emitter::carrier("beacon", 10e3, 50.0));
        s.push_event(Event::new(
            0.5,
            0.25,
            Incident::AnomalousEmitter(AnomalousEmitter {
                emitter: "beacon".into(),
                extra_db: 10.0,
                widen: 1.0,
                shift_hz: 0.0,
            }),
        ));
        let x = render(&s);
        let normal = power_db(&x[..50_000]);
        assert!((power_db(&x[50_000..75_000]) - normal - 10.0).abs() < 0.1);
        assert!((power_db(&x[75_000..]) - normal).abs() < 0.1);
    }
}
