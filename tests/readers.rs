//! Integration tests of the IQ readers: real recordings made by others (the
//! URH test captures in `../shared/recordings/urh`, read in place, never
//! copied) and round trips through rfsentry's own SigMF writer, raw files,
//! WAV files and SigMF archives.

use crate::util::wav_file;

use rfsentry::iq::{open, Annotation, Datatype, IqReader, OpenOptions, Sample, SigmfWriter};
use std::path::{Path, PathBuf};

/// URH files carry no rate or frequency: use URH's default rate and an ISM frequency.
const URH_FLAGS: OpenOptions = OpenOptions {
    sample_rate: Some(1e6),
    center_hz: Some(433.92e6),
    skip_checksum: false,
};

/// The URH captures, their encodings and sample counts (from CATALOG.md).
const URH_RECORDINGS: &[(&str, &str, u64)] = &[
    ("elektromaten.complex16s", "ci8", 1_236_159),
    ("pwm.complex16s", "ci8", 1_037_684),
    ("two_participants.complex16s", "ci8", 1_096_900),
    ("esaver.complex16s", "ci8", 299_046),
    ("ook_overshoot.complex16s", "ci8", 311_736),
    ("homematic.complex32s", "ci16_le", 117_396),
    ("fsk.complex", "cf32_le", 67_912),
    ("steckdose_anlernen.complex", "cf32_le", 63_181),
    ("wsp.complex", "cf32_le", 78_340),
    ("enocean.complex", "cf32_le", 49_100),
];

fn urh_dir() -> PathBuf {
    let beside_crate = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/recordings/urh"
    ));
    let shared = Path::new("/work/shared/recordings/urh");
    [beside_crate, shared]
        .into_iter()
        .find(|dir| dir.is_dir())
        .unwrap_or_else(|| {
            panic!(
                "the URH recordings are missing: expected {} or {}",
                beside_crate.display(),
                shared.display()
            )
        })
        .to_path_buf()
}

fn open_urh(name: &str) -> Box<dyn IqReader> {
    let path = urh_dir().join(name);
    open(&path, &URH_FLAGS).unwrap_or_else(|e| panic!("{e}"))
}

/// Every sample of `reader`, read `block` samples at a time.
fn read_all(reader: &mut dyn IqReader, block: usize) -> Vec<Sample> {
    let mut all = Vec::new();
    let mut buf = vec![Sample::default(); block];
    loop {
        let stats = reader.read(&mut buf).unwrap_or_else(|e| panic!("{e}"));
        if stats.samples == 0 {
            return all;
        }
        all.extend_from_slice(&buf[..stats.samples]);
    }
}

#[test]
fn urh_recordings_have_the_catalogued_sample_counts() {
    for &(name, datatype, count) in URH_RECORDINGS {
        let mut reader = open_urh(name);
        let info = reader.info().clone();
        assert_eq!(info.datatype.to_string(), datatype, "{name}");
        assert_eq!(info.total_samples, Some(count), "{name}");
        assert_eq!(info.sample_rate, 1e6, "{name}");
        assert_eq!(info.center_hz(), 433.92e6, "{name}");
        let samples = read_all(reader.as_mut(), 1 << 16);
        assert_eq!(samples.len() as u64, count, "{name}");
        if datatype != "cf32_le" {
            assert!(
                samples
                    .iter()
                    .all(|s| s.re.abs() <= 1.0 && s.im.abs() <= 1.0),
                "{name}: integer samples must be within full scale"
            );
        }
    }
}

#[test]
fn small_and_large_chunks_give_identical_samples() {
    for &(name, _, _) in URH_RECORDINGS {
        let large = read_all(open_urh(name).as_mut(), 100_000);
        let small = read_all(open_urh(name).as_mut(), 777);
        assert_eq!(large.len(), small.len(), "{name}");
        assert!(large == small, "{name}: chunk size changed the samples");
    }
}

