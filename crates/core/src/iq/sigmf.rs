//! SigMF recordings: a `.sigmf-meta` + `.sigmf-data` pair, or a `.sigmf`
//! archive (a tar holding `NAME/NAME.sigmf-meta` and `NAME/NAME.sigmf-data`,
//! possibly for several recordings).
//!
//! [`Metadata::parse`] turns the metadata JSON into the datatype, rate,
//! captures and annotations, with errors naming the offending field; the
//! samples are streamed by [`ByteSampleReader`] from the data file, or in
//! place from the data member inside the archive.

use super::open::{is_plausible_sample_rate, OpenOptions, MAX_SAMPLE_RATE};
use super::raw::{ByteSampleReader, FileSampleReader};
use super::sigmf_writer::sigmf_paths;
use super::{Annotation, Capture, Datatype, StreamInfo};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Largest metadata document read: far above any real recording's, small
/// enough that a corrupt file cannot exhaust memory.
const MAX_METADATA_BYTES: u64 = 256 << 20;

/// What rfsentry takes from a SigMF metadata document.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    /// `global.core:datatype` (complex only).
    pub datatype: Datatype,
    /// `global.core:sample_rate`.
    pub sample_rate: f64,
    /// `captures[]` sorted by sample_start; never empty, the first at sample 0.
    pub captures: Vec<Capture>,
    /// `annotations[]` sorted by sample_start.
    pub annotations: Vec<Annotation>,
    /// `global.core:sha512`, lower-case hex, when given: verified as the data is read.
    pub sha512: Option<String>,
}

impl Metadata {
    /// Parse the metadata document `json` read from `meta_path` (named in
    /// errors). `opts.center_hz` fills in captures without `core:frequency`;
    /// `opts.sample_rate` is never used (a differing one is warned about).
    pub fn parse(meta_path: &Path, json: &[u8], opts: &OpenOptions) -> Result<Metadata> {
        let doc: Value = serde_json::from_slice(json).map_err(|e| {
            Error::format(
                meta_path,
                "metadata",
                format!("a SigMF JSON document ({e})"),
            )
        })?;
        let global = doc
            .get("global")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                Error::format(
                    meta_path,
                    "global",
                    "a JSON object holding core:datatype and core:sample_rate",
                )
            })?;
        let datatype = parse_datatype(meta_path, global)?;
        let sample_rate = parse_sample_rate(meta_path, global)?;
        check_num_channels(meta_path, global)?;
        let mut sha512 = parse_sha512(meta_path, global)?;
        if sha512.is_some() && opts.skip_checksum {
            tracing::warn!(
                "{}: global.core:sha512 not verified (--no-verify): the data is not checked against its hash",
                meta_path.display()
            );
            sha512 = None;
        }
        if let Some(flag) = opts.sample_rate.filter(|&r| r != sample_rate) {
            tracing::warn!(
                "{}: ignoring --rate {flag}: the metadata's core:sample_rate is {sample_rate}",
                meta_path.display()
            );
        }
        let captures = parse_captures(meta_path, doc.get("captures"), opts)?;
        let annotations = parse_annotations(meta_path, doc.get("annotations"))?;
        Ok(Metadata {
            datatype,
            sample_rate,
            captures,
            annotations,
            sha512,
        })
    }

    /// Open the samples at `data_offset..+data_len` of `data` (the data file
    /// at `data_path`, or the archive holding it), checking the datetimes
    /// against the recording's length and verifying `core:sha512` as it is read.
    fn open_data(
        self,
        name: String,
        meta_path: &Path,
        data: File,
        data_path: &Path,
        data_offset: u64,
        data_len: u64,
    ) -> Result<FileSampleReader> {
        let sha512 = self.sha512.clone();
        let reader = ByteSampleReader::new(
            data,
            data_path,
            data_offset,
            data_len,
            self.into_stream_info(name),
        )?;
        check_datetimes(meta_path, super::IqReader::info(&reader), |i| {
            format!("captures[{i}].core:datetime")
        })?;
        Ok(match sha512 {
            Some(hash) => reader.verify_sha512(&hash, meta_path, "global.core:sha512"),
            None => reader,
        })
    }

    fn into_stream_info(self, name: String) -> StreamInfo {
        StreamInfo {
            name,
            sample_rate: self.sample_rate,
            datatype: self.datatype,
            total_samples: None,
            captures: self.captures,
            annotations: self.annotations,
        }
    }
}

