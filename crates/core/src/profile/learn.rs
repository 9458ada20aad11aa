//! Learning a baseline: per-bin statistics of the averaged spectrum over a
//! learning period, the known emitters found in them, and merging a new
//! learning run into an existing profile.
//!
//! Statistics come from per-bin histograms of the frame levels (0.1 dB steps
//! for ordinary FFT sizes, coarser for very large ones so memory stays under
//! ~64 MB), so percentiles are exact to the step whatever the duration.

use super::{CaptureSettings, Emitter, EmitterSource, Profile, Segment, Site, Thresholds, FORMAT};
use crate::dsp::psd::{bin_hz, FLOOR_DBFS};
use crate::dsp::PsdFrame;

const HIST_MAX_DBFS: f32 = 40.0;
const HIST_MEMORY_BYTES: usize = 64 << 20;

/// A histogram per bin of dB levels.
struct BinHistograms {
    bins: usize,
    step: f32,
    levels: usize,
    counts: Vec<u32>,
}

impl BinHistograms {
    fn new(bins: usize, step: f32) -> Self {
        let levels = ((HIST_MAX_DBFS - FLOOR_DBFS) / step).ceil() as usize + 1;
        BinHistograms {
            bins,
            step,
            levels,
            counts: vec![0; bins * levels],
        }
    }

    #[inline]
    fn level_index(&self, db: f32) -> usize {
        (((db - FLOOR_DBFS) / self.step).round().max(0.0) as usize).min(self.levels - 1)
    }

    fn add(&mut self, values: &[f32]) {
        for (b, &v) in values.iter().enumerate() {
            let idx = self.level_index(v);
            self.counts[b * self.levels + idx] += 1;
        }
    }

    fn row(&self, bin: usize) -> &[u32] {
        &self.counts[bin * self.levels..(bin + 1) * self.levels]
    }

    fn level_db(&self, idx: usize) -> f32 {
        FLOOR_DBFS + idx as f32 * self.step
    }

    /// The `q` quantile (0–1) of bin `bin`, given `n` samples.
    fn quantile(&self, bin: usize, q: f64, n: u64) -> f32 {
        let target = ((q * n as f64).ceil() as u64).max(1);
        let mut acc = 0u64;
        for (i, &c) in self.row(bin).iter().enumerate() {
            acc += c as u64;
            if acc >= target {
                return self.level_db(i);
            }
        }
        self.level_db(self.levels - 1)
    }

    fn max(&self, bin: usize) -> f32 {
        let row = self.row(bin);
        row.iter()
            .rposition(|&c| c > 0)
            .map(|i| self.level_db(i))
            .unwrap_or(FLOOR_DBFS)
    }

    /// Fraction of the `n` samples of `bin` strictly above `level`.
    fn fraction_above(&self, bin: usize, level: f32, n: u64) -> f32 {
        let from = self.level_index(level) + 1;
        let above: u64 = self.row(bin)[from.min(self.levels)..]
            .iter()
            .map(|&c| c as u64)
            .sum();
        above as f32 / n.max(1) as f32
    }
}

/// Accumulates the frames of one tuning.
struct SegmentLearner {
    center_hz: f64,
    sample_rate: f64,
    frames: u64,
    mean: BinHistograms,
    maxhold: BinHistograms,
    total_power: BinHistograms,
    total_power_count: u64,
    clipped_fraction_max: f32,
}

impl SegmentLearner {
    fn new(center_hz: f64, sample_rate: f64, bins: usize) -> Self {
        let per_level = ((HIST_MAX_DBFS - FLOOR_DBFS) / 0.1) as usize;
        let bytes_at_tenth = 2 * bins * per_level * 4;
        let step = (0.1 * bytes_at_tenth as f32 / HIST_MEMORY_BYTES as f32).max(0.1);
        SegmentLearner {
            center_hz,
            sample_rate,
            frames: 0,
            mean: BinHistograms::new(bins, step),
            maxhold: BinHistograms::new(bins, step),
            total_power: BinHistograms::new(1, 0.1),
            total_power_count: 0,
            clipped_fraction_max: 0.0,
        }
    }

