//! Range checks on a [`Scenario`]: every value the generator relies on is
//! checked before a sample is made, so impossible scenarios (negative
//! durations, events outside the recording, frequencies beyond ±rate/2,
//! unknown emitters, duty cycles outside (0, 1]…) fail with a message naming
//! the field, and generation itself never panics.
//!
//! [`Scenario::check`] reports the first [`Issue`] by item index;
//! [`Scenario::validate`] turns it into a [`crate::Error`] naming the
//! scenario's source. The TOML loader maps the indices back to the file each
//! item came from (bases included).

use super::scenario::{Band, BurstTrain, DutyCycle, Emitter, EmitterKind, Impairments, Scenario};
use super::Keying;
use crate::{Error, Result};
use rfsentry_core::units;

/// Longest recording accepted, in samples (2^40: hours at tens of MS/s).
pub const MAX_SAMPLES: u64 = 1 << 40;

/// Largest magnitude accepted for any level in dB (keeps every amplitude finite).
pub const MAX_LEVEL_DB: f64 = 200.0;

/// Deepest receiver gain drift accepted, in dB.
pub const MAX_GAIN_DRIFT_DB: f64 = 20.0;

/// Shortest gain drift period, in samples: many evaluation cells per period,
/// so the drift stays a smooth sinusoid (see [`super::envelope`]).
pub const MIN_GAIN_DRIFT_PERIOD_SAMPLES: f64 = 64.0 * super::envelope::GRID as f64;

/// Largest jitter of a burst train, as a fraction of its period.
pub const MAX_JITTER: f64 = 0.5;

/// The part of a scenario an [`Issue`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// A top-level setting.
    Scenario,
    /// A key of the `[receiver]` table.
    Receiver,
    /// `emitters[i]`.
    Emitter(usize),
    /// `events[i]`.
    Event(usize),
}

/// One invalid value: which field of which item, and what was expected.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub item: Item,
    /// The field's key as written in a scenario file (e.g. `duty`).
    pub field: &'static str,
    /// What was expected, and what was found.
    pub expected: String,
}

impl Issue {
    /// The field's path: `sample_rate`, `emitters[1].offset_hz`, `events[0].duty`.
    pub fn field_path(&self) -> String {
        match self.item {
            Item::Scenario => self.field.to_string(),
            Item::Receiver => format!("receiver.{}", self.field),
            Item::Emitter(i) => format!("emitters[{i}].{}", self.field),
            Item::Event(i) => format!("events[{i}].{}", self.field),
        }
    }
}

impl Scenario {
    /// Check every value; the first problem found is returned.
    pub fn check(&self) -> std::result::Result<(), Issue> {
        let top = Checker {
            scenario: self,
            item: Item::Scenario,
        };
        top.positive("sample_rate", self.sample_rate)?;
        top.at_least("center_hz", self.center_hz, 0.0)?;
        top.positive("duration_s", self.duration_s)?;
        let total = self.duration_s * self.sample_rate;
        if !(1.0..=MAX_SAMPLES as f64).contains(&total.round()) {
            return Err(top.fail(
                "duration_s",
                format!(
                    "expected a duration of 1 to {MAX_SAMPLES} samples at {} samples/s, got {total} samples",
                    self.sample_rate
                ),
            ));
        }
        top.level("noise_dbfs", self.noise_dbfs)?;
        Checker {
            scenario: self,
            item: Item::Receiver,
        }
        .receiver(self.receiver)?;
        for (i, emitter) in self.emitters.iter().enumerate() {
            let check = Checker {
                scenario: self,
                item: Item::Emitter(i),
            };
            check.emitter(emitter)?;
            if self.emitters[..i].iter().any(|e| e.name == emitter.name) {
                return Err(check.fail(
                    "name",
                    format!(
                        "expected a unique emitter name, got a second {:?}",
                        emitter.name
                    ),
                ));
            }
        }
        for (i, event) in self.events.iter().enumerate() {
            let check = Checker {
                scenario: self,
                item: Item::Event(i),
            };
            check.at_least("start_s", event.start_s, 0.0)?;
            check.positive("duration_s", event.duration_s)?;
            let span = self.event_span(event);
            if span.end > self.total_samples() {
                return Err(check.fail(
                    "duration_s",
                    format!(
                        "expected the event to end within the recording ({} s), but it ends at {} s",
                        self.duration_s,
                        event.start_s + event.duration_s
                    ),
                ));
            }
            if span.is_empty() {
                return Err(check.fail(
                    "duration_s",
                    format!("expected at least one sample, got {} s", event.duration_s),
                ));
            }
            event.incident.params().check(&check)?;
        }
        Ok(())
    }

