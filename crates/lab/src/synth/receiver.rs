//! The receiver's own imperfections, applied to the whole mix after the gain
//! drops of a signal loss and before the ADC saturates (see
//! [`super::mixer::Mixer::render`]), in the order a direct-conversion
//! receiver makes them:
//!
//! 1. **IQ imbalance** (`iq_image_dbc`): `y = x + ε·conj(x)` with
//!    `|ε|² = 10^(dbc/10)` and a seeded phase, so every signal (noise
//!    included, where it is negligible) has a mirror image about the centre
//!    `dbc` below itself.
//! 2. **Gain drift** (`gain_drift_db`, `gain_drift_period_s`): everything
//!    moves together by `depth·sin(2π t / period + φ)` dB, with φ drawn from
//!    the seed, so a baseline learned over part of a period sees only part of
//!    the drift.
//! 3. **DC spike** (`dc_spike_db`): a constant complex offset whose power is
//!    that many dB over the noise density in one 1024-point FFT bin (the
//!    level convention of [`super::level`], as for a carrier at 0 Hz): the
//!    centre spike of an RTL-SDR. It does not drift (it is made after the
//!    gain stages).
//!
//! 8-bit quantisation is the writer's: `datatype = "cu8"` (or `"ci8"`) stores
//! full scale ±1 as ±127.5 LSB, so a realistic RTL-like floor of
//! `noise_dbfs = -25` has a standard deviation of about 5 LSB per component
//! (a floor of several LSB, with quantisation noise ~25 dB below it).

use super::envelope::SlowGain;
use super::level::{db_to_power, signal_power};
use super::oscillator::{unit_phasor, wrap};
use super::rng::stream_rng;
use super::scenario::{GainDrift, Scenario};
use crate::iq::Sample;
use rand::Rng;

/// The receiver stage of one scenario.
pub struct ReceiverStage {
    /// ε of the IQ imbalance.
    image: Option<Sample>,
    drift: Option<SlowGain>,
    dc: Option<Sample>,
}

/// The gain of `drift` in dB at sample `n` (φ is the seeded phase, in cycles).
pub fn drift_gain_db(drift: GainDrift, sample_rate: f64, phase_cycles: f64, n: u64) -> f64 {
    let cycles = wrap(n as f64 / (drift.period_s * sample_rate) + phase_cycles);
    drift.depth_db * f64::from(unit_phasor(cycles as f32).im)
}

/// The seeded phase φ of a scenario's gain drift, in cycles.
pub fn drift_phase(scenario: &Scenario) -> f64 {
    stream_rng(scenario.seed, "receiver/gain-drift").gen()
}

impl ReceiverStage {
    /// The stage of `scenario`'s receiver, or `None` for an ideal receiver.
    pub fn new(scenario: &Scenario) -> Option<Self> {
        let impairments = scenario.receiver;
        if impairments.is_ideal() {
            return None;
        }
        let phasor = |key: &str| unit_phasor(stream_rng(scenario.seed, key).gen::<f32>());
        let image = impairments
            .iq_image_dbc
            .map(|dbc| phasor("receiver/iq-image") * db_to_power(dbc).sqrt() as f32);
        let dc = impairments.dc_spike_db.map(|db| {
            let power = signal_power(scenario.noise_dbfs, scenario.sample_rate, 0.0, db);
            phasor("receiver/dc") * power.sqrt() as f32
        });
        let drift = impairments.gain_drift.map(|drift| {
            let (rate, phase) = (scenario.sample_rate, drift_phase(scenario));
            SlowGain::new(move |n| db_to_power(drift_gain_db(drift, rate, phase, n) / 2.0))
        });
        Some(ReceiverStage { image, drift, dc })
    }

