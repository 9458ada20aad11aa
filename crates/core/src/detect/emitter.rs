//! Emitters: a cluster the baseline does not explain is an unknown emitter
//! (a rogue transmitter); a cluster over a known emitter that is far stronger
//! than learned, or much wider, is an anomalous emitter — and so is a known,
//! always-on emitter that has left its channel: silent where it was learned,
//! a signal of its kind next to it ([`moved_from`]).

use super::clusters::Cluster;
use super::view::FrameView;
use super::{confidence_from_margin, Detection};
use crate::alert::AlertKind;
use serde_json::json;

/// Classify cluster `c` as an emitter detection, or `None` when it is a known
/// emitter behaving as learned.
pub fn classify(view: &FrameView, c: &Cluster) -> Option<Detection> {
    let t = view.thresholds;
    let low_hz = view.bin_low_hz(c.lo);
    let high_hz = view.bin_high_hz(c.hi);
    let mut details = serde_json::Map::new();
    details.insert("bandwidth_hz".into(), json!(round1(high_hz - low_hz)));
    match c.known {
        None => {
            // Unknown, unless it is a known emitter that left its channel.
            let kind = match moved_from(view, c) {
                Some(i) => {
                    let known = &view.profile.emitters[i];
                    details.insert("emitter".into(), json!(known.name));
                    details.insert(
                        "moved_hz".into(),
                        json!(round1(c_centre(view, c) - known.center_hz())),
                    );
                    details.insert("learned_low_hz".into(), json!(known.low_hz));
                    details.insert("learned_high_hz".into(), json!(known.high_hz));
                    AlertKind::EmitterAnomalous
                }
                None => AlertKind::EmitterUnknown,
            };
            Some(Detection {
                kind,
                low_hz,
                high_hz,
                peak_dbfs: c.peak_dbfs,
                excess_db: c.excess_db,
                snr_db: c.snr_db,
                confidence: confidence_from_margin(c.excess_db - t.emitter_margin_db),
                details,
                hold_s: 0.0,
                centroid_hz: Some(c.centroid_hz(view)),
            })
        }
        Some(i) => {
            let known = &view.profile.emitters[i];
            let stronger = c.peak_dbfs - known.peak_dbfs;
            let bin = view.frame.bin_width_hz();
            let wider = (high_hz - low_hz) > 1.5 * known.bandwidth_hz() + 4.0 * bin;
            if stronger < t.anomalous_margin_db && !wider {
                return None;
            }
            details.insert("emitter".into(), json!(known.name));
            details.insert("learned_peak_dbfs".into(), json!(known.peak_dbfs));
            details.insert(
                "learned_bandwidth_hz".into(),
                json!(round1(known.bandwidth_hz())),
            );
            Some(Detection {
                kind: AlertKind::EmitterAnomalous,
                low_hz: low_hz.min(known.low_hz),
                high_hz: high_hz.max(known.high_hz),
                peak_dbfs: c.peak_dbfs,
                excess_db: stronger,
                snr_db: c.snr_db,
                confidence: confidence_from_margin(stronger - t.anomalous_margin_db),
                details,
                hold_s: 0.0,
                centroid_hz: Some(c.centroid_hz(view)),
            })
        }
    }
}

/// The known emitter that `c` (a cluster outside every known band) looks
/// like having moved from: an always-on emitter (duty ≥ 0.8) within three of
/// its bandwidths, silent now where it was learned (its band's median more
/// than 10 dB below its usual level), of about its bandwidth (⅓–3×).
pub fn moved_from(view: &FrameView, c: &Cluster) -> Option<usize> {
    let f = view.frame;
    let centre = c_centre(view, c);
    let width = view.bin_high_hz(c.hi) - view.bin_low_hz(c.lo);
    let bin = f.bin_width_hz();
    view.profile
        .emitters
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            let bw = e.bandwidth_hz().max(4.0 * bin);
            e.duty >= 0.8
                && (centre - e.center_hz()).abs() <= 3.0 * bw
                && width >= bw / 3.0
                && width <= 3.0 * bw
        })
        .find(|(_, e)| {
            let inside: Vec<f32> = (0..f.bins())
                .filter(|&b| f.bin_hz(b) >= e.low_hz && f.bin_hz(b) <= e.high_hz)
                .map(|b| f.mean_dbfs[b])
                .collect();
            !inside.is_empty() && crate::profile::learn::median(&inside) < e.power_dbfs - 10.0
        })
        .map(|(i, _)| i)
}

fn c_centre(view: &FrameView, c: &Cluster) -> f64 {
    0.5 * (view.bin_low_hz(c.lo) + view.bin_high_hz(c.hi))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
