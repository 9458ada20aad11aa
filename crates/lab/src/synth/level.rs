//! The level convention shared by the generator, its annotations and the
//! detectors: `level_db` is a signal's power spectral density over the noise
//! density within its occupied bandwidth `B`, never narrower than one bin of
//! a 1024-point FFT. A carrier (`B = 0`) at 20 dB therefore stands 20 dB above
//! the floor of a 1024-point FFT bin.

/// The narrowest bandwidth the convention uses: one bin of a 1024-point FFT.
pub fn min_bandwidth_hz(sample_rate: f64) -> f64 {
    sample_rate / 1024.0
}

/// Linear power of a level in dB (full scale = 1.0).
pub fn db_to_power(db: f64) -> f64 {
    10f64.powf(db / 10.0)
}

/// Level in dB of a linear power.
pub fn power_to_db(power: f64) -> f64 {
    10.0 * power.log10()
}

/// Total power of a signal `level_db` above a noise floor of total power
/// `noise_dbfs` (over the whole band), spread over `bandwidth_hz`.
pub fn signal_power(noise_dbfs: f64, sample_rate: f64, bandwidth_hz: f64, level_db: f64) -> f64 {
    let noise_density = db_to_power(noise_dbfs) / sample_rate;
    noise_density * bandwidth_hz.max(min_bandwidth_hz(sample_rate)) * db_to_power(level_db)
}

/// The level (inverse of [`signal_power`]) of a signal of total power `power`.
pub fn level_db(noise_dbfs: f64, sample_rate: f64, bandwidth_hz: f64, power: f64) -> f64 {
    power_to_db(power / signal_power(noise_dbfs, sample_rate, bandwidth_hz, 0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carrier_level_is_relative_to_one_fft_bin() {
        // -30 dBFS of noise over 1024 bins is -60.1 dBFS per bin; +20 dB is -40.1 dBFS.
        let p = signal_power(-30.0, 250e3, 0.0, 20.0);
        assert!((power_to_db(p) - (-30.0 - 10.0 * 1024f64.log10() + 20.0)).abs() < 1e-9);
    }

    #[test]
    fn wideband_level_scales_with_bandwidth_and_inverts() {
        let p = signal_power(-30.0, 1e6, 100e3, 10.0);
        assert!((power_to_db(p) - (-30.0 - 10.0 + 10.0)).abs() < 1e-9);
        assert!((level_db(-30.0, 1e6, 100e3, p) - 10.0).abs() < 1e-9);
    }
}
