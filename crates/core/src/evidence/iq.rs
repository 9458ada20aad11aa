//! IQ evidence: the samples around each alert, as a SigMF recording an
//! analyst can open in inspectrum, IQEngine or GNU Radio.
//!
//! [`IqEvidenceRecorder`] is fed every [`IqBlock`] in sample order and every
//! alert event in the same stream order. It keeps a pre-trigger ring of
//! recent blocks (bounded by seconds and bytes; evicted buffers go back to
//! the caller for reuse). When the stream can be read again (a recording,
//! [`IqEvidenceRecorder::with_reread`]) the ring holds only where each block
//! lies and hands every buffer back at once: the samples an alert needs are
//! read back from the recording, so a run without alerts keeps no IQ in memory
//! and the pipeline's buffers stay few and in cache. On `raised` it opens
//! `iq/<id>.sigmf-meta` (cf32_le)
//! and writes the ring from `pre_trigger_s` before the alert's start; it then
//! appends blocks as they come; on `cleared` it goes on for `post_trigger_s`
//! after the alert's end and finishes the file with one annotation describing
//! the alert. Limits (seconds per snippet, bytes and snippets per run) drop
//! evidence with a `warn` line, never the alert.

use super::{describe_kind, file_stem, iq_rel_path, IQ_DIR};
use crate::alert::{AlertEvent, EventType};
use crate::atomic_file::part_path;
use crate::iq::annotation::{EXCESS_KEY, KIND_KEY};
use crate::iq::datatype::Scalar;
use crate::iq::sigmf_writer::sigmf_paths;
use crate::iq::{Annotation, Datatype, IqReader, Sample, SigmfWriter};
use crate::source::IqBlock;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};

/// Bytes per sample held in the pre-trigger ring (`Complex<f32>`).
const RING_SAMPLE_BYTES: u64 = 8;

/// The encoding IQ evidence is written in: the source's own when samples
/// decoded from it encode back to the very same bytes (8- and 16-bit
/// integers: a cu8 snippet is a quarter of the cf32 size, and exact), cf32_le
/// otherwise (float sources, and 32-bit integers, which were already rounded
/// to f32's 24 bits when decoded).
pub fn snippet_datatype(source: Datatype) -> Datatype {
    match source.component_bytes() {
        1 | 2 if source.scalar != Scalar::F32 => source,
        _ => Datatype::CF32_LE,
    }
}

/// Annotation key: the alert's id.
pub const ALERT_ID_KEY: &str = "rfsentry:alert_id";
/// Annotation key: the alert's first sample in the original stream.
pub const STREAM_SAMPLE_START_KEY: &str = "rfsentry:stream_sample_start";
/// Annotation key: why the snippet ends before the alert's end plus post-trigger.
pub const TRUNCATED_KEY: &str = "rfsentry:truncated";

/// Bounds of IQ evidence.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvidenceLimits {
    /// Seconds written before an alert's start.
    pub pre_trigger_s: f64,
    /// Seconds written after an alert's end.
    pub post_trigger_s: f64,
    /// Seconds of recent IQ kept in memory; must cover `pre_trigger_s` plus
    /// the detection delay (the time from an alert's start to its `raised` event).
    pub ring_s: f64,
    /// Most bytes of IQ kept in memory (the ring holds less than `ring_s` at high rates).
    pub ring_max_bytes: u64,
    /// Most seconds written per alert; a longer alert's snippet is finished early.
    pub max_snippet_s: f64,
    /// Most bytes written per alert (at wideband rates this binds before
    /// `max_snippet_s`, so that one long alert cannot spend the whole run's
    /// budget and leave later alerts without evidence).
    pub max_snippet_bytes: u64,
    /// Most bytes of IQ evidence written per run.
    pub max_total_bytes: u64,
    /// Most snippets written per run.
    pub max_snippets: usize,
}

impl Default for EvidenceLimits {
    fn default() -> Self {
        EvidenceLimits {
            pre_trigger_s: 1.0,
            post_trigger_s: 1.0,
            ring_s: 3.0,
            ring_max_bytes: 64 << 20,
            max_snippet_s: 30.0,
            max_snippet_bytes: 512 << 20,
            max_total_bytes: 2 << 30,
            max_snippets: 100,
        }
    }
}

