//! A frequency hopper: a baseband signal (FSK, band noise or a carrier,
//! generated at 0 Hz) moved to a pseudo-random channel of a hop set every
//! dwell. Dwell `k` covers `[anchor + round(k·dwell), anchor + round((k+1)·dwell))`
//! and its channel is the `k`-th draw of the hopper's random stream, so the
//! sequence depends only on the sample index, never on block boundaries.

use super::oscillator::Phase;
use super::scenario::Hopping;
use super::signal::Signal;
use crate::iq::Sample;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A signal hopping over the channels of a [`Hopping`] set.
pub struct Hopper<S> {
    baseband: S,
    hopping: Hopping,
    /// Centre of the hop set, Hz.
    centre_hz: f64,
    sample_rate: f64,
    anchor: u64,
    /// Dwell length in samples.
    dwell: f64,
    /// The dwell being played (`None` before the first) and where it ends.
    dwell_index: Option<u64>,
    dwell_end: u64,
    channel: u32,
    phase: Phase,
    rng: ChaCha8Rng,
    scratch: Vec<Sample>,
}

impl<S: Signal> Hopper<S> {
    /// `baseband` hopped over `hopping`'s channels around `centre_hz`, the
    /// first dwell starting at sample `anchor`; channels come from `rng`.
    pub fn new(
        baseband: S,
        sample_rate: f64,
        centre_hz: f64,
        hopping: Hopping,
        anchor: u64,
        rng: ChaCha8Rng,
    ) -> Self {
        Hopper {
            baseband,
            hopping,
            centre_hz,
            sample_rate,
            anchor,
            dwell: hopping.dwell_s * sample_rate,
            dwell_index: None,
            dwell_end: anchor,
            channel: 0,
            phase: Phase::new(0.0),
            rng,
            scratch: Vec::new(),
        }
    }

    /// Move on to the dwell holding sample `n` (drawing the channel of every
    /// dwell passed over, so the sequence never depends on what was played).
    fn seek(&mut self, n: u64) {
        while n >= self.dwell_end {
            let index = self.dwell_index.map_or(0, |k| k + 1);
            self.dwell_index = Some(index);
            self.channel = self.rng.gen_range(0..self.hopping.channels);
            self.dwell_end = self.anchor + ((index + 1) as f64 * self.dwell).round() as u64;
        }
    }

    /// The channel step of the current dwell, in cycles per sample.
    fn channel_step(&self) -> f64 {
        self.hopping.channel_offset_hz(self.centre_hz, self.channel) / self.sample_rate
    }
}

impl<S: Signal> Signal for Hopper<S> {
    fn add_to(&mut self, block_start: u64, block: &mut [Sample]) {
        self.scratch.clear();
        self.scratch.resize(block.len(), Sample::default());
        self.baseband.add_to(block_start, &mut self.scratch);
        let mut n = block_start;
        let mut done = 0;
        while done < block.len() {
            self.seek(n);
            let count = ((self.dwell_end - n) as usize).min(block.len() - done);
            let step = self.channel_step();
            for (s, x) in block[done..done + count]
                .iter_mut()
                .zip(&self.scratch[done..done + count])
            {
                *s += x * self.phase.phasor();
                self.phase.advance(step);
            }
            done += count;
            n += count as u64;
        }
    }

    fn restart(&mut self) {
        self.baseband.restart();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::carrier::Carrier;
    use crate::synth::rng::stream_rng;

    fn render(block: usize) -> Vec<Sample> {
        let hopping = Hopping {
            channels: 5,
            spacing_hz: 10e3,
            dwell_s: 0.001,
        };
        let mut hopper = Hopper::new(
            Carrier::new(100e3, 0.0, 1.0, 0.0),
            100e3,
            -5e3,
            hopping,
            50,
            stream_rng(4, "hop"),
        );
        let mut out = vec![Sample::default(); 20_050];
        for (i, chunk) in out.chunks_mut(block).enumerate() {
            hopper.add_to((i * block) as u64, chunk);
        }
        out
    }

    #[test]
    fn each_dwell_sits_on_one_channel_of_the_set() {
        let x = render(4096);
        let mut used = [0usize; 5];
        for dwell in x[50..].chunks(100) {
            let f = (dwell[50] * dwell[49].conj()).arg() as f64 / std::f64::consts::TAU * 100e3;
            let channel = ((f + 25e3) / 10e3).round();
            assert!((f - (channel * 10e3 - 25e3)).abs() < 1.0, "{f}");
            // Constant within the dwell.
            let g = (dwell[99] * dwell[98].conj()).arg() as f64 / std::f64::consts::TAU * 100e3;
            assert!((f - g).abs() < 1.0);
            used[channel as usize] += 1;
        }
        assert!(used.iter().all(|&u| u >= 20), "{used:?}");
        assert_eq!(render(7), x);
    }
}
