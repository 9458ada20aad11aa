//! Property tests of everything that reads a file rfsentry is handed: any
//! byte stream either reads (to the end, with finite samples, as many as
//! announced) or gives an error — never a panic. The parsers' own unit tests
//! cover their pieces (SigMF JSON, WAV chunks, rtl_433 names); these go
//! through the public entry points on real files, as the command line does:
//! `iq::open` for every format, `.sigmf` archives (tar), and profiles.
//!
//! Inputs the fuzzers (`fuzz/`) found to crash become regression tests at
//! the end of this file.

use crate::util::wav_file;

use proptest::prelude::*;
use rfsentry::iq::{open, IqReader, OpenOptions, Sample};
use rfsentry::profile::Profile;
use std::path::Path;

const FLAGS: OpenOptions = OpenOptions {
    sample_rate: Some(250e3),
    center_hz: Some(433.92e6),
    skip_checksum: false,
};

/// Read a reader positioned at sample `from` to its end in blocks of
/// `block`; checks what it yields.
fn drain(reader: &mut dyn IqReader, from: u64, block: usize) -> Result<u64, String> {
    let total = reader.info().total_samples;
    let mut buf = vec![Sample::default(); block.max(1)];
    let mut read = 0u64;
    loop {
        let stats = reader.read(&mut buf).map_err(|e| e.to_string())?;
        if stats.samples == 0 {
            break;
        }
        if stats.nonfinite > stats.samples {
            return Err("more non-finite samples than samples".into());
        }
        if !buf[..stats.samples]
            .iter()
            .all(|s| s.re.is_finite() && s.im.is_finite())
        {
            panic!("a non-finite sample reached the caller");
        }
        read += stats.samples as u64;
    }
    if let Some(t) = total {
        assert_eq!(
            from + read,
            t,
            "read {read} samples from {from} of the {t} announced"
        );
    }
    Ok(read)
}

/// Open `path` and read it all: Ok(samples) or the error text.
fn open_and_read(path: &Path, block: usize) -> Result<u64, String> {
    let mut reader = open(path, &FLAGS).map_err(|e| e.to_string())?;
    let info = reader.info().clone();
    assert!(info.sample_rate.is_finite() && info.sample_rate > 0.0);
    assert!(!info.captures.is_empty());
    drain(reader.as_mut(), 0, block)
}

/// A small valid tar archive holding one SigMF recording.
fn archive(meta: &[u8], data: &[u8]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, bytes) in [("rec/rec.sigmf-meta", meta), ("rec/rec.sigmf-data", data)] {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, bytes).unwrap();
    }
    builder.into_inner().unwrap()
}

const META: &str = r#"{"global":{"core:datatype":"ci16_le","core:sample_rate":250000},"captures":[{"core:sample_start":0,"core:frequency":433920000}]}"#;