/// What the recorder knows about the stream.
#[derive(Debug, Clone)]
pub struct IqStream {
    pub site: String,
    /// The recording's path or the device arguments.
    pub recording: String,
    pub sample_rate: f64,
    /// Wall-clock time of sample 0, when known.
    pub start_time: Option<DateTime<Utc>>,
    /// How the source encoded the samples (see [`snippet_datatype`]).
    pub datatype: Datatype,
}

/// What the recorder did during a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EvidenceStats {
    /// Snippets finished and renamed into place.
    pub snippets_written: usize,
    /// Snippets finished early by a limit.
    pub snippets_truncated: usize,
    /// Alerts raised without IQ evidence (a limit was reached).
    pub alerts_without_evidence: usize,
    /// Snippets abandoned because writing failed.
    pub write_failures: usize,
    /// Bytes of samples written.
    pub bytes_written: u64,
}

/// Wall-clock time of stream sample `sample`, when it is representable.
fn time_of_sample(start: DateTime<Utc>, sample: u64, rate: f64) -> Option<DateTime<Utc>> {
    let ns = sample as f64 / rate * 1e9;
    if !(ns.is_finite() && ns.abs() < i64::MAX as f64) {
        return None;
    }
    start.checked_add_signed(chrono::Duration::nanoseconds(ns as i64))
}

/// A contiguous run of stream samples written to a snippet.
#[derive(Debug, Clone, Copy)]
struct Run {
    file_start: u64,
    stream_start: u64,
    len: u64,
}

/// What became of a snippet after a write.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// Still being written.
    Open,
    /// Complete (post-trigger time reached, or cut by a limit): finish it.
    Done,
    /// Writing failed (why): abandon it.
    Failed(String),
}

/// How much a snippet may still write, and what it needs to stamp times.
struct Room {
    rate: f64,
    start_time: Option<DateTime<Utc>>,
    /// Most samples per snippet.
    max_samples: u64,
    /// `max_samples` comes from the byte limit (else from the time limit).
    bytes_bound: bool,
    max_snippet_bytes: u64,
    /// Samples left in the run's byte budget.
    run_samples: u64,
    max_snippet_s: f64,
    max_total_bytes: u64,
}

/// One snippet being written.
struct Snippet {
    writer: SigmfWriter,
    meta_path: PathBuf,
    event: AlertEvent,
    runs: Vec<Run>,
    center_hz: f64,
    /// Finish once the stream reaches this sample (set by `cleared`).
    post_until: Option<u64>,
    truncated: Option<String>,
}

impl Snippet {
    /// The stream sample the next write must start at to continue the last run.
    fn next_stream_sample(&self) -> Option<u64> {
        self.runs.last().map(|r| r.stream_start + r.len)
    }

    fn samples_written(&self) -> u64 {
        self.writer.samples_written()
    }

