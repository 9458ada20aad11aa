//! The colour scale shared by every spectrogram: dBFS limits chosen from
//! robust percentiles of the data (so one outlier does not wash the picture
//! out), mapped through the perceptually uniform, colour-blind-safe viridis
//! map.

use plotters::style::colors::colormaps::ViridisRGB;
use plotters::style::RGBColor;

/// Most values looked at when choosing limits (larger inputs are strided).
const MAX_SAMPLES: usize = 200_000;
/// The smallest span of the scale, so a flat noise floor does not look like signal.
const MIN_SPAN_DB: f32 = 20.0;
/// Limits used when there is no finite value at all.
const EMPTY_LIMITS: (f32, f32) = (-120.0, -40.0);

/// A mapping from dBFS to colour.
#[derive(Debug, Clone, PartialEq)]
pub struct ColourScale {
    /// Values at or below this are the darkest colour.
    pub low_db: f32,
    /// Values at or above this are the brightest colour.
    pub high_db: f32,
    lut: Vec<RGBColor>,
}

impl ColourScale {
    /// A scale from `low_db` to `high_db` (swapped if given the wrong way round,
    /// widened to a nonzero span).
    pub fn new(low_db: f32, high_db: f32) -> Self {
        let (mut low, mut high) = if low_db <= high_db {
            (low_db, high_db)
        } else {
            (high_db, low_db)
        };
        if !(low.is_finite() && high.is_finite()) {
            (low, high) = EMPTY_LIMITS;
        }
        if high - low < 1e-3 {
            high = low + 1.0;
        }
        let lut = (0..256)
            .map(|i| ViridisRGB::get_color_normalized(i as f32, 0.0, 255.0))
            .collect();
        ColourScale {
            low_db: low,
            high_db: high,
            lut,
        }
    }

    /// Limits from the data: the 1st percentile at the bottom, the 99.9th at
    /// the top, at least `MIN_SPAN_DB` apart. Non-finite values are ignored.
    pub fn robust<'a>(values: impl IntoIterator<Item = &'a f32>) -> Self {
        let all: Vec<f32> = values
            .into_iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        let stride = all.len().div_ceil(MAX_SAMPLES).max(1);
        let mut sample: Vec<f32> = all.into_iter().step_by(stride).collect();
        if sample.is_empty() {
            return ColourScale::new(EMPTY_LIMITS.0, EMPTY_LIMITS.1);
        }
        let low = percentile(&mut sample, 0.01);
        let high = percentile(&mut sample, 0.999).max(low + MIN_SPAN_DB);
        ColourScale::new(low, high)
    }

    /// The colour of `db`; `None` for NaN (no data).
    pub fn colour(&self, db: f32) -> Option<RGBColor> {
        if db.is_nan() {
            return None;
        }
        let t = ((db - self.low_db) / (self.high_db - self.low_db)).clamp(0.0, 1.0);
        Some(self.lut[(t * 255.0).round() as usize])
    }

    /// The colour at fraction `t` (0 = bottom, 1 = top) of the scale.
    pub fn colour_at(&self, t: f32) -> RGBColor {
        self.lut[(t.clamp(0.0, 1.0) * 255.0).round() as usize]
    }
}

/// The `q` quantile (0–1) of `values` (reorders them; must be non-empty).
fn percentile(values: &mut [f32], q: f64) -> f32 {
    let k = ((values.len() - 1) as f64 * q).round() as usize;
    *values.select_nth_unstable_by(k, f32::total_cmp).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robust_limits_ignore_outliers_and_nan() {
        let mut v: Vec<f32> = (0..10_000).map(|i| -100.0 + (i % 10) as f32).collect();
        v.push(50.0);
        v.push(f32::NAN);
        let s = ColourScale::robust(&v);
        assert!((-100.5..=-99.0).contains(&s.low_db), "{}", s.low_db);
        assert!(s.high_db < 0.0 && s.high_db >= s.low_db + MIN_SPAN_DB);
    }

    #[test]
    fn odd_inputs_give_a_usable_scale() {
        let s = ColourScale::robust(&[]);
        assert!(s.high_db > s.low_db);
        let s = ColourScale::robust(&[f32::NAN, f32::INFINITY]);
        assert!(s.high_db > s.low_db);
        let s = ColourScale::new(-10.0, -10.0);
        assert!(s.high_db > s.low_db);
        assert_eq!(s.colour(f32::NAN), None);
        assert_eq!(s.colour(1e9), Some(s.colour_at(1.0)));
        assert_ne!(s.colour_at(0.0), s.colour_at(1.0));
    }
}
