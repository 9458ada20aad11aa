//! Numbers with units for people — frequencies, bands, sample rates, levels
//! ("433.95 MHz", "433.9–434.02 MHz", "2.048 MS/s", "+20 dB") — one set for
//! every message, label and table (synth's annotations, `devices --probe`).

/// A frequency with a unit chosen by its size, trailing zeros trimmed:
/// `433.95 MHz`, `12.5 kHz`, `-125 kHz`, `800 Hz`.
pub fn hz(value: f64) -> String {
    scaled(value, "Hz")
}

/// A sample rate the same way: `2.048 MS/s`, `250 kS/s`.
pub fn rate(value: f64) -> String {
    scaled(value, "S/s")
}

/// `value` in `unit` with an SI prefix chosen by its size (G, M, k).
fn scaled(value: f64, unit: &str) -> String {
    let (div, prefix) = match value.abs() {
        v if v >= 1e9 => (1e9, "G"),
        v if v >= 1e6 => (1e6, "M"),
        v if v >= 1e3 => (1e3, "k"),
        _ => (1.0, ""),
    };
    format!("{} {prefix}{unit}", trimmed(value / div, 6))
}

/// A band of absolute frequencies: `433.9–434.02 MHz` (one unit, the larger edge's).
pub fn band(low: f64, high: f64) -> String {
    let scale = low.abs().max(high.abs());
    let (div, unit) = if scale >= 1e9 {
        (1e9, "GHz")
    } else if scale >= 1e6 {
        (1e6, "MHz")
    } else if scale >= 1e3 {
        (1e3, "kHz")
    } else {
        (1.0, "Hz")
    };
    format!(
        "{}–{} {unit}",
        trimmed(low / div, 6),
        trimmed(high / div, 6)
    )
}

/// A signed level: `+20 dB`, `-3.5 dB` (or another unit such as `dBFS`).
pub fn level(db: f64, unit: &str) -> String {
    let sign = if db >= 0.0 { "+" } else { "" };
    format!("{sign}{} {unit}", trimmed(db, 2))
}

/// `value` with at most `decimals` decimals and no trailing zeros.
pub fn trimmed(value: f64, decimals: usize) -> String {
    let s = format!("{value:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        &s
    };
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_short_and_exact() {
        assert_eq!(hz(433.95e6), "433.95 MHz");
        assert_eq!(hz(12_500.0), "12.5 kHz");
        assert_eq!(hz(-125e3), "-125 kHz");
        assert_eq!(hz(800.0), "800 Hz");
        assert_eq!(hz(0.0), "0 Hz");
        assert_eq!(rate(2.048e6), "2.048 MS/s");
        assert_eq!(rate(250e3), "250 kS/s");
        assert_eq!(band(433.9e6, 434.02e6), "433.9–434.02 MHz");
        assert_eq!(level(20.0, "dB"), "+20 dB");
        assert_eq!(level(-3.456, "dBFS"), "-3.46 dBFS");
        assert_eq!(trimmed(-0.0000001, 3), "0");
    }
}
