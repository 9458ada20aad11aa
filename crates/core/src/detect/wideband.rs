//! Wideband jammers — barrage, swept and pulsed — found from how much of the
//! band (outside known emitters) is raised, and told apart by their shape:
//!
//! - **pulsed**: the total power of successive FFT segments switches between
//!   two levels (on/off) with a regular period;
//! - **swept**: a narrow signal moving fast leaves the per-bin max-hold far
//!   above the average, its max-hold over ~100 ms covers a span, and what it
//!   lights up moves from frame to frame (slow sweeps); or, when it sweeps the band within one FFT, a raised
//!   spectrum with less of noise's FFT-to-FFT fluctuation (max-hold closer to
//!   the average than the H(k) of Gaussian noise, or a constant envelope:
//!   the samples' envelope kurtosis, once the rest of the site is taken out,
//!   near 1 where noise gives 2);
//! - **barrage**: the average itself is raised over a large part of the band
//!   or a whole protected band, with noise-like fluctuation.

use super::envelope::{judge, share_of_band, EnvelopeProbe, Moments};
use super::onoff::on_off_pattern;
use super::view::FrameView;
use super::{confidence_from_margin, Detection};
use crate::alert::AlertKind;
use crate::profile::learn::{median, runs};
use serde_json::json;
use std::collections::VecDeque;

/// Seconds of FFT power history kept for the pulse test.
const PULSE_WINDOW_S: f64 = 0.6;
/// A bin's average this far over its floor is lifted, dB (one frame of
/// noise over 48 FFTs passes it in ~1 bin in 100; frames of fewer FFTs
/// need more).
const LIFTED_DB: f32 = 1.5;
/// Seconds of per-frame band activity kept for pulses slower than a frame.
const SLOW_PULSE_WINDOW_S: f64 = 4.0;
/// Least on/off contrast of the raised fraction of the band, dB (a
/// jammer raising a fifth of the band against none: 13 dB).
const SLOW_PULSE_CONTRAST_DB: f32 = 10.0;
/// A slow sweep's max-hold stands at least this far above noise's usual spread, dB.
const SLOW_SWEEP_SPREAD_DB: f32 = 4.0;
/// A sweep faster than one FFT fluctuates at least this much less than noise, dB.
const FAST_SWEEP_SPREAD_DB: f32 = 2.0;
/// Seconds of max-hold history a sweep's span is measured over.
const SWEEP_WINDOW_S: f64 = 0.1;
/// Least self-similarity one period apart for on/off switching to count as pulsing.
const MIN_PULSE_CORRELATION: f32 = 0.5;
/// Least spectral flatness of a jammer's raise (a strong emitter's skirts score far lower).
const MIN_FLATNESS: f32 = 0.3;
/// Raised runs closer than bins / this are one jammer's.
const GROUP_GAP_DIVISOR: usize = 10;
/// Max-hold margin over its baseline p99 for a bin to count as swept over, dB.
const MAXHOLD_MARGIN_DB: f32 = 3.0;

/// Per-segment state of the wideband detector: recent FFT segment powers.
#[derive(Debug, Default)]
pub struct WidebandDetector {
    powers: VecDeque<f32>,
    /// Max-hold spectra of the frames of the last [`SWEEP_WINDOW_S`], with their end samples.
    maxholds: VecDeque<(u64, Vec<f32>)>,
    /// Per-bin max over `maxholds`.
    window_max: Vec<f32>,
    /// Bins the max-hold lit up in the previous frame (to see a sweep move).
    prev_visited: Vec<usize>,
    /// Fraction of the band raised in each recent frame, dB, oldest first.
    activity: VecDeque<f32>,
    /// Where the next frame must start to continue `activity`.
    activity_next: Option<u64>,
    /// Looks at the samples of a raised band (the envelope test).
    probe: EnvelopeProbe,
    /// The envelope moments of the raised band in the last frames (a steady
    /// jammer's pooled over up to [`ENVELOPE_FRAMES`]), with its span.
    envelopes: VecDeque<Moments>,
    envelope_span: Option<(usize, usize)>,
}

/// Frames whose envelope moments are pooled while one raised band lasts: one
/// frame's kurtosis wanders too far to tell a chirp sharing the band with
/// the floor from noise.
const ENVELOPE_FRAMES: usize = 8;

