//! The streaming Welch PSD engine.
//!
//! Samples arrive in blocks of any size; the engine cuts them into FFT
//! segments of `fft_size` samples every `hop` samples (overlap), applies the
//! window, transforms with a rustfft plan made once, and accumulates |X|² and
//! a per-bin max-hold. Every `ffts_per_frame` segments (the integration time)
//! it emits a [`PsdFrame`]: FFT-shifted bins in dBFS per bin (a full-scale
//! complex tone reads 0 dBFS), with absolute frequencies.

use super::Window;
use crate::iq::Sample;
use crate::{Error, Result};
use rustfft::{Fft, FftPlanner};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Lowest level reported, so exact-zero input (squelched recordings) stays finite.
pub const FLOOR_DBFS: f32 = -200.0;

/// What to do with the DC bin, where most direct-conversion receivers show a spike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DcMode {
    /// Replace the DC bin by the mean of its two neighbours (what gqrx/SDR# users expect).
    #[default]
    Interpolate,
    /// Keep the DC bin as measured.
    Keep,
}

/// Welch PSD settings. They are part of a profile: monitoring must use the
/// settings the baseline was learned with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PsdConfig {
    /// FFT length in samples (a power of two is fastest; any size ≥ 16 works).
    pub fft_size: usize,
    pub window: Window,
    /// Overlap between consecutive FFT segments, 0 ≤ overlap < 1.
    pub overlap: f64,
    /// Seconds of signal averaged into one frame.
    pub integration_s: f64,
    pub dc: DcMode,
}

impl Default for PsdConfig {
    fn default() -> Self {
        PsdConfig {
            fft_size: 1024,
            window: Window::Hann,
            overlap: 0.0,
            integration_s: 0.05,
            dc: DcMode::Interpolate,
        }
    }
}

impl PsdConfig {
    /// Check the settings are usable at `sample_rate`.
    pub fn validate(&self, sample_rate: f64) -> Result<()> {
        if !(16..=1 << 20).contains(&self.fft_size) {
            return Err(Error::setting("fft size", self.fft_size, "16 to 1048576"));
        }
        if !(0.0..0.95).contains(&self.overlap) {
            return Err(Error::setting(
                "overlap",
                self.overlap,
                "0 ≤ overlap < 0.95",
            ));
        }
        if !(self.integration_s.is_finite()
            && self.integration_s > 0.0
            && self.integration_s <= 3600.0)
        {
            return Err(Error::setting(
                "integration time",
                format!("{} s", self.integration_s),
                "more than 0 and at most 3600 s",
            ));
        }
        if !(sample_rate.is_finite() && sample_rate > 0.0) {
            return Err(Error::setting(
                "sample rate",
                sample_rate,
                "a positive number of samples per second",
            ));
        }
        Ok(())
    }

    /// Samples between the starts of consecutive FFT segments.
    pub fn hop(&self) -> usize {
        let overlap = (self.overlap * self.fft_size as f64).round() as usize;
        (self.fft_size - overlap.min(self.fft_size - 1)).max(1)
    }

    /// FFT segments averaged into one frame at `sample_rate`.
    pub fn ffts_per_frame(&self, sample_rate: f64) -> usize {
        let span = self.integration_s * sample_rate;
        (span / self.hop() as f64).round().max(1.0) as usize
    }

    /// Samples a frame advances by at `sample_rate`.
    pub fn frame_samples(&self, sample_rate: f64) -> u64 {
        (self.ffts_per_frame(sample_rate) * self.hop()) as u64
    }
}

/// FFT segments of a frame whose raw samples travel with it as its probe.
pub const PROBE_SEGMENTS: usize = 4;
/// Most samples in a frame's probe (very large FFTs keep one segment).
pub const PROBE_MAX_SAMPLES: usize = 1 << 14;

/// One averaged spectrum: the unit every detector works on.
#[derive(Debug, Clone, PartialEq)]
pub struct PsdFrame {
    /// Index of the tuning (scan-plan segment) this frame was measured at.
    pub segment: usize,
    /// Sample index (from the start of the stream) of the frame's first sample.
    pub start_sample: u64,
    /// Samples the frame advances by (`ffts × hop`).
    pub sample_count: u64,
    pub center_hz: f64,
    pub sample_rate: f64,
    /// Welch average per bin, dBFS, lowest frequency first.
    pub mean_dbfs: Vec<f32>,
    /// Max-hold per bin over the frame's FFT segments, dBFS.
    pub max_dbfs: Vec<f32>,
    /// Total power of each FFT segment, dBFS, in time order.
    pub fft_power_dbfs: Vec<f32>,
    /// Samples in the frame whose I or Q reached the ADC's full scale.
    pub clipped: u64,
    /// The raw samples of a few of the frame's FFT segments, evenly spread
    /// ([`PROBE_SEGMENTS`], at most [`PROBE_MAX_SAMPLES`]), one after the
    /// other, `fft_size` each: what a detector needs to look at the
    /// signal itself (a sweep faster than an FFT has a constant envelope
    /// where noise has not).
    pub probe: Vec<Sample>,
}

