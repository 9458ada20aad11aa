//! Slowly varying gains: a receiver's temperature drift, a jammer whose level
//! creeps up. The gain is evaluated exactly at every [`GRID`]-th sample of the
//! recording (an absolute grid) and interpolated linearly in between, so it
//! costs one multiply-add per sample, calls the (slow) gain function only
//! once per grid cell, and gives the same samples whatever the block size.

use super::signal::Signal;
use crate::iq::Sample;

/// Samples between exact evaluations of a slow gain.
pub const GRID: u64 = 256;

/// An amplitude factor that changes slowly with the sample index.
pub struct SlowGain {
    /// The amplitude factor at a sample index.
    amplitude_at: Box<dyn Fn(u64) -> f64 + Send>,
    /// The grid cell whose interpolation is loaded (`u64::MAX`: none yet).
    cell: u64,
    start: f32,
    slope: f32,
}

impl SlowGain {
    /// A gain whose amplitude factor at sample `n` is `amplitude_at(n)`.
    pub fn new(amplitude_at: impl Fn(u64) -> f64 + Send + 'static) -> Self {
        SlowGain {
            amplitude_at: Box::new(amplitude_at),
            cell: u64::MAX,
            start: 0.0,
            slope: 0.0,
        }
    }

    fn load(&mut self, cell: u64) {
        let from = (self.amplitude_at)(cell * GRID);
        let to = (self.amplitude_at)((cell + 1) * GRID);
        self.cell = cell;
        self.start = from as f32;
        self.slope = ((to - from) / GRID as f64) as f32;
    }

    /// Multiply the samples `[block_start, block_start + block.len())` by the gain.
    pub fn apply(&mut self, block_start: u64, mut block: &mut [Sample]) {
        let mut n = block_start;
        while !block.is_empty() {
            let cell = n / GRID;
            if cell != self.cell {
                self.load(cell);
            }
            let into_cell = n - cell * GRID;
            let count = block.len().min((GRID - into_cell) as usize);
            let (now, rest) = block.split_at_mut(count);
            for (i, s) in now.iter_mut().enumerate() {
                *s *= self.start + self.slope * (into_cell + i as u64) as f32;
            }
            n += count as u64;
            block = rest;
        }
    }
}

/// A signal whose amplitude follows a [`SlowGain`].
pub struct Enveloped<S> {
    inner: S,
    gain: SlowGain,
    scratch: Vec<Sample>,
}

impl<S: Signal> Enveloped<S> {
    pub fn new(inner: S, gain: SlowGain) -> Self {
        Enveloped {
            inner,
            gain,
            scratch: Vec::new(),
        }
    }
}

impl<S: Signal> Signal for Enveloped<S> {
    fn add_to(&mut self, block_start: u64, block: &mut [Sample]) {
        self.scratch.clear();
        self.scratch.resize(block.len(), Sample::default());
        self.inner.add_to(block_start, &mut self.scratch);
        self.gain.apply(block_start, &mut self.scratch);
        for (s, x) in block.iter_mut().zip(&self.scratch) {
            *s += x;
        }
    }

    fn restart(&mut self) {
        self.inner.restart();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp() -> SlowGain {
        SlowGain::new(|n| 1.0 + n as f64 * 1e-3)
    }

    #[test]
    fn slow_gain_is_exact_on_the_grid_and_linear_between() {
        let mut block = vec![Sample::new(1.0, -1.0); 1000];
        ramp().apply(100, &mut block);
        for (i, s) in block.iter().enumerate() {
            let expected = 1.0 + (100 + i) as f32 * 1e-3;
            assert!((s.re - expected).abs() < 1e-5, "{i}: {}", s.re);
            assert_eq!(s.im, -s.re);
        }
    }

    #[test]
    fn slow_gain_does_not_depend_on_the_block_size() {
        let render = |block: usize| {
            let mut gain = SlowGain::new(|n| (n as f64 * 1e-4).sin() + 2.0);
            let mut out = vec![Sample::new(1.0, 0.5); 5000];
            for (i, chunk) in out.chunks_mut(block).enumerate() {
                gain.apply((i * block) as u64, chunk);
            }
            out
        };
        let whole = render(5000);
        for block in [1, 7, 256, 1000] {
            assert_eq!(render(block), whole, "block {block}");
        }
    }
}
