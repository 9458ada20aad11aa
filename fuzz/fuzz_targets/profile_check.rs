//! The checks every profile fuzz target makes of a profile that parsed: it
//! either fails validation with an error, or it validates, survives a
//! save/load round trip, and runs quiet, tone, barrage and pulsed frames
//! through the detection engine — never a panic.

use rfsentry::detect::DetectionEngine;
use rfsentry::dsp::PsdFrame;
use rfsentry::profile::Profile;
use std::path::Path;

/// Check `profile` as the module doc says.
pub fn check(profile: Profile) {
    if profile.validate(Path::new("fuzz.toml")).is_err() {
        return;
    }
    let again = toml::to_string(&profile).expect("a valid profile serialises");
    let back: Profile = toml::from_str(&again).expect("a saved profile loads");
    back.validate(Path::new("fuzz.toml"))
        .expect("a saved profile validates");

    let n = profile.capture.psd.fft_size;
    if n > 4096 {
        return; // keep each run fast
    }
    let seg = &profile.segments[0];
    let rate = profile.capture.sample_rate;
    let _ = profile.check_fits("fuzz", rate, seg.center_hz, &profile.capture.psd);
    let mut engine = DetectionEngine::new(profile.clone());
    let ffts = 16;
    let frame = |i: u64, mean: Vec<f32>, max: Vec<f32>, powers: Vec<f32>| PsdFrame {
        segment: 0,
        start_sample: i * n as u64 * ffts,
        sample_count: n as u64 * ffts,
        center_hz: seg.center_hz,
        sample_rate: rate,
        mean_dbfs: mean,
        max_dbfs: max,
        fft_power_dbfs: powers,
        clipped: 0,
        probe: Vec::new(),
    };
    let quiet = seg.floor_dbfs.clone();
    let mut tone = quiet.clone();
    tone[n / 3] = seg.noise_floor_dbfs + 40.0;
    let barrage: Vec<f32> = quiet.iter().map(|x| x + 20.0).collect();
    let steady = vec![seg.total_power_dbfs; ffts as usize];
    let pulsed: Vec<f32> = (0..ffts)
        .map(|i| seg.total_power_dbfs + if i % 4 < 2 { 20.0 } else { 0.0 })
        .collect();
    let frames = [
        (quiet.clone(), quiet.clone(), steady.clone()),
        (tone.clone(), tone, steady.clone()),
        (barrage.clone(), barrage.clone(), pulsed.clone()),
        (barrage.clone(), barrage, steady),
        (quiet.clone(), quiet, pulsed),
    ];
    for (i, (mean, max, powers)) in frames.into_iter().enumerate() {
        let _ = engine.detect(&frame(i as u64, mean, max, powers));
    }
}