/// A value as it appears in the document, for "found …" in errors.
fn shown(value: Option<&Value>) -> String {
    match value {
        None => "nothing".into(),
        Some(v) => {
            let mut s = v.to_string();
            if s.len() > 60 {
                let cut = (0..=60).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
                s.truncate(cut);
                s.push('…');
            }
            s
        }
    }
}

fn parse_datatype(meta_path: &Path, global: &Map<String, Value>) -> Result<Datatype> {
    const FIELD: &str = "global.core:datatype";
    let value = global.get("core:datatype");
    let name = value.and_then(Value::as_str).ok_or_else(|| {
        Error::format(
            meta_path,
            FIELD,
            format!(
                "a SigMF datatype string such as \"cf32_le\"; found {}",
                shown(value)
            ),
        )
    })?;
    name.parse().map_err(|message: String| {
        if name.starts_with('r') {
            Error::format(
                meta_path,
                FIELD,
                format!(
                    "complex IQ samples; {name:?} is a real (single-channel) datatype, \
                     rfsentry needs I and Q (a complex datatype such as cf32_le, ci16_le, cu8)"
                ),
            )
        } else {
            Error::format(meta_path, FIELD, message)
        }
    })
}

fn parse_sample_rate(meta_path: &Path, global: &Map<String, Value>) -> Result<f64> {
    let value = global.get("core:sample_rate");
    value
        .and_then(Value::as_f64)
        .filter(|&rate| is_plausible_sample_rate(rate))
        .ok_or_else(|| {
            Error::format(
                meta_path,
                "global.core:sample_rate",
                format!(
                    "a positive number of samples per second, at most {MAX_SAMPLE_RATE:e}; found {}",
                    shown(value)
                ),
            )
        })
}

/// `core:num_channels`, when given, must be 1: the samples of several
/// channels are interleaved in the data file, and reading them as one
/// channel's would be silently wrong.
fn check_num_channels(meta_path: &Path, global: &Map<String, Value>) -> Result<()> {
    let value = global.get("core:num_channels");
    match value {
        None => Ok(()),
        Some(v) if v.as_u64() == Some(1) => Ok(()),
        Some(v) if v.as_u64().is_some_and(|n| n > 1) => Err(Error::format(
            meta_path,
            "global.core:num_channels",
            format!(
                "1 (one channel); found {}: multi-channel recordings are not supported (split the channels into one recording each)",
                shown(value)
            ),
        )),
        Some(_) => Err(Error::format(
            meta_path,
            "global.core:num_channels",
            format!("a channel count of 1; found {}", shown(value)),
        )),
    }
}

/// `core:sha512`, when given: 128 hex digits.
fn parse_sha512(meta_path: &Path, global: &Map<String, Value>) -> Result<Option<String>> {
    let value = global.get("core:sha512");
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(h)) if h.len() == 128 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Some(h.to_ascii_lowercase()))
        }
        Some(_) => Err(Error::format(
            meta_path,
            "global.core:sha512",
            format!(
                "the SHA-512 of the data file as 128 hex digits; found {}",
                shown(value)
            ),
        )),
    }
}

