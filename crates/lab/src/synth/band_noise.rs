//! Band-limited complex Gaussian noise, flat over a band with sharp edges:
//! white noise through a windowed-sinc low-pass shifted to the band's centre.
//! The one generator behind barrage jammers, pulsed jammers and rogue
//! wideband (OFDM/QPSK-like) emitters.

use super::fir::{lowpass_taps, taps_for_transition, FftFilter};
use super::noise::{gaussian, sigma_for_power};
use super::oscillator::unit_phasor;
use super::signal::Signal;
use crate::iq::Sample;
use rand_chacha::ChaCha8Rng;

/// Width of each band edge (transition), as a fraction of the band.
pub const EDGE_FRACTION: f64 = 0.04;

/// Gaussian noise of a given total power, flat over `[low_hz, high_hz]`.
pub struct BandNoise {
    filter: FftFilter,
    rng: ChaCha8Rng,
    input: Vec<Sample>,
    /// Filtered samples not yet handed out, from `next`.
    output: Vec<Sample>,
    next: usize,
}

impl BandNoise {
    /// Noise of total power `power` over `[low_hz, high_hz]` (offsets from the centre).
    pub fn new(sample_rate: f64, low_hz: f64, high_hz: f64, power: f64, rng: ChaCha8Rng) -> Self {
        let width = (high_hz - low_hz) / sample_rate;
        let centre = (low_hz + high_hz) / 2.0 / sample_rate;
        let lowpass = lowpass_taps(width / 2.0, taps_for_transition(EDGE_FRACTION * width));
        // Unit-power white input: the output power is Σ|h|², scaled to `power`.
        let gain = (power / lowpass.iter().map(|h| h * h).sum::<f64>()).sqrt();
        let middle = (lowpass.len() / 2) as f64;
        let taps: Vec<Sample> = lowpass
            .iter()
            .enumerate()
            .map(|(k, &h)| {
                let shift = super::oscillator::wrap(centre * (k as f64 - middle));
                unit_phasor(shift as f32) * (h * gain) as f32
            })
            .collect();
        let filter = FftFilter::new(&taps);
        let hop = filter.hop();
        let mut noise = BandNoise {
            filter,
            rng,
            input: vec![Sample::default(); hop],
            output: vec![Sample::default(); hop],
            next: hop,
        };
        // Fill the filter's history so the very first sample is already stationary.
        noise.refill();
        noise.next = hop;
        noise
    }

    fn refill(&mut self) {
        let sigma = sigma_for_power(1.0);
        for x in &mut self.input {
            *x = gaussian(&mut self.rng, sigma);
        }
        self.filter.process(&self.input, &mut self.output);
        self.next = 0;
    }
}

impl Signal for BandNoise {
    fn add_to(&mut self, _block_start: u64, mut block: &mut [Sample]) {
        while !block.is_empty() {
            if self.next == self.output.len() {
                self.refill();
            }
            let n = block.len().min(self.output.len() - self.next);
            let (now, rest) = block.split_at_mut(n);
            for (s, x) in now.iter_mut().zip(&self.output[self.next..]) {
                *s += x;
            }
            self.next += n;
            block = rest;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::carrier::tests::mean_power;
    use crate::synth::fir::tests::band_power_fraction;
    use crate::synth::level::power_to_db;
    use crate::synth::rng::stream_rng;

    fn render(low: f64, high: f64, n: usize) -> Vec<Sample> {
        let mut noise = BandNoise::new(250e3, low, high, 0.01, stream_rng(5, "band"));
        let mut block = vec![Sample::default(); n];
        for chunk in block.chunks_mut(30_000) {
            noise.add_to(0, chunk);
        }
        block
    }

    #[test]
    fn band_noise_keeps_its_power_inside_its_band() {
        for (low, high) in [
            (-100e3, -20e3),
            (10e3, 22.5e3),
            (-125e3, 125e3),
            (60e3, 65e3),
        ] {
            let x = render(low, high, 1 << 19);
            let power = power_to_db(mean_power(&x));
            assert!((power + 20.0).abs() < 0.3, "[{low}, {high}]: {power} dB");
            let inside = band_power_fraction(&x, 250e3, low, high);
            assert!(inside > 0.9, "[{low}, {high}]: {inside}");
        }
    }

    #[test]
    fn band_noise_is_flat_with_sharp_edges() {
        let (low, high) = (-60e3, 40e3);
        let x = render(low, high, 1 << 19);
        let width = high - low;
        let margin = EDGE_FRACTION * width;
        let core = band_power_fraction(&x, 250e3, low + margin, high - margin);
        let bins = |a: f64, b: f64| band_power_fraction(&x, 250e3, a, b) / (b - a);
        // Flat: both halves of the band have the same density within 0.5 dB.
        let ratio = power_to_db(bins(low + margin, -10e3) / bins(-10e3, high - margin));
        assert!(ratio.abs() < 0.5, "{ratio} dB");
        // Sharp: the core holds the band less its edges, and beyond an edge is empty.
        assert!(core > 1.0 - 2.0 * EDGE_FRACTION - 0.02, "{core}");
        let outside = band_power_fraction(&x, 250e3, high + margin, 125e3)
            + band_power_fraction(&x, 250e3, -125e3, low - margin);
        assert!(outside < 1e-3, "{outside}");
    }
}
