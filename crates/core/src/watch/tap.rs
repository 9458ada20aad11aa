//! A tap on a watch run for live consumers — an operator console, notifiers,
//! a terminal screen — that can never slow monitoring down.
//!
//! The sink thread hands the tap what it sees; the consumer holds the other
//! end ([`TapEnd`]) on threads of its own:
//!
//! - **spectrum rows**: at most [`ROWS_PER_SECOND`] a second, each the latest
//!   frame decimated to at most [`MAX_COLUMNS`] columns (the max of the bins a
//!   column spans, so a narrow carrier stays visible). Lossy: a row the
//!   consumer has not taken yet is replaced, never waited for.
//! - **alert events**, in log order, as the log was given them (evidence paths
//!   included), and the `acknowledged` events written for the consumer; and
//!   **health** (the live [`Status`]) about twice a second, also while no
//!   samples arrive. Bounded: should the consumer stop taking them, events
//!   beyond [`MAX_QUEUED_EVENTS`] are counted ([`TapEnd::missed`]) and
//!   dropped — from the tap, never from the alert log.
//! - **acknowledgements** flow the other way: the consumer sends an
//!   [`AckRequest`], the sink writes it to the alert log through the same
//!   writer as every other event (so the log stays the one record) and
//!   replies.

use super::sink::Status;
use crate::alert::ack::Acknowledgement;
use crate::alert::AlertEvent;
use crate::dsp::PsdFrame;
use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Most columns in a spectrum row.
pub const MAX_COLUMNS: usize = 1024;
/// Most spectrum rows a second.
pub const ROWS_PER_SECOND: u32 = 10;
/// Alert and health events queued for a consumer that is behind.
pub const MAX_QUEUED_EVENTS: usize = 4096;
/// Acknowledgements waiting for the sink.
const MAX_QUEUED_ACKS: usize = 64;

/// One decimated spectrum, for a waterfall row and the live trace.
#[derive(Debug, Clone, PartialEq)]
pub struct SpectrumRow {
    /// Scan-plan segment (tuning index) of the frame.
    pub segment: usize,
    pub center_hz: f64,
    pub sample_rate: f64,
    /// Stream position (exclusive end sample) of the frame.
    pub end_sample: u64,
    /// The frame's bins (Welch average, dBFS) per column, lowest frequency first.
    pub bins_per_column: usize,
    /// dBFS per column: the max of the bins it spans.
    pub columns: Vec<f32>,
}

/// What flows to the consumer in order.
#[derive(Debug, Clone)]
pub enum Observed {
    /// An alert event as handed to the alert log (an `acknowledged` one too).
    Alert(Box<AlertEvent>),
    /// The run's live status.
    Health(Status),
}

/// A request to acknowledge alert `id`.
#[derive(Debug)]
pub struct AckRequest {
    pub id: String,
    pub ack: Acknowledgement,
    /// Where the sink answers (a bounded(1) channel is enough).
    pub reply: Sender<AckReply>,
}

/// What became of an [`AckRequest`].
#[derive(Debug, Clone, PartialEq)]
pub enum AckReply {
    /// The `acknowledged` event, written to the alert log.
    Written(AlertEvent),
    /// The log cannot be written now (a full disk): the event is held with
    /// the others and goes in as soon as it takes them again.
    Held(AlertEvent),
    /// No alert of this run has that id.
    UnknownAlert,
    /// This run has no alert log (it could not be opened): nothing can be recorded.
    NoLog,
}

/// The sink's end of the tap (cheap to clone; each clone rate-limits its rows on its own).
#[derive(Debug, Clone)]
pub struct Tap {
    rows: Sender<SpectrumRow>,
    /// The sink's own handle on the row queue, to replace an untaken row.
    rows_back: Receiver<SpectrumRow>,
    events: Sender<Observed>,
    missed: Arc<AtomicU64>,
    acks: Receiver<AckRequest>,
    last_row: Option<Instant>,
}

/// The consumer's end of the tap.
#[derive(Debug)]
pub struct TapEnd {
    pub rows: Receiver<SpectrumRow>,
    pub events: Receiver<Observed>,
    pub acks: Sender<AckRequest>,
    missed: Arc<AtomicU64>,
}

impl TapEnd {
    /// Events dropped from the tap because the consumer was behind.
    pub fn missed(&self) -> u64 {
        self.missed.load(Ordering::Relaxed)
    }
}

/// A new tap: give the [`Tap`] to the watch run (`SinkOptions::tap`), keep the [`TapEnd`].
pub fn tap() -> (Tap, TapEnd) {
    let (rows_tx, rows_rx) = bounded(1);
    let (events_tx, events_rx) = bounded(MAX_QUEUED_EVENTS);
    let (acks_tx, acks_rx) = bounded(MAX_QUEUED_ACKS);
    let missed = Arc::new(AtomicU64::new(0));
    (
        Tap {
            rows: rows_tx,
            rows_back: rows_rx.clone(),
            events: events_tx,
            missed: missed.clone(),
            acks: acks_rx,
            last_row: None,
        },
        TapEnd {
            rows: rows_rx,
            events: events_rx,
            acks: acks_tx,
            missed,
        },
    )
}

