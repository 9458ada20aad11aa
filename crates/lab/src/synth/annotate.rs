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
//! in-band floor stands 3 dB up).

use super::assemble::{event_keys, rogue_pattern};
use super::gate::Span;
use super::level::{db_to_power, level_db, min_bandwidth_hz};
use super::nbfm;
use super::scenario::{
    Band, EmitterKind, Event, Incident, RogueModulation, RogueTiming, Scenario,
    OVERLOAD_DEVIATION_HZ,
};
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
    let span = annotated_span(scenario, event, key);
    let (low, high) = edges(scenario, &event.incident);
    let (excess_db, label) = describe(scenario, &event.incident, low, high);
    let kind = event.kind().name();
    let mut annotation = Annotation::new(span.start, span.len())
        .with(KIND_KEY, kind)
        .with(EXCESS_KEY, excess_db);
    annotation.freq_lower_edge = Some(low);
    annotation.freq_upper_edge = Some(high);
    annotation.label = Some(format!("{kind} {label}"));
    annotation
}

/// The event's samples; a bursty rogue emitter's span ends with its last
/// burst, a creeping jammer's starts when it reaches the floor's density.
fn annotated_span(scenario: &Scenario, event: &Event, key: &str) -> Span {
    let span = scenario.event_span(event);
    match &event.incident {
        Incident::UnknownEmitter { timing, .. } if *timing != RogueTiming::Continuous => {
            let pattern = rogue_pattern(scenario, *timing, span, key);
            Span::new(span.start, pattern.last_burst_end(span).unwrap_or(span.end))
        }
        Incident::Barrage {
            level_db,
            creep_db_per_s: Some(creep),
            ..
        } => {
            let crossing = scenario.sample_at(event.start_s + event.duration_s - level_db / creep);
            Span::new(crossing.clamp(span.start, span.end - 1), span.end)
        }
        _ => span,
    }
}

/// Absolute band edges in Hz.
fn edges(scenario: &Scenario, incident: &Incident) -> (f64, f64) {
    let centre = scenario.center_hz;
    let half_bin = min_bandwidth_hz(scenario.sample_rate) / 2.0;
    let whole = Band::new(-scenario.sample_rate / 2.0, scenario.sample_rate / 2.0);
    let is_carrier = match incident {
        Incident::Tone { .. } => true,
        Incident::UnknownEmitter { modulation, .. } => *modulation == RogueModulation::Carrier,
        Incident::AnomalousEmitter { emitter, .. } => scenario
            .emitter(emitter)
            .is_some_and(|e| e.kind == EmitterKind::Carrier),
        _ => false,
    };
    let band = match incident {
        Incident::Overload { .. } | Incident::SignalLoss { .. } => whole,
        _ => incident.signal_band(&scenario.emitters).unwrap_or(whole),
    };
    let pad = if is_carrier { half_bin } else { 0.0 };
    (
        centre + band.low_offset_hz - pad,
        centre + band.high_offset_hz + pad,
    )
}

