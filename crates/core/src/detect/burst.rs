//! Bursts: a rogue transmitter that sends a few milliseconds every few
//! seconds is diluted to nothing in a 50 ms average, but its bins' max-hold
//! (the loudest FFT of the frame) stands far above what the baseline's
//! max-hold ever reached there. A burst is a run of such bins outside known
//! emitters; once it has ended (short: at most [`MAX_BURST_S`]), it is
//! reported as an unknown emitter that *holds* ([`Detection::hold_s`]) until
//! its next burst is due — so a transmitter bursting every few seconds is
//! one alert while it keeps bursting, and its repetition interval is told.

use super::view::FrameView;
use super::{confidence_from_margin, Centroid, Detection};
use crate::alert::AlertKind;
use crate::profile::learn::runs;
use serde_json::json;

/// A bin's max-hold over the baseline's max-hold p99 to count as hit, dB.
/// (Gaussian noise passes it in ~1 bin-frame in 10⁶.)
const HIT_DB: f32 = 3.0;
/// A burst's peak must stand this far over the baseline's max-hold p99, dB;
/// one a bin or two wide needs [`LONE_BIN_DB`].
const PEAK_DB: f32 = 7.0;
const LONE_BIN_DB: f32 = 10.0;
/// Longest on-time that still counts as a burst (longer ones are emitters
/// the average shows), seconds.
pub const MAX_BURST_S: f64 = 0.2;
/// Least max-hold over average at a burst's peak, dB: a 10 ms burst in a
/// 50 ms frame stands 7 dB over its average, a steady carrier far less.
const BURSTY_DB: f32 = 6.0;
/// Longest repetition interval that makes bursts the average saw too one
/// transmitter (a packet radio); beyond it they are separate transmissions.
const AVERAGED_MAX_INTERVAL_S: f64 = 10.0;
/// Widest a burst may be, as a fraction of the band.
const MAX_WIDTH_FRACTION: f32 = 0.1;
/// Seconds within which another burster's activity makes a first burst
/// part of a pattern (a hopper), not a lone transmission.
const LONE_WITHIN_S: f64 = 0.5;
/// How long a lone burst's finding holds: the longest repetition interval
/// watched for, seconds.
const FIRST_HOLD_S: f64 = 12.0;

/// Whether the raise at `lo..=hi` (peaking at `peak_dbfs`) is the skirt of
/// a far stronger signal right beside it (within twice its own width, at
/// least 16 bins): [`SKIRT_DB`] louder.
pub fn is_skirt(level: &[f32], lo: usize, hi: usize, peak_dbfs: f32) -> bool {
    let reach = (2 * (hi - lo + 1)).max(16);
    let beside = level[lo.saturating_sub(reach)..lo]
        .iter()
        .chain(&level[(hi + 1).min(level.len())..(hi + 1 + reach).min(level.len())]);
    beside.copied().fold(f32::MIN, f32::max) >= peak_dbfs + SKIRT_DB
}

/// How much louder a neighbour must be for a raise to be its skirt, dB.
pub const SKIRT_DB: f32 = 10.0;

/// A transmitter seen bursting at one frequency.
#[derive(Debug, Clone)]
struct Burster {
    low_hz: f64,
    high_hz: f64,
    peak_dbfs: f32,
    excess_db: f32,
    /// Power centroid (Hz) of the current burst's max-hold over its frames.
    centroid: Centroid,
    /// First sample of the frame where the current burst began, if on.
    on_since: Option<u64>,
    /// Whether a frame of the current burst held its energy in a few FFTs.
    bursty: bool,
    /// Whether the average showed the current burst too.
    averaged: bool,
    /// End of the last frame that showed it.
    last_seen: u64,
    /// Start of the previous burst.
    previous_start: Option<u64>,
    /// Seconds between its last two bursts.
    interval_s: Option<f64>,
    bursts: u32,
}

/// Per-segment state of the burst detector.
#[derive(Debug, Default)]
pub struct BurstDetector {
    bursters: Vec<Burster>,
}

