//! Phase accumulation and the unit phasor `e^{j2πφ}` every oscillating signal
//! (carrier, FM, FSK, chirp) is built from.
//!
//! Phase is kept in cycles in `f64` and wrapped to [-0.5, 0.5), so long
//! recordings lose no precision. The phasor is a short polynomial made of
//! additions and multiplications only: faster than the platform `sin_cos`, and
//! bit-identical on every machine (no libm in the hot path), which keeps
//! recordings reproducible.

use crate::iq::Sample;

/// A running phase in cycles, wrapped to [-0.5, 0.5).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Phase {
    cycles: f64,
}

impl Phase {
    /// A phase of `cycles` (any real number; it is wrapped).
    pub fn new(cycles: f64) -> Self {
        Phase {
            cycles: wrap(cycles),
        }
    }

    /// The current phase in cycles, in [-0.5, 0.5).
    pub fn cycles(self) -> f64 {
        self.cycles
    }

    /// `e^{j2πφ}` of the current phase.
    pub fn phasor(self) -> Sample {
        unit_phasor(self.cycles as f32)
    }

    /// Advance by `step` cycles, with |step| ≤ 0.5 (a frequency below Nyquist).
    #[inline]
    pub fn advance(&mut self, step: f64) {
        let mut c = self.cycles + step;
        if c >= 0.5 {
            c -= 1.0;
        } else if c < -0.5 {
            c += 1.0;
        }
        self.cycles = c;
    }
}

/// Wrap any phase in cycles to [-0.5, 0.5).
pub fn wrap(cycles: f64) -> f64 {
    let w = (cycles + 0.5).rem_euclid(1.0) - 0.5;
    if w >= 0.5 {
        -0.5
    } else {
        w
    }
}

/// `e^{j2π·cycles}` for |cycles| ≤ 2, accurate to about 3e-7.
#[inline]
pub fn unit_phasor(cycles: f32) -> Sample {
    // Quarter turns: q is the nearest quadrant, r the remainder in [-0.5, 0.5].
    let quarters = cycles * 4.0;
    let q = (quarters + 8.5) as i32 - 8;
    let theta = (quarters - q as f32) * std::f32::consts::FRAC_PI_2;
    // Taylor series to θ⁷ and θ⁸ (|θ| ≤ π/4), in Horner form with multiplications only.
    let t2 = theta * theta;
    let sin = theta * (1.0 + t2 * (-1.0 / 6.0 + t2 * (1.0 / 120.0 + t2 * (-1.0 / 5040.0))));
    let cos = 1.0 + t2 * (-0.5 + t2 * (1.0 / 24.0 + t2 * (-1.0 / 720.0 + t2 * (1.0 / 40320.0))));
    match q & 3 {
        0 => Sample::new(cos, sin),
        1 => Sample::new(-sin, cos),
        2 => Sample::new(-cos, -sin),
        _ => Sample::new(sin, -cos),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phasor_matches_sin_cos() {
        let mut worst = 0f32;
        for i in -2000..=2000 {
            let c = i as f32 / 1000.0;
            let exact = Sample::from_polar(1.0, std::f32::consts::TAU * c);
            worst = worst.max((unit_phasor(c) - exact).norm());
        }
        assert!(worst < 1e-6, "worst error {worst}");
    }

    #[test]
    fn phase_wraps_and_keeps_precision() {
        assert_eq!(wrap(0.75), -0.25);
        assert_eq!(wrap(-0.5), -0.5);
        assert_eq!(wrap(0.5), -0.5);
        assert!((wrap(1e9 + 0.125) - 0.125).abs() < 1e-6);
        let mut p = Phase::new(0.0);
        for _ in 0..1_000_000 {
            p.advance(0.3);
        }
        assert!((p.cycles() - wrap(300_000.0)).abs() < 1e-7);
        assert!(p.cycles() >= -0.5 && p.cycles() < 0.5);
    }
}
