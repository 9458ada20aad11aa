//! The envelope test: a chirp from noise when both only raise the floor.
//!
//! A sweep faster than one FFT segment spreads over the band like noise in
//! every spectrum, but its samples keep a constant envelope: their envelope
//! kurtosis E|x|⁴ / (E|x|²)² is 1 where Gaussian noise gives 2. The test
//! looks at the frame's probe (raw samples of a few FFT segments,
//! [`PsdFrame::probe`]) through the jammer's band alone (Hann window, FFT,
//! every other bin zeroed — other signals, known emitters and the DC spike
//! — inverse FFT; the window's own kurtosis divided out). What is left is the jammer plus the Gaussian floor in its band;
//! the jammer's own kurtosis is solved for from its share of that power
//! (for independent signals E|x|⁴ = ρ²κⱼ + 4ρ(1−ρ) + 2(1−ρ)², in units of
//! the power squared) and judged only when the share is large enough for
//! the answer to stand out of the statistic's noise.
//!
//! [`PsdFrame::probe`]: crate::dsp::PsdFrame::probe

use crate::dsp::Window;
use crate::iq::Sample;
use rustfft::{Fft, FftPlanner};
use std::sync::Arc;

/// Envelope kurtosis of Gaussian noise, seen through any band.
const NOISE_KURTOSIS: f64 = 2.0;
/// How many standard deviations of the kurtosis estimate the gap between a
/// chirp and noise (in the mixture) must span to be judged; the verdict
/// is taken halfway. One frame's verdict is one vote of several.
const MIN_SEPARATION_SIGMA: f64 = 5.0;
/// Variance of the kurtosis estimate mean(p²)/mean(p)² per independent
/// sample of Gaussian noise (p = |x|² exponential: by the delta method,
/// var(p²) + 16·var(p) − 8·cov(p², p) = 20 + 16 − 32).
const GAUSSIAN_KURTOSIS_VARIANCE: f64 = 4.0;

/// Sums of |x|² and |x|⁴ over band-limited probe samples.
#[derive(Debug, Clone, Copy, Default)]
pub struct Moments {
    sum2: f64,
    sum4: f64,
    /// Samples summed.
    count: usize,
    /// Independent samples among them (band-limited samples are correlated).
    independent: f64,
    /// The envelope kurtosis a chirp over the whole span would show through
    /// the kept bins: it is silent while it crosses the bins taken out
    /// (known emitters), for the fraction of its time they are of its span.
    chirp_kurtosis: f64,
}

impl Moments {
    /// Pool `other` (moments of the same band from another frame) into these.
    pub fn merge(&mut self, other: &Moments) {
        self.sum2 += other.sum2;
        self.sum4 += other.sum4;
        self.count += other.count;
        self.independent += other.independent;
        self.chirp_kurtosis = other.chirp_kurtosis;
    }

    /// E|x|⁴ / (E|x|²)².
    pub fn kurtosis(&self) -> f64 {
        self.sum4 * self.count as f64 / (self.sum2 * self.sum2)
    }
}

/// The verdict on one jammer's envelope.
#[derive(Debug, Clone, Copy)]
pub struct Envelope {
    /// The jammer's own envelope kurtosis.
    pub kurtosis: f32,
    /// A constant envelope: a chirp, not noise.
    pub chirp: bool,
}

/// Forward and inverse FFTs of one size.
struct Plans {
    size: usize,
    forward: Arc<dyn Fft<f32>>,
    inverse: Arc<dyn Fft<f32>>,
}

/// Band-limits probes and measures their envelope (plans kept per FFT size).
#[derive(Default)]
pub struct EnvelopeProbe {
    plans: Option<Plans>,
    /// Hann window: a strong signal beside the band must not leak into it.
    window: Vec<f32>,
    /// The window's own kurtosis, n·Σw⁴ / (Σw²)², divided out.
    window_kurtosis: f64,
    buf: Vec<Sample>,
    scratch: Vec<Sample>,
}