impl PsdFrame {
    /// Number of bins.
    pub fn bins(&self) -> usize {
        self.mean_dbfs.len()
    }

    /// Width of one bin in Hz.
    pub fn bin_width_hz(&self) -> f64 {
        self.sample_rate / self.bins() as f64
    }

    /// Absolute centre frequency of bin `i`.
    pub fn bin_hz(&self, i: usize) -> f64 {
        bin_hz(self.center_hz, self.sample_rate, self.bins(), i)
    }

    /// Exclusive end sample.
    pub fn end_sample(&self) -> u64 {
        self.start_sample + self.sample_count
    }
}

/// Absolute centre frequency of bin `i` of an FFT-shifted spectrum of `bins` bins.
pub fn bin_hz(center_hz: f64, sample_rate: f64, bins: usize, i: usize) -> f64 {
    center_hz + (i as f64 - (bins / 2) as f64) * sample_rate / bins as f64
}

/// Fractional bin index of absolute frequency `hz` (may lie outside 0..bins).
pub fn hz_to_bin(center_hz: f64, sample_rate: f64, bins: usize, hz: f64) -> f64 {
    (hz - center_hz) * bins as f64 / sample_rate + (bins / 2) as f64
}

/// Power ratio to dB, floored at [`FLOOR_DBFS`].
#[inline]
pub fn to_db(power: f32) -> f32 {
    if power > 1e-20 {
        10.0 * power.log10()
    } else {
        FLOOR_DBFS
    }
}

/// Samples (segments × FFT size) windowed and transformed per FFT call: a few
/// segments, so the per-segment work is amortised and the batch stays in the
/// L2 cache between the transform and the squaring.
const BATCH_SAMPLES: usize = 16 * 1024;

/// The streaming Welch estimator.
///
/// Segments are processed in batches: the segments of a batch are windowed
/// into one buffer and transformed by one rustfft call; then eight at a time
/// their |X|² is folded into the average and the max-hold and summed into
/// each segment's total power. Every bin's sum and every segment's total are
/// accumulated in exactly the order of a plain one-segment-at-a-time loop
/// (window, FFT, `acc[i] += |X[i]|²`, `total += |X[i]|²` for i = 0, 1, …), so
/// the frames do not depend on block sizes, batch sizes or the instruction
/// set: they are bit-identical to that loop's (`tests/speed_equivalence.rs`).
pub struct PsdEngine {
    config: PsdConfig,
    sample_rate: f64,
    fft: Arc<dyn Fft<f32>>,
    /// The window, each coefficient twice (for I and Q).
    window2: Vec<f32>,
    kernels: Kernels,
    /// Segments per FFT call.
    batch: usize,
    /// Windowed segments of one batch, transformed in place.
    buf: Vec<Sample>,
    scratch: Vec<Sample>,
    /// |X|² of the segments squared one by one, waiting to be summed.
    pending: Pending,
    acc: Vec<f32>,
    maxhold: Vec<f32>,
    powers: Vec<f32>,
    hop: usize,
    ffts_per_frame: usize,
    ffts_in_frame: usize,
    /// Normalises |X|² so a full-scale tone reads 1.0: 1 / (Σw)².
    tone_norm: f32,
    /// Normalises Σ|X|² to mean sample power: 1 / (N·Σw²).
    power_norm: f32,
    clip_level: f32,
    clipped: u64,
    probe: Vec<Sample>,
    /// Every how many segments one goes into the probe, and how many at most.
    probe_stride: usize,
    probe_max: usize,
    /// Samples not yet consumed by a complete FFT segment, starting at `carry_start`.
    carry: Vec<Sample>,
    carry_start: u64,
    /// Absolute sample index where the next FFT segment starts.
    next_fft: u64,
    /// Where the stream is expected to continue (to spot gaps).
    expected_next: Option<u64>,
    frame_start: u64,
    segment: usize,
    center_hz: f64,
}

impl PsdEngine {
    /// A new engine for a stream at `sample_rate` tuned to `center_hz`.
    /// `clip_level` is the |I| or |Q| counted as clipped (see `Datatype::clip_level`).
    pub fn new(
        config: PsdConfig,
        sample_rate: f64,
        center_hz: f64,
        clip_level: f32,
    ) -> Result<Self> {
        config.validate(sample_rate)?;
        let n = config.fft_size;
        let fft = FftPlanner::<f32>::new().plan_fft_forward(n);
        let window = config.window.coefficients(n);
        let s1: f64 = window.iter().map(|&w| w as f64).sum();
        let s2: f64 = window.iter().map(|&w| (w as f64).powi(2)).sum();
        // At least eight segments (one group for the eight-segment kernel)
        // while they fit in L2.
        let batch = (BATCH_SAMPLES / n).max(if n <= 1 << 14 { 8 } else { 1 });
        // Eight pending rows make one pass of the eight-row sum (up to 2 MiB).
        let pending_max = if n <= 1 << 16 { 8 } else { 1 };
        Ok(PsdEngine {
            config,
            sample_rate,
            window2: window.iter().flat_map(|&w| [w, w]).collect(),
            kernels: Kernels::detect(),
            batch,
            buf: vec![Sample::default(); batch * n],
            scratch: vec![Sample::default(); fft.get_inplace_scratch_len()],
            pending: Pending {
                rows: vec![0.0; pending_max * n],
                count: 0,
                max: pending_max,
            },
            acc: vec![0.0; n],
            maxhold: vec![0.0; n],
            powers: Vec::new(),
            hop: config.hop(),
            ffts_per_frame: config.ffts_per_frame(sample_rate),
            ffts_in_frame: 0,
            tone_norm: (1.0 / (s1 * s1)) as f32,
            power_norm: (1.0 / (n as f64 * s2)) as f32,
            clip_level,
            clipped: 0,
            probe: Vec::new(),
            probe_stride: (config.ffts_per_frame(sample_rate) / PROBE_SEGMENTS).max(1),
            probe_max: (PROBE_MAX_SAMPLES / n).clamp(1, PROBE_SEGMENTS),
            carry: Vec::with_capacity(n),
            carry_start: 0,
            next_fft: 0,
            expected_next: None,
            frame_start: 0,
            segment: 0,
            center_hz,
            fft,
        })
    }