    fn add(&mut self, frame: &PsdFrame) {
        self.frames += 1;
        let clipped = frame.clipped as f32 / frame.sample_count.max(1) as f32;
        self.clipped_fraction_max = self.clipped_fraction_max.max(clipped);
        self.mean.add(&frame.mean_dbfs);
        self.maxhold.add(&frame.max_dbfs);
        for &p in &frame.fft_power_dbfs {
            self.total_power.add(&[p]);
            self.total_power_count += 1;
        }
    }

    fn finish(&self, occupancy_margin_db: f32) -> Segment {
        let n = self.frames;
        let bins = self.mean.bins;
        let per_bin = |f: &dyn Fn(usize) -> f32| -> Vec<f32> { (0..bins).map(f).collect() };
        let floor = per_bin(&|b| self.mean.quantile(b, 0.5, n));
        let noise_floor = median(&floor);
        Segment {
            center_hz: self.center_hz,
            dwell_s: 0.0,
            frames: n,
            p95_dbfs: per_bin(&|b| self.mean.quantile(b, 0.95, n)),
            p99_dbfs: per_bin(&|b| self.mean.quantile(b, 0.99, n)),
            max_dbfs: per_bin(&|b| self.mean.max(b)),
            maxhold_p99_dbfs: per_bin(&|b| self.maxhold.quantile(b, 0.99, n)),
            occupancy: per_bin(&|b| {
                self.mean
                    .fraction_above(b, noise_floor + occupancy_margin_db, n)
            }),
            total_power_dbfs: self.total_power.quantile(0, 0.5, self.total_power_count),
            total_power_p01_dbfs: self.total_power.quantile(0, 0.01, self.total_power_count),
            clipped_fraction_max: self.clipped_fraction_max,
            noise_floor_dbfs: noise_floor,
            floor_dbfs: floor,
        }
    }
}

/// The median of `values` (0 for none).
pub fn median(values: &[f32]) -> f32 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    let mid = v.len() / 2;
    *v.select_nth_unstable_by(mid, f32::total_cmp).1
}

/// Builds a profile from PSD frames.
pub struct Learner {
    capture: CaptureSettings,
    segments: Vec<SegmentLearner>,
    thresholds: Thresholds,
}

impl Learner {
    /// A learner for frames made with `capture` settings, using `thresholds`
    /// (only `occupancy_margin_db` matters for learning).
    pub fn new(capture: CaptureSettings, thresholds: Thresholds) -> Self {
        Learner {
            capture,
            segments: Vec::new(),
            thresholds,
        }
    }

    /// Frames seen so far.
    pub fn frames(&self) -> u64 {
        self.segments.iter().map(|s| s.frames).sum()
    }

    /// Add one frame.
    pub fn add(&mut self, frame: &PsdFrame) {
        let idx = match self
            .segments
            .iter()
            .position(|s| (s.center_hz - frame.center_hz).abs() < 1.0)
        {
            Some(i) => i,
            None => {
                self.segments.push(SegmentLearner::new(
                    frame.center_hz,
                    frame.sample_rate,
                    frame.bins(),
                ));
                self.segments.len() - 1
            }
        };
        self.segments[idx].add(frame);
    }

    /// The learned profile for `site` (statistics plus the emitters found in them).
    pub fn finish(&self, site: Site) -> Profile {
        let margin = self.thresholds.occupancy_margin_db;
        let segments: Vec<Segment> = self.segments.iter().map(|s| s.finish(margin)).collect();
        let mut emitters = Vec::new();
        for (seg, learner) in segments.iter().zip(&self.segments) {
            emitters.extend(find_emitters(seg, learner.sample_rate, margin));
        }
        Profile {
            format: FORMAT,
            site,
            capture: self.capture.clone(),
            thresholds: self.thresholds.clone(),
            protected: Vec::new(),
            emitters,
            device: None,
            calibration: None,
            custody: None,
            segments,
        }
    }
}

