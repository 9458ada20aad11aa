//! SigMF metadata: any bytes either parse into metadata rfsentry can use
//! (plausible rate, captures sorted from sample 0) or give an error — never
//! a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfsentry::iq::open::{is_plausible_sample_rate, OpenOptions};
use rfsentry::iq::sigmf::Metadata;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.sigmf-meta");
    for opts in [
        OpenOptions::default(),
        OpenOptions {
            sample_rate: Some(1e6),
            center_hz: Some(433.92e6),
            skip_checksum: false,
        },
    ] {
        if let Ok(meta) = Metadata::parse(path, data, &opts) {
            assert!(is_plausible_sample_rate(meta.sample_rate));
            assert!(!meta.captures.is_empty());
            assert_eq!(meta.captures[0].sample_start, 0);
            assert!(meta
                .captures
                .windows(2)
                .all(|w| w[0].sample_start <= w[1].sample_start));
            assert!(meta.captures.iter().all(|c| c.center_hz.is_finite()));
            assert!(meta
                .annotations
                .windows(2)
                .all(|w| w[0].sample_start <= w[1].sample_start));
            // What `score` asks of every annotation.
            for a in &meta.annotations {
                if let Some(end) = a.sample_end() {
                    assert!(end >= a.sample_start);
                }
                let _ = (a.kind(), a.excess_db());
            }
        }
    }
});
