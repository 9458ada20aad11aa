//! Non-blocking delivery for a device source: everything goes out with
//! `try_send`, so the driver is never kept waiting by a slow pipeline.
//!
//! When the channel is full, a block is dropped (its buffer goes back to the
//! pool) and becomes a [`GapCause::Dropped`] gap. Gaps that cannot be sent
//! yet wait in order in a short queue; consecutive gaps of the same cause are
//! merged, so a run of dropped blocks becomes one gap message, sent when
//! there is room again. No block is sent while gaps wait, so messages leave
//! in sample order and the queued gaps are always contiguous.

use crate::source::{BufferPool, Gap, GapCause, IqBlock, SourceMsg};
use crossbeam_channel::{Sender, TrySendError};
use std::collections::VecDeque;

/// Queued gaps beyond this are merged into the last one, whatever their
/// cause or tuning (the last one then spans to the newest gap's end).
const MAX_QUEUED_GAPS: usize = 32;

/// The source's side of the output channel.
pub(super) struct Outbox {
    out: Sender<SourceMsg>,
    pool: BufferPool,
    queue: VecDeque<Gap>,
    closed: bool,
    /// Totals for the end-of-run summary.
    pub dropped_blocks: u64,
    pub dropped_samples: u64,
}

impl Outbox {
    pub fn new(out: Sender<SourceMsg>, pool: BufferPool) -> Outbox {
        Outbox {
            out,
            pool,
            queue: VecDeque::new(),
            closed: false,
            dropped_blocks: 0,
            dropped_samples: 0,
        }
    }

    /// The receiving side is gone: nobody wants more samples.
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// Send a block, or drop it (counted, reported as a gap) if it cannot go now.
    pub fn send_block(&mut self, block: IqBlock) {
        if self.closed {
            self.pool.put(block.samples);
            return;
        }
        if self.flush() {
            match self.out.try_send(SourceMsg::Block(block)) {
                Ok(()) => return,
                Err(TrySendError::Full(SourceMsg::Block(block))) => return self.drop_block(block),
                Err(TrySendError::Disconnected(msg)) => {
                    self.closed = true;
                    if let SourceMsg::Block(block) = msg {
                        self.pool.put(block.samples);
                    }
                    return;
                }
                Err(TrySendError::Full(SourceMsg::Gap(_))) => unreachable!("a block was sent"),
            }
        }
        self.drop_block(block)
    }

    /// Queue a gap and send what can be sent.
    pub fn send_gap(&mut self, gap: Gap) {
        if gap.lost_samples > 0 {
            self.queue(gap);
        }
        self.flush();
    }

    /// Send queued gaps while there is room; true when none are left waiting.
    pub fn flush(&mut self) -> bool {
        while let Some(gap) = self.queue.pop_front() {
            if self.closed {
                self.queue.clear();
                break;
            }
            let cause = gap.cause.clone();
            let lost = gap.lost_samples;
            match self.out.try_send(SourceMsg::Gap(gap)) {
                Ok(()) if cause == GapCause::Dropped => tracing::warn!(
                    lost_samples = lost,
                    "pipeline behind: dropped samples (reported as a monitoring gap)"
                ),
                Ok(()) => {}
                Err(TrySendError::Full(SourceMsg::Gap(gap))) => {
                    self.queue.push_front(gap);
                    return false;
                }
                Err(TrySendError::Full(SourceMsg::Block(_))) => unreachable!("a gap was sent"),
                Err(TrySendError::Disconnected(_)) => self.closed = true,
            }
        }
        true
    }

