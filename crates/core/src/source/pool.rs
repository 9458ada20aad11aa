//! A pool of reusable sample buffers, so the steady state allocates nothing:
//! stages hand finished buffers back through a channel.

use crate::iq::Sample;
use crossbeam_channel::{Receiver, Sender};

/// Recycled `Vec<Sample>` buffers of one block size.
#[derive(Clone)]
pub struct BufferPool {
    give: Sender<Vec<Sample>>,
    take: Receiver<Vec<Sample>>,
    block_len: usize,
}

impl BufferPool {
    /// A pool of buffers holding `block_len` samples each; at most `capacity` are kept.
    pub fn new(block_len: usize, capacity: usize) -> Self {
        let (give, take) = crossbeam_channel::bounded(capacity.max(1));
        BufferPool {
            give,
            take,
            block_len,
        }
    }

    /// Samples per block.
    pub fn block_len(&self) -> usize {
        self.block_len
    }

    /// A buffer of `block_len` samples (recycled when one is free).
    pub fn get(&self) -> Vec<Sample> {
        let mut buf = self.take.try_recv().unwrap_or_default();
        buf.resize(self.block_len, Sample::default());
        buf
    }

    /// Hand a buffer back for reuse (dropped when the pool is full).
    pub fn put(&self, buf: Vec<Sample>) {
        let _ = self.give.try_send(buf);
    }
}
