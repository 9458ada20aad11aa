//! The overview spectrogram of a whole recording, with every alert marked.
//!
//! [`Overview`] is fed every PSD frame of a recording of any length and
//! keeps, per tuning, at most [`Overview::DEFAULT_ROWS`] rows of at most
//! [`Overview::DEFAULT_COLUMNS`] columns (rows merge pairwise by per-bin max
//! when full; wide FFTs are reduced by per-bin max over groups of bins).
//! [`render_overview_png`] draws it with a box over each alert's time ×
//! frequency span, labelled with its short id and kind.

use super::chart::{
    draw_colour_bar, draw_title_block, draw_waterfall, ellipsize, Area, Canvas, DrawResult,
    TimeAxis, TimeLabels, WaterfallPanel, ALERT_OUTLINE, INK, MUTED,
};
use super::raster::{PlotGeometry, RowSet, View};
use super::scale::ColourScale;
use super::waterfall::{RowAccumulator, SpectrumRow};
use super::{font, short_id};
use crate::alert::{AlertEvent, AlertKind};
use crate::dsp::psd::bin_hz;
use crate::dsp::PsdFrame;
use crate::Result;
use chrono::{DateTime, Utc};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeMap;
use std::path::Path;

/// Picture size in pixels.
pub const WIDTH: u32 = 1000;
pub const HEIGHT: u32 = 720;
const TITLE_HEIGHT: u32 = 84;
const COLOUR_BAR_WIDTH: u32 = 96;
/// Smallest drawn alert box, so a short narrow alert stays visible.
const MIN_BOX_PX: i32 = 6;

/// One tuning's reduced rows.
#[derive(Debug, Clone)]
struct TuningRows {
    center_hz: f64,
    sample_rate: f64,
    /// FFT bins of the frames.
    bins: usize,
    /// Bins merged into one stored column.
    group: usize,
    rows: RowAccumulator,
    /// End of this tuning's previous frame.
    prev_end: Option<u64>,
}

impl TuningRows {
    /// The frequency grid of the stored columns.
    fn row_set<'a>(&self, rows: &'a [SpectrumRow]) -> RowSet<'a> {
        let step = self.sample_rate / self.bins.max(1) as f64;
        RowSet {
            first_bin_hz: bin_hz(self.center_hz, self.sample_rate, self.bins.max(1), 0)
                + (self.group as f64 - 1.0) / 2.0 * step,
            bin_step_hz: step * self.group as f64,
            rows,
        }
    }
}

/// A bounded time × frequency summary of a whole recording.
#[derive(Debug, Clone)]
pub struct Overview {
    max_rows: usize,
    max_columns: usize,
    tunings: BTreeMap<usize, TuningRows>,
    /// End of the latest frame of any tuning.
    stream_end: Option<u64>,
    scratch: SpectrumRow,
}

impl Default for Overview {
    fn default() -> Self {
        Overview::new(Self::DEFAULT_ROWS, Self::DEFAULT_COLUMNS)
    }
}

impl Overview {
    /// Rows kept per tuning by default.
    pub const DEFAULT_ROWS: usize = 512;
    /// Columns kept per row by default (about the picture's width).
    pub const DEFAULT_COLUMNS: usize = 1024;

    /// An overview keeping at most `max_rows` rows of `max_columns` columns per tuning.
    pub fn new(max_rows: usize, max_columns: usize) -> Self {
        Overview {
            max_rows: max_rows.max(2),
            max_columns: max_columns.max(1),
            tunings: BTreeMap::new(),
            stream_end: None,
            scratch: SpectrumRow {
                start_sample: 0,
                sample_count: 0,
                dbfs: Vec::new(),
            },
        }
    }

