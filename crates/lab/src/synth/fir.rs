//! FIR filtering for band-limited signals: windowed-sinc low-pass design
//! (Blackman window) and a streaming FFT overlap-save filter, so even the
//! thousands of taps a narrow band needs for sharp edges stay cheap.
//!
//! The FFT uses rustfft's scalar planner: the same result on every CPU, so
//! recordings stay byte-identical across machines.

use crate::iq::Sample;
use rustfft::{Fft, FftPlannerScalar};
use std::f64::consts::{PI, TAU};
use std::sync::Arc;

/// Fewest taps of a designed filter.
pub const MIN_TAPS: usize = 129;
/// Most taps of a designed filter (the edges of very narrow bands are then
/// wider than the target, but still only tens of Hz at usual rates).
pub const MAX_TAPS: usize = 16_385;

/// Transition width of a Blackman-windowed sinc, in cycles per sample × taps.
const BLACKMAN_TRANSITION: f64 = 5.5;

/// Odd number of taps whose transition band (to about -74 dB) is `transition`
/// cycles per sample wide, within [`MIN_TAPS`, `MAX_TAPS`].
pub fn taps_for_transition(transition: f64) -> usize {
    let wanted = (BLACKMAN_TRANSITION / transition).ceil();
    let taps = if wanted.is_finite() {
        wanted.clamp(MIN_TAPS as f64, MAX_TAPS as f64) as usize
    } else {
        MAX_TAPS
    };
    taps | 1
}

/// Windowed-sinc low-pass with its -6 dB point at `cutoff` cycles per sample
/// (one-sided, 0 < cutoff ≤ 0.5) and unit gain at DC.
pub fn lowpass_taps(cutoff: f64, taps: usize) -> Vec<f64> {
    let middle = (taps - 1) as f64 / 2.0;
    let mut h: Vec<f64> = (0..taps)
        .map(|k| {
            let t = k as f64 - middle;
            let sinc = if t == 0.0 {
                2.0 * cutoff
            } else {
                (TAU * cutoff * t).sin() / (PI * t)
            };
            let x = TAU * k as f64 / (taps - 1) as f64;
            let blackman = 0.42 - 0.5 * x.cos() + 0.08 * (2.0 * x).cos();
            sinc * blackman
        })
        .collect();
    let dc: f64 = h.iter().sum();
    for tap in &mut h {
        *tap /= dc;
    }
    h
}

/// A streaming FIR filter with complex taps, computed by FFT overlap-save.
/// Each [`FftFilter::process`] call takes [`FftFilter::hop`] new input samples
/// and returns as many outputs of the linear convolution.
pub struct FftFilter {
    taps: usize,
    /// FFT of the zero-padded taps, scaled by 1/N for the inverse transform.
    response: Vec<Sample>,
    forward: Arc<dyn Fft<f32>>,
    inverse: Arc<dyn Fft<f32>>,
    /// The last `taps - 1` inputs, then room for `hop` new ones.
    buffer: Vec<Sample>,
    history: Vec<Sample>,
    scratch: Vec<Sample>,
}

impl FftFilter {
    /// A filter with the given taps (at least one).
    pub fn new(taps: &[Sample]) -> Self {
        let len = (4 * taps.len()).next_power_of_two().max(4096);
        let mut planner = FftPlannerScalar::new();
        let forward = planner.plan_fft_forward(len);
        let inverse = planner.plan_fft_inverse(len);
        let scratch_len = forward
            .get_inplace_scratch_len()
            .max(inverse.get_inplace_scratch_len());
        let mut scratch = vec![Sample::default(); scratch_len];
        let mut response = vec![Sample::default(); len];
        response[..taps.len()].copy_from_slice(taps);
        forward.process_with_scratch(&mut response, &mut scratch);
        let scale = 1.0 / len as f32;
        for r in &mut response {
            *r *= scale;
        }
        FftFilter {
            taps: taps.len(),
            response,
            forward,
            inverse,
            buffer: vec![Sample::default(); len],
            history: vec![Sample::default(); taps.len() - 1],
            scratch,
        }
    }

    /// New input samples consumed (and outputs produced) per call.
    pub fn hop(&self) -> usize {
        self.response.len() - (self.taps - 1)
    }

