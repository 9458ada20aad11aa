//! The detect thread: runs the detectors on every frame, feeds the alert
//! tracker, and forwards everything (blocks, frames, alert events) to the sink
//! in sample order.

use crate::alert::AlertEvent;
use crate::detect::{DetectionEngine, Tracker};
use crate::dsp::PsdFrame;
use crate::pipeline::StreamItem;
use crate::source::{Gap, IqBlock};
use crate::Result;
use crossbeam_channel::{Receiver, Sender};

/// What the sink receives.
#[derive(Debug)]
pub enum SinkItem {
    Block(IqBlock),
    Frame(PsdFrame),
    Gap(Gap),
    Alert(AlertEvent),
}

/// Run until the input ends; returns the next unused alert number.
pub fn run(
    items: Receiver<StreamItem>,
    mut engine: DetectionEngine,
    mut tracker: Tracker,
    out: Sender<SinkItem>,
) -> Result<u64> {
    let send = |item: SinkItem| out.send(item).is_ok();
    for item in items {
        let alive = match item {
            StreamItem::Block(b) => send(SinkItem::Block(b)),
            StreamItem::Gap(g) => {
                let events = tracker.on_gap(&g);
                send(SinkItem::Gap(g)) && events.into_iter().all(|e| send(SinkItem::Alert(e)))
            }
            StreamItem::Frame(f) => {
                let detections = engine.detect(&f);
                let events = tracker.on_frame(
                    f.segment,
                    f.start_sample,
                    f.end_sample(),
                    f.bin_width_hz(),
                    &detections,
                );
                send(SinkItem::Frame(f)) && events.into_iter().all(|e| send(SinkItem::Alert(e)))
            }
        };
        if !alive {
            break;
        }
    }
    for e in tracker.finish() {
        if !send(SinkItem::Alert(e)) {
            break;
        }
    }
    Ok(tracker.next_id())
}
