//! An unmodulated carrier (CW tone): known beacons, tone jammers, and the
//! stand-in for a rogue emitter that transmits a bare carrier. A drifting
//! carrier (a beacon with a warming crystal) adds a [`Wander`] to its
//! frequency and accumulates its phase over the samples it plays.

use super::drift::Wander;
use super::oscillator::Phase;
use super::signal::Signal;
use crate::iq::Sample;

/// A stable carrier at a fixed offset from the centre frequency.
pub struct Carrier {
    /// Frequency in cycles per sample.
    step: f64,
    amplitude: f32,
    /// Phase at sample 0, in cycles.
    phase0: f64,
    /// A slow frequency wander and the carrier's accumulated phase.
    wander: Option<(Wander, Phase)>,
}

impl Carrier {
    /// A carrier of total power `power` at `offset_hz`, with phase `phase0` (cycles) at sample 0.
    pub fn new(sample_rate: f64, offset_hz: f64, power: f64, phase0: f64) -> Self {
        Carrier {
            step: offset_hz / sample_rate,
            amplitude: power.sqrt() as f32,
            phase0,
            wander: None,
        }
    }

    /// The same carrier, its frequency wandering by `wander`.
    pub fn with_wander(self, wander: Wander) -> Self {
        Carrier {
            wander: Some((wander, Phase::new(self.phase0))),
            ..self
        }
    }
}

impl Signal for Carrier {
    fn add_to(&mut self, block_start: u64, block: &mut [Sample]) {
        // The phase follows from the sample index, so gaps (gating) keep it coherent.
        match &mut self.wander {
            None => {
                let mut phase = Phase::new(self.phase0 + (self.step * block_start as f64).fract());
                for s in block {
                    *s += phase.phasor() * self.amplitude;
                    phase.advance(self.step);
                }
            }
            Some((wander, phase)) => {
                for (n, s) in (block_start..).zip(block) {
                    *s += phase.phasor() * self.amplitude;
                    phase.advance(self.step + wander.step_at(n));
                }
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::synth::level::{power_to_db, signal_power};

    /// Mean power of a block.
    pub(crate) fn mean_power(block: &[Sample]) -> f64 {
        block.iter().map(|s| s.norm_sqr() as f64).sum::<f64>() / block.len() as f64
    }

    #[test]
    fn carrier_power_follows_the_level_convention() {
        let (rate, level) = (250e3, 20.0);
        let power = signal_power(-30.0, rate, 0.0, level);
        let mut carrier = Carrier::new(rate, 30e3, power, 0.1);
        let mut block = vec![Sample::default(); 100_000];
        carrier.add_to(0, &mut block);
        let measured = power_to_db(mean_power(&block));
        let expected = -30.0 - 10.0 * 1024f64.log10() + level;
        assert!(
            (measured - expected).abs() < 0.2,
            "{measured} vs {expected}"
        );
    }

    #[test]
    fn carrier_is_coherent_across_split_blocks() {
        let mut a = Carrier::new(1e6, 123_456.0, 1.0, 0.3);
        let mut whole = vec![Sample::default(); 5000];
        a.add_to(10_000_000, &mut whole);
        let mut split = vec![Sample::default(); 5000];
        let (x, y) = split.split_at_mut(1234);
        a.add_to(10_000_000, x);
        a.add_to(10_001_234, y);
        for (p, q) in whole.iter().zip(&split) {
            assert!((p - q).norm() < 1e-4);
        }
        // Frequency: one sample advances the phase by offset / rate cycles.
        let turn = (whole[1] * whole[0].conj()).arg() as f64 / std::f64::consts::TAU;
        assert!((turn - 0.123456).abs() < 1e-5);
    }
}
