//! The per-frame comparison with the baseline: one frame, its profile
//! segment, which bins belong to known emitters or protected bands, and the
//! frame's band-wide rise over the floor. Every detector reads a [`FrameView`].

use crate::dsp::PsdFrame;
use crate::profile::{Profile, Segment, Thresholds};

/// Hz a known emitter may wander beyond the band it was learned in
/// (oscillators drift with temperature by a kHz or so).
pub const KNOWN_DRIFT_HZ: f64 = 1500.0;

/// Least level difference between a signal and a raise at its mirror
/// frequency for the raise to be taken as its image, dB (receivers put
/// images 25–40 dB down).
pub const IMAGE_REJECTION_DB: f32 = 20.0;

/// Bin masks precomputed once per segment.
#[derive(Debug, Clone)]
pub struct SegmentMasks {
    /// Index into `profile.emitters` of the known emitter covering each bin
    /// (its learned band widened by [`KNOWN_DRIFT_HZ`] and a bin).
    pub known: Vec<Option<usize>>,
    /// Whether each bin lies in a protected band.
    pub protected: Vec<bool>,
    /// Bins used for wideband statistics (not known emitters, not the DC bin).
    pub open_bins: Vec<usize>,
    /// How much more the baseline varied in each bin than noise averaged
    /// over a frame does (p99 − floor beyond noise's), dB, at least 0:
    /// intermittent users leave it high where they come and go.
    pub extra_spread_db: Vec<f32>,
}

impl SegmentMasks {
    pub fn new(profile: &Profile, segment: &Segment) -> Self {
        let bins = segment.floor_dbfs.len();
        let rate = profile.capture.sample_rate;
        let hz = |b: usize| crate::dsp::psd::bin_hz(segment.center_hz, rate, bins, b);
        let pad = KNOWN_DRIFT_HZ + rate / bins as f64;
        let known: Vec<Option<usize>> = (0..bins)
            .map(|b| {
                let f = hz(b);
                let inside = |e: &&crate::profile::Emitter| f >= e.low_hz && f <= e.high_hz;
                let near =
                    |e: &&crate::profile::Emitter| f >= e.low_hz - pad && f <= e.high_hz + pad;
                // The emitter whose own band holds the bin, else one whose drift reaches it.
                let found = profile
                    .emitters
                    .iter()
                    .find(inside)
                    .or_else(|| profile.emitters.iter().find(near))?;
                profile.emitters.iter().position(|e| std::ptr::eq(e, found))
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
        // Noise averaged over k FFTs wanders by 4.34/√k dB; its p99 stands
        // about 2.5 of those over the median.
        let k = profile.capture.psd.ffts_per_frame(rate).max(1) as f32;
        let noise_spread = 2.5 * 4.34 / k.sqrt();
        let extra_spread_db = (0..bins)
            .map(|b| (segment.p99_dbfs[b] - segment.floor_dbfs[b] - noise_spread).max(0.0))
            .collect();
        SegmentMasks {
            known,
            protected,
            open_bins,
            extra_spread_db,
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

    /// Absolute frequency of a fractional bin position (a centroid).
    pub fn position_hz(&self, bin: f64) -> f64 {
        self.frame.bin_hz(0) + bin * self.frame.bin_width_hz()
    }

    /// The bin holding the mirror frequency of bin `b` about the centre
    /// (where a receiver's IQ imbalance puts the image of a signal in `b`).
    pub fn mirror_bin(&self, b: usize) -> usize {
        (self.bins() - b) % self.bins()
    }

    /// Whether the raise at `lo..=hi` of `level_dbfs` (peaking at
    /// `peak_bin`) is the IQ-imbalance image of a far stronger signal at the
    /// mirror frequency.
    pub fn is_image(&self, level_dbfs: &[f32], lo: usize, hi: usize, peak_bin: usize) -> bool {
        let (a, b) = (self.mirror_bin(hi), self.mirror_bin(lo));
        let (a, b) = (
            a.min(b).saturating_sub(1),
            (a.max(b) + 1).min(self.bins() - 1),
        );
        let mirror_peak = level_dbfs[a..=b].iter().copied().fold(f32::MIN, f32::max);
        mirror_peak >= level_dbfs[peak_bin] + IMAGE_REJECTION_DB
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
