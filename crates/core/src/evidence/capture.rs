//! Per-alert spectrogram capture: which rows an alert picture shows.
//!
//! [`SpectrogramRecorder`] is fed every PSD frame and every alert event in
//! stream order. It keeps a [`WaterfallHistory`] per tuning (the seconds
//! before any alert), and from an alert's `raised` event until its `cleared`
//! event it records that alert's rows in a bounded [`RowAccumulator`]
//! (seeded with the pre-trigger history), together with the frame where the
//! alert's band was strongest. On `cleared` it hands back [`AlertRows`],
//! ready to be drawn with [`super::render_alert_png`].

use super::spectrogram::{AlertPicture, Baseline};
use super::waterfall::{HistoryLimits, RowAccumulator, SpectrumRow, WaterfallHistory};
use crate::alert::{AlertEvent, EventType};
use crate::dsp::psd::hz_to_bin;
use crate::dsp::PsdFrame;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Bounds of the spectrogram capture.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CaptureLimits {
    /// Recent spectrum kept per tuning.
    pub history: HistoryLimits,
    /// Seconds shown before an alert's start (at most `history.seconds`).
    pub pre_trigger_s: f64,
    /// Most rows per alert picture (longer alerts are merged by per-bin max).
    pub max_rows: usize,
    /// Most bytes of rows kept per open alert.
    pub max_bytes_per_alert: usize,
    /// Most alerts captured at once; more are drawn without a spectrogram (with a warning).
    pub max_open: usize,
}

impl Default for CaptureLimits {
    fn default() -> Self {
        CaptureLimits {
            history: HistoryLimits::default(),
            pre_trigger_s: 3.0,
            max_rows: 400,
            max_bytes_per_alert: 32 << 20,
            max_open: 64,
        }
    }
}

/// The rows of one finished alert, ready to draw.
#[derive(Debug, Clone)]
pub struct AlertRows {
    /// The alert's last event (its final time and frequency span).
    pub event: AlertEvent,
    /// Scan-plan segment (tuning index) the rows were measured at.
    pub segment: usize,
    pub center_hz: f64,
    pub sample_rate: f64,
    /// From `pre_trigger_s` before the alert to the last frame before it was cleared.
    pub rows: Vec<SpectrumRow>,
    /// The frame where the alert's band was strongest (empty when none was seen).
    pub psd: Vec<f32>,
}

impl AlertRows {
    /// The alert picture of these rows, with the site's baseline at `segment` when known.
    pub fn picture<'a>(
        &'a self,
        site: &'a str,
        baseline: Option<Baseline<'a>>,
    ) -> AlertPicture<'a> {
        AlertPicture {
            site,
            alert: &self.event,
            rows: &self.rows,
            sample_rate: self.sample_rate,
            center_hz: self.center_hz,
            baseline,
            psd: &self.psd,
            view_hz: None,
        }
    }
}

/// One tuning's recent rows.
struct Tuning {
    center_hz: f64,
    sample_rate: f64,
    history: WaterfallHistory,
}

/// An alert being captured.
struct OpenCapture {
    event: AlertEvent,
    segment: usize,
    rows: RowAccumulator,
    /// Band power (dB) and row of the strongest frame so far.
    strongest: Option<(f32, SpectrumRow)>,
}

impl OpenCapture {
    fn add(&mut self, row: &SpectrumRow, tuning: &Tuning) {
        self.rows.push(row);
        if row.end_sample() <= self.event.start_sample {
            return;
        }
        let (lo, hi) = band_bins(&self.event, tuning, row.dbfs.len());
        if let Some(power) = row.band_power_db(lo, hi) {
            if self
                .strongest
                .as_ref()
                .map_or(true, |(best, _)| power > *best)
            {
                self.strongest = Some((power, row.clone()));
            }
        }
    }

    fn finish(self, tuning: &Tuning) -> AlertRows {
        AlertRows {
            segment: self.segment,
            center_hz: tuning.center_hz,
            sample_rate: tuning.sample_rate,
            rows: self.rows.to_rows(),
            psd: self.strongest.map(|(_, r)| r.dbfs).unwrap_or_default(),
            event: self.event,
        }
    }
}

