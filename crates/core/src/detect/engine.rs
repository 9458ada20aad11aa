//! Runs every detector on each frame, in an order that keeps one cause from
//! raising several alerts: receiver health first (a clipping or dead front
//! end makes the rest of the spectrum meaningless), then wideband jamming
//! (whose band swallows any cluster inside it), then the clusters of the
//! average — images of stronger signals dropped, a comb of lines taken as
//! one swept jammer, the lobes of one signal joined — as tones and emitters,
//! then bursts seen only in the max-hold, and last the slow path, which adds
//! the weak threats only a long average shows.

use super::burst::BurstDetector;
use super::clusters::{find_clusters, join_lobes, Cluster};
use super::comb::{find_comb, is_line_of};
use super::slow::SlowPath;
use super::tracker::is_wideband;
use super::view::{FrameView, SegmentMasks};
use super::wideband::WidebandDetector;
use super::{emitter, health, tone, Detection};
use crate::alert::AlertKind;
use crate::dsp::PsdFrame;
use crate::profile::Profile;

/// How far a cluster's peak stands over the median of its extent for the
/// extent to be that signal's skirts (leakage and splatter), not a band, dB.
const PEAKED_DB: f32 = 20.0;

/// How far below a strong signal a wideband raise may be its splatter, dB,
/// and for how long after it was seen (a burst's key clicks straddle frames).
const SPLATTER_DB: f32 = 30.0;
const SPLATTER_MEMORY_S: f64 = 2.0;

/// `open` less the extents of peaked clusters: what a strong narrow signal
/// leaks around itself is not a wideband raise.
fn without_skirts(open: &[usize], clusters: &[Cluster], level: &[f32]) -> Vec<usize> {
    let mut skirt = vec![false; level.len()];
    for c in clusters {
        let extent = &level[c.extent_lo..=c.extent_hi];
        if c.peak_dbfs - crate::profile::learn::median(extent) >= PEAKED_DB {
            skirt[c.extent_lo..=c.extent_hi]
                .iter_mut()
                .for_each(|s| *s = true);
        }
    }
    open.iter().copied().filter(|&b| !skirt[b]).collect()
}

/// Seconds after a wideband jammer was last seen during which the gain
/// drift is not followed (the jammer must not be learned as drift).
const JAMMING_FREEZE_S: f64 = 2.0;

/// All detectors, with their per-segment state.
pub struct DetectionEngine {
    profile: Profile,
    segments: Vec<SegmentState>,
}

/// What the detectors remember of one tuning.
struct SegmentState {
    masks: SegmentMasks,
    wideband: WidebandDetector,
    bursts: BurstDetector,
    slow: SlowPath,
    /// End sample of the last frame with a wideband jammer.
    last_jamming: Option<u64>,
    /// The strongest unknown signal of a recent frame (its end, its excess).
    strongest: Option<(u64, f32)>,
}