    /// Feed the next frame of the recording (any tuning, in stream order).
    pub fn push_frame(&mut self, frame: &PsdFrame) {
        let bins = frame.mean_dbfs.len();
        if bins == 0 {
            return;
        }
        let group = bins.div_ceil(self.max_columns);
        let max_rows = self.max_rows;
        let fresh = || TuningRows {
            center_hz: frame.center_hz,
            sample_rate: frame.sample_rate,
            bins,
            group,
            rows: RowAccumulator::new(max_rows),
            prev_end: None,
        };
        let tuning = self.tunings.entry(frame.segment).or_insert_with(fresh);
        if tuning.bins != bins
            || tuning.center_hz != frame.center_hz
            || tuning.sample_rate != frame.sample_rate
        {
            tracing::debug!(
                "overview: tuning {} changed its settings; restarting it",
                frame.segment
            );
            *tuning = fresh();
        }
        // In a scan plan a tuning is measured only while the receiver dwells
        // on it: its row holds from its previous frame on, so the picture
        // has no stripes, unless the stream itself has a gap here.
        let stream_continues = self
            .stream_end
            .is_some_and(|end| frame.start_sample <= end + frame.sample_count);
        let start = match tuning.prev_end {
            Some(prev) if prev < frame.start_sample && stream_continues => prev,
            _ => frame.start_sample,
        };
        tuning.prev_end = Some(frame.end_sample());
        self.stream_end = Some(self.stream_end.unwrap_or(0).max(frame.end_sample()));
        let row = &mut self.scratch;
        row.start_sample = start;
        row.sample_count = frame.end_sample() - start;
        row.dbfs.clear();
        row.dbfs.extend(
            frame
                .mean_dbfs
                .chunks(group)
                .map(|c| c.iter().fold(f32::NAN, |m, &v| m.max(v))),
        );
        tuning.rows.push(row);
    }

    /// True before any frame.
    pub fn is_empty(&self) -> bool {
        self.tunings.values().all(|t| t.rows.is_empty())
    }

    /// Frames fed so far.
    pub fn frames(&self) -> u64 {
        self.tunings.values().map(|t| t.rows.inputs()).sum()
    }

    /// Rows stored now (all tunings).
    pub fn stored_rows(&self) -> usize {
        self.tunings.values().map(|t| t.rows.len()).sum()
    }

    /// Bytes of row data held (bounded by tunings × rows × columns × 4).
    pub fn heap_bytes(&self) -> usize {
        self.tunings
            .values()
            .map(|t| t.rows.heap_bytes())
            .sum::<usize>()
            + self.scratch.dbfs.capacity() * std::mem::size_of::<f32>()
    }

    /// The sample rate of the first tuning (all tunings share one rate).
    pub fn sample_rate(&self) -> Option<f64> {
        self.tunings.values().next().map(|t| t.sample_rate)
    }

    /// `[first, end)` sample span covered.
    pub fn span_samples(&self) -> Option<(u64, u64)> {
        let rows = || self.tunings.values().flat_map(|t| t.rows.rows());
        let first = rows().map(|r| r.start_sample).min()?;
        let end = rows().map(SpectrumRow::end_sample).max()?;
        Some((first, end))
    }

    /// `(low, high)` frequency span of all tunings, Hz.
    pub fn span_hz(&self) -> Option<(f64, f64)> {
        let lo = self
            .tunings
            .values()
            .map(|t| t.center_hz - t.sample_rate / 2.0)
            .reduce(f64::min)?;
        let hi = self
            .tunings
            .values()
            .map(|t| t.center_hz + t.sample_rate / 2.0)
            .reduce(f64::max)?;
        Some((lo, hi))
    }
}

/// Everything an overview picture shows.
#[derive(Debug, Clone, Copy)]
pub struct OverviewPicture<'a> {
    pub site: &'a str,
    pub recording: &'a str,
    pub overview: &'a Overview,
    /// Alert events of this recording (any lifecycle stage; the last event of each id is drawn).
    pub alerts: &'a [AlertEvent],
    /// Wall-clock time of sample 0, when known.
    pub start_time: Option<DateTime<Utc>>,
}

/// Where the overview's plot lies, and which alerts got a label.
#[derive(Debug, Clone, PartialEq)]
pub struct OverviewLayout {
    pub width: u32,
    pub height: u32,
    pub waterfall: PlotGeometry,
    /// Ids of the alerts drawn, in drawing order.
    pub alerts_drawn: Vec<String>,
    /// How many of them have a text label (labels that would overlap are left out).
    pub labels_drawn: usize,
}

/// Render the overview to a PNG at `path` (temporary name, then rename).
pub fn render_overview_png(path: &Path, picture: &OverviewPicture) -> Result<OverviewLayout> {
    let mut canvas = Canvas::new(WIDTH, HEIGHT);
    let layout = draw_overview(&canvas.area(), picture).map_err(|e| e.at(path))?;
    canvas.write_png(path, super::chart::PngEncoding::Fast)?;
    Ok(layout)
}