    /// Impair the mixed samples `[block_start, block_start + block.len())`.
    pub fn apply(&mut self, block_start: u64, block: &mut [Sample]) {
        if let Some(epsilon) = self.image {
            for s in block.iter_mut() {
                *s += epsilon * s.conj();
            }
        }
        if let Some(drift) = &mut self.drift {
            drift.apply(block_start, block);
        }
        if let Some(dc) = self.dc {
            for s in block.iter_mut() {
                *s += dc;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iq::Datatype;
    use crate::synth::assemble::mixer;
    use crate::synth::fir::tests::averaged_periodogram;
    use crate::synth::level::power_to_db;
    use crate::synth::scenario::{Emitter, Impairments};

    fn render(scenario: &Scenario, block: usize) -> Vec<Sample> {
        let mut mixer = mixer(scenario).unwrap();
        let mut out = vec![Sample::default(); scenario.total_samples() as usize];
        for (i, chunk) in out.chunks_mut(block).enumerate() {
            mixer.render((i * block) as u64, chunk);
        }
        out
    }

    fn power_db(x: &[Sample]) -> f64 {
        power_to_db(x.iter().map(|s| s.norm_sqr() as f64).sum::<f64>() / x.len() as f64)
    }

    fn site(receiver: Impairments) -> Scenario {
        let mut s = Scenario::new(1e6, 868.3e6, 1.0, -30.0, 3);
        s.receiver = receiver;
        s
    }

    #[test]
    fn dc_spike_stands_its_level_over_the_floor_in_a_1024_point_fft() {
        let x = render(
            &site(Impairments {
                dc_spike_db: Some(15.0),
                ..Impairments::default()
            }),
            65_536,
        );
        let psd = averaged_periodogram(&x, 1024);
        let mut floor: Vec<f64> = psd[1..].to_vec();
        floor.sort_by(f64::total_cmp);
        let floor = floor[floor.len() / 2];
        // The DC bin holds the floor plus the spike.
        let measured = power_to_db(psd[0] / floor);
        let expected = power_to_db(1.0 + db_to_power(15.0));
        assert!(
            (measured - expected).abs() < 0.3,
            "{measured} vs {expected}"
        );
        // Nothing else stands out.
        assert!(psd[1..].iter().all(|&p| p < 1.5 * floor));
    }

    #[test]
    fn iq_imbalance_mirrors_every_signal_at_its_dbc() {
        // A carrier on bin 102 of a 1024-point FFT, 60 dB over the floor
        // (and well below full scale, so the ADC does not clip).
        let offset = 102.0 * 1e6 / 1024.0;
        let mut s = site(Impairments {
            iq_image_dbc: Some(-30.0),
            ..Impairments::default()
        });
        s.noise_dbfs = -45.0;
        s.push_emitter(Emitter::carrier("beacon", offset, 60.0));
        let psd = averaged_periodogram(&render(&s, 65_536), 1024);
        let image = power_to_db(psd[1024 - 102] / psd[102]);
        assert!((image + 30.0).abs() < 0.2, "{image} dBc");
        // Without the impairment the mirror bin holds only noise (-60 dBc).
        s.receiver = Impairments::default();
        let psd = averaged_periodogram(&render(&s, 65_536), 1024);
        assert!(power_to_db(psd[1024 - 102] / psd[102]) < -55.0);
    }

    #[test]
    fn gain_drift_moves_everything_along_its_seeded_sinusoid() {
        let drift = GainDrift {
            depth_db: 3.0,
            period_s: 20.0,
        };
        let mut s = Scenario::new(20e3, 100e6, 40.0, -30.0, 5);
        s.receiver.gain_drift = Some(drift);
        let x = render(&s, 65_536);
        let phase = drift_phase(&s);
        let chunk = 10_000;
        let mut measured = Vec::new();
        for (k, part) in x.chunks(chunk).enumerate() {
            let middle = (k * chunk + chunk / 2) as u64;
            let expected = -30.0 + drift_gain_db(drift, 20e3, phase, middle);
            let got = power_db(part);
            assert!(
                (got - expected).abs() < 0.15,
                "chunk {k}: {got} vs {expected}"
            );
            measured.push(got);
        }
        let swing = measured.iter().cloned().fold(f64::MIN, f64::max)
            - measured.iter().cloned().fold(f64::MAX, f64::min);
        assert!((swing - 6.0).abs() < 0.3, "{swing}");
        // The phase is the seed's: another seed starts elsewhere on the sinusoid.
        let mut other = s.clone();
        other.seed = 6;
        assert!((drift_phase(&other) - phase).abs() > 1e-3);
        // And rendering does not depend on the block size.
        assert_eq!(render(&s, 4_096)[..200_000], x[..200_000]);
    }

    #[test]
    fn an_rtl_like_cu8_floor_spans_several_lsb() {
        let mut s = Scenario::new(1e6, 868.3e6, 0.2, -25.0, 8);
        s.receiver.dc_spike_db = Some(15.0);
        let x = render(&s, 65_536);
        let mut bytes = Vec::new();
        Datatype::CU8.encode(&x, &mut bytes);
        let lsb: Vec<f64> = bytes.iter().map(|&b| b as f64 - 127.5).collect();
        let n = lsb.len() as f64;
        let mean = lsb.iter().sum::<f64>() / n;
        let sigma = (lsb.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
        // σ = √(10^-2.5 / 2) · 127.5 ≈ 5.1 LSB per component.
        assert!((sigma - 5.07).abs() < 0.2, "{sigma} LSB");
        let mut decoded = vec![Sample::default(); x.len()];
        Datatype::CU8.decode(&bytes, &mut decoded);
        assert!((power_db(&decoded) - power_db(&x)).abs() < 0.1);
    }
}
