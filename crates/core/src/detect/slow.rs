//! The sensitive path: weak threats that one 50 ms frame cannot tell from
//! noise stand out of a longer average. The frames of the last
//! [`SLOW_WINDOW_S`] are averaged (in power), the receiver's slow gain
//! drift is tracked and taken out ([`GainTracker`]), and what remains is
//! compared bin by bin with the baseline floor (after [`SLOW_WARMUP_S`] of
//! signal, in which the gain offset is found). A 0.5 s average of noise
//! wanders by ~0.2 dB, so a rise of a few dB is conclusive where a single
//! frame needs 8.
//!
//! Bins where the baseline itself varied more than noise does (intermittent
//! users coming and going) need a rise that much larger, and known emitters
//! are left to the fast path. What the fast path already reported in the
//! window is not reported again: this path only adds what it alone sees.
//! A wide raise is a barrage unless its samples keep a constant envelope
//! (a sweep faster than an FFT: [`super::envelope`]).

use super::clusters::peak_lobe_bins;
use super::envelope::{judge, share_of_band, EnvelopeProbe, Moments};
use super::tracker::is_wideband;
use super::view::FrameView;
use super::{confidence_from_margin, Centroid, Detection};
use crate::alert::AlertKind;
use crate::iq::Sample;
use crate::profile::learn::{median, runs};
use serde_json::json;
use std::collections::VecDeque;

/// Seconds of frames averaged.
pub const SLOW_WINDOW_S: f64 = 0.5;
/// Frames of the short average in which a wide raise is looked for first.
const SHORT_WINDOW_FRAMES: usize = 3;
/// A bin counts as raised this far over its floor in the long average, dB.
const RAISED_DB: f32 = 1.5;
/// A narrow signal's peak must stand this far over its floor, dB.
const SEED_DB: f32 = 3.0;
/// A wide raise's median must stand this far over the floor, dB.
const WIDE_DB: f32 = 2.0;
/// Seconds of signal the path watches before it reports: the receiver's
/// gain offset against the baseline is learned meanwhile (and the first
/// window filled).
pub const SLOW_WARMUP_S: f64 = 2.0;
/// Most a flat raise's peak stands over its median, dB.
const FLAT_DB: f32 = 2.0;
/// Largest gain drift followed, dB either way (a receiver warming up).
const MAX_DRIFT_DB: f32 = 3.0;
/// Fastest gain drift followed, dB per second: temperature moves the gain
/// by a dB or two over minutes; a jammer creeping up at 1 dB/s is not drift.
const DRIFT_RATE_DB_PER_S: f32 = 0.1;

/// The receiver's slowly drifting gain, as the band's median rise over its
/// baseline floor, followed no faster than `DRIFT_RATE_DB_PER_S` and
/// frozen while a jammer is on (so a jammer is never learned as drift).
#[derive(Debug, Default, Clone)]
pub struct GainTracker {
    offset_db: Option<f32>,
}

impl GainTracker {
    /// Follow a new measurement of the band's rise, `dt_s` after the last.
    pub fn update(&mut self, measured_db: f32, dt_s: f64, frozen: bool) -> f32 {
        let step = DRIFT_RATE_DB_PER_S * dt_s as f32;
        let next = match self.offset_db {
            None => measured_db,
            Some(o) if frozen => o,
            Some(o) => o + (measured_db - o).clamp(-step, step),
        };
        let next = next.clamp(-MAX_DRIFT_DB, MAX_DRIFT_DB);
        self.offset_db = Some(next);
        next
    }

    /// The gain offset followed so far, dB (0 before the first measurement).
    pub fn offset_db(&self) -> f32 {
        self.offset_db.unwrap_or(0.0)
    }
}

/// Per-segment state of the slow path.
#[derive(Debug, Default)]
pub struct SlowPath {
    /// Linear mean spectra of the frames in the window, oldest first.
    frames: VecDeque<Vec<f32>>,
    sum: Vec<f64>,
    /// Where the next frame must start to continue the window.
    next_start: Option<u64>,
    gain: GainTracker,
    /// Bands the fast path reported in the window, with the frame end and
    /// whether each was a wideband jammer.
    reported: VecDeque<(u64, f64, f64, bool)>,
    /// Seconds of signal seen at this tuning.
    watched_s: f64,
    /// The last long average's rise over the floor per bin, dB (empty
    /// until the path has warmed up).
    rise_db: Vec<f32>,
    /// The probes (raw samples) of the frames in the window, oldest first.
    probes: VecDeque<Vec<Sample>>,
    /// Looks at the samples of a raised band (the envelope test).
    envelope: EnvelopeProbe,
}