/// The raised part of the band in one frame.
struct RaisedBand {
    lo: usize,
    hi: usize,
    /// Fraction of open bins whose average is raised.
    mean_fraction: f32,
    /// Fraction of open bins whose max-hold is raised.
    max_fraction: f32,
    /// Fraction of open bins whose average stands [`LIFTED_DB`] over the floor.
    lifted_fraction: f32,
    /// A protected band is raised as a whole.
    protected_hit: bool,
}

impl WidebandDetector {
    /// Look for a wideband jammer in `view`.
    /// `open` are the bins to judge (the segment's open bins less the
    /// skirts of strong narrow signals this frame: a burst's splatter is not
    /// a wideband raise); `gain_db` is the receiver's gain drift against the
    /// baseline (the floor a jammer's share of the power is measured over).
    pub fn detect(&mut self, view: &FrameView, open: &[usize], gain_db: f32) -> Option<Detection> {
        let frame = view.frame;
        let ffts = frame.fft_power_dbfs.len();
        let hop_s = frame.sample_count as f64 / ffts.max(1) as f64 / frame.sample_rate;
        let keep = ((PULSE_WINDOW_S / hop_s).ceil() as usize).max(ffts);
        self.powers.extend(frame.fft_power_dbfs.iter().copied());
        while self.powers.len() > keep {
            self.powers.pop_front();
        }
        self.remember_maxhold(frame);

        let t = view.thresholds;
        let mut activity = 0.0;
        let band = raised_band(view, open, &self.window_max, &mut activity);
        let mut is_open = vec![false; frame.bins()];
        open.iter().for_each(|&b| is_open[b] = true);
        let slow_pulse = self.slow_pulse(frame, activity);
        let band = band?;
        let open_in_band = || (band.lo..=band.hi).filter(|&b| is_open[b]);
        // Jammers spread their power evenly; a strong emitter's skirts fall
        // away from its peak. Judge evenness on the average (barrage, pulsed)
        // or on the max-hold (sweeps).
        let rise: Vec<f32> = open_in_band()
            .map(|b| frame.mean_dbfs[b] - view.baseline.floor_dbfs[b])
            .collect();
        let max_rise: Vec<f32> = open_in_band()
            .map(|b| self.window_max[b] - view.baseline.maxhold_p99_dbfs[b])
            .collect();
        let even = flatness(&rise) >= MIN_FLATNESS;
        let even_max = flatness(&max_rise) >= MIN_FLATNESS;

        // Switching: the band power jumps between FFT segments of this frame
        // (a pulse edge), or recent segments show a regular on/off pattern.
        let pulse = self.pulse_pattern(view);
        let switching = pulse.is_some()
            || slow_pulse.is_some()
            || contrast_db(&frame.fft_power_dbfs) >= t.pulsed_contrast_db;
        // How far the max-hold stands above the average where the jammer was
        // this frame, against what noise alone does.
        let visited: Vec<usize> = open_in_band()
            .filter(|&b| frame.max_dbfs[b] >= view.baseline.maxhold_p99_dbfs[b] + MAXHOLD_MARGIN_DB)
            .collect();
        let spread = if visited.len() >= 3 {
            max_minus_mean(view, &visited)
        } else {
            max_minus_mean(view, &open_in_band().collect::<Vec<_>>())
        };
        let noise_spread = noise_spread_db(ffts);
        let moving = moved(&self.prev_visited, &visited);
        let sweep_slow = spread >= noise_spread + SLOW_SWEEP_SPREAD_DB
            && band.max_fraction >= t.swept_min_span_fraction
            && (band.max_fraction >= t.barrage_min_fraction || moving);
        self.prev_visited = visited;
        // Too fast for any FFT, a sweep raises the average like noise does;
        // its samples keep a constant envelope.
        let envelope = if band.mean_fraction >= t.barrage_min_fraction && !switching {
            // The whole span (holes would cut a chirp's spectrum and modulate
            // its envelope), less the known emitters and the DC spike.
            let dc = frame.bins() / 2;
            let keep: Vec<bool> = (0..frame.bins())
                .map(|b| {
                    (band.lo..=band.hi).contains(&b)
                        && view.masks.known[b].is_none()
                        && b.abs_diff(dc) > 1
                })
                .collect();
            let mut moments = Moments::default();
            self.probe
                .add(&frame.probe, &keep, band.hi + 1 - band.lo, &mut moments);
            // The same jammer as the last frames: its span barely moved.
            let slack = frame.bins() / 20;
            let same = self.envelope_span.is_some_and(|(lo, hi)| {
                lo.abs_diff(band.lo) <= slack && hi.abs_diff(band.hi) <= slack
            });
            if !same {
                self.envelopes.clear();
            }
            self.envelope_span = Some((band.lo, band.hi));
            self.envelopes.push_back(moments);
            if self.envelopes.len() > ENVELOPE_FRAMES {
                self.envelopes.pop_front();
            }
            let mut moments = Moments::default();
            self.envelopes.iter().for_each(|m| moments.merge(m));
            let share = share_of_band(
                &frame.mean_dbfs,
                |b| view.baseline.floor_dbfs[b] + gain_db,
                (0..frame.bins()).filter(|&b| keep[b]),
            );
            judge(&moments, share)
        } else {
            self.envelopes.clear();
            self.envelope_span = None;
            None
        };
        let constant_envelope = envelope.is_some_and(|e| e.chirp);
        let sweep_fast = ffts >= 8
            && band.mean_fraction >= t.barrage_min_fraction
            && (spread <= noise_spread - FAST_SWEEP_SPREAD_DB || constant_envelope);
        tracing::trace!(
            "wideband t={} span={}..{} flatness={:.3}/{:.3} raised={:.2}/{:.2} pulse={} switching={} spread={:.2}/{:.2}",
            frame.start_sample,
            band.lo,
            band.hi,
            flatness(&rise),
            flatness(&max_rise),
            band.mean_fraction,
            band.max_fraction,
            pulse.is_some(),
            switching,
            spread,
            noise_spread
        );

        let mut details = serde_json::Map::new();
        details.insert("raised_fraction".into(), json!(round2(band.mean_fraction)));
        details.insert("maxhold_fraction".into(), json!(round2(band.max_fraction)));
        details.insert("maxhold_spread_db".into(), json!(round2(spread)));
        details.insert("flatness".into(), json!(round2(flatness(&rise))));
        if let Some(e) = envelope {
            details.insert("envelope_kurtosis".into(), json!(round2(e.kurtosis)));
        }
        let wide = band.max_fraction >= t.barrage_min_fraction || band.protected_hit;
        // Pulses raise the average itself, if only a little when their duty
        // is low; a strong burst's splatter lights the max-hold alone.
        let lifted = band.lifted_fraction >= t.barrage_min_fraction || band.protected_hit;
        // A pulse raises the average evenly (the splatter of a strong
        // burst does not); a sweep evens out only in the max-hold.
        let kind = if switching && even && wide && lifted {
            if let Some(p) = pulse.as_ref().or(slow_pulse.as_ref()) {
                details.insert("duty".into(), json!(round2(p.duty)));
                details.insert("period_s".into(), json!(round3(p.period_s)));
                details.insert("contrast_db".into(), json!(round2(p.contrast_db)));
            }
            AlertKind::JammingPulsed
        } else if !switching && even_max && (sweep_slow || sweep_fast) {
            AlertKind::JammingSwept
        } else if even && (band.mean_fraction >= t.barrage_min_fraction || band.protected_hit) {
            AlertKind::JammingBarrage
        } else {
            return None;
        };
        let excess = match kind {
            AlertKind::JammingBarrage => median(&rise),
            // Sweeps and pulses: how far the max-hold rose where the jammer was.
            _ => median(
                &self
                    .prev_visited
                    .iter()
                    .map(|&b| frame.max_dbfs[b] - view.baseline.maxhold_p99_dbfs[b])
                    .collect::<Vec<_>>(),
            ),
        };
        let peak = (band.lo..=band.hi)
            .map(|b| frame.max_dbfs[b])
            .fold(f32::MIN, f32::max);
        // Between slow pulses nothing shows: the finding holds until the
        // next pulse is due.
        let hold_s = match (&kind, &slow_pulse) {
            (AlertKind::JammingPulsed, Some(p)) => 1.5 * p.period_s,
            _ => 0.0,
        };
        Some(Detection {
            kind,
            low_hz: view.bin_low_hz(band.lo),
            high_hz: view.bin_high_hz(band.hi),
            peak_dbfs: peak,
            excess_db: excess,
            snr_db: peak - view.baseline.noise_floor_dbfs,
            confidence: confidence_from_margin(excess - t.barrage_rise_db),
            details,
            hold_s,
            centroid_hz: None,
        })
    }

