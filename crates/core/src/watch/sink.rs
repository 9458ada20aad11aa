//! The sink thread: attaches evidence to alert events (IQ snippets from a
//! pre-trigger ring, spectrogram PNGs when an alert clears), writes every
//! event to the alert log (and, when asked, echoes it to the terminal), keeps
//! the run's summary and its overview spectrogram, calls the live status
//! callback, feeds the live [`Tap`] (spectrum rows, alert events, health;
//! acknowledgements written to the log), and recycles IQ buffers.
//!
//! Output failures (a full disk, an unwritable directory) are reported once,
//! clearly, and do not stop monitoring: alerts keep reaching the terminal and
//! the tracing log, and events the log could not take are held and written
//! once it takes them again ([`RetryingLog`]). Evidence failures never drop
//! an alert.
//!
//! The chain of custody: the log is opened for the run with its key
//! ([`SinkOptions::key`]); every finished evidence file is bound into it (a
//! spectrogram's hash on the `cleared` line naming it, an IQ snippet's and
//! the overview's in a `custody.evidence` record), a signed head is written
//! when due, and the run ends with its signed closing record, saying why.

use super::detect_stage::SinkItem;
use super::summary::WatchSummary;
use super::tap::{AckReply, AckRequest, Tap};
use super::WatchConfig;
use crate::alert::log::{AlertLog, LogEntry};
use crate::alert::retrying_log::{LogOutcome, RetryingLog};
use crate::alert::{AlertEvent, AlertKind, EventType};
use crate::custody::record::{Evidence as EvidenceRecord, FileHash, Record};
use crate::custody::{RunContext, SensorKey};
use crate::evidence::{
    render_alert_png, render_overview_png, spectrogram_rel_path, AlertRows, Baseline,
    CaptureLimits, EvidenceLimits, IqEvidenceRecorder, IqStream, Overview, OverviewPicture,
    SpectrogramRecorder,
};
use crate::profile::Profile;
use crate::source::{BufferPool, SourceInfo};
use crate::Result;
use chrono::{DateTime, Utc};
use crossbeam_channel::Receiver;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A live status snapshot, for the terminal's status line.
#[derive(Debug, Clone, Default)]
pub struct Status {
    pub samples: u64,
    pub seconds: f64,
    /// Processing rate, samples per second of wall time.
    pub rate_sps: f64,
    pub gaps: u64,
    pub lost_samples: u64,
    /// Median level of the latest frame, dBFS per bin.
    pub noise_floor_dbfs: f32,
    pub active_alerts: usize,
    pub total_alerts: u64,
}

/// Called about twice a second with the current status.
pub type StatusFn = Box<dyn FnMut(&Status) + Send>;

/// What the sink writes.
#[derive(Debug, Clone)]
pub struct SinkOptions {
    /// Start a fresh `alerts.jsonl` (offline analysis) instead of appending (monitoring).
    pub truncate_log: bool,
    /// Print each raised/cleared alert on stderr.
    pub echo_alerts: bool,
    /// Write evidence (IQ snippets, spectrogram PNGs, the overview picture).
    pub evidence: bool,
    pub iq_limits: EvidenceLimits,
    pub capture_limits: CaptureLimits,
    /// How sample 0's time was estimated when the source does not carry it
    /// (e.g. a raw file dated from its modification time); written into
    /// every alert event's `details.time_basis`. `None`: the time is the source's.
    pub time_basis: Option<String>,
    /// Live consumers (an operator console): see [`mod@super::tap`].
    pub tap: Option<Tap>,
    /// The sensor's key: signs the log's chain (its start, heads and close).
    pub key: Option<Arc<SensorKey>>,
    /// The command running (`analyze`, `monitor`), as the log's start record names it.
    pub command: String,
    /// The profile's file, whose hash the log's start record binds.
    pub profile_path: Option<PathBuf>,
    /// Why the stream was stopped, if it was (`--duration`, Ctrl-C), for the
    /// closing record; a stream that ends by itself closes as such.
    pub stop_reason: Option<StopReason>,
}

