//! Turning a [`Scenario`] into a [`Mixer`]: one signal per noise floor,
//! known emitter and event, each with its own random stream (keyed by what
//! it is, so adding a signal changes no other), gated to its time span. An
//! event's signal is its kind's (see [`super::incidents`]).
//!
//! A known emitter is muted while an `emitter.anomalous` event replaces it by
//! a louder (and possibly wider, or moved) copy of itself; a drifting
//! emitter's copy drifts in step with it.

use super::carrier::Carrier;
use super::drift::Wander;
use super::gate::{subtract, Gated, Pattern, Span};
use super::incidents::{EventContext, Render};
use super::keyed::KeyedModulator;
use super::level::{db_to_power, signal_power};
use super::mixer::Mixer;
use super::nbfm::Nbfm;
use super::noise::WhiteNoise;
use super::receiver::ReceiverStage;
use super::rng::stream_rng;
use super::scenario::{Emitter, EmitterKind, Event, Scenario};
use super::signal::Signal;
use crate::Result;
use rand::Rng;

/// Build the mixer that renders `scenario` (which is validated first).
pub fn mixer(scenario: &Scenario) -> Result<Mixer> {
    scenario.validate()?;
    let whole = Span::new(0, scenario.total_samples());
    let mut mixer = Mixer::new();
    mixer.add(Box::new(WhiteNoise::new(
        db_to_power(scenario.noise_dbfs),
        stream_rng(scenario.seed, "noise"),
    )));

    for emitter in &scenario.emitters {
        let anomalies: Vec<Span> = scenario
            .events
            .iter()
            .filter(|e| e.incident.params().replaces() == Some(emitter.name.as_str()))
            .map(|e| scenario.event_span(e))
            .collect();
        let key = format!("emitter/{}", emitter.name);
        let (signal, pattern) = emitter_signal(scenario, emitter, emitter.level_db, &key, None);
        mixer.add(Box::new(Gated::new(
            signal,
            pattern,
            subtract(whole, &anomalies),
        )));
    }

    for (event, key) in scenario.events.iter().zip(event_keys(&scenario.events)) {
        let context = EventContext::new(scenario, event, &key);
        match event.incident.params().render(&context) {
            Render::Signal(signal, pattern) => {
                mixer.add(Box::new(Gated::new(signal, pattern, vec![context.span])))
            }
            Render::DropGain(drop_db) => mixer.drop_gain(context.span, drop_db),
            Render::Nothing => {}
        }
    }
    if let Some(receiver) = ReceiverStage::new(scenario) {
        mixer.set_receiver(receiver);
    }
    Ok(mixer)
}

/// A stable random-stream key per event: its kind and start time (plus a
/// counter when several events share both).
pub(crate) fn event_keys(events: &[Event]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::with_capacity(events.len());
    for event in events {
        let base = format!("event/{}/{:?}", event.kind(), event.start_s);
        let twins = keys.iter().filter(|k| k.starts_with(&base)).count();
        keys.push(format!("{base}/{twins}"));
    }
    keys
}

