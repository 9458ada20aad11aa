//! Profiles are read and edited by people: statistics are written rounded to
//! 0.01 (dB or fraction) instead of as f32 noise such as -58.69999694824219.

use serde::Serializer;

fn round(x: f32) -> f64 {
    (x as f64 * 100.0).round() / 100.0
}

/// A vector of values, each rounded to two decimals.
pub fn vec<S: Serializer>(values: &[f32], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(values.iter().map(|&x| round(x)))
}

/// One value rounded to two decimals.
pub fn scalar<S: Serializer>(value: &f32, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(round(*value))
}