    /// Pulses too slow for one frame (a pulse a second): the fraction of the
    /// band raised, frame after frame over [`SLOW_PULSE_WINDOW_S`], switching
    /// on and off regularly.
    fn slow_pulse(&mut self, frame: &crate::dsp::PsdFrame, activity: f32) -> Option<Pulse> {
        let frame_s = frame.sample_count as f64 / frame.sample_rate;
        let keep = (SLOW_PULSE_WINDOW_S / frame_s).ceil() as usize;
        if self.activity_next != Some(frame.start_sample) {
            self.activity.clear();
        }
        self.activity_next = Some(frame.end_sample());
        self.activity.push_back(10.0 * (activity + 0.01).log10());
        while self.activity.len() > keep {
            self.activity.pop_front();
        }
        let pattern = on_off_pattern(
            self.activity.make_contiguous(),
            SLOW_PULSE_CONTRAST_DB,
            MIN_PULSE_CORRELATION,
        )?;
        (pattern.period >= 2).then_some(Pulse {
            duty: pattern.duty,
            period_s: pattern.period as f64 * frame_s,
            contrast_db: pattern.contrast_db,
        })
    }

    /// Keep the frame's max-hold and refresh the per-bin max over the window.
    fn remember_maxhold(&mut self, frame: &crate::dsp::PsdFrame) {
        let window = (SWEEP_WINDOW_S * frame.sample_rate) as u64;
        let end = frame.end_sample();
        let stale =
            |&(e, ref m): &(u64, Vec<f32>)| e + window <= end || m.len() != frame.bins() || e > end;
        while self.maxholds.front().is_some_and(stale) {
            self.maxholds.pop_front();
        }
        self.maxholds.push_back((end, frame.max_dbfs.clone()));
        self.window_max.clear();
        self.window_max.extend_from_slice(&frame.max_dbfs);
        for (_, m) in &self.maxholds {
            for (w, v) in self.window_max.iter_mut().zip(m) {
                *w = w.max(*v);
            }
        }
    }

