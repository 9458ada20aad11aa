//! Chart pieces shared by the alert and overview pictures: the in-memory
//! canvas and its atomic PNG file, the waterfall panel (raster + frequency
//! and time axes), the colour bar, the title block and axis label formats.

use super::font;
use super::raster::{colourise, raster_values, PixelRect, PlotGeometry, RowSet, View};
use super::scale::ColourScale;
use crate::atomic_file::write_atomic;
use crate::{Error, Result};
use plotters::coord::Shift;
use plotters::element::BitMapElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// Text colour of labels and titles.
pub const INK: RGBColor = RGBColor(33, 37, 41);
/// Colour of secondary text.
pub const MUTED: RGBColor = RGBColor(96, 102, 110);
/// Outline colour of alert boxes: magenta does not occur in viridis.
pub const ALERT_OUTLINE: RGBColor = RGBColor(255, 40, 200);

/// A failed drawing operation (plotters' errors carry backend lifetimes, so
/// they are kept as text until the path is known).
#[derive(Debug)]
pub struct DrawError(pub String);

impl<E: std::error::Error> From<E> for DrawError {
    fn from(e: E) -> Self {
        DrawError(e.to_string())
    }
}

impl DrawError {
    /// The crate error for a picture at `path`.
    pub fn at(self, path: &Path) -> Error {
        Error::io(
            path,
            std::io::Error::other(format!("drawing the picture failed: {}", self.0)),
        )
    }
}

/// Results of drawing steps.
pub type DrawResult<T> = std::result::Result<T, DrawError>;

/// A drawing area on the RGB canvas.
pub type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// How a picture's PNG is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PngEncoding {
    /// zlib's default level: noisy waterfalls compress 2–3× better than with
    /// `Fast` (demo alert pictures: 144–278 KB instead of 491–564 KB). For
    /// alert pictures, written once per alert.
    Small,
    /// fdeflate with the Up filter. For the overview, which every run writes
    /// at its end: with zlib's default level that one picture's deflate was
    /// ~9 % of all cycles of an `analyze` of 2^26 samples with no alert
    /// (`perf`). Files ~1.2–1.5× larger (demo overview 347 KB instead of 299 KB).
    Fast,
}

/// An RGB picture in memory.
pub struct Canvas {
    pub width: u32,
    pub height: u32,
    rgb: Vec<u8>,
}

impl Canvas {
    /// A white canvas.
    pub fn new(width: u32, height: u32) -> Self {
        Canvas {
            width,
            height,
            rgb: vec![255; width as usize * height as usize * 3],
        }
    }

    /// The whole canvas as a plotters drawing area.
    pub fn area(&mut self) -> Area<'_> {
        BitMapBackend::with_buffer(&mut self.rgb, (self.width, self.height)).into_drawing_area()
    }

    /// Encode as PNG and write it atomically to `path` (temporary name, then
    /// rename), creating the directory if needed.
    pub fn write_png(&self, path: &Path, encoding: PngEncoding) -> Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let mut bytes = Vec::with_capacity(self.rgb.len() / 4);
        {
            let mut encoder = png::Encoder::new(&mut bytes, self.width, self.height);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            match encoding {
                PngEncoding::Small => encoder.set_compression(png::Compression::Default),
                PngEncoding::Fast => {
                    encoder.set_compression(png::Compression::Fast);
                    encoder.set_filter(png::FilterType::Up);
                }
            }
            let encoding = |e: png::EncodingError| Error::io(path, std::io::Error::other(e));
            let mut writer = encoder.write_header().map_err(encoding)?;
            writer.write_image_data(&self.rgb).map_err(encoding)?;
            writer.finish().map_err(encoding)?;
        }
        write_atomic(path, &bytes)
    }
}

/// Lines of a picture's title block: (text, pixel size, colour).
pub fn draw_title_block(area: &Area, lines: &[(String, f64, RGBColor)]) -> DrawResult<()> {
    let mut y = 10;
    for (text, size, colour) in lines {
        area.draw_text(text, &font::text(*size, *colour), (16, y))?;
        y += (*size * 1.45) as i32;
    }
    Ok(())
}

