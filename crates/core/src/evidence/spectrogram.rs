//! The per-alert spectrogram PNG: a title that says what, where and when; a
//! waterfall from a few seconds before the alert to its end with the alert's
//! band outlined and its start and end marked; a colour bar in dBFS; and
//! under it the spectrum at the alert against the site's baseline floor and
//! p99. Meant to be read by someone who was not there.

use super::chart::{
    self, draw_colour_bar, draw_title_block, draw_waterfall, mhz_decimals, Area, Canvas,
    DrawResult, TimeAxis, TimeLabels, WaterfallPanel, ALERT_OUTLINE, INK, MUTED,
};
use super::describe_kind;
use super::font;
use super::raster::{PixelRect, PlotGeometry, RowSet, View};
use super::scale::ColourScale;
use super::waterfall::SpectrumRow;
use crate::alert::AlertEvent;
use crate::dsp::psd::{bin_hz, hz_to_bin};
use crate::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// Picture size in pixels.
pub const WIDTH: u32 = 1000;
pub const HEIGHT: u32 = 800;
const TITLE_HEIGHT: u32 = 92;
const WATERFALL_HEIGHT: u32 = 440;
/// Room right of the plots for the colour bar (the PSD plot keeps it too, so
/// both frequency axes line up).
const COLOUR_BAR_WIDTH: u32 = 96;
const Y_LABEL_AREA: u32 = 78;
const X_LABEL_AREA: u32 = 46;
/// Narrowest the alert box is drawn, so a one-bin carrier stays visible.
const MIN_BOX_PX: f64 = 8.0;

/// The site's baseline at the alert's tuning (per bin, same layout as the PSD).
#[derive(Debug, Clone, Copy)]
pub struct Baseline<'a> {
    pub floor_dbfs: &'a [f32],
    pub p99_dbfs: &'a [f32],
}

impl<'a> From<&'a crate::profile::Segment> for Baseline<'a> {
    /// The floor and p99 of a profile segment.
    fn from(segment: &'a crate::profile::Segment) -> Self {
        Baseline {
            floor_dbfs: &segment.floor_dbfs,
            p99_dbfs: &segment.p99_dbfs,
        }
    }
}

/// Everything an alert picture shows.
#[derive(Debug, Clone, Copy)]
pub struct AlertPicture<'a> {
    pub site: &'a str,
    pub alert: &'a AlertEvent,
    /// Rows from before the alert to its end (any number; drawn per-bin max per pixel).
    pub rows: &'a [SpectrumRow],
    pub sample_rate: f64,
    /// Centre frequency of the tuning the rows were measured at.
    pub center_hz: f64,
    pub baseline: Option<Baseline<'a>>,
    /// The spectrum at the alert (dBFS per bin).
    pub psd: &'a [f32],
    /// Frequency range shown; `None` chooses one around the alert's band.
    pub view_hz: Option<(f64, f64)>,
}

/// Where the picture's plots lie, so a reader (or a test) can map data to pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertPictureLayout {
    pub width: u32,
    pub height: u32,
    /// The waterfall plot: frequency left to right, sample index top to bottom.
    pub waterfall: PlotGeometry,
    /// The spectrum plot (same frequency mapping as the waterfall).
    pub psd: PixelRect,
}

/// Render `picture` to a PNG at `path` (written under a temporary name and
/// renamed). Returns where the plots lie.
pub fn render_alert_png(path: &Path, picture: &AlertPicture) -> Result<AlertPictureLayout> {
    let mut canvas = Canvas::new(WIDTH, HEIGHT);
    let layout = draw_alert(&canvas.area(), picture).map_err(|e| e.at(path))?;
    canvas.write_png(path, super::chart::PngEncoding::Small)?;
    Ok(layout)
}

/// The frequency range shown for an alert: its band with context on both
/// sides (at least a quarter of the tuning, ten times the band), inside the tuning.
pub fn alert_view_hz(alert: &AlertEvent, center_hz: f64, sample_rate: f64) -> (f64, f64) {
    let (tune_lo, tune_hi) = (center_hz - sample_rate / 2.0, center_hz + sample_rate / 2.0);
    let (lo, hi) = ordered(alert.freq_low_hz, alert.freq_high_hz);
    if !(lo.is_finite() && hi.is_finite()) || hi < tune_lo || lo > tune_hi {
        return (tune_lo, tune_hi);
    }
    let span = (10.0 * (hi - lo)).max(sample_rate / 4.0).min(sample_rate);
    let mid = 0.5 * (lo + hi);
    let start = (mid - span / 2.0).clamp(tune_lo, tune_hi - span);
    (start, start + span)
}

