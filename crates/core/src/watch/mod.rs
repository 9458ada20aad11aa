//! Watching a stream against a baseline — what `analyze` (recordings, as fast
//! as possible) and `monitor` (a live receiver, or a recording replayed at
//! real time) share. It extends the pipeline with two threads:
//!
//! ```text
//! source → PSD → detect (detectors + alert tracker) → sink (alert log, evidence, status)
//! ```
//!
//! all joined by bounded channels, items in sample order.

pub mod detect_stage;
pub mod sink;
pub mod summary;
pub mod tap;

use crate::pipeline::{self, PipelineSettings};
use crate::profile::Profile;
use crate::source::Source;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

pub use sink::{SinkOptions, Status, StatusFn, StopReason};
pub use summary::WatchSummary;
pub use tap::{tap, AckReply, AckRequest, Observed, SpectrumRow, Tap, TapEnd};

/// What a watch run needs besides its source.
pub struct WatchConfig {
    pub profile: Profile,
    /// Directory for `alerts.jsonl` and evidence.
    pub out_dir: PathBuf,
    /// Prefix of alert ids (e.g. the site name and a run stamp).
    pub id_prefix: String,
    /// First alert number (to continue numbering across recordings).
    pub first_id: u64,
    /// Time of sample 0 when the source does not know it.
    pub fallback_start: DateTime<Utc>,
    pub sink: SinkOptions,
    pub pipeline: PipelineSettings,
}

/// Run `source` through the detectors until it ends or `stop` is set.
pub fn watch(
    mut source: Box<dyn Source>,
    config: WatchConfig,
    stop: Arc<AtomicBool>,
    status: Option<StatusFn>,
) -> Result<WatchSummary> {
    let info = source.info();
    let reread = source.take_reread();
    for &f in &info.tunings {
        config
            .profile
            .check_fits(&info.name, info.sample_rate, f, &config.pipeline.psd)?;
    }
    let running = pipeline::start(source, &config.pipeline, stop)?;
    let start_time = info.start_time.unwrap_or(config.fallback_start);
    let tracker = crate::detect::Tracker::new(
        config.profile.thresholds.clone(),
        &config.profile.site.name,
        &info.name,
        &config.id_prefix,
        info.sample_rate,
        start_time,
    )
    .with_next_id(config.first_id)
    .with_time_basis(config.sink.time_basis.clone())
    .with_calibration(config.profile.calibration.as_ref().map(|c| c.dbm_at_0dbfs));
    let engine = crate::detect::DetectionEngine::new(config.profile.clone());
    let cap = config.pipeline.channel_capacity.max(1);
    let (sink_tx, sink_rx) = crossbeam_channel::bounded(cap);
    let items = running.items.clone();
    let detect = std::thread::Builder::new()
        .name("rfsentry-detect".into())
        .spawn(move || detect_stage::run(items, engine, tracker, sink_tx))
        .map_err(|e| Error::spawn("detect", e))?;
    let sink_result = sink::run(
        sink_rx,
        &config,
        &info,
        start_time,
        running.pool().clone(),
        status,
        reread,
    );
    // If the sink failed, stop the source so the other threads wind down.
    if sink_result.is_err() {
        running.stop();
    }
    let detect_result = detect
        .join()
        .unwrap_or_else(|_| Err(Error::panicked("detect")));
    let pipeline_result = running.join();
    let mut summary = sink_result?;
    summary.next_id = detect_result?;
    pipeline_result?;
    Ok(summary)
}
