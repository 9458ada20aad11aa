//! WAV IQ recordings (SDR#, SDRuno, HDSDR, SDR Console): a RIFF/WAVE (or
//! RF64) file whose two channels are I and Q.
//!
//! [`parse_layout`] walks the chunks: `fmt ` gives the encoding (8-bit
//! unsigned, 16/32-bit signed PCM, 32/64-bit IEEE float, plain or
//! WAVE_FORMAT_EXTENSIBLE) and the sample rate; the SDR#/HDSDR `auxi` chunk
//! gives the centre frequency and start time; `data` locates the samples,
//! which [`ByteSampleReader`] then streams. The walk is forgiving where real
//! files are sloppy (odd-size padding, unknown chunks, a `data` size larger
//! than the file, the 0xFFFFFFFF size of unfinished streaming files) and
//! strict where a wrong guess would give wrong samples.

use super::open::OpenOptions;
use super::raw::{ByteSampleReader, FileSampleReader};
use super::{Capture, Datatype, StreamInfo};
use crate::{Error, Result};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// `data` chunk size written by recorders that stream and never patch it.
const SIZE_UNKNOWN: u32 = 0xFFFF_FFFF;
/// Chunks walked at most: real files have a handful.
const MAX_CHUNKS: usize = 4096;
/// `fmt ` format tags.
const FORMAT_PCM: u16 = 1;
const FORMAT_IEEE_FLOAT: u16 = 3;
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;
/// Bytes 2..16 of the KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT GUIDs (the
/// first two bytes are the format tag).
const SUBFORMAT_GUID_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];

/// Whether `head` (the first 12 bytes of a file) is a RIFF or RF64 WAVE header.
pub fn is_riff_wave(head: &[u8]) -> bool {
    head.len() >= 12
        && (head.starts_with(b"RIFF") || head.starts_with(b"RF64"))
        && &head[8..12] == b"WAVE"
}

/// Whether the file at `path` starts with a RIFF/RF64 WAVE header.
pub fn has_wav_header(path: &Path) -> Result<bool> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut head = [0u8; 12];
    let len = read_up_to(&mut file, &mut head).map_err(|e| Error::io(path, e))?;
    Ok(is_riff_wave(&head[..len]))
}

/// Where the samples of a WAV IQ file are and what they mean.
#[derive(Debug, Clone, PartialEq)]
pub struct WavLayout {
    pub datatype: Datatype,
    /// Samples per second (`fmt ` chunk).
    pub sample_rate: f64,
    /// Byte offset of the first sample.
    pub data_offset: u64,
    /// Bytes of sample data actually present in the file.
    pub data_len: u64,
    /// `auxi` chunk CenterFreq, when present and not 0.
    pub center_hz: Option<f64>,
    /// `auxi` chunk StartTime (taken as UTC), when present and valid.
    pub start_time: Option<DateTime<Utc>>,
}

/// What the `auxi` chunk says.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Auxi {
    center_hz: Option<f64>,
    start_time: Option<DateTime<Utc>>,
}

