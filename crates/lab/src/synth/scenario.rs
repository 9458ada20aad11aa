//! The scenario model: what one synthetic recording contains — receiver
//! settings, a noise floor, known [`Emitter`]s present all the time, and timed
//! [`Event`]s (incidents) that become annotated ground truth.
//!
//! Scenarios are usually read from TOML ([`Scenario::load`], in
//! `scenario_file`), but can be built in code with [`Scenario::new`],
//! [`Scenario::push_emitter`] and [`Scenario::push_event`]. Frequencies are
//! offsets from the centre frequency in Hz; levels follow the convention of
//! [`super::level`]. What each kind of incident is lives in
//! [`super::incidents`].

use super::gate::Span;
use super::incidents::Incident;
use super::keyed::Keying;
use super::nbfm;
use crate::alert::AlertKind;
use crate::iq::Datatype;
use chrono::{DateTime, Utc};
use std::path::PathBuf;

/// Start time written when a scenario names none.
pub const DEFAULT_START_TIME: &str = "2026-01-01T00:00:00Z";

/// Name used in errors and in `rfsentry:scenario` for scenarios built in code.
pub const IN_CODE_SOURCE: &str = "<in-code scenario>";

/// One synthetic recording, fully described.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Where the scenario came from: errors name it, and its file name is
    /// written as `rfsentry:scenario`.
    pub source: PathBuf,
    pub description: Option<String>,
    /// Seed of every random stream; the same seed gives byte-identical output.
    pub seed: u64,
    /// Samples per second (complex).
    pub sample_rate: f64,
    pub center_hz: f64,
    pub duration_s: f64,
    /// Total noise power over the whole band, E|x|² in dBFS.
    pub noise_dbfs: f64,
    /// Encoding written when the caller does not choose one.
    pub datatype: Datatype,
    /// The receiver's own imperfections (none by default).
    pub receiver: Impairments,
    /// Wall-clock time of the first sample (`core:datetime`).
    pub start_time: DateTime<Utc>,
    /// Known emitters, present all the time.
    pub emitters: Vec<Emitter>,
    /// Timed incidents, each annotated.
    pub events: Vec<Event>,
}

impl Scenario {
    /// An empty scenario (noise only, `ci16_le`, starting at [`DEFAULT_START_TIME`]).
    pub fn new(
        sample_rate: f64,
        center_hz: f64,
        duration_s: f64,
        noise_dbfs: f64,
        seed: u64,
    ) -> Self {
        Scenario {
            source: PathBuf::from(IN_CODE_SOURCE),
            description: None,
            seed,
            sample_rate,
            center_hz,
            duration_s,
            noise_dbfs,
            datatype: Datatype::CI16_LE,
            receiver: Impairments::default(),
            start_time: DEFAULT_START_TIME.parse().expect("valid constant"),
            emitters: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Add a known emitter.
    pub fn push_emitter(&mut self, emitter: Emitter) -> &mut Self {
        self.emitters.push(emitter);
        self
    }

    /// Add an incident.
    pub fn push_event(&mut self, event: Event) -> &mut Self {
        self.events.push(event);
        self
    }

    /// The scenario's file name (written as `rfsentry:scenario`).
    pub fn file_name(&self) -> String {
        self.source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.source.display().to_string())
    }

    /// The sample index nearest to `seconds` from the start.
    pub fn sample_at(&self, seconds: f64) -> u64 {
        (seconds * self.sample_rate).round().max(0.0) as u64
    }

    /// Number of samples in the recording.
    pub fn total_samples(&self) -> u64 {
        self.sample_at(self.duration_s)
    }

    /// The samples an event covers.
    pub fn event_span(&self, event: &Event) -> Span {
        Span::new(
            self.sample_at(event.start_s),
            self.sample_at(event.start_s + event.duration_s),
        )
    }

    /// The known emitter called `name`.
    pub fn emitter(&self, name: &str) -> Option<&Emitter> {
        self.emitters.iter().find(|e| e.name == name)
    }
}

/// Imperfections of the receiver itself, applied to the whole mix (see
/// [`super::receiver`]); `None` means that impairment is absent.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Impairments {
    /// A constant DC offset this many dB over the noise density in one
    /// 1024-point FFT bin (the level convention of a carrier at 0 Hz).
    pub dc_spike_db: Option<f64>,
    /// IQ imbalance: every signal has a mirror image about the centre this
    /// many dB below itself (dBc, negative).
    pub iq_image_dbc: Option<f64>,
    /// Slow gain drift of the whole receiver.
    pub gain_drift: Option<GainDrift>,
}

impl Impairments {
    /// True when the receiver is ideal.
    pub fn is_ideal(&self) -> bool {
        *self == Impairments::default()
    }
}

/// Gain period used when a scenario gives a drift depth but no period.
pub const DEFAULT_GAIN_DRIFT_PERIOD_S: f64 = 300.0;

/// A sinusoidal gain drift: `depth_db · sin(2π t / period_s + φ)` dB, with
/// the phase φ drawn from the seed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GainDrift {
    pub depth_db: f64,
    pub period_s: f64,
}

