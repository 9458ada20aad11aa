//! `emitter.unknown`: a rogue transmitter — FSK, band noise (standing in for
//! OFDM/QPSK) or a bare carrier — continuous, duty-cycled or in bursts, on
//! one channel or hopping over several ([`crate::synth::hop`]). A bursty
//! rogue's annotation ends with its last burst; a hopper's covers its whole
//! hop set.
//!
//! ```toml
//! [[events]]
//! kind = "emitter.unknown"
//! modulation = "fsk"               # fsk, noise or carrier
//! start_s = 1.0
//! duration_s = 4.0
//! offset_hz = 0                    # or freq_hz; a hopper's: the centre of its hop set
//! bandwidth_hz = 12.5e3            # per channel (not for a carrier)
//! bitrate = 2500                   # optional with fsk (default bandwidth_hz / 5)
//! level_db = 18
//! hop_channels = 20                # optional hopping (all three keys together)
//! hop_spacing_hz = 10e3
//! dwell_s = 0.03
//! burst_s = 0.005                  # optional: bursts of burst_s every period_s…
//! period_s = 1.0                   # …(or period_s with duty = 0.3 for a duty cycle)
//! jitter = 0.1                     # optional with burst_s (default 0)
//! ```

use super::{read_duty_cycle, EventContext, IncidentKind, Render};
use crate::alert::AlertKind;
use crate::synth::annotate::duty_label;
use crate::synth::carrier::Carrier;
use crate::synth::gate::{Pattern, Span};
use crate::synth::hop::Hopper;
use crate::synth::keyed::{KeyedModulator, Keying};
use crate::synth::scenario::{Band, BurstTrain, DutyCycle, Emitter, Hopping, Scenario};
use crate::synth::signal::Signal;
use crate::synth::toml_fields::Fields;
use crate::synth::validate::{Checked, Checker};
use crate::Result;
use rand::Rng;
use rfsentry_core::units;

/// Most channels of a frequency hopper.
pub const MAX_HOP_CHANNELS: u32 = 4096;

/// A rogue transmitter, continuous or bursty, on one channel or hopping over
/// several (`offset_hz` is then the hop set's centre).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnknownEmitter {
    pub modulation: RogueModulation,
    pub offset_hz: f64,
    pub level_db: f64,
    pub timing: RogueTiming,
    pub hopping: Option<Hopping>,
}

/// What a rogue transmitter sends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RogueModulation {
    /// Continuous-phase FSK filling `bandwidth_hz` (Carson's rule) at `bitrate`.
    Fsk { bandwidth_hz: f64, bitrate: f64 },
    /// Band-limited Gaussian noise over `bandwidth_hz` (stands in for OFDM/QPSK).
    Noise { bandwidth_hz: f64 },
    /// A bare carrier.
    Carrier,
}

impl RogueModulation {
    /// FSK over `bandwidth_hz` at the default bitrate (a fifth of the bandwidth).
    pub fn fsk(bandwidth_hz: f64) -> Self {
        RogueModulation::Fsk {
            bandwidth_hz,
            bitrate: bandwidth_hz / 5.0,
        }
    }

    /// Occupied bandwidth (0 for a carrier).
    pub fn bandwidth_hz(self) -> f64 {
        match self {
            RogueModulation::Fsk { bandwidth_hz, .. } | RogueModulation::Noise { bandwidth_hz } => {
                bandwidth_hz
            }
            RogueModulation::Carrier => 0.0,
        }
    }

    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            RogueModulation::Fsk { .. } => "fsk",
            RogueModulation::Noise { .. } => "noise",
            RogueModulation::Carrier => "carrier",
        }
    }
}

/// When a rogue transmitter is on during its event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RogueTiming {
    /// All the time.
    Continuous,
    /// On for `period_s · duty` every `period_s`, the first burst at the event's start.
    DutyCycle(DutyCycle),
    /// Bursts of a fixed length every period (± jitter), the first at the event's start.
    Bursts(BurstTrain),
}

impl IncidentKind for UnknownEmitter {
    fn alert() -> AlertKind {
        AlertKind::EmitterUnknown
    }

    fn read(fields: &mut Fields, center_hz: f64) -> Result<Self> {
        let modulation = fields.string("modulation")?;
        let modulation = fields.required("modulation", modulation, "fsk, noise or carrier")?;
        let offset_hz = fields.required_offset("offset_hz", "freq_hz", center_hz)?;
        let level_db = fields.level()?;
        let timing = read_timing(fields)?;
        let hopping = read_hopping(fields)?;
        let bandwidth = |fields: &mut Fields| {
            fields.required_number("bandwidth_hz", "the occupied bandwidth in Hz")
        };
        let modulation = match modulation {
            "fsk" => {
                let bandwidth_hz = bandwidth(fields)?;
                match fields.number("bitrate")? {
                    Some(bitrate) => RogueModulation::Fsk {
                        bandwidth_hz,
                        bitrate,
                    },
                    None => RogueModulation::fsk(bandwidth_hz),
                }
            }
            "noise" => RogueModulation::Noise {
                bandwidth_hz: bandwidth(fields)?,
            },
            "carrier" => RogueModulation::Carrier,
            other => {
                return Err(fields.error(
                    "modulation",
                    format!("expected fsk, noise or carrier, got {other:?}"),
                ))
            }
        };
        Ok(UnknownEmitter {
            modulation,
            offset_hz,
            level_db,
            timing,
            hopping,
        })
    }

