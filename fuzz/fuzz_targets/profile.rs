//! Baseline profiles: any text either loads (parses and validates) into a
//! profile the detectors can run on, or gives an error — never a panic. A
//! profile that loads survives a save/load round trip and two spectrum
//! frames through the detection engine.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfsentry::detect::DetectionEngine;
use rfsentry::dsp::PsdFrame;
use rfsentry::profile::Profile;
use std::path::Path;

fuzz_target!(|text: &str| {
    let Ok(profile) = toml::from_str::<Profile>(text) else {
        return;
    };
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
    let hop = n as u64;
    for (i, level) in [seg.noise_floor_dbfs, seg.noise_floor_dbfs + 30.0]
        .into_iter()
        .enumerate()
    {
        let mut mean = seg.floor_dbfs.clone();
        if i == 1 {
            mean[n / 3] = level;
        }
        let frame = PsdFrame {
            segment: 0,
            start_sample: i as u64 * hop * 4,
            sample_count: hop * 4,
            center_hz: seg.center_hz,
            sample_rate: rate,
            max_dbfs: mean.clone(),
            mean_dbfs: mean,
            fft_power_dbfs: vec![seg.total_power_dbfs; 4],
            clipped: 0,
        };
        let _ = engine.detect(&frame);
    }
});