/// The last event of each alert id, in order of first appearance.
pub fn latest_per_alert(events: &[AlertEvent]) -> Vec<&AlertEvent> {
    let mut order: Vec<&str> = Vec::new();
    let mut latest: BTreeMap<&str, &AlertEvent> = BTreeMap::new();
    for e in events {
        if latest.insert(&e.id, e).is_none() {
            order.push(&e.id);
        }
    }
    order.into_iter().map(|id| latest[id]).collect()
}

fn draw_overview(root: &Area, p: &OverviewPicture) -> DrawResult<OverviewLayout> {
    root.fill(&WHITE)?;
    let ov = p.overview;
    let rate = ov
        .sample_rate()
        .filter(|r| r.is_finite() && *r > 0.0)
        .unwrap_or(1.0);
    let alerts = latest_per_alert(p.alerts);
    let (first, end) = ov.span_samples().unwrap_or_else(|| {
        let end = alerts.iter().map(|a| a.end_sample).max().unwrap_or(0);
        (0, end.max(1))
    });
    let (low_hz, high_hz) = ov.span_hz().unwrap_or_else(|| {
        let lo = alerts
            .iter()
            .map(|a| a.freq_low_hz)
            .fold(f64::INFINITY, f64::min);
        let hi = alerts
            .iter()
            .map(|a| a.freq_high_hz)
            .fold(f64::NEG_INFINITY, f64::max);
        (lo, hi)
    });
    let view = View {
        low_hz,
        high_hz,
        first_sample: first as f64,
        end_sample: end as f64,
    };
    let duration = (end.saturating_sub(first)) as f64 / rate;

    let (title, rest) = root.split_vertically(TITLE_HEIGHT);
    let (wf_area, _) = rest.split_horizontally(WIDTH - COLOUR_BAR_WIDTH);
    let stored: Vec<(&TuningRows, Vec<SpectrumRow>)> =
        ov.tunings.values().map(|t| (t, t.rows.to_rows())).collect();
    let sets: Vec<RowSet> = stored.iter().map(|(t, rows)| t.row_set(rows)).collect();
    let scale = ColourScale::robust(
        stored
            .iter()
            .flat_map(|(_, rows)| rows.iter().flat_map(|r| &r.dbfs)),
    );
    let long = duration > 120.0;
    let panel = WaterfallPanel {
        sets: &sets,
        view,
        scale: &scale,
        time: TimeAxis {
            origin_sample: 0.0,
            sample_rate: rate,
            labels: if long {
                TimeLabels::Elapsed
            } else {
                TimeLabels::Seconds
            },
            title: if long {
                "Time since recording start (h:mm:ss)".into()
            } else {
                "Time since recording start (s)".into()
            },
        },
        y_label_area: 78,
        x_label_area: 46,
    };
    let geometry = draw_waterfall(&wf_area, &panel)?;
    draw_colour_bar(root, &scale, geometry.rect)?;
    let labels_drawn = draw_alert_boxes(root, &alerts, &geometry)?;
    let when = p
        .start_time
        .map(|t| format!("started {}", t.format("%Y-%m-%d %H:%M:%S UTC")))
        .unwrap_or_else(|| "start time unknown".into());
    let mut lines = vec![
        (
            format!(
                "Overview of {} — site {}",
                ellipsize(p.recording, 60),
                ellipsize(p.site, 30)
            ),
            20.0,
            INK,
        ),
        (
            format!(
                "{when} · {} analysed · {} alert{} marked · {}–{} MHz",
                format_duration(duration),
                alerts.len(),
                if alerts.len() == 1 { "" } else { "s" },
                super::chart::format_mhz(view.sanitised().low_hz, 3),
                super::chart::format_mhz(view.sanitised().high_hz, 3),
            ),
            14.0,
            MUTED,
        ),
    ];
    if labels_drawn < alerts.len() {
        lines.push((
            format!(
                "{labels_drawn} of {} alert boxes labelled (labels that would overlap are left out; see the report's table)",
                alerts.len()
            ),
            13.0,
            MUTED,
        ));
    }
    draw_title_block(&title, &lines)?;
    Ok(OverviewLayout {
        width: WIDTH,
        height: HEIGHT,
        waterfall: geometry,
        alerts_drawn: alerts.iter().map(|a| a.id.clone()).collect(),
        labels_drawn,
    })
}

