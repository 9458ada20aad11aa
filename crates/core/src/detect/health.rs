//! Receiver health: overload (the front end clips — a strong nearby
//! transmitter) and signal loss (the whole band far below its baseline —
//! antenna cut or disconnected). Both are judged against what the baseline
//! itself contained: a site whose learning data clipped now and then, or
//! went quiet (squelched recordings), does not alarm on the same again.

use super::view::FrameView;
use super::{confidence_from_margin, Detection};
use crate::alert::AlertKind;
use serde_json::json;

/// `receiver.overload` when the fraction of clipped samples is over the threshold.
pub fn overload(view: &FrameView) -> Option<Detection> {
    let f = view.frame;
    let fraction = f.clipped as f64 / f.sample_count.max(1) as f64;
    let learned = view.baseline.clipped_fraction_max as f64;
    if fraction < view.thresholds.overload_clip_fraction || fraction <= 2.0 * learned {
        return None;
    }
    let mut details = serde_json::Map::new();
    details.insert(
        "clipped_fraction".into(),
        json!((fraction * 1e4).round() / 1e4),
    );
    let peak = f.max_dbfs.iter().copied().fold(f32::MIN, f32::max);
    Some(whole_band(
        view,
        AlertKind::ReceiverOverload,
        peak,
        (fraction / view.thresholds.overload_clip_fraction).log10() as f32 * 10.0,
        details,
    ))
}

/// `receiver.signal_loss` when the band as a whole fell far below its floor.
pub fn signal_loss(view: &FrameView) -> Option<Detection> {
    let drop = -view.band_rise_db;
    if drop < view.thresholds.signal_loss_drop_db {
        return None;
    }
    // As quiet as the baseline ever was (minus the margin) is not a loss.
    let power = crate::profile::learn::median(&view.frame.fft_power_dbfs);
    if power >= view.baseline.total_power_p01_dbfs - view.thresholds.signal_loss_drop_db {
        return None;
    }
    let mut details = serde_json::Map::new();
    details.insert("drop_db".into(), json!((drop * 100.0).round() / 100.0));
    let peak = view
        .frame
        .mean_dbfs
        .iter()
        .copied()
        .fold(f32::MIN, f32::max);
    Some(whole_band(
        view,
        AlertKind::ReceiverSignalLoss,
        peak,
        -drop,
        details,
    ))
}

fn whole_band(
    view: &FrameView,
    kind: AlertKind,
    peak: f32,
    excess: f32,
    details: serde_json::Map<String, serde_json::Value>,
) -> Detection {
    let f = view.frame;
    Detection {
        kind,
        low_hz: f.center_hz - 0.5 * f.sample_rate,
        high_hz: f.center_hz + 0.5 * f.sample_rate,
        peak_dbfs: peak,
        excess_db: excess,
        snr_db: peak - view.baseline.noise_floor_dbfs,
        confidence: confidence_from_margin(excess.abs()),
        details,
        hold_s: 0.0,
        centroid_hz: None,
    }
}