impl SlowPath {
    /// The gain offset being followed, dB.
    pub fn gain_offset_db(&self) -> f32 {
        self.gain.offset_db()
    }

    /// How far the long average stood over the floor in each bin at the
    /// last frame, dB (empty until warmed up): what lasts, as opposed to
    /// what bursts.
    pub fn lasting_rise_db(&self) -> &[f32] {
        &self.rise_db
    }

    /// Add `view`'s frame; report what the long average shows that the fast
    /// path (`fast`, this frame's detections) has not. `jamming_on` freezes
    /// the gain tracker.
    pub fn detect(
        &mut self,
        view: &FrameView,
        fast: &[Detection],
        jamming_on: bool,
    ) -> Vec<Detection> {
        let frame = view.frame;
        let window =
            ((SLOW_WINDOW_S * frame.sample_rate / frame.sample_count.max(1) as f64).round()
                as usize)
                .max(2);
        if self.next_start != Some(frame.start_sample) || self.sum.len() != frame.bins() {
            if self.sum.len() != frame.bins() {
                self.watched_s = 0.0;
            }
            self.rise_db.clear();
            self.frames.clear();
            self.probes.clear();
            self.sum = vec![0.0; frame.bins()];
            self.reported.clear();
        }
        self.next_start = Some(frame.end_sample());
        let linear: Vec<f32> = frame.mean_dbfs.iter().map(|&d| db_to_lin(d)).collect();
        self.probes.push_back(frame.probe.clone());
        if self.probes.len() > window {
            self.probes.pop_front();
        }
        for (s, &x) in self.sum.iter_mut().zip(&linear) {
            *s += x as f64;
        }
        self.frames.push_back(linear);
        if self.frames.len() > window {
            let old = self.frames.pop_front().expect("window is not empty");
            for (s, &x) in self.sum.iter_mut().zip(&old) {
                *s -= x as f64;
            }
        }
        let horizon = frame
            .end_sample()
            .saturating_sub(frame.sample_count * window as u64);
        while self.reported.front().is_some_and(|r| r.0 <= horizon) {
            self.reported.pop_front();
        }
        for d in fast {
            self.reported
                .push_back((frame.end_sample(), d.low_hz, d.high_hz, is_wideband(d.kind)));
        }
        let n = self.frames.len() as f64;
        let base = view.baseline;
        let long: Vec<f32> = self.sum.iter().map(|&s| to_db((s / n) as f32)).collect();
        let open = &view.masks.open_bins;
        let measured = median(
            &open
                .iter()
                .map(|&b| long[b] - base.floor_dbfs[b])
                .collect::<Vec<_>>(),
        );
        let dt = frame.sample_count as f64 / frame.sample_rate;
        self.watched_s += dt;
        // Until the gain is known the tracker follows the band freely.
        let warming = self.watched_s < SLOW_WARMUP_S;
        let gain = self.gain.update(
            measured,
            if warming { 1e9 } else { dt },
            jamming_on && !warming,
        );
        if self.frames.len() < window || warming {
            return Vec::new();
        }
        let rise: Vec<f32> = (0..frame.bins())
            .map(|b| long[b] - base.floor_dbfs[b] - gain)
            .collect();
        self.rise_db.clone_from(&rise);
        let reported = self
            .reported
            .iter()
            .map(|&(_, l, h, wide)| (l, h, wide))
            .collect::<Vec<_>>();
        // A wide raise stands out of a few frames' average already: its
        // median over hundreds of bins hardly wanders. The full window is
        // for what only it can show (narrow and patchy raises).
        let short_n = SHORT_WINDOW_FRAMES.min(self.frames.len());
        let short: Vec<f32> = (0..frame.bins())
            .map(|b| {
                let sum: f64 = self
                    .frames
                    .iter()
                    .rev()
                    .take(short_n)
                    .map(|f| f[b] as f64)
                    .sum();
                to_db((sum / short_n as f64) as f32)
            })
            .collect();
        let probes = self.probes.len();
        let mut out = Findings {
            view,
            gain,
            envelope: &mut self.envelope,
            reported: &reported,
        }
        .of(
            &short,
            self.probes.range(probes - short_n.min(probes)..),
            short_n as f64 * dt,
            true,
        );
        let mut quieter = reported.clone();
        quieter.extend(out.iter().map(|d| (d.low_hz, d.high_hz, true)));
        out.extend(
            Findings {
                view,
                gain,
                envelope: &mut self.envelope,
                reported: &quieter,
            }
            .of(&long, self.probes.iter(), SLOW_WINDOW_S, false),
        );
        out
    }
}

