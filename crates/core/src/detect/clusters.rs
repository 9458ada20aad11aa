//! The CFAR core. A bin *seeds* a cluster when it stands above both the
//! baseline (its p99 plus a margin) and the frame's local noise floor
//! (baseline floor plus the band's current rise plus an SNR threshold). A
//! seeded cluster then *grows* over adjacent bins still clearly above the
//! local floor (hysteresis), so a strong emitter with wide skirts is one
//! cluster, not a scatter of fragments. Each cluster is summarised by its
//! peak and its 99 % occupied bandwidth; tone and emitter detectors classify
//! clusters.

use super::view::FrameView;
use super::Centroid;
use crate::profile::learn::runs;

/// A grown bin must stand this far above the local floor, dB.
const GROW_DB: f32 = 3.0;
/// Share of a cluster's excess power inside its occupied bandwidth.
const OCCUPIED_SHARE: f64 = 0.99;

/// A group of adjacent hot bins in one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// First and last bin (inclusive) of the 99 % occupied bandwidth.
    pub lo: usize,
    pub hi: usize,
    /// First and last bin of the whole grown cluster.
    pub extent_lo: usize,
    pub extent_hi: usize,
    pub peak_bin: usize,
    pub peak_dbfs: f32,
    /// Bins within 10 dB of the peak around it: a carrier's main lobe is 1–3.
    pub peak_width_bins: usize,
    /// Largest (frame − baseline p99) over the cluster, dB.
    pub excess_db: f32,
    /// Peak over the local noise floor, dB.
    pub snr_db: f32,
    /// Index of the known emitter at the cluster's peak, if any.
    pub known: Option<usize>,
    /// Power-weighted centre of its bins (positions in bins), each bin's
    /// power over the local floor: the signal's own frequency.
    pub centroid: Centroid,
}

impl Cluster {
    /// Occupied bandwidth in bins.
    pub fn width_bins(&self) -> usize {
        self.hi - self.lo + 1
    }

    /// The signal's own frequency: its power centroid, else its peak bin.
    pub fn centroid_hz(&self, view: &FrameView) -> f64 {
        view.position_hz(self.centroid.at().unwrap_or(self.peak_bin as f64))
    }
}

/// Find the clusters of `view`.
pub fn find_clusters(view: &FrameView) -> Vec<Cluster> {
    let t = view.thresholds;
    let f = view.frame;
    let base = view.baseline;
    let rise = view.band_rise_db.max(0.0);
    let bins = view.bins();
    let local_floor = |b: usize| base.floor_dbfs[b] + rise;
    let seed: Vec<bool> = (0..bins)
        .map(|b| {
            let level = f.mean_dbfs[b];
            let relief = view.bonus(b);
            level >= base.p99_dbfs[b] + t.emitter_margin_db - relief
                && level >= local_floor(b) + t.emitter_snr_db - relief
        })
        .collect();
    let grow: Vec<bool> = (0..bins)
        .map(|b| {
            seed[b]
                || (f.mean_dbfs[b] >= local_floor(b) + GROW_DB
                    && f.mean_dbfs[b] >= base.p99_dbfs[b])
        })
        .collect();
    runs(&grow, (bins / 256).max(1))
        .into_iter()
        .filter(|&(lo, hi)| seed[lo..=hi].iter().any(|&s| s))
        .map(|(lo, hi)| {
            let (peak_bin, peak_dbfs) = (lo..=hi)
                .map(|b| (b, f.mean_dbfs[b]))
                .fold((lo, f32::MIN), |a, b| if b.1 > a.1 { b } else { a });
            let excess_db = (lo..=hi)
                .map(|b| f.mean_dbfs[b] - base.p99_dbfs[b])
                .fold(f32::MIN, f32::max);
            let power: Vec<f64> = (lo..=hi)
                .map(|b| (db_to_lin(f.mean_dbfs[b]) - db_to_lin(local_floor(b))).max(0.0))
                .collect();
            let (olo, ohi) = occupied(&power, OCCUPIED_SHARE);
            Cluster {
                lo: lo + olo,
                hi: lo + ohi,
                extent_lo: lo,
                extent_hi: hi,
                peak_bin,
                peak_dbfs,
                peak_width_bins: peak_lobe_bins(&f.mean_dbfs, lo, hi, peak_bin, f32::MIN),
                excess_db,
                snr_db: peak_dbfs - local_floor(peak_bin),
                known: view.masks.known[peak_bin],
                centroid: Centroid::of_bins(&f.mean_dbfs, lo, hi, local_floor),
            }
        })
        .collect()
}

