//! Time × frequency rows of one stream: the data behind every spectrogram.
//!
//! - [`SpectrumRow`]: one averaged spectrum over a span of samples.
//! - [`RowAccumulator`]: keeps a stream of any length in a bounded number of
//!   rows by merging adjacent rows (per-bin max, so short bursts survive) and
//!   doubling the merge factor whenever it is full.
//! - [`WaterfallHistory`]: the recent rows of one stream (bounded by seconds,
//!   rows and bytes), so a picture can show what happened *before* an alert.
//! - [`decimate_rows`]: group rows into at most N by per-bin max.

use crate::dsp::PsdFrame;
use serde::Deserialize;
use std::collections::VecDeque;

/// One averaged spectrum (dBFS per bin, lowest frequency first) over
/// `[start_sample, start_sample + sample_count)`.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectrumRow {
    pub start_sample: u64,
    pub sample_count: u64,
    pub dbfs: Vec<f32>,
}

impl SpectrumRow {
    /// The row of a PSD frame (its Welch mean).
    pub fn from_frame(frame: &PsdFrame) -> Self {
        SpectrumRow {
            start_sample: frame.start_sample,
            sample_count: frame.sample_count,
            dbfs: frame.mean_dbfs.clone(),
        }
    }

    /// Exclusive end sample.
    pub fn end_sample(&self) -> u64 {
        self.start_sample + self.sample_count
    }

    /// Widen this row to also cover `other`, keeping the per-bin max.
    /// NaN never wins over a number. Rows of different widths merge over
    /// their common bins.
    pub fn merge_max(&mut self, other: &SpectrumRow) {
        let start = self.start_sample.min(other.start_sample);
        let end = self.end_sample().max(other.end_sample());
        self.start_sample = start;
        self.sample_count = end - start;
        for (a, b) in self.dbfs.iter_mut().zip(&other.dbfs) {
            *a = a.max(*b);
        }
    }

    /// Mean linear power of bins `[lo, hi)` (clamped to the row), in dB;
    /// `None` when the range holds no finite value.
    pub fn band_power_db(&self, lo: usize, hi: usize) -> Option<f32> {
        let hi = hi.min(self.dbfs.len());
        let lo = lo.min(hi);
        let (sum, n) = self.dbfs[lo..hi]
            .iter()
            .filter(|v| v.is_finite())
            .fold((0.0f64, 0usize), |(s, n), &v| {
                (s + 10f64.powf(v as f64 / 10.0), n + 1)
            });
        (n > 0 && sum > 0.0).then(|| (10.0 * (sum / n as f64).log10()) as f32)
    }
}

/// Group consecutive rows into at most `max_rows` rows by per-bin max.
/// Returns copies; fewer rows than `max_rows` are returned unchanged.
pub fn decimate_rows(rows: &[SpectrumRow], max_rows: usize) -> Vec<SpectrumRow> {
    let max_rows = max_rows.max(1);
    if rows.len() <= max_rows {
        return rows.to_vec();
    }
    let group = rows.len().div_ceil(max_rows);
    rows.chunks(group)
        .map(|chunk| {
            let mut merged = chunk[0].clone();
            for r in &chunk[1..] {
                merged.merge_max(r);
            }
            merged
        })
        .collect()
}

/// A bounded, ever-coarser record of a stream of rows.
///
/// Each stored row covers `factor` input rows. When `capacity` rows are
/// stored, adjacent pairs merge and the factor doubles, so memory stays at
/// `capacity` rows for a stream of any length while the whole span is kept.
#[derive(Debug, Clone)]
pub struct RowAccumulator {
    capacity: usize,
    factor: u64,
    rows: Vec<SpectrumRow>,
    /// The row being built from fewer than `factor` inputs.
    pending: Option<SpectrumRow>,
    pending_inputs: u64,
    inputs: u64,
}