/// What one average (over `averaged_s`) shows against the floor, less what
/// is already `reported` in the window.
struct Findings<'a, 'v> {
    view: &'a FrameView<'v>,
    gain: f32,
    envelope: &'a mut EnvelopeProbe,
    reported: &'a [(f64, f64, bool)],
}

impl Findings<'_, '_> {
    /// The raises `long` (an average in dB, whose frames' probes are
    /// `probes`) shows; only the wide ones when `wide_only`.
    fn of<'p>(
        self,
        long: &[f32],
        probes: impl Iterator<Item = &'p Vec<Sample>> + Clone,
        averaged_s: f64,
        wide_only: bool,
    ) -> Vec<Detection> {
        let Findings {
            view,
            gain,
            envelope: probe,
            reported,
        } = self;
        let frame = view.frame;
        let base = view.baseline;
        let open = &view.masks.open_bins;
        let bins = frame.bins();
        let rise: Vec<f32> = (0..bins)
            .map(|b| long[b] - base.floor_dbfs[b] - gain)
            .collect();
        let dc = bins / 2;
        let open_count = open.len().max(1);
        let usable = |b: usize| view.masks.known[b].is_none() && b.abs_diff(dc) > 1;
        // Where the baseline varied, only more than it ever showed is news.
        let need = |b: usize| {
            let extra = view.masks.extra_spread_db[b];
            let seen = if extra > 1.0 {
                base.max_dbfs[b] - base.floor_dbfs[b] - RAISED_DB
            } else {
                0.0
            };
            extra.max(seen) - view.bonus(b)
        };
        let raised: Vec<bool> = (0..bins)
            .map(|b| usable(b) && rise[b] >= RAISED_DB + need(b))
            .collect();
        // A wide raise is old news only where a jammer was reported (a
        // known emitter it lifts, seen as grown, is not it); a narrow one
        // wherever anything was.
        let reported = |lo: f64, hi: f64, wide: bool| {
            reported
                .iter()
                .any(|&(l, h, jammer)| (jammer || !wide) && lo <= h && hi >= l)
        };
        let mut out = Vec::new();
        // Runs over the open bins, so that a known emitter inside a raised
        // band neither splits it nor cuts it short.
        // A wide raise may be patchy (bins where the baseline varied need
        // more): its runs are bridged generously; narrow signals are not.
        let open_raised: Vec<bool> = open.iter().map(|&b| raised[b]).collect();
        let min_wide = view.thresholds.barrage_min_fraction * open_count as f32;
        let mut spans: Vec<(usize, usize)> = runs(&open_raised, (bins / 16).max(1))
            .into_iter()
            .filter(|&(a, z)| open_raised[a..=z].iter().filter(|&&r| r).count() as f32 >= min_wide)
            .collect();
        let mut narrow = open_raised.clone();
        for &(a, z) in &spans {
            narrow[a..=z].iter_mut().for_each(|r| *r = false);
        }
        spans.extend(runs(&narrow, (bins / 256).max(1)));
        for (a, z) in spans {
            let (lo, hi) = (open[a], open[z]);
            let (low_hz, high_hz) = (view.bin_low_hz(lo), view.bin_high_hz(hi));
            let in_run: Vec<f32> = (lo..=hi).filter(|&b| raised[b]).map(|b| rise[b]).collect();
            let peak_bin = (lo..=hi)
                .filter(|&b| raised[b])
                .max_by(|&a, &b| rise[a].total_cmp(&rise[b]))
                .expect("a run is not empty");
            let peak = rise[peak_bin];
            // A flat raise over half a barrage's width is a barrage coming
            // up (a creeping jammer is patchy while it is weak).
            let flat = peak - median(&in_run) <= FLAT_DB;
            let wide = in_run.len() as f32 >= min_wide
                || (flat && in_run.len() as f32 >= 0.5 * min_wide)
                || covers_protected(view, lo, hi);
            if reported(low_hz, high_hz, wide) {
                continue;
            }
            let mut details = serde_json::Map::new();
            details.insert("path".into(), json!("slow"));
            details.insert("averaged_s".into(), json!(round2(averaged_s as f32)));
            // A wide raise (a jammer) is centred on its band; a narrow
            // signal on its power, over the raised bins.
            let centroid_hz = (!wide)
                .then(|| {
                    Centroid::of_bins(long, lo, hi, |b| {
                        if raised[b] {
                            base.floor_dbfs[b] + gain
                        } else {
                            f32::INFINITY
                        }
                    })
                    .at()
                })
                .flatten()
                .map(|bin| view.position_hz(bin));
            let (kind, excess) = if wide {
                let level = median(&in_run);
                if level < WIDE_DB {
                    continue;
                }
                details.insert(
                    "raised_fraction".into(),
                    json!(round2(in_run.len() as f32 / open_count as f32)),
                );
                // A sweep faster than an FFT raises the floor like noise
                // but keeps a constant envelope.
                let keep: Vec<bool> = (0..bins)
                    .map(|b| (lo..=hi).contains(&b) && usable(b))
                    .collect();
                let mut moments = Moments::default();
                for p in probes.clone() {
                    probe.add(p, &keep, hi + 1 - lo, &mut moments);
                }
                let share = share_of_band(
                    long,
                    |b| base.floor_dbfs[b] + gain,
                    (0..bins).filter(|&b| keep[b]),
                );
                let envelope = judge(&moments, share);
                if wide_only && envelope.is_none() {
                    // Too few samples to tell a sweep from noise: the full
                    // window will.
                    continue;
                }
                if let Some(e) = envelope {
                    details.insert("envelope_kurtosis".into(), json!(round2(e.kurtosis)));
                }
                if envelope.is_some_and(|e| e.chirp) {
                    (AlertKind::JammingSwept, level)
                } else {
                    (AlertKind::JammingBarrage, level)
                }
            } else if wide_only {
                continue;
            } else {
                if peak < SEED_DB + need(peak_bin)
                    || peak < neighbourhood(&rise, lo, hi) + SEED_DB
                    || view.is_image(long, lo, hi, peak_bin)
                {
                    continue;
                }
                let lobe = peak_lobe_bins(&rise, lo, hi, peak_bin, RAISED_DB);
                if lobe <= view.thresholds.tone_max_bins {
                    details.insert("width_bins".into(), json!(lobe));
                    (AlertKind::JammingTone, peak)
                } else {
                    details.insert("bandwidth_hz".into(), json!((high_hz - low_hz).round()));
                    (AlertKind::EmitterUnknown, peak)
                }
            };
            out.push(Detection {
                kind,
                low_hz,
                high_hz,
                peak_dbfs: long[peak_bin],
                excess_db: excess,
                snr_db: peak,
                confidence: confidence_from_margin(excess - RAISED_DB),
                details,
                hold_s: 0.0,
                centroid_hz,
            });
        }
        out
    }
}

