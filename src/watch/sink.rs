//! The sink thread: writes every alert event to the alert log (and, when
//! asked, echoes it to the terminal), keeps the run's summary, calls the live
//! status callback, and recycles IQ buffers.
//!
//! Output failures (a full disk, an unwritable directory) are reported once,
//! clearly, and do not stop monitoring: alerts keep reaching the terminal and
//! the tracing log.

use super::detect_stage::SinkItem;
use super::summary::WatchSummary;
use super::WatchConfig;
use crate::alert::log::AlertLog;
use crate::alert::AlertEvent;
use crate::source::{BufferPool, SourceInfo};
use crate::Result;
use chrono::{DateTime, Utc};
use crossbeam_channel::Receiver;
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
}

impl Default for SinkOptions {
    fn default() -> Self {
        SinkOptions {
            truncate_log: true,
            echo_alerts: false,
        }
    }
}

/// Run the sink until the detect thread ends.
pub fn run(
    items: Receiver<SinkItem>,
    config: &WatchConfig,
    info: &SourceInfo,
    _start_time: DateTime<Utc>,
    pool: BufferPool,
    mut status: Option<StatusFn>,
) -> Result<WatchSummary> {
    let started = Instant::now();
    let log_path = config.out_dir.join("alerts.jsonl");
    let mut log = match if config.sink.truncate_log {
        AlertLog::create(&log_path)
    } else {
        AlertLog::append(&log_path)
    } {
        Ok(l) => Some(l),
        Err(e) => {
            tracing::error!("cannot write the alert log: {e}; alerts go to the terminal only");
            None
        }
    };
    let mut summary = WatchSummary::default();
    let mut live = Status::default();
    let mut last_status = Instant::now();
    let mut active = std::collections::BTreeSet::new();
    for item in items {
        match item {
            SinkItem::Block(b) => {
                summary.samples += b.samples.len() as u64;
                pool.put(b.samples);
            }
            SinkItem::Frame(f) => {
                summary.frames += 1;
                live.noise_floor_dbfs = crate::profile::learn::median(&f.mean_dbfs);
                live.seconds = f.end_sample() as f64 / info.sample_rate;
            }
            SinkItem::Gap(g) => {
                summary.gaps += 1;
                summary.lost_samples += g.lost_samples;
            }
            SinkItem::Alert(e) => {
                match e.event {
                    crate::alert::EventType::Raised => {
                        active.insert(e.id.clone());
                    }
                    crate::alert::EventType::Cleared => {
                        active.remove(&e.id);
                    }
                    _ => {}
                }
                report(&e, config.sink.echo_alerts);
                if let Some(l) = log.as_mut() {
                    if let Err(err) = l.write(&e) {
                        tracing::error!("cannot append to the alert log: {err}; alerts go to the terminal only from now on");
                        eprintln!("rfsentry: {err}: alerts are no longer written to disk");
                        log = None;
                    }
                }
                summary.record(&e);
            }
        }
        if let Some(cb) = status.as_mut() {
            if last_status.elapsed() >= Duration::from_millis(500) {
                last_status = Instant::now();
                live.samples = summary.samples;
                live.rate_sps = summary.samples as f64 / started.elapsed().as_secs_f64().max(1e-9);
                live.gaps = summary.gaps;
                live.lost_samples = summary.lost_samples;
                live.active_alerts = active.len();
                live.total_alerts = summary.total_alerts();
                cb(&live);
            }
        }
    }
    summary.elapsed_s = started.elapsed().as_secs_f64();
    if log.is_none() {
        summary.log_failed = true;
    }
    Ok(summary)
}

/// Log an alert event for operators (and echo raised/cleared ones to the terminal).
fn report(e: &AlertEvent, echo: bool) {
    tracing::info!(id = %e.id, kind = %e.kind, event = ?e.event, center_mhz = e.center_hz / 1e6, excess_db = e.excess_db, "alert");
    if echo && e.event != crate::alert::EventType::Updated {
        eprintln!(
            "\r\x1b[K{:<8} {:<21} {:<12} {:>10.4} MHz  {:+6.1} dB  {}",
            format!("{:?}", e.event).to_lowercase(),
            e.kind.name(),
            e.id,
            e.center_hz / 1e6,
            e.excess_db,
            e.start
        );
    }
}
