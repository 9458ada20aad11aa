//! Baseline profiles that parse but hold odd values: the fuzzer edits the
//! numbers of a real profile (the demo site's) — any statistic, threshold,
//! emitter or protected-band edge, capture setting — to edge values (0, ±0,
//! tiny, huge, NaN, ±∞, negative) or to arbitrary bits, and may drop optional
//! keys. Such a profile either fails validation with an error or runs the
//! detection engine on quiet, tone, barrage and pulsed frames without a
//! panic. Text-level fuzzing (`profile`) rarely gets past the TOML parser to
//! here.
#![no_main]

#[path = "profile_check.rs"]
mod profile_check;

use libfuzzer_sys::fuzz_target;
use rfsentry::profile::Profile;
use toml::Value;

const DEMO: &str = include_str!("../../profiles/demo-venue.toml");

/// Values the mutator sets a number to.
const EDGES: [f64; 14] = [
    0.0,
    -0.0,
    1e-300,
    -1.0,
    1.0,
    0.5,
    1e308,
    -1e308,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    -200.0,
    200.0,
    1e9,
];

/// Every numeric leaf of `v`, as a path of keys and indices.
fn numeric_paths(v: &Value, path: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match v {
        Value::Integer(_) | Value::Float(_) => out.push(path.clone()),
        Value::Table(t) => {
            for (k, child) in t {
                path.push(Step::Key(k.clone()));
                numeric_paths(child, path, out);
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                path.push(Step::Index(i));
                numeric_paths(child, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone)]
enum Step {
    Key(String),
    Index(usize),
}

fn at<'a>(v: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, step| match step {
        Step::Key(k) => v.as_table_mut()?.get_mut(k),
        Step::Index(i) => v.as_array_mut()?.get_mut(*i),
    })
}

fuzz_target!(|data: &[u8]| {
    let mut doc: Value = toml::from_str(DEMO).expect("the demo profile parses");
    let mut paths = Vec::new();
    numeric_paths(&doc, &mut Vec::new(), &mut paths);
    // Each edit: 2 bytes choose the number, 1 byte how to change it, and
    // for raw bits 8 more.
    let mut bytes = data.iter().copied();
    while let (Some(a), Some(b), Some(how)) = (bytes.next(), bytes.next(), bytes.next()) {
        let path = &paths[(usize::from(a) << 8 | usize::from(b)) % paths.len()];
        let Some(slot) = at(&mut doc, path) else { continue };
        let new = match how % 4 {
            0 | 1 => EDGES[usize::from(how / 4) % EDGES.len()],
            2 => {
                let raw: Vec<u8> = bytes.by_ref().take(8).collect();
                let mut b8 = [0u8; 8];
                b8[..raw.len()].copy_from_slice(&raw);
                f64::from_le_bytes(b8)
            }
            _ => {
                // Scale the number (small drifts keep profiles valid).
                let factor = 1.0 + (f64::from(how) - 128.0) / 64.0;
                slot.as_float().or(slot.as_integer().map(|i| i as f64)).unwrap_or(0.0) * factor
            }
        };
        *slot = match slot {
            Value::Integer(_) if new.is_finite() && new.abs() < 9e18 => Value::Integer(new as i64),
            _ => Value::Float(new),
        };
    }
    if let Ok(profile) = doc.try_into::<Profile>() {
        profile_check::check(profile);
    }
});