/// A duration as "12.3 s", "4 min 05 s" or "2 h 03 min".
pub fn format_duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "unknown".into();
    }
    if seconds < 120.0 {
        format!("{seconds:.1} s")
    } else if seconds < 7200.0 {
        let s = seconds.round() as u64;
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        let m = (seconds / 60.0).round() as u64;
        format!("{} h {:02} min", m / 60, m % 60)
    }
}

/// Draw a box per alert, and a label where it does not overlap an earlier one.
/// Returns the number of labels drawn.
fn draw_alert_boxes(root: &Area, alerts: &[&AlertEvent], g: &PlotGeometry) -> DrawResult<usize> {
    let r = g.rect;
    let mut placed: Vec<(i32, i32, i32, i32)> = Vec::new();
    let label_font = font::text(12.0, WHITE);
    for a in alerts {
        let (lo, hi) = if a.freq_low_hz <= a.freq_high_hz {
            (a.freq_low_hz, a.freq_high_hz)
        } else {
            (a.freq_high_hz, a.freq_low_hz)
        };
        let whole_band =
            a.kind == AlertKind::MonitoringGap || !(lo.is_finite() && hi.is_finite()) || hi <= 0.0;
        let (mut x0, mut x1) = if whole_band {
            (r.left, r.right() - 1)
        } else {
            (g.x_of_hz(lo).round() as i32, g.x_of_hz(hi).round() as i32)
        };
        let mut y0 = g.y_of_sample(a.start_sample as f64).round() as i32;
        let mut y1 = g
            .y_of_sample(a.end_sample.max(a.start_sample) as f64)
            .round() as i32;
        widen(&mut x0, &mut x1, MIN_BOX_PX);
        widen(&mut y0, &mut y1, MIN_BOX_PX);
        let (x0, x1) = (
            x0.clamp(r.left, r.right() - 1),
            x1.clamp(r.left, r.right() - 1),
        );
        let (y0, y1) = (
            y0.clamp(r.top, r.bottom() - 1),
            y1.clamp(r.top, r.bottom() - 1),
        );
        root.draw(&Rectangle::new(
            [(x0 - 1, y0 - 1), (x1 + 1, y1 + 1)],
            BLACK.stroke_width(4),
        ))?;
        root.draw(&Rectangle::new(
            [(x0, y0), (x1, y1)],
            ALERT_OUTLINE.stroke_width(2),
        ))?;

        let label = format!("{} {}", short_id(&a.id), a.kind);
        let text_w = label_font
            .font
            .box_size(&label)
            .map_or(0, |(w, _)| w as i32);
        let (tw, th) = (text_w + 8, 17);
        // Right of the box, left of it, above it, below it: the first that
        // fits in the plot without covering an earlier label.
        let candidates = [
            (x1 + 4, y0),
            (x0 - 4 - tw, y0),
            (x0.max(r.left + 2), y0 - th - 3),
            (x0.max(r.left + 2), y1 + 3),
        ];
        let fits = |&(lx, ly): &(i32, i32)| {
            let rect = (lx, ly, lx + tw, ly + th);
            lx >= r.left
                && lx + tw <= r.right()
                && ly >= r.top
                && ly + th <= r.bottom()
                && !placed.iter().any(|p| overlaps(*p, rect))
        };
        let Some(&(lx, ly)) = candidates.iter().find(|c| fits(c)) else {
            continue;
        };
        let rect = (lx, ly, lx + tw, ly + th);
        placed.push(rect);
        root.draw(&Rectangle::new(
            [(rect.0, rect.1), (rect.2, rect.3)],
            BLACK.mix(0.65).filled(),
        ))?;
        root.draw_text(
            &label,
            &label_font.pos(Pos::new(HPos::Left, VPos::Center)),
            (lx + 4, ly + th / 2),
        )?;
    }
    Ok(placed.len())
}

fn widen(a: &mut i32, b: &mut i32, min: i32) {
    if *b - *a < min {
        let mid = (*a + *b) / 2;
        *a = mid - min / 2;
        *b = *a + min;
    }
}

fn overlaps(a: (i32, i32, i32, i32), b: (i32, i32, i32, i32)) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}
