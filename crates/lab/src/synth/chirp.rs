//! A swept (chirp) jammer: a constant-envelope tone whose frequency rises
//! linearly from the low to the high edge of its band, then jumps back — a
//! sawtooth repeating every sweep period.

use super::oscillator::Phase;
use super::signal::Signal;
use crate::iq::Sample;

/// A sawtooth linear chirp over `[low, high]`, starting at `low` at sample `start`.
pub struct Chirp {
    start: u64,
    /// Low edge and sweep width, in cycles per sample.
    low_step: f64,
    width_step: f64,
    /// Sweep period in samples.
    period: f64,
    amplitude: f32,
    phase: Phase,
}

impl Chirp {
    /// A chirp of total power `power` sweeping `[low_hz, high_hz]` every `sweep_period_s`,
    /// starting at `low_hz` at sample `start`.
    pub fn new(
        sample_rate: f64,
        low_hz: f64,
        high_hz: f64,
        sweep_period_s: f64,
        power: f64,
        start: u64,
    ) -> Self {
        Chirp {
            start,
            low_step: low_hz / sample_rate,
            width_step: (high_hz - low_hz) / sample_rate,
            period: sweep_period_s * sample_rate,
            amplitude: power.sqrt() as f32,
            phase: Phase::new(0.0),
        }
    }
}

impl Signal for Chirp {
    fn add_to(&mut self, block_start: u64, block: &mut [Sample]) {
        let mut into_sweep = (block_start.saturating_sub(self.start) as f64) % self.period;
        for s in block {
            *s += self.phase.phasor() * self.amplitude;
            self.phase
                .advance(self.low_step + self.width_step * into_sweep / self.period);
            into_sweep += 1.0;
            if into_sweep >= self.period {
                into_sweep -= self.period;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::carrier::tests::mean_power;

    #[test]
    fn chirp_is_constant_envelope_and_sweeps_its_band_linearly() {
        let rate = 250e3;
        let (low, high, period_s) = (-50e3, 30e3, 0.01);
        let mut chirp = Chirp::new(rate, low, high, period_s, 0.02, 1000);
        let mut block = vec![Sample::default(); 10_000];
        for (i, chunk) in block.chunks_mut(777).enumerate() {
            chirp.add_to(1000 + (i * 777) as u64, chunk);
        }
        assert!(block.iter().all(|s| (s.norm_sqr() - 0.02).abs() < 1e-6));
        assert!((mean_power(&block) - 0.02).abs() < 1e-6);
        let freq: Vec<f64> = block
            .windows(2)
            .map(|w| (w[1] * w[0].conj()).arg() as f64 / std::f64::consts::TAU * rate)
            .collect();
        let min = freq.iter().cloned().fold(f64::MAX, f64::min);
        let max = freq.iter().cloned().fold(f64::MIN, f64::max);
        assert!((min - low).abs() < 100.0, "{min}");
        assert!((max - high).abs() < 100.0, "{max}");
        // Linear: a quarter of the way through a sweep it is a quarter of the way up.
        let per_sweep = (period_s * rate) as usize;
        let quarter = freq[per_sweep + per_sweep / 4];
        assert!(
            (quarter - (low + (high - low) / 4.0)).abs() < 100.0,
            "{quarter}"
        );
        // Sawtooth: it starts again from the low edge every period.
        assert!((freq[2 * per_sweep] - low).abs() < 100.0);
    }
}