/// Latest time an alert or report may show: RFC 3339 has four-digit years.
fn latest_time() -> DateTime<Utc> {
    chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|d| d.and_hms_milli_opt(23, 59, 59, 999))
        .map(|t| t.and_utc())
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Every capture's `core:datetime` and the times derived from it (up to the
/// end of the recording) must be RFC 3339 times: years 0000 to 9999 in UTC.
/// A date such as 9999-12-31 would make alert times of year 10000, which
/// no RFC 3339 reader accepts.
/// `field` names capture `index`'s datetime in errors.
pub(crate) fn check_datetimes(
    meta_path: &Path,
    info: &StreamInfo,
    field: impl Fn(usize) -> String,
) -> Result<()> {
    let duration_ms = (info.duration_s().unwrap_or(0.0) * 1e3)
        .ceil()
        .clamp(0.0, 1e15) as i64;
    let earliest = chrono::NaiveDate::from_ymd_opt(0, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    for (index, c) in info.captures.iter().enumerate() {
        let Some(start) = c.datetime else { continue };
        let end = start.checked_add_signed(chrono::Duration::milliseconds(duration_ms));
        if start < earliest || end.map_or(true, |e| e > latest_time()) {
            return Err(Error::format(
                meta_path,
                field(index),
                format!(
                    "a date and time such that the recording ({:.3} s) ends by 9999-12-31T23:59:59Z in UTC (alert times are RFC 3339, with four-digit years); found {}",
                    info.duration_s().unwrap_or(0.0),
                    start.format("%Y-%m-%dT%H:%M:%S%.fZ")
                ),
            ));
        }
    }
    Ok(())
}

fn parse_captures(
    meta_path: &Path,
    captures: Option<&Value>,
    opts: &OpenOptions,
) -> Result<Vec<Capture>> {
    let entries: &[Value] = match captures {
        None | Some(Value::Null) => &[],
        Some(Value::Array(entries)) => entries,
        Some(other) => {
            return Err(Error::format(
                meta_path,
                "captures",
                format!("an array of capture objects; found {}", shown(Some(other))),
            ))
        }
    };
    let mut parsed = Vec::with_capacity(entries.len().max(1));
    let mut without_frequency = 0;
    for (index, entry) in entries.iter().enumerate() {
        let field = |name: &str| format!("captures[{index}].{name}");
        let object = entry.as_object().ok_or_else(|| {
            Error::format(
                meta_path,
                format!("captures[{index}]"),
                format!("a JSON object; found {}", shown(Some(entry))),
            )
        })?;
        let start = object.get("core:sample_start");
        let sample_start = start.and_then(Value::as_u64).ok_or_else(|| {
            Error::format(
                meta_path,
                field("core:sample_start"),
                format!(
                    "a non-negative integer sample index; found {}",
                    shown(start)
                ),
            )
        })?;
        let header = object.get("core:header_bytes");
        if header.is_some_and(|h| h.as_u64() != Some(0)) {
            return Err(Error::format(
                meta_path,
                field("core:header_bytes"),
                format!(
                    "0 (data files with headers between captures are not supported); found {}",
                    shown(header)
                ),
            ));
        }
        let center_hz = match object.get("core:frequency") {
            None => {
                without_frequency += 1;
                opts.center_hz.unwrap_or(0.0)
            }
            Some(value) => value.as_f64().filter(|f| f.is_finite()).ok_or_else(|| {
                Error::format(
                    meta_path,
                    field("core:frequency"),
                    format!("a centre frequency in Hz; found {}", shown(Some(value))),
                )
            })?,
        };
        let datetime = match object.get("core:datetime") {
            None => None,
            Some(value) => Some(parse_datetime(value).ok_or_else(|| {
                Error::format(
                    meta_path,
                    field("core:datetime"),
                    format!(
                        "an RFC 3339 date and time such as \"2024-05-01T12:00:00Z\"; found {}",
                        shown(Some(value))
                    ),
                )
            })?),
        };
        parsed.push(Capture {
            sample_start,
            center_hz,
            datetime,
        });
    }
    if parsed.is_empty() {
        without_frequency = 1;
        parsed.push(Capture {
            sample_start: 0,
            center_hz: opts.center_hz.unwrap_or(0.0),
            datetime: None,
        });
    }
    match opts.center_hz {
        None if without_frequency > 0 => tracing::warn!(
            "{}: {without_frequency} capture(s) without core:frequency; assuming 0 Hz (pass --freq to set the centre frequency)",
            meta_path.display()
        ),
        Some(flag) if without_frequency == 0 && parsed.iter().any(|c| c.center_hz != flag) => {
            tracing::warn!(
                "{}: ignoring --freq {flag}: the captures carry core:frequency",
                meta_path.display()
            )
        }
        _ => {}
    }
    parsed.sort_by_key(|c| c.sample_start);
    if parsed[0].sample_start != 0 {
        tracing::warn!(
            "{}: the first capture starts at sample {}, not 0; applying it from the start",
            meta_path.display(),
            parsed[0].sample_start
        );
        parsed[0].sample_start = 0;
    }
    Ok(parsed)
}

fn parse_datetime(value: &Value) -> Option<DateTime<Utc>> {
    let text = value.as_str()?;
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn parse_annotations(meta_path: &Path, annotations: Option<&Value>) -> Result<Vec<Annotation>> {
    let entries: &[Value] = match annotations {
        None | Some(Value::Null) => &[],
        Some(Value::Array(entries)) => entries,
        Some(other) => {
            return Err(Error::format(
                meta_path,
                "annotations",
                format!(
                    "an array of annotation objects; found {}",
                    shown(Some(other))
                ),
            ))
        }
    };
    let mut parsed = entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            Annotation::deserialize(entry).map_err(|e| {
                Error::format(
                    meta_path,
                    format!("annotations[{index}]"),
                    format!(
                        "an annotation with an integer core:sample_start ({e}); found {}",
                        shown(Some(entry))
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    for (index, a) in parsed.iter().enumerate() {
        if let Some(count) = a.sample_count {
            if a.sample_start.checked_add(count).is_none() {
                return Err(Error::format(
                    meta_path,
                    format!("annotations[{index}].core:sample_count"),
                    format!(
                        "a span that ends within the range of sample indices; core:sample_start {} + core:sample_count {count} overflows",
                        a.sample_start
                    ),
                ));
            }
        }
    }
    parsed.sort_by_key(|a| a.sample_start);
    Ok(parsed)
}

/// Open a `.sigmf-meta` + `.sigmf-data` pair named by either file or by
/// their common base name.
pub fn open_pair(path: &Path, opts: &OpenOptions) -> Result<FileSampleReader> {
    let (meta_path, data_path) = sigmf_paths(path);
    // Either file of the pair may be a FIFO, not only the one named: opening
    // one blocks, and its length is no sample count.
    super::open::refuse_special_file(&meta_path)?;
    super::open::refuse_special_file(&data_path)?;
    let json = read_metadata_file(&meta_path, &data_path)?;
    let metadata = Metadata::parse(&meta_path, &json, opts)?;
    let data = File::open(&data_path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::format(
                &data_path,
                "data file",
                format!(
                    "the samples described by {}; the file does not exist",
                    meta_path.display()
                ),
            )
        } else {
            Error::io(&data_path, e)
        }
    })?;
    let len = data.metadata().map_err(|e| Error::io(&data_path, e))?.len();
    metadata.open_data(
        path.display().to_string(),
        &meta_path,
        data,
        &data_path,
        0,
        len,
    )
}

fn read_metadata_file(meta_path: &Path, data_path: &Path) -> Result<Vec<u8>> {
    let file = File::open(meta_path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::format(
                meta_path,
                "metadata file",
                format!(
                    "the SigMF metadata for {}; the file does not exist",
                    data_path.display()
                ),
            )
        } else {
            Error::io(meta_path, e)
        }
    })?;
    read_limited(file, meta_path, MAX_METADATA_BYTES)
}

/// Read all of `source`, refusing more than `limit` bytes.
fn read_limited(source: impl Read, path: &Path, limit: u64) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    source
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(Error::format(
            path,
            "metadata",
            format!("a SigMF metadata document of at most {limit} bytes"),
        ));
    }
    Ok(bytes)
}