/// A band of frequencies, as offsets from the centre in Hz.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    pub low_offset_hz: f64,
    pub high_offset_hz: f64,
}

impl Band {
    /// `[low_offset_hz, high_offset_hz]`.
    pub fn new(low_offset_hz: f64, high_offset_hz: f64) -> Self {
        Band {
            low_offset_hz,
            high_offset_hz,
        }
    }

    /// The band `bandwidth_hz` wide centred on `offset_hz`.
    pub fn around(offset_hz: f64, bandwidth_hz: f64) -> Self {
        Band::new(
            offset_hz - bandwidth_hz / 2.0,
            offset_hz + bandwidth_hz / 2.0,
        )
    }

    pub fn width_hz(self) -> f64 {
        self.high_offset_hz - self.low_offset_hz
    }

    pub fn centre_hz(self) -> f64 {
        (self.low_offset_hz + self.high_offset_hz) / 2.0
    }
}

/// A known emitter, present during the whole recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Emitter {
    /// Unique name; `emitter.anomalous` events refer to it.
    pub name: String,
    pub offset_hz: f64,
    pub level_db: f64,
    pub kind: EmitterKind,
    /// A slow wander of its centre frequency (none by default).
    pub drift: Option<FrequencyDrift>,
}

/// Drift period used when a scenario gives a frequency drift but no period.
pub const DEFAULT_FREQUENCY_DRIFT_PERIOD_S: f64 = 120.0;

/// A slow sinusoidal wander of a transmitter's centre frequency:
/// `depth_hz · sin(2π t / period_s + φ)`, φ drawn from the seed (see
/// [`super::drift`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrequencyDrift {
    pub depth_hz: f64,
    pub period_s: f64,
}

/// What a known emitter transmits.
#[derive(Debug, Clone, PartialEq)]
pub enum EmitterKind {
    /// An unmodulated carrier (a beacon).
    Carrier,
    /// A narrowband FM voice radio of peak deviation `deviation_hz`.
    Nbfm { deviation_hz: f64 },
    /// A bursty ISM sensor.
    Burst(BurstSpec),
    /// A push-to-talk NBFM radio: legitimate, intermittent traffic.
    Ptt(PttSpec),
}

/// Jitter of a known burst emitter's period when a scenario gives none.
pub const DEFAULT_BURST_JITTER: f64 = 0.1;

/// A train of bursts: `burst_s` long, starting `period_s` apart ±`jitter`
/// (a fraction of the period; 0 is strictly periodic).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurstTrain {
    pub burst_s: f64,
    pub period_s: f64,
    pub jitter: f64,
}

/// A bursty data transmitter: bursts of pseudo-random bits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurstSpec {
    pub keying: Keying,
    /// Bits per second.
    pub bitrate: f64,
    /// When it transmits (the first burst comes at a random time within the
    /// first period).
    pub bursts: BurstTrain,
}

/// A push-to-talk radio: NBFM voice of peak deviation `deviation_hz`, keyed
/// up for a uniformly random `key_s[0]..key_s[1]` seconds, then silent for
/// a uniformly random `idle_s[0]..idle_s[1]` seconds, again and again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PttSpec {
    pub deviation_hz: f64,
    pub key_s: [f64; 2],
    pub idle_s: [f64; 2],
}

impl Emitter {
    /// A carrier (beacon).
    pub fn carrier(name: &str, offset_hz: f64, level_db: f64) -> Self {
        Emitter::with_kind(name, offset_hz, level_db, EmitterKind::Carrier)
    }

    /// An NBFM voice radio.
    pub fn nbfm(name: &str, offset_hz: f64, level_db: f64, deviation_hz: f64) -> Self {
        Emitter::with_kind(
            name,
            offset_hz,
            level_db,
            EmitterKind::Nbfm { deviation_hz },
        )
    }

    /// A bursty sensor.
    pub fn burst(name: &str, offset_hz: f64, level_db: f64, burst: BurstSpec) -> Self {
        Emitter::with_kind(name, offset_hz, level_db, EmitterKind::Burst(burst))
    }

    /// A push-to-talk radio.
    pub fn ptt(name: &str, offset_hz: f64, level_db: f64, ptt: PttSpec) -> Self {
        Emitter::with_kind(name, offset_hz, level_db, EmitterKind::Ptt(ptt))
    }

    fn with_kind(name: &str, offset_hz: f64, level_db: f64, kind: EmitterKind) -> Self {
        Emitter {
            name: name.to_string(),
            offset_hz,
            level_db,
            kind,
            drift: None,
        }
    }

    /// The same emitter, its centre wandering by `drift`.
    pub fn with_drift(self, drift: FrequencyDrift) -> Self {
        Emitter {
            drift: Some(drift),
            ..self
        }
    }

    /// The same emitter moved by `shift_hz`.
    pub fn shifted(&self, shift_hz: f64) -> Emitter {
        Emitter {
            offset_hz: self.offset_hz + shift_hz,
            ..self.clone()
        }
    }

