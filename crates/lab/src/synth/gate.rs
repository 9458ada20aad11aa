//! Switching signals on and off in time: sample [`Span`]s, the on/off
//! [`Pattern`]s of bursty transmitters (continuous, strictly periodic with a
//! duty cycle, jittered like an ISM sensor, or random talk spells and
//! silences like a push-to-talk radio), and the [`Gated`] wrapper that
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
#[derive(Clone)]
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
    /// On for a uniformly random `key[0]..key[1]` samples, then off for a
    /// uniformly random `idle[0]..idle[1]` samples, the next burst at `next_start`.
    Alternating {
        next_start: u64,
        key: [f64; 2],
        idle: [f64; 2],
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

    /// Bursts of `burst_s` about every `period_s` (± `jitter`, a fraction of
    /// the period), the first one at `first_start`.
    pub fn jittered(
        first_start: u64,
        sample_rate: f64,
        period_s: f64,
        burst_s: f64,
        jitter: f64,
        rng: ChaCha8Rng,
    ) -> Self {
        Pattern::Jittered {
            next_start: first_start,
            period: period_s * sample_rate,
            on: ((burst_s * sample_rate).round() as u64).max(1),
            jitter,
            rng: Box::new(rng),
        }
    }

    /// Talk spells of `key_s[0]..key_s[1]` seconds separated by silences of
    /// `idle_s[0]..idle_s[1]` seconds (uniform), starting with a silence at 0.
    pub fn alternating(
        sample_rate: f64,
        key_s: [f64; 2],
        idle_s: [f64; 2],
        mut rng: ChaCha8Rng,
    ) -> Self {
        let idle = idle_s.map(|s| s * sample_rate);
        Pattern::Alternating {
            next_start: uniform_samples(&mut rng, idle),
            key: key_s.map(|s| s * sample_rate),
            idle,
            rng: Box::new(rng),
        }
    }

    /// The end of the last burst starting before `span.end`, clipped to it
    /// (`span.end` for a continuous pattern). Random patterns are played (on
    /// a copy) from their first burst to find it.
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
            Pattern::Jittered { .. } | Pattern::Alternating { .. } => {
                let mut copy = self.clone();
                let mut last = None;
                for index in 0.. {
                    let burst = copy.burst(index);
                    if burst.start >= span.end {
                        break;
                    }
                    last = Some(burst.end.min(span.end));
                }
                last
            }
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
            Pattern::Alternating {
                next_start,
                key,
                idle,
                rng,
            } => {
                let start = *next_start;
                let end = start + uniform_samples(rng, *key);
                *next_start = end + uniform_samples(rng, *idle);
                Span::new(start, end)
            }
        }
    }
}

/// A whole number of samples (at least one) drawn uniformly from `range`.
fn uniform_samples(rng: &mut ChaCha8Rng, range: [f64; 2]) -> u64 {
    let value = if range[1] > range[0] {
        rng.gen_range(range[0]..range[1])
    } else {
        range[0]
    };
    (value.round() as u64).max(1)
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
        let pattern = Pattern::jittered(50, 1000.0, 1.0, 0.02, 0.1, stream_rng(1, "t"));
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

    /// Start and length of every burst of `out` (runs of 1.0).
    fn runs(out: &[f32]) -> Vec<(usize, usize)> {
        let mut runs = Vec::new();
        let mut start = None;
        for (i, &v) in out.iter().chain([0.0].iter()).enumerate() {
            match (start, v == 1.0) {
                (None, true) => start = Some(i),
                (Some(s), false) => {
                    runs.push((s, i - s));
                    start = None;
                }
                _ => {}
            }
        }
        runs
    }

    #[test]
    fn jitter_is_the_stated_fraction_of_the_period() {
        for jitter in [0.0, 0.3, 0.5] {
            let pattern = Pattern::jittered(0, 1000.0, 1.0, 0.01, jitter, stream_rng(2, "j"));
            let mut g = Gated::new(Ones { restarts: 0 }, pattern, vec![Span::new(0, 400_000)]);
            let starts: Vec<usize> = runs(&render(&mut g, 400_000, 4096))
                .iter()
                .map(|r| r.0)
                .collect();
            let gaps: Vec<f64> = starts.windows(2).map(|w| (w[1] - w[0]) as f64).collect();
            let (min, max) = gaps
                .iter()
                .fold((f64::MAX, f64::MIN), |(a, b), &g| (a.min(g), b.max(g)));
            let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
            assert!(
                (mean - 1000.0).abs() < 10.0 + 30.0 * jitter,
                "{jitter}: {mean}"
            );
            assert!(min >= 1000.0 * (1.0 - jitter) - 1.0 && max <= 1000.0 * (1.0 + jitter) + 1.0);
            // Uniform: the extremes of ~400 draws come near the limits.
            assert!(min < 1000.0 * (1.0 - 0.9 * jitter) + 1.0, "{jitter}: {min}");
            assert!(max > 1000.0 * (1.0 + 0.9 * jitter) - 1.0, "{jitter}: {max}");
        }
    }

    #[test]
    fn push_to_talk_alternates_random_spells_and_silences() {
        let pattern = Pattern::alternating(100.0, [2.0, 8.0], [5.0, 40.0], stream_rng(3, "ptt"));
        let last = pattern.last_burst_end(Span::new(0, 2_000_000));
        let mut g = Gated::new(Ones { restarts: 0 }, pattern, vec![Span::new(0, 2_000_000)]);
        let out = render(&mut g, 2_000_000, 65_536);
        let spells = runs(&out);
        assert!(spells.len() > 500, "{}", spells.len());
        let keys: Vec<f64> = spells.iter().map(|r| r.1 as f64 / 100.0).collect();
        let idles: Vec<f64> = spells
            .windows(2)
            .map(|w| (w[1].0 - w[0].0 - w[0].1) as f64 / 100.0)
            .collect();
        assert!(keys.iter().all(|k| (2.0..=8.0).contains(k)));
        assert!(idles.iter().all(|i| (5.0..=40.0).contains(i)));
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!((mean(&keys) - 5.0).abs() < 0.3, "{}", mean(&keys));
        assert!((mean(&idles) - 22.5).abs() < 1.5, "{}", mean(&idles));
        // It starts silent, and the last spell is found without playing the gate.
        assert!((500..=4000).contains(&spells[0].0), "{}", spells[0].0);
        let (start, len) = *spells.last().unwrap();
        assert_eq!(last, Some((start + len) as u64));
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