impl RowAccumulator {
    /// An accumulator keeping at most `capacity` rows (at least 2).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(2);
        RowAccumulator {
            capacity,
            factor: 1,
            rows: Vec::with_capacity(capacity),
            pending: None,
            pending_inputs: 0,
            inputs: 0,
        }
    }

    /// Add the next row (in time order).
    pub fn push(&mut self, row: &SpectrumRow) {
        self.inputs += 1;
        match &mut self.pending {
            Some(p) => p.merge_max(row),
            None => self.pending = Some(row.clone()),
        }
        self.pending_inputs += 1;
        if self.pending_inputs >= self.factor {
            self.commit_pending();
        }
    }

    fn commit_pending(&mut self) {
        if let Some(p) = self.pending.take() {
            self.rows.push(p);
            self.pending_inputs = 0;
        }
        if self.rows.len() >= self.capacity {
            self.halve();
        }
    }

    /// Merge adjacent pairs of stored rows and double the factor.
    fn halve(&mut self) {
        let mut merged = Vec::with_capacity(self.capacity);
        let mut it = std::mem::take(&mut self.rows).into_iter();
        while let Some(mut a) = it.next() {
            if let Some(b) = it.next() {
                a.merge_max(&b);
            }
            merged.push(a);
        }
        self.rows = merged;
        self.factor *= 2;
    }

    /// Input rows each stored row covers.
    pub fn factor(&self) -> u64 {
        self.factor
    }

    /// Rows pushed so far.
    pub fn inputs(&self) -> u64 {
        self.inputs
    }

    /// Rows stored (including the partly built one).
    pub fn len(&self) -> usize {
        self.rows.len() + self.pending.is_some() as usize
    }

    /// True before the first push.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The maximum number of stored rows.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bins per row (of the first stored row; 0 when empty).
    pub fn bins(&self) -> usize {
        self.rows
            .first()
            .or(self.pending.as_ref())
            .map_or(0, |r| r.dbfs.len())
    }

    /// Bytes held by row data (for memory-bound checks).
    pub fn heap_bytes(&self) -> usize {
        let row_bytes = |r: &SpectrumRow| r.dbfs.capacity() * std::mem::size_of::<f32>();
        self.rows.iter().map(row_bytes).sum::<usize>()
            + self.pending.as_ref().map_or(0, row_bytes)
            + self.rows.capacity() * std::mem::size_of::<SpectrumRow>()
    }

    /// The stored rows in time order, the partly built one last.
    pub fn rows(&self) -> impl Iterator<Item = &SpectrumRow> {
        self.rows.iter().chain(self.pending.iter())
    }

    /// The stored rows as an owned vector.
    pub fn to_rows(&self) -> Vec<SpectrumRow> {
        self.rows().cloned().collect()
    }
}

/// How much recent spectrum a [`WaterfallHistory`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HistoryLimits {
    /// Seconds of recent rows kept (the most context an alert picture can show before its start).
    pub seconds: f64,
    /// At most this many rows.
    pub max_rows: usize,
    /// At most this many bytes of row data.
    pub max_bytes: usize,
}

impl Default for HistoryLimits {
    fn default() -> Self {
        HistoryLimits {
            seconds: 10.0,
            max_rows: 2000,
            max_bytes: 64 << 20,
        }
    }
}

/// The recent rows of one stream (one tuning), oldest first.
#[derive(Debug)]
pub struct WaterfallHistory {
    limits: HistoryLimits,
    sample_rate: f64,
    rows: VecDeque<SpectrumRow>,
}

impl WaterfallHistory {
    /// An empty history of a stream at `sample_rate`.
    pub fn new(sample_rate: f64, limits: HistoryLimits) -> Self {
        WaterfallHistory {
            limits,
            sample_rate,
            rows: VecDeque::new(),
        }
    }

    /// Add a frame's spectrum. A frame that is not after the newest row, or
    /// has another bin count, restarts the history (the stream was rewound
    /// or retuned to other settings).
    pub fn push(&mut self, frame: &PsdFrame) {
        if let Some(last) = self.rows.back() {
            if frame.start_sample < last.start_sample || frame.mean_dbfs.len() != last.dbfs.len() {
                self.rows.clear();
            }
        }
        // Reuse the buffer of the row about to be evicted when there is one.
        let mut row = if self.would_evict_for(frame) {
            self.rows.pop_front().expect("non-empty")
        } else {
            SpectrumRow {
                start_sample: 0,
                sample_count: 0,
                dbfs: Vec::with_capacity(frame.mean_dbfs.len()),
            }
        };
        row.start_sample = frame.start_sample;
        row.sample_count = frame.sample_count;
        row.dbfs.clear();
        row.dbfs.extend_from_slice(&frame.mean_dbfs);
        self.rows.push_back(row);
        self.evict();
    }

    fn max_rows(&self, bins: usize) -> usize {
        let by_bytes = self.limits.max_bytes / (bins.max(1) * std::mem::size_of::<f32>());
        self.limits.max_rows.min(by_bytes).max(1)
    }

    fn would_evict_for(&self, frame: &PsdFrame) -> bool {
        self.rows.len() >= self.max_rows(frame.mean_dbfs.len())
    }

    fn evict(&mut self) {
        let Some(newest_end) = self.rows.back().map(SpectrumRow::end_sample) else {
            return;
        };
        let keep = (self.limits.seconds.max(0.0) * self.sample_rate) as u64;
        let max_rows = self.max_rows(self.rows.back().map_or(0, |r| r.dbfs.len()));
        while self.rows.len() > 1
            && (self.rows.len() > max_rows
                || newest_end.saturating_sub(self.rows[0].end_sample()) >= keep)
        {
            self.rows.pop_front();
        }
    }

