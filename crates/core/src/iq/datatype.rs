//! Sample encodings (SigMF `core:datatype` names) and their conversion to and
//! from `Complex<f32>` at full scale ±1.0.
//!
//! Conversion is the first hot path of every offline run: each decoder is a
//! tight loop over fixed-size chunks that the compiler vectorises.

use super::Sample;
use std::fmt;
use std::str::FromStr;

/// Scalar type of one I or Q component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scalar {
    F64,
    F32,
    I32,
    I16,
    I8,
    U32,
    U16,
    U8,
}

/// A complex sample encoding, as named by SigMF (`cf32_le`, `ci16_le`, `cu8`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Datatype {
    pub scalar: Scalar,
    pub big_endian: bool,
}

impl Datatype {
    pub const CF32_LE: Datatype = Datatype::le(Scalar::F32);
    pub const CF64_LE: Datatype = Datatype::le(Scalar::F64);
    pub const CI32_LE: Datatype = Datatype::le(Scalar::I32);
    pub const CI16_LE: Datatype = Datatype::le(Scalar::I16);
    pub const CI8: Datatype = Datatype::le(Scalar::I8);
    pub const CU8: Datatype = Datatype::le(Scalar::U8);
    pub const CU16_LE: Datatype = Datatype::le(Scalar::U16);

    const fn le(scalar: Scalar) -> Self {
        Datatype {
            scalar,
            big_endian: false,
        }
    }

    /// Bytes per scalar component.
    pub fn component_bytes(self) -> usize {
        match self.scalar {
            Scalar::F64 => 8,
            Scalar::F32 | Scalar::I32 | Scalar::U32 => 4,
            Scalar::I16 | Scalar::U16 => 2,
            Scalar::I8 | Scalar::U8 => 1,
        }
    }

    /// Bytes per complex sample (I and Q).
    pub fn sample_bytes(self) -> usize {
        2 * self.component_bytes()
    }

    /// Magnitude of I or Q at or above which a sample counts as clipped
    /// (the ADC's largest code, or 1.0 for float data).
    pub fn clip_level(self) -> f32 {
        match self.scalar {
            Scalar::F64 | Scalar::F32 => 1.0,
            Scalar::I32 => (i32::MAX as f64 / 2147483648.0) as f32,
            Scalar::I16 => 32767.0 / 32768.0,
            Scalar::I8 => 127.0 / 128.0,
            Scalar::U32 | Scalar::U16 | Scalar::U8 => 1.0,
        }
    }

    /// Whether samples of this type are stored exactly as [`Sample`]s lie in
    /// memory (cf32_le on a little-endian machine): such bytes can be read
    /// straight into a sample buffer ([`samples_as_bytes_mut`]) and only
    /// checked ([`zero_nonfinite`]), with no decoding copy.
    pub fn is_native(self) -> bool {
        self.scalar == Scalar::F32 && !self.big_endian && cfg!(target_endian = "little")
    }