/// Asked at the end of a run why it was stopped (`None`: it was not).
#[derive(Clone)]
pub struct StopReason(pub Arc<dyn Fn() -> Option<String> + Send + Sync>);

impl std::fmt::Debug for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StopReason(..)")
    }
}

impl Default for SinkOptions {
    fn default() -> Self {
        SinkOptions {
            truncate_log: true,
            echo_alerts: false,
            evidence: true,
            iq_limits: EvidenceLimits::default(),
            capture_limits: CaptureLimits::default(),
            time_basis: None,
            tap: None,
            key: None,
            command: String::new(),
            profile_path: None,
            stop_reason: None,
        }
    }
}

/// Alert events held in memory at most while the log cannot be written (~5 MB).
const MAX_HELD_EVENTS: usize = 10_000;
/// Why evidence is dropped while the alert log cannot be written.
const LOG_FIRST: &str =
    "dropped to leave the disk to the alert log, which could not be written (disk full?)";

/// Seconds of signal between two `debug` lines of the noise floor (for
/// operators' logs and the soak test: timed by the stream, not the clock, so
/// a fast replay logs as many as a live run).
const FLOOR_LOG_EVERY_S: f64 = 5.0;

/// How often the tap gets the live status (also while no samples arrive).
const HEALTH_EVERY: Duration = Duration::from_millis(500);

/// How often a failing alert log is tried again.
const LOG_RETRY_EVERY: Duration = Duration::from_secs(5);

/// Evidence writers of one stream.
struct Evidence {
    iq: IqEvidenceRecorder,
    spectro: SpectrogramRecorder,
    overview: Overview,
}

