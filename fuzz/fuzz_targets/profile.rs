//! Baseline profiles: any text either loads (parses and validates) into a
//! profile the detectors can run on, or gives an error — never a panic. A
//! profile that loads survives a save/load round trip and quiet, tone,
//! barrage and pulsed frames through the detection engine (`profile_check`).
#![no_main]

#[path = "profile_check.rs"]
mod profile_check;

use libfuzzer_sys::fuzz_target;
use rfsentry::profile::Profile;

fuzz_target!(|text: &str| {
    if let Ok(profile) = toml::from_str::<Profile>(text) {
        profile_check::check(profile);
    }
});