    /// Decode whole samples from `bytes` into `out`; returns (samples, nonfinite).
    /// `bytes.len()` must be `out.len() * sample_bytes()`. NaN and infinite
    /// components are replaced by 0 and counted.
    pub fn decode(self, bytes: &[u8], out: &mut [Sample]) -> usize {
        debug_assert_eq!(bytes.len(), out.len() * self.sample_bytes());
        let be = self.big_endian;
        match self.scalar {
            Scalar::U8 => {
                decode_cu8(bytes, out);
                0
            }
            Scalar::I8 => {
                for (o, b) in out.iter_mut().zip(bytes.chunks_exact(2)) {
                    *o = Sample::new(b[0] as i8 as f32 / 128.0, b[1] as i8 as f32 / 128.0);
                }
                0
            }
            Scalar::I16 => {
                decode_int(bytes, out, 1.0 / 32768.0, |c| {
                    let a = [c[0], c[1]];
                    (if be {
                        i16::from_be_bytes(a)
                    } else {
                        i16::from_le_bytes(a)
                    }) as f32
                });
                0
            }
            Scalar::U16 => {
                decode_int(bytes, out, 1.0 / 32767.5, |c| {
                    let a = [c[0], c[1]];
                    (if be {
                        u16::from_be_bytes(a)
                    } else {
                        u16::from_le_bytes(a)
                    }) as f32
                        - 32767.5
                });
                0
            }
            Scalar::I32 => {
                decode_int(bytes, out, 1.0 / 2147483648.0, |c| {
                    let a = [c[0], c[1], c[2], c[3]];
                    (if be {
                        i32::from_be_bytes(a)
                    } else {
                        i32::from_le_bytes(a)
                    }) as f32
                });
                0
            }
            Scalar::U32 => {
                decode_int(bytes, out, 1.0 / 2147483647.5, |c| {
                    let a = [c[0], c[1], c[2], c[3]];
                    ((if be {
                        u32::from_be_bytes(a)
                    } else {
                        u32::from_le_bytes(a)
                    }) as f64
                        - 2147483647.5) as f32
                });
                0
            }
            Scalar::F32 if self.is_native() => {
                // The bytes are the samples: a straight copy, then a check, in
                // L1-sized pieces so that the check reads what was just copied.
                let mut any = false;
                for (o, b) in out.chunks_mut(512).zip(bytes.chunks(4096)) {
                    samples_as_bytes_mut(o).copy_from_slice(b);
                    any |= any_nonfinite(o);
                }
                if any {
                    sanitize(out)
                } else {
                    0
                }
            }
            Scalar::F32 => {
                for (o, b) in out.iter_mut().zip(bytes.chunks_exact(8)) {
                    let (i, q) = ([b[0], b[1], b[2], b[3]], [b[4], b[5], b[6], b[7]]);
                    *o = if be {
                        Sample::new(f32::from_be_bytes(i), f32::from_be_bytes(q))
                    } else {
                        Sample::new(f32::from_le_bytes(i), f32::from_le_bytes(q))
                    };
                }
                sanitize(out)
            }
            Scalar::F64 => {
                for (o, b) in out.iter_mut().zip(bytes.chunks_exact(16)) {
                    let i: [u8; 8] = b[0..8].try_into().expect("8 bytes");
                    let q: [u8; 8] = b[8..16].try_into().expect("8 bytes");
                    *o = if be {
                        Sample::new(f64::from_be_bytes(i) as f32, f64::from_be_bytes(q) as f32)
                    } else {
                        Sample::new(f64::from_le_bytes(i) as f32, f64::from_le_bytes(q) as f32)
                    };
                }
                sanitize(out)
            }
        }
    }

    /// Encode `samples` onto the end of `out`, saturating at full scale.
    pub fn encode(self, samples: &[Sample], out: &mut Vec<u8>) {
        // SAFETY: `Complex<f32>` is `#[repr(C)]` { re, im }: I, Q, I, Q, … as f32s.
        let values = unsafe {
            std::slice::from_raw_parts(samples.as_ptr().cast::<f32>(), 2 * samples.len())
        };
        let be = self.big_endian;
        macro_rules! bytes {
            ($x:expr) => {
                if be {
                    $x.to_be_bytes()
                } else {
                    $x.to_le_bytes()
                }
            };
        }
        match self.scalar {
            Scalar::U8 => encode_each(values, out, |v| {
                [round_clamped(v * 127.5 + 127.5, 0.0, 255.0) as u8]
            }),
            Scalar::I8 => encode_each(values, out, |v| {
                [round_clamped(v * 128.0, -128.0, 127.0) as i8 as u8]
            }),
            Scalar::I16 => encode_each(values, out, |v| {
                bytes!(round_clamped(v * 32768.0, -32768.0, 32767.0) as i16)
            }),
            Scalar::U16 => encode_each(values, out, |v| {
                bytes!(round_clamped(v * 32767.5 + 32767.5, 0.0, 65535.0) as u16)
            }),
            Scalar::I32 => encode_each(values, out, |v| {
                let x = round_half_away_f64(v as f64 * 2147483648.0);
                bytes!(x.clamp(i32::MIN as i64, i32::MAX as i64) as i32)
            }),
            Scalar::U32 => encode_each(values, out, |v| {
                let x = round_half_away_f64(v as f64 * 2147483647.5 + 2147483647.5);
                bytes!(x.clamp(0, u32::MAX as i64) as u32)
            }),
            Scalar::F32 => encode_each(values, out, |v| bytes!(v)),
            Scalar::F64 => encode_each(values, out, |v| bytes!(v as f64)),
        }
    }
}