/// Known emitters in a learned segment: runs of bins that stand clearly above
/// the band's noise, in their median (continuous emitters), their p99 (bursty
/// ones) or their maximum (rare ones), each judged against how far pure noise
/// reaches at that statistic in this band.
pub fn find_emitters(seg: &Segment, sample_rate: f64, margin_db: f32) -> Vec<Emitter> {
    let bins = seg.floor_dbfs.len();
    let nf = seg.noise_floor_dbfs;
    let spread = |stat: &[f32]| {
        median(
            &stat
                .iter()
                .zip(&seg.floor_dbfs)
                .map(|(s, f)| s - f)
                .collect::<Vec<_>>(),
        )
    };
    let spread99 = spread(&seg.p99_dbfs);
    let spread_max = spread(&seg.max_dbfs);
    let active: Vec<bool> = (0..bins)
        .map(|b| {
            seg.floor_dbfs[b] >= nf + margin_db
                || seg.p99_dbfs[b] >= nf + spread99 + margin_db
                || seg.max_dbfs[b] >= nf + spread_max + margin_db
        })
        .collect();
    let bin_width = sample_rate / bins as f64;
    let dc = bins / 2;
    let duty_of = |lo: usize, hi: usize| {
        seg.occupancy[lo..=hi]
            .iter()
            .copied()
            .fold(0.0f32, f32::max)
    };
    let pieces: Vec<(usize, usize)> = runs(&active, (bins / 256).max(2))
        .into_iter()
        // The receiver's own DC offset spur is not a transmitter.
        .filter(|&(lo, hi)| !(lo + 3 >= dc && hi <= dc + 3))
        .collect();
    // Lobes of one transmitter (an FSK sensor's two tones) sit close together
    // and are on at the same rate: join neighbours whose gap is no wider than
    // twice the wider of them and whose duty matches.
    let mut joined: Vec<(usize, usize)> = Vec::new();
    for (lo, hi) in pieces {
        if let Some(last) = joined.last_mut() {
            let gap = lo - last.1;
            let widest = (last.1 - last.0 + 1).max(hi - lo + 1);
            let (da, db) = (duty_of(last.0, last.1), duty_of(lo, hi));
            if gap <= 2 * widest && (da - db).abs() <= 0.1 * da.max(db) + 0.02 {
                last.1 = hi;
                continue;
            }
        }
        joined.push((lo, hi));
    }
    joined
        .into_iter()
        .map(|(lo, hi)| {
            let range = lo..=hi;
            let peak = seg.max_dbfs[range.clone()]
                .iter()
                .copied()
                .fold(f32::MIN, f32::max);
            let power = seg.p95_dbfs[range.clone()]
                .iter()
                .copied()
                .fold(f32::MIN, f32::max);
            let duty = seg.occupancy[range].iter().copied().fold(0.0, f32::max);
            // One bin of margin on each side: the emitter's skirts.
            let low_hz = bin_hz(seg.center_hz, sample_rate, bins, lo) - 1.5 * bin_width;
            let high_hz = bin_hz(seg.center_hz, sample_rate, bins, hi) + 1.5 * bin_width;
            Emitter {
                name: format!("learned {:.4} MHz", 0.5 * (low_hz + high_hz) / 1e6),
                low_hz,
                high_hz,
                peak_dbfs: round2(peak),
                power_dbfs: round2(power),
                duty: round2(duty),
                source: EmitterSource::Learned,
            }
        })
        .collect()
}

/// Runs of `true` as inclusive (first, last) index pairs, bridging gaps of up to `max_gap`.
pub fn runs(active: &[bool], max_gap: usize) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (i, &on) in active.iter().enumerate() {
        if !on {
            continue;
        }
        match out.last_mut() {
            Some((_, hi)) if i - *hi <= max_gap + 1 => *hi = i,
            _ => out.push((i, i)),
        }
    }
    out
}

fn round2(x: f32) -> f32 {
    (x * 100.0).round() / 100.0
}

/// The capture settings that differ between a profile (`old`) and this run
/// (`new`), as `field: profile's value, this run's value` in profile terms.
fn capture_differences(old: &CaptureSettings, new: &CaptureSettings) -> Vec<String> {
    let (a, b) = (&old.psd, &new.psd);
    let mut out = Vec::new();
    let mut differ = |field: &str, old: String, new: String| {
        if old != new {
            out.push(format!("{field}: {old} in the profile, {new} now"));
        }
    };
    differ(
        "sample_rate",
        old.sample_rate.to_string(),
        new.sample_rate.to_string(),
    );
    differ("fft_size", a.fft_size.to_string(), b.fft_size.to_string());
    differ("window", a.window.to_string(), b.window.to_string());
    differ("overlap", a.overlap.to_string(), b.overlap.to_string());
    differ(
        "integration_s",
        a.integration_s.to_string(),
        b.integration_s.to_string(),
    );
    differ(
        "dc",
        format!("{:?}", a.dc).to_lowercase(),
        format!("{:?}", b.dc).to_lowercase(),
    );
    out
}

