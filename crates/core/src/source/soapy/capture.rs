//! The capture loop of a [`SoapySource`]: read the device into pooled
//! buffers, follow the scan plan, and turn every fault into a gap while
//! keeping the sample index true.
//!
//! - A read returns samples: they fill the current block (or are discarded
//!   while the tuner settles). Full blocks, and partial blocks before a gap
//!   or a retune, go out through the [`Outbox`], which never blocks.
//! - `Overflow`: the driver lost samples. Lost = what the wall clock says
//!   should have arrived since the last anchor minus what did, at least 1.
//! - `Timeout` (or an empty read) for longer than [`STALL_GAP`]: a stall,
//!   reported as [`GapCause::Timeout`] gaps of wall-clock time × rate, the
//!   first at once and then every [`HOLE_REPORT_EVERY`] until samples flow
//!   again. A stall longer than [`STALL_REOPEN`] is treated as a disconnect.
//! - Any other read error (or a failed retune): the device is gone. The
//!   stream and device are released, [`GapCause::Disconnected`] gaps are
//!   reported the same way, and the device is reopened with back-off
//!   (0.1 s doubling to 2 s; the back-off is reset only once samples flow
//!   again, so a device that opens but keeps failing is not hammered) until
//!   it comes back; streaming then resumes at the current tuning after settling.
//! - Settling samples are discarded and advance the index. After a retune the
//!   new segment explains the jump; inside a hole (a reopened device settling)
//!   they are reported as part of the hole's gap.
//!
//! Every wait is at most [`POLL`] (reads time out after 100 ms), so `stop`
//! ends the loop promptly in every state. Driver calls that have no timeout
//! and may hang on a sick device — reopening it (`Device::new`, tune,
//! activate) and releasing a lost one (stream and device drop) — run on a
//! helper thread while this loop keeps polling `stop`: a stuck call holds
//! only its helper, which is left behind when the run ends, never the process.

use super::device::Receiver;
use super::outbox::Outbox;
use super::scan::Schedule;
use super::{DeviceConfig, SoapySource};
use crate::iq::datatype::zero_nonfinite;
use crate::iq::Sample;
use crate::source::{BufferPool, Gap, GapCause, IqBlock, SourceContext};
use crate::Result;
use soapysdr::ErrorCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest a single read waits for samples.
const READ_TIMEOUT_US: i64 = 100_000;
/// Longest any wait lasts before `stop` is checked again.
const POLL: Duration = Duration::from_millis(100);
/// A device silent for longer than this is reported as a timeout gap.
pub(super) const STALL_GAP: Duration = Duration::from_millis(500);
/// A device silent for longer than this is considered gone and reopened.
pub(super) const STALL_REOPEN: Duration = Duration::from_secs(5);
/// While samples are missing, a gap message goes out this often.
pub(super) const HOLE_REPORT_EVERY: Duration = Duration::from_secs(1);
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// How long stopping waits for the device to be released before leaving it to its helper thread.
const RELEASE_WAIT: Duration = Duration::from_millis(500);
/// Repeated overflow warnings are at most this frequent.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// Run the capture loop until `ctx.stop` is set or the receiver of `ctx.out` is gone.
pub(super) fn run(source: SoapySource, ctx: SourceContext) -> Result<()> {
    let SoapySource {
        config,
        sample_rate,
        plan,
        receiver,
        started,
        ..
    } = source;
    let mut schedule = Schedule::new(plan, sample_rate, config.settle_s);
    schedule.start(0);
    let mut capture = Capture {
        rate: sample_rate,
        rx: Some(receiver),
        lost: None,
        reopening: None,
        schedule,
        outbox: Outbox::new(ctx.out, ctx.pool.clone()),
        pool: ctx.pool,
        stop: ctx.stop,
        index: 0,
        block: None,
        anchor: (started, 0),
        last_data: started,
        hole: None,
        backoff: BACKOFF_FIRST,
        next_attempt: started,
        failed_opens: 0,
        overflows: 0,
        last_overflow_warn: None,
        warned_nonfinite: false,
        config,
    };
    capture.run();
    Ok(())
}

/// Release receivers (stream, then device) on a helper thread, waiting at
/// most [`RELEASE_WAIT`]: a driver that hangs in its close holds only that thread.
fn release(rx: Option<Receiver>, lost: Option<Receiver>, args: &str) {
    if rx.is_none() && lost.is_none() {
        return;
    }
    let (done_tx, done) = crossbeam_channel::bounded::<()>(1);
    let spawned = std::thread::Builder::new()
        .name("rfsentry-release".into())
        .spawn(move || {
            drop((rx, lost));
            let _ = done_tx.send(());
        });
    if spawned.is_ok() && done.recv_timeout(RELEASE_WAIT).is_err() {
        tracing::warn!(
            args,
            "the device did not close within {} ms; leaving it to its thread",
            RELEASE_WAIT.as_millis()
        );
    }
}