impl std::fmt::Debug for EnvelopeProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvelopeProbe").finish_non_exhaustive()
    }
}

impl EnvelopeProbe {
    /// Add to `into` the moments of `probe` (segments of `keep.len()`
    /// samples) seen through the bins where `keep` is true (bin order of
    /// the frames: lowest frequency first), of a jammer spanning
    /// `span_bins`.
    pub fn add(&mut self, probe: &[Sample], keep: &[bool], span_bins: usize, into: &mut Moments) {
        let n = keep.len();
        if n == 0 || probe.len() < n {
            return;
        }
        if self.plans.as_ref().map(|p| p.size) != Some(n) {
            let mut planner = FftPlanner::<f32>::new();
            let (fwd, inv) = (planner.plan_fft_forward(n), planner.plan_fft_inverse(n));
            let len = fwd
                .get_inplace_scratch_len()
                .max(inv.get_inplace_scratch_len());
            self.scratch = vec![Sample::default(); len];
            self.plans = Some(Plans {
                size: n,
                forward: fwd,
                inverse: inv,
            });
            self.window = Window::Hann.coefficients(n);
            let (s2, s4) = self.window.iter().fold((0.0, 0.0), |(a, b), &w| {
                let w2 = (w as f64).powi(2);
                (a + w2, b + w2 * w2)
            });
            self.window_kurtosis = n as f64 * s4 / (s2 * s2);
        }
        let plans = self.plans.as_ref().expect("planned above");
        let (fwd, inv) = (&plans.forward, &plans.inverse);
        let kept = keep.iter().filter(|&&k| k).count();
        into.chirp_kurtosis = span_bins as f64 / kept.max(1) as f64;
        for segment in probe.chunks_exact(n) {
            self.buf.clear();
            self.buf
                .extend(segment.iter().zip(&self.window).map(|(&x, &w)| x * w));
            fwd.process_with_scratch(&mut self.buf, &mut self.scratch);
            // FFT order has 0 Hz first; `keep` has the lowest frequency first.
            let half = n / 2;
            for (i, x) in self.buf.iter_mut().enumerate() {
                if !keep[(i + half) % n] {
                    *x = Sample::default();
                }
            }
            inv.process_with_scratch(&mut self.buf, &mut self.scratch);
            // The window's envelope multiplies the signal's: divide its
            // kurtosis out of the fourth moment.
            for x in &self.buf {
                let p = x.norm_sqr() as f64;
                into.sum2 += p;
                into.sum4 += p * p / self.window_kurtosis;
            }
            into.count += n;
            // The window leaves fewer independent samples.
            into.independent += kept as f64 / self.window_kurtosis;
        }
    }
}

/// Judge a jammer's envelope from `moments` of its band and its `share` of
/// the power there (the rest being the Gaussian floor): `None` when the
/// share is too small to tell.
pub fn judge(moments: &Moments, share: f64) -> Option<Envelope> {
    let mixed = moments.kurtosis();
    if !mixed.is_finite() || moments.independent < 1.0 {
        return None;
    }
    let share = share.clamp(0.0, 1.0);
    let sigma = (GAUSSIAN_KURTOSIS_VARIANCE / moments.independent).sqrt();
    let gap = NOISE_KURTOSIS - moments.chirp_kurtosis;
    if share * share * gap < MIN_SEPARATION_SIGMA * sigma {
        return None;
    }
    let rest = 1.0 - share;
    let own = (mixed - 4.0 * share * rest - 2.0 * rest * rest) / (share * share);
    Some(Envelope {
        kurtosis: own as f32,
        chirp: own <= moments.chirp_kurtosis + 0.5 * gap,
    })
}