/// Run the sink until the detect thread ends.
pub fn run(
    items: Receiver<SinkItem>,
    config: &WatchConfig,
    info: &SourceInfo,
    start_time: DateTime<Utc>,
    pool: BufferPool,
    mut status: Option<StatusFn>,
    reread: Option<Box<dyn crate::iq::IqReader>>,
) -> Result<WatchSummary> {
    let started = Instant::now();
    let out = &config.out_dir;
    let site = config.profile.site.name.as_str();
    let log_path = out.join(crate::layout::LOG_FILE);
    let mut log = open_log(
        &log_path,
        config.sink.truncate_log,
        &run_context(config, info),
    );
    let mut evidence = config.sink.evidence.then(|| Evidence {
        iq: with_reread(
            IqEvidenceRecorder::new(
                out,
                IqStream {
                    site: site.to_string(),
                    recording: info.name.clone(),
                    sample_rate: info.sample_rate,
                    start_time: Some(start_time),
                    datatype: info.datatype,
                },
                config.sink.iq_limits,
            ),
            reread,
        ),
        spectro: SpectrogramRecorder::new(config.sink.capture_limits),
        overview: Overview::default(),
    });
    let mut summary = WatchSummary::default();
    let mut live = Status::default();
    let mut last_status = Instant::now();
    let mut active = std::collections::BTreeSet::new();
    let mut next_floor_log = 0.0;
    let mut tap = config.sink.tap.clone();
    let mut acks = tap.as_ref().map(|t| t.acks().clone());
    loop {
        let item = match next(&items, &mut acks) {
            Next::Item(item) => item,
            Next::End => break,
            Next::Ack(request) => {
                acknowledge(request, log.as_mut(), &summary, tap.as_ref());
                continue;
            }
            Next::Idle => {
                // No samples for a while (a stalled receiver): the tap still
                // hears how things stand, with the sample count standing still.
                if let Some(t) = tap.as_ref() {
                    t.health(&live);
                }
                continue;
            }
        };
        // Events held while the log failed go in as soon as it takes them,
        // whether or not new alerts come.
        if let Some(outcome) = log.as_mut().and_then(|l| {
            let now = Instant::now();
            l.retry(now).or_else(|| l.tick(now))
        }) {
            say_log_outcome(&log_path, outcome);
        }
        // The alert log has priority over evidence: while it holds events
        // it could not write (a full disk), evidence stops and gives its
        // space back, so that what frees up goes to the log first.
        let log_behind = log.as_ref().is_some_and(|l| l.held() > 0);
        if let Some(ev) = evidence.as_mut() {
            match log_behind {
                true => {
                    ev.iq.suspend(LOG_FIRST);
                    // Held events must not name the snippets just dropped.
                    if let Some(l) = log.as_mut() {
                        l.amend_held(|e| note_dropped_iq(e, &ev.iq));
                    }
                }
                false => ev.iq.resume(),
            }
        }
        match item {
            SinkItem::Block(b) => {
                summary.samples += b.samples.len() as u64;
                summary.nonfinite_samples += b.nonfinite as u64;
                match evidence.as_mut() {
                    Some(ev) => ev.iq.push_block(b, |buf| pool.put(buf)),
                    None => pool.put(b.samples),
                }
            }
            SinkItem::Frame(f) => {
                summary.frames += 1;
                live.noise_floor_dbfs = crate::profile::learn::median(&f.mean_dbfs);
                live.seconds = f.end_sample() as f64 / info.sample_rate;
                if live.seconds >= next_floor_log {
                    next_floor_log = live.seconds + FLOOR_LOG_EVERY_S;
                    tracing::debug!(
                        "signal t={:.1}s floor {:.1} dBFS",
                        live.seconds,
                        live.noise_floor_dbfs
                    );
                }
                if let Some(ev) = evidence.as_mut() {
                    ev.spectro.push_frame(&f);
                    ev.overview.push_frame(&f);
                }
                if let Some(t) = tap.as_mut() {
                    t.frame(&f);
                }
            }
            SinkItem::Gap(g) => {
                summary.gaps += 1;
                summary.lost_samples += g.lost_samples;
            }
            SinkItem::Alert(mut e) => {
                match e.event {
                    EventType::Raised => {
                        active.insert(e.id.clone());
                    }
                    EventType::Cleared => {
                        active.remove(&e.id);
                    }
                    EventType::Updated | EventType::Acknowledged => {}
                }
                // A monitoring gap has no samples to keep, and recording the
                // stream around it would add disk and drawing work just when
                // the pipeline is behind; the overview picture marks gaps.
                let wants_evidence = e.kind != AlertKind::MonitoringGap;
                if let Some(ev) = evidence.as_mut().filter(|_| wants_evidence) {
                    e.evidence.iq = ev.iq.on_alert(&e);
                    note_dropped_iq(&mut e, &ev.iq);
                    if let Some(rows) = ev.spectro.on_alert(&e) {
                        e.evidence.spectrogram = match log_behind {
                            false => draw_alert(out, site, &config.profile, &rows),
                            true => None,
                        };
                        // The line that names the picture binds it.
                        e.evidence.spectrogram_sha256 = e
                            .evidence
                            .spectrogram
                            .as_deref()
                            .and_then(|rel| hash_evidence(out, rel))
                            .and_then(|h| h.sha256);
                        if e.evidence.spectrogram.is_none() {
                            let why = match log_behind {
                                true => LOG_FIRST,
                                false => "could not be drawn (see the warning on stderr)",
                            };
                            e.details.insert("spectrogram_dropped".into(), why.into());
                        }
                    }
                }
                report(&e, config.sink.echo_alerts);
                if let Some(l) = log.as_mut() {
                    let outcome = l.write(&e, Instant::now());
                    say_log_outcome(l.path(), outcome);
                }
                if let Some(t) = tap.as_ref() {
                    t.alert(&e);
                }
                summary.record(&e);
            }
        }
        if let Some(ev) = evidence.as_mut() {
            bind_snippets(log.as_mut(), out, &mut ev.iq);
        }
        if (status.is_some() || tap.is_some()) && last_status.elapsed() >= HEALTH_EVERY {
            last_status = Instant::now();
            live.samples = summary.samples;
            live.rate_sps = summary.samples as f64 / started.elapsed().as_secs_f64().max(1e-9);
            live.gaps = summary.gaps;
            live.lost_samples = summary.lost_samples;
            live.active_alerts = active.len();
            live.total_alerts = summary.total_alerts();
            if let Some(cb) = status.as_mut() {
                cb(&live);
            }
            if let Some(t) = tap.as_ref() {
                t.health(&live);
            }
        }
    }
    if let Some(mut ev) = evidence {
        // Alerts still open at the end of the stream were cleared by the
        // tracker already; anything the recorder still holds is drawn now.
        for rows in ev.spectro.finish_all() {
            if let Some(rel) = draw_alert(out, site, &config.profile, &rows) {
                bind(log.as_mut(), Some(&rows.event.id), &[rel]);
            }
        }
        let stats = ev.iq.finish_all(|buf| pool.put(buf));
        bind_snippets(log.as_mut(), out, &mut ev.iq);
        summary.evidence_dropped = (stats.alerts_without_evidence + stats.write_failures) as u64;
        let stem = crate::evidence::file_stem(&crate::iq::recording_stem(&info.name));
        let rel = format!("overview-{stem}.png");
        let picture = OverviewPicture {
            site,
            recording: &info.name,
            overview: &ev.overview,
            alerts: &summary.alert_list,
            start_time: Some(start_time),
        };
        match render_overview_png(&out.join(&rel), &picture) {
            Ok(_) => {
                bind(log.as_mut(), None, std::slice::from_ref(&rel));
                summary.overview_png = Some(rel);
            }
            Err(e) => tracing::warn!("cannot draw the overview picture: {e}"),
        }
    }
    summary.elapsed_s = started.elapsed().as_secs_f64();
    let reason = end_reason(config, info, summary.samples);
    summary.log_failed = finish_log(log.as_mut(), &reason);
    Ok(summary)
}

