//! Raw interleaved IQ: [`ByteSampleReader`], the streaming decoder of a
//! region of sample bytes that every file format reads through (raw files
//! from offset 0, WAV from its `data` chunk, SigMF from its data file or its
//! tar member), and the headerless raw recordings themselves (`.cu8`,
//! `.cs8`, `.cs16`, `.cf32`, `.cfile`, URH's `.complex*`), whose rate and
//! frequency come from the flags or an rtl_433-style file name
//! ([`parse_rtl433_name`]).

use super::datatype::{samples_as_bytes_mut, zero_nonfinite};
use super::open::{is_plausible_sample_rate, OpenOptions};
use super::sha512::BackgroundHasher;
use super::{Capture, Datatype, IqReader, ReadStats, Sample, StreamInfo};
use crate::{Error, Result};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Bytes read and decoded per underlying read: large enough for few system
/// calls, small enough that the byte buffer stays in the L2 cache between the
/// kernel's copy into it and the decoding out of it.
const CHUNK_BYTES: usize = 128 * 1024;

/// Samples per read for the smallest (2-byte) samples.
#[cfg(test)]
const CHUNK_SAMPLES: usize = CHUNK_BYTES / 2;

/// Streams whole samples of one [`Datatype`] from the byte region
/// `[data_offset, data_offset + data_len)` of `source`, through one reusable
/// byte buffer. Trailing bytes that do not make a whole sample are ignored
/// and reported once, with a warning, when the reader is created (the whole
/// samples are still analysed). Non-finite samples (NaN, ±Inf) are replaced
/// by 0 and counted: the first is reported with a warning as it is read, the
/// total when the reader is dropped.
pub struct ByteSampleReader<R> {
    source: R,
    /// The file (or archive member) named in errors and warnings.
    path: PathBuf,
    info: StreamInfo,
    data_offset: u64,
    total_samples: u64,
    stray_bytes: u64,
    /// Index of the next sample `read` returns.
    position: u64,
    bytes: Vec<u8>,
    stray_reported: bool,
    /// Non-finite samples read so far (replaced by 0).
    nonfinite: u64,
    /// A checksum to verify as the samples stream past (SigMF `core:sha512`).
    checksum: Option<Checksum>,
}

/// A SHA-512 the data is expected to have, and the hash of what was read so
/// far in order from the first byte. A seek elsewhere abandons it (the
/// samples are no longer all read in order).
struct Checksum {
    expected: String,
    /// The metadata file and field that state it (named in the error).
    meta_path: PathBuf,
    field: String,
    hasher: BackgroundHasher,
}

/// The reader every file format returns.
pub type FileSampleReader = ByteSampleReader<File>;

impl<R: Read + Seek> ByteSampleReader<R> {
    /// Read `data_len` bytes of samples starting at byte `data_offset` of
    /// `source`, encoded as `info.datatype`. `info.total_samples` is set from
    /// `data_len`; a region without one whole sample is an error naming `path`.
    pub fn new(
        mut source: R,
        path: &Path,
        data_offset: u64,
        data_len: u64,
        mut info: StreamInfo,
    ) -> Result<Self> {
        let datatype = info.datatype;
        let sample_bytes = datatype.sample_bytes() as u64;
        let total_samples = data_len / sample_bytes;
        if total_samples == 0 {
            return Err(Error::format(
                path,
                "samples",
                format!(
                    "at least one whole {datatype} sample ({sample_bytes} bytes); found {data_len} bytes"
                ),
            ));
        }
        source
            .seek(SeekFrom::Start(data_offset))
            .map_err(|e| Error::io(path, e))?;
        info.total_samples = Some(total_samples);
        let buffer_samples = usize::try_from(total_samples)
            .unwrap_or(usize::MAX)
            .min((CHUNK_BYTES / sample_bytes as usize).max(1));
        let mut reader = ByteSampleReader {
            source,
            path: path.to_path_buf(),
            info,
            data_offset,
            total_samples,
            stray_bytes: data_len % sample_bytes,
            position: 0,
            // Native samples are read straight into the caller's buffer.
            bytes: match datatype.is_native() {
                true => Vec::new(),
                false => vec![0; buffer_samples * sample_bytes as usize],
            },
            stray_reported: false,
            nonfinite: 0,
            checksum: None,
        };
        // Said now, not at the end: a file source stops after the last whole
        // sample and never asks for more.
        reader.report_stray_bytes_once();
        Ok(reader)
    }