    /// Check every value; errors name the scenario's source and the field.
    pub fn validate(&self) -> Result<()> {
        self.check()
            .map_err(|issue| Error::format(&self.source, issue.field_path(), issue.expected))
    }
}

/// Checks values of one item of a scenario: the range checks shared by
/// emitters and incident kinds (each kind's own are in its module, see
/// [`super::incidents::IncidentKind::check`]).
pub struct Checker<'a> {
    scenario: &'a Scenario,
    item: Item,
}

/// The result of a check: fine, or the first [`Issue`].
pub type Checked = std::result::Result<(), Issue>;

impl<'a> Checker<'a> {
    /// The scenario being checked.
    pub fn scenario(&self) -> &'a Scenario {
        self.scenario
    }

    /// An issue with `field` of this item.
    pub fn fail(&self, field: &'static str, expected: String) -> Issue {
        Issue {
            item: self.item,
            field,
            expected,
        }
    }

    /// A level in dB, within ±[`MAX_LEVEL_DB`].
    pub fn level(&self, field: &'static str, value: f64) -> Checked {
        if value.is_finite() && value.abs() <= MAX_LEVEL_DB {
            Ok(())
        } else {
            Err(self.fail(
                field,
                format!("expected a level in dB between -{MAX_LEVEL_DB} and {MAX_LEVEL_DB}, got {value}"),
            ))
        }
    }

    pub fn positive(&self, field: &'static str, value: f64) -> Checked {
        if value.is_finite() && value > 0.0 {
            Ok(())
        } else {
            Err(self.fail(
                field,
                format!("expected a number greater than 0, got {value}"),
            ))
        }
    }

    pub fn at_least(&self, field: &'static str, value: f64, min: f64) -> Checked {
        if value.is_finite() && value >= min {
            Ok(())
        } else {
            Err(self.fail(
                field,
                format!("expected a number of at least {min}, got {value}"),
            ))
        }
    }

    /// At least `samples` samples long at the scenario's rate.
    pub fn samples(&self, field: &'static str, seconds: f64, samples: f64) -> Checked {
        self.positive(field, seconds)?;
        if seconds * self.scenario.sample_rate >= samples {
            Ok(())
        } else {
            Err(self.fail(
                field,
                format!(
                    "expected at least {samples} samples ({} s), got {seconds} s",
                    samples / self.scenario.sample_rate
                ),
            ))
        }
    }

    pub fn nyquist(&self) -> f64 {
        self.scenario.sample_rate / 2.0
    }

    pub fn frequency(&self, field: &'static str, offset_hz: f64) -> Checked {
        let limit = self.nyquist();
        if offset_hz.is_finite() && offset_hz.abs() <= limit {
            return Ok(());
        }
        let centre = self.scenario.center_hz;
        Err(self.fail(
            field,
            format!(
                "expected an offset within ±{} of the centre ({}), got {} ({})",
                units::hz(limit),
                units::band(centre - limit, centre + limit),
                units::hz(offset_hz),
                units::hz(centre + offset_hz),
            ),
        ))
    }

    pub fn band(&self, band: Band) -> Checked {
        self.frequency("low_offset_hz", band.low_offset_hz)?;
        self.frequency("high_offset_hz", band.high_offset_hz)?;
        if band.high_offset_hz > band.low_offset_hz {
            Ok(())
        } else {
            Err(self.fail(
                "high_offset_hz",
                format!(
                    "expected the high edge above the low edge ({}), got {}",
                    units::hz(band.low_offset_hz),
                    units::hz(band.high_offset_hz)
                ),
            ))
        }
    }

    /// The band a signal occupies lies within ±rate/2; `field` is the setting
    /// that makes it wide.
    pub fn occupied(&self, field: &'static str, band: Band) -> Checked {
        let limit = self.nyquist() * (1.0 + 1e-12);
        if band.low_offset_hz >= -limit && band.high_offset_hz <= limit {
            return Ok(());
        }
        Err(self.fail(
            field,
            format!(
                "expected the occupied band {} ± {} to lie within ±{} of the centre",
                units::hz(band.centre_hz()),
                units::hz(band.width_hz() / 2.0),
                units::hz(self.nyquist())
            ),
        ))
    }

    pub fn duty_cycle(&self, duty_cycle: DutyCycle) -> Checked {
        self.samples("period_s", duty_cycle.period_s, 2.0)?;
        let duty = duty_cycle.duty;
        if !(duty.is_finite() && duty > 0.0 && duty <= 1.0) {
            return Err(self.fail(
                "duty",
                format!("expected an on fraction in (0, 1], got {duty}"),
            ));
        }
        if duty_cycle.period_s * duty * self.scenario.sample_rate < 1.0 {
            return Err(self.fail(
                "duty",
                format!(
                    "expected bursts of at least one sample, got {} s",
                    duty_cycle.period_s * duty
                ),
            ));
        }
        Ok(())
    }

    fn receiver(&self, receiver: Impairments) -> Checked {
        if let Some(db) = receiver.dc_spike_db {
            self.level("dc_spike_db", db)?;
        }
        if let Some(dbc) = receiver.iq_image_dbc {
            if !(dbc.is_finite() && (-MAX_LEVEL_DB..0.0).contains(&dbc)) {
                return Err(self.fail(
                    "iq_image_dbc",
                    format!("expected an image level below the signal, in dBc between -{MAX_LEVEL_DB} and 0, got {dbc}"),
                ));
            }
        }
        if let Some(drift) = receiver.gain_drift {
            if !(drift.depth_db.is_finite() && (0.0..=MAX_GAIN_DRIFT_DB).contains(&drift.depth_db))
            {
                return Err(self.fail(
                    "gain_drift_db",
                    format!(
                        "expected a drift depth from 0 to {MAX_GAIN_DRIFT_DB} dB, got {}",
                        drift.depth_db
                    ),
                ));
            }
            self.samples(
                "gain_drift_period_s",
                drift.period_s,
                MIN_GAIN_DRIFT_PERIOD_SAMPLES,
            )?;
        }
        Ok(())
    }

    fn emitter(&self, emitter: &Emitter) -> Checked {
        if emitter.name.trim().is_empty() {
            return Err(self.fail("name", "expected a non-empty name".to_string()));
        }
        self.frequency("offset_hz", emitter.offset_hz)?;
        self.level("level_db", emitter.level_db)?;
        match &emitter.kind {
            EmitterKind::Carrier => Ok(()),
            EmitterKind::Nbfm { deviation_hz } => {
                self.positive("deviation_hz", *deviation_hz)?;
                self.occupied("deviation_hz", emitter.band())
            }
            EmitterKind::Burst(burst) => {
                self.positive("bitrate", burst.bitrate)?;
                if burst.bitrate > self.nyquist() {
                    return Err(self.fail(
                        "bitrate",
                        format!(
                            "expected at most sample_rate/2 = {} bits/s, got {}",
                            self.nyquist(),
                            burst.bitrate
                        ),
                    ));
                }
                if let Keying::Fsk { deviation_hz } = burst.keying {
                    self.positive("deviation_hz", deviation_hz)?;
                }
                self.occupied("bitrate", emitter.band())?;
                self.burst_train(burst.bursts)
            }
            EmitterKind::Ptt(ptt) => {
                self.positive("deviation_hz", ptt.deviation_hz)?;
                self.occupied("deviation_hz", emitter.band())?;
                self.interval("key_s", ptt.key_s)?;
                self.interval("idle_s", ptt.idle_s)
            }
        }?;
        if let Some(drift) = emitter.drift {
            self.at_least("drift_hz", drift.depth_hz, 0.0)?;
            let band = emitter.band();
            self.occupied(
                "drift_hz",
                Band::new(
                    band.low_offset_hz - drift.depth_hz,
                    band.high_offset_hz + drift.depth_hz,
                ),
            )?;
            self.samples(
                "drift_period_s",
                drift.period_s,
                MIN_GAIN_DRIFT_PERIOD_SAMPLES,
            )?;
        }
        Ok(())
    }

    /// A `[low, high]` range of seconds, each at least one sample.
    pub fn interval(&self, field: &'static str, range: [f64; 2]) -> Checked {
        self.samples(field, range[0], 1.0)?;
        if range[1].is_finite() && range[1] >= range[0] {
            return Ok(());
        }
        Err(self.fail(
            field,
            format!(
                "expected [shortest, longest] with longest ≥ shortest, got [{}, {}]",
                range[0], range[1]
            ),
        ))
    }

    /// Bursts of at least a sample, at least two samples apart, jittered by
    /// at most [`MAX_JITTER`], never overlapping.
    pub fn burst_train(&self, train: BurstTrain) -> Checked {
        self.samples("period_s", train.period_s, 2.0)?;
        self.samples("burst_s", train.burst_s, 1.0)?;
        if !(train.jitter.is_finite() && (0.0..=MAX_JITTER).contains(&train.jitter)) {
            return Err(self.fail(
                "jitter",
                format!(
                    "expected a fraction of the period from 0 to {MAX_JITTER}, got {}",
                    train.jitter
                ),
            ));
        }
        let longest = 1.0 - train.jitter;
        if train.burst_s > longest * train.period_s {
            return Err(self.fail(
                "burst_s",
                format!(
                    "expected bursts shorter than {} % of period_s ({} s) so jittered bursts never overlap, got {} s",
                    units::trimmed(longest * 100.0, 1),
                    // Shown to the microsecond: 0.9 × 0.01 is 0.009, not 0.009000000000000001.
                    (longest * train.period_s * 1e6).round() / 1e6,
                    train.burst_s
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::incidents::*;
    use crate::synth::scenario::Hopping;
    use crate::synth::scenario::{
        BurstSpec, BurstTrain, Event, FrequencyDrift, PttSpec, DEFAULT_BURST_JITTER,
    };

    fn scenario() -> Scenario {
        let mut s = Scenario::new(250e3, 433.92e6, 4.0, -30.0, 1);
        s.push_emitter(Emitter::carrier("beacon", -80e3, 25.0))
            .push_emitter(Emitter::nbfm("radio", 50e3, 20.0, 5e3));
        s
    }

    fn issue(s: &Scenario) -> String {
        let issue = s.check().expect_err("invalid");
        format!("{}: {}", issue.field_path(), issue.expected)
    }

    fn with_event(incident: Incident) -> Scenario {
        let mut s = scenario();
        s.push_event(Event::new(1.0, 1.0, incident));
        s
    }

    #[test]
    fn a_sound_scenario_passes() {
        let mut s = scenario();
        s.push_event(Event::new(
            1.0,
            1.0,
            Incident::Pulsed(Pulsed {
                band: Band::new(-100e3, 100e3),
                duty_cycle: DutyCycle {
                    period_s: 0.1,
                    duty: 1.0,
                },
                level_db: 10.0,
            }),
        ));
        assert_eq!(s.check(), Ok(()));
        assert!(s.validate().is_ok());
    }

    #[test]
    fn top_level_values_are_checked() {
        let mut s = scenario();
        s.sample_rate = 0.0;
        assert!(issue(&s).starts_with("sample_rate: expected a number greater than 0"));
        let mut s = scenario();
        s.duration_s = -1.0;
        assert!(issue(&s).starts_with("duration_s: "));
        let mut s = scenario();
        s.noise_dbfs = f64::NAN;
        assert!(issue(&s)
            .starts_with("noise_dbfs: expected a level in dB between -200 and 200, got NaN"));
        let mut s = scenario();
        s.duration_s = 1e-9;
        assert!(issue(&s).contains("duration of 1 to"));
    }

    #[test]
    fn emitters_are_checked() {
        let mut s = scenario();
        s.emitters[1].offset_hz = 200e3;
        let message = issue(&s);
        assert!(message.starts_with("emitters[1].offset_hz: expected an offset within ±125 kHz"));
        assert!(message.contains("433.795–434.045 MHz"), "{message}");
        let mut s = scenario();
        s.emitters[1].offset_hz = 120e3; // the FM band reaches beyond Nyquist
        assert!(issue(&s).starts_with("emitters[1].deviation_hz: expected the occupied band"));
        let mut s = scenario();
        s.emitters[1].name = "beacon".into();
        assert!(issue(&s).starts_with("emitters[1].name: expected a unique"));
        let mut s = scenario();
        s.push_emitter(Emitter::burst(
            "sensor",
            0.0,
            15.0,
            BurstSpec {
                keying: Keying::Ook,
                bitrate: 5e3,
                bursts: BurstTrain {
                    burst_s: 0.2,
                    period_s: 0.1,
                    jitter: DEFAULT_BURST_JITTER,
                },
            },
        ));
        assert!(issue(&s).starts_with("emitters[2].burst_s: expected bursts shorter"));
    }

    #[test]
    fn events_must_lie_inside_the_recording() {
        let mut s = scenario();
        s.push_event(Event::new(
            3.5,
            1.0,
            Incident::SignalLoss(SignalLoss { drop_db: 20.0 }),
        ));
        assert!(issue(&s).starts_with("events[0].duration_s: expected the event to end within"));
        let mut s = scenario();
        s.push_event(Event::new(
            -0.5,
            1.0,
            Incident::SignalLoss(SignalLoss { drop_db: 20.0 }),
        ));
        assert!(issue(&s).starts_with("events[0].start_s: expected a number of at least 0"));
    }

    /// A 1 MS/s scenario with one event from 1 to 2 s.
    fn fast(incident: Incident) -> Scenario {
        let mut s = Scenario::new(1e6, 868.3e6, 4.0, -30.0, 1);
        s.push_emitter(Emitter::nbfm("radio", 50e3, 20.0, 5e3));
        s.push_event(Event::new(1.0, 1.0, incident));
        s
    }

    #[test]
    fn car_jammers_and_fast_pulses_are_accepted() {
        for sweep_period_s in [5e-6, 1e-5, 1e-4, 0.1, 2.0] {
            let swept = Incident::Swept(Swept {
                band: Band::new(-400e3, 400e3),
                sweep_period_s,
                level_db: 20.0,
            });
            assert_eq!(fast(swept).check(), Ok(()), "{sweep_period_s}");
        }
        for period_s in [0.001, 0.01, 2.0] {
            for duty in [0.05, 0.5, 0.95] {
                let pulsed = Incident::Pulsed(Pulsed {
                    band: Band::new(-100e3, 100e3),
                    duty_cycle: DutyCycle { period_s, duty },
                    level_db: 20.0,
                });
                assert_eq!(fast(pulsed).check(), Ok(()), "{period_s} {duty}");
            }
        }
        // A sweep needs two samples: 5 µs is too short at 250 kS/s.
        let swept = Incident::Swept(Swept {
            band: Band::new(-100e3, 100e3),
            sweep_period_s: 5e-6,
            level_db: 20.0,
        });
        assert!(issue(&with_event(swept))
            .starts_with("events[0].sweep_period_s: expected at least 2 samples"));
    }

    #[test]
    fn real_site_values_are_checked() {
        let rogue = |timing, hopping| {
            Incident::UnknownEmitter(UnknownEmitter {
                modulation: RogueModulation::Noise { bandwidth_hz: 10e3 },
                offset_hz: 0.0,
                level_db: 20.0,
                timing,
                hopping,
            })
        };
        let hop = |channels, spacing_hz, dwell_s| {
            Some(Hopping {
                channels,
                spacing_hz,
                dwell_s,
            })
        };
        let bursts = |burst_s, period_s, jitter| {
            RogueTiming::Bursts(BurstTrain {
                burst_s,
                period_s,
                jitter,
            })
        };
        let continuous = RogueTiming::Continuous;
        let barrage = |level_db, creep| {
            Incident::Barrage(Barrage {
                band: Band::new(-10e3, 10e3),
                level_db,
                creep_db_per_s: Some(creep),
            })
        };
        let moved = |shift_hz| {
            Incident::AnomalousEmitter(AnomalousEmitter {
                emitter: "radio".into(),
                extra_db: 0.0,
                widen: 1.0,
                shift_hz,
            })
        };
        let cases: Vec<(Incident, &str)> = vec![
            (rogue(continuous, hop(20, 25e3, 0.03)), ""),
            (rogue(bursts(0.005, 3.0, 0.5), None), ""),
            (barrage(20.0, 1.0), ""),
            (moved(30e3), ""),
            (rogue(continuous, hop(1, 25e3, 0.03)), "events[0].hop_channels: expected 2 to 4096 channels, got 1"),
            (rogue(continuous, hop(50, 25e3, 0.03)), "events[0].hop_spacing_hz: expected the occupied band 0 Hz ± 617.5 kHz to lie within ±500 kHz"),
            (rogue(continuous, hop(20, -1.0, 0.03)), "events[0].hop_spacing_hz: expected a number greater than 0"),
            (rogue(continuous, hop(20, 25e3, 1e-6)), "events[0].dwell_s: expected at least 2 samples"),
            (rogue(bursts(0.005, 3.0, 0.6), None), "events[0].jitter: expected a fraction of the period from 0 to 0.5, got 0.6"),
            (rogue(bursts(2.0, 3.0, 0.5), None), "events[0].burst_s: expected bursts shorter than 50 % of period_s (1.5 s)"),
            (rogue(bursts(1e-7, 3.0, 0.0), None), "events[0].burst_s: expected at least 1 samples"),
            (barrage(20.0, -1.0), "events[0].creep_db_per_s: expected a number greater than 0"),
            (barrage(-3.0, 1.0), "events[0].level_db: expected a creeping jammer to end above the floor"),
            (moved(480e3), "events[0].shift_hz: expected the occupied band 530 kHz ± 8 kHz to lie within ±500 kHz"),
            (moved(f64::NAN), "events[0].shift_hz: expected a number, got NaN"),
        ];
        for (incident, expected) in cases {
            let s = fast(incident);
            if expected.is_empty() {
                assert_eq!(s.check(), Ok(()));
            } else {
                let message = issue(&s);
                assert!(
                    message.starts_with(expected),
                    "{message}\n  does not start with\n{expected}"
                );
            }
        }
    }

    #[test]
    fn real_site_emitters_are_checked() {
        let ptt = |key_s, idle_s| PttSpec {
            deviation_hz: 5e3,
            key_s,
            idle_s,
        };
        let drift = |depth_hz, period_s| FrequencyDrift { depth_hz, period_s };
        let sensor = |jitter| BurstSpec {
            keying: Keying::Ook,
            bitrate: 5e3,
            bursts: BurstTrain {
                burst_s: 0.02,
                period_s: 0.1,
                jitter,
            },
        };
        let cases: Vec<(Emitter, &str)> = vec![
            (Emitter::ptt("walkie", 0.0, 20.0, ptt([2.0, 8.0], [5.0, 40.0])), ""),
            (Emitter::carrier("beacon", 0.0, 20.0).with_drift(drift(1e3, 120.0)), ""),
            (Emitter::burst("sensor", 0.0, 20.0, sensor(0.5)), ""),
            (Emitter::ptt("walkie", 0.0, 20.0, ptt([8.0, 2.0], [5.0, 40.0])), "emitters[1].key_s: expected [shortest, longest] with longest ≥ shortest, got [8, 2]"),
            (Emitter::ptt("walkie", 0.0, 20.0, ptt([2.0, 8.0], [0.0, 40.0])), "emitters[1].idle_s: expected a number greater than 0, got 0"),
            (Emitter::carrier("beacon", 495e3, 20.0).with_drift(drift(10e3, 120.0)), "emitters[1].drift_hz: expected the occupied band"),
            (Emitter::carrier("beacon", 0.0, 20.0).with_drift(drift(-1.0, 120.0)), "emitters[1].drift_hz: expected a number of at least 0"),
            (Emitter::carrier("beacon", 0.0, 20.0).with_drift(drift(1e3, 0.001)), "emitters[1].drift_period_s: expected at least 16384 samples"),
            (Emitter::burst("sensor", 0.0, 20.0, sensor(0.9)), "emitters[1].jitter: expected a fraction of the period from 0 to 0.5"),
        ];
        for (emitter, expected) in cases {
            let mut s = fast(Incident::SignalLoss(SignalLoss { drop_db: 3.0 }));
            s.push_emitter(emitter);
            if expected.is_empty() {
                assert_eq!(s.check(), Ok(()));
            } else {
                let message = issue(&s);
                assert!(
                    message.starts_with(expected),
                    "{message}\n  does not start with\n{expected}"
                );
            }
        }
    }

    #[test]
    fn incidents_are_checked() {
        let pulsed = |duty| {
            Incident::Pulsed(Pulsed {
                band: Band::new(-10e3, 10e3),
                duty_cycle: DutyCycle {
                    period_s: 0.1,
                    duty,
                },
                level_db: 10.0,
            })
        };
        for duty in [0.0, 1.5, -0.1, f64::NAN] {
            assert!(
                issue(&with_event(pulsed(duty)))
                    .starts_with("events[0].duty: expected an on fraction in (0, 1]"),
                "{duty}"
            );
        }
        let barrage = Incident::Barrage(Barrage {
            band: Band::new(10e3, -10e3),
            level_db: 10.0,
            creep_db_per_s: None,
        });
        assert!(issue(&with_event(barrage))
            .starts_with("events[0].high_offset_hz: expected the high edge"));
        let tone = Incident::Tone(Tone {
            offsets_hz: vec![1e3, -130e3],
            level_db: 10.0,
        });
        assert!(
            issue(&with_event(tone)).starts_with("events[0].offsets_hz: expected an offset within")
        );
        let anomalous = |emitter: &str, widen| {
            Incident::AnomalousEmitter(AnomalousEmitter {
                emitter: emitter.into(),
                extra_db: 10.0,
                widen,
                shift_hz: 0.0,
            })
        };
        let message = issue(&with_event(anomalous("nobody", 1.0)));
        assert!(
            message.starts_with(
                "events[0].emitter: expected the name of a known emitter (beacon, radio)"
            ),
            "{message}"
        );
        assert!(issue(&with_event(anomalous("beacon", 2.0)))
            .starts_with("events[0].widen: expected no widening"));
        assert!(issue(&with_event(anomalous("radio", 0.5)))
            .starts_with("events[0].widen: expected a number of at least 1"));
        assert!(with_event(anomalous("radio", 2.0)).check().is_ok());
        let rogue = Incident::UnknownEmitter(UnknownEmitter {
            modulation: RogueModulation::Fsk {
                bandwidth_hz: 10e3,
                bitrate: 20e3,
            },
            offset_hz: 0.0,
            level_db: 10.0,
            timing: RogueTiming::Continuous,
            hopping: None,
        });
        assert!(
            issue(&with_event(rogue)).starts_with("events[0].bitrate: expected a bitrate below")
        );
        let rogue = Incident::UnknownEmitter(UnknownEmitter {
            modulation: RogueModulation::Noise { bandwidth_hz: 60e3 },
            offset_hz: 100e3,
            level_db: 10.0,
            timing: RogueTiming::Continuous,
            hopping: None,
        });
        assert!(issue(&with_event(rogue))
            .starts_with("events[0].bandwidth_hz: expected the occupied band"));
        assert!(issue(&with_event(Incident::SignalLoss(SignalLoss {
            drop_db: -3.0
        })))
        .starts_with("events[0].drop_db: "));
    }
}