    /// The settings in use.
    pub fn config(&self) -> &PsdConfig {
        &self.config
    }

    /// Start afresh at a new tuning (a scan-plan retune): any partial frame is dropped.
    pub fn retune(&mut self, segment: usize, center_hz: f64) {
        self.segment = segment;
        self.center_hz = center_hz;
        self.expected_next = None;
    }

    fn restart_at(&mut self, sample: u64) {
        self.carry.clear();
        self.carry_start = sample;
        self.next_fft = sample;
        self.frame_start = sample;
        self.clear_frame();
    }

    fn clear_frame(&mut self) {
        self.acc.iter_mut().for_each(|a| *a = 0.0);
        self.maxhold.iter_mut().for_each(|a| *a = 0.0);
        self.powers.clear();
        self.pending.count = 0;
        self.ffts_in_frame = 0;
        self.clipped = 0;
        self.probe.clear();
    }

    /// Feed a block of samples starting at absolute index `start`. A block that
    /// does not continue the previous one (a gap) drops the partial frame.
    /// Every completed frame is passed to `emit`.
    pub fn push(&mut self, start: u64, samples: &[Sample], mut emit: impl FnMut(PsdFrame)) {
        if self.expected_next != Some(start) {
            self.restart_at(start);
        }
        let end = start + samples.len() as u64;
        self.expected_next = Some(end);
        let n = self.config.fft_size as u64;
        let hop = self.hop as u64;
        while self.next_fft + n <= end {
            // Segments wholly available, up to the end of the frame.
            let ready = ((end - n - self.next_fft) / hop + 1) as usize;
            let count = ready
                .min(self.ffts_per_frame - self.ffts_in_frame)
                .min(self.batch);
            self.process_batch(start, samples, count);
            if self.ffts_in_frame == self.ffts_per_frame {
                emit(self.finish_frame());
                self.frame_start = self.next_fft;
            }
        }
        // Keep what the next segment still needs.
        let keep_from = self.next_fft.max(self.carry_start);
        if keep_from >= start {
            self.carry.clear();
            self.carry
                .extend_from_slice(&samples[(keep_from - start) as usize..]);
        } else {
            self.carry.drain(..(keep_from - self.carry_start) as usize);
            self.carry.extend_from_slice(samples);
        }
        self.carry_start = keep_from;
    }

    /// Window, transform, square and accumulate the `count` segments starting
    /// at `next_fft`, all within the carry and `block`.
    fn process_batch(&mut self, block_start: u64, block: &[Sample], count: usize) {
        let (n, hop) = (self.config.fft_size, self.hop);
        let k = self.kernels;
        for j in 0..count {
            let seg = self.next_fft + (j * hop) as u64;
            let (a, b) = span(
                (&self.carry, self.carry_start),
                (block, block_start),
                seg,
                n,
            );
            let dst = &mut self.buf[j * n..(j + 1) * n];
            if (self.ffts_in_frame + j) % self.probe_stride == 0
                && self.probe.len() < self.probe_max * n
            {
                self.probe.extend_from_slice(a);
                self.probe.extend_from_slice(b);
            }
            self.clipped += window_segment(&k, &self.window2, hop, self.clip_level, dst, a, b);
        }
        let buf = &mut self.buf[..count * n];
        self.fft.process_with_scratch(buf, &mut self.scratch);
        let x = as_f32(buf);
        // Eight segments at a time: squared, folded and summed in one pass.
        let norm = self.power_norm;
        let grouped = count / 8 * 8;
        if grouped > 0 {
            self.pending.flush(&k, n, norm, &mut self.powers);
        }
        for x in x[..2 * grouped * n].chunks_exact(16 * n) {
            let scratch = &mut self.pending.rows;
            // SAFETY: `kernels` only holds instruction-set variants the CPU supports.
            let sums = unsafe { (k.fold8)(x, n, &mut self.acc, &mut self.maxhold, scratch) };
            self.powers.extend(sums.iter().map(|&t| to_db(t * norm)));
        }
        // The rest one by one; their sums wait for eight rows (or the frame's end).
        for x in x[2 * grouped * n..].chunks_exact(2 * n) {
            let c = self.pending.count;
            let p = &mut self.pending.rows[c * n..(c + 1) * n];
            // SAFETY: as above.
            unsafe { (k.power_fold)(x, p, &mut self.acc, &mut self.maxhold) };
            self.pending.count += 1;
            if self.pending.count == self.pending.max {
                self.pending.flush(&k, n, norm, &mut self.powers);
            }
        }
        self.ffts_in_frame += count;
        self.next_fft += (count * hop) as u64;
    }