/// Read the chunk layout of the WAV file `source` (of `file_len` bytes;
/// `path` is named in errors).
pub fn parse_layout<R: Read + Seek>(
    path: &Path,
    source: &mut R,
    file_len: u64,
) -> Result<WavLayout> {
    let io = |e| Error::io(path, e);
    let mut head = [0u8; 12];
    source.seek(SeekFrom::Start(0)).map_err(io)?;
    let head_len = read_up_to(source, &mut head).map_err(io)?;
    if !is_riff_wave(&head[..head_len]) {
        return Err(Error::format(
            path,
            "header",
            "a WAV file starting with \"RIFF\" (or \"RF64\"), a size and \"WAVE\"",
        ));
    }
    let rf64 = head.starts_with(b"RF64");
    let mut format: Option<(Datatype, f64)> = None;
    let mut data: Option<(u64, u64)> = None;
    let mut auxi = Auxi::default();
    let mut ds64_data_size: Option<u64> = None;
    let mut pos = 12u64;
    for _ in 0..MAX_CHUNKS {
        if pos.saturating_add(8) > file_len {
            break;
        }
        source.seek(SeekFrom::Start(pos)).map_err(io)?;
        let mut chunk_head = [0u8; 8];
        source.read_exact(&mut chunk_head).map_err(io)?;
        let id = &chunk_head[..4];
        let size = u32::from_le_bytes([chunk_head[4], chunk_head[5], chunk_head[6], chunk_head[7]]);
        let body = pos + 8;
        match id {
            b"fmt " if format.is_none() => {
                format = Some(parse_fmt(path, &read_body(source, path, size, 64)?)?)
            }
            b"ds64" if rf64 => {
                let bytes = read_body(source, path, size, 24)?;
                if bytes.len() >= 16 {
                    ds64_data_size = Some(u64_le(&bytes[8..16]));
                }
            }
            b"auxi" => auxi = parse_auxi(&read_body(source, path, size, 36)?),
            b"data" if data.is_none() => {
                let declared = match size {
                    SIZE_UNKNOWN => ds64_data_size,
                    known => Some(u64::from(known)),
                };
                let available = file_len - body;
                let len = match declared {
                    None => available,
                    Some(declared) if declared > available => {
                        tracing::warn!(
                            "{}: the data chunk declares {declared} bytes but only {available} follow; reading those",
                            path.display()
                        );
                        available
                    }
                    Some(declared) => declared,
                };
                data = Some((body, len));
                if declared != Some(len) {
                    break; // the data runs to the end of the file
                }
                pos = body + len + (len & 1);
                continue;
            }
            _ if !is_chunk_id(id) => {
                if data.is_some() {
                    break; // trailing garbage after the samples
                }
                return Err(Error::format(
                    path,
                    format!("chunk at byte {pos}"),
                    format!("a RIFF chunk id of 4 ASCII characters; found {id:02x?}"),
                ));
            }
            _ => {}
        }
        pos = body + u64::from(size) + u64::from(size & 1);
    }
    let (datatype, sample_rate) = format.ok_or_else(|| {
        Error::format(
            path,
            "fmt chunk",
            "a \"fmt \" chunk describing the samples; none found",
        )
    })?;
    let (data_offset, data_len) = data.ok_or_else(|| {
        Error::format(
            path,
            "data chunk",
            "a \"data\" chunk holding the samples; none found",
        )
    })?;
    Ok(WavLayout {
        datatype,
        sample_rate,
        data_offset,
        data_len,
        center_hz: auxi.center_hz,
        start_time: auxi.start_time,
    })
}