/// A stretch of missing samples still being reported (stall or disconnect).
struct Hole {
    cause: GapCause,
    /// When the last samples arrived before it.
    since: Instant,
    /// Samples reported in gaps so far.
    reported: u64,
    last_report: Option<Instant>,
}

/// The block being filled.
struct Partial {
    buf: Vec<Sample>,
    filled: usize,
    start: u64,
    nonfinite: usize,
}

struct Capture {
    config: DeviceConfig,
    rate: f64,
    /// The open receiver; `None` while the device is gone.
    rx: Option<Receiver>,
    /// A receiver that failed, not yet released (the next reopen releases it first, on its helper thread).
    lost: Option<Receiver>,
    /// A reopen running on a helper thread: its result arrives here.
    reopening: Option<crossbeam_channel::Receiver<Result<Receiver>>>,
    schedule: Schedule,
    outbox: Outbox,
    pool: BufferPool,
    stop: Arc<AtomicBool>,
    /// Index of the next sample (received, discarded or lost).
    index: u64,
    block: Option<Partial>,
    /// Wall-clock time at which sample `anchor.1` was expected: the reference for overflow estimates.
    anchor: (Instant, u64),
    last_data: Instant,
    hole: Option<Hole>,
    backoff: Duration,
    next_attempt: Instant,
    failed_opens: u32,
    overflows: u64,
    last_overflow_warn: Option<Instant>,
    /// NaN/Inf samples from the device were reported (once per run).
    warned_nonfinite: bool,
}

impl Capture {
    fn run(&mut self) {
        while !self.stop.load(Ordering::Relaxed) && !self.outbox.closed() {
            self.outbox.flush();
            let now = Instant::now();
            if self.rx.is_none() {
                self.report_hole(now);
                if self.reopening.is_some() {
                    self.poll_reopen();
                } else if now >= self.next_attempt {
                    self.start_reopen();
                } else {
                    std::thread::sleep((self.next_attempt - now).min(POLL));
                }
            } else if self.schedule.remaining(self.index) == 0 {
                self.retune(now);
            } else {
                self.read_once();
            }
        }
        self.finish();
    }

    /// Read once into the current block (or discard while settling) and handle the outcome.
    fn read_once(&mut self) {
        let settling = self.schedule.settling(self.index);
        if settling > 0 && self.block.as_ref().is_some_and(|p| p.filled > 0) {
            self.flush_block();
        }
        let block_len = self.config.block_len;
        let pool = &self.pool;
        let part = self.block.get_or_insert_with(|| {
            let mut buf = pool.get();
            buf.resize(block_len, Sample::default());
            Partial {
                buf,
                filled: 0,
                start: 0,
                nonfinite: 0,
            }
        });
        let (lo, want) = if settling > 0 {
            (0, settling.min(block_len as u64) as usize)
        } else {
            let room = (block_len - part.filled) as u64;
            let want = room.min(self.schedule.remaining(self.index));
            (part.filled, want as usize)
        };
        let Some(rx) = self.rx.as_mut() else { return };
        let result = rx.read(&mut part.buf[lo..lo + want], READ_TIMEOUT_US);
        let now = Instant::now();
        match result {
            Ok(0) => self.on_timeout(now),
            Ok(n) => {
                self.last_data = now;
                if settling > 0 && self.hole.is_some() {
                    // Settling after a reopen (or a retune during a stall):
                    // part of the hole, so the index never jumps unexplained.
                    self.hole_settled(n as u64);
                    return;
                }
                self.end_hole(now);
                if settling == 0 {
                    let Some(part) = self.block.as_mut() else {
                        return;
                    };
                    if part.filled == 0 {
                        part.start = self.index;
                    }
                    let nonfinite = zero_nonfinite(&mut part.buf[lo..lo + n]);
                    if nonfinite > 0 && !self.warned_nonfinite {
                        self.warned_nonfinite = true;
                        tracing::warn!(
                            args = %self.config.args,
                            sample = self.index,
                            "the device delivered NaN or infinite samples: they are replaced by 0 and counted in the summary"
                        );
                    }
                    part.nonfinite += nonfinite;
                    part.filled += n;
                    if part.filled == block_len {
                        self.index += n as u64;
                        self.flush_block();
                        return;
                    }
                }
                self.index += n as u64;
            }
            Err(e) if e.code == ErrorCode::Timeout => self.on_timeout(now),
            Err(e) if e.code == ErrorCode::Overflow => self.on_overflow(now),
            Err(e) => self.disconnect(now, &format!("read failed: {e}")),
        }
    }

