//! Rasterising time × frequency rows into the pixels of a plot area.
//!
//! Every pixel shows the per-bin **max** of the bins and rows it covers, so
//! a one-bin carrier or a one-frame burst stays visible however far the
//! picture is zoomed out. Pixels no row covers are painted as "no data".

use super::scale::ColourScale;
use super::waterfall::SpectrumRow;
use crate::dsp::psd::bin_hz;
use plotters::style::RGBColor;

/// Colour of pixels without data (before the stream started, in a gap, or
/// outside a tuning's band).
pub const NO_DATA: RGBColor = RGBColor(58, 58, 64);

/// A rectangle of pixels in a picture: `left..left+width` × `top..top+height`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelRect {
    pub left: i32,
    pub top: i32,
    pub width: u32,
    pub height: u32,
}

impl PixelRect {
    /// Exclusive right edge.
    pub fn right(&self) -> i32 {
        self.left + self.width as i32
    }

    /// Exclusive bottom edge.
    pub fn bottom(&self) -> i32 {
        self.top + self.height as i32
    }
}

/// Where a plot sits in a picture and what it shows: maps data to pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlotGeometry {
    pub rect: PixelRect,
    pub view: View,
}

impl PlotGeometry {
    /// Picture x (pixels, fractional) of frequency `hz`.
    pub fn x_of_hz(&self, hz: f64) -> f64 {
        self.rect.left as f64 + self.view.x_offset(hz, self.rect.width)
    }

    /// Picture y (pixels, fractional) of sample index `sample`.
    pub fn y_of_sample(&self, sample: f64) -> f64 {
        self.rect.top as f64 + self.view.y_offset(sample, self.rect.height)
    }
}

/// Rows on one frequency grid: bin `i` is centred at `first_bin_hz + i · bin_step_hz`.
#[derive(Debug, Clone, Copy)]
pub struct RowSet<'a> {
    pub first_bin_hz: f64,
    pub bin_step_hz: f64,
    pub rows: &'a [SpectrumRow],
}

impl<'a> RowSet<'a> {
    /// Rows of FFT-shifted spectra measured at `center_hz` and `sample_rate`
    /// (the bin count is taken from the widest row).
    pub fn of_tuning(center_hz: f64, sample_rate: f64, rows: &'a [SpectrumRow]) -> Self {
        let bins = rows.iter().map(|r| r.dbfs.len()).max().unwrap_or(0);
        RowSet {
            first_bin_hz: bin_hz(center_hz, sample_rate, bins.max(1), 0),
            bin_step_hz: sample_rate / bins.max(1) as f64,
            rows,
        }
    }
}

/// The data range a plot area shows: frequency left to right, sample
/// index top to bottom.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    pub low_hz: f64,
    pub high_hz: f64,
    pub first_sample: f64,
    pub end_sample: f64,
}

impl View {
    /// Horizontal pixel offset (from the plot's left edge) of `hz`, unclamped.
    pub fn x_offset(&self, hz: f64, width: u32) -> f64 {
        (hz - self.low_hz) / (self.high_hz - self.low_hz) * width as f64
    }

    /// Vertical pixel offset (from the plot's top edge) of sample index `sample`, unclamped.
    pub fn y_offset(&self, sample: f64, height: u32) -> f64 {
        (sample - self.first_sample) / (self.end_sample - self.first_sample) * height as f64
    }

    /// The view with degenerate (empty, reversed or non-finite) ranges widened.
    pub fn sanitised(self) -> View {
        let (low_hz, high_hz) = widen(self.low_hz, self.high_hz, 1.0);
        let (first_sample, end_sample) = widen(self.first_sample, self.end_sample, 1.0);
        View {
            low_hz,
            high_hz,
            first_sample,
            end_sample,
        }
    }
}

/// `(a, b)` ordered, finite and at least `min_span` apart.
fn widen(a: f64, b: f64, min_span: f64) -> (f64, f64) {
    let (a, b) = match (a.is_finite(), b.is_finite()) {
        (true, true) => (a.min(b), a.max(b)),
        (true, false) => (a, a),
        (false, true) => (b, b),
        (false, false) => (0.0, 0.0),
    };
    if b - a < min_span {
        let mid = 0.5 * (a + b);
        (mid - 0.5 * min_span, mid + 0.5 * min_span)
    } else {
        (a, b)
    }
}

/// The per-pixel dBFS image of `sets` over `view`: `height` rows of `width`
/// values, NaN where no data. Where tunings overlap, the higher value wins.
pub fn raster_values(sets: &[RowSet], view: View, width: u32, height: u32) -> Vec<f32> {
    let (w, h) = (width as usize, height as usize);
    let mut out = vec![f32::NAN; w * h];
    if w == 0 || h == 0 {
        return out;
    }
    let view = view.sanitised();
    let sample_per_px = (view.end_sample - view.first_sample) / h as f64;
    for set in sets {
        let Some(columns) = ColumnMap::new(set, view, w) else {
            continue;
        };
        // Reduce every row to pixel columns once, then spread rows over pixel rows.
        let mut reduced = vec![f32::NAN; w];
        for row in set.rows {
            let (y0, y1) = pixel_rows_of(row, view.first_sample, sample_per_px, h);
            if y0 >= y1 {
                continue;
            }
            columns.reduce(&row.dbfs, &mut reduced);
            for y in y0..y1 {
                for (o, &v) in out[y * w..(y + 1) * w].iter_mut().zip(&reduced) {
                    *o = o.max(v);
                }
            }
        }
    }
    out
}

