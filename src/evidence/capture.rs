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