/// Merge a newly learned profile into an existing one of the same site and
/// settings: statistics are combined weighted by frame count (maxima by max),
/// emitters re-derived from the merged statistics, and hand-written parts
/// (site text, protected bands, thresholds, manual emitters) kept.
pub fn merge(existing: &Profile, new: &Profile) -> crate::Result<Profile> {
    use crate::Error;
    let differences = capture_differences(&existing.capture, &new.capture);
    if !differences.is_empty() {
        return Err(Error::MergeCapture {
            profile: existing.site.name.clone(),
            differences,
        });
    }
    let mut merged = existing.clone();
    for seg in &new.segments {
        match merged
            .segments
            .iter_mut()
            .find(|s| (s.center_hz - seg.center_hz).abs() < 1.0)
        {
            Some(old) => merge_segment(old, seg),
            None => merged.segments.push(seg.clone()),
        }
    }
    let margin = merged.thresholds.occupancy_margin_db;
    let mut emitters: Vec<Emitter> = merged
        .emitters
        .iter()
        .filter(|e| e.source == EmitterSource::Manual)
        .cloned()
        .collect();
    for seg in &merged.segments {
        emitters.extend(find_emitters(seg, merged.capture.sample_rate, margin));
    }
    merged.emitters = emitters;
    let mut sources = existing.site.sources.clone();
    for s in &new.site.sources {
        if !sources.contains(s) {
            sources.push(s.clone());
        }
    }
    merged.site.sources = sources;
    merged.site.learned_at = new.site.learned_at.clone();
    merged.site.learned_by = new.site.learned_by.clone();
    merged.site.tool_version = new.site.tool_version.clone();
    Ok(merged)
}

fn merge_segment(old: &mut Segment, new: &Segment) {
    let (wa, wb) = (old.frames as f32, new.frames as f32);
    let total = (wa + wb).max(1.0);
    let blend = |a: &mut Vec<f32>, b: &[f32]| {
        for (x, y) in a.iter_mut().zip(b) {
            *x = (*x * wa + y * wb) / total;
        }
    };
    blend(&mut old.floor_dbfs, &new.floor_dbfs);
    blend(&mut old.p95_dbfs, &new.p95_dbfs);
    blend(&mut old.p99_dbfs, &new.p99_dbfs);
    blend(&mut old.maxhold_p99_dbfs, &new.maxhold_p99_dbfs);
    blend(&mut old.occupancy, &new.occupancy);
    for (x, y) in old.max_dbfs.iter_mut().zip(&new.max_dbfs) {
        *x = x.max(*y);
    }
    old.total_power_dbfs = (old.total_power_dbfs * wa + new.total_power_dbfs * wb) / total;
    old.total_power_p01_dbfs = old.total_power_p01_dbfs.min(new.total_power_p01_dbfs);
    old.clipped_fraction_max = old.clipped_fraction_max.max(new.clipped_fraction_max);
    old.noise_floor_dbfs = median(&old.floor_dbfs);
    old.frames += new.frames;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles_are_exact_to_the_step() {
        let mut h = BinHistograms::new(1, 0.1);
        for i in 0..100 {
            h.add(&[-50.0 + i as f32 * 0.1]);
        }
        assert!((h.quantile(0, 0.5, 100) - (-45.1)).abs() < 0.051);
        assert!((h.quantile(0, 0.99, 100) - (-40.2)).abs() < 0.051);
        assert!((h.max(0) - (-40.1)).abs() < 0.051);
        assert!((h.fraction_above(0, -41.0, 100) - 0.09).abs() < 1e-6);
    }

    #[test]
    fn runs_bridge_small_gaps() {
        let a = [
            false, true, true, false, false, true, false, false, false, false, true,
        ];
        assert_eq!(runs(&a, 2), vec![(1, 5), (10, 10)]);
        assert_eq!(runs(&a, 0), vec![(1, 2), (5, 5), (10, 10)]);
    }
}
