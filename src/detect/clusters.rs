//! The CFAR core: bins that stand above both the baseline (its p99 plus a
//! margin) and the frame's local noise floor (baseline floor plus the band's
//! current rise plus an SNR threshold), grouped into clusters of adjacent bins.
//! Tone and emitter detectors classify these clusters.

use super::view::FrameView;
use crate::profile::learn::runs;

/// Adjacent bins bridged when grouping a cluster.
const MAX_GAP_BINS: usize = 2;

/// A group of adjacent hot bins in one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// First and last bin (inclusive).
    pub lo: usize,
    pub hi: usize,
    pub peak_bin: usize,
    pub peak_dbfs: f32,
    /// Largest (frame − baseline p99) over the cluster, dB.
    pub excess_db: f32,
    /// Peak over the local noise floor, dB.
    pub snr_db: f32,
    /// Index of the known emitter the cluster overlaps, if any.
    pub known: Option<usize>,
}

impl Cluster {
    pub fn width_bins(&self) -> usize {
        self.hi - self.lo + 1
    }
}

/// Find the clusters of `view`.
pub fn find_clusters(view: &FrameView) -> Vec<Cluster> {
    let t = view.thresholds;
    let f = view.frame;
    let base = view.baseline;
    let rise = view.band_rise_db.max(0.0);
    let hot: Vec<bool> = (0..view.bins())
        .map(|b| {
            let level = f.mean_dbfs[b];
            let relief = view.bonus(b);
            level >= base.p99_dbfs[b] + t.emitter_margin_db - relief
                && level >= base.floor_dbfs[b] + rise + t.emitter_snr_db - relief
        })
        .collect();
    runs(&hot, MAX_GAP_BINS)
        .into_iter()
        .map(|(lo, hi)| {
            let (peak_bin, peak_dbfs) = (lo..=hi)
                .map(|b| (b, f.mean_dbfs[b]))
                .fold((lo, f32::MIN), |a, b| if b.1 > a.1 { b } else { a });
            let excess_db = (lo..=hi)
                .map(|b| f.mean_dbfs[b] - base.p99_dbfs[b])
                .fold(f32::MIN, f32::max);
            let known = (lo..=hi).find_map(|b| view.masks.known[b]);
            Cluster {
                lo,
                hi,
                peak_bin,
                peak_dbfs,
                excess_db,
                snr_db: peak_dbfs - (base.floor_dbfs[peak_bin] + rise),
                known,
            }
        })
        .collect()
}