/// The signal of a known emitter at `level_db`, and when it is on. A burst
/// emitter's first burst comes at `first_burst`, or at a random time within
/// its first period.
pub(crate) fn emitter_signal(
    scenario: &Scenario,
    emitter: &Emitter,
    level_db: f64,
    key: &str,
    first_burst: Option<u64>,
) -> (Box<dyn Signal>, Pattern) {
    let rate = scenario.sample_rate;
    let power = signal_power(scenario.noise_dbfs, rate, emitter.bandwidth_hz(), level_db);
    let mut rng = stream_rng(scenario.seed, key);
    let mut schedule = stream_rng(scenario.seed, &format!("{key}/schedule"));
    let wander = emitter
        .drift
        .map(|drift| Wander::of_emitter(scenario.seed, &emitter.name, rate, drift));
    let fm = |deviation_hz: f64, rng| {
        let fm = Nbfm::new(rate, emitter.offset_hz, deviation_hz, power, rng);
        match wander.clone() {
            Some(wander) => fm.with_wander(wander),
            None => fm,
        }
    };
    match &emitter.kind {
        EmitterKind::Carrier => {
            let carrier = Carrier::new(rate, emitter.offset_hz, power, rng.gen());
            let carrier = match wander {
                Some(wander) => carrier.with_wander(wander),
                None => carrier,
            };
            (Box::new(carrier), Pattern::Continuous)
        }
        EmitterKind::Nbfm { deviation_hz } => {
            (Box::new(fm(*deviation_hz, rng)), Pattern::Continuous)
        }
        EmitterKind::Ptt(ptt) => {
            // An anomaly keys the radio up for the whole event.
            let pattern = match first_burst {
                Some(_) => Pattern::Continuous,
                None => Pattern::alternating(rate, ptt.key_s, ptt.idle_s, schedule),
            };
            (Box::new(fm(ptt.deviation_hz, rng)), pattern)
        }
        EmitterKind::Burst(burst) => {
            let train = burst.bursts;
            let first = first_burst
                .unwrap_or_else(|| scenario.sample_at(train.period_s * schedule.gen::<f64>()));
            let modulator = KeyedModulator::new(
                rate,
                emitter.offset_hz,
                burst.keying,
                burst.bitrate,
                power,
                rng,
            );
            let modulator = match wander {
                Some(wander) => modulator.with_wander(wander),
                None => modulator,
            };
            let pattern = Pattern::jittered(
                first,
                rate,
                train.period_s,
                train.burst_s,
                train.jitter,
                schedule,
            );
            (Box::new(modulator), pattern)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::iq::Sample;
    use crate::synth::incidents::*;
    use crate::synth::keyed::Keying;
    use crate::synth::level::power_to_db;
    use crate::synth::scenario::BurstSpec;
    use crate::synth::scenario::{BurstTrain, DEFAULT_BURST_JITTER};

    pub(crate) const RATE: f64 = 100e3;

    pub(crate) fn render(scenario: &Scenario) -> Vec<Sample> {
        let mut mixer = mixer(scenario).unwrap();
        let mut out = vec![Sample::default(); scenario.total_samples() as usize];
        for (i, block) in out.chunks_mut(10_000).enumerate() {
            mixer.render(i as u64 * 10_000, block);
        }
        out
    }

    pub(crate) fn power_db(x: &[Sample]) -> f64 {
        power_to_db(x.iter().map(|s| s.norm_sqr() as f64).sum::<f64>() / x.len() as f64)
    }

    pub(crate) fn quiet(duration_s: f64) -> Scenario {
        Scenario::new(RATE, 100e6, duration_s, -90.0, 4)
    }

    #[test]
    fn adding_a_signal_leaves_the_others_unchanged() {
        let burst = BurstSpec {
            keying: Keying::Ook,
            bitrate: 2e3,
            bursts: BurstTrain {
                burst_s: 0.01,
                period_s: 0.1,
                jitter: DEFAULT_BURST_JITTER,
            },
        };
        let mut base = Scenario::new(RATE, 100e6, 0.5, -30.0, 11);
        base.push_emitter(Emitter::nbfm("radio", 20e3, 20.0, 5e3));
        base.push_event(Event::new(
            0.1,
            0.2,
            Incident::Tone(Tone {
                offsets_hz: vec![-30e3],
                level_db: 20.0,
            }),
        ));
        let mut more = base.clone();
        let sensor = Emitter::burst("sensor", -10e3, 20.0, burst);
        more.emitters.insert(0, sensor.clone());
        let rogue = Event::new(
            0.2,
            0.1,
            Incident::UnknownEmitter(UnknownEmitter {
                modulation: RogueModulation::Noise { bandwidth_hz: 5e3 },
                offset_hz: 40e3,
                level_db: 20.0,
                timing: RogueTiming::Continuous,
                hopping: None,
            }),
        );
        more.events.insert(0, rogue.clone());
        // The added signals alone, with a negligible noise floor.
        let mut added = Scenario::new(RATE, 100e6, 0.5, -30.0, 11);
        added.push_emitter(sensor).push_event(rogue);
        let (a, b) = (render(&base), render(&more));
        let mut alone = mixer(&added).unwrap();
        let mut block = vec![Sample::default(); a.len()];
        alone.render(0, &mut block);
        let noise_only = render(&Scenario::new(RATE, 100e6, 0.5, -30.0, 11));
        let mut worst = 0f32;
        for i in 0..a.len() {
            let extra = block[i] - noise_only[i];
            worst = worst.max((b[i] - a[i] - extra).norm());
        }
        assert!(worst < 1e-5, "{worst}");
        assert!(b.iter().zip(&a).any(|(x, y)| (x - y).norm() > 0.01));
    }
}
