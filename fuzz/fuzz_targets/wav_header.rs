//! WAV IQ headers: any bytes either give a layout inside the file whose
//! samples then read to the end, or an error — never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rfsentry::iq::raw::ByteSampleReader;
use rfsentry::iq::wav::parse_layout;
use rfsentry::iq::{Capture, IqReader, Sample, StreamInfo};
use std::io::Cursor;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.wav");
    let len = data.len() as u64;
    let mut cursor = Cursor::new(data);
    let Ok(layout) = parse_layout(path, &mut cursor, len) else {
        return;
    };
    assert!(layout.data_offset + layout.data_len <= len);
    assert!(layout.sample_rate.is_finite() && layout.sample_rate > 0.0);
    let info = StreamInfo {
        name: "fuzz.wav".into(),
        sample_rate: layout.sample_rate,
        datatype: layout.datatype,
        total_samples: None,
        captures: vec![Capture {
            sample_start: 0,
            center_hz: layout.center_hz.unwrap_or(0.0),
            datetime: layout.start_time,
        }],
        annotations: Vec::new(),
    };
    let Ok(mut reader) =
        ByteSampleReader::new(cursor, path, layout.data_offset, layout.data_len, info)
    else {
        return;
    };
    let total = reader.info().total_samples.unwrap();
    let mut buf = [Sample::default(); 37];
    let mut read = 0u64;
    loop {
        let stats = reader
            .read(&mut buf)
            .expect("the layout's samples are in the file");
        if stats.samples == 0 {
            break;
        }
        assert!(buf[..stats.samples]
            .iter()
            .all(|s| s.re.is_finite() && s.im.is_finite()));
        read += stats.samples as u64;
    }
    assert_eq!(read, total);
});
