//! The scan plan in sample-index time: which tuning (segment) is current,
//! how many samples after a (re)tune are still settling and are discarded,
//! and where the current dwell ends.
//!
//! Everything is counted in sample indices, not wall-clock time, so that a
//! dwell covers the same number of samples however the reads are timed.
//! Samples lost in gaps count towards the dwell (the receiver was tuned
//! there while they passed); discarded settling samples advance the index
//! but are neither delivered nor reported as a gap.

use super::Tuning;

/// Where the source is in its scan plan.
#[derive(Debug)]
pub(super) struct Schedule {
    tunings: Vec<Tuning>,
    sample_rate: f64,
    settle: u64,
    segment: usize,
    /// Samples before this index are settling and are discarded.
    settle_until: u64,
    /// The dwell at the current segment ends here (`u64::MAX` for a single tuning).
    dwell_end: u64,
}

impl Schedule {
    /// A schedule at segment 0; call [`Schedule::start`] once tuned.
    pub fn new(tunings: Vec<Tuning>, sample_rate: f64, settle_s: f64) -> Schedule {
        assert!(!tunings.is_empty(), "validated: a scan plan has a tuning");
        Schedule {
            tunings,
            sample_rate,
            settle: (settle_s * sample_rate).round() as u64,
            segment: 0,
            settle_until: 0,
            dwell_end: u64::MAX,
        }
    }

    /// The current segment was just tuned at sample `index`: settle, then dwell.
    pub fn start(&mut self, index: u64) {
        self.settle_until = index.saturating_add(self.settle);
        self.dwell_end = if self.tunings.len() > 1 {
            let dwell = (self.tunings[self.segment].dwell_s * self.sample_rate).round() as u64;
            self.settle_until.saturating_add(dwell.max(1))
        } else {
            u64::MAX
        };
    }

    /// The device was retuned to the current segment (after a reopen) at
    /// `index`: settle again, keeping the dwell's end.
    pub fn resettle(&mut self, index: u64) {
        self.settle_until = index.saturating_add(self.settle);
    }

    /// Move to the next tuning at `index`; returns its centre frequency.
    pub fn advance(&mut self, index: u64) -> f64 {
        self.segment = (self.segment + 1) % self.tunings.len();
        self.start(index);
        self.center_hz()
    }

    pub fn segment(&self) -> usize {
        self.segment
    }

    pub fn center_hz(&self) -> f64 {
        self.tunings[self.segment].center_hz
    }

    /// Samples still to discard at `index` (0 once settled).
    pub fn settling(&self, index: u64) -> u64 {
        self.settle_until.saturating_sub(index)
    }

    /// Samples left in the current dwell at `index` (0: time to move on).
    pub fn remaining(&self, index: u64) -> u64 {
        self.dwell_end.saturating_sub(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Vec<Tuning> {
        vec![
            Tuning {
                center_hz: 100e6,
                dwell_s: 0.5,
            },
            Tuning {
                center_hz: 200e6,
                dwell_s: 0.25,
            },
        ]
    }

    #[test]
    fn dwell_and_settle_in_samples() {
        let mut s = Schedule::new(plan(), 1000.0, 0.01);
        s.start(0);
        assert_eq!((s.segment(), s.center_hz()), (0, 100e6));
        assert_eq!(s.settling(0), 10);
        assert_eq!(s.settling(10), 0);
        assert_eq!(s.remaining(10), 500);
        assert_eq!(s.remaining(510), 0);
        assert_eq!(s.advance(510), 200e6);
        assert_eq!(s.segment(), 1);
        assert_eq!(s.settling(510), 10);
        assert_eq!(s.remaining(520), 250);
        assert_eq!(s.advance(770), 100e6);
        assert_eq!(s.segment(), 0);
    }

    #[test]
    fn single_tuning_stays_put_and_resettles() {
        let mut s = Schedule::new(vec![Tuning::fixed(433.92e6)], 1e6, 0.0);
        s.start(0);
        assert_eq!(s.settling(0), 0);
        assert_eq!(s.remaining(u64::MAX / 2), u64::MAX - u64::MAX / 2);
        let mut s = Schedule::new(plan(), 1000.0, 0.01);
        s.start(0);
        s.resettle(300);
        assert_eq!(s.settling(300), 10);
        assert_eq!(s.remaining(310), 200, "a reopen keeps the dwell's end");
    }
}