    /// An on/off pattern in recent FFT segment powers, if there is one.
    fn pulse_pattern(&mut self, view: &FrameView) -> Option<Pulse> {
        let powers = self.powers.make_contiguous();
        let pattern = on_off_pattern(
            powers,
            view.thresholds.pulsed_contrast_db,
            MIN_PULSE_CORRELATION,
        )?;
        let frame = view.frame;
        let hop_s = frame.sample_count as f64
            / frame.fft_power_dbfs.len().max(1) as f64
            / frame.sample_rate;
        Some(Pulse {
            duty: pattern.duty,
            period_s: pattern.period as f64 * hop_s,
            contrast_db: pattern.contrast_db,
        })
    }
}

struct Pulse {
    duty: f32,
    period_s: f64,
    contrast_db: f32,
}

/// The raised span of the band, or `None` when too little of it is raised;
/// `activity` gets the fraction of open bins whose average is raised either way.
fn raised_band(
    view: &FrameView,
    open_bins: &[usize],
    window_max: &[f32],
    activity: &mut f32,
) -> Option<RaisedBand> {
    let t = view.thresholds;
    let f = view.frame;
    let base = view.baseline;
    let bins = view.bins();
    let mut mean_hot = vec![false; bins];
    let mut max_hot = vec![false; bins];
    for &b in open_bins {
        let relief = view.bonus(b);
        mean_hot[b] = f.mean_dbfs[b] - base.floor_dbfs[b] >= t.barrage_rise_db - relief
            && f.mean_dbfs[b] >= base.p99_dbfs[b] + 0.5 * t.emitter_margin_db;
        max_hot[b] = window_max[b] >= base.maxhold_p99_dbfs[b] + MAXHOLD_MARGIN_DB - relief;
    }
    let open = open_bins.len().max(1) as f32;
    let mean_fraction = mean_hot.iter().filter(|&&x| x).count() as f32 / open;
    *activity = mean_fraction;
    // Well clear of what one frame's average of noise wanders by.
    let k = f.fft_power_dbfs.len().max(1) as f32;
    let lifted_db = LIFTED_DB.max(2.0 * 4.34 / k.sqrt());
    let lifted_fraction = open_bins
        .iter()
        .filter(|&&b| f.mean_dbfs[b] - base.floor_dbfs[b] >= lifted_db)
        .count() as f32
        / open;
    let max_fraction = max_hot.iter().filter(|&&x| x).count() as f32 / open;
    let protected_hit = view.profile.protected.iter().any(|p| {
        let in_band: Vec<usize> = open_bins
            .iter()
            .copied()
            .filter(|&b| f.bin_hz(b) >= p.low_hz && f.bin_hz(b) <= p.high_hz)
            .collect();
        in_band.len() >= 4
            && in_band.iter().filter(|&&b| mean_hot[b]).count() * 10 >= in_band.len() * 8
    });
    if mean_fraction < t.barrage_min_fraction
        && max_fraction < t.swept_min_span_fraction
        && !protected_hit
    {
        tracing::trace!(
            "wideband t={} quiet: raised={:.2}/{:.2}",
            f.start_sample,
            mean_fraction,
            max_fraction
        );
        return None;
    }
    // Runs are found over the open bins only, so a known emitter inside the
    // jammed band neither splits it nor cuts it short.
    let hot: Vec<bool> = open_bins
        .iter()
        .map(|&b| mean_hot[b] || max_hot[b])
        .collect();
    // The substantial runs (ignore isolated bins), grouped where they lie
    // close together; the jammer is the group holding the most raised
    // bins (another signal raised far away does not stretch its span).
    let min_run = (bins / 200).max(3);
    let big: Vec<(usize, usize)> = runs(&hot, (bins / 100).max(2))
        .into_iter()
        .filter(|(lo, hi)| hi - lo + 1 >= min_run)
        .collect();
    let bridge = (bins / GROUP_GAP_DIVISOR).max(2);
    let mut groups: Vec<(usize, usize, usize)> = Vec::new();
    for &(a, z) in &big {
        let size = z - a + 1;
        match groups.last_mut() {
            Some(g) if a <= g.1 + bridge => {
                g.1 = z;
                g.2 += size;
            }
            _ => groups.push((a, z, size)),
        }
    }
    let &(first, last, _) = groups.iter().max_by_key(|g| g.2)?;
    let (lo, hi) = (open_bins[first], open_bins[last]);
    Some(RaisedBand {
        lo,
        hi,
        mean_fraction,
        max_fraction,
        lifted_fraction,
        protected_hit,
    })
}