#[test]
fn exact_zero_stretches_decode_to_exact_zeros() {
    for name in ["two_participants.complex16s", "esaver.complex16s"] {
        let bytes = std::fs::read(urh_dir().join(name)).unwrap();
        let samples = read_all(open_urh(name).as_mut(), 4096);
        assert_eq!(samples.len(), bytes.len() / 2, "{name}");
        let mut longest_zero_run = 0;
        let mut run = 0;
        for (sample, pair) in samples.iter().zip(bytes.chunks_exact(2)) {
            if pair == [0, 0] {
                assert!(
                    sample.re == 0.0 && sample.im == 0.0,
                    "{name}: zero bytes gave {sample}"
                );
                run += 1;
                longest_zero_run = longest_zero_run.max(run);
            } else {
                assert_ne!(*sample, Sample::new(0.0, 0.0), "{name}: {pair:?}");
                run = 0;
            }
        }
        assert!(
            longest_zero_run >= 1000,
            "{name}: expected squelched stretches, longest zero run is {longest_zero_run}"
        );
    }
}

#[test]
fn seek_then_read_matches_the_sequential_samples() {
    for &(name, _, count) in URH_RECORDINGS {
        let mut reader = open_urh(name);
        let all = read_all(reader.as_mut(), 1 << 16);
        for start in [count - 1, 0, count / 2, 12_345, 1, count / 3 + 7] {
            reader.seek(start).unwrap();
            let mut block = vec![Sample::default(); 1000];
            let n = reader.read(&mut block).unwrap().samples;
            let start = start as usize;
            assert_eq!(n, (all.len() - start).min(1000), "{name} @ {start}");
            assert!(
                block[..n] == all[start..start + n],
                "{name}: seek to {start} read other samples"
            );
        }
    }
}

/// A test signal that stays clear of full scale (so no datatype clips it).
fn test_signal(n: usize) -> Vec<Sample> {
    (0..n)
        .map(|i| {
            let amplitude = 0.2 + 0.79 * ((i * 37 % 101) as f32 / 100.0);
            Sample::from_polar(amplitude, i as f32 * 0.618)
        })
        .collect()
}

/// Largest error one I or Q component may have after quantisation to `dt`.
fn quantisation_tolerance(dt: Datatype) -> f32 {
    let float = dt.to_string().starts_with("cf");
    match dt.component_bytes() {
        _ if float => 0.0,
        1 => 0.5 / 127.5 + 1e-6,
        2 => 0.5 / 32767.5 + 1e-6,
        _ => 1e-6,
    }
}

#[test]
fn sigmf_writer_round_trip_in_every_datatype() {
    let dir = tempfile::tempdir().unwrap();
    let signal = test_signal(5_003);
    let names = [
        "cf64_le", "cf64_be", "cf32_le", "cf32_be", "ci32_le", "ci32_be", "cu32_le", "cu32_be",
        "ci16_le", "ci16_be", "cu16_le", "cu16_be", "ci8", "cu8",
    ];
    for name in names {
        let dt: Datatype = name.parse().unwrap();
        let base = dir.path().join(format!("round_{name}"));
        let mut writer = SigmfWriter::create(&base, dt, 2.4e6, 433.92e6).unwrap();
        let start: chrono::DateTime<chrono::Utc> = "2024-05-01T12:00:00Z".parse().unwrap();
        writer.set_datetime(start);
        writer.write(&signal[..3000]).unwrap();
        writer.retune(868.3e6, None);
        writer.write(&signal[3000..]).unwrap();
        writer.annotate(Annotation::new(100, 50).with("rfsentry:kind", "jamming.tone"));
        let meta = writer.finish().unwrap();

        let mut reader = open(&meta, &OpenOptions::default()).unwrap();
        let info = reader.info().clone();
        assert_eq!(info.datatype, dt);
        assert_eq!(info.sample_rate, 2.4e6);
        assert_eq!(info.total_samples, Some(signal.len() as u64));
        assert_eq!(info.start_time(), Some(start));
        assert_eq!(info.capture_at(2999).center_hz, 433.92e6);
        assert_eq!(info.capture_at(3000).center_hz, 868.3e6);
        assert_eq!(info.annotations.len(), 1);
        assert_eq!(info.annotations[0].kind(), Some("jamming.tone"));
        let back = read_all(reader.as_mut(), 1024);
        assert_eq!(back.len(), signal.len(), "{name}");
        let tolerance = quantisation_tolerance(dt);
        for (i, (a, b)) in signal.iter().zip(&back).enumerate() {
            let error = (a.re - b.re).abs().max((a.im - b.im).abs());
            assert!(
                error <= tolerance,
                "{name} sample {i}: {a} came back as {b}"
            );
        }
    }
}