    fn finish_frame(&mut self) -> PsdFrame {
        let n = self.config.fft_size;
        let norm = self.power_norm;
        self.pending.flush(&self.kernels, n, norm, &mut self.powers);
        let mean_scale = self.tone_norm / self.ffts_in_frame as f32;
        let mean_dbfs = shifted_db(&self.acc, mean_scale, self.config.dc);
        let max_dbfs = shifted_db(&self.maxhold, self.tone_norm, self.config.dc);
        let frame = PsdFrame {
            segment: self.segment,
            start_sample: self.frame_start,
            sample_count: (self.ffts_in_frame * self.hop) as u64,
            center_hz: self.center_hz,
            sample_rate: self.sample_rate,
            mean_dbfs,
            max_dbfs,
            fft_power_dbfs: std::mem::take(&mut self.powers),
            clipped: self.clipped,
            probe: std::mem::take(&mut self.probe),
        };
        debug_assert_eq!(frame.mean_dbfs.len(), n);
        self.clear_frame();
        frame
    }
}

/// Rows of |X|² (one per segment, oldest first) whose sums are still to be
/// taken: summing eight rows side by side is far quicker than one by one.
struct Pending {
    rows: Vec<f32>,
    count: usize,
    /// Rows held at most (8, or 1 for very large FFTs).
    max: usize,
}

impl Pending {
    /// Append the rows' Σ|X|² (× `norm`, in dB) to `powers`, oldest first.
    fn flush(&mut self, kernels: &Kernels, n: usize, norm: f32, powers: &mut Vec<f32>) {
        let rows = &self.rows[..self.count * n];
        let sums = if self.count == 8 {
            // SAFETY: `kernels` only holds instruction-set variants the CPU supports.
            unsafe { (kernels.totals8)(rows, n) }
        } else {
            row_sums(rows, n)
        };
        powers.extend(sums[..self.count].iter().map(|&t| to_db(t * norm)));
        self.count = 0;
    }
}

/// Window the segment made of `a` then `b` into `dst`; returns the clipped
/// samples among its first `hop` (so that each sample is counted once).
fn window_segment(
    k: &Kernels,
    window2: &[f32],
    hop: usize,
    clip_level: f32,
    dst: &mut [Sample],
    a: &[Sample],
    b: &[Sample],
) -> u64 {
    debug_assert_eq!(a.len() + b.len(), dst.len());
    let mut clipped = 0;
    let mut from = 0;
    for src in [a, b] {
        let to = from + src.len();
        let counted = hop.clamp(from, to) - from;
        let (d0, d1) = as_f32_mut(&mut dst[from..to]).split_at_mut(2 * counted);
        let (w0, w1) = window2[2 * from..2 * to].split_at(2 * counted);
        // SAFETY: `kernels` only holds instruction-set variants the CPU supports.
        unsafe {
            clipped += (k.window_clipped)(d0, &src[..counted], w0, clip_level);
            (k.window)(d1, as_f32(&src[counted..]), w1);
        }
        from = to;
    }
    clipped
}

