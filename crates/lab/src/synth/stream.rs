//! A scenario rendered as a stream of samples, with no file: tests and
//! benchmarks that need an hour of signal feed it block by block straight
//! into the PSD engine or a detector, in constant memory. The SigMF writer
//! ([`super::generate()`]) is one such consumer.
//!
//! ```
//! use rfsentry_core::iq::Sample;
//! use rfsentry_lab::synth::{Scenario, Stream, BLOCK_SAMPLES};
//!
//! let scenario = Scenario::new(250e3, 433.92e6, 2.0, -30.0, 1);
//! let mut stream = Stream::new(&scenario)?;
//! let mut block = vec![Sample::default(); BLOCK_SAMPLES];
//! let mut total = 0;
//! loop {
//!     let n = stream.next_block(&mut block);
//!     if n == 0 {
//!         break;
//!     }
//!     total += n; // feed &block[..n] to the engine
//! }
//! assert_eq!(total as u64, scenario.total_samples());
//! # Ok::<(), rfsentry_core::Error>(())
//! ```
//!
//! The samples do not depend on the sizes of the blocks asked for.

use super::assemble;
use super::mixer::Mixer;
use super::scenario::Scenario;
use crate::iq::Sample;
use crate::Result;

/// The samples of one scenario, rendered on demand in time order.
pub struct Stream {
    mixer: Mixer,
    position: u64,
    total: u64,
}

impl Stream {
    /// A stream of `scenario` (which is validated first) from its first sample.
    pub fn new(scenario: &Scenario) -> Result<Stream> {
        Ok(Stream {
            mixer: assemble::mixer(scenario)?,
            position: 0,
            total: scenario.total_samples(),
        })
    }

    /// Samples in the whole recording.
    pub fn total_samples(&self) -> u64 {
        self.total
    }

    /// Index of the next sample to be rendered.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Render the next samples into `buf` (as many as fit, fewer at the end
    /// of the recording) and return how many; 0 once the recording is over.
    pub fn next_block(&mut self, buf: &mut [Sample]) -> usize {
        let n = (self.total - self.position).min(buf.len() as u64) as usize;
        if n > 0 {
            self.mixer.render(self.position, &mut buf[..n]);
            self.position += n as u64;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::incidents::*;
    use crate::synth::keyed::Keying;
    use crate::synth::scenario::{
        Band, BurstSpec, BurstTrain, Emitter, Event, FrequencyDrift, GainDrift, Hopping, PttSpec,
    };

    /// Every real-site feature at once.
    fn busy() -> Scenario {
        let drift = FrequencyDrift {
            depth_hz: 2e3,
            period_s: 0.5,
        };
        let mut s = Scenario::new(100e3, 100e6, 1.0, -30.0, 9);
        s.push_emitter(Emitter::nbfm("radio", 20e3, 20.0, 3e3).with_drift(drift))
            .push_emitter(Emitter::carrier("beacon", -35e3, 20.0).with_drift(drift))
            .push_emitter(
                Emitter::burst(
                    "sensor",
                    35e3,
                    20.0,
                    BurstSpec {
                        keying: Keying::Ook,
                        bitrate: 2e3,
                        bursts: BurstTrain {
                            burst_s: 0.01,
                            period_s: 0.05,
                            jitter: 0.5,
                        },
                    },
                )
                .with_drift(drift),
            )
            .push_emitter(Emitter::ptt(
                "walkie",
                5e3,
                20.0,
                PttSpec {
                    deviation_hz: 2e3,
                    key_s: [0.01, 0.1],
                    idle_s: [0.01, 0.1],
                },
            ));
        let hopper = Incident::UnknownEmitter(UnknownEmitter {
            modulation: RogueModulation::fsk(5e3),
            offset_hz: -10e3,
            level_db: 15.0,
            timing: RogueTiming::Bursts(BurstTrain {
                burst_s: 0.02,
                period_s: 0.05,
                jitter: 0.2,
            }),
            hopping: Some(Hopping {
                channels: 4,
                spacing_hz: 6e3,
                dwell_s: 0.003,
            }),
        });
        let creeping = Incident::Barrage(Barrage {
            band: Band::new(-40e3, -20e3),
            level_db: 10.0,
            creep_db_per_s: Some(20.0),
        });
        let moved = Incident::AnomalousEmitter(AnomalousEmitter {
            emitter: "radio".into(),
            extra_db: 3.0,
            widen: 1.0,
            shift_hz: 10e3,
        });
        s.push_event(Event::new(0.2, 0.5, hopper))
            .push_event(Event::new(0.3, 0.6, creeping))
            .push_event(Event::new(0.5, 0.2, moved));
        s.receiver.iq_image_dbc = Some(-30.0);
        s.receiver.dc_spike_db = Some(10.0);
        s.receiver.gain_drift = Some(GainDrift {
            depth_db: 2.0,
            period_s: 0.5,
        });
        s
    }

    fn collect(scenario: &Scenario, block: usize) -> Vec<Sample> {
        let mut stream = Stream::new(scenario).unwrap();
        let mut out = Vec::new();
        let mut buf = vec![Sample::default(); block];
        loop {
            let n = stream.next_block(&mut buf);
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(stream.position(), stream.total_samples());
        out
    }

    #[test]
    fn a_stream_ends_after_the_last_sample_whatever_the_block_size() {
        let s = busy();
        let whole = collect(&s, 100_000);
        assert_eq!(whole.len(), 100_000);
        for block in [1_000, 4_097, 65_536] {
            assert!(collect(&s, block) == whole, "block {block}");
        }
    }

    #[test]
    fn invalid_scenarios_make_no_stream() {
        let mut s = busy();
        s.duration_s = -1.0;
        assert!(Stream::new(&s).is_err());
    }
}