impl BurstDetector {
    /// Look for bursts in `view`, away from the bands in `elsewhere` (what a
    /// wideband jammer covers). Reports each burst once it has ended.
    /// `averaged` are the bands the average itself shows this frame: a
    /// burst the average saw too is held only once its repetition is known.
    /// `gain_db` is the receiver's gain drift against the baseline and
    /// `lasting_db` how far each bin's long average stands over its floor
    /// (empty when unknown): a raised floor lifts the max-hold too.
    pub fn detect(
        &mut self,
        view: &FrameView,
        gain_db: f32,
        lasting_db: &[f32],
        elsewhere: &[(f64, f64)],
        averaged: &[(f64, f64)],
    ) -> Vec<Detection> {
        let frame = view.frame;
        let base = view.baseline;
        let bins = frame.bins();
        // A raised floor lifts the max-hold too; not so a signal the average
        // shows right now (it would seem to end when the long average catches up).
        let shown = |b: usize| {
            let f = frame.bin_hz(b);
            averaged.iter().any(|&(l, h)| f >= l && f <= h)
        };
        let over: Vec<f32> = (0..bins)
            .map(|b| {
                let lasting = match lasting_db.get(b) {
                    Some(&r) if !shown(b) => r.max(0.0),
                    _ => 0.0,
                };
                frame.max_dbfs[b]
                    - gain_db
                    - lasting
                    - base.maxhold_p99_dbfs[b]
                    - view.masks.extra_spread_db[b]
            })
            .collect();
        let hit: Vec<bool> = (0..bins)
            .map(|b| view.masks.known[b].is_none() && b.abs_diff(bins / 2) > 1 && over[b] >= HIT_DB)
            .collect();
        let tolerance = 3.0 * frame.bin_width_hz();
        let end = frame.end_sample();
        for (lo, hi) in runs(&hit, (bins / 128).max(1)) {
            let peak_bin = (lo..=hi)
                .max_by(|&a, &b| over[a].total_cmp(&over[b]))
                .expect("a run is not empty");
            let peak = over[peak_bin];
            // A burst a bin or two wide must stand out more: two adjacent
            // noise bins past the first bar happen now and then.
            let lone = hi - lo < 2;
            // A burst puts its energy in a few FFTs of the frame; a steady
            // signal's max-hold stays near its average.
            let bursty = frame.max_dbfs[peak_bin] - frame.mean_dbfs[peak_bin] >= BURSTY_DB;
            if (hi - lo + 1) as f32 > MAX_WIDTH_FRACTION * bins as f32 {
                // Wideband pulses are the wideband detector's.
                continue;
            }
            if peak < if lone { LONE_BIN_DB } else { PEAK_DB } {
                continue;
            }
            let (low_hz, high_hz) = (view.bin_low_hz(lo), view.bin_high_hz(hi));
            if elsewhere.iter().any(|&(l, h)| low_hz <= h && high_hz >= l)
                || view.is_image(&frame.max_dbfs, lo, hi, peak_bin)
            {
                continue;
            }
            // Each bin weighs its max-hold's power over what the baseline's reached.
            let centroid =
                Centroid::of_bins(&frame.max_dbfs, lo, hi, |b| frame.max_dbfs[b] - over[b])
                    .map(|bin| view.position_hz(bin));
            let seen = averaged.iter().any(|&(l, h)| low_hz <= h && high_hz >= l);
            let peak_dbfs = frame.max_dbfs[peak_bin];
            if is_skirt(&frame.max_dbfs, lo, hi, peak_dbfs) {
                continue;
            }
            // What lights up next to where a burster was is that signal
            // moving on (a slow sweep), not a new burst.
            let near = |b: &&mut Burster| {
                let reach = tolerance.max(b.high_hz - b.low_hz);
                low_hz <= b.high_hz + reach && high_hz >= b.low_hz - reach
            };
            match self.bursters.iter_mut().find(|b| near(b)) {
                Some(b) => {
                    if b.on_since.is_none() {
                        b.on_since = Some(frame.start_sample);
                        b.bursty = bursty;
                        b.averaged = seen;
                        b.low_hz = low_hz;
                        b.high_hz = high_hz;
                        b.peak_dbfs = peak_dbfs;
                        b.excess_db = peak;
                        b.centroid = centroid;
                    } else {
                        b.bursty |= bursty;
                        b.averaged |= seen;
                        b.low_hz = b.low_hz.min(low_hz);
                        b.high_hz = b.high_hz.max(high_hz);
                        b.peak_dbfs = b.peak_dbfs.max(peak_dbfs);
                        b.excess_db = b.excess_db.max(peak);
                        b.centroid.merge(&centroid);
                    }
                    b.last_seen = end;
                }
                None => self.bursters.push(Burster {
                    low_hz,
                    high_hz,
                    peak_dbfs,
                    excess_db: peak,
                    centroid,
                    on_since: Some(frame.start_sample),
                    bursty,
                    averaged: seen,
                    last_seen: end,
                    previous_start: None,
                    interval_s: None,
                    bursts: 0,
                }),
            }
        }
        let rate = frame.sample_rate;
        let longest = (MAX_BURST_S * rate) as u64;
        let forget = (2.0 * FIRST_HOLD_S * rate) as u64;
        let mut out = Vec::new();
        // Bursters active of late, each with the end of its last showing:
        // one that ends beside others (a hopper's dwells) is not alone.
        let recent = (LONE_WITHIN_S * rate) as u64;
        let active: Vec<(f64, u64)> = self
            .bursters
            .iter()
            .filter(|b| b.last_seen + recent >= end)
            .map(|b| (b.low_hz, b.last_seen))
            .collect();
        for b in &mut self.bursters {
            let Some(since) = b.on_since else { continue };
            if b.last_seen == end {
                continue;
            }
            // It ended in the previous frame.
            b.on_since = None;
            if b.last_seen - since > longest || !b.bursty {
                // A signal that stayed on, or held steady, is the average's business.
                b.previous_start = None;
                b.interval_s = None;
                continue;
            }
            // A burst long after the last one starts afresh.
            b.interval_s = b
                .previous_start
                .map(|prev| (since - prev) as f64 / rate)
                .filter(|&i| i <= FIRST_HOLD_S);
            b.previous_start = Some(since);
            b.bursts += 1;
            // A burst only the max-hold shows holds until the next is due;
            // one the average showed (a hopper's dwell, a longer packet)
            // only once it has repeated.
            let hold_s = match b.interval_s {
                Some(i) if b.averaged && i > AVERAGED_MAX_INTERVAL_S => continue,
                Some(i) => (1.5 * i).clamp(1.0, FIRST_HOLD_S),
                // A first burst the average saw too is told at once only
                // when it is alone: a hopper's dwells come many together.
                None if b.averaged && active.iter().any(|&(low, _)| low != b.low_hz) => continue,
                None => FIRST_HOLD_S,
            };
            let mut details = serde_json::Map::new();
            details.insert("path".into(), json!("burst"));
            details.insert("bursts".into(), json!(b.bursts));
            details.insert("bandwidth_hz".into(), json!((b.high_hz - b.low_hz).round()));
            if let Some(i) = b.interval_s {
                details.insert("burst_interval_s".into(), json!((i * 1e3).round() / 1e3));
            }
            out.push(Detection {
                kind: AlertKind::EmitterUnknown,
                low_hz: b.low_hz,
                high_hz: b.high_hz,
                peak_dbfs: b.peak_dbfs,
                excess_db: b.excess_db,
                snr_db: b.excess_db,
                confidence: confidence_from_margin(b.excess_db - PEAK_DB),
                details,
                hold_s,
                centroid_hz: b.centroid.at(),
            });
        }
        self.bursters
            .retain(|b| b.on_since.is_some() || end.saturating_sub(b.last_seen) < forget);
        out
    }
}