fn ordered(a: f64, b: f64) -> (f64, f64) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

fn draw_alert(root: &Area, p: &AlertPicture) -> DrawResult<AlertPictureLayout> {
    root.fill(&WHITE)?;
    let rate = if p.sample_rate.is_finite() && p.sample_rate > 0.0 {
        p.sample_rate
    } else {
        1.0
    };
    let alert = p.alert;
    let (view_lo, view_hi) = p
        .view_hz
        .unwrap_or_else(|| alert_view_hz(alert, p.center_hz, rate));
    let first = p
        .rows
        .iter()
        .map(|r| r.start_sample)
        .min()
        .unwrap_or(alert.start_sample.saturating_sub(rate as u64));
    let end = p
        .rows
        .iter()
        .map(SpectrumRow::end_sample)
        .max()
        .unwrap_or(0)
        .max(alert.end_sample)
        .max(first + 1);
    let view = View {
        low_hz: view_lo,
        high_hz: view_hi,
        first_sample: first.min(alert.start_sample) as f64,
        end_sample: end as f64,
    };

    let (title, rest) = root.split_vertically(TITLE_HEIGHT);
    draw_title_block(&title, &title_lines(p, rate))?;
    let (top, bottom) = rest.split_vertically(WATERFALL_HEIGHT);
    let (wf_area, _) = top.split_horizontally(WIDTH - COLOUR_BAR_WIDTH);

    let (lo_bin, hi_bin) = bin_span(p.center_hz, rate, p.rows, view);
    let scale = ColourScale::robust(
        p.rows
            .iter()
            .flat_map(|r| r.dbfs.get(lo_bin..hi_bin.min(r.dbfs.len())).unwrap_or(&[])),
    );
    let sets = [RowSet::of_tuning(p.center_hz, rate, p.rows)];
    let panel = WaterfallPanel {
        sets: &sets,
        view,
        scale: &scale,
        time: TimeAxis {
            origin_sample: alert.start_sample as f64,
            sample_rate: rate,
            labels: TimeLabels::Seconds,
            title: "Time from alert start (s)".into(),
        },
        y_label_area: Y_LABEL_AREA,
        x_label_area: X_LABEL_AREA,
    };
    let geometry = draw_waterfall(&wf_area, &panel)?;
    draw_colour_bar(root, &scale, geometry.rect)?;
    draw_alert_marks(root, alert, &geometry)?;
    if p.rows.is_empty() {
        let r = geometry.rect;
        root.draw_text(
            "no spectrum recorded for this time",
            &font::text(16.0, WHITE).pos(Pos::new(HPos::Center, VPos::Center)),
            ((r.left + r.right()) / 2, (r.top + r.bottom()) / 2),
        )?;
    }

    let (psd_area, _) = bottom.split_horizontally(WIDTH - COLOUR_BAR_WIDTH);
    let psd_rect = draw_psd_panel(&psd_area, p, rate, geometry.view)?;
    Ok(AlertPictureLayout {
        width: WIDTH,
        height: HEIGHT,
        waterfall: geometry,
        psd: psd_rect,
    })
}

/// The bins of the rows' tuning inside `view` (for colour-scale limits).
fn bin_span(center_hz: f64, rate: f64, rows: &[SpectrumRow], view: View) -> (usize, usize) {
    let bins = rows.iter().map(|r| r.dbfs.len()).max().unwrap_or(0);
    let lo = hz_to_bin(center_hz, rate, bins, view.low_hz)
        .floor()
        .max(0.0) as usize;
    let hi = (hz_to_bin(center_hz, rate, bins, view.high_hz)
        .ceil()
        .max(0.0) as usize
        + 1)
    .min(bins);
    if lo < hi {
        (lo, hi)
    } else {
        (0, bins)
    }
}