    /// Occupied bandwidth `B` of the level convention (0 for a carrier).
    pub fn bandwidth_hz(&self) -> f64 {
        match &self.kind {
            EmitterKind::Carrier => 0.0,
            EmitterKind::Nbfm { deviation_hz } | EmitterKind::Ptt(PttSpec { deviation_hz, .. }) => {
                nbfm::bandwidth_hz(*deviation_hz)
            }
            EmitterKind::Burst(b) => b.keying.bandwidth_hz(b.bitrate),
        }
    }

    /// The band it occupies.
    pub fn band(&self) -> Band {
        Band::around(self.offset_hz, self.bandwidth_hz())
    }

    /// The same emitter with its bandwidth multiplied by `factor`: a wider FM
    /// deviation, or a faster (and for FSK wider-shifted) bit stream. A carrier
    /// has no bandwidth to widen and is returned unchanged.
    pub fn widened(&self, factor: f64) -> Emitter {
        let wider_fm = |deviation_hz: f64| {
            nbfm::deviation_for_bandwidth(nbfm::bandwidth_hz(deviation_hz) * factor)
        };
        let kind = match &self.kind {
            EmitterKind::Carrier => EmitterKind::Carrier,
            EmitterKind::Nbfm { deviation_hz } => EmitterKind::Nbfm {
                deviation_hz: wider_fm(*deviation_hz),
            },
            EmitterKind::Ptt(ptt) => EmitterKind::Ptt(PttSpec {
                deviation_hz: wider_fm(ptt.deviation_hz),
                ..*ptt
            }),
            EmitterKind::Burst(b) => EmitterKind::Burst(BurstSpec {
                keying: match b.keying {
                    Keying::Fsk { deviation_hz } => Keying::Fsk {
                        deviation_hz: deviation_hz * factor,
                    },
                    Keying::Ook => Keying::Ook,
                },
                bitrate: b.bitrate * factor,
                ..*b
            }),
        };
        Emitter {
            kind,
            ..self.clone()
        }
    }
}

/// A timed incident: what happens, from `start_s` for `duration_s`.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub start_s: f64,
    pub duration_s: f64,
    pub incident: Incident,
}

impl Event {
    pub fn new(start_s: f64, duration_s: f64, incident: Incident) -> Self {
        Event {
            start_s,
            duration_s,
            incident,
        }
    }

    /// The alert kind this event should raise.
    pub fn kind(&self) -> AlertKind {
        self.incident.kind()
    }
}

/// An on/off duty cycle: on for `period_s · duty` every `period_s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DutyCycle {
    pub period_s: f64,
    /// On fraction, in (0, 1].
    pub duty: f64,
}

/// A frequency hopper: a pseudo-random one of `channels` channels,
/// `spacing_hz` apart and centred on the emitter's offset, every `dwell_s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hopping {
    pub channels: u32,
    pub spacing_hz: f64,
    pub dwell_s: f64,
}

impl Hopping {
    /// The offset of channel `index` (0 is the lowest) of a set centred on `centre_hz`.
    pub fn channel_offset_hz(self, centre_hz: f64, index: u32) -> f64 {
        centre_hz + (index as f64 - (self.channels - 1) as f64 / 2.0) * self.spacing_hz
    }

    /// The band of the whole hop set: the lowest channel's low edge to the
    /// highest channel's high edge.
    pub fn band(self, centre_hz: f64, channel_bandwidth_hz: f64) -> Band {
        Band::new(
            self.channel_offset_hz(centre_hz, 0) - channel_bandwidth_hz / 2.0,
            self.channel_offset_hz(centre_hz, self.channels - 1) + channel_bandwidth_hz / 2.0,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::incidents::SignalLoss;

    #[test]
    fn widening_multiplies_the_occupied_bandwidth() {
        let fm = Emitter::nbfm("radio", 1e3, 20.0, 5e3);
        assert_eq!(fm.bandwidth_hz(), 16e3);
        assert!((fm.widened(2.5).bandwidth_hz() - 40e3).abs() < 1e-9);
        let burst = Emitter::burst(
            "sensor",
            0.0,
            15.0,
            BurstSpec {
                keying: Keying::Fsk { deviation_hz: 20e3 },
                bitrate: 10e3,
                bursts: BurstTrain {
                    burst_s: 0.02,
                    period_s: 0.5,
                    jitter: DEFAULT_BURST_JITTER,
                },
            },
        );
        assert_eq!(burst.bandwidth_hz(), 50e3);
        assert!((burst.widened(2.0).bandwidth_hz() - 100e3).abs() < 1e-9);
        let beacon = Emitter::carrier("beacon", 0.0, 20.0);
        assert_eq!(beacon.widened(3.0), beacon);
    }

    #[test]
    fn event_spans_are_in_samples() {
        let mut s = Scenario::new(1000.0, 100e6, 2.0, -30.0, 1);
        s.push_event(Event::new(0.5, 0.25, SignalLoss { drop_db: 20.0 }.into()));
        assert_eq!(s.total_samples(), 2000);
        assert_eq!(s.event_span(&s.events[0]), Span::new(500, 750));
        assert_eq!(s.events[0].kind(), AlertKind::ReceiverSignalLoss);
        assert_eq!(s.file_name(), IN_CODE_SOURCE);
    }
}