    /// Verify the data against `expected` (hex SHA-512 of all `data_len`
    /// bytes, from `field` of `meta_path`) as it is read: when the last sample
    /// has been read, a mismatch makes that read an error naming the
    /// metadata file and field. Reading the data in order costs one hash
    /// pass over it, done in the same read.
    pub fn verify_sha512(mut self, expected: &str, meta_path: &Path, field: &str) -> Self {
        match BackgroundHasher::start() {
            Ok(hasher) => {
                self.checksum = Some(Checksum {
                    expected: expected.to_ascii_lowercase(),
                    meta_path: meta_path.to_path_buf(),
                    field: field.to_string(),
                    hasher,
                })
            }
            Err(e) => tracing::warn!(
                "{}: not verifying {field} of {}: no thread for the hash ({e})",
                self.path.display(),
                meta_path.display()
            ),
        }
        self
    }

    /// Feed `bytes` (read in order) to the checksum; at the end of the
    /// samples, hash the stray bytes too and compare.
    fn hash(&mut self, bytes: &[u8]) {
        if let Some(c) = &self.checksum {
            let mut chunk = c.hasher.buffer();
            chunk.extend_from_slice(bytes);
            c.hasher.update(chunk);
        }
    }

    /// The last sample was read: finish the checksum (if any) and compare.
    fn check_at_end(&mut self) -> Result<()> {
        if self.position != self.total_samples {
            return Ok(());
        }
        let Some(c) = self.checksum.take() else {
            return Ok(());
        };
        let mut stray = vec![0; self.stray_bytes as usize];
        self.source
            .read_exact(&mut stray)
            .map_err(|e| self.read_error(e))?;
        c.hasher.update(stray);
        let actual = c.hasher.finish();
        if actual != c.expected {
            return Err(Error::format(
                &c.meta_path,
                c.field,
                format!(
                    "the SHA-512 of the data file {}; the data read hashes to {actual} (corrupt, truncated or altered recording: the analysis of it cannot be trusted)",
                    self.path.display()
                ),
            ));
        }
        tracing::debug!("{}: SHA-512 verified", self.path.display());
        Ok(())
    }

    fn report_stray_bytes_once(&mut self) {
        if self.stray_bytes > 0 && !self.stray_reported {
            self.stray_reported = true;
            tracing::warn!(
                "{}: ignoring {} trailing byte(s) at the end: not a whole {} sample ({} bytes); analysing the {} whole samples",
                self.path.display(),
                self.stray_bytes,
                self.info.datatype,
                self.info.datatype.sample_bytes(),
                self.total_samples
            );
        }
    }

    /// Count `samples` just read, `nonfinite` of them replaced by 0; the
    /// first non-finite sample is reported as it is read.
    fn account(&mut self, samples: usize, nonfinite: usize, stats: &mut ReadStats) {
        if nonfinite > 0 && self.nonfinite == 0 {
            tracing::warn!(
                "{}: NaN or infinite sample(s) among samples {}..{}: such samples are replaced by 0 and counted; the total is reported at the end",
                self.path.display(),
                self.position,
                self.position + samples as u64
            );
        }
        self.nonfinite += nonfinite as u64;
        stats.nonfinite += nonfinite;
        stats.samples += samples;
        self.position += samples as u64;
    }

    fn read_error(&self, e: std::io::Error) -> Error {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            Error::format(
                &self.path,
                "samples",
                format!(
                    "{} samples as when the file was opened; it is shorter now (truncated while reading?)",
                    self.total_samples
                ),
            )
        } else {
            Error::io(&self.path, e)
        }
    }
}

impl<R: Read + Seek + Send> IqReader for ByteSampleReader<R> {
    fn info(&self) -> &StreamInfo {
        &self.info
    }

