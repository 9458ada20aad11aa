//! Narrowband FM, as used by voice radios (and by the strong nearby
//! transmitter that overloads the receiver): a constant-envelope carrier whose
//! frequency follows a voice-like audio signal — two tones plus low-passed
//! noise, hard-limited so the peak deviation is exactly the stated one.
//! Occupied bandwidth by Carson's rule: `2·(deviation + 3 kHz)`.

use super::drift::{self, Wander};
use super::oscillator::Phase;
use super::signal::Signal;
use crate::iq::Sample;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// Highest audio frequency of the voice model, in Hz (Carson's `f_m`).
pub const AUDIO_MAX_HZ: f64 = 3000.0;

/// Occupied bandwidth of an NBFM signal of peak deviation `deviation_hz`.
pub fn bandwidth_hz(deviation_hz: f64) -> f64 {
    2.0 * (deviation_hz + AUDIO_MAX_HZ)
}

/// The peak deviation whose occupied bandwidth is `bandwidth_hz` (inverse of [`bandwidth_hz`]).
pub fn deviation_for_bandwidth(bandwidth_hz: f64) -> f64 {
    bandwidth_hz / 2.0 - AUDIO_MAX_HZ
}

/// Tones of the voice model: (frequency in Hz, amplitude; audio full scale is 1.0).
const VOICE_TONES: [(f64, f32); 2] = [(650.0, 0.35), (1750.0, 0.2)];
/// Corner of the one-pole low-pass that shapes the voice noise, in Hz.
const VOICE_NOISE_CORNER_HZ: f64 = 1000.0;
/// RMS of the low-passed voice noise.
const VOICE_NOISE_RMS: f64 = 0.3;
/// Audio is computed at about this rate and linearly interpolated to the RF
/// rate (images of the 3 kHz audio fall ~45 dB down, far outside the band).
const AUDIO_RATE_HZ: f64 = 48_000.0;

/// Voice-like audio in [-1, 1], one value per RF sample.
struct Voice {
    /// (phase, cycles per audio sample, amplitude) of each tone.
    tones: [(Phase, f64, f32); 2],
    rng: ChaCha8Rng,
    noise_sigma: f64,
    /// One-pole low-pass state and coefficient, at the audio rate.
    smoothed: f64,
    alpha: f64,
    /// RF samples per audio sample, and how many remain before the next one.
    interpolation: u32,
    remaining: u32,
    value: f32,
    slope: f32,
}

impl Voice {
    fn new(sample_rate: f64, rng: ChaCha8Rng) -> Self {
        let interpolation = (sample_rate / AUDIO_RATE_HZ).round().max(1.0);
        let audio_rate = sample_rate / interpolation;
        let alpha = 1.0 - (-std::f64::consts::TAU * VOICE_NOISE_CORNER_HZ / audio_rate).exp();
        // A one-pole low-pass passes α/(2−α) of the variance of white noise.
        let noise_sigma = VOICE_NOISE_RMS / (alpha / (2.0 - alpha)).sqrt();
        Voice {
            tones: VOICE_TONES.map(|(hz, amplitude)| (Phase::new(0.0), hz / audio_rate, amplitude)),
            rng,
            noise_sigma,
            smoothed: 0.0,
            alpha,
            interpolation: interpolation as u32,
            remaining: 0,
            value: 0.0,
            slope: 0.0,
        }
    }

    /// The next audio-rate sample, hard-limited to [-1, 1].
    fn audio_sample(&mut self) -> f32 {
        let x: f64 = self.rng.sample(StandardNormal);
        self.smoothed += self.alpha * (x * self.noise_sigma - self.smoothed);
        let mut audio = self.smoothed as f32;
        for (phase, step, amplitude) in &mut self.tones {
            audio += *amplitude * phase.phasor().im;
            phase.advance(*step);
        }
        audio.clamp(-1.0, 1.0)
    }

    /// The audio at the next RF sample.
    #[inline]
    fn next(&mut self) -> f32 {
        if self.remaining == 0 {
            let target = self.audio_sample();
            self.slope = (target - self.value) / self.interpolation as f32;
            self.remaining = self.interpolation;
        }
        self.remaining -= 1;
        self.value += self.slope;
        self.value
    }
}

/// A continuously transmitting NBFM voice signal.
pub struct Nbfm {
    /// Carrier and peak deviation, in cycles per sample.
    carrier_step: f64,
    deviation_step: f64,
    amplitude: f32,
    phase: Phase,
    voice: Voice,
    wander: Option<Wander>,
}

impl Nbfm {
    /// An NBFM signal of total power `power` at `offset_hz`, peak deviation `deviation_hz`.
    pub fn new(
        sample_rate: f64,
        offset_hz: f64,
        deviation_hz: f64,
        power: f64,
        rng: ChaCha8Rng,
    ) -> Self {
        Nbfm {
            carrier_step: offset_hz / sample_rate,
            deviation_step: deviation_hz / sample_rate,
            amplitude: power.sqrt() as f32,
            phase: Phase::new(0.0),
            voice: Voice::new(sample_rate, rng),
            wander: None,
        }
    }

    /// The same signal, its carrier wandering by `wander`.
    pub fn with_wander(self, wander: Wander) -> Self {
        Nbfm {
            wander: Some(wander),
            ..self
        }
    }
}

impl Signal for Nbfm {
    fn add_to(&mut self, block_start: u64, block: &mut [Sample]) {
        for (n, s) in (block_start..).zip(block) {
            *s += self.phase.phasor() * self.amplitude;
            let audio = self.voice.next() as f64;
            let carrier = self.carrier_step + drift::step_at(&mut self.wander, n);
            self.phase.advance(carrier + self.deviation_step * audio);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::carrier::tests::mean_power;
    use crate::synth::fir::tests::band_power_fraction;
    use crate::synth::rng::stream_rng;

    fn render(deviation_hz: f64) -> Vec<Sample> {
        let mut fm = Nbfm::new(250e3, 40e3, deviation_hz, 0.01, stream_rng(1, "fm"));
        let mut block = vec![Sample::default(); 1 << 18];
        for chunk in block.chunks_mut(10_000) {
            fm.add_to(0, chunk);
        }
        block
    }

    #[test]
    fn nbfm_is_constant_envelope_with_its_power() {
        let block = render(5e3);
        assert!(block.iter().all(|s| (s.norm_sqr() - 0.01).abs() < 1e-5));
        assert!((mean_power(&block) - 0.01).abs() < 1e-5);
    }

    #[test]
    fn nbfm_stays_within_carson_bandwidth_and_uses_its_deviation() {
        let block = render(5e3);
        let b = bandwidth_hz(5e3);
        let inside = band_power_fraction(&block, 250e3, 40e3 - b / 2.0, 40e3 + b / 2.0);
        assert!(inside > 0.98, "{inside}");
        // Peak instantaneous frequency reaches the full deviation (the limiter clips).
        let peak = block
            .windows(2)
            .map(|w| (w[1] * w[0].conj()).arg() as f64 / std::f64::consts::TAU * 250e3 - 40e3)
            .fold(0f64, |m, f| m.max(f.abs()));
        assert!((peak - 5e3).abs() < 50.0, "peak deviation {peak}");
        // A wider deviation occupies more spectrum.
        let narrow = band_power_fraction(&block, 250e3, 40e3 - 2e3, 40e3 + 2e3);
        let wide = render(15e3);
        let wide_inside = band_power_fraction(&wide, 250e3, 40e3 - 2e3, 40e3 + 2e3);
        assert!(wide_inside < narrow, "{wide_inside} vs {narrow}");
    }
}