/// Bins `[lo, hi)` of the alert's band (at least one bin) in a row of `bins` bins.
fn band_bins(event: &AlertEvent, tuning: &Tuning, bins: usize) -> (usize, usize) {
    let to_bin = |hz: f64| hz_to_bin(tuning.center_hz, tuning.sample_rate, bins, hz) + 0.5;
    let (a, b) = (to_bin(event.freq_low_hz), to_bin(event.freq_high_hz));
    let (a, b) = if a <= b { (a, b) } else { (b, a) };
    if !(a.is_finite() && b.is_finite()) {
        return (0, bins);
    }
    let lo = (a.floor().max(0.0) as usize).min(bins.saturating_sub(1));
    let hi = (b.ceil().max(0.0) as usize).clamp(lo + 1, bins.max(lo + 1));
    (lo, hi)
}

/// Keeps the spectrum rows every alert picture needs.
pub struct SpectrogramRecorder {
    limits: CaptureLimits,
    tunings: BTreeMap<usize, Tuning>,
    open: BTreeMap<String, OpenCapture>,
}

impl SpectrogramRecorder {
    /// A recorder with `limits`.
    pub fn new(limits: CaptureLimits) -> Self {
        SpectrogramRecorder {
            limits,
            tunings: BTreeMap::new(),
            open: BTreeMap::new(),
        }
    }

    /// Feed the next PSD frame (of any tuning), in stream order.
    pub fn push_frame(&mut self, frame: &PsdFrame) {
        let limits = self.limits.history;
        let tuning = self.tunings.entry(frame.segment).or_insert_with(|| Tuning {
            center_hz: frame.center_hz,
            sample_rate: frame.sample_rate,
            history: WaterfallHistory::new(frame.sample_rate, limits),
        });
        if tuning.center_hz != frame.center_hz || tuning.sample_rate != frame.sample_rate {
            *tuning = Tuning {
                center_hz: frame.center_hz,
                sample_rate: frame.sample_rate,
                history: WaterfallHistory::new(frame.sample_rate, limits),
            };
        }
        tuning.history.push(frame);
        let mut row = None;
        for capture in self
            .open
            .values_mut()
            .filter(|c| c.segment == frame.segment)
        {
            let row = row.get_or_insert_with(|| SpectrumRow::from_frame(frame));
            capture.add(row, tuning);
        }
    }

    /// Feed an alert event, in stream order. Returns the alert's rows when it
    /// is `cleared`.
    pub fn on_alert(&mut self, event: &AlertEvent) -> Option<AlertRows> {
        match event.event {
            EventType::Raised => {
                self.open_capture(event);
                None
            }
            EventType::Updated => {
                if let Some(c) = self.open.get_mut(&event.id) {
                    c.event = event.clone();
                }
                None
            }
            EventType::Cleared => {
                let capture = match self.open.remove(&event.id) {
                    Some(mut c) => {
                        c.event = event.clone();
                        c
                    }
                    // Never seen raised (e.g. past the open limit): draw it from history.
                    None => self.new_capture(event)?,
                };
                let tuning = self.tunings.get(&capture.segment)?;
                Some(capture.finish(tuning))
            }
            // A person's note changes nothing about the picture.
            EventType::Acknowledged => None,
        }
    }

    /// The rows of every alert still open at the end of the stream.
    pub fn finish_all(&mut self) -> Vec<AlertRows> {
        let open = std::mem::take(&mut self.open);
        open.into_values()
            .filter_map(|c| {
                let tuning = self.tunings.get(&c.segment)?;
                Some(c.finish(tuning))
            })
            .collect()
    }

    /// Alerts being captured now.
    pub fn open_alerts(&self) -> usize {
        self.open.len()
    }

    fn open_capture(&mut self, event: &AlertEvent) {
        if self.open.contains_key(&event.id) {
            return;
        }
        if self.open.len() >= self.limits.max_open {
            tracing::warn!(
                "alert {}: {} alerts are open, the limit for spectrogram capture; \
                 its picture will show only the recent history",
                event.id,
                self.open.len()
            );
            return;
        }
        if let Some(capture) = self.new_capture(event) {
            self.open.insert(event.id.clone(), capture);
        }
    }

    /// A capture for `event` seeded with the history from `pre_trigger_s` before its start.
    fn new_capture(&self, event: &AlertEvent) -> Option<OpenCapture> {
        let (&segment, tuning) = self.tuning_for(event)?;
        let bins = tuning
            .history
            .rows()
            .next()
            .map_or(1, |r| r.dbfs.len())
            .max(1);
        let by_bytes = self.limits.max_bytes_per_alert / (bins * std::mem::size_of::<f32>());
        let mut capture = OpenCapture {
            event: event.clone(),
            segment,
            rows: RowAccumulator::new(self.limits.max_rows.min(by_bytes).max(2)),
            strongest: None,
        };
        let pre = (self.limits.pre_trigger_s.max(0.0) * tuning.sample_rate) as u64;
        let from = event.start_sample.saturating_sub(pre);
        for row in tuning.history.rows().filter(|r| r.end_sample() > from) {
            capture.add(row, tuning);
        }
        Some(capture)
    }

