//! Detector thresholds: defaults that suit most sites, overridable per site in
//! the profile's `[thresholds]` table. Every field is optional there.

use crate::alert::AlertKind;
use serde::{Deserialize, Serialize};

/// Tunable detection thresholds (dB, seconds, fractions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Alert kinds switched off at this site.
    pub disabled: Vec<AlertKind>,
    /// An unknown emitter's bins must exceed the baseline p99 by this much.
    pub emitter_margin_db: f32,
    /// …and the local noise floor by this much.
    pub emitter_snr_db: f32,
    /// Seconds an unknown emitter must persist before it is raised.
    pub emitter_min_duration_s: f64,
    /// Seconds a jammer must persist before it is raised (time to classify it).
    pub jamming_min_duration_s: f64,
    /// A known emitter is anomalous when this far above its learned maximum.
    pub anomalous_margin_db: f32,
    /// Barrage: the band's median rise over the floor, dB.
    pub barrage_rise_db: f32,
    /// Barrage: smallest fraction of the band that must be raised.
    pub barrage_min_fraction: f32,
    /// Tone: a carrier's excess over the baseline p99, dB.
    pub tone_margin_db: f32,
    /// Tone: widest a carrier's main lobe (within 10 dB of its peak) may be, in bins.
    pub tone_max_bins: usize,
    /// Swept: smallest fraction of the band a sweep's max-hold must cover in ~100 ms
    /// (below `barrage_min_fraction` it must also be seen moving).
    pub swept_min_span_fraction: f32,
    /// Pulsed: smallest on/off contrast of the band power, dB.
    pub pulsed_contrast_db: f32,
    /// Overload: fraction of clipped samples that means the front end saturates.
    pub overload_clip_fraction: f64,
    /// Signal loss: total power this far below the baseline, dB.
    pub signal_loss_drop_db: f32,
    /// In protected bands every jamming threshold is lowered by this much, dB.
    pub protected_bonus_db: f32,
    /// Seconds a condition must be absent before its alert is cleared.
    pub clear_holdoff_s: f64,
    /// Least seconds between two `updated` events of one alert.
    pub update_interval_s: f64,
    /// Learning: a bin is "occupied" this far above its floor, dB.
    pub occupancy_margin_db: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            disabled: Vec::new(),
            emitter_margin_db: 3.0,
            emitter_snr_db: 8.0,
            emitter_min_duration_s: 0.2,
            jamming_min_duration_s: 0.2,
            anomalous_margin_db: 6.0,
            barrage_rise_db: 6.0,
            barrage_min_fraction: 0.2,
            tone_margin_db: 3.0,
            tone_max_bins: 4,
            swept_min_span_fraction: 0.05,
            pulsed_contrast_db: 6.0,
            overload_clip_fraction: 0.001,
            signal_loss_drop_db: 10.0,
            protected_bonus_db: 2.0,
            clear_holdoff_s: 1.0,
            update_interval_s: 1.0,
            occupancy_margin_db: 6.0,
        }
    }
}

impl Thresholds {
    /// Whether `kind` is switched on.
    pub fn enabled(&self, kind: AlertKind) -> bool {
        !self.disabled.contains(&kind)
    }

    /// Check every value is in a sensible range; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("emitter_margin_db", self.emitter_margin_db as f64),
            ("emitter_snr_db", self.emitter_snr_db as f64),
            ("anomalous_margin_db", self.anomalous_margin_db as f64),
            ("barrage_rise_db", self.barrage_rise_db as f64),
            ("tone_margin_db", self.tone_margin_db as f64),
            ("pulsed_contrast_db", self.pulsed_contrast_db as f64),
            ("signal_loss_drop_db", self.signal_loss_drop_db as f64),
            ("occupancy_margin_db", self.occupancy_margin_db as f64),
        ];
        for (name, v) in positive {
            if !(v.is_finite() && v > 0.0 && v < 200.0) {
                return Err(format!(
                    "{name} = {v}: expected a positive number of dB below 200"
                ));
            }
        }
        for (name, v) in [
            ("barrage_min_fraction", self.barrage_min_fraction as f64),
            (
                "swept_min_span_fraction",
                self.swept_min_span_fraction as f64,
            ),
            ("overload_clip_fraction", self.overload_clip_fraction),
        ] {
            if !(v.is_finite() && v > 0.0 && v <= 1.0) {
                return Err(format!("{name} = {v}: expected a fraction in (0, 1]"));
            }
        }
        for (name, v) in [
            ("emitter_min_duration_s", self.emitter_min_duration_s),
            ("jamming_min_duration_s", self.jamming_min_duration_s),
            ("clear_holdoff_s", self.clear_holdoff_s),
            ("update_interval_s", self.update_interval_s),
        ] {
            if !(v.is_finite() && (0.0..=3600.0).contains(&v)) {
                return Err(format!("{name} = {v}: expected 0 to 3600 seconds"));
            }
        }
        if !(0.0..=20.0).contains(&self.protected_bonus_db) {
            return Err(format!(
                "protected_bonus_db = {}: expected 0 to 20 dB",
                self.protected_bonus_db
            ));
        }
        if self.tone_max_bins == 0 {
            return Err("tone_max_bins = 0: expected at least 1".into());
        }
        Ok(())
    }
}

/// Serialise only the fields of `t` that differ from [`Thresholds::default`].
pub fn serialize_overrides<S: serde::Serializer>(
    t: &Thresholds,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::Error;
    let mine = toml::Value::try_from(t).map_err(S::Error::custom)?;
    let defaults = toml::Value::try_from(Thresholds::default()).map_err(S::Error::custom)?;
    let mut table = toml::Table::new();
    if let (toml::Value::Table(mine), toml::Value::Table(defaults)) = (mine, defaults) {
        for (k, v) in mine {
            if defaults.get(&k) != Some(&v) {
                table.insert(k, v);
            }
        }
    }
    table.serialize(serializer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Holder {
        #[serde(default, serialize_with = "serialize_overrides")]
        thresholds: Thresholds,
    }

    #[test]
    fn only_overrides_are_written_and_defaults_fill_the_rest() {
        let t = Thresholds {
            tone_margin_db: 15.0,
            ..Thresholds::default()
        };
        let text = toml::to_string(&Holder {
            thresholds: t.clone(),
        })
        .unwrap();
        assert!(text.contains("tone_margin_db = 15.0"), "{text}");
        assert!(!text.contains("barrage_rise_db"), "{text}");
        let back: Holder = toml::from_str(&text).unwrap();
        assert_eq!(back.thresholds, t);
    }

    #[test]
    fn unknown_fields_are_errors() {
        let err = toml::from_str::<Holder>("[thresholds]\ntone_margn_db = 3\n")
            .err()
            .unwrap();
        assert!(err.to_string().contains("tone_margn_db"), "{err}");
    }
}