/// Append `encode(v)` for every value: the output is sized once and filled
/// in place, a loop the compiler vectorises.
fn encode_each<const N: usize>(values: &[f32], out: &mut Vec<u8>, encode: impl Fn(f32) -> [u8; N]) {
    let start = out.len();
    out.resize(start + N * values.len(), 0);
    for (o, &v) in out[start..].chunks_exact_mut(N).zip(values) {
        o.copy_from_slice(&encode(v));
    }
}

/// `x.round().clamp(lo, hi)` (halves away from zero) as an integer, NaN as
/// 0 — without the libm call `round` costs on baseline x86-64, in a form the
/// compiler vectorises: in f64, adding ±½ to an f32 is exact, the clamp
/// bounds the value, and the conversion truncates toward zero.
fn round_clamped(x: f32, lo: f64, hi: f64) -> i32 {
    debug_assert!(lo <= 0.0 && hi >= 0.0 && hi < i32::MAX as f64 && lo > i32::MIN as f64);
    let y = if x.is_nan() { 0.0 } else { x as f64 };
    let r = (y + 0.5f64.copysign(y)).max(lo).min(hi);
    // SAFETY: `r` is finite (NaN became 0; ±inf are clamped) and within
    // [lo, hi], inside i32's range.
    unsafe { r.to_int_unchecked::<i32>() }
}

/// Round half away from zero, for values whose magnitude is below 2^52
/// (where adding ½ is exact); larger ones saturate as `as` does.
fn round_half_away_f64(y: f64) -> i64 {
    (y + 0.5f64.copysign(y)) as i64
}

fn decode_int(bytes: &[u8], out: &mut [Sample], scale: f32, component: impl Fn(&[u8]) -> f32) {
    let w = bytes.len() / out.len().max(1) / 2;
    if w == 0 {
        return; // nothing to decode; chunks_exact(0) would panic
    }
    for (o, b) in out.iter_mut().zip(bytes.chunks_exact(2 * w)) {
        *o = Sample::new(component(&b[..w]) * scale, component(&b[w..]) * scale);
    }
}

/// cu8: (b − 127.5) / 127.5 for every byte, one loop over components that
/// vectorises (with AVX2 where the CPU has it). It multiplies in f64 instead
/// of dividing: for these 256 values the result rounds to the same f32 as the
/// f32 division (checked for every code by a test), at a fraction of the cost.
fn decode_cu8(bytes: &[u8], out: &mut [Sample]) {
    // SAFETY: `Complex<f32>` is `#[repr(C)]` { re, im }: two f32s, no padding.
    let out =
        unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr().cast::<f32>(), 2 * out.len()) };
    #[inline(always)]
    fn body(bytes: &[u8], out: &mut [f32]) {
        for (o, &b) in out.iter_mut().zip(bytes) {
            *o = ((b as f64 - 127.5) * (1.0 / 127.5)) as f32;
        }
    }
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        #[target_feature(enable = "avx2")]
        unsafe fn avx2(bytes: &[u8], out: &mut [f32]) {
            body(bytes, out)
        }
        // SAFETY: the CPU supports AVX2.
        return unsafe { avx2(bytes, out) };
    }
    body(bytes, out)
}

