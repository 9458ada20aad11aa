//! Slow frequency drift of a transmitter's oscillator: its centre wanders
//! by `depth·sin(2π t / period + φ)` Hz. The offset is a function of the
//! absolute sample index only (held constant over each cell of
//! [`super::envelope::GRID`] samples, evaluated at the cell's middle), so it
//! does not depend on block boundaries or gating; oscillators add it to their
//! per-sample phase step, so their phase stays continuous.

use super::envelope::GRID;
use super::oscillator::{unit_phasor, wrap};
use super::rng::stream_rng;
use super::scenario::FrequencyDrift;
use rand::Rng;

/// The time-varying frequency offset of a drifting oscillator.
#[derive(Debug, Clone)]
pub struct Wander {
    /// Peak offset in cycles per sample.
    depth_step: f64,
    /// Drift period in samples.
    period: f64,
    /// Phase φ of the sinusoid at sample 0, in cycles.
    phase: f64,
    /// The cell whose offset is held in `step` (`u64::MAX`: none yet).
    cell: u64,
    step: f64,
}

impl Wander {
    /// The wander of `drift` at `sample_rate`, its sinusoid at phase
    /// `phase_cycles` at sample 0.
    pub fn new(sample_rate: f64, drift: FrequencyDrift, phase_cycles: f64) -> Self {
        Wander {
            depth_step: drift.depth_hz / sample_rate,
            period: drift.period_s * sample_rate,
            phase: phase_cycles,
            cell: u64::MAX,
            step: 0.0,
        }
    }

    /// The wander of the known emitter `name` in a scenario seeded `seed`: the
    /// phase comes from the emitter's name, so a copy of it (an anomaly) drifts
    /// in step with it.
    pub fn of_emitter(seed: u64, name: &str, sample_rate: f64, drift: FrequencyDrift) -> Self {
        let phase = stream_rng(seed, &format!("emitter/{name}/drift")).gen();
        Wander::new(sample_rate, drift, phase)
    }

    /// The frequency offset at sample `n`, in Hz (`sample_rate` as given to [`Wander::new`]).
    pub fn offset_hz(&mut self, n: u64, sample_rate: f64) -> f64 {
        self.step_at(n) * sample_rate
    }

    /// The frequency offset at sample `n`, in cycles per sample.
    #[inline]
    pub fn step_at(&mut self, n: u64) -> f64 {
        let cell = n / GRID;
        if cell != self.cell {
            let middle = (cell as f64 + 0.5) * GRID as f64;
            let cycles = wrap(middle / self.period + self.phase);
            self.step = self.depth_step * f64::from(unit_phasor(cycles as f32).im);
            self.cell = cell;
        }
        self.step
    }
}

/// The wander of an optional drift, at `n` (0 without one).
#[inline]
pub fn step_at(wander: &mut Option<Wander>, n: u64) -> f64 {
    match wander {
        Some(w) => w.step_at(n),
        None => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wander_is_a_sinusoid_of_its_depth_and_period() {
        let drift = FrequencyDrift {
            depth_hz: 1000.0,
            period_s: 2.0,
        };
        let mut w = Wander::new(100e3, drift, 0.25);
        // φ = a quarter turn: the offset starts at its peak.
        assert!((w.offset_hz(0, 100e3) - 1000.0).abs() < 1.0);
        assert!((w.offset_hz(100_000, 100e3) + 1000.0).abs() < 1.0);
        assert!(w.offset_hz(50_000, 100e3).abs() < 5.0);
        let extremes = (0..200_000u64)
            .step_by(100)
            .map(|n| w.offset_hz(n, 100e3))
            .fold((f64::MAX, f64::MIN), |(a, b), f| (a.min(f), b.max(f)));
        assert!((extremes.0 + 1000.0).abs() < 1.0 && (extremes.1 - 1000.0).abs() < 1.0);
        // Asked out of order, it gives the same values.
        let mut fresh = Wander::new(100e3, drift, 0.25);
        assert_eq!(fresh.step_at(123_456), w.step_at(123_456));
    }
}
