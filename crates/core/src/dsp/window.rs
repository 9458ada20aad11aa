//! FFT window functions (periodic, "DFT-even", as spectrum analysers and
//! `scipy.signal.get_window` use them).

use serde::{Deserialize, Serialize};
use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

/// A window applied to each FFT segment before transforming it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Window {
    #[default]
    Hann,
    Hamming,
    Blackman,
    BlackmanHarris,
    FlatTop,
    Rectangular,
}

impl Window {
    /// All windows, for help texts and tests.
    pub const ALL: [Window; 6] = [
        Window::Hann,
        Window::Hamming,
        Window::Blackman,
        Window::BlackmanHarris,
        Window::FlatTop,
        Window::Rectangular,
    ];

    /// Cosine-sum coefficients a0 − a1·cos + a2·cos2 − …
    fn cosine_terms(self) -> &'static [f64] {
        match self {
            Window::Hann => &[0.5, 0.5],
            Window::Hamming => &[0.54, 0.46],
            Window::Blackman => &[0.42, 0.5, 0.08],
            Window::BlackmanHarris => &[0.35875, 0.48829, 0.14128, 0.01168],
            Window::FlatTop => &[
                0.21557895,
                0.41663158,
                0.277263158,
                0.083578947,
                0.006947368,
            ],
            Window::Rectangular => &[1.0],
        }
    }

    /// The `n` window coefficients.
    pub fn coefficients(self, n: usize) -> Vec<f32> {
        let terms = self.cosine_terms();
        (0..n)
            .map(|i| {
                let x = 2.0 * PI * i as f64 / n as f64;
                terms
                    .iter()
                    .enumerate()
                    .map(|(k, a)| {
                        if k % 2 == 0 {
                            a * (k as f64 * x).cos()
                        } else {
                            -a * (k as f64 * x).cos()
                        }
                    })
                    .sum::<f64>() as f32
            })
            .collect()
    }

    /// Equivalent noise bandwidth in bins: N·Σw² / (Σw)².
    pub fn enbw_bins(self, n: usize) -> f64 {
        let w = self.coefficients(n);
        let s1: f64 = w.iter().map(|&x| x as f64).sum();
        let s2: f64 = w.iter().map(|&x| (x as f64).powi(2)).sum();
        n as f64 * s2 / (s1 * s1)
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Window::Hann => "hann",
            Window::Hamming => "hamming",
            Window::Blackman => "blackman",
            Window::BlackmanHarris => "blackman-harris",
            Window::FlatTop => "flat-top",
            Window::Rectangular => "rectangular",
        })
    }
}

impl FromStr for Window {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Window::ALL
            .into_iter()
            .find(|w| w.to_string() == s)
            .ok_or_else(|| format!("unknown window {s:?}; expected one of hann, hamming, blackman, blackman-harris, flat-top, rectangular"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hann_has_known_enbw_and_shape() {
        assert!((Window::Hann.enbw_bins(1024) - 1.5).abs() < 1e-3);
        assert!((Window::Rectangular.enbw_bins(1024) - 1.0).abs() < 1e-9);
        let w = Window::Hann.coefficients(8);
        assert!(w[0].abs() < 1e-7);
        assert!((w[4] - 1.0).abs() < 1e-7);
    }

    #[test]
    fn names_round_trip() {
        for w in Window::ALL {
            assert_eq!(w.to_string().parse::<Window>().unwrap(), w);
        }
    }
}
