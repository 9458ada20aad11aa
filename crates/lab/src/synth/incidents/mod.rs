//! Incident kinds, one file each: a kind's parameters, how a scenario file
//! spells them, their range checks, the signal the kind adds to the mix and
//! the SigMF annotation that is its ground truth all live in its own module,
//! behind the [`IncidentKind`] trait.
//!
//! [`Incident`] — the enum an [`Event`] holds, one variant per kind — is made
//! by the registry at the end of this file: adding a kind is its file, its
//! `mod` line and one registry line (CONTRIBUTING.md, "A new incident kind
//! for synth"). The operations only dispatch: [`read_event`] (scenario
//! files), [`super::validate`], [`super::assemble`] and [`super::annotate`].
//!
//! Shared here: the [`EventContext`] a kind renders and annotates in, the
//! [`Render`] it returns, and the readers of parameter groups several kinds
//! use ([`read_band`], [`read_duty_cycle`]).

pub mod anomalous_emitter;
pub mod barrage;
pub mod overload;
pub mod pulsed;
pub mod signal_loss;
pub mod swept;
pub mod tone;
pub mod unknown_emitter;

pub use anomalous_emitter::AnomalousEmitter;
pub use barrage::Barrage;
pub use overload::{Overload, OVERLOAD_DEVIATION_HZ};
pub use pulsed::Pulsed;
pub use signal_loss::SignalLoss;
pub use swept::Swept;
pub use tone::Tone;
pub use unknown_emitter::{RogueModulation, RogueTiming, UnknownEmitter};

use super::band_noise::BandNoise;
use super::gate::{Pattern, Span};
use super::level::signal_power;
use super::rng::stream_rng;
use super::scenario::{Band, DutyCycle, Emitter, Event, Scenario};
use super::signal::Signal;
use super::toml_fields::Fields;
use super::validate::{Checked, Checker};
use crate::alert::AlertKind;
use crate::Result;
use rand_chacha::ChaCha8Rng;

/// Everything one incident kind is (see the module docs). Each operation on a
/// scenario calls one method per event.
pub trait IncidentKind {
    /// The alert kind it should raise; its name is the `kind` of its
    /// `[[events]]` table.
    fn alert() -> AlertKind
    where
        Self: Sized;

    /// Its parameters from an `[[events]]` table (`kind`, `start_s` and
    /// `duration_s` are read already); offsets may be written as absolute
    /// frequencies, `center_hz` being the centre.
    fn read(fields: &mut Fields, center_hz: f64) -> Result<Self>
    where
        Self: Sized;

    /// Range checks of its parameters.
    fn check(&self, check: &Checker) -> Checked;

    /// The band its own signal occupies (offsets; zero-wide for carriers).
    /// `None` when it has no signal of its own, or (for an anomaly) when the
    /// emitter it concerns is not in `known`.
    fn signal_band(&self, known: &[Emitter]) -> Option<Band>;

    /// What it does to the mix during its event.
    fn render(&self, event: &EventContext) -> Render;

    /// The known emitter it replaces during its event (muted meanwhile).
    fn replaces(&self) -> Option<&str> {
        None
    }

    /// The samples its annotation covers (by default, the event's).
    fn annotated_span(&self, event: &EventContext) -> Span {
        event.span
    }

    /// The band its annotation covers, as offsets (by default its signal's,
    /// or the whole receiver band when it has none).
    fn annotated_band(&self, scenario: &Scenario) -> Band {
        self.signal_band(&scenario.emitters)
            .unwrap_or_else(|| whole_band(scenario))
    }

    /// True when its signal is a bare carrier: its annotation is then one
    /// 1024-point FFT bin wide.
    fn is_carrier(&self, _scenario: &Scenario) -> bool {
        false
    }

    /// The annotated excess over the floor in dB, and the label text after
    /// the kind; `low_hz`..`high_hz` are the annotation's absolute edges.
    fn describe(&self, scenario: &Scenario, low_hz: f64, high_hz: f64) -> (f64, String);
}

/// The whole receiver band, ±rate/2.
pub fn whole_band(scenario: &Scenario) -> Band {
    Band::new(-scenario.sample_rate / 2.0, scenario.sample_rate / 2.0)
}

/// What an event does to the mix.
pub enum Render {
    /// Adds a signal, on as the pattern says within the event's span.
    Signal(Box<dyn Signal>, Pattern),
    /// Drops everything (noise and signals) by this many dB.
    DropGain(f64),
    /// Nothing (an anomaly of an emitter that is not there).
    Nothing,
}

/// One event being rendered or annotated.
pub struct EventContext<'a> {
    pub scenario: &'a Scenario,
    pub event: &'a Event,
    /// The samples the event covers.
    pub span: Span,
    /// Its random-stream key (kind and start time, see `assemble`).
    pub key: &'a str,
}

impl<'a> EventContext<'a> {
    pub fn new(scenario: &'a Scenario, event: &'a Event, key: &'a str) -> Self {
        EventContext {
            scenario,
            event,
            span: scenario.event_span(event),
            key,
        }
    }

    /// The scenario's sample rate.
    pub fn rate(&self) -> f64 {
        self.scenario.sample_rate
    }

    /// The event's own random stream.
    pub fn rng(&self) -> ChaCha8Rng {
        stream_rng(self.scenario.seed, self.key)
    }

    /// A second random stream of the event (`schedule`, `hops`…), so its
    /// timing does not depend on how many draws its signal made.
    pub fn sub_rng(&self, name: &str) -> ChaCha8Rng {
        stream_rng(self.scenario.seed, &format!("{}/{name}", self.key))
    }