fn title_lines(p: &AlertPicture, rate: f64) -> Vec<(String, f64, RGBColor)> {
    let a = p.alert;
    let (lo, hi) = ordered(a.freq_low_hz, a.freq_high_hz);
    // Enough decimals to tell the band's edges apart (at least kHz/10 resolution).
    let decimals = mhz_decimals(hi - lo).clamp(4, 6);
    let when = format_time(&a.start);
    let duration = a.duration_s(rate);
    vec![
        (
            format!(
                "{} at {} MHz — site {}",
                describe_kind(a.kind),
                chart::format_mhz(a.center_hz, decimals),
                chart::ellipsize(p.site, 40)
            ),
            21.0,
            INK,
        ),
        (
            format!(
                "Alert {} ({}) · started {} · lasted {:.2} s · band {}–{} MHz ({})",
                chart::ellipsize(&a.id, 36),
                a.kind,
                when,
                duration,
                chart::format_mhz(lo, decimals),
                chart::format_mhz(hi, decimals),
                format_bandwidth(hi - lo),
            ),
            14.0,
            MUTED,
        ),
        (
            format!(
                "Peak {:.1} dBFS · {:+.1} dB over baseline · SNR {:.1} dB · confidence {:.2} · {}",
                a.peak_dbfs,
                a.excess_db,
                a.snr_db,
                a.confidence,
                chart::ellipsize(&a.recording, 48)
            ),
            14.0,
            MUTED,
        ),
    ]
}

/// An RFC 3339 time as "YYYY-MM-DD HH:MM:SS.mmm UTC", or as given when unparsable.
pub fn format_time(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M:%S%.3f UTC")
                .to_string()
        })
        .unwrap_or_else(|_| rfc3339.to_string())
}

/// A bandwidth in Hz, kHz or MHz.
pub fn format_bandwidth(hz: f64) -> String {
    let hz = hz.abs();
    if hz >= 1e6 {
        format!("{:.3} MHz", hz / 1e6)
    } else if hz >= 1e3 {
        format!("{:.1} kHz", hz / 1e3)
    } else {
        format!("{hz:.0} Hz")
    }
}

/// The alert's band × time box and dashed start/end lines, in picture pixels.
fn draw_alert_marks(root: &Area, alert: &AlertEvent, g: &PlotGeometry) -> DrawResult<()> {
    let r = g.rect;
    let clamp_x = |x: f64| x.clamp(r.left as f64, (r.right() - 1) as f64);
    let clamp_y = |y: f64| y.clamp(r.top as f64, (r.bottom() - 1) as f64);
    let (lo, hi) = ordered(alert.freq_low_hz, alert.freq_high_hz);
    let (mut x0, mut x1) = (g.x_of_hz(lo), g.x_of_hz(hi));
    if !(x0.is_finite() && x1.is_finite()) {
        (x0, x1) = (r.left as f64, r.right() as f64);
    }
    if x1 - x0 < MIN_BOX_PX {
        let mid = 0.5 * (x0 + x1);
        (x0, x1) = (mid - MIN_BOX_PX / 2.0, mid + MIN_BOX_PX / 2.0);
    }
    let y_start = g.y_of_sample(alert.start_sample as f64);
    let y_end = g.y_of_sample(alert.end_sample.max(alert.start_sample) as f64);
    let (bx0, bx1) = (clamp_x(x0 - 2.0) as i32, clamp_x(x1 + 2.0) as i32);
    let (by0, by1) = (
        clamp_y(y_start) as i32,
        clamp_y(y_end).max(clamp_y(y_start) + 2.0) as i32,
    );
    for (d, colour) in [(1, BLACK), (0, ALERT_OUTLINE)] {
        // A dark halo under the magenta box keeps it visible on bright yellow.
        root.draw(&Rectangle::new(
            [(bx0 - d, by0 - d), (bx1 + d, by1 + d)],
            colour.stroke_width(if d == 1 { 4 } else { 2 }),
        ))?;
    }
    dashed_hline(root, r, y_start, "alert start")?;
    if y_end < (r.bottom() - 3) as f64 && y_end > y_start + 12.0 {
        dashed_hline(root, r, y_end, "alert end")?;
    }
    Ok(())
}

/// A white dashed line across the plot at picture row `y`, labelled at the left.
fn dashed_hline(root: &Area, r: PixelRect, y: f64, label: &str) -> DrawResult<()> {
    if !(y >= r.top as f64 && y < r.bottom() as f64) {
        return Ok(());
    }
    let y = y.round() as i32;
    let mut x = r.left;
    while x < r.right() {
        let x_end = (x + 9).min(r.right() - 1);
        root.draw(&PathElement::new(
            vec![(x, y), (x_end, y)],
            WHITE.stroke_width(2),
        ))?;
        x += 15;
    }
    let style = font::text(13.0, WHITE).pos(Pos::new(HPos::Left, VPos::Bottom));
    let (tx, ty) = (r.left + 6, y - 4);
    root.draw_text(
        label,
        &font::text(13.0, BLACK).pos(Pos::new(HPos::Left, VPos::Bottom)),
        (tx + 1, ty + 1),
    )?;
    root.draw_text(label, &style, (tx, ty))?;
    Ok(())
}