/// What the sink does next.
// Not boxed: an item passes here for every frame, and moving it is cheaper
// than allocating for it.
#[allow(clippy::large_enum_variant)]
enum Next {
    Item(SinkItem),
    Ack(AckRequest),
    /// Nothing arrived for [`HEALTH_EVERY`].
    Idle,
    /// The detect thread has ended.
    End,
}

/// The next stream item; with a tap (`acks`), also acknowledgements and
/// idle ticks. Without one, a plain receive (offline analysis pays nothing
/// for the tap). Once the consumer has gone, `acks` is never ready again.
fn next(items: &Receiver<SinkItem>, acks: &mut Option<Receiver<AckRequest>>) -> Next {
    let Some(ack_rx) = acks.as_ref() else {
        return items.recv().map_or(Next::End, Next::Item);
    };
    crossbeam_channel::select! {
        recv(items) -> item => item.map_or(Next::End, Next::Item),
        recv(ack_rx) -> ack => match ack {
            Ok(request) => Next::Ack(request),
            Err(_) => {
                *acks = Some(crossbeam_channel::never());
                Next::Idle
            }
        },
        default(HEALTH_EVERY) => Next::Idle,
    }
}

/// Write an operator's acknowledgement to the alert log, through the same
/// writer as every other event, and answer the request. Only alerts of this
/// run can be acknowledged; their latest state is copied into the event.
fn acknowledge(
    request: AckRequest,
    log: Option<&mut RetryingLog<AlertLog>>,
    summary: &WatchSummary,
    tap: Option<&Tap>,
) {
    let AckRequest { id, ack, reply } = request;
    let answer = match (summary.latest(&id), log) {
        (None, _) => AckReply::UnknownAlert,
        (Some(_), None) => AckReply::NoLog,
        (Some(latest), Some(l)) => {
            let event = ack.to_event(latest);
            let outcome = l.write(&event, Instant::now());
            let written = matches!(outcome, LogOutcome::Written | LogOutcome::Recovered { .. });
            say_log_outcome(l.path(), outcome);
            tracing::info!(id = %event.id, by = %ack.by, "alert acknowledged");
            if let Some(t) = tap {
                t.alert(&event);
            }
            match written {
                true => AckReply::Written(event),
                false => AckReply::Held(event),
            }
        }
    };
    let _ = reply.try_send(answer);
}