    fn read(&mut self, out: &mut [Sample]) -> Result<ReadStats> {
        let remaining = self.total_samples - self.position;
        let wanted = out
            .len()
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        if wanted == 0 {
            if remaining == 0 {
                self.report_stray_bytes_once();
            }
            return Ok(ReadStats::default());
        }
        let datatype = self.info.datatype;
        let sample_bytes = datatype.sample_bytes();
        let mut stats = ReadStats::default();
        if datatype.is_native() {
            // No decoding: the file's bytes go straight into `out`.
            let out = &mut out[..wanted];
            if let Err(e) = self.source.read_exact(samples_as_bytes_mut(out)) {
                return Err(self.read_error(e));
            }
            if self.checksum.is_some() {
                self.hash(super::datatype::samples_as_bytes(out));
            }
            let nonfinite = zero_nonfinite(out);
            self.account(out.len(), nonfinite, &mut stats);
            self.check_at_end()?;
            return Ok(stats);
        }
        let chunk_len = self.bytes.len() / sample_bytes;
        for chunk in out[..wanted].chunks_mut(chunk_len) {
            let bytes = &mut self.bytes[..chunk.len() * sample_bytes];
            if let Err(e) = self.source.read_exact(bytes) {
                return Err(self.read_error(e));
            }
            if let Some(c) = &self.checksum {
                let mut copy = c.hasher.buffer();
                copy.extend_from_slice(bytes);
                c.hasher.update(copy);
            }
            let nonfinite = datatype.decode(bytes, chunk);
            self.account(chunk.len(), nonfinite, &mut stats);
        }
        self.check_at_end()?;
        Ok(stats)
    }

    fn seek(&mut self, sample: u64) -> Result<()> {
        if sample > self.total_samples {
            return Err(Error::Seek {
                path: self.path.clone(),
                sample,
                total: self.total_samples,
            });
        }
        let byte = self.data_offset + sample * self.info.datatype.sample_bytes() as u64;
        self.source
            .seek(SeekFrom::Start(byte))
            .map_err(|e| Error::io(&self.path, e))?;
        if sample != self.position {
            if let Some(c) = self.checksum.take() {
                tracing::info!(
                    "{}: not verifying {} ({}): the recording is not read whole from its start",
                    self.path.display(),
                    c.field,
                    c.meta_path.display()
                );
            }
        }
        self.position = sample;
        Ok(())
    }
}

impl<R> Drop for ByteSampleReader<R> {
    fn drop(&mut self) {
        if self.nonfinite > 0 {
            tracing::warn!(
                "{}: {} non-finite sample(s) (NaN or infinity) in all were replaced by 0",
                self.path.display(),
                self.nonfinite
            );
        }
    }
}

/// Raw file extensions (lower case, without the dot) and their encodings.
pub const RAW_EXTENSIONS: &[(&str, Datatype)] = &[
    ("cu8", Datatype::CU8),       // rtl_sdr
    ("cs8", Datatype::CI8),       // hackrf_transfer
    ("cs16", Datatype::CI16_LE),  // rtl_433, SoapySDR tools
    ("cf32", Datatype::CF32_LE),  // rtl_433, GNU Radio
    ("cfile", Datatype::CF32_LE), // GNU Radio file sink
    ("complex", Datatype::CF32_LE),
    ("complex16s", Datatype::CI8),
    ("complex16u", Datatype::CU8),
    ("complex32s", Datatype::CI16_LE),
];

/// The encoding of a raw file with extension `ext` (case-insensitive, no dot).
pub fn datatype_for_extension(ext: &str) -> Option<Datatype> {
    RAW_EXTENSIONS
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(ext))
        .map(|&(_, dt)| dt)
}

/// Open a headerless raw recording of `datatype` samples. The rate and
/// frequency are the flags', else the file name's (rtl_433 style), else an
/// error asking for the flag.
pub fn open_raw(path: &Path, datatype: Datatype, opts: &OpenOptions) -> Result<FileSampleReader> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (name_freq, name_rate) = parse_rtl433_name(&file_name);
    let sample_rate = opts.sample_rate.or(name_rate).ok_or_else(|| {
        Error::format(
            path,
            "sample rate",
            "unknown: raw IQ files do not record it; pass --rate <samples per second> \
             (or name the file rtl_433-style, e.g. capture_433.92M_250k.cu8)",
        )
    })?;
    let center_hz = opts.center_hz.or(name_freq).ok_or_else(|| {
        Error::format(
            path,
            "centre frequency",
            "unknown: raw IQ files do not record it; pass --freq <Hz> \
             (or name the file rtl_433-style, e.g. capture_433.92M_250k.cu8)",
        )
    })?;
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::format(
            path,
            "samples",
            "a regular file of samples (its length gives the sample count); this is a pipe, FIFO or device: save the samples to a file first",
        ));
    }
    let len = meta.len();
    let info = StreamInfo {
        name: path.display().to_string(),
        sample_rate,
        datatype,
        total_samples: None,
        captures: vec![Capture {
            sample_start: 0,
            center_hz,
            datetime: None,
        }],
        annotations: Vec::new(),
    };
    ByteSampleReader::new(file, path, 0, len, info)
}

