//! Ground truth: one SigMF annotation per event, naming its alert kind
//! (`rfsentry:kind`), its samples, its band in absolute Hz
//! (`core:freq_lower_edge`/`core:freq_upper_edge`), its excess power over the
//! floor (`rfsentry:excess_db`) and a readable `core:label`
//! ("jamming.tone 433.95 MHz +20 dB").
//!
//! Bands: a noise or swept jammer's band; a modulated emitter's occupied band
//! (offset ± bandwidth/2); a hopper's whole hop set; a moved emitter's new
//! band; a carrier's one 1024-point FFT bin; the whole receiver band for
//! overload and signal loss. Spans: the event's, except a bursty rogue
//! emitter's, which ends with its last burst, and a creeping jammer's, which
//! starts when its level crosses 0 dB (its density equals the noise's, the
//! in-band floor stands 3 dB up). Each kind says which in its module (see
//! [`super::incidents`]); this module puts them together.

use super::assemble::event_keys;
use super::incidents::{EventContext, IncidentKind};
use super::level::min_bandwidth_hz;
use super::scenario::{DutyCycle, Event, Scenario};
use crate::iq::annotation::{EXCESS_KEY, KIND_KEY};
use crate::iq::Annotation;
use crate::Result;
use rfsentry_core::units;

/// The annotations of every event of `scenario` (which is validated first), in event order.
pub fn annotations(scenario: &Scenario) -> Result<Vec<Annotation>> {
    scenario.validate()?;
    Ok(scenario
        .events
        .iter()
        .zip(event_keys(&scenario.events))
        .map(|(event, key)| annotation(scenario, event, &key))
        .collect())
}

fn annotation(scenario: &Scenario, event: &Event, key: &str) -> Annotation {
    let params = event.incident.params();
    let span = params.annotated_span(&EventContext::new(scenario, event, key));
    let (low, high) = edges(scenario, params);
    let (excess_db, label) = params.describe(scenario, low, high);
    let kind = event.kind().name();
    let mut annotation = Annotation::new(span.start, span.len())
        .with(KIND_KEY, kind)
        .with(EXCESS_KEY, excess_db);
    annotation.freq_lower_edge = Some(low);
    annotation.freq_upper_edge = Some(high);
    annotation.label = Some(format!("{kind} {label}"));
    annotation
}

/// Absolute band edges in Hz; a carrier's are one 1024-point FFT bin apart.
fn edges(scenario: &Scenario, params: &dyn IncidentKind) -> (f64, f64) {
    let centre = scenario.center_hz;
    let half_bin = min_bandwidth_hz(scenario.sample_rate) / 2.0;
    let band = params.annotated_band(scenario);
    let pad = if params.is_carrier(scenario) {
        half_bin
    } else {
        0.0
    };
    (
        centre + band.low_offset_hz - pad,
        centre + band.high_offset_hz + pad,
    )
}

/// The label of a duty cycle: ", 30 % of 0.05 s".
pub(crate) fn duty_label(duty_cycle: DutyCycle) -> String {
    format!(
        ", {} % of {} s",
        units::trimmed(duty_cycle.duty * 100.0, 1),
        units::trimmed(duty_cycle.period_s, 4)
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::synth::incidents::*;
    use crate::synth::scenario::Band;
    use crate::synth::scenario::Emitter;

    pub(crate) fn scenario(incident: Incident) -> Scenario {
        let mut s = Scenario::new(250e3, 433.92e6, 4.0, -30.0, 1);
        s.push_emitter(Emitter::carrier("beacon", -80e3, 25.0))
            .push_emitter(Emitter::nbfm("radio", 50e3, 20.0, 5e3))
            .push_event(Event::new(1.0, 1.5, incident));
        s
    }

    pub(crate) fn only(incident: Incident) -> Annotation {
        annotations(&scenario(incident)).unwrap().remove(0)
    }

    #[test]
    fn bands_are_absolute_and_whole_band_kinds_cover_the_receiver() {
        let a = only(Incident::Barrage(Barrage {
            band: Band::new(-100e3, 50e3),
            level_db: 12.5,
            creep_db_per_s: None,
        }));
        assert_eq!(a.freq_lower_edge, Some(433.82e6));
        assert_eq!(a.freq_upper_edge, Some(433.97e6));
        assert_eq!(
            a.label.as_deref(),
            Some("jamming.barrage 433.82–433.97 MHz +12.5 dB")
        );
        let a = only(Incident::SignalLoss(SignalLoss { drop_db: 20.0 }));
        assert_eq!(a.freq_lower_edge, Some(433.795e6));
        assert_eq!(a.freq_upper_edge, Some(434.045e6));
        assert_eq!(a.excess_db(), Some(-20.0));
        let a = only(Incident::Overload(Overload {
            offset_hz: 30e3,
            power_dbfs: 3.0,
        }));
        assert_eq!(a.freq_upper_edge, Some(434.045e6));
        // +3 dBFS over a 16 kHz band against -30 dBFS spread over 250 kHz.
        let expected = 3.0 + 30.0 - 10.0 * (16e3f64 / 250e3).log10();
        assert!((a.excess_db().unwrap() - expected).abs() < 1e-9);
    }

    #[test]
    fn invalid_scenarios_are_refused() {
        let mut s = scenario(Incident::SignalLoss(SignalLoss { drop_db: 20.0 }));
        s.events[0].start_s = 3.9;
        assert!(annotations(&s).is_err());
    }
}