/// The median rise of the bins beside `lo..=hi` (two of its widths, at
/// least eight bins, each side): a narrow signal stands out of its
/// neighbourhood; a fragment of a wide, patchy raise does not.
fn neighbourhood(rise: &[f32], lo: usize, hi: usize) -> f32 {
    let reach = (2 * (hi - lo + 1)).max(8);
    let left = &rise[lo.saturating_sub(reach)..lo];
    let right = &rise[(hi + 1).min(rise.len())..(hi + 1 + reach).min(rise.len())];
    let beside: Vec<f32> = left.iter().chain(right).copied().collect();
    median(&beside).max(0.0)
}

/// Whether bins `lo..=hi` hold most of a protected band.
fn covers_protected(view: &FrameView, lo: usize, hi: usize) -> bool {
    let f = view.frame;
    view.profile.protected.iter().any(|p| {
        let inside: Vec<usize> = view
            .masks
            .open_bins
            .iter()
            .copied()
            .filter(|&b| f.bin_hz(b) >= p.low_hz && f.bin_hz(b) <= p.high_hz)
            .collect();
        inside.len() >= 4
            && inside.iter().filter(|&&b| b >= lo && b <= hi).count() * 10 >= inside.len() * 8
    })
}

fn db_to_lin(db: f32) -> f32 {
    10f32.powf(db / 10.0)
}

fn to_db(x: f32) -> f32 {
    10.0 * x.max(1e-30).log10()
}

fn round2(x: f32) -> f32 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gain_drift_is_followed_slowly_and_frozen_under_a_jammer() {
        let mut g = GainTracker::default();
        assert_eq!(g.update(1.0, 0.05, false), 1.0);
        // A jump of 3 dB moves the estimate by 0.1 dB/s only.
        let mut x = 0.0;
        for _ in 0..20 {
            x = g.update(4.0, 0.05, false);
        }
        assert!((x - 1.1).abs() < 1e-4, "{x}");
        // Frozen: no move at all.
        assert_eq!(g.update(-5.0, 10.0, true), x);
        // Never beyond the largest drift.
        assert_eq!(g.update(10.0, 1000.0, false), MAX_DRIFT_DB);
    }
}
