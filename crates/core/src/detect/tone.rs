//! Tone jammers: strong unmodulated carriers — clusters whose main lobe (the
//! bins within 10 dB of the peak) is no wider than a few bins and whose
//! occupied bandwidth is narrow, far above the baseline, not explained by a
//! known emitter, and steady through the frame (its max-hold close to its
//! average: an on/off keyed carrier is an emitter, not a tone jammer). Stability
//! over time is judged by the tracker's persistence rule.

use super::clusters::Cluster;
use super::view::FrameView;
use super::{confidence_from_margin, Detection};
use crate::alert::AlertKind;
use serde_json::json;

/// Whether `c` looks like a tone jammer in `view`.
pub fn is_tone(view: &FrameView, c: &Cluster) -> bool {
    let t = view.thresholds;
    c.known.is_none()
        && c.peak_width_bins <= t.tone_max_bins
        && c.width_bins() <= t.tone_max_bins.saturating_mul(4)
        && c.excess_db >= t.tone_margin_db - view.bonus(c.peak_bin)
        && steady(view, c)
}

/// Most the peak bin's max-hold may stand over its average for a steady
/// carrier far above the noise, dB (a keyed carrier — OOK — swings 3 dB and
/// more).
const STEADY_DB: f32 = 1.0;

/// Whether the carrier held its power through the frame: its max-hold over
/// its average within what noise riding on a steady carrier adds. For a
/// carrier at linear SNR `s` per bin, the loudest of `k` FFTs stands about
/// `1 + 2·√(ln k / s)` times the mean (the noise's in-phase part), which a
/// weak carrier needs and a strong one does not.
fn steady(view: &FrameView, c: &Cluster) -> bool {
    let k = view.frame.fft_power_dbfs.len().max(2) as f32;
    let snr = 10f32.powf(c.snr_db.max(0.0) / 10.0);
    let noise_db = 10.0 * (1.0 + 2.0 * (k.ln() / snr).sqrt()).log10();
    view.frame.max_dbfs[c.peak_bin] - view.frame.mean_dbfs[c.peak_bin] <= STEADY_DB + noise_db
}

/// A `jamming.tone` detection for cluster `c`.
pub fn detection(view: &FrameView, c: &Cluster) -> Detection {
    let mut details = serde_json::Map::new();
    details.insert("width_bins".into(), json!(c.peak_width_bins));
    Detection {
        kind: AlertKind::JammingTone,
        low_hz: view.bin_low_hz(c.lo),
        high_hz: view.bin_high_hz(c.hi),
        peak_dbfs: c.peak_dbfs,
        excess_db: c.excess_db,
        snr_db: c.snr_db,
        confidence: confidence_from_margin(c.excess_db - view.thresholds.tone_margin_db),
        details,
        hold_s: 0.0,
        centroid_hz: Some(c.centroid_hz(view)),
    }
}