/// A number with a unit found in a file name.
#[derive(Debug, Clone, Copy, PartialEq)]
enum NameQuantity {
    /// `…Hz`, `…kHz`, `…MHz`, `…GHz`: a frequency.
    Frequency(f64),
    /// `…sps`, `…ksps`, `…Msps`: a sample rate.
    Rate(f64),
    /// `…k`, `…M`, `…G`: a frequency or a rate, by position and size.
    Bare(f64),
}

/// Lowest value a bare token (`…k`/`…M`/`…G`) needs to be taken as the
/// centre frequency rather than the sample rate.
const MIN_BARE_FREQUENCY: f64 = 1e6;

/// Centre frequency and sample rate (Hz) from an rtl_433-style file name such
/// as `g001_433.92M_250k.cu8` or `g005_868.3M_1024k.cs16`.
///
/// The name is split into tokens at every character that is not a letter, a
/// digit, or a decimal point between digits. Tokens that are a number with a
/// unit are used, case-insensitively:
/// - `Hz`, `kHz`, `MHz`, `GHz` always give the frequency, `sps`, `ksps`,
///   `Msps` always the rate (the first of each wins);
/// - bare `k`, `M`, `G` tokens are read in order: the first one of at least
///   1 MHz is the frequency; the first one after it, or any one below 1 MHz
///   before it, is the rate. So `433.92M_250k`, `433.92M_2.4M` and
///   `1.2G_10M` all give (frequency, rate), and `250k` alone a rate.
///
/// Anything else (`g001`, dates, `cu8`) is ignored.
pub fn parse_rtl433_name(name: &str) -> (Option<f64>, Option<f64>) {
    let mut freq = None;
    let mut rate = None;
    let quantities: Vec<NameQuantity> = name_tokens(name)
        .into_iter()
        .filter_map(parse_quantity)
        .collect();
    for q in &quantities {
        match *q {
            NameQuantity::Frequency(hz) if freq.is_none() => freq = Some(hz),
            NameQuantity::Rate(sps) if rate.is_none() && is_plausible_sample_rate(sps) => {
                rate = Some(sps)
            }
            _ => {}
        }
    }
    for q in &quantities {
        if let NameQuantity::Bare(value) = *q {
            if freq.is_none() && value >= MIN_BARE_FREQUENCY {
                freq = Some(value);
            } else if rate.is_none()
                && (freq.is_some() || value < MIN_BARE_FREQUENCY)
                && is_plausible_sample_rate(value)
            {
                rate = Some(value);
            }
        }
    }
    (freq, rate)
}

/// Split a name at every byte that is not an ASCII letter or digit, or a
/// decimal point between two digits.
fn name_tokens(name: &str) -> Vec<&str> {
    let bytes = name.as_bytes();
    let is_decimal_point = |i: usize| {
        bytes[i] == b'.'
            && i > 0
            && bytes[i - 1].is_ascii_digit()
            && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
    };
    let mut tokens = Vec::new();
    let mut start = 0;
    for i in 0..=bytes.len() {
        let separator =
            i == bytes.len() || !(bytes[i].is_ascii_alphanumeric() || is_decimal_point(i));
        if separator {
            if let Some(token) = name.get(start..i).filter(|t| !t.is_empty()) {
                tokens.push(token);
            }
            start = i + 1;
        }
    }
    tokens
}