/// The bytes of `samples`, as a native encoding stores them (see [`Datatype::is_native`]).
pub fn samples_as_bytes(samples: &[Sample]) -> &[u8] {
    // SAFETY: as for `samples_as_bytes_mut`; the bytes are only read.
    unsafe { std::slice::from_raw_parts(samples.as_ptr().cast::<u8>(), 8 * samples.len()) }
}

/// The bytes of `samples`, to read native samples into (see [`Datatype::is_native`]).
pub fn samples_as_bytes_mut(samples: &mut [Sample]) -> &mut [u8] {
    // SAFETY: `Complex<f32>` is `#[repr(C)]` { re, im } (8 bytes, no
    // padding), every bit pattern is a valid f32, and u8 has alignment 1.
    unsafe { std::slice::from_raw_parts_mut(samples.as_mut_ptr().cast::<u8>(), 8 * samples.len()) }
}

/// Replace NaN and infinite samples by 0, as [`Datatype::decode`] does;
/// return how many there were. Cheap when there are none.
pub fn zero_nonfinite(samples: &mut [Sample]) -> usize {
    if any_nonfinite(samples) {
        sanitize(samples)
    } else {
        0
    }
}

/// Whether `samples` hold a NaN or an infinity (all exponent bits set),
/// checked without branches so that it vectorises: adding one to an
/// all-ones exponent carries into the top bit.
fn any_nonfinite(samples: &[Sample]) -> bool {
    // SAFETY: `Complex<f32>` is two f32s, and f32 and u32 have the same layout.
    let words =
        unsafe { std::slice::from_raw_parts(samples.as_ptr().cast::<u32>(), 2 * samples.len()) };
    let carry = words.iter().fold(0u32, |any, &w| {
        any | (w & 0x7f80_0000).wrapping_add(0x0080_0000)
    });
    carry & 0x8000_0000 != 0
}

/// Replace non-finite samples by 0; return how many there were.
fn sanitize(out: &mut [Sample]) -> usize {
    let mut bad = 0;
    for s in out.iter_mut() {
        if !(s.re.is_finite() && s.im.is_finite()) {
            *s = Sample::new(0.0, 0.0);
            bad += 1;
        }
    }
    bad
}

/// The SigMF name of a datatype, e.g. `cf32_le`, `ci8`.
impl fmt::Display for Datatype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (letter, bits) = match self.scalar {
            Scalar::F64 => ('f', 64),
            Scalar::F32 => ('f', 32),
            Scalar::I32 => ('i', 32),
            Scalar::I16 => ('i', 16),
            Scalar::I8 => ('i', 8),
            Scalar::U32 => ('u', 32),
            Scalar::U16 => ('u', 16),
            Scalar::U8 => ('u', 8),
        };
        write!(f, "c{letter}{bits}")?;
        if bits > 8 {
            f.write_str(if self.big_endian { "_be" } else { "_le" })?;
        }
        Ok(())
    }
}