/// How the time axis of a waterfall is labelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeLabels {
    /// Seconds from the origin, signed ("-2.5", "0", "1.5").
    Seconds,
    /// Elapsed time from the origin as m:ss or h:mm:ss (for long recordings).
    Elapsed,
}

/// The time axis of a waterfall: which sample is time zero and how labels read.
#[derive(Debug, Clone)]
pub struct TimeAxis {
    pub origin_sample: f64,
    pub sample_rate: f64,
    pub labels: TimeLabels,
    pub title: String,
}

impl TimeAxis {
    /// Chart y value of sample index `sample` (negated seconds from the origin).
    pub fn y(&self, sample: f64) -> f64 {
        -(sample - self.origin_sample) / self.sample_rate
    }

    /// The label of chart value `y`, with `decimals` decimals for seconds.
    fn label(&self, y: f64, decimals: usize) -> String {
        let s = -y;
        match self.labels {
            TimeLabels::Seconds => trim_zero(format!("{s:.decimals$}")),
            TimeLabels::Elapsed => format_elapsed(s),
        }
    }
}

/// Everything a waterfall panel shows.
pub struct WaterfallPanel<'a> {
    pub sets: &'a [RowSet<'a>],
    pub view: View,
    pub scale: &'a ColourScale,
    pub time: TimeAxis,
    /// Pixels left of the plot for time labels, below it for frequency labels.
    pub y_label_area: u32,
    pub x_label_area: u32,
}

/// Draw the waterfall (raster, axes, labels) into `area`. Returns where the
/// plot lies in the picture, for overlays drawn in picture pixels.
pub fn draw_waterfall(area: &Area, panel: &WaterfallPanel) -> DrawResult<PlotGeometry> {
    let view = panel.view.sanitised();
    let time = &panel.time;
    let x_range = view.low_hz / 1e6..view.high_hz / 1e6;
    let y_range = time.y(view.end_sample)..time.y(view.first_sample);
    let mut chart = ChartBuilder::on(area)
        .margin_top(6)
        .margin_left(12)
        .margin_right(4)
        .x_label_area_size(panel.x_label_area)
        .y_label_area_size(panel.y_label_area)
        .build_cartesian_2d(x_range, y_range)?;
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let rect = PixelRect {
        left: xs.start,
        top: ys.start,
        width: (xs.end - xs.start).max(0) as u32,
        height: (ys.end - ys.start).max(0) as u32,
    };
    if rect.width > 0 && rect.height > 0 {
        let values = raster_values(panel.sets, view, rect.width, rect.height);
        let rgb = colourise(&values, panel.scale);
        // Element positions are relative to the area; the plot range is absolute.
        let (base_x, base_y) = area.get_base_pixel();
        let at = (rect.left - base_x, rect.top - base_y);
        if let Some(image) = BitMapElement::with_owned_buffer(at, (rect.width, rect.height), rgb) {
            area.draw(&image)?;
        }
    }
    let freq_fmt = mhz_formatter(view.high_hz - view.low_hz);
    let decimals = seconds_decimals((view.end_sample - view.first_sample) / time.sample_rate);
    let time_fmt = |y: &f64| time.label(*y, decimals);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("Frequency (MHz)")
        .y_desc(time.title.as_str())
        .x_label_formatter(&freq_fmt)
        .y_label_formatter(&time_fmt)
        .x_labels(9)
        .y_labels(9)
        .label_style(font::text(13.0, INK))
        .axis_desc_style(font::text(14.0, INK))
        .axis_style(INK)
        .draw()?;
    Ok(PlotGeometry { rect, view })
}