    fn check(&self, check: &Checker) -> Checked {
        check.frequency("offset_hz", self.offset_hz)?;
        check.level("level_db", self.level_db)?;
        match self.modulation {
            RogueModulation::Fsk {
                bandwidth_hz,
                bitrate,
            } => {
                check.positive("bandwidth_hz", bandwidth_hz)?;
                check.positive("bitrate", bitrate)?;
                if bitrate >= bandwidth_hz {
                    return Err(check.fail(
                        "bitrate",
                        format!(
                            "expected a bitrate below bandwidth_hz ({bandwidth_hz}) so FSK has a deviation, got {bitrate}"
                        ),
                    ));
                }
            }
            RogueModulation::Noise { bandwidth_hz } => {
                check.positive("bandwidth_hz", bandwidth_hz)?
            }
            RogueModulation::Carrier => {}
        }
        let bandwidth_hz = self.modulation.bandwidth_hz();
        match self.hopping {
            Some(hopping) => check_hopping(check, hopping, self.offset_hz, bandwidth_hz)?,
            None => check.occupied("bandwidth_hz", Band::around(self.offset_hz, bandwidth_hz))?,
        }
        match self.timing {
            RogueTiming::Continuous => Ok(()),
            RogueTiming::DutyCycle(duty_cycle) => check.duty_cycle(duty_cycle),
            RogueTiming::Bursts(train) => check.burst_train(train),
        }
    }

    fn signal_band(&self, _known: &[Emitter]) -> Option<Band> {
        let bandwidth_hz = self.modulation.bandwidth_hz();
        Some(match self.hopping {
            Some(hopping) => hopping.band(self.offset_hz, bandwidth_hz),
            None => Band::around(self.offset_hz, bandwidth_hz),
        })
    }

    fn render(&self, event: &EventContext) -> Render {
        let rate = event.rate();
        let mut rng = event.rng();
        let bandwidth_hz = self.modulation.bandwidth_hz();
        let power = event.power(bandwidth_hz, self.level_db);
        // A hopper's channel signal is made at 0 Hz, then hopped.
        let centre_hz = if self.hopping.is_some() {
            0.0
        } else {
            self.offset_hz
        };
        let hops = event.sub_rng("hops");
        let signal: Box<dyn Signal> = match self.modulation {
            RogueModulation::Fsk { bitrate, .. } => Box::new(KeyedModulator::new(
                rate,
                centre_hz,
                Keying::Fsk {
                    deviation_hz: (bandwidth_hz - bitrate) / 2.0,
                },
                bitrate,
                power,
                rng,
            )),
            RogueModulation::Noise { .. } => {
                event.band_noise(Band::around(centre_hz, bandwidth_hz), self.level_db, rng)
            }
            RogueModulation::Carrier => Box::new(Carrier::new(rate, centre_hz, power, rng.gen())),
        };
        let signal: Box<dyn Signal> = match self.hopping {
            Some(hopping) => Box::new(Hopper::new(
                signal,
                rate,
                self.offset_hz,
                hopping,
                event.span.start,
                hops,
            )),
            None => signal,
        };
        Render::Signal(signal, self.pattern(event))
    }

    /// A bursty rogue's span ends with its last burst.
    fn annotated_span(&self, event: &EventContext) -> Span {
        let span = event.span;
        if self.timing == RogueTiming::Continuous {
            return span;
        }
        let last = self.pattern(event).last_burst_end(span);
        Span::new(span.start, last.unwrap_or(span.end))
    }

    fn is_carrier(&self, _scenario: &Scenario) -> bool {
        self.modulation == RogueModulation::Carrier
    }

    fn describe(&self, scenario: &Scenario, _low_hz: f64, _high_hz: f64) -> (f64, String) {
        let centre = scenario.center_hz;
        let width = match self.modulation {
            RogueModulation::Carrier => String::new(),
            other => format!(" {} wide", units::hz(other.bandwidth_hz())),
        };
        let bursts = match self.timing {
            RogueTiming::Continuous => String::new(),
            RogueTiming::DutyCycle(d) => duty_label(d),
            RogueTiming::Bursts(train) => format!(
                ", {} s bursts every {} s",
                units::trimmed(train.burst_s, 6),
                units::trimmed(train.period_s, 4)
            ),
        };
        let at = match self.hopping {
            Some(h) => format!(
                "hopping {} × {} around {}, dwell {} s,",
                h.channels,
                units::hz(h.spacing_hz),
                units::hz(centre + self.offset_hz),
                units::trimmed(h.dwell_s, 6)
            ),
            None => units::hz(centre + self.offset_hz),
        };
        (
            self.level_db,
            format!(
                "{} {at}{width} {}{bursts}",
                self.modulation.name(),
                units::level(self.level_db, "dB")
            ),
        )
    }
}