    /// Write the part of `block` at or after `from` (and after what the
    /// snippet already holds) within `room`. Returns the samples written and
    /// what became of the snippet.
    fn append(&mut self, id: &str, block: &IqBlock, from: u64, room: &Room) -> (u64, Outcome) {
        let mut begin = block.start_sample.max(from);
        if let Some(next) = self.next_stream_sample() {
            begin = begin.max(next);
        }
        let mut end = block.end_sample();
        if let Some(until) = self.post_until {
            end = end.min(until);
        }
        let snippet_room = room.max_samples.saturating_sub(self.samples_written());
        let mut limit_hit = None;
        if end > begin && end - begin > snippet_room.min(room.run_samples) {
            if room.run_samples < snippet_room {
                end = begin + room.run_samples;
                limit_hit = Some(format!(
                    "the run's limit of {} bytes of IQ evidence was reached",
                    room.max_total_bytes
                ));
            } else {
                end = begin + snippet_room;
                limit_hit = Some(if room.bytes_bound {
                    format!(
                        "the limit of {} bytes per snippet was reached",
                        room.max_snippet_bytes
                    )
                } else {
                    format!(
                        "the limit of {} s per snippet was reached",
                        room.max_snippet_s
                    )
                });
            }
        }
        let mut written = 0;
        if end > begin {
            let contiguous = self.next_stream_sample() == Some(begin);
            let datetime = room
                .start_time
                .and_then(|t| time_of_sample(t, begin, room.rate));
            if self.runs.is_empty() {
                if let Some(dt) = datetime {
                    self.writer.set_datetime(dt);
                }
                self.center_hz = block.center_hz;
            } else if !contiguous || block.center_hz != self.center_hz {
                // A gap in the stream or a retune: a new capture marks the discontinuity.
                self.writer.retune(block.center_hz, datetime);
                self.center_hz = block.center_hz;
            }
            let slice = &block.samples
                [(begin - block.start_sample) as usize..(end - block.start_sample) as usize];
            let file_start = self.samples_written();
            if let Err(e) = self.writer.write(slice) {
                tracing::warn!("IQ evidence for alert {id} abandoned: {e}");
                return (0, Outcome::Failed(format!("could not be written: {e}")));
            }
            written = slice.len() as u64;
            match self.runs.last_mut() {
                Some(run) if contiguous => run.len += written,
                _ => self.runs.push(Run {
                    file_start,
                    stream_start: begin,
                    len: written,
                }),
            }
        }
        if let Some(reason) = limit_hit {
            tracing::warn!(
                "IQ evidence for alert {id} truncated after {:.2} s: {reason}",
                self.samples_written() as f64 / room.rate
            );
            self.truncated = Some(reason);
            return (written, Outcome::Done);
        }
        let post_done = self
            .post_until
            .is_some_and(|u| self.next_stream_sample().is_some_and(|n| n >= u));
        (
            written,
            if post_done {
                Outcome::Done
            } else {
                Outcome::Open
            },
        )
    }

    /// File sample of stream sample `s` (clamped into the written runs).
    fn file_sample_of(&self, s: u64) -> u64 {
        for run in &self.runs {
            if s < run.stream_start {
                return run.file_start;
            }
            if s < run.stream_start + run.len {
                return run.file_start + (s - run.stream_start);
            }
        }
        self.samples_written()
    }
}

/// A block of the pre-trigger ring: its samples, or only where it lies
/// (`block.samples` empty) when they can be read again from the recording.
struct Held {
    block: IqBlock,
    /// Samples of the block (`block.samples.len()` unless hollow).
    len: u64,
    /// The samples were handed back: read them again when needed.
    hollow: bool,
}

impl Held {
    fn end_sample(&self) -> u64 {
        self.block.start_sample + self.len
    }
}

/// Records IQ evidence snippets around alerts.
pub struct IqEvidenceRecorder {
    alert_dir: PathBuf,
    stream: IqStream,
    limits: EvidenceLimits,
    ring: VecDeque<Held>,
    ring_bytes: u64,
    /// The stream's samples again, by stream sample index (a recording):
    /// then the ring is hollow.
    reread: Option<Box<dyn IqReader>>,
    /// Buffer for samples read back.
    scratch: Vec<Sample>,
    open: BTreeMap<String, Snippet>,
    /// Alerts whose snippet was started: id → path relative to the alert directory.
    started: BTreeMap<String, String>,
    /// Alerts whose snippet was started but not finished: id → why. Their
    /// events no longer name the file.
    dropped: BTreeMap<String, String>,
    /// Why no snippet may start or go on now (the alert log, which has
    /// priority over evidence, cannot be written).
    suspended: Option<String>,
    /// Snippets finished since [`IqEvidenceRecorder::take_finished`]: (id, path).
    finished: Vec<(String, String)>,
    stats: EvidenceStats,
    warned_ring_bytes: bool,
}

impl IqEvidenceRecorder {
    /// A recorder writing under `alert_dir/iq/`.
    pub fn new(alert_dir: &Path, stream: IqStream, limits: EvidenceLimits) -> Self {
        IqEvidenceRecorder {
            alert_dir: alert_dir.to_path_buf(),
            stream,
            limits,
            ring: VecDeque::new(),
            ring_bytes: 0,
            reread: None,
            scratch: Vec::new(),
            open: BTreeMap::new(),
            started: BTreeMap::new(),
            dropped: BTreeMap::new(),
            suspended: None,
            finished: Vec::new(),
            stats: EvidenceStats::default(),
            warned_ring_bytes: false,
        }
    }