/// Draw the colour scale as a vertical bar right of `plot`, spanning its
/// height. `root` is the whole picture (`plot` is in picture pixels).
pub fn draw_colour_bar(root: &Area, scale: &ColourScale, plot: PixelRect) -> DrawResult<()> {
    let x0 = plot.right() + 22;
    let bar_w = 18u32;
    let h = plot.height.max(1);
    let mut rgb = Vec::with_capacity(bar_w as usize * h as usize * 3);
    for y in 0..h {
        let t = 1.0 - y as f32 / (h - 1).max(1) as f32;
        let RGBColor(r, g, b) = scale.colour_at(t);
        for _ in 0..bar_w {
            rgb.extend_from_slice(&[r, g, b]);
        }
    }
    if let Some(bar) = BitMapElement::with_owned_buffer((x0, plot.top), (bar_w, h), rgb) {
        root.draw(&bar)?;
    }
    root.draw(&Rectangle::new(
        [(x0, plot.top), (x0 + bar_w as i32, plot.top + h as i32)],
        INK.stroke_width(1),
    ))?;
    let span = (scale.high_db - scale.low_db) as f64;
    let step = nice_step(span, 6);
    let mut v = (scale.low_db as f64 / step).ceil() * step;
    let label_style = font::text(12.0, INK).pos(Pos::new(HPos::Left, VPos::Center));
    while v <= scale.high_db as f64 + 1e-9 {
        let y =
            plot.top + ((1.0 - (v - scale.low_db as f64) / span) * (h - 1) as f64).round() as i32;
        let xr = x0 + bar_w as i32;
        root.draw(&PathElement::new(vec![(xr, y), (xr + 4, y)], INK))?;
        root.draw_text(&trim_zero(format!("{v:.0}")), &label_style, (xr + 7, y))?;
        v += step;
    }
    root.draw_text(
        "dBFS",
        &font::text(13.0, INK).pos(Pos::new(HPos::Center, VPos::Bottom)),
        (x0 + bar_w as i32 / 2, plot.top - 6),
    )?;
    Ok(())
}

/// A label formatter for frequencies in MHz with enough decimals for a view `span_hz` wide.
pub fn mhz_formatter(span_hz: f64) -> impl Fn(&f64) -> String {
    let decimals = mhz_decimals(span_hz);
    move |mhz: &f64| format!("{mhz:.decimals$}")
}

/// Decimals (in MHz) that tell apart axis ticks over a view `span_hz` wide:
/// plotters steps ticks by 1, 2 or 5 × 10ᵏ with at most ~9 labels.
pub fn mhz_decimals(span_hz: f64) -> usize {
    let min_step_mhz = (span_hz.abs() / 1e6 / 9.0).max(1e-9);
    (-min_step_mhz.log10().floor()).clamp(0.0, 6.0) as usize
}

/// A frequency in MHz with `decimals` decimals.
pub fn format_mhz(hz: f64, decimals: usize) -> String {
    format!("{:.decimals$}", hz / 1e6)
}

fn seconds_decimals(span_s: f64) -> usize {
    if span_s >= 20.0 {
        0
    } else if span_s >= 2.0 {
        1
    } else if span_s >= 0.2 {
        2
    } else {
        3
    }
}

/// "-0" and "-0.0" read as "0".
fn trim_zero(s: String) -> String {
    if s.trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        s.trim_start_matches('-').to_string()
    } else {
        s
    }
}

/// Seconds as m:ss or h:mm:ss.
pub fn format_elapsed(seconds: f64) -> String {
    let sign = if seconds < -0.5 { "-" } else { "" };
    let total = seconds.abs().round() as u64;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{sign}{h}:{m:02}:{s:02}")
    } else {
        format!("{sign}{m}:{s:02}")
    }
}

/// A step of 1, 2 or 5 × 10ⁿ giving about `ticks` ticks over `span`.
pub fn nice_step(span: f64, ticks: usize) -> f64 {
    let raw = (span.abs() / ticks.max(1) as f64).max(1e-9);
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// `text` cut to `max_chars` characters with an ellipsis.
pub fn ellipsize(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max_chars.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_formats() {
        assert_eq!(format_elapsed(75.0), "1:15");
        assert_eq!(format_elapsed(3725.0), "1:02:05");
        assert_eq!(trim_zero("-0.0".into()), "0.0");
        assert_eq!(trim_zero("-1.5".into()), "-1.5");
        assert_eq!(mhz_decimals(2.4e6), 1);
        assert_eq!(mhz_decimals(600e3), 2);
        assert_eq!(mhz_decimals(20e6), 0);
        assert_eq!(mhz_decimals(0.0), 6);
        assert_eq!(format_mhz(462.5625e6, 4), "462.5625");
        assert_eq!(nice_step(47.0, 6), 10.0);
        assert_eq!(nice_step(20.0, 6), 5.0);
        assert_eq!(ellipsize("abcdef", 4), "abc…");
    }
}
