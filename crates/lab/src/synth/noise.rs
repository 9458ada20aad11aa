//! White complex Gaussian noise: the receiver's noise floor, and the raw
//! material of band-limited noise.

use super::signal::Signal;
use crate::iq::Sample;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// One complex Gaussian sample with standard deviation `sigma` on I and on Q.
///
/// The arithmetic is done on an `f64` pair, which fills a whole SSE register:
/// an `f32` pair leaves two undefined lanes that the compiler multiplies too,
/// and when they happen to hold subnormal garbage every sample pays for a
/// microcode assist (measured: 3× slower, depending on heap layout).
#[inline]
pub fn gaussian(rng: &mut ChaCha8Rng, sigma: f32) -> Sample {
    let re: f64 = rng.sample(StandardNormal);
    let im: f64 = rng.sample(StandardNormal);
    let sigma = f64::from(sigma);
    Sample::new((re * sigma) as f32, (im * sigma) as f32)
}

/// The standard deviation per component of complex noise of total power `power` (E|x|²).
pub fn sigma_for_power(power: f64) -> f32 {
    (power / 2.0).sqrt() as f32
}

/// White complex Gaussian noise of a given total power over the whole band.
pub struct WhiteNoise {
    rng: ChaCha8Rng,
    sigma: f32,
}

impl WhiteNoise {
    /// Noise with E|x|² = `power`.
    pub fn new(power: f64, rng: ChaCha8Rng) -> Self {
        WhiteNoise {
            rng,
            sigma: sigma_for_power(power),
        }
    }
}

impl Signal for WhiteNoise {
    fn add_to(&mut self, _block_start: u64, block: &mut [Sample]) {
        for s in block {
            *s += gaussian(&mut self.rng, self.sigma);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::level::{db_to_power, power_to_db};
    use crate::synth::rng::stream_rng;

    #[test]
    fn noise_has_its_power_and_no_dc_or_iq_imbalance() {
        let mut noise = WhiteNoise::new(db_to_power(-30.0), stream_rng(3, "noise"));
        let mut block = vec![Sample::default(); 200_000];
        noise.add_to(0, &mut block);
        let n = block.len() as f64;
        let power: f64 = block.iter().map(|s| s.norm_sqr() as f64).sum::<f64>() / n;
        assert!(
            (power_to_db(power) + 30.0).abs() < 0.05,
            "{}",
            power_to_db(power)
        );
        let mean: Sample = block.iter().sum::<Sample>() / n as f32;
        assert!(mean.norm() < 1e-3 * power.sqrt() as f32 * 10.0);
        let i_power: f64 = block.iter().map(|s| (s.re * s.re) as f64).sum::<f64>() / n;
        assert!((i_power / power - 0.5).abs() < 0.01);
    }
}