/// The `len` samples starting at absolute index `from`, as the part held in
/// the carry and the part in the block (either may be empty).
fn span<'a>(
    (carry, carry_start): (&'a [Sample], u64),
    (block, block_start): (&'a [Sample], u64),
    from: u64,
    len: usize,
) -> (&'a [Sample], &'a [Sample]) {
    if from < block_start {
        let c0 = (from - carry_start) as usize;
        let in_carry = ((block_start - from) as usize).min(len);
        (&carry[c0..c0 + in_carry], &block[..len - in_carry])
    } else {
        let b0 = (from - block_start) as usize;
        (&[], &block[b0..b0 + len])
    }
}

/// The sums of up to eight `n`-value rows, each in index order, by plain
/// scalar chains (interleaved, so that they run side by side).
fn row_sums(rows: &[f32], n: usize) -> [f32; 8] {
    let mut t = [0.0f32; 8];
    if n == 0 {
        return t;
    }
    let mut lanes: [&[f32]; 8] = [&[]; 8];
    let mut k = 0;
    for (lane, row) in lanes.iter_mut().zip(rows.chunks_exact(n)) {
        *lane = row;
        k += 1;
    }
    for i in 0..n {
        for (t, lane) in t.iter_mut().zip(&lanes[..k]) {
            *t += lane[i];
        }
    }
    t
}

/// `samples` as interleaved I/Q floats.
fn as_f32(samples: &[Sample]) -> &[f32] {
    // SAFETY: `Complex<f32>` is `#[repr(C)]` { re, im }: two f32s, no padding.
    unsafe { std::slice::from_raw_parts(samples.as_ptr().cast(), 2 * samples.len()) }
}

fn as_f32_mut(samples: &mut [Sample]) -> &mut [f32] {
    // SAFETY: as in `as_f32`.
    unsafe { std::slice::from_raw_parts_mut(samples.as_mut_ptr().cast(), 2 * samples.len()) }
}

/// The inner loops, compiled twice: for the baseline x86-64 (SSE2) or any
/// other target, and for AVX2, picked at run time. They only multiply, add,
/// compare and move (no fused multiply-add, no reordered sums), so both
/// variants give the same bits.
#[derive(Clone, Copy)]
struct Kernels {
    /// dst = src · w (interleaved floats).
    window: unsafe fn(&mut [f32], &[f32], &[f32]),
    /// dst = src · w, returning how many samples have |I| or |Q| ≥ the level.
    window_clipped: unsafe fn(&mut [f32], &[Sample], &[f32], f32) -> u64,
    /// pow = re² + im²; acc += pow; maxhold = max(maxhold, pow).
    power_fold: PowerFold,
    /// The sums of eight consecutive `n`-value rows, each in index order.
    totals8: unsafe fn(&[f32], usize) -> [f32; 8],
    /// `power_fold` of eight consecutive `n`-bin segments in time order,
    /// returning their Σ|X|² (the last argument is scratch room for 8n values).
    fold8: Fold8,
}

/// (x, pow, acc, maxhold).
type PowerFold = unsafe fn(&[f32], &mut [f32], &mut [f32], &mut [f32]);
/// (x, n, acc, maxhold, scratch) → the eight segments' Σ|X|².
type Fold8 = unsafe fn(&[f32], usize, &mut [f32], &mut [f32], &mut [f32]) -> [f32; 8];

macro_rules! kernel_variants {
    ($($(#[$attr:meta])* fn $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)? $body:block)*) => {
        mod portable {
            use super::*;
            $($(#[$attr])* pub fn $name($($arg: $ty),*) $(-> $ret)? $body)*
        }
        #[cfg(target_arch = "x86_64")]
        mod avx2 {
            use super::*;
            $($(#[$attr])*
            #[target_feature(enable = "avx2")]
            pub unsafe fn $name($($arg: $ty),*) $(-> $ret)? $body)*
        }
    };
}

kernel_variants! {
    fn window(dst: &mut [f32], src: &[f32], w: &[f32]) {
        for ((d, s), w) in dst.iter_mut().zip(src).zip(w) {
            *d = s * w;
        }
    }

    fn window_clipped(dst: &mut [f32], src: &[Sample], w: &[f32], clip: f32) -> u64 {
        let mut count = 0u32;
        for ((d, s), w) in dst.chunks_exact_mut(2).zip(src).zip(w.chunks_exact(2)) {
            d[0] = s.re * w[0];
            d[1] = s.im * w[1];
            count += ((s.re.abs() >= clip) | (s.im.abs() >= clip)) as u32;
        }
        count as u64
    }

    fn power_fold(x: &[f32], pow: &mut [f32], acc: &mut [f32], maxhold: &mut [f32]) {
        let it = pow.iter_mut().zip(x.chunks_exact(2)).zip(acc.iter_mut().zip(maxhold.iter_mut()));
        for ((p, c), (a, m)) in it {
            let v = c[0] * c[0] + c[1] * c[1];
            *p = v;
            *a += v;
            *m = max(*m, v);
        }
    }
}

/// The max-hold update: `f32::max(m, p)` as one instruction. The same
/// result here: the max-hold starts at +0 and only ever takes values of `p`,
/// so it is never NaN (a NaN `p` leaves it unchanged either way), and
/// `p = re² + im²` is never −0.
#[inline(always)]
fn max(m: f32, p: f32) -> f32 {
    if p > m {
        p
    } else {
        m
    }
}

fn fold8_portable(
    x: &[f32],
    n: usize,
    acc: &mut [f32],
    maxhold: &mut [f32],
    pow: &mut [f32],
) -> [f32; 8] {
    for (x, p) in x.chunks_exact(2 * n).zip(pow.chunks_exact_mut(n)).take(8) {
        portable::power_fold(x, p, acc, maxhold);
    }
    row_sums(&pow[..8 * n], n)
}

/// `t` plus the columns of the 8×8 tile whose rows are `r`, column 0 first:
/// lane `l` of the result is `t[l] + r[l][0] + r[l][1] + … + r[l][7]`, added
/// in that order.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn add_columns(
    t: std::arch::x86_64::__m256,
    r: &[std::arch::x86_64::__m256; 8],
) -> std::arch::x86_64::__m256 {
    use std::arch::x86_64::*;
    // Rows a..h → columns 0..7.
    let t0 = _mm256_unpacklo_ps(r[0], r[1]); // a0 b0 a1 b1 | a4 b4 a5 b5
    let t1 = _mm256_unpackhi_ps(r[0], r[1]); // a2 b2 a3 b3 | a6 b6 a7 b7
    let t2 = _mm256_unpacklo_ps(r[2], r[3]);
    let t3 = _mm256_unpackhi_ps(r[2], r[3]);
    let t4 = _mm256_unpacklo_ps(r[4], r[5]);
    let t5 = _mm256_unpackhi_ps(r[4], r[5]);
    let t6 = _mm256_unpacklo_ps(r[6], r[7]);
    let t7 = _mm256_unpackhi_ps(r[6], r[7]);
    let s0 = _mm256_shuffle_ps::<0x44>(t0, t2); // a0 b0 c0 d0 | a4 b4 c4 d4
    let s1 = _mm256_shuffle_ps::<0xEE>(t0, t2); // a1 b1 c1 d1 | a5 …
    let s2 = _mm256_shuffle_ps::<0x44>(t1, t3); // a2 … | a6 …
    let s3 = _mm256_shuffle_ps::<0xEE>(t1, t3); // a3 … | a7 …
    let s4 = _mm256_shuffle_ps::<0x44>(t4, t6); // e0 f0 g0 h0 | e4 …
    let s5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
    let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let s7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
    let mut t = t;
    t = _mm256_add_ps(t, _mm256_permute2f128_ps::<0x20>(s0, s4));
    t = _mm256_add_ps(t, _mm256_permute2f128_ps::<0x20>(s1, s5));
    t = _mm256_add_ps(t, _mm256_permute2f128_ps::<0x20>(s2, s6));
    t = _mm256_add_ps(t, _mm256_permute2f128_ps::<0x20>(s3, s7));
    t = _mm256_add_ps(t, _mm256_permute2f128_ps::<0x31>(s0, s4));
    t = _mm256_add_ps(t, _mm256_permute2f128_ps::<0x31>(s1, s5));
    t = _mm256_add_ps(t, _mm256_permute2f128_ps::<0x31>(s2, s6));
    _mm256_add_ps(t, _mm256_permute2f128_ps::<0x31>(s3, s7))
}

/// Eight row sums, each accumulated in index order: 8×8 tiles are transposed
/// in registers so that one vector addition advances all eight sums by one bin.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn totals8_avx2(rows: &[f32], n: usize) -> [f32; 8] {
    use std::arch::x86_64::*;
    assert!(rows.len() >= 8 * n);
    let p = rows.as_ptr();
    let mut t = _mm256_setzero_ps();
    let mut i = 0;
    while i + 8 <= n {
        let r: [__m256; 8] = std::array::from_fn(|l| _mm256_loadu_ps(p.add(l * n + i)));
        t = add_columns(t, &r);
        i += 8;
    }
    let mut out = [0.0f32; 8];
    _mm256_storeu_ps(out.as_mut_ptr(), t);
    for i in i..n {
        for (l, o) in out.iter_mut().enumerate() {
            *o += rows[l * n + i];
        }
    }
    out
}

fn totals8_portable(rows: &[f32], n: usize) -> [f32; 8] {
    row_sums(&rows[..8 * n], n)
}

/// `power_fold` of eight segments and their sums in one pass, eight bins at
/// a time: each segment's |X|² is added to the average and the max-hold in
/// time order, then the tile of 8 × 8 values is added column by column to
/// the eight running sums (each in bin order).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fold8_avx2(
    x: &[f32],
    n: usize,
    acc: &mut [f32],
    maxhold: &mut [f32],
    _pow: &mut [f32],
) -> [f32; 8] {
    use std::arch::x86_64::*;
    assert!(x.len() >= 16 * n && acc.len() >= n && maxhold.len() >= n);
    let xp = x.as_ptr();
    let mut t = _mm256_setzero_ps();
    let mut i = 0;
    while i + 8 <= n {
        let mut a = _mm256_loadu_ps(acc.as_ptr().add(i));
        let mut m = _mm256_loadu_ps(maxhold.as_ptr().add(i));
        let p: [__m256; 8] = std::array::from_fn(|l| {
            let base = xp.add(2 * (l * n + i));
            let lo = _mm256_loadu_ps(base); // r0 i0 r1 i1 | r2 i2 r3 i3
            let hi = _mm256_loadu_ps(base.add(8)); // r4 i4 r5 i5 | r6 i6 r7 i7
            let re = _mm256_shuffle_ps::<0x88>(lo, hi); // r0 r1 r4 r5 | r2 r3 r6 r7
            let im = _mm256_shuffle_ps::<0xDD>(lo, hi);
            let v = _mm256_add_ps(_mm256_mul_ps(re, re), _mm256_mul_ps(im, im));
            // 64-bit blocks 0 2 1 3: bins 0 … 7 in order.
            _mm256_castpd_ps(_mm256_permute4x64_pd::<0xD8>(_mm256_castps_pd(v)))
        });
        for v in &p {
            a = _mm256_add_ps(a, *v);
            // max(p, m): m unless p > m, as `max` above.
            m = _mm256_max_ps(*v, m);
        }
        _mm256_storeu_ps(acc.as_mut_ptr().add(i), a);
        _mm256_storeu_ps(maxhold.as_mut_ptr().add(i), m);
        t = add_columns(t, &p);
        i += 8;
    }
    let mut out = [0.0f32; 8];
    _mm256_storeu_ps(out.as_mut_ptr(), t);
    for i in i..n {
        for (l, o) in out.iter_mut().enumerate() {
            let (re, im) = (x[2 * (l * n + i)], x[2 * (l * n + i) + 1]);
            let v = re * re + im * im;
            acc[i] += v;
            maxhold[i] = max(maxhold[i], v);
            *o += v;
        }
    }
    out
}

impl Kernels {
    fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            return Kernels {
                window: avx2::window,
                window_clipped: avx2::window_clipped,
                power_fold: avx2::power_fold,
                totals8: totals8_avx2,
                fold8: fold8_avx2,
            };
        }
        Self::portable()
    }

    fn portable() -> Self {
        Kernels {
            window: portable::window,
            window_clipped: portable::window_clipped,
            power_fold: portable::power_fold,
            totals8: totals8_portable,
            fold8: fold8_portable,
        }
    }
}

/// FFT-shift `power` (scaled by `scale`) into dB, lowest frequency first,
/// handling the DC bin per `dc`.
fn shifted_db(power: &[f32], scale: f32, dc: DcMode) -> Vec<f32> {
    let n = power.len();
    let half = n / 2;
    let mut lin: Vec<f32> = (0..n).map(|i| power[(i + n - half) % n] * scale).collect();
    if dc == DcMode::Interpolate && n >= 3 {
        lin[half] = 0.5 * (lin[half - 1] + lin[half + 1]);
    }
    lin.into_iter().map(to_db).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};

    fn run(config: PsdConfig, rate: f64, samples: &[Sample], block: usize) -> Vec<PsdFrame> {
        let mut engine = PsdEngine::new(config, rate, 100e6, 1.0).unwrap();
        let mut frames = Vec::new();
        for (i, chunk) in samples.chunks(block).enumerate() {
            engine.push((i * block) as u64, chunk, |f| frames.push(f));
        }
        frames
    }

    fn tone(n: usize, amp: f32, cycles_per_sample: f64) -> Vec<Sample> {
        (0..n)
            .map(|i| {
                Sample::from_polar(
                    amp,
                    (2.0 * std::f64::consts::PI * cycles_per_sample * i as f64) as f32,
                )
            })
            .collect()
    }

    #[test]
    fn tone_of_known_power_reads_right_dbfs_in_right_bin() {
        let rate = 1e6;
        let config = PsdConfig {
            integration_s: 0.01,
            ..Default::default()
        };
        // Exactly on bin +100 of 1024: -6.02 dBFS for amplitude 0.5.
        let x = tone(65536, 0.5, 100.0 / 1024.0);
        let frames = run(config, rate, &x, 5000);
        assert!(!frames.is_empty());
        for f in &frames {
            let (peak, level) = f
                .mean_dbfs
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, v)| (i, *v))
                .unwrap();
            assert_eq!(peak, 512 + 100);
            assert!((level - (-6.0206)).abs() < 0.01, "{level}");
            assert!((f.bin_hz(peak) - (100e6 + 100.0 * rate / 1024.0)).abs() < 1e-6);
            // Total power of a 0.5-amplitude tone: -6.02 dBFS in every FFT.
            for p in &f.fft_power_dbfs {
                assert!((p + 6.0206).abs() < 0.05, "{p}");
            }
        }
    }

    #[test]
    fn white_noise_floor_matches_variance() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let sigma2 = 0.01f64; // -20 dBFS total
        let normal = Normal::new(0.0, (sigma2 / 2.0).sqrt()).unwrap();
        let x: Vec<Sample> = (0..1 << 20)
            .map(|_| {
                Sample::new(
                    normal.sample(&mut rng) as f32,
                    normal.sample(&mut rng) as f32,
                )
            })
            .collect();
        let config = PsdConfig {
            integration_s: 0.5,
            ..Default::default()
        };
        let frames = run(config, 1e6, &x, 4096);
        // Per-bin floor of a tone-calibrated PSD: σ²·ENBW/N.
        let expected = 10.0 * (sigma2 * Window::Hann.enbw_bins(1024) / 1024.0).log10();
        let f = &frames[0];
        let mean_db: f64 = f.mean_dbfs.iter().map(|&v| v as f64).sum::<f64>() / f.bins() as f64;
        // The mean of dB values of an averaged chi-square sits slightly below the linear mean.
        assert!((mean_db - expected).abs() < 0.3, "{mean_db} vs {expected}");
    }

    #[test]
    fn block_size_and_overlap_do_not_change_results() {
        let x = tone(50_000, 0.3, 0.123);
        for overlap in [0.0, 0.5, 0.75] {
            let config = PsdConfig {
                integration_s: 0.005,
                overlap,
                ..Default::default()
            };
            let a = run(config, 1e6, &x, 50_000);
            let b = run(config, 1e6, &x, 777);
            assert_eq!(a, b, "overlap {overlap}");
            assert_eq!(a[1].start_sample, a[0].end_sample());
        }
    }

    #[test]
    fn clipping_is_counted_once_per_sample() {
        let mut x = vec![Sample::new(0.1, 0.0); 30_000];
        for s in x.iter_mut().skip(100).step_by(100) {
            *s = Sample::new(1.0, 0.0);
        }
        let config = PsdConfig {
            integration_s: 0.01024,
            overlap: 0.5,
            ..Default::default()
        };
        let frames = run(config, 1e6, &x, 3000);
        let counted: u64 = frames.iter().map(|f| f.clipped).sum();
        let covered = frames.last().unwrap().end_sample();
        assert_eq!(counted, (100..covered).step_by(100).count() as u64);
    }

    #[test]
    fn kernel_variants_give_the_same_bits() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let normal = Normal::new(0.0f32, 1.0).unwrap();
        let (fast, plain) = (Kernels::detect(), Kernels::portable());
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for n in [1usize, 7, 16, 100, 1024, 1031] {
            let mut v =
                |len: usize| -> Vec<f32> { (0..len).map(|_| normal.sample(&mut rng)).collect() };
            let x = v(2 * n);
            let w = v(2 * n);
            let samples: Vec<Sample> = x.chunks(2).map(|c| Sample::new(c[0], c[1])).collect();
            let (acc0, max0) = (v(n), v(n));
            // SAFETY: `detect` only picks variants this CPU supports.
            unsafe {
                let mut out = [vec![0.0; 2 * n], vec![0.0; 2 * n]];
                for (k, o) in [(&fast, 0), (&plain, 1)] {
                    (k.window)(&mut out[o], &x, &w);
                }
                assert_eq!(bits(&out[0]), bits(&out[1]));
                let mut counts = [0, 0];
                for (k, o) in [(&fast, 0), (&plain, 1)] {
                    counts[o] = (k.window_clipped)(&mut out[o], &samples, &w, 1.0);
                }
                assert_eq!(bits(&out[0]), bits(&out[1]));
                assert_eq!(counts[0], counts[1]);
                let mut pow = [vec![0.0; n], vec![0.0; n]];
                let mut acc = [acc0.clone(), acc0.clone()];
                let mut max = [max0.clone(), max0.clone()];
                for (k, o) in [(&fast, 0), (&plain, 1)] {
                    (k.power_fold)(&x, &mut pow[o], &mut acc[o], &mut max[o]);
                }
                assert_eq!(bits(&pow[0]), bits(&pow[1]));
                assert_eq!(bits(&acc[0]), bits(&acc[1]));
                assert_eq!(bits(&max[0]), bits(&max[1]));
                // Eight segments folded and summed in one pass, against one by one.
                let x8 = v(16 * n);
                let mut acc8 = [acc0.clone(), acc0.clone(), acc0.clone()];
                let mut max8 = [max0.clone(), max0.clone(), max0.clone()];
                let mut scratch = vec![0.0; 8 * n];
                let s0 = (fast.fold8)(&x8, n, &mut acc8[0], &mut max8[0], &mut scratch);
                let s1 = (plain.fold8)(&x8, n, &mut acc8[1], &mut max8[1], &mut scratch);
                let mut one_by_one = [0.0f32; 8];
                for (l, x) in x8.chunks_exact(2 * n).enumerate() {
                    let mut p = vec![0.0; n];
                    (plain.power_fold)(x, &mut p, &mut acc8[2], &mut max8[2]);
                    one_by_one[l] = p.iter().fold(0.0, |a, &b| a + b);
                }
                assert_eq!(bits(&s0), bits(&s1));
                assert_eq!(bits(&s0), bits(&one_by_one));
                for i in 1..3 {
                    assert_eq!(bits(&acc8[0]), bits(&acc8[i]));
                    assert_eq!(bits(&max8[0]), bits(&max8[i]));
                }
                let rows: Vec<f32> = v(8 * n).iter().map(|a| a * a).collect();
                let sums = (fast.totals8)(&rows, n);
                assert_eq!(bits(&sums), bits(&(plain.totals8)(&rows, n)));
                assert_eq!(bits(&sums), bits(&row_sums(&rows, n)));
                for (l, s) in sums.iter().enumerate() {
                    let plain_sum = rows[l * n..(l + 1) * n].iter().fold(0.0f32, |a, &b| a + b);
                    assert_eq!(s.to_bits(), plain_sum.to_bits());
                }
            }
        }
    }

    #[test]
    fn a_gap_restarts_the_frame() {
        let x = tone(20_000, 0.3, 0.1);
        let config = PsdConfig {
            integration_s: 0.004,
            ..Default::default()
        };
        let mut engine = PsdEngine::new(config, 1e6, 0.0, 1.0).unwrap();
        let mut starts = Vec::new();
        engine.push(0, &x[..5000], |f| starts.push(f.start_sample));
        engine.push(100_000, &x[5000..], |f| starts.push(f.start_sample));
        assert_eq!(starts[0], 0);
        assert_eq!(starts[1], 100_000);
    }
}
