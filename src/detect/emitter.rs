//! Emitters: a cluster the baseline does not explain is an unknown emitter
//! (a rogue transmitter); a cluster over a known emitter that is far stronger
//! than learned, or much wider, is an anomalous emitter.

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
        None => Some(Detection {
            kind: AlertKind::EmitterUnknown,
            low_hz,
            high_hz,
            peak_dbfs: c.peak_dbfs,
            excess_db: c.excess_db,
            snr_db: c.snr_db,
            confidence: confidence_from_margin(c.excess_db - t.emitter_margin_db),
            details,
        }),
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
            })
        }
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