    /// The dwell is over: move to the next tuning.
    fn retune(&mut self, now: Instant) {
        self.flush_block();
        let center = self.schedule.advance(self.index);
        tracing::debug!(segment = self.schedule.segment(), center, "retune");
        let result = match &self.rx {
            Some(rx) => rx.tune(center),
            None => return,
        };
        if let Err(e) = result {
            self.disconnect(now, &e.to_string());
        }
    }

    fn on_timeout(&mut self, now: Instant) {
        let silent = now.saturating_duration_since(self.last_data);
        if self.hole.is_none() {
            if silent < STALL_GAP {
                return;
            }
            tracing::warn!(
                args = %self.config.args,
                silent_s = silent.as_secs_f64(),
                "device stalled: no samples (monitoring gap)"
            );
            self.hole = Some(Hole {
                cause: GapCause::Timeout,
                since: self.last_data,
                reported: 0,
                last_report: None,
            });
        }
        self.report_hole(now);
        if silent >= STALL_REOPEN {
            self.disconnect(now, "no samples for 5 s");
        }
    }

    fn on_overflow(&mut self, now: Instant) {
        self.end_hole(now);
        let (t0, i0) = self.anchor;
        let expected = i0 + (now.saturating_duration_since(t0).as_secs_f64() * self.rate) as u64;
        let lost = expected.saturating_sub(self.index).max(1);
        self.gap(GapCause::Overflow, lost);
        self.anchor = (now, self.index);
        self.last_data = now;
        self.overflows += 1;
        if self
            .last_overflow_warn
            .map_or(true, |t| now.saturating_duration_since(t) >= WARN_EVERY)
        {
            self.last_overflow_warn = Some(now);
            tracing::warn!(
                args = %self.config.args,
                lost_samples = lost,
                overflows = self.overflows,
                "device overflow: samples lost (monitoring gap)"
            );
        }
    }

    /// The device is gone: release it, report the gap, and schedule a reopen.
    fn disconnect(&mut self, now: Instant, reason: &str) {
        self.flush_block();
        // Released by the next reopen, on its helper thread (dropping a
        // stream of a sick device may hang).
        if let Some(rx) = self.rx.take() {
            self.lost = Some(rx);
        }
        // Reopened, but failed again before delivering anything: already reported.
        let again = matches!(&self.hole, Some(h) if h.cause == GapCause::Disconnected);
        match &mut self.hole {
            Some(hole) => hole.cause = GapCause::Disconnected,
            None => {
                self.hole = Some(Hole {
                    cause: GapCause::Disconnected,
                    since: self.last_data,
                    reported: 0,
                    last_report: None,
                })
            }
        }
        if again {
            tracing::debug!(args = %self.config.args, reason, "device failed again; reopening");
        } else {
            tracing::warn!(args = %self.config.args, reason, "device lost; reopening (monitoring gap)");
        }
        self.emit_hole(now);
        self.schedule_reopen(now);
    }

    /// Try again after the current back-off, and back off further.
    fn schedule_reopen(&mut self, now: Instant) {
        self.next_attempt = now + self.backoff;
        self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
    }

    /// Start reopening the device on a helper thread: release the lost
    /// receiver, open, tune and activate. Its result is collected by
    /// [`Capture::poll_reopen`].
    fn start_reopen(&mut self) {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let lost = self.lost.take();
        let (config, rate, center) = (self.config.clone(), self.rate, self.schedule.center_hz());
        let spawned = std::thread::Builder::new()
            .name("rfsentry-reopen".into())
            .spawn(move || {
                drop(lost);
                let attempt = || -> Result<Receiver> {
                    let mut rx = Receiver::open(&config, rate, &[center])?;
                    rx.tune(center)?;
                    rx.activate()?;
                    Ok(rx)
                };
                // Nobody waits any more when the run ended meanwhile: the receiver is dropped here.
                let _ = tx.send(attempt());
            });
        match spawned {
            Ok(_) => self.reopening = Some(rx),
            Err(e) => {
                tracing::warn!(error = %e, "cannot start a thread to reopen the device");
                self.schedule_reopen(Instant::now());
            }
        }
    }