/// Read until `buf` is full or the source ends; returns the bytes read.
fn read_up_to<R: Read>(source: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match source.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The first `min(size, limit)` bytes of a chunk body (fewer if the file ends).
fn read_body<R: Read>(source: &mut R, path: &Path, size: u32, limit: usize) -> Result<Vec<u8>> {
    let mut bytes = vec![0; (size as usize).min(limit)];
    let n = read_up_to(source, &mut bytes).map_err(|e| Error::io(path, e))?;
    bytes.truncate(n);
    Ok(bytes)
}

fn is_chunk_id(id: &[u8]) -> bool {
    id.iter().all(|&b| (0x20..0x7f).contains(&b))
}

fn u16_le(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}

fn u32_le(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn u64_le(b: &[u8]) -> u64 {
    u64::from(u32_le(b)) | u64::from(u32_le(&b[4..])) << 32
}

/// The encoding and sample rate from a `fmt ` chunk body.
fn parse_fmt(path: &Path, fmt: &[u8]) -> Result<(Datatype, f64)> {
    if fmt.len() < 16 {
        return Err(Error::format(
            path,
            "fmt chunk",
            format!("at least 16 bytes; found {}", fmt.len()),
        ));
    }
    let tag = u16_le(&fmt[0..]);
    let channels = u16_le(&fmt[2..]);
    let rate = u32_le(&fmt[4..]);
    let block_align = u16_le(&fmt[12..]);
    let bits = u16_le(&fmt[14..]);
    let format = if tag == FORMAT_EXTENSIBLE {
        if fmt.len() < 40 {
            return Err(Error::format(
                path,
                "fmt chunk",
                format!(
                    "40 bytes for WAVE_FORMAT_EXTENSIBLE (with its sub-format GUID); found {}",
                    fmt.len()
                ),
            ));
        }
        let guid = &fmt[24..40];
        if guid[2..] != SUBFORMAT_GUID_TAIL {
            return Err(Error::format(
                path,
                "fmt sub-format",
                format!("the PCM or IEEE float sub-format GUID; found {guid:02x?}"),
            ));
        }
        u16_le(guid)
    } else {
        tag
    };
    if channels != 2 {
        return Err(Error::format(
            path,
            "channels",
            format!("not IQ: expected 2 channels (I and Q), found {channels}"),
        ));
    }
    let datatype = match (format, bits) {
        (FORMAT_PCM, 8) => Datatype::CU8,
        (FORMAT_PCM, 16) => Datatype::CI16_LE,
        (FORMAT_PCM, 32) => Datatype::CI32_LE,
        (FORMAT_IEEE_FLOAT, 32) => Datatype::CF32_LE,
        (FORMAT_IEEE_FLOAT, 64) => Datatype::CF64_LE,
        (FORMAT_PCM | FORMAT_IEEE_FLOAT, _) => {
            let kind = if format == FORMAT_PCM { "PCM" } else { "float" };
            return Err(Error::format(
                path,
                "bits per sample",
                format!("8, 16 or 32-bit PCM, or 32 or 64-bit float; found {bits}-bit {kind}"),
            ));
        }
        _ => {
            return Err(Error::format(
                path,
                "audio format",
                format!(
                "PCM (1) or IEEE float (3), plain or WAVE_FORMAT_EXTENSIBLE; found {format:#06x}"
            ),
            ))
        }
    };
    if usize::from(block_align) != datatype.sample_bytes() {
        return Err(Error::format(
            path,
            "block align",
            format!(
                "{} bytes per I/Q frame of {bits}-bit samples; found {block_align}",
                datatype.sample_bytes()
            ),
        ));
    }
    if rate == 0 {
        return Err(Error::format(
            path,
            "sample rate",
            "a positive number of samples per second; found 0",
        ));
    }
    Ok((datatype, f64::from(rate)))
}

/// Centre frequency and start time from an `auxi` chunk body: SYSTEMTIME
/// StartTime (16 bytes), SYSTEMTIME StopTime (16 bytes), then u32
/// CenterFreq, all little-endian. Missing or nonsensical fields are `None`.
fn parse_auxi(auxi: &[u8]) -> Auxi {
    let start_time = auxi.get(..16).and_then(|t| {
        let field = |i: usize| u16_le(&t[2 * i..]);
        let date = NaiveDate::from_ymd_opt(i32::from(field(0)), field(1).into(), field(3).into())?;
        let time = date.and_hms_milli_opt(
            field(4).into(),
            field(5).into(),
            field(6).into(),
            field(7).into(),
        )?;
        Some(Utc.from_utc_datetime(&time))
    });
    let center_hz = auxi
        .get(32..36)
        .map(u32_le)
        .filter(|&hz| hz != 0)
        .map(f64::from);
    Auxi {
        center_hz,
        start_time,
    }
}

/// Open a WAV IQ recording. The rate is the `fmt ` chunk's; the centre
/// frequency the `auxi` chunk's, else `--freq`, else an error asking for it.
pub fn open_wav(path: &Path, opts: &OpenOptions) -> Result<FileSampleReader> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let layout = parse_layout(path, &mut file, file_len)?;
    let center_hz = match (layout.center_hz, opts.center_hz) {
        (Some(auxi), flag) => {
            if let Some(flag) = flag.filter(|&f| f != auxi) {
                tracing::warn!(
                    "{}: ignoring --freq {flag}: the auxi chunk gives {auxi} Hz",
                    path.display()
                );
            }
            auxi
        }
        (None, Some(flag)) => flag,
        (None, None) => {
            return Err(Error::format(
                path,
                "centre frequency",
                "unknown: the file has no auxi chunk with CenterFreq; pass --freq <Hz>",
            ))
        }
    };
    if let Some(flag) = opts.sample_rate.filter(|&r| r != layout.sample_rate) {
        tracing::warn!(
            "{}: ignoring --rate {flag}: the fmt chunk gives {} samples per second",
            path.display(),
            layout.sample_rate
        );
    }
    let info = StreamInfo {
        name: path.display().to_string(),
        sample_rate: layout.sample_rate,
        datatype: layout.datatype,
        total_samples: None,
        captures: vec![Capture {
            sample_start: 0,
            center_hz,
            datetime: layout.start_time,
        }],
        annotations: Vec::new(),
    };
    let reader = ByteSampleReader::new(file, path, layout.data_offset, layout.data_len, info)?;
    super::sigmf::check_datetimes(path, super::IqReader::info(&reader), |_| {
        "auxi start time".to_string()
    })?;
    Ok(reader)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iq::raw::tests::capture_logs;
    use crate::iq::{IqReader, ReadStats, Sample};
    use proptest::prelude::*;
    use std::io::Cursor;

    const FLAGS_NONE: OpenOptions = OpenOptions {
        sample_rate: None,
        center_hz: None,
        skip_checksum: false,
    };

    /// A `fmt ` chunk body.
    fn fmt_body(tag: u16, channels: u16, bits: u16, rate: u32, subformat: Option<u16>) -> Vec<u8> {
        let block_align = channels * bits / 8;
        let mut b = Vec::new();
        b.extend_from_slice(&tag.to_le_bytes());
        b.extend_from_slice(&channels.to_le_bytes());
        b.extend_from_slice(&rate.to_le_bytes());
        b.extend_from_slice(&rate.wrapping_mul(u32::from(block_align)).to_le_bytes());
        b.extend_from_slice(&block_align.to_le_bytes());
        b.extend_from_slice(&bits.to_le_bytes());
        if let Some(sub) = subformat {
            b.extend_from_slice(&22u16.to_le_bytes());
            b.extend_from_slice(&bits.to_le_bytes());
            b.extend_from_slice(&3u32.to_le_bytes()); // front left + right
            b.extend_from_slice(&sub.to_le_bytes());
            b.extend_from_slice(&SUBFORMAT_GUID_TAIL);
        }
        b
    }

    /// An SDR#-style `auxi` body: StartTime, StopTime, CenterFreq, then the
    /// fields rfsentry does not use.
    fn auxi_body(start: [u16; 8], center_hz: u32) -> Vec<u8> {
        let mut b = Vec::new();
        for time in [start, start] {
            for field in time {
                b.extend_from_slice(&field.to_le_bytes());
            }
        }
        b.extend_from_slice(&center_hz.to_le_bytes());
        for unused in [2_400_000u32, 0, 0, 0, 0, 0, 0, 0] {
            b.extend_from_slice(&unused.to_le_bytes());
        }
        b
    }

    fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
        chunk_sized(id, body.len() as u32, body)
    }

    fn chunk_sized(id: &[u8; 4], size: u32, body: &[u8]) -> Vec<u8> {
        let mut c = id.to_vec();
        c.extend_from_slice(&size.to_le_bytes());
        c.extend_from_slice(body);
        if body.len() % 2 == 1 {
            c.push(0);
        }
        c
    }

    fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = chunks.concat();
        let mut f = b"RIFF".to_vec();
        f.extend_from_slice(&(4 + body.len() as u32).to_le_bytes());
        f.extend_from_slice(b"WAVE");
        f.extend_from_slice(&body);
        f
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn read_all(reader: &mut dyn IqReader) -> (Vec<Sample>, usize) {
        let (mut all, mut nonfinite) = (Vec::new(), 0);
        let mut buf = [Sample::default(); 3];
        loop {
            let ReadStats {
                samples,
                nonfinite: bad,
            } = reader.read(&mut buf).unwrap();
            if samples == 0 {
                return (all, nonfinite);
            }
            nonfinite += bad;
            all.extend_from_slice(&buf[..samples]);
        }
    }

    const SDR_SHARP_START: [u16; 8] = [2023, 7, 1, 15, 13, 45, 30, 250];

    #[test]
    fn pcm16_with_auxi_and_padded_unknown_chunk() {
        let dir = tempfile::tempdir().unwrap();
        let samples: [i16; 4] = [-32768, 16384, 32767, 1];
        let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let bytes = riff(&[
            chunk(b"fmt ", &fmt_body(FORMAT_PCM, 2, 16, 2_048_000, None)),
            chunk(b"LIST", b"odd"), // 3 bytes + 1 pad byte
            chunk(b"auxi", &auxi_body(SDR_SHARP_START, 433_920_000)),
            chunk(b"data", &data),
        ]);
        let path = write(
            dir.path(),
            "SDRSharp_20230715_134530Z_433920000Hz_IQ.wav",
            &bytes,
        );
        let mut r = open_wav(&path, &FLAGS_NONE).unwrap();
        let info = r.info().clone();
        assert_eq!(info.sample_rate, 2_048_000.0);
        assert_eq!(info.datatype, Datatype::CI16_LE);
        assert_eq!(info.center_hz(), 433.92e6);
        assert_eq!(
            info.start_time().unwrap().to_rfc3339(),
            "2023-07-15T13:45:30.250+00:00"
        );
        assert_eq!(info.total_samples, Some(2));
        let (got, _) = read_all(&mut r);
        assert_eq!(
            got,
            [
                Sample::new(-1.0, 0.5),
                Sample::new(32767.0 / 32768.0, 1.0 / 32768.0)
            ]
        );
        r.seek(1).unwrap();
        let mut one = [Sample::default(); 2];
        assert_eq!(r.read(&mut one).unwrap().samples, 1);
        assert_eq!(one[0], got[1]);
    }

    #[test]
    fn pcm8_is_unsigned_and_freq_comes_from_the_flag_without_auxi() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = riff(&[
            chunk(b"fmt ", &fmt_body(FORMAT_PCM, 2, 8, 250_000, None)),
            chunk(b"data", &[255, 0, 128, 127]),
        ]);
        let path = write(dir.path(), "u8.wav", &bytes);
        let msg = open_wav(&path, &FLAGS_NONE).err().unwrap().to_string();
        assert!(
            msg.contains("u8.wav: centre frequency") && msg.contains("--freq"),
            "{msg}"
        );

        let flags = OpenOptions {
            sample_rate: None,
            center_hz: Some(868.3e6),
            ..OpenOptions::default()
        };
        let mut r = open_wav(&path, &flags).unwrap();
        assert_eq!(r.info().center_hz(), 868.3e6);
        assert_eq!(r.info().start_time(), None);
        let (got, _) = read_all(&mut r);
        assert_eq!(got[0], Sample::new(1.0, -1.0));
        assert!(got[1].norm() < 0.01, "{}", got[1]);
    }

    #[test]
    fn float_and_extensible_formats_with_auxi_after_data() {
        let dir = tempfile::tempdir().unwrap();
        let values = [0.5f32, -0.25, f32::NAN, 1.0];
        let f32_data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let f64_data: Vec<u8> = values
            .iter()
            .flat_map(|&v| f64::from(v).to_le_bytes())
            .collect();
        let i16_data: Vec<u8> = [16384i16, -16384, 0, 8192]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let cases = [
            (
                "float.wav",
                fmt_body(FORMAT_IEEE_FLOAT, 2, 32, 96_000, None),
                f32_data.clone(),
                Datatype::CF32_LE,
            ),
            (
                "double.wav",
                fmt_body(FORMAT_IEEE_FLOAT, 2, 64, 96_000, None),
                f64_data,
                Datatype::CF64_LE,
            ),
            (
                "ext_float.wav",
                fmt_body(FORMAT_EXTENSIBLE, 2, 32, 96_000, Some(FORMAT_IEEE_FLOAT)),
                f32_data,
                Datatype::CF32_LE,
            ),
            (
                "ext_pcm.wav",
                fmt_body(FORMAT_EXTENSIBLE, 2, 16, 96_000, Some(FORMAT_PCM)),
                i16_data,
                Datatype::CI16_LE,
            ),
        ];
        for (name, fmt, data, datatype) in cases {
            let bytes = riff(&[
                chunk(b"fmt ", &fmt),
                chunk(b"data", &data),
                chunk(b"auxi", &auxi_body(SDR_SHARP_START, 7_100_000)),
            ]);
            let path = write(dir.path(), name, &bytes);
            let mut r = open_wav(&path, &FLAGS_NONE).unwrap();
            assert_eq!(r.info().datatype, datatype, "{name}");
            assert_eq!(r.info().center_hz(), 7.1e6, "{name}");
            let (got, nonfinite) = read_all(&mut r);
            if datatype == Datatype::CI16_LE {
                assert_eq!(
                    got,
                    [Sample::new(0.5, -0.5), Sample::new(0.0, 0.25)],
                    "{name}"
                );
                assert_eq!(nonfinite, 0);
            } else {
                assert_eq!(
                    got,
                    [Sample::new(0.5, -0.25), Sample::new(0.0, 0.0)],
                    "{name}"
                );
                assert_eq!(nonfinite, 1, "{name}");
            }
        }
    }

    #[test]
    fn oversized_and_streaming_data_sizes_read_to_the_end_of_file() {
        let dir = tempfile::tempdir().unwrap();
        let fmt = chunk(b"fmt ", &fmt_body(FORMAT_PCM, 2, 16, 48_000, None));
        let data = [1u8, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7]; // 3 samples + 1 stray byte
        let aux = chunk(b"auxi", &auxi_body(SDR_SHARP_START, 100_000_000));
        for (name, size) in [
            ("oversized.wav", 1_000_000u32),
            ("streaming.wav", SIZE_UNKNOWN),
        ] {
            let bytes = [
                riff(&[fmt.clone(), aux.clone()]),
                chunk_sized(b"data", size, &data)[..8 + data.len()].to_vec(),
            ]
            .concat();
            let path = write(dir.path(), name, &bytes);
            let (result, logs) = capture_logs(|| {
                let mut r = open_wav(&path, &FLAGS_NONE).unwrap();
                let total = r.info().total_samples;
                (total, read_all(&mut r).0.len())
            });
            assert_eq!(result, (Some(3), 3), "{name}");
            assert!(
                logs.contains(name) && logs.contains("1 trailing byte"),
                "{logs}"
            );
            assert_eq!(
                logs.contains("declares 1000000 bytes"),
                size != SIZE_UNKNOWN,
                "{logs}"
            );
        }
    }

    #[test]
    fn rf64_takes_the_data_size_from_ds64() {
        let mut ds64 = Vec::new();
        ds64.extend_from_slice(&0u64.to_le_bytes()); // RIFF size
        ds64.extend_from_slice(&8u64.to_le_bytes()); // data size
        ds64.extend_from_slice(&2u64.to_le_bytes()); // sample count
        ds64.extend_from_slice(&0u32.to_le_bytes()); // table length
        let mut bytes = riff(&[
            chunk(b"ds64", &ds64),
            chunk(b"fmt ", &fmt_body(FORMAT_PCM, 2, 16, 48_000, None)),
            chunk_sized(b"data", SIZE_UNKNOWN, &[0; 8]),
            chunk(b"auxi", &auxi_body(SDR_SHARP_START, 145_000_000)),
        ]);
        bytes[..4].copy_from_slice(b"RF64");
        let len = bytes.len() as u64;
        let layout = parse_layout(Path::new("big.wav"), &mut Cursor::new(bytes), len).unwrap();
        assert_eq!(layout.data_len, 8);
        assert_eq!(layout.center_hz, Some(145e6));
    }

    #[test]
    fn bad_headers_are_errors_naming_file_and_field() {
        let data = chunk(b"data", &[0; 16]);
        let mut ext_unknown_guid = fmt_body(FORMAT_EXTENSIBLE, 2, 16, 8000, Some(FORMAT_PCM));
        ext_unknown_guid[30] ^= 0xff;
        let mut bad_align = fmt_body(FORMAT_PCM, 2, 16, 8000, None);
        bad_align[12] = 3;
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (
                riff(&[
                    chunk(b"fmt ", &fmt_body(FORMAT_PCM, 1, 16, 8000, None)),
                    data.clone(),
                ]),
                "channels: not IQ: expected 2 channels (I and Q), found 1",
            ),
            (
                riff(&[
                    chunk(b"fmt ", &fmt_body(FORMAT_PCM, 4, 16, 8000, None)),
                    data.clone(),
                ]),
                "found 4",
            ),
            (
                riff(&[
                    chunk(b"fmt ", &fmt_body(FORMAT_PCM, 2, 24, 8000, None)),
                    data.clone(),
                ]),
                "bits per sample: 8, 16 or 32-bit PCM, or 32 or 64-bit float; found 24-bit PCM",
            ),
            (
                riff(&[chunk(b"fmt ", &fmt_body(2, 2, 4, 8000, None)), data.clone()]),
                "audio format",
            ),
            (
                riff(&[chunk(b"fmt ", &ext_unknown_guid), data.clone()]),
                "fmt sub-format",
            ),
            (
                riff(&[chunk(b"fmt ", &bad_align), data.clone()]),
                "block align",
            ),
            (
                riff(&[
                    chunk(b"fmt ", &fmt_body(FORMAT_PCM, 2, 16, 0, None)),
                    data.clone(),
                ]),
                "sample rate",
            ),
            (
                riff(&[chunk(b"fmt ", &[1, 0, 2, 0]), data.clone()]),
                "fmt chunk: at least 16 bytes",
            ),
            (
                riff(std::slice::from_ref(&data)),
                "fmt chunk: a \"fmt \" chunk",
            ),
            (
                riff(&[chunk(b"fmt ", &fmt_body(FORMAT_PCM, 2, 16, 8000, None))]),
                "data chunk",
            ),
            (
                riff(&[chunk(b"\0\x01\x02\x03", b"junk"), data.clone()]),
                "chunk at byte 12",
            ),
            (b"RIFX\0\0\0\0WAVEfmt ".to_vec(), "header: a WAV file"),
            (b"RIFF".to_vec(), "header"),
            (
                riff(&[
                    chunk(b"fmt ", &fmt_body(FORMAT_PCM, 2, 16, 8000, None)),
                    chunk(b"data", &[1, 2]),
                ]),
                "found 2 bytes",
            ),
        ];
        let dir = tempfile::tempdir().unwrap();
        let flags = OpenOptions {
            sample_rate: None,
            center_hz: Some(1e6),
            ..OpenOptions::default()
        };
        for (bytes, expected) in cases {
            let path = write(dir.path(), "bad.wav", &bytes);
            let msg = open_wav(&path, &flags).err().expect(expected).to_string();
            assert!(msg.contains("bad.wav"), "{msg}");
            assert!(msg.contains(expected), "{expected} not in {msg}");
        }
    }

    #[test]
    fn auxi_fields_that_make_no_sense_are_ignored() {
        let auxi = parse_auxi(&auxi_body([2023, 13, 0, 40, 25, 0, 0, 0], 0));
        assert_eq!(auxi, Auxi::default());
        let auxi = parse_auxi(&auxi_body(SDR_SHARP_START, 1)[..20]);
        assert!(auxi.start_time.is_some() && auxi.center_hz.is_none());
    }

    fn chunk_id() -> impl Strategy<Value = [u8; 4]> {
        prop_oneof![
            prop::sample::select(vec![*b"fmt ", *b"data", *b"auxi", *b"LIST", *b"ds64"]),
            any::<[u8; 4]>(),
        ]
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..128)) {
            let len = bytes.len() as u64;
            let _ = parse_layout(Path::new("p.wav"), &mut Cursor::new(bytes), len);
        }

        #[test]
        fn arbitrary_chunks_parse_or_error_and_read_without_panic(
            rf64 in any::<bool>(),
            tag in prop::sample::select(vec![FORMAT_PCM, FORMAT_IEEE_FLOAT, FORMAT_EXTENSIBLE, 2]),
            channels in 0u16..4,
            bits in prop::sample::select(vec![0u16, 8, 16, 24, 32, 64]),
            rate in any::<u32>(),
            chunks in prop::collection::vec(
                (chunk_id(), any::<u32>(), prop::collection::vec(any::<u8>(), 0..48)), 0..6),
        ) {
            let fmt_tag = if tag == FORMAT_EXTENSIBLE { FORMAT_EXTENSIBLE } else { tag };
            let subformat = (tag == FORMAT_EXTENSIBLE).then_some(FORMAT_PCM);
            let mut parts = vec![chunk(b"fmt ", &fmt_body(fmt_tag, channels, bits, rate / 2, subformat))];
            for (id, size, body) in &chunks {
                // Half the time a truthful size, else whatever was drawn.
                let size = if size % 2 == 0 { body.len() as u32 } else { *size };
                parts.push(chunk_sized(id, size, body));
            }
            let mut bytes = riff(&parts);
            if rf64 {
                bytes[..4].copy_from_slice(b"RF64");
            }
            let len = bytes.len() as u64;
            let mut cursor = Cursor::new(bytes);
            if let Ok(layout) = parse_layout(Path::new("p.wav"), &mut cursor, len) {
                prop_assert!(layout.data_offset + layout.data_len <= len);
                let info = StreamInfo {
                    name: "p".into(),
                    sample_rate: layout.sample_rate,
                    datatype: layout.datatype,
                    total_samples: None,
                    captures: vec![Capture { sample_start: 0, center_hz: 0.0, datetime: None }],
                    annotations: Vec::new(),
                };
                if let Ok(mut r) = ByteSampleReader::new(cursor, Path::new("p.wav"), layout.data_offset, layout.data_len, info) {
                    let (got, _) = read_all(&mut r);
                    prop_assert_eq!(Some(got.len() as u64), r.info().total_samples);
                }
            }
        }
    }
}
