//! Streaming SigMF writer (`.sigmf-meta` + `.sigmf-data`), used by `synth`
//! and by IQ evidence.
//!
//! Nothing half-written is ever presented as complete: samples go to
//! `NAME.sigmf-data.part` and the metadata to `NAME.sigmf-meta.part`; only
//! [`SigmfWriter::finish`] syncs and renames them to their final names.

use super::datatype::samples_as_bytes;
use super::sha512::BackgroundHasher;
use super::{Annotation, Capture, Datatype, Sample};
use crate::atomic_file::{part_path, write_synced};
use crate::{Error, Result};
use serde_json::{json, Map, Value};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The SigMF specification version rfsentry writes.
pub const SIGMF_VERSION: &str = "1.0.0";

/// The `.sigmf-meta` and `.sigmf-data` paths for a recording named by either
/// file, or by its base name without extension.
pub fn sigmf_paths(path: &Path) -> (PathBuf, PathBuf) {
    let s = path.to_string_lossy();
    let base = s
        .strip_suffix(".sigmf-meta")
        .or_else(|| s.strip_suffix(".sigmf-data"))
        .unwrap_or(&s)
        .to_string();
    (
        PathBuf::from(format!("{base}.sigmf-meta")),
        PathBuf::from(format!("{base}.sigmf-data")),
    )
}

/// Writes one SigMF recording, sample block by sample block.
pub struct SigmfWriter {
    meta_path: PathBuf,
    data_path: PathBuf,
    data: BufWriter<File>,
    datatype: Datatype,
    sample_rate: f64,
    captures: Vec<Capture>,
    annotations: Vec<Annotation>,
    global: Map<String, Value>,
    /// Until [`SigmfWriter::finish`] takes the digest.
    hasher: Option<BackgroundHasher>,
    samples_written: u64,
}

impl SigmfWriter {
    /// Start a recording at `path` (either file name or the base name).
    pub fn create(
        path: &Path,
        datatype: Datatype,
        sample_rate: f64,
        center_hz: f64,
    ) -> Result<Self> {
        let (meta_path, data_path) = sigmf_paths(path);
        if let Some(dir) = meta_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let hasher = BackgroundHasher::start()
            .map_err(|e| Error::spawn(format!("SHA-512 ({})", data_path.display()), e))?;
        let part = part_path(&data_path);
        let file = File::create(&part).map_err(|e| Error::io(&part, e))?;
        Ok(SigmfWriter {
            meta_path,
            data_path,
            // Sample blocks (tens of KiB and more) go straight to the file;
            // the buffer gathers only small writes.
            data: BufWriter::with_capacity(64 << 10, file),
            datatype,
            sample_rate,
            captures: vec![Capture {
                sample_start: 0,
                center_hz,
                datetime: None,
            }],
            annotations: Vec::new(),
            global: Map::new(),
            hasher: Some(hasher),
            samples_written: 0,
        })
    }

    /// Set the first capture's start time (`core:datetime`).
    pub fn set_datetime(&mut self, datetime: chrono::DateTime<chrono::Utc>) {
        self.captures[0].datetime = Some(datetime);
    }

    /// Start a new capture (a retune) at the next sample written.
    pub fn retune(&mut self, center_hz: f64, datetime: Option<chrono::DateTime<chrono::Utc>>) {
        self.captures.push(Capture {
            sample_start: self.samples_written,
            center_hz,
            datetime,
        });
    }

    /// Set a `global` field (e.g. `core:description`, `core:hw`, or an `rfsentry:` key).
    pub fn set_global(&mut self, key: &str, value: impl Into<Value>) {
        self.global.insert(key.to_string(), value.into());
    }

    /// Add an annotation.
    pub fn annotate(&mut self, annotation: Annotation) {
        self.annotations.push(annotation);
    }

    /// Samples written so far.
    pub fn samples_written(&self) -> u64 {
        self.samples_written
    }

    /// Append samples.
    pub fn write(&mut self, samples: &[Sample]) -> Result<()> {
        let hasher = self.hasher.as_ref().expect("hashing until finished");
        let mut bytes = hasher.buffer();
        if self.datatype.is_native() {
            bytes.extend_from_slice(samples_as_bytes(samples));
        } else {
            self.datatype.encode(samples, &mut bytes);
        }
        self.data
            .write_all(&bytes)
            .map_err(|e| Error::io(part_path(&self.data_path), e))?;
        hasher.update(bytes);
        self.samples_written += samples.len() as u64;
        Ok(())
    }

    /// The metadata document as it will be written.
    fn metadata(&self, sha512: String) -> Value {
        let mut global = self.global.clone();
        global.insert("core:datatype".into(), json!(self.datatype.to_string()));
        global.insert("core:sample_rate".into(), json!(self.sample_rate));
        global.insert("core:version".into(), json!(SIGMF_VERSION));
        global.insert("core:sha512".into(), json!(sha512));
        global
            .entry("core:recorder")
            .or_insert_with(|| json!(format!("rfsentry {}", crate::VERSION)));
        let captures: Vec<Value> = self
            .captures
            .iter()
            .map(|c| {
                let mut m = Map::new();
                m.insert("core:sample_start".into(), json!(c.sample_start));
                m.insert("core:frequency".into(), json!(c.center_hz));
                if let Some(dt) = c.datetime {
                    m.insert(
                        "core:datetime".into(),
                        json!(dt.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)),
                    );
                }
                Value::Object(m)
            })
            .collect();
        let mut annotations = self.annotations.clone();
        annotations.sort_by_key(|a| a.sample_start);
        json!({ "global": global, "captures": captures, "annotations": annotations })
    }

    /// Flush, sync and rename both files into place. Returns the `.sigmf-meta` path.
    pub fn finish(mut self) -> Result<PathBuf> {
        let data_part = part_path(&self.data_path);
        self.data.flush().map_err(|e| Error::io(&data_part, e))?;
        self.data
            .get_ref()
            .sync_all()
            .map_err(|e| Error::io(&data_part, e))?;
        let sha512 = self.hasher.take().expect("hashing until finished").finish();
        let meta = self.metadata(sha512);
        let meta_part = part_path(&self.meta_path);
        write_synced(
            &meta_part,
            serde_json::to_string_pretty(&meta)
                .expect("json")
                .as_bytes(),
        )?;
        std::fs::rename(&data_part, &self.data_path).map_err(|e| Error::io(&self.data_path, e))?;
        std::fs::rename(&meta_part, &self.meta_path).map_err(|e| Error::io(&self.meta_path, e))?;
        Ok(self.meta_path)
    }
}
