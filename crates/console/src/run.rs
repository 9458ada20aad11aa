//! What the console is told about the run before it starts: the sensor
//! ([`RunInfo`]) and the site's baseline as the page draws it (`/api/baseline`:
//! per tuning the floor and p99 decimated like the live rows, the known
//! emitters, the protected bands, the calibration).

use crate::state::RunInfo;
use rfsentry_core::profile::{EmitterSource, Profile};
use rfsentry_core::source::SourceInfo;
use rfsentry_core::watch::tap::{decimate_max, MAX_COLUMNS};
use serde_json::{json, Value};
use std::path::Path;

impl RunInfo {
    /// The run of `profile` on `source`, writing into `out_dir`.
    pub fn new(profile: &Profile, source: &SourceInfo, out_dir: &Path) -> RunInfo {
        let mut floors: Vec<f32> = profile
            .segments
            .iter()
            .map(|s| s.noise_floor_dbfs)
            .collect();
        floors.sort_by(f32::total_cmp);
        RunInfo {
            site: profile.site.name.clone(),
            description: profile.site.description.clone(),
            source: source.name.clone(),
            live: source.live,
            sample_rate: source.sample_rate,
            tunings_hz: source.tunings.clone(),
            start_time: source
                .start_time
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            out_dir: out_dir.to_path_buf(),
            dbm_at_0dbfs: profile.calibration.as_ref().map(|c| c.dbm_at_0dbfs),
            baseline_floor_dbfs: floors.get(floors.len() / 2).copied().unwrap_or(f32::NAN),
        }
    }
}

/// `/api/baseline`: what the page draws the live spectrum against.
pub fn baseline_json(profile: &Profile) -> Value {
    let r1 = |v: Vec<f32>| -> Vec<f64> {
        v.into_iter()
            .map(|x| (x as f64 * 10.0).round() / 10.0)
            .collect()
    };
    let segments: Vec<Value> = profile
        .segments
        .iter()
        .map(|s| {
            let (floor, per_column) = decimate_max(&s.floor_dbfs, MAX_COLUMNS);
            let (p99, _) = decimate_max(&s.p99_dbfs, MAX_COLUMNS);
            json!({
                "center_hz": s.center_hz,
                "sample_rate": profile.capture.sample_rate,
                "bins": s.floor_dbfs.len(),
                "bins_per_column": per_column,
                "floor_dbfs": r1(floor),
                "p99_dbfs": r1(p99),
                "noise_floor_dbfs": s.noise_floor_dbfs,
            })
        })
        .collect();
    json!({
        "site": profile.site.name,
        "segments": segments,
        "emitters": profile.emitters.iter().map(|e| json!({
            "name": e.name,
            "low_hz": e.low_hz,
            "high_hz": e.high_hz,
            "source": match e.source { EmitterSource::Learned => "learned", EmitterSource::Manual => "manual" },
        })).collect::<Vec<_>>(),
        "protected": profile.protected.iter().map(|p| json!({
            "name": p.name, "low_hz": p.low_hz, "high_hz": p.high_hz,
        })).collect::<Vec<_>>(),
        "dbm_at_0dbfs": profile.calibration.as_ref().map(|c| c.dbm_at_0dbfs),
    })
}