/// The jammer's share of the power in bins `band`: how far the average
/// `mean_dbfs` stands over `floor_dbfs(b)`, in power.
pub fn share_of_band(
    mean_dbfs: &[f32],
    floor_dbfs: impl Fn(usize) -> f32,
    band: impl Iterator<Item = usize>,
) -> f64 {
    let lin = |db: f32| 10f64.powf(db as f64 / 10.0);
    let (mut total, mut floor) = (0.0, 0.0);
    for b in band {
        total += lin(mean_dbfs[b]);
        floor += lin(floor_dbfs(b)).min(lin(mean_dbfs[b]));
    }
    if total > 0.0 {
        1.0 - floor / total
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Normal};

    const N: usize = 1024;

    /// `segments` of a 0.7 ms-period sweep over 90 % of a 1 MS/s band
    /// (or Gaussian noise there, both of unit power), a floor of complex
    /// Gaussian noise of power `noise` and a strong tone outside the band.
    fn probe(sweep: bool, noise: f64, segments: usize, seed: u64) -> Vec<Sample> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let unit = Normal::new(0.0, 0.5f64.sqrt()).unwrap();
        let mut gaussian = |power: f64| {
            let (i, q): (f64, f64) = (unit.sample(&mut rng), unit.sample(&mut rng));
            Sample::new((i * power.sqrt()) as f32, (q * power.sqrt()) as f32)
        };
        let (period, span, tau) = (700.0, 0.9, std::f64::consts::TAU);
        let mut phase = 0.0f64;
        (0..segments * N)
            .map(|i| {
                phase += tau * span * ((i as f64 % period) / period - 0.5);
                let jammer = if sweep {
                    Sample::new(phase.cos() as f32, phase.sin() as f32)
                } else {
                    gaussian(1.0)
                };
                let tone = tau * 0.48 * i as f64;
                jammer + gaussian(noise) + Sample::new(tone.cos() as f32, tone.sin() as f32) * 10.0
            })
            .collect()
    }

    /// A 3 dB rise is judged over ten frames (the slow path), 20 dB in one.
    /// `hole`: a known emitter's bins (a fifth of the span) taken out.
    fn verdict(sweep: bool, noise: f64, hole: bool, seed: u64) -> Option<Envelope> {
        let segments = if noise >= 1.0 { 40 } else { 4 };
        // The sweep's band, less the strong tone at +0.48 of the rate.
        let keep: Vec<bool> = (0..N)
            .map(|b| (b as f64 / N as f64 - 0.5).abs() < 0.45 && !(hole && (300..484).contains(&b)))
            .collect();
        let mut m = Moments::default();
        EnvelopeProbe::default().add(&probe(sweep, noise, segments, seed), &keep, 922, &mut m);
        judge(&m, 1.0 / (1.0 + noise))
    }

    #[test]
    fn a_fast_sweep_keeps_a_constant_envelope_where_noise_does_not() {
        for seed in 1..=5 {
            // Sweep or noise at the floor's power (3 dB rise) and 20 dB over it.
            for (noise, hole) in [(1.0, false), (0.01, false), (1.0, true), (0.01, true)] {
                let sweep = verdict(true, noise, hole, seed).expect("judged");
                assert!(sweep.chirp, "sweep, noise {noise} hole {hole}: {sweep:?}");
                let barrage = verdict(false, noise, hole, seed).expect("judged");
                assert!(
                    !barrage.chirp,
                    "noise, noise {noise} hole {hole}: {barrage:?}"
                );
            }
        }
    }

    #[test]
    fn a_small_share_is_not_judged() {
        let mut m = Moments::default();
        let keep = vec![true; N];
        EnvelopeProbe::default().add(&probe(true, 1.0, 4, 1), &keep, N, &mut m);
        assert!(judge(&m, 0.05).is_none());
        assert!(judge(&Moments::default(), 0.9).is_none());
    }

    #[test]
    fn the_floor_share_is_the_power_over_it() {
        let mean = [3.0103f32, 3.0103, 0.0, 0.0];
        let share = share_of_band(&mean, |_| 0.0, 0..2);
        assert!((share - 0.5).abs() < 1e-3);
        assert_eq!(share_of_band(&mean, |_| 0.0, 2..4), 0.0);
    }
}