    /// Read pre-trigger samples back from `reader` instead of keeping them:
    /// it must give the stream's own samples, sample `i` of the reader being
    /// the block sample with `start_sample` `i` (a file source's recording,
    /// opened again). Blocks are then handed back to the caller as soon as
    /// open snippets have taken them.
    pub fn with_reread(mut self, reader: Box<dyn IqReader>) -> Self {
        self.reread = Some(reader);
        self
    }

    /// Feed the next block (in sample order). Blocks evicted from the
    /// pre-trigger ring (at once, when it is hollow) are handed to `recycle`.
    pub fn push_block(&mut self, mut block: IqBlock, mut recycle: impl FnMut(Vec<Sample>)) {
        self.write_to_open(&block, None);
        let len = block.samples.len() as u64;
        let hollow = self.reread.is_some();
        if hollow {
            recycle(std::mem::take(&mut block.samples));
        } else {
            self.ring_bytes += len * RING_SAMPLE_BYTES;
        }
        self.ring.push_back(Held { block, len, hollow });
        self.evict(&mut recycle);
    }

    /// Feed an alert event (in stream order). Returns the IQ evidence path
    /// relative to the alert directory (`iq/<id>.sigmf-meta`) when a snippet
    /// is being or was written for this alert.
    pub fn on_alert(&mut self, event: &AlertEvent) -> Option<String> {
        match event.event {
            EventType::Raised => self.start(event),
            EventType::Updated => {
                if let Some(s) = self.open.get_mut(&event.id) {
                    s.event = event.clone();
                }
            }
            EventType::Cleared => {
                if let Some(s) = self.open.get_mut(&event.id) {
                    s.event = event.clone();
                    let post =
                        (self.limits.post_trigger_s.max(0.0) * self.stream.sample_rate) as u64;
                    let until = event.end_sample.saturating_add(post);
                    s.post_until = Some(until);
                    if s.next_stream_sample().is_some_and(|n| n >= until) {
                        self.finish(&event.id);
                    }
                }
            }
            // A person's note changes nothing about the samples to keep.
            EventType::Acknowledged => {}
        }
        self.evidence_path(&event.id)
    }

    /// The IQ evidence path (relative to the alert directory) of alert `id`,
    /// if it is being or was written (not if it was dropped).
    pub fn evidence_path(&self, id: &str) -> Option<String> {
        self.started.get(id).cloned()
    }

    /// Why alert `id`'s snippet was dropped unfinished, if it was.
    pub fn dropped_reason(&self, id: &str) -> Option<&str> {
        self.dropped.get(id).map(String::as_str)
    }

    /// Stop writing evidence because of `reason` (the alert log failing on a
    /// full disk: the log comes first). Open snippets are dropped and their
    /// partial files removed, freeing their space; no snippet starts until
    /// [`resume`](Self::resume).
    pub fn suspend(&mut self, reason: &str) {
        if self.suspended.is_none() {
            tracing::warn!("IQ evidence suspended: {reason}");
        }
        self.suspended = Some(reason.to_string());
        let ids: Vec<String> = self.open.keys().cloned().collect();
        for id in ids {
            self.abandon(&id, reason);
        }
    }

    /// Write evidence again after [`suspend`](Self::suspend).
    pub fn resume(&mut self) {
        if self.suspended.take().is_some() {
            tracing::warn!("IQ evidence resumed");
        }
    }

    /// Finish every open snippet (end of stream) and hand every ring buffer to `recycle`.
    pub fn finish_all(&mut self, mut recycle: impl FnMut(Vec<Sample>)) -> EvidenceStats {
        let ids: Vec<String> = self.open.keys().cloned().collect();
        for id in ids {
            self.finish(&id);
        }
        for held in self.ring.drain(..).filter(|h| !h.hollow) {
            recycle(held.block.samples);
        }
        self.ring_bytes = 0;
        self.stats
    }