    /// Wait at most [`POLL`] for the reopen in progress, and take its result.
    fn poll_reopen(&mut self) {
        let Some(pending) = &self.reopening else {
            return;
        };
        let result = match pending.recv_timeout(POLL) {
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => return,
            Ok(result) => result,
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => Err(crate::Error::device(
                &self.config.args,
                "reopen",
                "the reopen thread ended without a result",
            )),
        };
        self.reopening = None;
        match result {
            Ok(rx) => {
                tracing::info!(
                    args = %self.config.args,
                    failed_attempts = self.failed_opens,
                    "device reopened"
                );
                self.rx = Some(rx);
                self.schedule.resettle(self.index);
                self.last_data = Instant::now();
                self.failed_opens = 0;
            }
            Err(e) => {
                self.failed_opens += 1;
                if self.failed_opens <= 3 || self.failed_opens % 30 == 0 {
                    tracing::warn!(attempts = self.failed_opens, error = %e, "device still absent");
                } else {
                    tracing::debug!(attempts = self.failed_opens, error = %e, "device still absent");
                }
                self.schedule_reopen(Instant::now());
            }
        }
    }

    /// Report the current hole if it has not been reported for a while.
    fn report_hole(&mut self, now: Instant) {
        let due = match &self.hole {
            Some(hole) => hole.last_report.map_or(true, |t| {
                now.saturating_duration_since(t) >= HOLE_REPORT_EVERY
            }),
            None => false,
        };
        if due {
            self.emit_hole(now);
        }
    }

    /// Report the current hole's samples missing up to `now` as a gap.
    fn emit_hole(&mut self, now: Instant) {
        let Some(hole) = self.hole.as_mut() else {
            return;
        };
        let total =
            (now.saturating_duration_since(hole.since).as_secs_f64() * self.rate).ceil() as u64;
        let total = if hole.reported == 0 {
            total.max(1)
        } else {
            total
        };
        let lost = total.saturating_sub(hole.reported);
        hole.reported += lost;
        hole.last_report = Some(now);
        let cause = hole.cause.clone();
        self.gap(cause, lost);
    }

    /// `n` samples arrived but were discarded while settling inside a hole:
    /// report them with the hole (and count them, so they are not reported twice).
    fn hole_settled(&mut self, n: u64) {
        let Some(hole) = self.hole.as_mut() else {
            return;
        };
        hole.reported += n;
        let cause = hole.cause.clone();
        self.gap(cause, n);
    }

    /// Samples flow again: close the hole.
    fn end_hole(&mut self, now: Instant) {
        if self.hole.is_none() {
            return;
        }
        // A hole's first report flushed the block, and samples end the hole,
        // so no samples wait in the block while a hole is open.
        debug_assert!(self.block.as_ref().map_or(true, |p| p.filled == 0));
        self.emit_hole(now);
        if let Some(hole) = self.hole.take() {
            tracing::info!(
                cause = hole.cause.name(),
                seconds = now.saturating_duration_since(hole.since).as_secs_f64(),
                lost_samples = hole.reported,
                "samples flowing again"
            );
        }
        self.anchor = (now, self.index);
        self.backoff = BACKOFF_FIRST;
    }

    /// Send `lost` missing samples at the current index as a gap (after the block before them).
    fn gap(&mut self, cause: GapCause, lost: u64) {
        if lost == 0 {
            return;
        }
        self.flush_block();
        self.outbox.send_gap(Gap {
            start_sample: self.index,
            lost_samples: lost,
            cause,
            segment: self.schedule.segment(),
            center_hz: self.schedule.center_hz(),
        });
        self.index += lost;
    }

    /// Send the samples collected so far as a block.
    fn flush_block(&mut self) {
        let Some(part) = self.block.take_if(|p| p.filled > 0) else {
            return;
        };
        let mut samples = part.buf;
        samples.truncate(part.filled);
        self.outbox.send_block(IqBlock {
            start_sample: part.start,
            samples,
            segment: self.schedule.segment(),
            center_hz: self.schedule.center_hz(),
            nonfinite: part.nonfinite,
        });
    }

    /// Stopping: send what is left (best effort, never blocking) and release the device.
    fn finish(&mut self) {
        let now = Instant::now();
        self.flush_block();
        if self.hole.is_some() {
            self.emit_hole(now);
        }
        self.outbox.flush();
        if self.reopening.take().is_some() {
            tracing::warn!(
                args = %self.config.args,
                "stopping while the device is being reopened: the reopen is left to finish (or hang) on its own thread"
            );
        }
        release(self.rx.take(), self.lost.take(), &self.config.args);
        tracing::info!(
            args = %self.config.args,
            samples = self.index,
            dropped_blocks = self.outbox.dropped_blocks,
            dropped_samples = self.outbox.dropped_samples,
            overflows = self.overflows,
            undelivered_gaps = self.outbox.queued(),
            "device source stopped"
        );
    }
}