/// Bins of `level[lo..=hi]` around `peak` that stay within 10 dB of it
/// and at or above `least`: a carrier's main lobe is 1–3 bins.
pub fn peak_lobe_bins(level: &[f32], lo: usize, hi: usize, peak: usize, least: f32) -> usize {
    let near = |b: usize| level[b] >= (level[peak] - 10.0).max(least);
    let left = (lo..peak).rev().take_while(|&b| near(b)).count();
    let right = (peak + 1..=hi).take_while(|&b| near(b)).count();
    left + right + 1
}

/// Join clusters that are lobes of one signal: neighbours no further apart
/// than four times the wider one's width, with peaks within 6 dB (the two
/// tones of an FSK transmitter, the sidebands of an AM one). Clusters come
/// in frequency order and stay so.
pub fn join_lobes(clusters: Vec<Cluster>) -> Vec<Cluster> {
    let mut out: Vec<Cluster> = Vec::with_capacity(clusters.len());
    for c in clusters {
        if let Some(last) = out.last_mut() {
            let gap = c.extent_lo.saturating_sub(last.extent_hi);
            let widest = last.width_bins().max(c.width_bins());
            if last.known == c.known
                && gap <= 4 * widest
                && (last.peak_dbfs - c.peak_dbfs).abs() <= 6.0
            {
                let stronger = c.peak_dbfs > last.peak_dbfs;
                last.lo = last.lo.min(c.lo);
                last.hi = last.hi.max(c.hi);
                last.extent_hi = last.extent_hi.max(c.extent_hi);
                last.excess_db = last.excess_db.max(c.excess_db);
                last.centroid.merge(&c.centroid);
                if stronger {
                    last.peak_bin = c.peak_bin;
                    last.peak_dbfs = c.peak_dbfs;
                    last.snr_db = c.snr_db;
                }
                // Two lobes are not one carrier's main lobe.
                last.peak_width_bins = last.peak_width_bins.max(last.width_bins());
                continue;
            }
        }
        out.push(c);
    }
    out
}

fn db_to_lin(db: f32) -> f64 {
    10f64.powf(db as f64 / 10.0)
}

/// Indices (first, last) holding `share` of the total of `power`, trimming
/// (1 − share)/2 from each side.
fn occupied(power: &[f64], share: f64) -> (usize, usize) {
    let total: f64 = power.iter().sum();
    if total <= 0.0 {
        return (0, power.len().saturating_sub(1));
    }
    let tail = 0.5 * (1.0 - share) * total;
    let mut acc = 0.0;
    let mut lo = 0;
    for (i, p) in power.iter().enumerate() {
        acc += p;
        if acc > tail {
            lo = i;
            break;
        }
    }
    acc = 0.0;
    let mut hi = power.len() - 1;
    for (i, p) in power.iter().enumerate().rev() {
        acc += p;
        if acc > tail {
            hi = i;
            break;
        }
    }
    (lo, hi.max(lo))
}

#[cfg(test)]
mod tests {
    use super::occupied;

    #[test]
    fn occupied_bandwidth_trims_the_tails() {
        let p = [0.001, 0.001, 1.0, 1.0, 1.0, 1.0, 0.001, 0.0];
        assert_eq!(occupied(&p, 0.99), (2, 5));
        assert_eq!(occupied(&[0.0, 0.0], 0.99), (0, 1));
        assert_eq!(occupied(&[5.0], 0.99), (0, 0));
    }
}
