//! An in-memory [`IqReader`], for tests and benchmarks that build samples in code.

use super::{Capture, Datatype, IqReader, ReadStats, Sample, StreamInfo};
use crate::Result;

/// Serves samples from a vector.
pub struct MemoryReader {
    info: StreamInfo,
    samples: Vec<Sample>,
    position: usize,
}

impl MemoryReader {
    /// A stream of `samples` at `sample_rate`, tuned to `center_hz`.
    pub fn new(name: &str, samples: Vec<Sample>, sample_rate: f64, center_hz: f64) -> Self {
        MemoryReader {
            info: StreamInfo {
                name: name.to_string(),
                sample_rate,
                datatype: Datatype::CF32_LE,
                total_samples: Some(samples.len() as u64),
                captures: vec![Capture {
                    sample_start: 0,
                    center_hz,
                    datetime: None,
                }],
                annotations: Vec::new(),
            },
            samples,
            position: 0,
        }
    }

    /// Replace the stream description (captures, datatype, annotations…).
    pub fn with_info(mut self, info: StreamInfo) -> Self {
        self.info = info;
        self
    }
}

impl IqReader for MemoryReader {
    fn info(&self) -> &StreamInfo {
        &self.info
    }

    fn read(&mut self, out: &mut [Sample]) -> Result<ReadStats> {
        let n = out.len().min(self.samples.len() - self.position);
        out[..n].copy_from_slice(&self.samples[self.position..self.position + n]);
        self.position += n;
        Ok(ReadStats {
            samples: n,
            nonfinite: 0,
        })
    }

    fn seek(&mut self, sample: u64) -> Result<()> {
        self.position = (sample as usize).min(self.samples.len());
        Ok(())
    }
}
