//! Wideband jammers — barrage, swept and pulsed — found from how much of the
//! band (outside known emitters) is raised, and told apart by their shape:
//!
//! - **pulsed**: the total power of successive FFT segments switches between
//!   two levels (on/off) with a regular period;
//! - **swept**: a narrow signal moving fast leaves the per-bin max-hold far
//!   above the average (slow sweeps), or, when it sweeps the band within one
//!   FFT, a raised spectrum with none of noise's frame-to-frame fluctuation
//!   (max-hold ≈ average);
//! - **barrage**: the average itself is raised over a large part of the band
//!   or a whole protected band, with noise-like fluctuation.

use super::view::FrameView;
use super::{confidence_from_margin, Detection};
use crate::alert::AlertKind;
use crate::profile::learn::{median, runs};
use serde_json::json;
use std::collections::VecDeque;

/// Seconds of FFT power history kept for the pulse test.
const PULSE_WINDOW_S: f64 = 0.6;
/// Least spectral flatness of a jammer's raise (a strong emitter's skirts score far lower).
const MIN_FLATNESS: f32 = 0.3;
/// Max-hold margin over its baseline p99 for a bin to count as swept over, dB.
const MAXHOLD_MARGIN_DB: f32 = 3.0;

/// Per-segment state of the wideband detector: recent FFT segment powers.
#[derive(Debug, Default)]
pub struct WidebandDetector {
    powers: VecDeque<f32>,
}

/// The raised part of the band in one frame.
struct RaisedBand {
    lo: usize,
    hi: usize,
    /// Fraction of open bins whose average is raised.
    mean_fraction: f32,
    /// Fraction of open bins whose max-hold is raised.
    max_fraction: f32,
    /// A protected band is raised as a whole.
    protected_hit: bool,
}

impl WidebandDetector {
    /// Look for a wideband jammer in `view`.
    pub fn detect(&mut self, view: &FrameView) -> Option<Detection> {
        let frame = view.frame;
        let hop_s = frame.sample_count as f64
            / frame.fft_power_dbfs.len().max(1) as f64
            / frame.sample_rate;
        let keep = ((PULSE_WINDOW_S / hop_s).ceil() as usize).max(frame.fft_power_dbfs.len());
        self.powers.extend(frame.fft_power_dbfs.iter().copied());
        while self.powers.len() > keep {
            self.powers.pop_front();
        }

        let t = view.thresholds;
        let band = raised_band(view)?;
        let pulse = self.pulse_pattern(view);
        let spread = max_minus_mean(view, band.lo, band.hi);
        let baseline_spread = baseline_spread(view, band.lo, band.hi);
        let ffts = frame.fft_power_dbfs.len();
        let sweep_slow = spread >= baseline_spread + 4.0;
        let sweep_fast = ffts >= 8
            && band.mean_fraction >= t.barrage_min_fraction
            && spread <= baseline_spread - 5.0;

        // Jammers spread their power evenly; a strong emitter's skirts fall
        // away from its peak. Judge evenness on the average (barrage, pulsed)
        // or on the max-hold (sweeps).
        let rise: Vec<f32> = (band.lo..=band.hi)
            .filter(|&b| view.masks.known[b].is_none())
            .map(|b| frame.mean_dbfs[b] - view.baseline.floor_dbfs[b])
            .collect();
        let max_rise: Vec<f32> = (band.lo..=band.hi)
            .filter(|&b| view.masks.known[b].is_none())
            .map(|b| frame.max_dbfs[b] - view.baseline.maxhold_p99_dbfs[b])
            .collect();
        let even = flatness(&rise) >= MIN_FLATNESS;
        let even_max = flatness(&max_rise) >= MIN_FLATNESS;
        tracing::trace!(
            "wideband t={} span={}..{} flatness={:.3}/{:.3} raised={:.2}/{:.2} pulse={}",
            frame.start_sample,
            band.lo,
            band.hi,
            flatness(&rise),
            flatness(&max_rise),
            band.mean_fraction,
            band.max_fraction,
            pulse.is_some()
        );

        let mut details = serde_json::Map::new();
        details.insert("raised_fraction".into(), json!(round2(band.mean_fraction)));
        details.insert("maxhold_fraction".into(), json!(round2(band.max_fraction)));
        details.insert("maxhold_spread_db".into(), json!(round2(spread)));
        let kind = if let Some(p) = pulse.filter(|_| {
            even && (band.max_fraction >= t.swept_min_span_fraction || band.protected_hit)
        }) {
            details.insert("duty".into(), json!(round2(p.duty)));
            details.insert("period_s".into(), json!(round2(p.period_s as f32)));
            details.insert("contrast_db".into(), json!(round2(p.contrast_db)));
            AlertKind::JammingPulsed
        } else if even_max
            && ((sweep_slow && band.max_fraction >= t.swept_min_span_fraction) || sweep_fast)
        {
            AlertKind::JammingSwept
        } else if even && (band.mean_fraction >= t.barrage_min_fraction || band.protected_hit) {
            AlertKind::JammingBarrage
        } else {
            return None;
        };
        let excess = match kind {
            AlertKind::JammingBarrage => median(&rise),
            _ => median(&max_rise) + MAXHOLD_MARGIN_DB,
        };
        details.insert("flatness".into(), json!(round2(flatness(&rise))));
        let peak = (band.lo..=band.hi)
            .map(|b| frame.max_dbfs[b])
            .fold(f32::MIN, f32::max);
        Some(Detection {
            kind,
            low_hz: view.bin_low_hz(band.lo),
            high_hz: view.bin_high_hz(band.hi),
            peak_dbfs: peak,
            excess_db: excess,
            snr_db: peak - view.baseline.noise_floor_dbfs,
            confidence: confidence_from_margin(excess - t.barrage_rise_db),
            details,
        })
    }