/// Parses the SigMF complex datatype names. Real (`r…`) datatypes are rejected:
/// rfsentry needs complex baseband.
impl FromStr for Datatype {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let expected = || {
            format!("unsupported datatype {s:?}; expected a complex SigMF datatype such as cf32_le, cf64_le, ci32_le, ci16_le, ci8, cu8, cu16_le (or their _be forms)")
        };
        let rest = s.strip_prefix('c').ok_or_else(expected)?;
        let (body, big_endian) = match rest.rsplit_once('_') {
            Some((b, "le")) => (b, false),
            Some((b, "be")) => (b, true),
            Some(_) => return Err(expected()),
            None => (rest, false),
        };
        let scalar = match body {
            "f64" => Scalar::F64,
            "f32" => Scalar::F32,
            "i32" => Scalar::I32,
            "i16" => Scalar::I16,
            "i8" => Scalar::I8,
            "u32" => Scalar::U32,
            "u16" => Scalar::U16,
            "u8" => Scalar::U8,
            _ => return Err(expected()),
        };
        let dt = Datatype { scalar, big_endian };
        if dt.component_bytes() > 1 && !rest.contains('_') {
            return Err(expected());
        }
        Ok(dt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_rounding_is_round_then_clamp() {
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            2.5,
            -2.5,
            0.49999997,
            -0.49999997,
            1.4999999,
            8388607.5,
            16777216.0,
            1e12,
            -1e12,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
        ];
        values.extend((0..2000).map(|i| (i as f32 - 1000.0) * 0.25 + 1e-3 * (i % 7) as f32));
        for v in values {
            for (lo, hi) in [
                (0.0, 255.0),
                (-128.0, 127.0),
                (-32768.0, 32767.0),
                (0.0, 65535.0),
            ] {
                let want = v.round().clamp(lo as f32, hi as f32);
                let want = if want.is_nan() { 0 } else { want as i32 };
                assert_eq!(round_clamped(v, lo, hi), want, "{v} in {lo}..={hi}");
            }
        }
    }

    #[test]
    fn every_8_and_16_bit_code_survives_decode_then_encode() {
        for name in ["cu8", "ci8", "ci16_le", "ci16_be", "cu16_le", "cu16_be"] {
            let dt: Datatype = name.parse().unwrap();
            let codes = 1usize << (8 * dt.component_bytes());
            // Every code as I, and in reverse order as Q.
            let bytes: Vec<u8> = (0..codes)
                .flat_map(|c| {
                    let (i, q) = (c as u16, (codes - 1 - c) as u16);
                    match (dt.component_bytes(), dt.big_endian) {
                        (1, _) => vec![i as u8, q as u8],
                        (_, false) => [i.to_le_bytes(), q.to_le_bytes()].concat(),
                        (_, true) => [i.to_be_bytes(), q.to_be_bytes()].concat(),
                    }
                })
                .collect();
            let mut samples = vec![Sample::default(); codes];
            dt.decode(&bytes, &mut samples);
            let mut back = Vec::new();
            dt.encode(&samples, &mut back);
            assert!(back == bytes, "{name}: a code changed");
        }
    }

    #[test]
    fn names_round_trip() {
        for name in [
            "cf32_le", "cf32_be", "cf64_le", "ci32_be", "ci16_le", "ci8", "cu8", "cu16_le",
        ] {
            let dt: Datatype = name.parse().unwrap();
            assert_eq!(dt.to_string(), name);
        }
        for bad in ["rf32_le", "cf32", "cf16_le", "ci8_xx", "", "c"] {
            assert!(bad.parse::<Datatype>().is_err(), "{bad}");
        }
    }

    #[test]
    fn decodes_known_bytes() {
        let mut out = [Sample::new(9.0, 9.0); 2];
        Datatype::CU8.decode(&[255, 0, 127, 128], &mut out);
        assert_eq!(out[0], Sample::new(1.0, -1.0));
        assert!((out[1].re + 0.5 / 127.5).abs() < 1e-6);

        Datatype::CI8.decode(&[0x80, 0x40, 0x7f, 0x00], &mut out);
        assert_eq!(out[0], Sample::new(-1.0, 0.5));
        assert_eq!(out[1], Sample::new(127.0 / 128.0, 0.0));

        let mut one = [Sample::default(); 1];
        Datatype::CI16_LE.decode(&[0x00, 0x80, 0x00, 0x40], &mut one);
        assert_eq!(one[0], Sample::new(-1.0, 0.5));
        let be: Datatype = "ci16_be".parse().unwrap();
        be.decode(&[0x80, 0x00, 0x40, 0x00], &mut one);
        assert_eq!(one[0], Sample::new(-1.0, 0.5));

        let mut bytes = Vec::new();
        bytes.extend_from_slice(&0.25f32.to_be_bytes());
        bytes.extend_from_slice(&(-0.75f32).to_be_bytes());
        "cf32_be"
            .parse::<Datatype>()
            .unwrap()
            .decode(&bytes, &mut one);
        assert_eq!(one[0], Sample::new(0.25, -0.75));
    }

