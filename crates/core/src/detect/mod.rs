//! Detection: every frame's averaged spectrum is compared with the baseline,
//! per bin, in dB. Detectors turn one frame into [`Detection`]s; the
//! [`tracker`] turns detections over time into alerts with a lifecycle
//! (raised → updated → cleared), so one jammer makes one alert.
//!
//! - [`view`]: the per-frame comparison with the baseline every detector reads.
//! - [`clusters`]: the CFAR core — bins clearly above baseline p99 and the
//!   local floor, grouped into clusters.
//! - [`tone`], [`emitter`]: narrow carriers (tone jammers); unknown and anomalous emitters.
//! - [`wideband`]: barrage, swept and pulsed jammers ([`onoff`]: the pulse test).
//! - [`comb`]: a comb of lines (a sweep far faster than one FFT) as one jammer.
//! - [`burst`]: bursts only the max-hold shows, held between repetitions.
//! - [`slow`]: the sensitive path — a 0.5 s average against the floor, gain drift followed.
//! - [`health`]: receiver overload and signal loss.
//! - [`engine`]: runs them all in order on each frame.

pub mod burst;
pub mod clusters;
pub mod comb;
pub mod emitter;
pub mod engine;
pub mod envelope;
pub mod health;
pub mod onoff;
pub mod slow;
pub mod tone;
pub mod tracker;
pub mod view;
pub mod wideband;

use crate::alert::AlertKind;
use serde_json::{Map, Value};

pub use engine::DetectionEngine;
pub use tracker::Tracker;

/// One detector's finding in one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub kind: AlertKind,
    pub low_hz: f64,
    pub high_hz: f64,
    pub peak_dbfs: f32,
    /// Over the baseline (p99 for emitters, floor for jamming), dB.
    pub excess_db: f32,
    /// Over the local noise floor, dB.
    pub snr_db: f32,
    /// 0–1.
    pub confidence: f32,
    /// Kind-specific numbers for the alert log.
    pub details: Map<String, Value>,
    /// Seconds after this frame during which the finding stands even when
    /// no frame shows it: an intermittent threat (a burst every few
    /// seconds, a slow pulse) is one incident while it recurs. 0 for
    /// findings that hold only while they are seen.
    pub hold_s: f64,
    /// The power-weighted centre of the finding's bins, Hz, where the
    /// detector measured one: the emitter's own frequency, which the band's
    /// middle is not when skirts or splatter widen the band on one side.
    /// `None` (wideband jammers, receiver health) means the band's middle.
    pub centroid_hz: Option<f64>,
}

impl Detection {
    /// The finding's frequency: its power centroid, else its band's middle.
    pub fn center_hz(&self) -> f64 {
        self.centroid_hz
            .unwrap_or(0.5 * (self.low_hz + self.high_hz))
    }
}

/// A power-weighted centre being accumulated (Σ power·position, Σ power):
/// over the bins of one signal, the frames of one burst, or the detections
/// of one track. Positions are bins or Hz, as the caller keeps them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Centroid {
    moment: f64,
    power: f64,
}

impl Centroid {
    /// The centroid of bins `lo..=hi` (positions in bins): each bin weighs
    /// its linear power over `floor_dbfs(b)`, nothing when below it.
    pub fn of_bins(
        level_dbfs: &[f32],
        lo: usize,
        hi: usize,
        floor_dbfs: impl Fn(usize) -> f32,
    ) -> Self {
        let lin = |db: f32| 10f64.powf(db as f64 / 10.0);
        let mut c = Centroid::default();
        for (b, &level) in level_dbfs.iter().enumerate().take(hi + 1).skip(lo) {
            c.add(b as f64, lin(level) - lin(floor_dbfs(b)));
        }
        c
    }

    /// Add `power` (linear; ignored unless positive) at `position`.
    pub fn add(&mut self, position: f64, power: f64) {
        if power > 0.0 && power.is_finite() && position.is_finite() {
            self.moment += power * position;
            self.power += power;
        }
    }

    /// Add everything `other` accumulated.
    pub fn merge(&mut self, other: &Centroid) {
        self.moment += other.moment;
        self.power += other.power;
    }

    /// The same power centred at `f(position)` (bins to Hz).
    pub fn map(&self, f: impl Fn(f64) -> f64) -> Centroid {
        let mut c = Centroid::default();
        if let Some(at) = self.at() {
            c.add(f(at), self.power);
        }
        c
    }

    /// The centre, once any power was added.
    pub fn at(&self) -> Option<f64> {
        (self.power > 0.0).then(|| self.moment / self.power)
    }

    /// The power accumulated (linear).
    pub fn power(&self) -> f64 {
        self.power
    }
}

/// Confidence from how far a measure stands above its threshold (dB).
pub fn confidence_from_margin(margin_db: f32) -> f32 {
    (0.6 + margin_db / 25.0).clamp(0.5, 0.99)
}

#[cfg(test)]
mod tests {
    use super::Centroid;

    #[test]
    fn a_centroid_weighs_each_bin_by_its_power_over_the_floor() {
        // Bins 2 and 3 at 10 and 20 dB over a 0 dB floor; bin 4 under it.
        let level = [0.0, 0.0, 10.0, 20.0, -3.0];
        let c = Centroid::of_bins(&level, 0, 4, |_| 0.0);
        let (p2, p3) = (9.0, 99.0);
        let want = (2.0 * p2 + 3.0 * p3) / (p2 + p3);
        assert!((c.at().unwrap() - want).abs() < 1e-9);
        assert!((c.power() - (p2 + p3)).abs() < 1e-9);
        assert_eq!(Centroid::of_bins(&level, 0, 1, |_| 0.0).at(), None);
        // Mapped to Hz, the power stays and merging weighs it.
        let mut hz = c.map(|b| 1000.0 * b);
        let mut other = Centroid::default();
        other.add(0.0, c.power());
        hz.merge(&other);
        assert!((hz.at().unwrap() - 500.0 * want).abs() < 1e-6);
    }
}