    /// An on/off pattern in recent FFT segment powers, if there is one.
    fn pulse_pattern(&self, view: &FrameView) -> Option<Pulse> {
        let p: Vec<f32> = self.powers.iter().copied().collect();
        if p.len() < 16 {
            return None;
        }
        let mut sorted = p.clone();
        sorted.sort_by(f32::total_cmp);
        let lo = sorted[sorted.len() / 10];
        let hi = sorted[sorted.len() * 9 / 10];
        let contrast = hi - lo;
        if contrast < view.thresholds.pulsed_contrast_db {
            return None;
        }
        let mid = 0.5 * (lo + hi);
        let on: Vec<bool> = p.iter().map(|&x| x > mid).collect();
        let duty = on.iter().filter(|&&x| x).count() as f32 / on.len() as f32;
        let rising: Vec<usize> = (1..on.len()).filter(|&i| on[i] && !on[i - 1]).collect();
        if rising.len() < 2 || !(0.03..=0.97).contains(&duty) {
            return None;
        }
        let intervals: Vec<f32> = rising.windows(2).map(|w| (w[1] - w[0]) as f32).collect();
        let mean = intervals.iter().sum::<f32>() / intervals.len() as f32;
        let regular = intervals
            .iter()
            .all(|&i| (i - mean).abs() <= 0.25 * mean + 1.0);
        if !regular {
            return None;
        }
        let frame = view.frame;
        let hop_s = frame.sample_count as f64
            / frame.fft_power_dbfs.len().max(1) as f64
            / frame.sample_rate;
        Some(Pulse {
            duty,
            period_s: mean as f64 * hop_s,
            contrast_db: contrast,
        })
    }
}

struct Pulse {
    duty: f32,
    period_s: f64,
    contrast_db: f32,
}

/// The raised span of the band, or `None` when too little of it is raised.
fn raised_band(view: &FrameView) -> Option<RaisedBand> {
    let t = view.thresholds;
    let f = view.frame;
    let base = view.baseline;
    let bins = view.bins();
    let mut mean_hot = vec![false; bins];
    let mut max_hot = vec![false; bins];
    for &b in &view.masks.open_bins {
        let relief = view.bonus(b);
        mean_hot[b] = f.mean_dbfs[b] - base.floor_dbfs[b] >= t.barrage_rise_db - relief
            && f.mean_dbfs[b] >= base.p99_dbfs[b] + 0.5 * t.emitter_margin_db;
        max_hot[b] = f.max_dbfs[b]
            >= base.maxhold_p99_dbfs[b] + MAXHOLD_MARGIN_DB + t.emitter_margin_db - relief;
    }
    let open = view.masks.open_bins.len().max(1) as f32;
    let mean_fraction = mean_hot.iter().filter(|&&x| x).count() as f32 / open;
    let max_fraction = max_hot.iter().filter(|&&x| x).count() as f32 / open;
    let protected_hit = view.profile.protected.iter().any(|p| {
        let in_band: Vec<usize> = view
            .masks
            .open_bins
            .iter()
            .copied()
            .filter(|&b| f.bin_hz(b) >= p.low_hz && f.bin_hz(b) <= p.high_hz)
            .collect();
        in_band.len() >= 4
            && in_band.iter().filter(|&&b| mean_hot[b]).count() * 10 >= in_band.len() * 8
    });
    if mean_fraction < t.barrage_min_fraction
        && max_fraction < t.swept_min_span_fraction
        && !protected_hit
    {
        return None;
    }
    let hot: Vec<bool> = mean_hot
        .iter()
        .zip(&max_hot)
        .map(|(a, b)| *a || *b)
        .collect();
    // The span from the first to the last substantial run (ignore isolated bins).
    let min_run = (bins / 200).max(3);
    let big: Vec<(usize, usize)> = runs(&hot, (bins / 100).max(2))
        .into_iter()
        .filter(|(lo, hi)| hi - lo + 1 >= min_run)
        .collect();
    let lo = big.first()?.0;
    let hi = big.last()?.1;
    Some(RaisedBand {
        lo,
        hi,
        mean_fraction,
        max_fraction,
        protected_hit,
    })
}

/// Median over open bins in [lo, hi] of (max-hold − average), dB.
fn max_minus_mean(view: &FrameView, lo: usize, hi: usize) -> f32 {
    let d: Vec<f32> = (lo..=hi)
        .filter(|&b| view.masks.known[b].is_none())
        .map(|b| view.frame.max_dbfs[b] - view.frame.mean_dbfs[b])
        .collect();
    median(&d)
}

/// What (max-hold − average) is for the baseline's noise in [lo, hi], dB.
fn baseline_spread(view: &FrameView, lo: usize, hi: usize) -> f32 {
    let base = view.baseline;
    let d: Vec<f32> = (lo..=hi)
        .filter(|&b| view.masks.known[b].is_none())
        .map(|b| base.maxhold_p99_dbfs[b] - base.p99_dbfs[b])
        .collect();
    median(&d)
}

/// Spectral flatness (geometric / arithmetic mean) of linear rises, 0–1.
fn flatness(rise_db: &[f32]) -> f32 {
    if rise_db.is_empty() {
        return 0.0;
    }
    let lin: Vec<f64> = rise_db
        .iter()
        .map(|&r| 10f64.powf(r.max(-30.0) as f64 / 10.0))
        .collect();
    let am = lin.iter().sum::<f64>() / lin.len() as f64;
    let gm = (lin.iter().map(|x| x.ln()).sum::<f64>() / lin.len() as f64).exp();
    (gm / am) as f32
}

fn round2(x: f32) -> f32 {
    (x * 100.0).round() / 100.0
}