/// What the run's log start record names.
fn run_context(config: &WatchConfig, info: &SourceInfo) -> RunContext {
    let profile = config.sink.profile_path.as_deref().and_then(|p| {
        let (dir, name) = (p.parent().unwrap_or(Path::new("")), p.file_name()?);
        let mut hash = crate::custody::evidence::sha256_of(dir, &name.to_string_lossy()).ok()?;
        hash.path = p.display().to_string();
        Some(hash)
    });
    RunContext {
        key: config.sink.key.clone(),
        site: config.profile.site.name.clone(),
        source: info.name.clone(),
        command: config.sink.command.clone(),
        profile,
    }
}

/// Why the run ends, for its closing record.
fn end_reason(config: &WatchConfig, info: &SourceInfo, samples: u64) -> String {
    if info.total_samples.is_some_and(|n| samples >= n) {
        return "end of the recording".into();
    }
    let asked = config.sink.stop_reason.as_ref().and_then(|r| (r.0)());
    asked.unwrap_or_else(|| match info.total_samples {
        Some(_) => "the recording ended early (fewer samples than it announced)".into(),
        None => "the stream ended".into(),
    })
}

/// Hash an evidence file (`rel` to `out`) to bind it; `None`, with a warning, when it cannot be read.
fn hash_evidence(out: &Path, rel: &str) -> Option<FileHash> {
    crate::custody::evidence::sha256_of(out, rel)
        .map_err(|e| {
            tracing::warn!("{rel}: cannot hash this evidence file to bind it into the log: {e}")
        })
        .ok()
}

/// Bind finished IQ snippets into the log, one `custody.evidence` record each.
fn bind_snippets(log: Option<&mut RetryingLog<AlertLog>>, out: &Path, iq: &mut IqEvidenceRecorder) {
    let finished = iq.take_finished();
    let Some(log) = log.filter(|l| l.is_chained()) else {
        return; // nothing to bind the files into: no hashing either
    };
    for (id, rel) in finished {
        match crate::custody::evidence::sigmf_pair(out, &rel) {
            Ok(files) => write_evidence(log, Some(&id), files),
            Err(e) => {
                tracing::warn!("{rel}: cannot hash this IQ evidence to bind it into the log: {e}")
            }
        }
    }
}

/// Bind evidence files written after the line naming them (pictures drawn at
/// the end) into the log.
fn bind(log: Option<&mut RetryingLog<AlertLog>>, id: Option<&str>, rels: &[String]) {
    let Some(log) = log.filter(|l| l.is_chained()) else {
        return;
    };
    let out = log.path().parent().unwrap_or(Path::new("")).to_path_buf();
    let files: Vec<FileHash> = rels.iter().filter_map(|r| hash_evidence(&out, r)).collect();
    if !files.is_empty() {
        write_evidence(log, id, files);
    }
}

fn write_evidence(log: &mut RetryingLog<AlertLog>, id: Option<&str>, files: Vec<FileHash>) {
    let record = Record::Evidence(EvidenceRecord {
        id: id.map(str::to_string),
        files,
        bound_at_restart: false,
    });
    let entry = LogEntry::other(&record).expect("custody records are JSON objects with an event");
    let outcome = log.write_entry(entry, Instant::now());
    say_log_outcome(log.path(), outcome);
}

/// A recorder that reads pre-trigger samples back from `reread`, when there is one.
fn with_reread(
    iq: IqEvidenceRecorder,
    reread: Option<Box<dyn crate::iq::IqReader>>,
) -> IqEvidenceRecorder {
    match reread {
        Some(reader) => iq.with_reread(reader),
        None => iq,
    }
}