    /// The snippets finished (complete under their final names) since the
    /// last call: alert id and `.sigmf-meta` path relative to the alert
    /// directory, in the order they were finished — for binding them into
    /// the alert log's chain.
    pub fn take_finished(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.finished)
    }

    /// What was done so far.
    pub fn stats(&self) -> EvidenceStats {
        self.stats
    }

    /// Snippets being written now.
    pub fn open_snippets(&self) -> usize {
        self.open.len()
    }

    /// Write `block` (from sample `from`, or only to snippet `only`) to the
    /// open snippets, then finish or abandon those that ended.
    fn write_to_open(&mut self, block: &IqBlock, only: Option<(&str, u64)>) {
        let mut ended: Vec<(String, Outcome)> = Vec::new();
        let sample_bytes = snippet_datatype(self.stream.datatype).sample_bytes() as u64;
        let by_time = (self.limits.max_snippet_s.max(0.0) * self.stream.sample_rate) as u64;
        let by_bytes = self.limits.max_snippet_bytes / sample_bytes;
        for (id, snippet) in self.open.iter_mut() {
            let from = match only {
                Some((only_id, from)) if only_id == id => from,
                Some(_) => continue,
                None => 0,
            };
            let room = Room {
                rate: self.stream.sample_rate,
                start_time: self.stream.start_time,
                max_samples: by_time.min(by_bytes),
                bytes_bound: by_bytes < by_time,
                max_snippet_bytes: self.limits.max_snippet_bytes,
                run_samples: self
                    .limits
                    .max_total_bytes
                    .saturating_sub(self.stats.bytes_written)
                    / sample_bytes,
                max_snippet_s: self.limits.max_snippet_s,
                max_total_bytes: self.limits.max_total_bytes,
            };
            let (written, outcome) = snippet.append(id, block, from, &room);
            self.stats.bytes_written += written * sample_bytes;
            if outcome != Outcome::Open {
                ended.push((id.clone(), outcome));
            }
        }
        for (id, outcome) in ended {
            match outcome {
                Outcome::Failed(reason) => self.abandon(&id, &reason),
                _ => self.finish(&id),
            }
        }
    }

    fn evict(&mut self, recycle: &mut impl FnMut(Vec<Sample>)) {
        let keep = (self.limits.ring_s.max(self.limits.pre_trigger_s).max(0.0)
            * self.stream.sample_rate) as u64;
        let newest_end = self.ring.back().map_or(0, Held::end_sample);
        while self.ring.len() > 1 {
            let front = &self.ring[0];
            let too_old = newest_end.saturating_sub(front.end_sample()) >= keep;
            let too_big = self.ring_bytes > self.limits.ring_max_bytes;
            if !(too_old || too_big) {
                break;
            }
            if too_big && !too_old && !self.warned_ring_bytes {
                self.warned_ring_bytes = true;
                tracing::warn!(
                    "IQ evidence: the pre-trigger ring is limited to {} bytes, which holds less than \
                     {} s at {} samples/s; snippets will start later than asked",
                    self.limits.ring_max_bytes,
                    self.limits.ring_s,
                    self.stream.sample_rate
                );
            }
            let held = self.ring.pop_front().expect("len > 1");
            if !held.hollow {
                self.ring_bytes -= held.len * RING_SAMPLE_BYTES;
                recycle(held.block.samples);
            }
        }
    }

    /// Open a snippet for a raised alert and write its pre-trigger samples.
    fn start(&mut self, event: &AlertEvent) {
        if self.started.contains_key(&event.id) || self.dropped.contains_key(&event.id) {
            return;
        }
        if let Some(reason) = &self.suspended {
            self.stats.alerts_without_evidence += 1;
            self.dropped.insert(event.id.clone(), reason.clone());
            return;
        }
        if self.started.len() >= self.limits.max_snippets {
            self.stats.alerts_without_evidence += 1;
            tracing::warn!(
                "IQ evidence for alert {} ({}) not recorded: the run's limit of {} snippets is reached",
                event.id,
                event.kind,
                self.limits.max_snippets
            );
            return;
        }
        if self.stats.bytes_written >= self.limits.max_total_bytes {
            self.stats.alerts_without_evidence += 1;
            tracing::warn!(
                "IQ evidence for alert {} ({}) not recorded: the run's limit of {} bytes of IQ evidence is reached",
                event.id,
                event.kind,
                self.limits.max_total_bytes
            );
            return;
        }
        let rel = iq_rel_path(&event.id);
        let base = self.alert_dir.join(IQ_DIR).join(file_stem(&event.id));
        let center_hz = self
            .ring
            .back()
            .map_or(event.center_hz, |h| h.block.center_hz);
        let mut writer = match SigmfWriter::create(
            &base,
            snippet_datatype(self.stream.datatype),
            self.stream.sample_rate,
            center_hz,
        ) {
            Ok(w) => w,
            Err(e) => {
                self.stats.write_failures += 1;
                self.stats.alerts_without_evidence += 1;
                tracing::warn!("IQ evidence for alert {} not recorded: {e}", event.id);
                self.dropped
                    .insert(event.id.clone(), format!("could not be written: {e}"));
                return;
            }
        };
        self.describe(&mut writer, event);
        let (meta_path, _) = sigmf_paths(&base);
        self.started.insert(event.id.clone(), rel);
        self.open.insert(
            event.id.clone(),
            Snippet {
                writer,
                meta_path,
                event: event.clone(),
                runs: Vec::new(),
                center_hz,
                post_until: None,
                truncated: None,
            },
        );
        let pre = (self.limits.pre_trigger_s.max(0.0) * self.stream.sample_rate) as u64;
        let from = event.start_sample.saturating_sub(pre);
        let mut blocks = std::mem::take(&mut self.ring);
        for held in blocks.iter_mut().filter(|h| h.end_sample() > from) {
            if !self.open.contains_key(&event.id) {
                break;
            }
            if !held.hollow {
                self.write_to_open(&held.block, Some((&event.id, from)));
                continue;
            }
            // Read the block's samples back (only from `from` on).
            let skip = from.saturating_sub(held.block.start_sample).min(held.len);
            let mut block = IqBlock {
                start_sample: held.block.start_sample + skip,
                samples: std::mem::take(&mut self.scratch),
                ..held.block
            };
            match self.read_back(&mut block.samples, block.start_sample, held.len - skip) {
                Ok(()) => self.write_to_open(&block, Some((&event.id, from))),
                Err(e) => {
                    tracing::warn!("IQ evidence for alert {} abandoned: {e}", event.id);
                    self.abandon(&event.id, &format!("could not be read back: {e}"));
                }
            }
            self.scratch = block.samples;
        }
        self.ring = blocks;
    }

    /// Fill `out` with the `len` stream samples from `start`, read again.
    fn read_back(&mut self, out: &mut Vec<Sample>, start: u64, len: u64) -> crate::Result<()> {
        let reader = self.reread.as_mut().expect("a hollow ring has a reader");
        out.clear();
        out.resize(len as usize, Sample::new(0.0, 0.0));
        reader.seek(start)?;
        let mut filled = 0;
        while filled < out.len() {
            let got = reader.read(&mut out[filled..])?.samples;
            if got == 0 {
                return Err(crate::Error::io(
                    Path::new(&self.stream.recording),
                    std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        format!("the recording ended at sample {}", start + filled as u64),
                    ),
                ));
            }
            filled += got;
        }
        Ok(())
    }

    /// The recording-wide metadata of a snippet.
    fn describe(&self, writer: &mut SigmfWriter, event: &AlertEvent) {
        let recorder = format!("rfsentry {}", crate::VERSION);
        writer.set_global("core:recorder", recorder);
        writer.set_global(
            "core:description",
            format!(
                "rfsentry IQ evidence of alert {} ({}: {}) at site {}, {:.6} MHz, from {}",
                event.id,
                event.kind,
                describe_kind(event.kind),
                self.stream.site,
                event.center_hz / 1e6,
                self.stream.recording
            ),
        );
        writer.set_global("rfsentry:site", self.stream.site.clone());
        writer.set_global("rfsentry:recording", self.stream.recording.clone());
        writer.set_global(ALERT_ID_KEY, event.id.clone());
    }

    /// Drop an unfinished snippet, removing its partial files; its alert's
    /// events stop naming it and say `reason` instead.
    fn abandon(&mut self, id: &str, reason: &str) {
        if let Some(s) = self.open.remove(id) {
            self.stats.write_failures += 1;
            let (meta, data) = sigmf_paths(&s.meta_path);
            drop(s);
            remove_parts(&meta, &data);
            self.started.remove(id);
            self.dropped.insert(id.to_string(), reason.to_string());
        }
    }

    /// Annotate and finish snippet `id`.
    fn finish(&mut self, id: &str) {
        let Some(mut s) = self.open.remove(id) else {
            return;
        };
        let e = &s.event;
        let first_stream = s.runs.first().map_or(e.start_sample, |r| r.stream_start);
        let a0 = s.file_sample_of(e.start_sample);
        // An alert not yet cleared (snippet cut by a limit, or the stream
        // ended) lasts at least to the snippet's end.
        let ongoing = s.post_until.is_none();
        let a1 = if ongoing {
            s.samples_written()
        } else {
            s.file_sample_of(e.end_sample.max(e.start_sample))
        }
        .max(a0);
        let (lo, hi) = if e.freq_low_hz <= e.freq_high_hz {
            (e.freq_low_hz, e.freq_high_hz)
        } else {
            (e.freq_high_hz, e.freq_low_hz)
        };
        let mut comment = format!(
            "{}: peak {:.1} dBFS, {:+.1} dB over baseline, SNR {:.1} dB, confidence {:.2}; alert {} to {}",
            describe_kind(e.kind),
            e.peak_dbfs,
            e.excess_db,
            e.snr_db,
            e.confidence,
            e.start,
            e.end
        );
        if let Some(reason) = &s.truncated {
            comment.push_str(&format!("; evidence truncated: {reason}"));
        }
        let mut annotation = Annotation::new(a0, a1 - a0)
            .with(KIND_KEY, e.kind.name())
            .with(ALERT_ID_KEY, e.id.clone())
            .with(STREAM_SAMPLE_START_KEY, e.start_sample)
            .with(EXCESS_KEY, e.excess_db)
            .with("rfsentry:peak_dbfs", e.peak_dbfs)
            .with("rfsentry:snr_db", e.snr_db)
            .with("rfsentry:confidence", e.confidence);
        if let Some(reason) = &s.truncated {
            annotation = annotation.with(TRUNCATED_KEY, reason.clone());
        }
        if lo.is_finite() && hi.is_finite() {
            annotation.freq_lower_edge = Some(lo);
            annotation.freq_upper_edge = Some(hi);
        }
        annotation.label = Some(e.kind.name().to_string());
        annotation.comment = Some(comment);
        s.writer.annotate(annotation);
        s.writer.set_global(STREAM_SAMPLE_START_KEY, first_stream);
        let truncated = s.truncated.is_some();
        let meta_path = s.meta_path.clone();
        match s.writer.finish() {
            Ok(_) => {
                self.stats.snippets_written += 1;
                self.stats.snippets_truncated += truncated as usize;
                if let Some(rel) = self.started.get(id) {
                    self.finished.push((id.to_string(), rel.clone()));
                }
            }
            Err(err) => {
                self.stats.write_failures += 1;
                tracing::warn!("IQ evidence for alert {id} could not be finished: {err}");
                let (meta, data) = sigmf_paths(&meta_path);
                remove_parts(&meta, &data);
                self.started.remove(id);
                self.dropped
                    .insert(id.to_string(), format!("could not be finished: {err}"));
            }
        }
    }
}