    /// Gaps still waiting for room in the channel.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    fn drop_block(&mut self, block: IqBlock) {
        self.dropped_blocks += 1;
        self.dropped_samples += block.samples.len() as u64;
        self.queue(Gap {
            start_sample: block.start_sample,
            lost_samples: block.samples.len() as u64,
            cause: GapCause::Dropped,
            segment: block.segment,
            center_hz: block.center_hz,
        });
        self.pool.put(block.samples);
    }

    /// Append a gap, merging it into the last queued one when it follows
    /// on from it with the same cause at the same tuning — or, whatever it
    /// is, when the queue is full (the queue stays bounded; the merged gap
    /// keeps its first cause and tuning and spans to the newest end).
    fn queue(&mut self, gap: Gap) {
        let full = self.queue.len() >= MAX_QUEUED_GAPS;
        if let Some(last) = self.queue.back_mut() {
            let end = gap.start_sample + gap.lost_samples;
            let follows = last.start_sample + last.lost_samples == gap.start_sample
                && last.segment == gap.segment
                && last.cause == gap.cause;
            if follows || full {
                last.lost_samples =
                    end.max(last.start_sample + last.lost_samples) - last.start_sample;
                return;
            }
        }
        self.queue.push_back(gap);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iq::Sample;
    use crossbeam_channel::bounded;

    fn block(start: u64, len: usize) -> IqBlock {
        IqBlock {
            start_sample: start,
            samples: vec![Sample::default(); len],
            segment: 0,
            center_hz: 1e6,
            nonfinite: 0,
        }
    }

    fn gap(start: u64, lost: u64, cause: GapCause) -> Gap {
        Gap {
            start_sample: start,
            lost_samples: lost,
            cause,
            segment: 0,
            center_hz: 1e6,
        }
    }

    #[test]
    fn full_channel_drops_and_coalesces_in_order() {
        let (tx, rx) = bounded(2);
        let mut out = Outbox::new(tx, BufferPool::new(10, 4));
        out.send_block(block(0, 10));
        out.send_block(block(10, 10));
        out.send_block(block(20, 10)); // full: dropped
        out.send_block(block(30, 10)); // dropped, merged
        out.send_gap(gap(40, 5, GapCause::Overflow)); // queued behind
        out.send_block(block(45, 10)); // dropped: gaps wait
        assert_eq!((out.dropped_blocks, out.dropped_samples), (3, 30));
        assert_eq!(out.queued(), 3);

        let starts: Vec<u64> = rx
            .try_iter()
            .map(|m| match m {
                SourceMsg::Block(b) => b.start_sample,
                SourceMsg::Gap(_) => panic!("no gap fitted"),
            })
            .collect();
        assert_eq!(starts, [0, 10]);
        assert!(!out.flush(), "two of three gaps fit");
        out.send_block(block(55, 10));
        let msgs: Vec<SourceMsg> = rx.try_iter().collect();
        assert_eq!(
            msgs.len(),
            2,
            "two gaps fit; the block behind them was dropped"
        );
        assert!(matches!(&msgs[0], SourceMsg::Gap(g) if *g == gap(20, 20, GapCause::Dropped)));
        assert!(matches!(&msgs[1], SourceMsg::Gap(g) if *g == gap(40, 5, GapCause::Overflow)));
        assert!(out.flush());
        let last: Vec<SourceMsg> = rx.try_iter().collect();
        assert!(
            matches!(&last[..], [SourceMsg::Gap(g)] if *g == gap(45, 20, GapCause::Dropped)),
            "{last:?}"
        );
    }

    #[test]
    fn queue_is_bounded_and_stays_contiguous() {
        let (tx, _rx) = bounded(1);
        let mut out = Outbox::new(tx, BufferPool::new(1, 1));
        out.send_block(block(0, 1));
        let mut at = 1;
        for i in 0..200 {
            let cause = if i % 2 == 0 {
                GapCause::Overflow
            } else {
                GapCause::Timeout
            };
            out.send_gap(gap(at, 3, cause));
            at += 3;
        }
        assert_eq!(out.queued(), MAX_QUEUED_GAPS);
        let total: u64 = out.queue.iter().map(|g| g.lost_samples).sum();
        assert_eq!(total, 600);
    }

    #[test]
    fn a_full_queue_stays_bounded_across_tunings_and_broken_contiguity() {
        // A scan plan during a long stall: gaps alternate tunings and are
        // separated by settling samples that are never delivered.
        let (tx, _rx) = bounded(1);
        let mut out = Outbox::new(tx, BufferPool::new(1, 1));
        out.send_block(block(0, 1));
        let mut at = 1;
        for i in 0..500 {
            out.send_gap(Gap {
                segment: i % 3,
                center_hz: 1e6 * (1 + i % 3) as f64,
                ..gap(at, 10, GapCause::Dropped)
            });
            at += 15;
        }
        assert_eq!(out.queued(), MAX_QUEUED_GAPS);
        let last = out.queue.back().unwrap();
        assert_eq!(
            last.start_sample + last.lost_samples,
            at - 5,
            "spans to the newest end"
        );
    }

    #[test]
    fn closed_channel_is_noticed() {
        let (tx, rx) = bounded(1);
        drop(rx);
        let mut out = Outbox::new(tx, BufferPool::new(1, 1));
        out.send_block(block(0, 1));
        assert!(out.closed());
        out.send_gap(gap(1, 1, GapCause::Timeout));
        assert_eq!(out.queued(), 0);
    }
}
