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
            return Err(Error::config(format!(
                "fft size {} is out of range: expected 16 to 1048576",
                self.fft_size
            )));
        }
        if !(0.0..0.95).contains(&self.overlap) {
            return Err(Error::config(format!(
                "overlap {} is out of range: expected 0 ≤ overlap < 0.95",
                self.overlap
            )));
        }
        if !(self.integration_s.is_finite()
            && self.integration_s > 0.0
            && self.integration_s <= 3600.0)
        {
            return Err(Error::config(format!(
                "integration time {} s is out of range: expected more than 0 and at most 3600 s",
                self.integration_s
            )));
        }
        if !(sample_rate.is_finite() && sample_rate > 0.0) {
            return Err(Error::config(format!(
                "sample rate {sample_rate} must be positive"
            )));
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

/// The streaming Welch estimator.
pub struct PsdEngine {
    config: PsdConfig,
    sample_rate: f64,
    fft: Arc<dyn Fft<f32>>,
    window: Vec<f32>,
    buf: Vec<Sample>,
    scratch: Vec<Sample>,
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
        let scratch = vec![Sample::default(); fft.get_inplace_scratch_len()];
        Ok(PsdEngine {
            config,
            sample_rate,
            window,
            buf: vec![Sample::default(); n],
            scratch,
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
        self.ffts_in_frame = 0;
        self.clipped = 0;
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
        while self.next_fft + n <= end {
            self.load_segment(start, samples);
            self.transform_and_accumulate();
            self.next_fft += self.hop as u64;
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

    /// Window the segment starting at `next_fft` into `buf`, counting clipped
    /// samples among the first `hop` (so each sample is counted once).
    fn load_segment(&mut self, block_start: u64, block: &[Sample]) {
        let n = self.config.fft_size;
        let seg = self.next_fft;
        let from_carry = if seg < block_start {
            (block_start - seg) as usize
        } else {
            0
        };
        let mut clipped = 0u64;
        let clip = self.clip_level;
        let hop = self.hop;
        let mut fill = |dst: &mut [Sample], src: &[Sample], win: &[f32], offset: usize| {
            for (k, ((d, s), w)) in dst.iter_mut().zip(src).zip(win).enumerate() {
                *d = s * *w;
                if k + offset < hop {
                    clipped += (s.re.abs() >= clip || s.im.abs() >= clip) as u64;
                }
            }
        };
        if from_carry > 0 {
            let c0 = (seg - self.carry_start) as usize;
            fill(
                &mut self.buf[..from_carry],
                &self.carry[c0..c0 + from_carry],
                &self.window[..from_carry],
                0,
            );
            fill(
                &mut self.buf[from_carry..],
                &block[..n - from_carry],
                &self.window[from_carry..],
                from_carry,
            );
        } else {
            let b0 = (seg - block_start) as usize;
            fill(&mut self.buf[..], &block[b0..b0 + n], &self.window[..], 0);
        }
        self.clipped += clipped;
    }

    fn transform_and_accumulate(&mut self) {
        self.fft
            .process_with_scratch(&mut self.buf, &mut self.scratch);
        let mut total = 0.0f32;
        for ((x, a), m) in self
            .buf
            .iter()
            .zip(self.acc.iter_mut())
            .zip(self.maxhold.iter_mut())
        {
            let p = x.norm_sqr();
            *a += p;
            *m = m.max(p);
            total += p;
        }
        self.powers.push(to_db(total * self.power_norm));
        self.ffts_in_frame += 1;
    }

    fn finish_frame(&mut self) -> PsdFrame {
        let n = self.config.fft_size;
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
        };
        debug_assert_eq!(frame.mean_dbfs.len(), n);
        self.clear_frame();
        frame
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