/// A valid profile, as text, whose numbers the mutations below change.
fn profile_text() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/profile/small.toml"),
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any bytes under any recording extension (raw, WAV, SigMF pair, archive).
    #[test]
    fn any_file_under_any_extension_reads_or_errors(
        ext in prop::sample::select(vec!["cu8", "cs8", "cs16", "cf32", "cfile", "complex16u", "wav", "sigmf", "sigmf-meta", "dat"]),
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        data in prop::collection::vec(any::<u8>(), 0..64),
        block in 1usize..300,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("rec.{ext}"));
        std::fs::write(&path, &bytes).unwrap();
        if ext == "sigmf-meta" {
            std::fs::write(dir.path().join("rec.sigmf-data"), &data).unwrap();
        }
        if let Err(e) = open_and_read(&path, block) {
            prop_assert!(!e.is_empty());
        }
    }

    /// Files that start like a real recording and then go wrong: a WAV or
    /// SigMF header with arbitrary bytes spliced in or cut short.
    #[test]
    fn damaged_recordings_read_or_error(
        kind in 0usize..3,
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        block in 1usize..300,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let samples: Vec<u8> = (0..200u8).collect();
        let (name, mut bytes) = match kind {
            0 => ("rec.wav", wav_pcm16(&samples)),
            1 => ("rec.sigmf", archive(META.as_bytes(), &samples)),
            _ => ("rec.sigmf-meta", META.as_bytes().to_vec()),
        };
        for (at, value) in &flips {
            let i = at.index(bytes.len());
            bytes[i] = *value;
        }
        bytes.truncate(cut.index(bytes.len() + 1));
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        if kind == 2 {
            std::fs::write(dir.path().join("rec.sigmf-data"), &samples).unwrap();
        }
        let _ = open_and_read(&path, block);
    }

    /// Seeking anywhere then reading gives the rest of the recording.
    #[test]
    fn seek_then_read_gives_the_rest(
        len in 0usize..2000,
        to in any::<prop::sample::Index>(),
        block in 1usize..500,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rec.cs16");
        std::fs::write(&path, vec![0x11u8; len]).unwrap();
        match open(&path, &FLAGS) {
            Err(_) => prop_assert!(len < 4),
            Ok(mut reader) => {
                let total = reader.info().total_samples.unwrap();
                prop_assert_eq!(total, len as u64 / 4);
                let at = to.index(total as usize + 1) as u64;
                reader.seek(at).unwrap();
                prop_assert_eq!(drain(reader.as_mut(), at, block).unwrap(), total - at);
                prop_assert!(reader.seek(total + 1).is_err());
            }
        }
    }

    /// Any text as a profile: it loads, or the error names the file.
    #[test]
    fn any_profile_text_loads_or_errors(text in "\\PC{0,300}") {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, &text).unwrap();
        if let Err(e) = Profile::load(&path) {
            prop_assert!(e.to_string().contains("p.toml"), "{}", e);
        }
    }

    /// A valid profile with one number replaced by something odd: it loads
    /// with only finite statistics, or the error names the file.
    #[test]
    fn odd_numbers_in_a_profile_load_or_error(
        which in any::<prop::sample::Index>(),
        value in prop::sample::select(vec![
            "nan", "inf", "-inf", "0", "-1", "1e308", "-1e308", "1e-320", "4294967296",
            "18446744073709551615", "-0.0", "\"x\"", "[]", "true",
        ]),
    ) {
        let text = profile_text();
        let numbers: Vec<(usize, usize)> = number_spans(&text);
        let (start, end) = numbers[which.index(numbers.len())];
        let spoiled = format!("{}{}{}", &text[..start], value, &text[end..]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        std::fs::write(&path, &spoiled).unwrap();
        match Profile::load(&path) {
            Ok(p) => {
                for s in &p.segments {
                    prop_assert!(s.center_hz.is_finite());
                    prop_assert!(s.floor_dbfs.iter().chain(&s.p99_dbfs).all(|x| x.is_finite()));
                    prop_assert!(s.noise_floor_dbfs.is_finite());
                }
                prop_assert!(p.capture.sample_rate.is_finite() && p.capture.sample_rate > 0.0);
            }
            Err(e) => prop_assert!(e.to_string().contains("p.toml"), "{}", e),
        }
    }
}

/// Byte spans of the numbers in `text` (a crude TOML number scanner).
fn number_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts = bytes[i].is_ascii_digit()
            || (bytes[i] == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit));
        let after_word = i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if starts && !after_word {
            let start = i;
            i += 1;
            while i < bytes.len()
                && (bytes[i].is_ascii_digit()
                    || matches!(bytes[i], b'.' | b'e' | b'E' | b'-' | b'+'))
            {
                i += 1;
            }
            spans.push((start, i));
        } else {
            i += 1;
        }
    }
    spans
}

/// A 16-bit PCM stereo WAV (I/Q) at 250 kS/s around `samples`, with an auxi
/// chunk giving 433.92 MHz.
fn wav_pcm16(samples: &[u8]) -> Vec<u8> {
    let fmt = wav_file::fmt_chunk(1, 2, 16, 250_000);
    let mut auxi = vec![0u8; 32];
    auxi.extend_from_slice(&433_920_000u32.to_le_bytes());
    wav_file::riff_wave(&[(b"fmt ", &fmt), (b"auxi", &auxi), (b"data", samples)])
}

#[test]
fn the_seed_profile_is_valid() {
    // The mutations above start from a profile that loads.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.toml");
    std::fs::write(&path, profile_text()).unwrap();
    Profile::load(&path).unwrap();
    assert!(number_spans(&profile_text()).len() > 20);
}

#[test]
fn the_damage_tests_start_from_valid_recordings() {
    let dir = tempfile::tempdir().unwrap();
    let samples: Vec<u8> = (0..200u8).collect();
    let wav = dir.path().join("rec.wav");
    std::fs::write(&wav, wav_pcm16(&samples)).unwrap();
    assert_eq!(open_and_read(&wav, 7), Ok(50));
    let sigmf = dir.path().join("rec.sigmf");
    std::fs::write(&sigmf, archive(META.as_bytes(), &samples)).unwrap();
    assert_eq!(open_and_read(&sigmf, 7), Ok(50));
}