/// Remove a snippet's partial files (and a data file renamed before its
/// metadata failed: data without metadata is no evidence).
fn remove_parts(meta: &Path, data: &Path) {
    for p in [part_path(meta), part_path(data)] {
        let _ = std::fs::remove_file(p);
    }
    if !meta.exists() {
        let _ = std::fs::remove_file(data);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_keep_exact_integer_encodings_and_use_cf32_otherwise() {
        for (source, snippet) in [
            ("cu8", "cu8"),
            ("ci8", "ci8"),
            ("ci16_le", "ci16_le"),
            ("ci16_be", "ci16_be"),
            ("cu16_le", "cu16_le"),
            ("cf32_le", "cf32_le"),
            ("cf32_be", "cf32_le"),
            ("cf64_le", "cf32_le"),
            ("ci32_le", "cf32_le"),
        ] {
            let dt: Datatype = source.parse().unwrap();
            assert_eq!(snippet_datatype(dt).to_string(), snippet, "{source}");
        }
    }

    #[test]
    fn sample_times_are_exact_or_absent() {
        let start: DateTime<Utc> = "2024-05-01T12:00:00Z".parse().unwrap();
        let t = time_of_sample(start, 150_000, 100_000.0).unwrap();
        assert_eq!(t.to_rfc3339(), "2024-05-01T12:00:01.500+00:00");
        assert_eq!(time_of_sample(start, 1, 0.0), None);
        assert_eq!(time_of_sample(start, u64::MAX, 1e-9), None);
    }

    /// Runs one alert through a recorder (with or without a second reader
    /// of `samples`) and returns the snippet's data and metadata files.
    fn record(samples: &[Sample], reread: Option<Vec<Sample>>) -> (Vec<u8>, String, EvidenceStats) {
        let dir = tempfile::tempdir().unwrap();
        let rate = 100_000.0;
        let stream = IqStream {
            site: "s".into(),
            recording: "r.sigmf-meta".into(),
            sample_rate: rate,
            start_time: Some("2024-05-01T12:00:00Z".parse().unwrap()),
            datatype: Datatype::CF32_LE,
        };
        let mut rec = IqEvidenceRecorder::new(dir.path(), stream, EvidenceLimits::default());
        if let Some(again) = reread {
            let reader = crate::iq::memory::MemoryReader::new("r", again, rate, 1e6);
            rec = rec.with_reread(Box::new(reader));
        }
        let mut recycled = 0usize;
        let event = |e: EventType| AlertEvent {
            start_sample: 150_000,
            end_sample: 180_000,
            freq_low_hz: 1e6,
            freq_high_hz: 1.01e6,
            center_hz: 1.005e6,
            ..crate::alert::test_event("a1", e)
        };
        for (i, chunk) in samples.chunks(4096).enumerate() {
            let block = IqBlock {
                start_sample: i as u64 * 4096,
                samples: chunk.to_vec(),
                segment: 0,
                center_hz: 1e6,
                nonfinite: 0,
            };
            let end = block.end_sample();
            rec.push_block(block, |_| recycled += 1);
            // Raised 0.4 s after the alert's start (the ring covers it), cleared later.
            if (end..end + 4096).contains(&190_000) {
                rec.on_alert(&event(EventType::Raised));
            }
            if (end..end + 4096).contains(&220_000) {
                rec.on_alert(&event(EventType::Cleared));
            }
        }
        let stats = rec.finish_all(|_| recycled += 1);
        assert_eq!(
            recycled,
            samples.len().div_ceil(4096),
            "every buffer comes back"
        );
        let data = std::fs::read(dir.path().join("iq/a1.sigmf-data")).unwrap_or_default();
        let meta = std::fs::read_to_string(dir.path().join("iq/a1.sigmf-meta")).unwrap_or_default();
        (data, meta, stats)
    }

    #[test]
    fn a_hollow_ring_read_back_writes_the_same_snippet_as_a_ring_in_memory() {
        let samples: Vec<Sample> = (0..400_000)
            .map(|i| Sample::from_polar(0.5, i as f32 * 0.37))
            .collect();
        let (held, held_meta, held_stats) = record(&samples, None);
        let (read, read_meta, read_stats) = record(&samples, Some(samples.clone()));
        // 1 s before the start (150 000 - 100 000) to 1 s after the end (280 000).
        assert_eq!(held.len(), 230_000 * 8);
        assert_eq!(&held[..8], bytemuck_sample(samples[50_000]).as_slice());
        assert!(held == read, "snippet data differ");
        assert_eq!(held_meta, read_meta);
        assert_eq!(held_stats, read_stats);
        assert_eq!(read_stats.snippets_written, 1);
    }

    #[test]
    fn a_recording_that_cannot_be_read_back_drops_the_snippet_not_the_alert() {
        let samples: Vec<Sample> = (0..300_000)
            .map(|i| Sample::from_polar(0.5, i as f32 * 0.37))
            .collect();
        // The second reader ends before the pre-trigger samples.
        let (data, _, stats) = record(&samples, Some(samples[..20_000].to_vec()));
        assert!(data.is_empty());
        assert_eq!((stats.snippets_written, stats.write_failures), (0, 1));
    }

    fn bytemuck_sample(s: Sample) -> Vec<u8> {
        [s.re.to_le_bytes(), s.im.to_le_bytes()].concat()
    }
}