/// Pixel rows `[y0, y1)` a row covers (at least one when it overlaps the view).
fn pixel_rows_of(row: &SpectrumRow, first: f64, per_px: f64, h: usize) -> (usize, usize) {
    let top = (row.start_sample as f64 - first) / per_px;
    let bottom = (row.end_sample() as f64 - first) / per_px;
    if bottom <= 0.0 || top >= h as f64 {
        return (0, 0);
    }
    let y0 = top.max(0.0).floor() as usize;
    let y1 = (bottom.min(h as f64).ceil() as usize).max(y0 + 1).min(h);
    (y0, y1)
}

/// Which bins each pixel column covers, for one tuning.
struct ColumnMap {
    /// Bin range `[lo, hi)` per column; empty when the column is outside the tuning.
    ranges: Vec<(usize, usize)>,
}

impl ColumnMap {
    fn new(set: &RowSet, view: View, w: usize) -> Option<Self> {
        let bins = set.rows.iter().map(|r| r.dbfs.len()).max()?;
        if bins == 0
            || !(set.bin_step_hz.is_finite()
                && set.bin_step_hz > 0.0
                && set.first_bin_hz.is_finite())
        {
            return None;
        }
        let hz_per_px = (view.high_hz - view.low_hz) / w as f64;
        // Bin i covers [i, i+1) in this coordinate (its centre is at i + 0.5).
        let coord = |hz: f64| (hz - set.first_bin_hz) / set.bin_step_hz + 0.5;
        let ranges = (0..w)
            .map(|x| {
                let u0 = coord(view.low_hz + x as f64 * hz_per_px);
                let u1 = coord(view.low_hz + (x + 1) as f64 * hz_per_px);
                let lo = u0.floor().max(0.0);
                let hi = u1.ceil().max(lo + 1.0).min(bins as f64);
                // NaN coordinates (a degenerate view) fail `lo < hi` and give no bins.
                if u1 <= 0.0
                    || u0 >= bins as f64
                    || lo.partial_cmp(&hi) != Some(std::cmp::Ordering::Less)
                {
                    (0, 0)
                } else {
                    (lo as usize, hi as usize)
                }
            })
            .collect();
        Some(ColumnMap { ranges })
    }

    /// Per-column max of `dbfs` into `out` (NaN where the column has no bin).
    fn reduce(&self, dbfs: &[f32], out: &mut [f32]) {
        for (o, &(lo, hi)) in out.iter_mut().zip(&self.ranges) {
            let hi = hi.min(dbfs.len());
            *o = dbfs
                .get(lo..hi)
                .unwrap_or(&[])
                .iter()
                .fold(f32::NAN, |m, &v| m.max(v));
        }
    }
}

/// RGB pixels (3 bytes each, row-major) of `values` through `scale`.
pub fn colourise(values: &[f32], scale: &ColourScale) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(values.len() * 3);
    for &v in values {
        let RGBColor(r, g, b) = scale.colour(v).unwrap_or(NO_DATA);
        rgb.extend_from_slice(&[r, g, b]);
    }
    rgb
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize, bins: usize, hot_bin: usize) -> Vec<SpectrumRow> {
        (0..n)
            .map(|i| {
                let mut dbfs = vec![-100.0; bins];
                dbfs[hot_bin] = -20.0;
                SpectrumRow {
                    start_sample: (i * 100) as u64,
                    sample_count: 100,
                    dbfs,
                }
            })
            .collect()
    }

    #[test]
    fn a_single_hot_bin_survives_zooming_out() {
        let r = rows(50, 4096, 3000);
        let set = RowSet::of_tuning(0.0, 4096.0, &r);
        let view = View {
            low_hz: -2048.0,
            high_hz: 2048.0,
            first_sample: 0.0,
            end_sample: 5000.0,
        };
        let v = raster_values(&[set], view, 100, 10);
        // Bin 3000 is at +952 Hz: column floor(3000/4096*100) = 73.
        for y in 0..10 {
            let row = &v[y * 100..(y + 1) * 100];
            let hot: Vec<usize> = (0..100).filter(|&x| row[x] > -50.0).collect();
            assert_eq!(hot, vec![73]);
        }
    }

    #[test]
    fn pixels_outside_data_are_nan_and_odd_views_do_not_panic() {
        let r = rows(1, 8, 2);
        let set = RowSet::of_tuning(1e6, 8.0, &r);
        let view = View {
            low_hz: 1e6 - 8.0,
            high_hz: 1e6 + 8.0,
            first_sample: -100.0,
            end_sample: 200.0,
        };
        let v = raster_values(&[set], view, 16, 3);
        assert!(v[..16].iter().all(|x| x.is_nan()), "before the data");
        assert!(v[16..32].iter().any(|x| x.is_finite()));
        assert!(v[16..19].iter().all(|x| x.is_nan()), "left of the band");
        assert!(v[19].is_finite(), "lowest bin");
        for odd in [
            View {
                low_hz: 5.0,
                high_hz: 5.0,
                first_sample: 0.0,
                end_sample: 0.0,
            },
            View {
                low_hz: f64::NAN,
                high_hz: 1.0,
                first_sample: 9.0,
                end_sample: 1.0,
            },
        ] {
            let v = raster_values(&[set], odd, 7, 5);
            assert_eq!(v.len(), 35);
        }
        assert!(raster_values(&[set], view, 0, 0).is_empty());
        let empty = RowSet { rows: &[], ..set };
        assert!(raster_values(&[empty], view, 4, 4)
            .iter()
            .all(|x| x.is_nan()));
    }
}
