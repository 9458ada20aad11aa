//! Digital keying of pseudo-random bits, as sent by ISM-band sensors and by
//! rogue data transmitters: continuous-phase FSK (constant envelope, the
//! carrier at offset ± deviation) or OOK (the carrier on or off per bit).
//! A gate's [`Signal::restart`] starts a new frame: fresh bits from bit 0.

use super::drift::{self, Wander};
use super::oscillator::Phase;
use super::signal::Signal;
use crate::iq::Sample;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// How bits key the carrier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Keying {
    /// Frequency-shift keying: a 1 sends offset + deviation, a 0 offset − deviation.
    Fsk { deviation_hz: f64 },
    /// On-off keying: a 1 sends the carrier, a 0 nothing.
    Ook,
}

impl Keying {
    /// Occupied bandwidth at `bitrate`: Carson's rule for FSK (2·deviation + bitrate),
    /// the main lobe for OOK (2·bitrate).
    pub fn bandwidth_hz(self, bitrate: f64) -> f64 {
        match self {
            Keying::Fsk { deviation_hz } => 2.0 * deviation_hz + bitrate,
            Keying::Ook => 2.0 * bitrate,
        }
    }
}

/// A keyed carrier sending pseudo-random bits.
pub struct KeyedModulator {
    carrier_step: f64,
    /// Frequency shift of a 1 (−shift for a 0), cycles per sample; 0 for OOK.
    shift_step: f64,
    ook: bool,
    amplitude: f32,
    samples_per_bit: f64,
    /// Samples into the current bit.
    bit_clock: f64,
    bit: bool,
    phase: Phase,
    rng: ChaCha8Rng,
    wander: Option<Wander>,
}

impl KeyedModulator {
    /// A keyed signal at `offset_hz`. Its mean power while transmitting is `power`
    /// (an OOK 1 carries twice that, a 0 nothing).
    pub fn new(
        sample_rate: f64,
        offset_hz: f64,
        keying: Keying,
        bitrate: f64,
        power: f64,
        rng: ChaCha8Rng,
    ) -> Self {
        let (shift_step, ook, on_power) = match keying {
            Keying::Fsk { deviation_hz } => (deviation_hz / sample_rate, false, power),
            Keying::Ook => (0.0, true, 2.0 * power),
        };
        let samples_per_bit = sample_rate / bitrate;
        KeyedModulator {
            carrier_step: offset_hz / sample_rate,
            shift_step,
            ook,
            amplitude: on_power.sqrt() as f32,
            samples_per_bit,
            bit_clock: samples_per_bit,
            bit: false,
            phase: Phase::new(0.0),
            rng,
            wander: None,
        }
    }

    /// The same signal, its carrier wandering by `wander`.
    pub fn with_wander(self, wander: Wander) -> Self {
        KeyedModulator {
            wander: Some(wander),
            ..self
        }
    }
}

impl Signal for KeyedModulator {
    fn add_to(&mut self, block_start: u64, block: &mut [Sample]) {
        for (n, s) in (block_start..).zip(block) {
            if self.bit_clock >= self.samples_per_bit {
                self.bit_clock -= self.samples_per_bit;
                self.bit = self.rng.gen();
            }
            self.bit_clock += 1.0;
            if !self.ook || self.bit {
                *s += self.phase.phasor() * self.amplitude;
            }
            let shift = if self.bit {
                self.shift_step
            } else {
                -self.shift_step
            };
            let carrier = self.carrier_step + drift::step_at(&mut self.wander, n);
            self.phase.advance(carrier + shift);
        }
    }

    fn restart(&mut self) {
        self.bit_clock = self.samples_per_bit;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::carrier::tests::mean_power;
    use crate::synth::fir::tests::band_power_fraction;
    use crate::synth::rng::stream_rng;

    fn render(keying: Keying) -> Vec<Sample> {
        let mut m = KeyedModulator::new(250e3, -30e3, keying, 10e3, 0.01, stream_rng(2, "k"));
        let mut block = vec![Sample::default(); 1 << 17];
        for chunk in block.chunks_mut(5000) {
            m.add_to(0, chunk);
        }
        block
    }

    #[test]
    fn fsk_is_constant_envelope_on_two_tones_within_carson() {
        let keying = Keying::Fsk { deviation_hz: 20e3 };
        let x = render(keying);
        assert!(x.iter().all(|s| (s.norm_sqr() - 0.01).abs() < 1e-5));
        let b = keying.bandwidth_hz(10e3);
        assert_eq!(b, 50e3);
        let inside = band_power_fraction(&x, 250e3, -30e3 - b / 2.0, -30e3 + b / 2.0);
        assert!(inside > 0.9, "{inside}");
        // Every sample's frequency is one of the two tones.
        for w in x.windows(2).take(10_000) {
            let f = (w[1] * w[0].conj()).arg() as f64 / std::f64::consts::TAU * 250e3;
            assert!((f + 10e3).abs() < 1.0 || (f + 50e3).abs() < 1.0, "{f}");
        }
    }

    #[test]
    fn ook_keys_half_the_bits_on_at_twice_the_power() {
        let x = render(Keying::Ook);
        assert!((mean_power(&x) / 0.01 - 1.0).abs() < 0.05);
        let on = x.iter().filter(|s| s.norm_sqr() > 0.0).count() as f64 / x.len() as f64;
        assert!((on - 0.5).abs() < 0.05, "{on}");
        assert!(x
            .iter()
            .all(|s| s.norm_sqr() == 0.0 || (s.norm_sqr() - 0.02).abs() < 1e-5));
        // Bits are 25 samples long: runs of on samples are multiples of 25.
        let mut run = 0;
        for s in &x[..x.len() - 1] {
            if s.norm_sqr() > 0.0 {
                run += 1;
            } else if run > 0 {
                assert_eq!(run % 25, 0);
                run = 0;
            }
        }
    }

    #[test]
    fn restart_starts_a_fresh_bit() {
        let mut m = KeyedModulator::new(1e3, 0.0, Keying::Ook, 100.0, 1.0, stream_rng(2, "r"));
        let mut a = vec![Sample::default(); 5];
        m.add_to(0, &mut a);
        m.restart();
        let mut b = vec![Sample::default(); 10];
        m.add_to(5, &mut b);
        // After the restart a whole 10-sample bit follows: all on or all off.
        let on = b.iter().filter(|s| s.norm_sqr() > 0.0).count();
        assert!(on == 0 || on == 10, "{on}");
    }
}