/// The annotated excess in dB and the label text after the kind.
fn describe(scenario: &Scenario, incident: &Incident, low: f64, high: f64) -> (f64, String) {
    let centre = scenario.center_hz;
    let band = units::band(low, high);
    let db = |value: f64| units::level(value, "dB");
    let duty = |period_s: f64, duty: f64| {
        format!(
            ", {} % of {} s",
            units::trimmed(duty * 100.0, 1),
            units::trimmed(period_s, 4)
        )
    };
    match incident {
        Incident::Barrage {
            level_db,
            creep_db_per_s,
            ..
        } => {
            let creep = creep_db_per_s
                .map(|c| format!(", creeping {} dB/s", units::trimmed(c, 3)))
                .unwrap_or_default();
            (*level_db, format!("{band} {}{creep}", db(*level_db)))
        }
        Incident::Tone {
            offsets_hz,
            level_db,
        } => {
            let tones: Vec<String> = offsets_hz.iter().map(|f| units::hz(centre + f)).collect();
            (*level_db, format!("{} {}", tones.join(", "), db(*level_db)))
        }
        Incident::Swept {
            sweep_period_s,
            level_db,
            ..
        } => (
            *level_db,
            format!(
                "{band} {}, sweep every {} s",
                db(*level_db),
                units::trimmed(*sweep_period_s, 4)
            ),
        ),
        Incident::Pulsed {
            duty_cycle,
            level_db,
            ..
        } => (
            *level_db,
            format!(
                "{band} {}{}",
                db(*level_db),
                duty(duty_cycle.period_s, duty_cycle.duty)
            ),
        ),
        Incident::UnknownEmitter {
            modulation,
            offset_hz,
            level_db,
            timing,
            hopping,
        } => {
            let width = match modulation {
                RogueModulation::Carrier => String::new(),
                other => format!(" {} wide", units::hz(other.bandwidth_hz())),
            };
            let bursts = match timing {
                RogueTiming::Continuous => String::new(),
                RogueTiming::DutyCycle(d) => duty(d.period_s, d.duty),
                RogueTiming::Bursts(train) => format!(
                    ", {} s bursts every {} s",
                    units::trimmed(train.burst_s, 6),
                    units::trimmed(train.period_s, 4)
                ),
            };
            let at = match hopping {
                Some(h) => format!(
                    "hopping {} × {} around {}, dwell {} s,",
                    h.channels,
                    units::hz(h.spacing_hz),
                    units::hz(centre + offset_hz),
                    units::trimmed(h.dwell_s, 6)
                ),
                None => units::hz(centre + offset_hz),
            };
            (
                *level_db,
                format!(
                    "{} {at}{width} {}{bursts}",
                    modulation.name(),
                    db(*level_db)
                ),
            )
        }
        Incident::AnomalousEmitter {
            emitter,
            extra_db,
            widen,
            shift_hz,
        } => {
            let at = scenario
                .emitter(emitter)
                .map(|e| units::hz(centre + e.offset_hz))
                .unwrap_or_default();
            let mut wider = if *widen != 1.0 {
                format!(", {}× wider", units::trimmed(*widen, 2))
            } else {
                String::new()
            };
            if *shift_hz != 0.0 {
                let sign = if *shift_hz > 0.0 { "+" } else { "" };
                wider += &format!(", moved {sign}{}", units::hz(*shift_hz));
            }
            (
                *extra_db,
                format!("{emitter} {at} {}{wider}", db(*extra_db)),
            )
        }
        Incident::Overload {
            offset_hz,
            power_dbfs,
        } => {
            let excess = level_db(
                scenario.noise_dbfs,
                scenario.sample_rate,
                nbfm::bandwidth_hz(OVERLOAD_DEVIATION_HZ),
                db_to_power(*power_dbfs),
            );
            (
                excess,
                format!(
                    "{} {}",
                    units::hz(centre + offset_hz),
                    units::level(*power_dbfs, "dBFS")
                ),
            )
        }
        Incident::SignalLoss { drop_db } => (-drop_db, db(-drop_db)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[allow(unused_imports)]
    use crate::synth::scenario::{BurstTrain, RogueTiming, DEFAULT_BURST_JITTER};
    use crate::synth::scenario::{DutyCycle, Emitter};

    fn scenario(incident: Incident) -> Scenario {
        let mut s = Scenario::new(250e3, 433.92e6, 4.0, -30.0, 1);
        s.push_emitter(Emitter::carrier("beacon", -80e3, 25.0))
            .push_emitter(Emitter::nbfm("radio", 50e3, 20.0, 5e3))
            .push_event(Event::new(1.0, 1.5, incident));
        s
    }

    fn only(incident: Incident) -> Annotation {
        annotations(&scenario(incident)).unwrap().remove(0)
    }

    #[test]
    fn tone_is_one_bin_wide_and_labelled() {
        let a = only(Incident::Tone {
            offsets_hz: vec![30e3],
            level_db: 20.0,
        });
        assert_eq!(a.sample_start, 250_000);
        assert_eq!(a.sample_count, Some(375_000));
        assert_eq!(a.kind(), Some("jamming.tone"));
        assert_eq!(a.excess_db(), Some(20.0));
        let bin = 250e3 / 1024.0;
        assert!((a.freq_lower_edge.unwrap() - (433.95e6 - bin / 2.0)).abs() < 1e-3);
        assert!((a.freq_upper_edge.unwrap() - (433.95e6 + bin / 2.0)).abs() < 1e-3);
        assert_eq!(a.label.as_deref(), Some("jamming.tone 433.95 MHz +20 dB"));
    }

    #[test]
    fn bands_are_absolute_and_whole_band_kinds_cover_the_receiver() {
        let a = only(Incident::Barrage {
            band: Band::new(-100e3, 50e3),
            level_db: 12.5,
            creep_db_per_s: None,
        });
        assert_eq!(a.freq_lower_edge, Some(433.82e6));
        assert_eq!(a.freq_upper_edge, Some(433.97e6));
        assert_eq!(
            a.label.as_deref(),
            Some("jamming.barrage 433.82–433.97 MHz +12.5 dB")
        );
        let a = only(Incident::SignalLoss { drop_db: 20.0 });
        assert_eq!(a.freq_lower_edge, Some(433.795e6));
        assert_eq!(a.freq_upper_edge, Some(434.045e6));
        assert_eq!(a.excess_db(), Some(-20.0));
        let a = only(Incident::Overload {
            offset_hz: 30e3,
            power_dbfs: 3.0,
        });
        assert_eq!(a.freq_upper_edge, Some(434.045e6));
        // +3 dBFS over a 16 kHz band against -30 dBFS spread over 250 kHz.
        let expected = 3.0 + 30.0 - 10.0 * (16e3f64 / 250e3).log10();
        assert!((a.excess_db().unwrap() - expected).abs() < 1e-9);
    }

    #[test]
    fn bursty_rogue_span_ends_with_its_last_burst() {
        let a = only(Incident::UnknownEmitter {
            modulation: RogueModulation::fsk(12.5e3),
            offset_hz: 95e3,
            level_db: 18.0,
            hopping: None,
            timing: RogueTiming::DutyCycle(DutyCycle {
                period_s: 0.4,
                duty: 0.25,
            }),
        });
        // Bursts at 1.0, 1.4, 1.8, 2.2 s, each 0.1 s: the last ends at 2.3 s.
        assert_eq!(a.sample_start, 250_000);
        assert_eq!(a.sample_end(), Some(575_000));
        assert_eq!(a.freq_lower_edge, Some(434.015e6 - 6.25e3));
        assert_eq!(
            a.label.as_deref(),
            Some("emitter.unknown fsk 434.015 MHz 12.5 kHz wide +18 dB, 25 % of 0.4 s")
        );
    }

    #[test]
    fn anomalous_emitter_uses_its_widened_band_and_extra_db() {
        let a = only(Incident::AnomalousEmitter {
            emitter: "radio".into(),
            extra_db: 10.0,
            widen: 2.0,
            shift_hz: 0.0,
        });
        assert_eq!(a.excess_db(), Some(10.0));
        assert!((a.freq_lower_edge.unwrap() - (433.97e6 - 16e3)).abs() < 1e-6);
        assert!((a.freq_upper_edge.unwrap() - (433.97e6 + 16e3)).abs() < 1e-6);
        assert_eq!(
            a.label.as_deref(),
            Some("emitter.anomalous radio 433.97 MHz +10 dB, 2× wider")
        );
    }

    #[test]
    fn invalid_scenarios_are_refused() {
        let mut s = scenario(Incident::SignalLoss { drop_db: 20.0 });
        s.events[0].start_s = 3.9;
        assert!(annotations(&s).is_err());
    }
}
