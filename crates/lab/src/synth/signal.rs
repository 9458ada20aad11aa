//! The [`Signal`] trait every generated component implements: it adds its
//! samples for one block of the recording to the mix, keeping its own phase
//! and random state between blocks.

use crate::iq::Sample;

/// One component of a synthetic recording (noise floor, emitter, jammer…).
pub trait Signal: Send {
    /// Add this signal's samples for sample indices
    /// `[block_start, block_start + block.len())` to `block`.
    ///
    /// Calls come in increasing time order; a [`crate::synth::gate::Gated`]
    /// signal is only called for the stretches when it is on.
    fn add_to(&mut self, block_start: u64, block: &mut [Sample]);

    /// A gate opens a new burst: keyed modulators start a fresh frame (new
    /// bits, bit clock at zero). Continuous signals ignore it.
    fn restart(&mut self) {}
}

impl<S: Signal + ?Sized> Signal for Box<S> {
    fn add_to(&mut self, block_start: u64, block: &mut [Sample]) {
        (**self).add_to(block_start, block)
    }

    fn restart(&mut self) {
        (**self).restart()
    }
}

/// A group of signals played together (e.g. the carriers of a multi-tone jammer).
impl<S: Signal> Signal for Vec<S> {
    fn add_to(&mut self, block_start: u64, block: &mut [Sample]) {
        for signal in self.iter_mut() {
            signal.add_to(block_start, block);
        }
    }

    fn restart(&mut self) {
        for signal in self.iter_mut() {
            signal.restart();
        }
    }
}