/// A 16-bit PCM stereo WAV with an SDR#-style `auxi` chunk giving `center_hz`.
fn write_wav_ci16(path: &Path, sample_rate: u32, center_hz: u32, data: &[u8]) {
    let mut auxi = vec![0u8; 32]; // StartTime and StopTime left zero (unknown)
    auxi.extend_from_slice(&center_hz.to_le_bytes());
    auxi.extend_from_slice(&[0; 28]);
    let fmt = wav_file::fmt_chunk(1, 2, 16, sample_rate); // PCM, I and Q
    let file = wav_file::riff_wave(&[(b"fmt ", &fmt), (b"auxi", &auxi), (b"data", data)]);
    std::fs::write(path, file).unwrap();
}

/// A `.sigmf` archive of the recording `NAME.sigmf-meta`/`.sigmf-data` in `dir`.
fn write_archive(dir: &Path, name: &str) -> PathBuf {
    let archive = dir.join(format!("{name}.sigmf"));
    let mut builder = tar::Builder::new(std::fs::File::create(&archive).unwrap());
    for ext in ["sigmf-meta", "sigmf-data"] {
        builder
            .append_path_with_name(
                dir.join(format!("{name}.{ext}")),
                format!("{name}/{name}.{ext}"),
            )
            .unwrap();
    }
    builder.finish().unwrap();
    archive
}

#[test]
fn the_same_ci16_samples_read_identically_from_raw_wav_sigmf_and_archive() {
    let dir = tempfile::tempdir().unwrap();
    let signal = test_signal(70_001);
    let mut bytes = Vec::new();
    Datatype::CI16_LE.encode(&signal, &mut bytes);

    let raw = dir.path().join("same_433.92M_1024k.cs16");
    std::fs::write(&raw, &bytes).unwrap();
    let wav = dir.path().join("same.wav");
    write_wav_ci16(&wav, 1_024_000, 433_920_000, &bytes);
    let mut writer = SigmfWriter::create(
        &dir.path().join("same"),
        Datatype::CI16_LE,
        1.024e6,
        433.92e6,
    )
    .unwrap();
    writer.write(&signal).unwrap();
    let sigmf = writer.finish().unwrap();
    let archive = write_archive(dir.path(), "same");

    let mut decoded = Vec::new();
    for path in [&raw, &wav, &sigmf, &archive] {
        let mut reader = open(path, &OpenOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let info = reader.info().clone();
        assert_eq!(info.sample_rate, 1.024e6, "{}", path.display());
        assert_eq!(info.center_hz(), 433.92e6, "{}", path.display());
        assert_eq!(info.datatype, Datatype::CI16_LE, "{}", path.display());
        decoded.push(read_all(reader.as_mut(), 4093));
    }
    assert_eq!(decoded[0].len(), signal.len());
    for (path, samples) in [&wav, &sigmf, &archive].iter().zip(&decoded[1..]) {
        assert!(
            *samples == decoded[0],
            "{} decoded differently from the raw file",
            path.display()
        );
    }
    let worst = signal
        .iter()
        .zip(&decoded[0])
        .map(|(a, b)| (a - b).norm())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-4, "ci16 quantisation error {worst}");
}