/// `433.92M` → `Bare(433.92e6)`, `2Msps` → `Rate(2e6)`; `None` for anything
/// that is not a positive number followed by a known unit.
fn parse_quantity(token: &str) -> Option<NameQuantity> {
    let unit_start = token.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = token.split_at(unit_start);
    if !number.starts_with(|c: char| c.is_ascii_digit())
        || !unit.chars().all(|c| c.is_ascii_alphabetic())
    {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    let (scale, make): (f64, fn(f64) -> NameQuantity) = match unit.to_ascii_lowercase().as_str() {
        "k" => (1e3, NameQuantity::Bare),
        "m" => (1e6, NameQuantity::Bare),
        "g" => (1e9, NameQuantity::Bare),
        "hz" => (1.0, NameQuantity::Frequency),
        "khz" => (1e3, NameQuantity::Frequency),
        "mhz" => (1e6, NameQuantity::Frequency),
        "ghz" => (1e9, NameQuantity::Frequency),
        "sps" => (1.0, NameQuantity::Rate),
        "ksps" => (1e3, NameQuantity::Rate),
        "msps" => (1e6, NameQuantity::Rate),
        _ => return None,
    };
    // Names state whole hertz; rounding keeps 433.92M exactly 433 920 000.
    let hz = (value * scale).round();
    (hz.is_finite() && hz > 0.0).then(|| make(hz))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Cursor;
    use std::sync::{Arc, Mutex};

    /// Run `f` with a tracing subscriber that records what is logged.
    pub(crate) fn capture_logs<T>(f: impl FnOnce() -> T) -> (T, String) {
        #[derive(Clone, Default)]
        struct Sink(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Sink {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let result = tracing::subscriber::with_default(subscriber, f);
        let logged = String::from_utf8_lossy(&sink.0.lock().unwrap()).into_owned();
        (result, logged)
    }

    fn info(datatype: Datatype) -> StreamInfo {
        StreamInfo {
            name: "test".into(),
            sample_rate: 1e6,
            datatype,
            total_samples: None,
            captures: vec![Capture {
                sample_start: 0,
                center_hz: 0.0,
                datetime: None,
            }],
            annotations: Vec::new(),
        }
    }

    fn read_all(reader: &mut dyn IqReader, block: usize) -> Vec<Sample> {
        let mut all = Vec::new();
        let mut buf = vec![Sample::default(); block];
        loop {
            let n = reader.read(&mut buf).unwrap().samples;
            if n == 0 {
                return all;
            }
            all.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn big_and_little_endian_regions_after_a_header() {
        let header = b"HEADER--";
        let mut le = header.to_vec();
        le.extend_from_slice(&[0x00, 0x80, 0x00, 0x40, 0xff, 0x7f, 0x01, 0x00]);
        let mut be = header.to_vec();
        be.extend_from_slice(&[0x80, 0x00, 0x40, 0x00, 0x7f, 0xff, 0x00, 0x01]);
        let expected = [
            Sample::new(-1.0, 0.5),
            Sample::new(32767.0 / 32768.0, 1.0 / 32768.0),
        ];
        for (bytes, name) in [(le, "ci16_le"), (be, "ci16_be")] {
            let dt: Datatype = name.parse().unwrap();
            let mut r =
                ByteSampleReader::new(Cursor::new(bytes), Path::new(name), 8, 8, info(dt)).unwrap();
            assert_eq!(r.info().total_samples, Some(2));
            assert_eq!(read_all(&mut r, 7), expected, "{name}");
        }

        let mut cf32_be = Vec::new();
        for v in [0.25f32, -0.75, f32::NAN, 1.0] {
            cf32_be.extend_from_slice(&v.to_be_bytes());
        }
        let dt: Datatype = "cf32_be".parse().unwrap();
        let mut r =
            ByteSampleReader::new(Cursor::new(cf32_be), Path::new("be"), 0, 16, info(dt)).unwrap();
        let mut out = [Sample::default(); 4];
        let stats = r.read(&mut out).unwrap();
        assert_eq!(
            stats,
            ReadStats {
                samples: 2,
                nonfinite: 1
            }
        );
        assert_eq!(out[..2], [Sample::new(0.25, -0.75), Sample::new(0.0, 0.0)]);
    }

    #[test]
    fn trailing_partial_sample_is_ignored_with_one_warning() {
        let mut bytes = vec![0u8; 4 * 3];
        bytes.extend_from_slice(&[1, 2, 3]); // three stray bytes of a ci16 sample
        let len = bytes.len() as u64;
        let path = Path::new("odd_433.92M_250k.cs16");
        let (samples, logs) = capture_logs(|| {
            let mut r =
                ByteSampleReader::new(Cursor::new(bytes), path, 0, len, info(Datatype::CI16_LE))
                    .unwrap();
            let samples = read_all(&mut r, 2);
            // Further reads at the end do not warn again.
            assert_eq!(r.read(&mut [Sample::default(); 4]).unwrap().samples, 0);
            r.seek(0).unwrap();
            let again = read_all(&mut r, 64);
            assert_eq!(again.len(), 3);
            samples
        });
        assert_eq!(samples.len(), 3);
        assert_eq!(logs.matches("trailing byte").count(), 1, "{logs}");
        assert!(logs.contains("odd_433.92M_250k.cs16"), "{logs}");
        assert!(logs.contains("ignoring 3 trailing"), "{logs}");
    }

    #[test]
    fn nonfinite_samples_are_reported_first_as_read_and_in_total_at_the_end() {
        let mut bytes = Vec::new();
        for v in [
            0.5f32,
            0.5,
            f32::NAN,
            0.0,
            0.1,
            f32::INFINITY,
            f32::NEG_INFINITY,
            1.0,
        ] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let len = bytes.len() as u64;
        let (stats, logs) = capture_logs(|| {
            let mut r = ByteSampleReader::new(
                Cursor::new(bytes),
                Path::new("nan.cf32"),
                0,
                len,
                info(Datatype::CF32_LE),
            )
            .unwrap();
            let mut total = ReadStats::default();
            let mut one = [Sample::default(); 1];
            loop {
                let s = r.read(&mut one).unwrap();
                if s.samples == 0 {
                    break total;
                }
                assert!(one[0].re.is_finite() && one[0].im.is_finite());
                total.samples += s.samples;
                total.nonfinite += s.nonfinite;
            }
        });
        assert_eq!(stats.samples, 4);
        assert_eq!(stats.nonfinite, 3);
        assert_eq!(
            logs.matches("NaN or infinite sample(s) among samples 1..2")
                .count(),
            1,
            "{logs}"
        );
        assert!(logs.contains("nan.cf32: 3 non-finite sample(s)"), "{logs}");
    }

    #[test]
    fn reads_span_chunks_and_seek_lands_on_the_sample() {
        let n = CHUNK_SAMPLES * 2 + 123;
        let bytes: Vec<u8> = (0..n * 2).map(|i| (i * 7 % 251) as u8).collect();
        let len = bytes.len() as u64;
        let mut r = ByteSampleReader::new(
            Cursor::new(bytes.clone()),
            Path::new("x"),
            0,
            len,
            info(Datatype::CU8),
        )
        .unwrap();
        let whole = read_all(&mut r, n + 10);
        let mut expected = vec![Sample::default(); n];
        Datatype::CU8.decode(&bytes, &mut expected);
        assert_eq!(whole, expected);

        for start in [0, 1, CHUNK_SAMPLES as u64 - 1, n as u64 - 1] {
            r.seek(start).unwrap();
            let mut one = [Sample::default(); 3];
            let got = r.read(&mut one).unwrap().samples;
            let want = (n - start as usize).min(3);
            assert_eq!(got, want);
            assert_eq!(one[..got], expected[start as usize..start as usize + got]);
        }
        r.seek(n as u64).unwrap();
        assert_eq!(r.read(&mut [Sample::default(); 4]).unwrap().samples, 0);
        let msg = r.seek(n as u64 + 1).unwrap_err().to_string();
        assert!(msg.contains("cannot seek to sample"), "{msg}");
    }

    #[test]
    fn region_without_a_whole_sample_is_an_error_naming_the_file() {
        let msg = ByteSampleReader::new(
            Cursor::new(vec![1u8; 7]),
            Path::new("tiny.cf32"),
            0,
            7,
            info(Datatype::CF32_LE),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(msg.contains("tiny.cf32"), "{msg}");
        assert!(msg.contains("cf32_le"), "{msg}");
        assert!(msg.contains("found 7 bytes"), "{msg}");
    }

    #[test]
    fn truncated_source_is_an_error_not_a_panic() {
        // The region claims more bytes than the source holds: decoded
        // (cs8) and read in place (cf32_le) alike.
        for (name, datatype) in [
            ("shrunk.cs8", Datatype::CI8),
            ("shrunk.cf32", Datatype::CF32_LE),
        ] {
            let bytes = 32 * datatype.sample_bytes() as u64;
            let mut r = ByteSampleReader::new(
                Cursor::new(vec![0u8; 8]),
                Path::new(name),
                0,
                bytes,
                info(datatype),
            )
            .unwrap();
            let msg = r
                .read(&mut [Sample::default(); 32])
                .unwrap_err()
                .to_string();
            assert!(msg.contains(name) && msg.contains("shorter now"), "{msg}");
        }
    }

    #[test]
    fn rtl433_names() {
        let cases: &[(&str, Option<f64>, Option<f64>)] = &[
            ("g001_433.92M_250k.cu8", Some(433.92e6), Some(250e3)),
            ("g005_868.3M_1024k.cs16", Some(868.3e6), Some(1.024e6)),
            ("x_915M_2.4M.cu8", Some(915e6), Some(2.4e6)),
            ("sat_1.2G_10M.cs8", Some(1.2e9), Some(10e6)),
            ("rec_433.92M_1M.cf32", Some(433.92e6), Some(1e6)),
            ("rec_100k.cu8", None, Some(100e3)),
            ("rec_100k_433.92M.cu8", Some(433.92e6), Some(100e3)),
            ("rec_2Msps_433.92MHz.cs16", Some(433.92e6), Some(2e6)),
            (
                "2024-01-05_g7_433.92m_250K.cu8",
                Some(433.92e6),
                Some(250e3),
            ),
            ("g001.cu8", None, None),
            ("433.92M", Some(433.92e6), None),
            ("ünï_433.92M_250k.cu8", Some(433.92e6), Some(250e3)),
            ("x_1.2.3M_250k", None, Some(250e3)),
            ("x_0k_0M", None, None),
            ("x_433.92MHzz_1e6k", None, None),
        ];
        for &(name, freq, rate) in cases {
            assert_eq!(parse_rtl433_name(name), (freq, rate), "{name}");
        }
    }

    #[test]
    fn raw_files_take_flags_then_name_then_ask() {
        let dir = tempfile::tempdir().unwrap();
        let named = dir.path().join("g001_433.92M_250k.cu8");
        std::fs::write(&named, [128u8; 10]).unwrap();
        let r = open_raw(&named, Datatype::CU8, &OpenOptions::default()).unwrap();
        assert_eq!(r.info().sample_rate, 250e3);
        assert_eq!(r.info().center_hz(), 433.92e6);
        assert_eq!(r.info().total_samples, Some(5));

        let flags = OpenOptions {
            sample_rate: Some(2.4e6),
            center_hz: Some(100e6),
            ..OpenOptions::default()
        };
        let r = open_raw(&named, Datatype::CU8, &flags).unwrap();
        assert_eq!(r.info().sample_rate, 2.4e6);
        assert_eq!(r.info().center_hz(), 100e6);

        let bare = dir.path().join("capture.cs8");
        std::fs::write(&bare, [0u8; 10]).unwrap();
        let msg = open_raw(&bare, Datatype::CI8, &OpenOptions::default())
            .err()
            .unwrap()
            .to_string();
        assert!(
            msg.contains("capture.cs8") && msg.contains("--rate"),
            "{msg}"
        );
        let rate_only = OpenOptions {
            sample_rate: Some(1e6),
            center_hz: None,
            ..OpenOptions::default()
        };
        let msg = open_raw(&bare, Datatype::CI8, &rate_only)
            .err()
            .unwrap()
            .to_string();
        assert!(
            msg.contains("capture.cs8") && msg.contains("--freq"),
            "{msg}"
        );

        let empty = dir.path().join("empty_433.92M_250k.cu8");
        std::fs::write(&empty, []).unwrap();
        let msg = open_raw(&empty, Datatype::CU8, &OpenOptions::default())
            .err()
            .unwrap()
            .to_string();
        assert!(
            msg.contains("empty_433.92M_250k.cu8") && msg.contains("found 0 bytes"),
            "{msg}"
        );
    }

    proptest! {
        #[test]
        fn any_name_parses_without_panic(name in "\\PC{0,40}") {
            let (freq, rate) = parse_rtl433_name(&name);
            prop_assert!(freq.map_or(true, |f| f.is_finite() && f > 0.0));
            prop_assert!(rate.map_or(true, is_plausible_sample_rate));
        }

        #[test]
        fn generated_names_round_trip(
            freq_khz in 1_000u32..6_000_000,
            rate_k in 1u32..20_000,
            prefix in "[a-z]{1,4}[0-9]{0,3}",
        ) {
            let name = format!("{prefix}_{}M_{rate_k}k.cu8", freq_khz as f64 / 1000.0);
            let (freq, rate) = parse_rtl433_name(&name);
            prop_assert_eq!(freq, Some(freq_khz as f64 * 1e3), "{}", name);
            prop_assert_eq!(rate, Some(rate_k as f64 * 1e3), "{}", name);
        }
    }
}