    /// Total power of a signal `level_db` over the noise density within `bandwidth_hz`.
    pub fn power(&self, bandwidth_hz: f64, level_db: f64) -> f64 {
        signal_power(
            self.scenario.noise_dbfs,
            self.rate(),
            bandwidth_hz,
            level_db,
        )
    }

    /// Band-limited noise flat over `band` at `level_db`.
    pub fn band_noise(&self, band: Band, level_db: f64, rng: ChaCha8Rng) -> Box<dyn Signal> {
        Box::new(BandNoise::new(
            self.rate(),
            band.low_offset_hz,
            band.high_offset_hz,
            self.power(band.width_hz(), level_db),
            rng,
        ))
    }
}

/// A band: `low_offset_hz` (or `low_hz`) and `high_offset_hz` (or `high_hz`).
pub fn read_band(fields: &mut Fields, center_hz: f64) -> Result<Band> {
    Ok(Band::new(
        fields.required_offset("low_offset_hz", "low_hz", center_hz)?,
        fields.required_offset("high_offset_hz", "high_hz", center_hz)?,
    ))
}

/// `period_s` with `duty` (both or neither).
pub fn read_duty_cycle(fields: &mut Fields) -> Result<Option<DutyCycle>> {
    match (fields.number("period_s")?, fields.number("duty")?) {
        (Some(period_s), Some(duty)) => Ok(Some(DutyCycle { period_s, duty })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(fields.error(
            "duty",
            "missing; expected the on fraction in (0, 1] to go with period_s",
        )),
        (None, Some(_)) => Err(fields.error(
            "period_s",
            "missing; expected the burst period in seconds to go with duty",
        )),
    }
}

/// One `[[events]]` table: its kind, timing and the kind's parameters.
pub fn read_event(fields: &mut Fields, center_hz: f64) -> Result<Event> {
    let kind_name = fields.string("kind")?;
    let names: Vec<&str> = Incident::kinds().iter().map(|k| k.name()).collect();
    let expected_kinds = format!("one of {}", names.join(", "));
    let kind_name = fields.required("kind", kind_name, &expected_kinds)?;
    let unknown = |fields: &Fields| {
        fields.error(
            "kind",
            format!("expected {expected_kinds}, got {kind_name:?}"),
        )
    };
    let kind = kind_name
        .parse::<AlertKind>()
        .map_err(|_| unknown(fields))?;
    let start_s = fields.required_number("start_s", "the start time in seconds")?;
    let duration_s = fields.required_number("duration_s", "the duration in seconds")?;
    let incident =
        Incident::read(kind, fields, center_hz).unwrap_or_else(|| Err(unknown(fields)))?;
    fields.finish(&format!("a {kind_name} event"))?;
    Ok(Event::new(start_s, duration_s, incident))
}

/// The registry: `Variant(Type)`, one line per kind, in the order scenario
/// file errors list them. It makes the [`Incident`] enum and its dispatch.
macro_rules! registry {
    ($($variant:ident($kind:ty),)*) => {
        /// What happens during an [`Event`]: one variant per incident kind,
        /// holding that kind's parameters.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Incident {
            $(
                #[doc = concat!("[`", stringify!($variant), "`]")]
                $variant($kind),
            )*
        }

        impl Incident {
            /// The alert kinds a scenario can stage, in registry order.
            pub fn kinds() -> Vec<AlertKind> {
                vec![$(<$kind as IncidentKind>::alert(),)*]
            }

            /// The alert kind it should raise.
            pub fn kind(&self) -> AlertKind {
                match self {
                    $(Incident::$variant(_) => <$kind as IncidentKind>::alert(),)*
                }
            }

            /// Its kind's parameters and behaviour.
            pub fn params(&self) -> &dyn IncidentKind {
                match self {
                    $(Incident::$variant(params) => params,)*
                }
            }

            /// The parameters of an incident of `kind`; `None` for an alert
            /// kind no scenario can stage.
            fn read(kind: AlertKind, fields: &mut Fields, center_hz: f64) -> Option<Result<Incident>> {
                $(
                    if kind == <$kind as IncidentKind>::alert() {
                        return Some(<$kind as IncidentKind>::read(fields, center_hz).map(Incident::$variant));
                    }
                )*
                None
            }
        }

        $(
            impl From<$kind> for Incident {
                fn from(params: $kind) -> Self {
                    Incident::$variant(params)
                }
            }
        )*
    };
}

impl Incident {
    /// The band its own signal occupies (see [`IncidentKind::signal_band`]).
    pub fn signal_band(&self, known: &[Emitter]) -> Option<Band> {
        self.params().signal_band(known)
    }
}

registry! {
    Barrage(Barrage),
    Tone(Tone),
    Swept(Swept),
    Pulsed(Pulsed),
    UnknownEmitter(UnknownEmitter),
    AnomalousEmitter(AnomalousEmitter),
    Overload(Overload),
    SignalLoss(SignalLoss),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_stages_every_alert_kind_but_monitoring_gaps_in_order() {
        // Only a live source can have a monitoring gap; scenario-file errors
        // list the kinds in this order.
        let stageable: Vec<AlertKind> = AlertKind::ALL
            .into_iter()
            .filter(|k| *k != AlertKind::MonitoringGap)
            .collect();
        assert_eq!(Incident::kinds(), stageable);
    }
}
