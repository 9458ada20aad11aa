//! Switching signals on and off in time: sample [`Span`]s, the on/off
//! [`Pattern`]s of bursty transmitters (continuous, strictly periodic with a
//! duty cycle, or jittered like an ISM sensor), and the [`Gated`] wrapper that
//! plays a signal only during its pattern's bursts inside its allowed windows.

use super::signal::Signal;
use crate::iq::Sample;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A half-open interval of sample indices `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: u64,
    pub end: u64,
}

impl Span {
    /// `[start, end)`.
    pub fn new(start: u64, end: u64) -> Self {
        Span { start, end }
    }

    /// Number of samples.
    pub fn len(self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// True when the span holds no sample.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// The samples in both spans (possibly empty).
    pub fn intersect(self, other: Span) -> Span {
        Span::new(self.start.max(other.start), self.end.min(other.end))
    }
}

/// `within` minus every span of `holes` (the holes need not be sorted).
pub fn subtract(within: Span, holes: &[Span]) -> Vec<Span> {
    let mut holes: Vec<Span> = holes.to_vec();
    holes.sort_by_key(|h| h.start);
    let mut out = Vec::new();
    let mut cursor = within.start;
    for hole in holes {
        if hole.start > cursor {
            out.push(Span::new(cursor, hole.start.min(within.end)));
        }
        cursor = cursor.max(hole.end);
        if cursor >= within.end {
            break;
        }
    }
    if cursor < within.end {
        out.push(Span::new(cursor, within.end));
    }
    out.retain(|s| !s.is_empty());
    out
}

/// When a transmitter is on: an endless sequence of bursts in time order.
pub enum Pattern {
    /// Always on.
    Continuous,
    /// Burst `k` covers `[anchor + round(k·period), anchor + round(k·period + on))`:
    /// strictly regular, and bursts never overlap while `on ≤ period`.
    Periodic { anchor: u64, period: f64, on: f64 },
    /// On for `on` samples, bursts `period` samples apart ±`jitter` (a fraction),
    /// the next one at `next_start`.
    Jittered {
        next_start: u64,
        period: f64,
        on: u64,
        jitter: f64,
        rng: Box<ChaCha8Rng>,
    },
}

impl Pattern {
    /// Bursts every `period_s` lasting `period_s · duty`, the first at `anchor`.
    pub fn periodic(anchor: u64, sample_rate: f64, period_s: f64, duty: f64) -> Self {
        let period = period_s * sample_rate;
        Pattern::Periodic {
            anchor,
            period,
            on: period * duty,
        }
    }

    /// Bursts of `burst_s` about every `period_s` (±10 %), the first one at
    /// `first_start`.
    pub fn jittered(
        first_start: u64,
        sample_rate: f64,
        period_s: f64,
        burst_s: f64,
        rng: ChaCha8Rng,
    ) -> Self {
        Pattern::Jittered {
            next_start: first_start,
            period: period_s * sample_rate,
            on: ((burst_s * sample_rate).round() as u64).max(1),
            jitter: 0.1,
            rng: Box::new(rng),
        }
    }

    /// The end of the last burst starting before `span.end`, clipped to it
    /// (`span.end` for a continuous pattern; `None` for a jittered one, whose
    /// bursts are only known by playing them).
    pub fn last_burst_end(&self, span: Span) -> Option<u64> {
        match *self {
            Pattern::Continuous => Some(span.end),
            Pattern::Periodic { anchor, period, on } => {
                if span.end <= anchor {
                    return None;
                }
                let mut index = ((span.end - 1 - anchor) as f64 / period).floor() as u64 + 1;
                while index > 0 {
                    index -= 1;
                    let burst = periodic_burst(anchor, period, on, index);
                    if burst.start < span.end {
                        return Some(burst.end.min(span.end));
                    }
                }
                None
            }
            Pattern::Jittered { .. } => None,
        }
    }

    /// Burst number `index` (bursts are asked for in order).
    fn burst(&mut self, index: u64) -> Span {
        match self {
            Pattern::Continuous => Span::new(0, u64::MAX),
            Pattern::Periodic { anchor, period, on } => {
                periodic_burst(*anchor, *period, *on, index)
            }
            Pattern::Jittered {
                next_start,
                period,
                on,
                jitter,
                rng,
            } => {
                let start = *next_start;
                let gap = *period * (1.0 + rng.gen_range(-*jitter..=*jitter));
                *next_start = start + (gap.round() as u64).max(*on + 1);
                Span::new(start, start + *on)
            }
        }
    }
}

fn periodic_burst(anchor: u64, period: f64, on: f64, index: u64) -> Span {
    let at = index as f64 * period;
    Span::new(
        anchor + at.round() as u64,
        anchor + (at + on).round() as u64,
    )
}

/// A signal played only during the bursts of its [`Pattern`] that fall inside
/// its allowed windows. [`Signal::restart`] is called when a burst starts playing.
pub struct Gated<S> {
    inner: S,
    pattern: Pattern,
    windows: Vec<Span>,
    burst_index: u64,
    current: Option<Span>,
    restart_pending: bool,
}

impl<S: Signal> Gated<S> {
    /// Play `inner` during `pattern`'s bursts, inside `windows` (sorted, disjoint).
    pub fn new(inner: S, pattern: Pattern, windows: Vec<Span>) -> Self {
        Gated {
            inner,
            pattern,
            windows,
            burst_index: 0,
            current: None,
            restart_pending: false,
        }
    }
}

impl<S: Signal> Signal for Gated<S> {
    fn add_to(&mut self, block_start: u64, block: &mut [Sample]) {
        let block_span = Span::new(block_start, block_start + block.len() as u64);
        loop {
            let burst = match self.current {
                Some(burst) => burst,
                None => {
                    let burst = self.pattern.burst(self.burst_index);
                    self.burst_index += 1;
                    self.restart_pending = true;
                    self.current = Some(burst);
                    burst
                }
            };
            if burst.start >= block_span.end {
                break;
            }
            let on = burst.intersect(block_span);
            for window in &self.windows {
                let part = on.intersect(*window);
                if !part.is_empty() {
                    if self.restart_pending {
                        self.inner.restart();
                        self.restart_pending = false;
                    }
                    let from = (part.start - block_start) as usize;
                    let to = (part.end - block_start) as usize;
                    self.inner.add_to(part.start, &mut block[from..to]);
                }
            }
            if burst.end <= block_span.end {
                self.current = None;
            } else {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::rng::stream_rng;

    /// Adds 1.0 to every sample it is asked for and counts restarts.
    struct Ones {
        restarts: usize,
    }

    impl Signal for Ones {
        fn add_to(&mut self, _start: u64, block: &mut [Sample]) {
            for s in block {
                s.re += 1.0;
            }
        }
        fn restart(&mut self) {
            self.restarts += 1;
        }
    }

    fn render(gated: &mut Gated<Ones>, total: usize, block: usize) -> Vec<f32> {
        let mut out = vec![Sample::default(); total];
        for (i, chunk) in out.chunks_mut(block).enumerate() {
            gated.add_to((i * block) as u64, chunk);
        }
        out.iter().map(|s| s.re).collect()
    }

    #[test]
    fn subtract_cuts_holes() {
        let w = Span::new(0, 100);
        assert_eq!(
            subtract(w, &[Span::new(50, 60), Span::new(10, 20)]),
            vec![Span::new(0, 10), Span::new(20, 50), Span::new(60, 100)]
        );
        assert_eq!(subtract(w, &[Span::new(0, 200)]), vec![]);
        assert_eq!(subtract(w, &[]), vec![w]);
    }

    #[test]
    fn periodic_gate_has_its_duty_and_phase_whatever_the_block_size() {
        for block in [7, 64, 1000] {
            let pattern = Pattern::periodic(100, 1000.0, 0.1, 0.25);
            let mut g = Gated::new(Ones { restarts: 0 }, pattern, vec![Span::new(100, 1100)]);
            let out = render(&mut g, 1500, block);
            assert!(out[..100].iter().all(|&v| v == 0.0));
            assert!(out[1100..].iter().all(|&v| v == 0.0));
            let on: f32 = out.iter().sum();
            assert_eq!(on, 250.0, "block {block}");
            assert_eq!(out[100], 1.0);
            assert_eq!(out[124], 1.0);
            assert_eq!(out[125], 0.0);
            assert_eq!(out[200], 1.0);
            assert_eq!(g.inner.restarts, 10, "block {block}");
        }
    }

    #[test]
    fn last_burst_end_clips_to_the_span() {
        let p = Pattern::periodic(100, 1000.0, 0.1, 0.25);
        assert_eq!(p.last_burst_end(Span::new(100, 1100)), Some(1025));
        assert_eq!(p.last_burst_end(Span::new(100, 1010)), Some(1010));
        assert_eq!(p.last_burst_end(Span::new(100, 101)), Some(101));
        assert_eq!(Pattern::Continuous.last_burst_end(Span::new(5, 9)), Some(9));
    }

    #[test]
    fn jittered_bursts_stay_within_ten_percent() {
        let pattern = Pattern::jittered(50, 1000.0, 1.0, 0.02, stream_rng(1, "t"));
        let mut g = Gated::new(Ones { restarts: 0 }, pattern, vec![Span::new(0, 20_000)]);
        let out = render(&mut g, 20_000, 4096);
        let starts: Vec<usize> = (1..out.len())
            .filter(|&i| out[i] == 1.0 && out[i - 1] == 0.0)
            .collect();
        assert_eq!(starts[0], 50);
        let gaps: Vec<usize> = starts.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.iter().all(|&g| (900..=1100).contains(&g)), "{gaps:?}");
        assert!(gaps.iter().any(|&g| g != gaps[0]), "no jitter: {gaps:?}");
        assert_eq!(out.iter().sum::<f32>() as usize, starts.len() * 20);
    }

    #[test]
    fn windows_mute_the_signal_outside_them() {
        let windows = subtract(Span::new(0, 100), &[Span::new(30, 60)]);
        let mut g = Gated::new(Ones { restarts: 0 }, Pattern::Continuous, windows);
        let out = render(&mut g, 100, 16);
        assert!(out[..30].iter().all(|&v| v == 1.0));
        assert!(out[30..60].iter().all(|&v| v == 0.0));
        assert!(out[60..].iter().all(|&v| v == 1.0));
        assert_eq!(g.inner.restarts, 1);
    }
}