/// A regular file inside a tar archive, located in place.
#[derive(Debug, Clone)]
struct ArchiveMember {
    name: String,
    offset: u64,
    size: u64,
}

impl ArchiveMember {
    /// `NAME/NAME.sigmf-meta` → `NAME`.
    fn recording_name(&self) -> Option<&str> {
        let file = self.name.rsplit('/').next()?;
        file.strip_suffix(".sigmf-meta")
    }
}

/// The regular files of the tar archive `file`, with their data offsets.
fn archive_members(path: &Path, file: &mut File) -> Result<Vec<ArchiveMember>> {
    let not_tar = |e: std::io::Error| {
        Error::format(
            path,
            "archive",
            format!("a SigMF archive (a tar file of .sigmf-meta and .sigmf-data members) ({e})"),
        )
    };
    let mut archive = tar::Archive::new(file);
    let mut members = Vec::new();
    for entry in archive.entries_with_seek().map_err(not_tar)? {
        let entry = entry.map_err(not_tar)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry
            .path()
            .map_err(not_tar)?
            .to_string_lossy()
            .into_owned();
        members.push(ArchiveMember {
            name,
            offset: entry.raw_file_position(),
            size: entry.size(),
        });
    }
    Ok(members)
}

/// Open the recording in a `.sigmf` archive: the one named like the
/// archive (`NAME.sigmf` → `NAME/NAME.sigmf-meta`), else the first. Its data
/// member is read in place, without extracting it.
pub fn open_archive(path: &Path, opts: &OpenOptions) -> Result<FileSampleReader> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let archive_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let members = archive_members(path, &mut file)?;
    let archive_name = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    let metas: Vec<&ArchiveMember> = members
        .iter()
        .filter(|m| m.recording_name().is_some())
        .collect();
    let meta = metas
        .iter()
        .find(|m| m.recording_name() == archive_name.as_deref())
        .or_else(|| metas.first())
        .ok_or_else(|| {
            let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
            Error::format(
                path,
                "archive",
                format!("a SigMF archive holding NAME/NAME.sigmf-meta; found members {names:?}"),
            )
        })?;
    let base = meta.name.strip_suffix(".sigmf-meta").unwrap_or(&meta.name);
    let data_name = format!("{base}.sigmf-data");
    let meta_path = path.join(&meta.name);
    let data_path = path.join(&data_name);
    let data = members
        .iter()
        .find(|m| m.name == data_name)
        .ok_or_else(|| {
            Error::format(
                path,
                data_name.as_str(),
                format!(
                    "the data member holding the samples of {}; it is missing",
                    meta.name
                ),
            )
        })?;
    for member in [*meta, data] {
        if member.offset.saturating_add(member.size) > archive_len {
            return Err(Error::format(
                path,
                member.name.as_str(),
                format!(
                    "{} bytes at offset {}, but the archive ends at {archive_len} (truncated?)",
                    member.size, member.offset
                ),
            ));
        }
    }
    file.seek(SeekFrom::Start(meta.offset))
        .map_err(|e| Error::io(path, e))?;
    let json = read_limited((&mut file).take(meta.size), &meta_path, MAX_METADATA_BYTES)?;
    let metadata = Metadata::parse(&meta_path, &json, opts)?;
    metadata.open_data(
        path.display().to_string(),
        &meta_path,
        file,
        &data_path,
        data.offset,
        data.size,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iq::raw::tests::capture_logs;
    use crate::iq::{IqReader, Sample};
    use proptest::prelude::*;
    use serde_json::json;

    const FLAGS_NONE: OpenOptions = OpenOptions {
        sample_rate: None,
        center_hz: None,
        skip_checksum: false,
    };

    fn write_pair(dir: &Path, name: &str, meta: &Value, data: &[u8]) -> std::path::PathBuf {
        let meta_path = dir.join(format!("{name}.sigmf-meta"));
        std::fs::write(&meta_path, serde_json::to_vec_pretty(meta).unwrap()).unwrap();
        std::fs::write(dir.join(format!("{name}.sigmf-data")), data).unwrap();
        meta_path
    }

    fn read_all(reader: &mut dyn IqReader) -> Vec<Sample> {
        let mut all = Vec::new();
        let mut buf = [Sample::default(); 5];
        loop {
            let n = reader.read(&mut buf).unwrap().samples;
            if n == 0 {
                return all;
            }
            all.extend_from_slice(&buf[..n]);
        }
    }

    fn error_of(meta: Value) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = write_pair(dir.path(), "x", &meta, &[0; 8]);
        open_pair(&path, &FLAGS_NONE)
            .err()
            .expect("the metadata is invalid")
            .to_string()
    }

    fn minimal(datatype: &str, rate: Value) -> Value {
        json!({ "global": { "core:datatype": datatype, "core:sample_rate": rate } })
    }

    #[test]
    fn pair_with_captures_and_annotations() {
        let dir = tempfile::tempdir().unwrap();
        let meta = json!({
            "global": {
                "core:datatype": "ci16_be",
                "core:sample_rate": 2.4e6,
                "core:version": "1.0.0",
                "core:offset": 12345,
            },
            "captures": [
                { "core:sample_start": 2, "core:frequency": 868.3e6 },
                { "core:sample_start": 0, "core:frequency": 433.92e6,
                  "core:datetime": "2024-05-01T12:00:00.5+02:00" },
            ],
            "annotations": [
                { "core:sample_start": 3, "core:sample_count": 1, "core:label": "late" },
                { "core:sample_start": 1, "core:sample_count": 2,
                  "core:freq_lower_edge": 433.9e6, "core:freq_upper_edge": 433.94e6,
                  "rfsentry:kind": "jamming.tone", "rfsentry:excess_db": 20.0 },
            ],
        });
        // Four ci16_be samples and a stray byte.
        let data = [
            0x80, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x01, 0x7f, 0xff, 0xc0, 0x00, 0x00, 0x00,
            0x00, 0x00, 0xaa,
        ];
        let meta_path = write_pair(dir.path(), "rec", &meta, &data);
        for given in [
            meta_path.clone(),
            dir.path().join("rec.sigmf-data"),
            dir.path().join("rec"),
        ] {
            let mut r = open_pair(&given, &FLAGS_NONE).unwrap();
            let info = r.info().clone();
            assert_eq!(info.datatype.to_string(), "ci16_be");
            assert_eq!(info.sample_rate, 2.4e6);
            assert_eq!(info.total_samples, Some(4));
            assert_eq!(info.captures.len(), 2);
            assert_eq!(info.captures[0].center_hz, 433.92e6);
            assert_eq!(
                info.start_time().unwrap().to_rfc3339(),
                "2024-05-01T10:00:00.500+00:00"
            );
            assert_eq!(info.capture_at(3).center_hz, 868.3e6);
            assert_eq!(info.annotations[0].sample_start, 1);
            assert_eq!(info.annotations[0].kind(), Some("jamming.tone"));
            assert_eq!(info.annotations[0].excess_db(), Some(20.0));
            assert_eq!(info.annotations[1].label.as_deref(), Some("late"));
            let samples = read_all(&mut r);
            assert_eq!(
                samples,
                [
                    Sample::new(-1.0, 0.5),
                    Sample::new(0.0, 1.0 / 32768.0),
                    Sample::new(32767.0 / 32768.0, -0.5),
                    Sample::new(0.0, 0.0),
                ]
            );
            r.seek(2).unwrap();
            let mut one = [Sample::default(); 1];
            r.read(&mut one).unwrap();
            assert_eq!(one[0], samples[2]);
        }
    }

    #[test]
    fn missing_frequency_comes_from_the_flag_or_defaults_to_zero_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_pair(dir.path(), "nofreq", &minimal("cu8", json!(1e6)), &[0; 4]);
        let (reader, logs) = capture_logs(|| open_pair(&path, &FLAGS_NONE).unwrap());
        assert_eq!(reader.info().captures.len(), 1);
        assert_eq!(reader.info().center_hz(), 0.0);
        assert!(
            logs.contains("nofreq.sigmf-meta") && logs.contains("--freq"),
            "{logs}"
        );

        let flag = OpenOptions {
            sample_rate: Some(5e6),
            center_hz: Some(915e6),
            ..OpenOptions::default()
        };
        let (reader, logs) = capture_logs(|| open_pair(&path, &flag).unwrap());
        assert_eq!(reader.info().center_hz(), 915e6);
        // The metadata's rate wins over --rate, and says so.
        assert_eq!(reader.info().sample_rate, 1e6);
        assert!(logs.contains("ignoring --rate"), "{logs}");
    }

    #[test]
    fn first_capture_not_at_zero_is_moved_to_zero() {
        let meta = json!({
            "global": { "core:datatype": "ci8", "core:sample_rate": 1e6 },
            "captures": [ { "core:sample_start": 5, "core:frequency": 1e8 } ],
        });
        let parsed =
            Metadata::parse(Path::new("m"), meta.to_string().as_bytes(), &FLAGS_NONE).unwrap();
        assert_eq!(parsed.captures[0].sample_start, 0);
        assert_eq!(parsed.captures[0].center_hz, 1e8);
    }

    #[test]
    fn bad_metadata_errors_name_the_file_and_field() {
        let cases = [
            (
                json!({ "global": { "core:datatype": "cf32_le" } }),
                "x.sigmf-meta: global.core:sample_rate: a positive number of samples per second",
            ),
            (minimal("cf32_le", json!(-48000)), "found -48000"),
            (minimal("cf32_le", json!(1e12)), "global.core:sample_rate"),
            (minimal("cf32_le", json!("fast")), "found \"fast\""),
            (
                minimal("rf32_le", json!(1e6)),
                "global.core:datatype: complex IQ samples",
            ),
            (
                minimal("cf16_le", json!(1e6)),
                "unsupported datatype \"cf16_le\"",
            ),
            (
                json!({ "global": { "core:sample_rate": 1e6 } }),
                "global.core:datatype",
            ),
            (json!([1, 2]), "x.sigmf-meta: global: a JSON object"),
            (
                json!({ "global": { "core:datatype": "cu8", "core:sample_rate": 1e6 },
                        "captures": [ { "core:sample_start": 0 },
                                      { "core:sample_start": 9, "core:datetime": "yesterday" } ] }),
                "captures[1].core:datetime: an RFC 3339",
            ),
            (
                json!({ "global": { "core:datatype": "cu8", "core:sample_rate": 1e6 },
                        "captures": [ { "core:frequency": 1e6 } ] }),
                "captures[0].core:sample_start",
            ),
            (
                json!({ "global": { "core:datatype": "cu8", "core:sample_rate": 1e6 },
                        "captures": [ { "core:sample_start": 0, "core:frequency": "433" } ] }),
                "captures[0].core:frequency",
            ),
            (
                json!({ "global": { "core:datatype": "cu8", "core:sample_rate": 1e6 },
                        "captures": [ { "core:sample_start": 0, "core:header_bytes": 64 } ] }),
                "captures[0].core:header_bytes",
            ),
            (
                json!({ "global": { "core:datatype": "cu8", "core:sample_rate": 1e6 },
                        "captures": {} }),
                "captures: an array",
            ),
            (
                json!({ "global": { "core:datatype": "cu8", "core:sample_rate": 1e6 },
                        "annotations": [ { "core:sample_start": "soon" } ] }),
                "annotations[0]",
            ),
            // Found by review, then made a fuzz invariant: the end of this
            // span overflowed u64 and `score` panicked.
            (
                json!({ "global": { "core:datatype": "cu8", "core:sample_rate": 1e6 },
                        "annotations": [ { "core:sample_start": 0, "core:sample_count": 5 },
                                         { "core:sample_start": 18446744073709551610u64,
                                           "core:sample_count": 100 } ] }),
                "annotations[1].core:sample_count: a span that ends within the range",
            ),
        ];
        for (meta, expected) in cases {
            let msg = error_of(meta.clone());
            assert!(msg.contains("x.sigmf-meta"), "{msg}");
            assert!(msg.contains(expected), "{meta}: {msg}");
        }
    }

    #[test]
    fn unreadable_or_missing_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let meta_path = dir.path().join("broken.sigmf-meta");
        std::fs::write(&meta_path, "{ not json").unwrap();
        let msg = open_pair(&meta_path, &FLAGS_NONE)
            .err()
            .unwrap()
            .to_string();
        assert!(
            msg.contains("broken.sigmf-meta: metadata: a SigMF JSON document"),
            "{msg}"
        );

        let lonely = write_pair(dir.path(), "lonely", &minimal("cu8", json!(1e6)), &[]);
        std::fs::remove_file(dir.path().join("lonely.sigmf-data")).unwrap();
        let msg = open_pair(&lonely, &FLAGS_NONE).err().unwrap().to_string();
        assert!(msg.contains("lonely.sigmf-data: data file"), "{msg}");
        assert!(msg.contains("does not exist"), "{msg}");

        let empty = write_pair(dir.path(), "empty", &minimal("cu8", json!(1e6)), &[]);
        let msg = open_pair(&empty, &FLAGS_NONE).err().unwrap().to_string();
        assert!(
            msg.contains("empty.sigmf-data") && msg.contains("found 0 bytes"),
            "{msg}"
        );

        let msg = open_pair(&dir.path().join("ghost.sigmf-data"), &FLAGS_NONE)
            .err()
            .unwrap()
            .to_string();
        assert!(msg.contains("ghost.sigmf-meta: metadata file"), "{msg}");
    }

    fn append_member(builder: &mut tar::Builder<Vec<u8>>, name: &str, bytes: &[u8]) {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, name, bytes).unwrap();
    }

    /// An archive holding `first` (cu8 bytes 0..20) then `second` (cu8 bytes 100..140).
    fn two_recording_archive() -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let meta = |freq: f64| {
            serde_json::to_vec(&json!({
                "global": { "core:datatype": "cu8", "core:sample_rate": 1e6 },
                "captures": [ { "core:sample_start": 0, "core:frequency": freq } ],
            }))
            .unwrap()
        };
        append_member(&mut builder, "first/first.sigmf-meta", &meta(433.92e6));
        append_member(
            &mut builder,
            "first/first.sigmf-data",
            &(0u8..20).collect::<Vec<_>>(),
        );
        // Data before metadata: the order inside the tar does not matter.
        append_member(
            &mut builder,
            "second/second.sigmf-data",
            &(100u8..140).collect::<Vec<_>>(),
        );
        append_member(&mut builder, "second/second.sigmf-meta", &meta(868.3e6));
        builder.into_inner().unwrap()
    }

    #[test]
    fn archive_picks_the_named_recording_else_the_first_and_reads_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = two_recording_archive();
        for (name, freq, first_byte, count) in [
            ("second.sigmf", 868.3e6, 100u8, 20u64),
            ("bundle.sigmf", 433.92e6, 0u8, 10u64),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, &bytes).unwrap();
            let mut r = open_archive(&path, &FLAGS_NONE).unwrap();
            assert_eq!(r.info().center_hz(), freq, "{name}");
            assert_eq!(r.info().total_samples, Some(count), "{name}");
            let samples = read_all(&mut r);
            let mut expected = vec![Sample::default(); count as usize];
            let raw: Vec<u8> = (first_byte..first_byte + 2 * count as u8).collect();
            Datatype::CU8.decode(&raw, &mut expected);
            assert_eq!(samples, expected, "{name}");
            r.seek(count - 1).unwrap();
            let mut last = [Sample::default(); 4];
            assert_eq!(r.read(&mut last).unwrap().samples, 1);
            assert_eq!(last[0], expected[count as usize - 1]);
        }
    }

    #[test]
    fn archive_errors_name_the_archive_and_member() {
        let dir = tempfile::tempdir().unwrap();
        let mut builder = tar::Builder::new(Vec::new());
        append_member(
            &mut builder,
            "only/only.sigmf-meta",
            br#"{"global":{"core:datatype":"cu8","core:sample_rate":1e6}}"#,
        );
        let path = dir.path().join("only.sigmf");
        std::fs::write(&path, builder.into_inner().unwrap()).unwrap();
        let msg = open_archive(&path, &FLAGS_NONE).err().unwrap().to_string();
        assert!(msg.contains("only.sigmf: only/only.sigmf-data"), "{msg}");

        let mut builder = tar::Builder::new(Vec::new());
        append_member(&mut builder, "readme.txt", b"hello");
        std::fs::write(&path, builder.into_inner().unwrap()).unwrap();
        let msg = open_archive(&path, &FLAGS_NONE).err().unwrap().to_string();
        assert!(
            msg.contains("only.sigmf: archive") && msg.contains("readme.txt"),
            "{msg}"
        );

        // Truncated in the middle of the data member.
        let mut bytes = two_recording_archive();
        bytes.truncate(512 * 4 + 10);
        std::fs::write(&path, &bytes).unwrap();
        assert!(open_archive(&path, &FLAGS_NONE).is_err());

        std::fs::write(&path, b"definitely not a tar file, far too short").unwrap();
        let msg = open_archive(&path, &FLAGS_NONE).err().unwrap().to_string();
        assert!(msg.contains("only.sigmf"), "{msg}");
    }

    fn sigmf_key() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "global",
                "captures",
                "annotations",
                "core:datatype",
                "core:sample_rate",
                "core:sample_start",
                "core:sample_count",
                "core:frequency",
                "core:datetime",
                "core:header_bytes",
                "core:label",
                "core:freq_lower_edge",
            ])
            .prop_map(String::from),
            "\\PC{0,8}",
        ]
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| json!(f)),
            "\\PC{0,12}".prop_map(Value::from),
            prop::sample::select(vec![
                "cf32_le",
                "ci16_be",
                "rf32_le",
                "cu8",
                "2024-05-01T12:00:00Z",
            ])
            .prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 32, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::vec((sigmf_key(), inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = Metadata::parse(Path::new("p.sigmf-meta"), &bytes, &FLAGS_NONE);
        }

        #[test]
        fn arbitrary_json_never_panics(doc in json_value()) {
            let _ = Metadata::parse(Path::new("p.sigmf-meta"), doc.to_string().as_bytes(), &FLAGS_NONE);
        }

        #[test]
        fn near_valid_metadata_parses_or_errors(
            datatype in json_value(),
            rate in json_value(),
            captures in json_value(),
            annotations in json_value(),
        ) {
            let doc = json!({
                "global": { "core:datatype": datatype, "core:sample_rate": rate },
                "captures": captures,
                "annotations": annotations,
            });
            if let Ok(meta) = Metadata::parse(Path::new("p.sigmf-meta"), doc.to_string().as_bytes(), &FLAGS_NONE) {
                prop_assert!(is_plausible_sample_rate(meta.sample_rate));
                prop_assert_eq!(meta.captures[0].sample_start, 0);
                prop_assert!(meta.captures.windows(2).all(|w| w[0].sample_start <= w[1].sample_start));
            }
        }
    }
}
