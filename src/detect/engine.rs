//! Runs every detector on each frame, in an order that keeps one cause from
//! raising several alerts: receiver health first (a clipping or dead front
//! end makes the rest of the spectrum meaningless), then wideband jamming
//! (whose band swallows any cluster inside it), then tones and emitters.

use super::clusters::find_clusters;
use super::view::{FrameView, SegmentMasks};
use super::wideband::WidebandDetector;
use super::{emitter, health, tone, Detection};
use crate::dsp::PsdFrame;
use crate::profile::Profile;

/// All detectors, with their per-segment state.
pub struct DetectionEngine {
    profile: Profile,
    masks: Vec<SegmentMasks>,
    wideband: Vec<WidebandDetector>,
}

impl DetectionEngine {
    pub fn new(profile: Profile) -> Self {
        let masks = profile
            .segments
            .iter()
            .map(|s| SegmentMasks::new(&profile, s))
            .collect();
        let wideband = profile
            .segments
            .iter()
            .map(|_| WidebandDetector::default())
            .collect();
        DetectionEngine {
            profile,
            masks,
            wideband,
        }
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Everything the detectors find in `frame` (nothing for a tuning the profile lacks).
    pub fn detect(&mut self, frame: &PsdFrame) -> Vec<Detection> {
        let Some((idx, baseline)) = self.profile.segment_for(frame.center_hz) else {
            return Vec::new();
        };
        if baseline.floor_dbfs.len() != frame.bins() {
            return Vec::new();
        }
        let view = FrameView::new(frame, &self.profile, baseline, &self.masks[idx]);
        let enabled = |d: &Detection| view.thresholds.enabled(d.kind);

        if let Some(d) = health::overload(&view).filter(enabled) {
            return vec![d];
        }
        if let Some(d) = health::signal_loss(&view).filter(enabled) {
            return vec![d];
        }
        let mut out = Vec::new();
        let jam = self.wideband[idx].detect(&view).filter(enabled);
        let mut clusters = find_clusters(&view);
        if let Some(j) = &jam {
            clusters
                .retain(|c| view.bin_high_hz(c.hi) < j.low_hz || view.bin_low_hz(c.lo) > j.high_hz);
        }
        out.extend(jam);
        for c in &clusters {
            tracing::trace!(
                "cluster t={} bins={}..{} extent={}..{} peak_width={} excess={:.1} snr={:.1} known={:?} tone={}",
                frame.start_sample, c.lo, c.hi, c.extent_lo, c.extent_hi, c.peak_width_bins, c.excess_db, c.snr_db, c.known, tone::is_tone(&view, c)
            );
            let d = if tone::is_tone(&view, c) {
                Some(tone::detection(&view, c))
            } else {
                emitter::classify(&view, c)
            };
            out.extend(d.filter(enabled));
        }
        out
    }
}