/// `(frequency MHz, dBFS)` points of the bins of `dbfs` inside `view` (one
/// bin of margin each side), skipping non-finite values.
fn series_points(dbfs: &[f32], center_hz: f64, rate: f64, view: View) -> Vec<(f64, f64)> {
    let n = dbfs.len();
    (0..n)
        .map(|i| (bin_hz(center_hz, rate, n, i), dbfs[i]))
        .filter(|(hz, v)| {
            v.is_finite()
                && *hz >= view.low_hz - rate / n as f64
                && *hz <= view.high_hz + rate / n as f64
        })
        .map(|(hz, v)| {
            (
                (hz / 1e6).clamp(view.low_hz / 1e6, view.high_hz / 1e6),
                v as f64,
            )
        })
        .collect()
}

/// The spectrum panel; returns its plot rectangle.
fn draw_psd_panel(area: &Area, p: &AlertPicture, rate: f64, view: View) -> DrawResult<PixelRect> {
    let psd = series_points(p.psd, p.center_hz, rate, view);
    let (floor, p99) = match p.baseline {
        Some(b) => (
            series_points(b.floor_dbfs, p.center_hz, rate, view),
            series_points(b.p99_dbfs, p.center_hz, rate, view),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let all = psd.iter().chain(&floor).chain(&p99).map(|&(_, v)| v);
    let (min, max) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let (y_lo, y_hi) = if min.is_finite() {
        (
            ((min - 5.0) / 10.0).floor() * 10.0,
            ((max + 8.0) / 10.0).ceil() * 10.0,
        )
    } else {
        (-120.0, -20.0)
    };
    let mut chart = ChartBuilder::on(area)
        .margin_top(30)
        .margin_left(12)
        .margin_right(4)
        .margin_bottom(4)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(view.low_hz / 1e6..view.high_hz / 1e6, y_lo..y_hi)?;
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let freq_fmt = chart::mhz_formatter(view.high_hz - view.low_hz);
    chart
        .configure_mesh()
        .x_desc("Frequency (MHz)")
        .y_desc("Power (dBFS per bin)")
        .x_label_formatter(&freq_fmt)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .x_labels(9)
        .y_labels(6)
        .label_style(font::text(13.0, INK))
        .axis_desc_style(font::text(14.0, INK))
        .axis_style(INK)
        .bold_line_style(RGBColor(225, 228, 232))
        .light_line_style(RGBColor(244, 245, 247))
        .draw()?;
    let (lo, hi) = ordered(p.alert.freq_low_hz, p.alert.freq_high_hz);
    if lo.is_finite() && hi.is_finite() {
        let clamp = |hz: f64| (hz / 1e6).clamp(view.low_hz / 1e6, view.high_hz / 1e6);
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(clamp(lo), y_lo), (clamp(hi), y_hi)],
                ALERT_OUTLINE.mix(0.15).filled(),
            )))?
            .label("alert band")
            .legend(|(x, y)| {
                Rectangle::new(
                    [(x, y - 5), (x + 18, y + 5)],
                    ALERT_OUTLINE.mix(0.3).filled(),
                )
            });
    }
    let floor_colour = RGBColor(120, 124, 130);
    let p99_colour = RGBColor(230, 120, 20);
    let psd_colour = RGBColor(20, 70, 180);
    if !floor.is_empty() {
        chart
            .draw_series(LineSeries::new(floor, floor_colour.stroke_width(2)))?
            .label("baseline floor (median)")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], floor_colour.stroke_width(2))
            });
    }
    if !p99.is_empty() {
        chart
            .draw_series(DashedLineSeries::new(p99, 6, 4, p99_colour.stroke_width(2)))?
            .label("baseline p99")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], p99_colour.stroke_width(2))
            });
    }
    if !psd.is_empty() {
        chart
            .draw_series(LineSeries::new(psd, psd_colour.stroke_width(2)))?
            .label("spectrum at the alert")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], psd_colour.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(200, 204, 208))
        .label_font(font::text(12.0, INK))
        .draw()?;
    area.draw_text(
        "Spectrum at the alert (its strongest frame) against the site's baseline",
        &font::text(14.0, INK),
        (16, 8),
    )?;
    Ok(PixelRect {
        left: xs.start,
        top: ys.start,
        width: (xs.end - xs.start).max(0) as u32,
        height: (ys.end - ys.start).max(0) as u32,
    })
}
