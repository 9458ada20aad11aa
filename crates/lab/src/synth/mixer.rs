//! The mix of one block of a recording: the sum of every signal, then the
//! receiver's gain changes (a signal loss scales everything down), then the
//! receiver's own impairments ([`super::receiver`]: IQ image, gain drift, DC
//! spike), then the ADC: I and Q saturate at full scale (±1) for every
//! datatype, so clipping is present even in float recordings.

use super::gate::Span;
use super::level::db_to_power;
use super::receiver::ReceiverStage;
use super::signal::Signal;
use crate::iq::Sample;

/// Sums signals block by block, applies gain drops and the receiver's
/// impairments, and saturates like an ADC.
#[derive(Default)]
pub struct Mixer {
    signals: Vec<Box<dyn Signal>>,
    /// Spans during which everything is scaled by an amplitude factor.
    drops: Vec<(Span, f32)>,
    receiver: Option<ReceiverStage>,
}

impl Mixer {
    pub fn new() -> Self {
        Mixer::default()
    }

    /// Add a signal to the mix.
    pub fn add(&mut self, signal: Box<dyn Signal>) {
        self.signals.push(signal);
    }

    /// Scale everything (noise and signals) down by `drop_db` during `span`.
    pub fn drop_gain(&mut self, span: Span, drop_db: f64) {
        self.drops.push((span, db_to_power(-drop_db).sqrt() as f32));
    }

    /// Impair the whole mix with `receiver` (after gain drops, before the ADC).
    pub fn set_receiver(&mut self, receiver: ReceiverStage) {
        self.receiver = Some(receiver);
    }

    /// The samples `[block_start, block_start + block.len())`.
    pub fn render(&mut self, block_start: u64, block: &mut [Sample]) {
        block.fill(Sample::default());
        for signal in &mut self.signals {
            signal.add_to(block_start, block);
        }
        let block_span = Span::new(block_start, block_start + block.len() as u64);
        for (span, factor) in &self.drops {
            let part = span.intersect(block_span);
            if !part.is_empty() {
                let from = (part.start - block_start) as usize;
                let to = (part.end - block_start) as usize;
                for s in &mut block[from..to] {
                    *s *= *factor;
                }
            }
        }
        if let Some(receiver) = &mut self.receiver {
            receiver.apply(block_start, block);
        }
        saturate(block);
    }
}

/// The ADC: clamp I and Q to [-1, 1].
pub fn saturate(block: &mut [Sample]) {
    for s in block {
        s.re = s.re.clamp(-1.0, 1.0);
        s.im = s.im.clamp(-1.0, 1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::carrier::Carrier;

    #[test]
    fn strong_signals_clip_at_full_scale() {
        let mut mixer = Mixer::new();
        mixer.add(Box::new(Carrier::new(1e3, 10.0, 2.0, 0.0)));
        let mut block = vec![Sample::default(); 1000];
        mixer.render(0, &mut block);
        assert!(block.iter().all(|s| s.re.abs() <= 1.0 && s.im.abs() <= 1.0));
        let clipped = block.iter().filter(|s| s.re.abs() == 1.0).count();
        assert!(clipped > 300, "{clipped}");
    }

    #[test]
    fn a_gain_drop_scales_everything_in_its_span_only() {
        let mut mixer = Mixer::new();
        mixer.add(Box::new(Carrier::new(1e3, 0.0, 0.25, 0.0)));
        mixer.drop_gain(Span::new(150, 250), 20.0);
        let mut block = vec![Sample::default(); 100];
        mixer.render(100, &mut block);
        assert!((block[49].re - 0.5).abs() < 1e-6);
        assert!((block[50].re - 0.05).abs() < 1e-6);
        mixer.render(200, &mut block);
        assert!((block[49].re - 0.05).abs() < 1e-6);
        assert!((block[50].re - 0.5).abs() < 1e-6);
    }
}