    /// Filter `input` (exactly [`hop`](Self::hop) samples) into `output` (as many).
    pub fn process(&mut self, input: &[Sample], output: &mut [Sample]) {
        let keep = self.taps - 1;
        self.buffer[..keep].copy_from_slice(&self.history);
        self.buffer[keep..].copy_from_slice(input);
        let tail = self.buffer.len() - keep;
        self.history.copy_from_slice(&self.buffer[tail..]);
        self.forward
            .process_with_scratch(&mut self.buffer, &mut self.scratch);
        for (x, h) in self.buffer.iter_mut().zip(&self.response) {
            *x *= h;
        }
        self.inverse
            .process_with_scratch(&mut self.buffer, &mut self.scratch);
        output.copy_from_slice(&self.buffer[keep..]);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rustfft::FftPlanner;

    /// Averaged periodogram of `x` in `n`-point rectangular segments: bin `k`
    /// is the mean of `|X[k]|² / n` (frequency `k·rate/n`, upper half negative),
    /// so white noise of power P reads P in every bin and a tone on a bin
    /// centre of power A reads `n·A` in its bin.
    pub(crate) fn averaged_periodogram(x: &[Sample], n: usize) -> Vec<f64> {
        let fft = FftPlanner::new().plan_fft_forward(n);
        let mut psd = vec![0f64; n];
        let segments = x.chunks_exact(n);
        let count = segments.len() as f64;
        for segment in segments {
            let mut buf = segment.to_vec();
            fft.process(&mut buf);
            for (p, b) in psd.iter_mut().zip(&buf) {
                *p += b.norm_sqr() as f64 / n as f64 / count;
            }
        }
        psd
    }

    /// Fraction of the power of `x` (Hann-windowed averaged periodogram) that
    /// lies between `low_hz` and `high_hz` offsets from the centre.
    pub(crate) fn band_power_fraction(x: &[Sample], rate: f64, low_hz: f64, high_hz: f64) -> f64 {
        let n = 4096;
        let fft = FftPlanner::new().plan_fft_forward(n);
        let mut psd = vec![0f64; n];
        for segment in x.chunks_exact(n) {
            let mut buf: Vec<Sample> = segment
                .iter()
                .enumerate()
                .map(|(i, s)| s * (0.5 - 0.5 * (TAU * i as f64 / n as f64).cos()) as f32)
                .collect();
            fft.process(&mut buf);
            for (p, b) in psd.iter_mut().zip(&buf) {
                *p += b.norm_sqr() as f64;
            }
        }
        let total: f64 = psd.iter().sum();
        let inside: f64 = psd
            .iter()
            .enumerate()
            .filter(|(k, _)| {
                let k = *k as f64;
                let f = if k < n as f64 / 2.0 { k } else { k - n as f64 } * rate / n as f64;
                (low_hz..=high_hz).contains(&f)
            })
            .map(|(_, p)| p)
            .sum();
        inside / total
    }

    #[test]
    fn lowpass_has_unit_dc_gain_and_its_cutoff() {
        let h = lowpass_taps(0.1, 301);
        assert_eq!(h.len(), 301);
        let gain = |f: f64| {
            let z: num_complex::Complex64 = h
                .iter()
                .enumerate()
                .map(|(k, &c)| num_complex::Complex64::from_polar(c, -TAU * f * k as f64))
                .sum();
            z.norm()
        };
        assert!((gain(0.0) - 1.0).abs() < 1e-9);
        assert!((gain(0.1) - 0.5).abs() < 0.01);
        assert!(gain(0.05) > 0.999);
        assert!(gain(0.1 + 5.5 / 301.0) < 3e-4);
    }

    #[test]
    fn taps_count_is_odd_and_clamped() {
        assert_eq!(taps_for_transition(0.5), MIN_TAPS);
        assert_eq!(taps_for_transition(1e-9), MAX_TAPS);
        assert_eq!(taps_for_transition(0.0), MAX_TAPS);
        assert_eq!(taps_for_transition(5.5 / 1000.0), 1001);
    }

    #[test]
    fn overlap_save_equals_direct_convolution() {
        let taps: Vec<Sample> = (0..200)
            .map(|k| Sample::new((k as f32 * 0.37).sin(), (k as f32 * 0.11).cos()))
            .collect();
        let mut filter = FftFilter::new(&taps);
        let hop = filter.hop();
        let input: Vec<Sample> = (0..3 * hop)
            .map(|n| Sample::new((n as f32 * 0.013).sin(), ((n * n) % 17) as f32 / 17.0))
            .collect();
        let mut output = vec![Sample::default(); input.len()];
        for (i, o) in input.chunks(hop).zip(output.chunks_mut(hop)) {
            filter.process(i, o);
        }
        for n in (0..input.len()).step_by(97) {
            let direct: Sample = (0..taps.len())
                .filter(|&k| k <= n)
                .map(|k| taps[k] * input[n - k])
                .sum();
            assert!((direct - output[n]).norm() < 1e-3, "sample {n}");
        }
    }
}