/// Open the run's alert log: a fresh one, or the existing one to append to
/// (then alerts an earlier run left open are cleared first). `None`, said
/// clearly, when it cannot be opened: alerts then reach the terminal only.
fn open_log(log_path: &Path, truncate: bool, ctx: &RunContext) -> Option<RetryingLog<AlertLog>> {
    let opened = AlertLog::open(log_path, ctx, truncate);
    let mut opened_log = match opened {
        Ok(l) => Some(l),
        Err(e) => {
            tracing::error!("cannot write the alert log: {e}; alerts go to the terminal only");
            eprintln!("rfsentry: {e}: alerts go to the terminal only");
            None
        }
    };
    if let Some(log) = opened_log.as_mut().filter(|_| !truncate) {
        match log.close_left_open() {
            Ok(ids) if !ids.is_empty() => tracing::warn!(
                "{}: cleared {} alert(s) an earlier run left open (it stopped without clearing them): {}",
                log_path.display(),
                ids.len(),
                ids.join(", ")
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!("cannot clear alerts an earlier run left open: {e}"),
        }
    }
    opened_log.map(|l| RetryingLog::new(l, MAX_HELD_EVENTS, LOG_RETRY_EVERY))
}

/// Last attempt at the events the log has not taken, then the run's closing
/// record (`reason`); returns whether the log on disk is incomplete (then
/// the events left are printed to stderr).
fn finish_log(log: Option<&mut RetryingLog<AlertLog>>, reason: &str) -> bool {
    let Some(l) = log else {
        return true;
    };
    match l.close(reason) {
        Ok(_) if l.dropped() == 0 => false,
        Ok(_) => {
            eprintln!(
                "rfsentry: {}: {} alert event(s) were given up (updates first) while the log could not be written",
                l.path().display(),
                l.dropped()
            );
            true
        }
        Err(e) => {
            // The record must survive somewhere: the events themselves,
            // as the log's lines, on stderr.
            eprintln!(
                "rfsentry: {e}: {} alert event(s) could not be written to the log; here they are, one JSON line each:",
                l.held()
            );
            for event in l.held_events() {
                eprintln!("{}", event.to_json());
            }
            true
        }
    }
}

/// Tell the operator when the alert log starts failing or takes held events again.
fn say_log_outcome(path: &Path, outcome: LogOutcome) {
    match outcome {
        LogOutcome::Written | LogOutcome::Held => {}
        LogOutcome::Failed(err) => {
            tracing::error!(
                "cannot append to the alert log: {err}; events are held until it takes them again"
            );
            eprintln!("rfsentry: {err}: alert events are held in memory and written as soon as the log takes them again");
        }
        LogOutcome::Recovered { written } => {
            tracing::warn!(
                "{}: writable again; {written} held alert event(s) written",
                path.display()
            );
            eprintln!(
                "rfsentry: {}: writable again; {written} held alert event(s) written",
                path.display()
            );
        }
    }
}

/// An event whose IQ snippet was dropped unfinished names no IQ file, and
/// says why instead.
fn note_dropped_iq(e: &mut AlertEvent, iq: &IqEvidenceRecorder) {
    if let Some(why) = iq.dropped_reason(&e.id) {
        e.evidence.iq = None;
        e.details.insert("iq_evidence_dropped".into(), why.into());
    }
}

/// Draw an alert's spectrogram; returns its path relative to `out`, or `None`
/// (with a warning) when it could not be written.
fn draw_alert(out: &Path, site: &str, profile: &Profile, rows: &AlertRows) -> Option<String> {
    let rel = spectrogram_rel_path(&rows.event.id);
    let baseline = profile
        .segment_for(rows.center_hz)
        .map(|(_, s)| Baseline::from(s));
    match render_alert_png(&out.join(&rel), &rows.picture(site, baseline)) {
        Ok(_) => Some(rel),
        Err(e) => {
            tracing::warn!("alert {}: cannot draw its spectrogram: {e}", rows.event.id);
            None
        }
    }
}

/// Log an alert event for operators (and echo raised/cleared ones to the terminal).
fn report(e: &AlertEvent, echo: bool) {
    tracing::info!(id = %e.id, kind = %e.kind, event = ?e.event, center_mhz = e.center_hz / 1e6, excess_db = e.excess_db, "alert");
    if echo && e.event != EventType::Updated {
        use std::io::IsTerminal;
        // On a terminal, first wipe the live status line this message replaces.
        let wipe = if std::io::stderr().is_terminal() {
            "\r\x1b[K"
        } else {
            ""
        };
        eprintln!(
            "{wipe}{:<8} {:<21} {:<12} {:>10.4} MHz  {:+6.1} dB  {}",
            format!("{:?}", e.event).to_lowercase(),
            e.kind.name(),
            e.id,
            e.center_hz / 1e6,
            e.excess_db,
            e.start
        );
    }
}