impl UnknownEmitter {
    /// When it is on during its event (the annotation plays the same
    /// pattern to find the last burst).
    fn pattern(&self, event: &EventContext) -> Pattern {
        let rate = event.rate();
        let start = event.span.start;
        match self.timing {
            RogueTiming::Continuous => Pattern::Continuous,
            RogueTiming::DutyCycle(d) => Pattern::periodic(start, rate, d.period_s, d.duty),
            RogueTiming::Bursts(train) => Pattern::jittered(
                start,
                rate,
                train.period_s,
                train.burst_s,
                train.jitter,
                event.sub_rng("schedule"),
            ),
        }
    }
}

/// A hop set of 2 to [`MAX_HOP_CHANNELS`] channels, dwelling at least two
/// samples on each, all within ±rate/2.
fn check_hopping(
    check: &Checker,
    hopping: Hopping,
    centre_hz: f64,
    channel_bandwidth_hz: f64,
) -> Checked {
    if !(2..=MAX_HOP_CHANNELS).contains(&hopping.channels) {
        return Err(check.fail(
            "hop_channels",
            format!(
                "expected 2 to {MAX_HOP_CHANNELS} channels, got {}",
                hopping.channels
            ),
        ));
    }
    check.positive("hop_spacing_hz", hopping.spacing_hz)?;
    check.samples("dwell_s", hopping.dwell_s, 2.0)?;
    check.occupied(
        "hop_spacing_hz",
        hopping.band(centre_hz, channel_bandwidth_hz),
    )
}

/// A rogue's timing: continuous, `period_s` with `duty`, or `period_s` with
/// `burst_s` (and optionally `jitter`).
fn read_timing(fields: &mut Fields) -> Result<RogueTiming> {
    let burst_s = fields.number("burst_s")?;
    let jitter = fields.number("jitter")?;
    if burst_s.is_some() && fields.table().contains_key("duty") {
        return Err(fields.error(
            "burst_s",
            "expected either duty or burst_s (bursts of a fixed length), not both",
        ));
    }
    let Some(burst_s) = burst_s else {
        if jitter.is_some() {
            return Err(fields.error("jitter", "expected burst_s and period_s to go with it"));
        }
        return Ok(match read_duty_cycle(fields)? {
            Some(duty_cycle) => RogueTiming::DutyCycle(duty_cycle),
            None => RogueTiming::Continuous,
        });
    };
    let period_s = fields.number("period_s")?;
    let period_s = fields.required(
        "period_s",
        period_s,
        "the time between burst starts in seconds, to go with burst_s",
    )?;
    Ok(RogueTiming::Bursts(BurstTrain {
        burst_s,
        period_s,
        jitter: jitter.unwrap_or(0.0),
    }))
}

/// A hopper's `hop_channels`, `hop_spacing_hz` and `dwell_s` (all or none).
fn read_hopping(fields: &mut Fields) -> Result<Option<Hopping>> {
    let channels = fields.unsigned("hop_channels")?;
    let spacing_hz = fields.number("hop_spacing_hz")?;
    let dwell_s = fields.number("dwell_s")?;
    if channels.is_none() && spacing_hz.is_none() && dwell_s.is_none() {
        return Ok(None);
    }
    let channels = fields.required("hop_channels", channels, "the number of hop channels")?;
    Ok(Some(Hopping {
        channels: u32::try_from(channels).unwrap_or(u32::MAX),
        spacing_hz: fields.required(
            "hop_spacing_hz",
            spacing_hz,
            "the spacing of hop channels in Hz",
        )?,
        dwell_s: fields.required("dwell_s", dwell_s, "the time on each channel in seconds")?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::annotate::tests::only;
    use crate::synth::incidents::*;

    #[test]
    fn bursty_rogue_span_ends_with_its_last_burst() {
        let a = only(Incident::UnknownEmitter(UnknownEmitter {
            modulation: RogueModulation::fsk(12.5e3),
            offset_hz: 95e3,
            level_db: 18.0,
            hopping: None,
            timing: RogueTiming::DutyCycle(DutyCycle {
                period_s: 0.4,
                duty: 0.25,
            }),
        }));
        // Bursts at 1.0, 1.4, 1.8, 2.2 s, each 0.1 s: the last ends at 2.3 s.
        assert_eq!(a.sample_start, 250_000);
        assert_eq!(a.sample_end(), Some(575_000));
        assert_eq!(a.freq_lower_edge, Some(434.015e6 - 6.25e3));
        assert_eq!(
            a.label.as_deref(),
            Some("emitter.unknown fsk 434.015 MHz 12.5 kHz wide +18 dB, 25 % of 0.4 s")
        );
    }
}