    #[test]
    fn decoding_no_samples_is_a_no_op() {
        for name in [
            "cf64_le", "cf32_le", "ci32_be", "cu32_le", "ci16_le", "cu16_be", "ci8", "cu8",
        ] {
            let dt: Datatype = name.parse().unwrap();
            assert_eq!(dt.decode(&[], &mut []), 0, "{name}");
        }
    }

    #[test]
    fn nonfinite_floats_are_zeroed_and_counted() {
        let mut bytes = Vec::new();
        for v in [f32::NAN, 1.0, 0.5, f32::INFINITY, 0.1, 0.2] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let mut out = [Sample::default(); 3];
        assert_eq!(Datatype::CF32_LE.decode(&bytes, &mut out), 2);
        assert_eq!(out[0], Sample::new(0.0, 0.0));
        assert_eq!(out[2], Sample::new(0.1, 0.2));
    }

    #[test]
    fn fast_paths_give_the_bits_of_the_formulas() {
        let bytes: Vec<u8> = (0..=255u8).flat_map(|b| [b, 255 - b]).collect();
        let mut out = vec![Sample::default(); 256];
        Datatype::CU8.decode(&bytes, &mut out);
        for (b, s) in out.iter().enumerate() {
            let f = |b: usize| (b as f32 - 127.5) / 127.5;
            assert_eq!(s.re.to_bits(), f(b).to_bits());
            assert_eq!(s.im.to_bits(), f(255 - b).to_bits());
        }
        // cf32_le (a copy) against cf32_be of the same values, specials included.
        let values = [
            0.0,
            -0.0,
            1.5e-42,
            -3.25,
            f32::NAN,
            f32::INFINITY,
            0.7,
            f32::MIN,
        ];
        let mut le = Vec::new();
        let mut be = Vec::new();
        for i in 0..1000 {
            let v = values[i % values.len()] * (i as f32 + 1.0);
            le.extend_from_slice(&v.to_le_bytes());
            be.extend_from_slice(&v.to_be_bytes());
        }
        let (mut a, mut b) = (vec![Sample::default(); 500], vec![Sample::default(); 500]);
        let bad = Datatype::CF32_LE.decode(&le, &mut a);
        assert_eq!(
            bad,
            "cf32_be".parse::<Datatype>().unwrap().decode(&be, &mut b)
        );
        assert!(bad > 0);
        let bits = |v: &[Sample]| {
            v.iter()
                .map(|s| (s.re.to_bits(), s.im.to_bits()))
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&a), bits(&b));
    }

    #[test]
    fn encode_then_decode_is_within_quantisation() {
        let samples: Vec<Sample> = (0..64)
            .map(|i| Sample::from_polar(0.7, i as f32 * 0.3))
            .collect();
        for name in [
            "cf32_le", "cf64_be", "ci32_le", "ci16_le", "ci16_be", "ci8", "cu8", "cu16_le",
        ] {
            let dt: Datatype = name.parse().unwrap();
            let mut bytes = Vec::new();
            dt.encode(&samples, &mut bytes);
            assert_eq!(bytes.len(), samples.len() * dt.sample_bytes());
            let mut back = vec![Sample::default(); samples.len()];
            dt.decode(&bytes, &mut back);
            let tol = if dt.component_bytes() == 1 {
                1.0 / 100.0
            } else {
                1e-4
            };
            for (a, b) in samples.iter().zip(&back) {
                assert!((a - b).norm() < tol, "{name}: {a} vs {b}");
            }
        }
    }
}