    /// The tuning whose band holds the alert's centre (the nearest centre wins).
    fn tuning_for(&self, event: &AlertEvent) -> Option<(&usize, &Tuning)> {
        let distance = |t: &Tuning| (t.center_hz - event.center_hz).abs();
        self.tunings
            .iter()
            .filter(|(_, t)| distance(t) <= t.sample_rate / 2.0)
            .min_by(|a, b| distance(a.1).total_cmp(&distance(b.1)))
            .or_else(|| self.tunings.iter().next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(segment: usize, center_hz: f64, i: u64, hot: bool) -> PsdFrame {
        let mut mean = vec![-100.0f32; 64];
        if hot {
            mean[40] = -30.0;
        }
        PsdFrame {
            segment,
            start_sample: i * 1000,
            sample_count: 1000,
            center_hz,
            sample_rate: 64_000.0,
            mean_dbfs: mean,
            max_dbfs: Vec::new(),
            fft_power_dbfs: Vec::new(),
            clipped: 0,
            probe: Vec::new(),
        }
    }

    fn event(id: &str, event: EventType, center_hz: f64, span: (u64, u64)) -> AlertEvent {
        AlertEvent {
            start: String::new(),
            end: String::new(),
            start_sample: span.0,
            end_sample: span.1,
            freq_low_hz: center_hz - 500.0,
            freq_high_hz: center_hz + 500.0,
            center_hz,
            peak_dbfs: -30.0,
            excess_db: 70.0,
            snr_db: 70.0,
            confidence: 1.0,
            ..crate::alert::test_event(id, event)
        }
    }

    #[test]
    fn alerts_pick_their_tuning_and_open_ones_finish_at_the_end() {
        let mut rec = SpectrogramRecorder::new(CaptureLimits::default());
        // Two tunings, alternating; the tone (bin 40 = +8 kHz) is on tuning 1 only.
        for i in 0..100 {
            let seg = (i % 2) as usize;
            let center = if seg == 0 { 1e6 } else { 2e6 };
            rec.push_frame(&frame(seg, center, i, seg == 1 && i >= 50));
        }
        assert!(rec
            .on_alert(&event("a", EventType::Raised, 2.008e6, (50_000, 60_000)))
            .is_none());
        for i in 100..120 {
            let seg = (i % 2) as usize;
            let center = if seg == 0 { 1e6 } else { 2e6 };
            rec.push_frame(&frame(seg, center, i, seg == 1));
        }
        let open = rec.finish_all();
        assert_eq!(open.len(), 1);
        let rows = &open[0];
        assert_eq!((rows.segment, rows.center_hz), (1, 2e6));
        assert_eq!(rows.psd[40], -30.0);
        // Pre-trigger history (3 s = 192 000 samples: all of it) and the rows after the raise.
        assert_eq!(rows.rows.first().unwrap().start_sample, 1000);
        assert_eq!(rows.rows.last().unwrap().end_sample(), 120_000);
        assert_eq!(rec.open_alerts(), 0);
    }

    #[test]
    fn a_cleared_alert_never_raised_is_drawn_from_history() {
        let mut rec = SpectrogramRecorder::new(CaptureLimits::default());
        assert!(
            rec.on_alert(&event("x", EventType::Cleared, 1e6, (0, 10)))
                .is_none(),
            "no frames yet"
        );
        for i in 0..10 {
            rec.push_frame(&frame(0, 1e6, i, true));
        }
        let rows = rec
            .on_alert(&event("x", EventType::Cleared, 1.008e6, (2000, 5000)))
            .unwrap();
        assert_eq!(rows.rows.len(), 10);
        assert_eq!(rows.psd[40], -30.0);
    }

    #[test]
    fn the_open_limit_is_respected() {
        let limits = CaptureLimits {
            max_open: 1,
            ..Default::default()
        };
        let mut rec = SpectrogramRecorder::new(limits);
        rec.push_frame(&frame(0, 1e6, 0, false));
        rec.on_alert(&event("a", EventType::Raised, 1e6, (0, 10)));
        rec.on_alert(&event("b", EventType::Raised, 1e6, (0, 10)));
        assert_eq!(rec.open_alerts(), 1);
        // The alert beyond the limit still gets its history when cleared.
        assert!(rec
            .on_alert(&event("b", EventType::Cleared, 1e6, (0, 10)))
            .is_some());
    }
}