impl DetectionEngine {
    pub fn new(profile: Profile) -> Self {
        let segments = profile
            .segments
            .iter()
            .map(|s| SegmentState {
                masks: SegmentMasks::new(&profile, s),
                wideband: WidebandDetector::default(),
                bursts: BurstDetector::default(),
                slow: SlowPath::default(),
                last_jamming: None,
                strongest: None,
            })
            .collect();
        DetectionEngine { profile, segments }
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The receiver gain drift followed at each tuning, dB.
    pub fn gain_offsets_db(&self) -> Vec<f32> {
        self.segments
            .iter()
            .map(|s| s.slow.gain_offset_db())
            .collect()
    }

    /// Everything the detectors find in `frame` (nothing for a tuning the profile lacks).
    pub fn detect(&mut self, frame: &PsdFrame) -> Vec<Detection> {
        let Some((idx, baseline)) = self.profile.segment_for(frame.center_hz) else {
            return Vec::new();
        };
        if baseline.floor_dbfs.len() != frame.bins() {
            return Vec::new();
        }
        let state = &mut self.segments[idx];
        let view = FrameView::new(frame, &self.profile, baseline, &state.masks);
        let enabled = |d: &Detection| view.thresholds.enabled(d.kind);

        if let Some(d) = health::overload(&view).filter(enabled) {
            return vec![d];
        }
        if let Some(d) = health::signal_loss(&view).filter(enabled) {
            return vec![d];
        }
        let mut out = Vec::new();
        let mut clusters = find_clusters(&view);
        let open = without_skirts(&state.masks.open_bins, &clusters, &frame.mean_dbfs);
        // A wideband raise far below a strong unknown signal of the same
        // frame is that signal's splatter (key clicks, phase noise).
        let now = clusters
            .iter()
            .filter(|c| c.known.is_none())
            .map(|c| c.excess_db)
            .fold(f32::MIN, f32::max);
        let recent = (SPLATTER_MEMORY_S * frame.sample_rate) as u64;
        let strongest = match state.strongest {
            Some((end, level)) if frame.start_sample <= end + recent => level.max(now),
            _ => now,
        };
        if now > f32::MIN {
            state.strongest = Some((frame.end_sample(), now));
        }
        let jam = state
            .wideband
            .detect(&view, &open, state.slow.gain_offset_db())
            .filter(|j| j.excess_db + SPLATTER_DB > strongest)
            .filter(enabled);
        let outside = |c: &Cluster, d: &Detection| {
            let margin = 0.02 * (d.high_hz - d.low_hz);
            view.bin_high_hz(c.hi) < d.low_hz - margin || view.bin_low_hz(c.lo) > d.high_hz + margin
        };
        if let Some(j) = &jam {
            clusters.retain(|c| outside(c, j));
        }
        clusters.retain(|c| !view.is_image(&frame.mean_dbfs, c.lo, c.hi, c.peak_bin));
        if jam.is_none() {
            if let Some((comb, _)) = find_comb(&view, &clusters) {
                // Its lines beyond the run found (faint, or past a known
                // emitter) are part of it too.
                let tolerance = 2.0 * frame.bin_width_hz();
                clusters.retain(|c| {
                    outside(c, &comb) && !is_line_of(&comb, frame.bin_hz(c.peak_bin), tolerance)
                });
                out.extend(Some(comb).filter(enabled));
            }
        }
        out.extend(jam);
        for c in &join_lobes(clusters) {
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
        let wideband: Vec<(f64, f64)> = out
            .iter()
            .filter(|d| is_wideband(d.kind))
            .map(|d| (d.low_hz, d.high_hz))
            .collect();
        let averaged: Vec<(f64, f64)> = out
            .iter()
            .filter(|d| !is_wideband(d.kind))
            .map(|d| (d.low_hz, d.high_hz))
            .collect();
        let gain = state.slow.gain_offset_db();
        let lasting = state.slow.lasting_rise_db();
        for b in state
            .bursts
            .detect(&view, gain, lasting, &wideband, &averaged)
        {
            // A burst of an unknown emitter the average shows too holds
            // that finding; one of another signal the average shows (a
            // misplaced known emitter, a carrier) is that signal's.
            match out
                .iter_mut()
                .find(|d| !is_wideband(d.kind) && d.low_hz <= b.high_hz && d.high_hz >= b.low_hz)
            {
                Some(d) if d.kind == AlertKind::EmitterUnknown => d.hold_s = d.hold_s.max(b.hold_s),
                Some(_) => {}
                None => out.extend(Some(b).filter(enabled)),
            }
        }
        let freeze = (JAMMING_FREEZE_S * frame.sample_rate) as u64;
        let jamming_on = state
            .last_jamming
            .is_some_and(|end| frame.end_sample() <= end + freeze);
        let slow = state.slow.detect(&view, &out, jamming_on);
        out.extend(slow.into_iter().filter(enabled));
        if out.iter().any(|d| is_wideband(d.kind)) {
            state.last_jamming = Some(frame.end_sample());
        }
        out
    }
}
