//! The per-frame comparison with the baseline: one frame, its profile
//! segment, which bins belong to known emitters or protected bands, and the
//! frame's band-wide rise over the floor. Every detector reads a [`FrameView`].

use crate::dsp::PsdFrame;
use crate::profile::{Profile, Segment, Thresholds};

/// Bin masks precomputed once per segment.
#[derive(Debug, Clone)]
pub struct SegmentMasks {
    /// Index into `profile.emitters` of the known emitter covering each bin.
    pub known: Vec<Option<usize>>,
    /// Whether each bin lies in a protected band.
    pub protected: Vec<bool>,
    /// Bins used for wideband statistics (not known emitters, not the DC bin).
    pub open_bins: Vec<usize>,
}

impl SegmentMasks {
    pub fn new(profile: &Profile, segment: &Segment) -> Self {
        let bins = segment.floor_dbfs.len();
        let rate = profile.capture.sample_rate;
        let hz = |b: usize| crate::dsp::psd::bin_hz(segment.center_hz, rate, bins, b);
        let known: Vec<Option<usize>> = (0..bins)
            .map(|b| {
                let f = hz(b);
                profile
                    .emitters
                    .iter()
                    .position(|e| f >= e.low_hz && f <= e.high_hz)
            })
            .collect();
        let protected = (0..bins)
            .map(|b| {
                let f = hz(b);
                profile
                    .protected
                    .iter()
                    .any(|p| f >= p.low_hz && f <= p.high_hz)
            })
            .collect();
        let open_bins = (0..bins)
            .filter(|&b| known[b].is_none() && b != bins / 2)
            .collect();
        SegmentMasks {
            known,
            protected,
            open_bins,
        }
    }
}

/// One frame against its baseline.
pub struct FrameView<'a> {
    pub frame: &'a PsdFrame,
    pub baseline: &'a Segment,
    pub profile: &'a Profile,
    pub masks: &'a SegmentMasks,
    pub thresholds: &'a Thresholds,
    /// Median over open bins of (frame − baseline floor), dB: how far the whole band rose.
    pub band_rise_db: f32,
}

impl<'a> FrameView<'a> {
    pub fn new(
        frame: &'a PsdFrame,
        profile: &'a Profile,
        baseline: &'a Segment,
        masks: &'a SegmentMasks,
    ) -> Self {
        let rises: Vec<f32> = masks
            .open_bins
            .iter()
            .map(|&b| frame.mean_dbfs[b] - baseline.floor_dbfs[b])
            .collect();
        FrameView {
            frame,
            baseline,
            profile,
            masks,
            thresholds: &profile.thresholds,
            band_rise_db: crate::profile::learn::median(&rises),
        }
    }

    pub fn bins(&self) -> usize {
        self.frame.bins()
    }

    /// Lower edge of bin `b` in Hz.
    pub fn bin_low_hz(&self, b: usize) -> f64 {
        self.frame.bin_hz(b) - 0.5 * self.frame.bin_width_hz()
    }

    /// Upper edge of bin `b` in Hz.
    pub fn bin_high_hz(&self, b: usize) -> f64 {
        self.frame.bin_hz(b) + 0.5 * self.frame.bin_width_hz()
    }

    /// Threshold relief in protected bins, dB.
    pub fn bonus(&self, b: usize) -> f32 {
        if self.masks.protected[b] {
            self.thresholds.protected_bonus_db
        } else {
            0.0
        }
    }
}