/// Median over `bins` of (max-hold − average), dB.
fn max_minus_mean(view: &FrameView, bins: &[usize]) -> f32 {
    let d: Vec<f32> = bins
        .iter()
        .map(|&b| view.frame.max_dbfs[b] - view.frame.mean_dbfs[b])
        .collect();
    median(&d)
}

/// Whether the lit-up bins moved since the previous frame: little overlap
/// (Jaccard index below one half) between two non-trivial sets.
fn moved(previous: &[usize], current: &[usize]) -> bool {
    if previous.len() < 3 || current.len() < 3 {
        return false;
    }
    let common = current
        .iter()
        .filter(|b| previous.binary_search(b).is_ok())
        .count();
    let union = previous.len() + current.len() - common;
    2 * common < union
}

/// Spread between the loud and quiet FFT segments, dB: p90 − p10 of their
/// powers, or the loudest over the median when few segments are loud (the
/// first pulse of a slow pulsed jammer, on for a few FFTs of the frame).
fn contrast_db(powers: &[f32]) -> f32 {
    if powers.len() < 4 {
        return 0.0;
    }
    let mut p = powers.to_vec();
    p.sort_by(f32::total_cmp);
    let n = p.len();
    (p[n * 9 / 10] - p[n / 10]).max(p[n - 1] - p[n / 2])
}

/// What (max-hold − average) typically is for Gaussian noise averaged over
/// `k` FFT segments: the mean of the largest of `k` exponential variables is
/// the harmonic number H(k) times their mean.
fn noise_spread_db(k: usize) -> f32 {
    let h: f64 = (1..=k.max(1)).map(|i| 1.0 / i as f64).sum();
    (10.0 * h.log10()) as f32
}

/// Spectral flatness (geometric / arithmetic mean) of linear rises, 0–1.
fn flatness(rise_db: &[f32]) -> f32 {
    if rise_db.is_empty() {
        return 0.0;
    }
    let lin: Vec<f64> = rise_db
        .iter()
        .map(|&r| 10f64.powf(r.max(-30.0) as f64 / 10.0))
        .collect();
    let am = lin.iter().sum::<f64>() / lin.len() as f64;
    let gm = (lin.iter().map(|x| x.ln()).sum::<f64>() / lin.len() as f64).exp();
    (gm / am) as f32
}

fn round3(x: f64) -> f64 {
    (x * 1e3).round() / 1e3
}

fn round2(x: f32) -> f32 {
    (x * 100.0).round() / 100.0
}