    /// Rows kept now.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when no row is kept.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Samples per second of the stream.
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }

    /// The kept rows, oldest first.
    pub fn rows(&self) -> impl Iterator<Item = &SpectrumRow> {
        self.rows.iter()
    }

    /// Copies of the kept rows overlapping `[from_sample, to_sample)`,
    /// decimated to at most `max_rows` by per-bin max.
    pub fn rows_between(
        &self,
        from_sample: u64,
        to_sample: u64,
        max_rows: usize,
    ) -> Vec<SpectrumRow> {
        let overlapping: Vec<SpectrumRow> = self
            .rows
            .iter()
            .filter(|r| r.end_sample() > from_sample && r.start_sample < to_sample)
            .cloned()
            .collect();
        decimate_rows(&overlapping, max_rows)
    }
}

/// The row with the highest mean power in bins `[lo, hi)`, among `rows`.
pub fn strongest_row(rows: &[SpectrumRow], lo: usize, hi: usize) -> Option<&SpectrumRow> {
    rows.iter()
        .filter_map(|r| r.band_power_db(lo, hi).map(|p| (r, p)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(r, _)| r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(start: u64, value: f32) -> SpectrumRow {
        SpectrumRow {
            start_sample: start,
            sample_count: 10,
            dbfs: vec![value; 4],
        }
    }

    #[test]
    fn merge_keeps_max_and_span_and_ignores_nan() {
        let mut a = row(0, -50.0);
        let mut b = row(10, -40.0);
        b.dbfs[1] = f32::NAN;
        a.merge_max(&b);
        assert_eq!((a.start_sample, a.end_sample()), (0, 20));
        assert_eq!(a.dbfs, vec![-40.0, -50.0, -40.0, -40.0]);
    }

    #[test]
    fn decimation_bounds_rows_and_keeps_span() {
        let rows: Vec<_> = (0..1001).map(|i| row(i * 10, i as f32)).collect();
        let d = decimate_rows(&rows, 400);
        assert!(d.len() <= 400);
        assert_eq!(d[0].start_sample, 0);
        assert_eq!(d.last().unwrap().end_sample(), 10010);
        assert_eq!(d.last().unwrap().dbfs[0], 1000.0);
        assert!(decimate_rows(&[], 10).is_empty());
    }

    #[test]
    fn accumulator_stays_bounded_and_covers_everything() {
        let mut acc = RowAccumulator::new(8);
        for i in 0..1000 {
            acc.push(&row(i * 10, (i % 7) as f32));
            assert!(acc.len() <= 8);
        }
        let rows = acc.to_rows();
        assert_eq!(rows[0].start_sample, 0);
        assert_eq!(rows.last().unwrap().end_sample(), 10_000);
        assert!(rows
            .windows(2)
            .all(|w| w[0].end_sample() <= w[1].start_sample));
        assert!(rows.iter().all(|r| r.dbfs[0] == 6.0));
        assert_eq!(acc.inputs(), 1000);
    }

    #[test]
    fn strongest_row_picks_band_power() {
        let mut rows = vec![row(0, -60.0), row(10, -60.0), row(20, -60.0)];
        rows[1].dbfs[2] = -10.0;
        rows[2].dbfs[0] = 0.0;
        assert_eq!(strongest_row(&rows, 2, 3).unwrap().start_sample, 10);
        assert_eq!(strongest_row(&rows, 0, 1).unwrap().start_sample, 20);
        assert!(strongest_row(&rows, 5, 9).is_none());
    }

    fn frame(i: u64, bins: usize) -> PsdFrame {
        PsdFrame {
            segment: 0,
            start_sample: i * 100,
            sample_count: 100,
            center_hz: 0.0,
            sample_rate: 1000.0,
            mean_dbfs: vec![i as f32; bins],
            max_dbfs: Vec::new(),
            fft_power_dbfs: Vec::new(),
            clipped: 0,
            probe: Vec::new(),
        }
    }

    #[test]
    fn history_is_bounded_by_seconds_rows_and_bytes() {
        let by_time = HistoryLimits {
            seconds: 1.0,
            ..Default::default()
        };
        let mut h = WaterfallHistory::new(1000.0, by_time);
        for i in 0..100 {
            h.push(&frame(i, 8));
        }
        // 1 s at 1000 samples/s = 10 rows of 100 samples.
        assert_eq!(h.len(), 10);
        assert_eq!(h.rows().next().unwrap().start_sample, 9000);
        let by_bytes = HistoryLimits {
            max_bytes: 8 * 4 * 5,
            ..Default::default()
        };
        let mut h = WaterfallHistory::new(1000.0, by_bytes);
        for i in 0..100 {
            h.push(&frame(i, 8));
        }
        assert_eq!(h.len(), 5);
        let between = h.rows_between(9600, 9800, 1);
        assert_eq!(between.len(), 1);
        assert_eq!(
            (between[0].start_sample, between[0].end_sample()),
            (9600, 9800)
        );
        assert_eq!(between[0].dbfs[0], 97.0);
        // A rewound stream or other bin count starts afresh.
        h.push(&frame(3, 8));
        assert_eq!(h.len(), 1);
        h.push(&frame(4, 16));
        assert_eq!(h.len(), 1);
    }
}
