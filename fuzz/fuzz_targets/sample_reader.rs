//! The sample decoder every format reads through: any bytes, in any
//! datatype, read in any block sizes with seeks, give finite samples and
//! the counts announced — never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfsentry::iq::raw::ByteSampleReader;
use rfsentry::iq::{Capture, Datatype, IqReader, Sample, StreamInfo};
use std::io::Cursor;
use std::path::Path;

const DATATYPES: [&str; 11] = [
    "cu8", "ci8", "ci16_le", "ci16_be", "cu16_le", "ci32_le", "ci32_be", "cf32_le", "cf32_be",
    "cf64_le", "cf64_be",
];

fuzz_target!(|input: (u8, u8, u16, &[u8])| {
    let (dt, block, seek, bytes) = input;
    let Ok(datatype) = DATATYPES[dt as usize % DATATYPES.len()].parse::<Datatype>() else {
        return;
    };
    let info = StreamInfo {
        name: "fuzz".into(),
        sample_rate: 1e6,
        datatype,
        total_samples: None,
        captures: vec![Capture {
            sample_start: 0,
            center_hz: 0.0,
            datetime: None,
        }],
        annotations: Vec::new(),
    };
    let len = bytes.len() as u64;
    let Ok(mut reader) = ByteSampleReader::new(Cursor::new(bytes), Path::new("fuzz"), 0, len, info)
    else {
        assert!(len < datatype.sample_bytes() as u64);
        return;
    };
    let total = reader.info().total_samples.unwrap();
    assert_eq!(total, len / datatype.sample_bytes() as u64);
    let start = u64::from(seek) % (total + 1);
    reader.seek(start).unwrap();
    let mut buf = vec![Sample::default(); usize::from(block).max(1)];
    let mut read = 0;
    loop {
        let stats = reader.read(&mut buf).unwrap();
        if stats.samples == 0 {
            break;
        }
        assert!(stats.nonfinite <= stats.samples);
        assert!(buf[..stats.samples]
            .iter()
            .all(|s| s.re.is_finite() && s.im.is_finite()));
        read += stats.samples as u64;
    }
    assert_eq!(start + read, total);
    assert!(reader.seek(total + 1).is_err());
});
