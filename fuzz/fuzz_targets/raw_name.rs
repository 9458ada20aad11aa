//! rtl_433-style raw file names: any name gives a plausible frequency and
//! rate, or none — never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfsentry::iq::open::is_plausible_sample_rate;
use rfsentry::iq::raw::parse_rtl433_name;

fuzz_target!(|name: &str| {
    let (freq, rate) = parse_rtl433_name(name);
    if let Some(f) = freq {
        assert!(f.is_finite() && f > 0.0, "{name:?} gave frequency {f}");
    }
    if let Some(r) = rate {
        assert!(is_plausible_sample_rate(r), "{name:?} gave rate {r}");
    }
});