impl Tap {
    /// A frame was measured: passes a decimated row on when one is due
    /// (at most [`ROWS_PER_SECOND`] a second), replacing one not yet taken.
    pub fn frame(&mut self, frame: &PsdFrame) {
        let now = Instant::now();
        let every = Duration::from_secs(1) / ROWS_PER_SECOND;
        if self.last_row.is_some_and(|t| now.duration_since(t) < every) {
            return;
        }
        self.last_row = Some(now);
        let (columns, bins_per_column) = decimate_max(&frame.mean_dbfs, MAX_COLUMNS);
        let row = SpectrumRow {
            segment: frame.segment,
            center_hz: frame.center_hz,
            sample_rate: frame.sample_rate,
            end_sample: frame.end_sample(),
            bins_per_column,
            columns,
        };
        if let Err(TrySendError::Full(row)) = self.rows.try_send(row) {
            let _ = self.rows_back.try_recv();
            let _ = self.rows.try_send(row);
        }
    }

    /// An alert event went to the log (or was held for it).
    pub fn alert(&self, event: &AlertEvent) {
        self.send(Observed::Alert(Box::new(event.clone())));
    }

    /// The live status.
    pub fn health(&self, status: &Status) {
        self.send(Observed::Health(status.clone()));
    }

    /// Acknowledgements waiting to be written.
    pub fn acks(&self) -> &Receiver<AckRequest> {
        &self.acks
    }

    fn send(&self, what: Observed) {
        if let Err(TrySendError::Full(_)) = self.events.try_send(what) {
            self.missed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// `values` in at most `max_columns` columns, each the max of the
/// `per_column` consecutive values it spans (the last may span fewer);
/// returns the columns and `per_column`.
pub fn decimate_max(values: &[f32], max_columns: usize) -> (Vec<f32>, usize) {
    let per_column = values.len().div_ceil(max_columns.max(1)).max(1);
    let columns = values
        .chunks(per_column)
        .map(|c| c.iter().copied().fold(f32::NEG_INFINITY, f32::max))
        .collect();
    (columns, per_column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(bins: usize, segment: usize) -> PsdFrame {
        PsdFrame {
            segment,
            start_sample: 0,
            sample_count: 1000,
            center_hz: 1e8,
            sample_rate: 1e6,
            mean_dbfs: (0..bins).map(|i| -(i as f32)).collect(),
            max_dbfs: vec![0.0; bins],
            fft_power_dbfs: Vec::new(),
            clipped: 0,
            probe: Vec::new(),
        }
    }

    #[test]
    fn decimation_keeps_the_strongest_bin_of_each_column() {
        let (c, k) = decimate_max(&[1.0, 5.0, 2.0, -1.0, 7.0], 2);
        assert_eq!((c, k), (vec![5.0, 7.0], 3));
        let (c, k) = decimate_max(&[1.0, 2.0], 1024);
        assert_eq!((c, k), (vec![1.0, 2.0], 1));
        let (c, _) = decimate_max(&vec![0.0; 65536], MAX_COLUMNS);
        assert_eq!(c.len(), MAX_COLUMNS);
        let (c, k) = decimate_max(&vec![0.0; 1500], MAX_COLUMNS);
        assert_eq!((c.len(), k), (750, 2));
    }

    #[test]
    fn rows_are_rate_limited_and_an_untaken_row_is_replaced() {
        let (mut tap, end) = tap();
        tap.frame(&frame(4096, 0));
        // Due only after a tenth of a second: this one is skipped.
        tap.frame(&frame(4096, 1));
        let row = end.rows.try_recv().unwrap();
        assert_eq!(
            (row.segment, row.columns.len(), row.bins_per_column),
            (0, 1024, 4)
        );
        assert_eq!(row.columns[1], -4.0);
        assert!(end.rows.try_recv().is_err());
        // Not taken: the newer row replaces the older one, the sink never waits.
        tap.last_row = None;
        tap.frame(&frame(16, 1));
        tap.last_row = None;
        tap.frame(&frame(16, 2));
        assert_eq!(end.rows.try_recv().unwrap().segment, 2);
        assert!(end.rows.try_recv().is_err());
    }

    #[test]
    fn a_consumer_that_stops_taking_events_costs_the_sink_nothing() {
        let (tap, end) = tap();
        for _ in 0..MAX_QUEUED_EVENTS + 10 {
            tap.health(&Status::default());
        }
        assert_eq!(end.missed(), 10);
        drop(end);
        tap.health(&Status::default()); // no one listening: still returns at once
    }
}
