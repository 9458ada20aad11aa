//! Writing a scenario as a SigMF recording: the samples are rendered and
//! written block by block (memory stays constant whatever the duration), the
//! metadata carries the start time, a description, the scenario's name and
//! seed, and one annotation per event.

use super::annotate::annotations;
use super::scenario::Scenario;
use super::stream::Stream;
use crate::iq::{Datatype, Sample, SigmfWriter};
use crate::Result;
use std::path::{Path, PathBuf};

/// Samples rendered and written at a time.
pub const BLOCK_SAMPLES: usize = 1 << 16;

/// Generate `scenario` as a SigMF recording at `out` (either file name, or the
/// base name) encoded as `datatype`. Returns the `.sigmf-meta` path.
pub fn generate(scenario: &Scenario, out: &Path, datatype: Datatype) -> Result<PathBuf> {
    let annotations = annotations(scenario)?;
    let mut stream = Stream::new(scenario)?;
    let mut writer = SigmfWriter::create(out, datatype, scenario.sample_rate, scenario.center_hz)?;
    writer.set_datetime(scenario.start_time);
    writer.set_global("core:description", description(scenario));
    writer.set_global("rfsentry:scenario", scenario.file_name());
    writer.set_global("rfsentry:seed", scenario.seed);
    writer.set_global("rfsentry:noise_dbfs", scenario.noise_dbfs);
    for annotation in annotations {
        writer.annotate(annotation);
    }
    let mut block = vec![Sample::default(); BLOCK_SAMPLES];
    loop {
        let n = stream.next_block(&mut block);
        if n == 0 {
            break;
        }
        writer.write(&block[..n])?;
    }
    writer.finish()
}

/// The scenario's description, or a summary of it.
fn description(scenario: &Scenario) -> String {
    match &scenario.description {
        Some(text) => text.clone(),
        None => format!(
            "rfsentry synthetic recording from {}: {} known emitters, {} events",
            scenario.file_name(),
            scenario.emitters.len(),
            scenario.events.len()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::incidents::*;
    use crate::synth::scenario::{Band, Emitter, Event};

    fn scenario(seed: u64) -> Scenario {
        let mut s = Scenario::new(50e3, 915e6, 1.5, -30.0, seed);
        s.push_emitter(Emitter::nbfm("radio", 10e3, 20.0, 2e3))
            .push_event(Event::new(
                0.5,
                0.5,
                Incident::Barrage(Barrage {
                    band: Band::new(-20e3, 0.0),
                    level_db: 10.0,
                    creep_db_per_s: None,
                }),
            ));
        s
    }

    fn data(dir: &Path, name: &str, s: &Scenario) -> Vec<u8> {
        let meta = generate(s, &dir.join(name), Datatype::CI16_LE).unwrap();
        assert_eq!(meta, dir.join(format!("{name}.sigmf-meta")));
        std::fs::read(dir.join(format!("{name}.sigmf-data"))).unwrap()
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let a = data(dir.path(), "a", &scenario(1));
        let b = data(dir.path(), "b", &scenario(1));
        let c = data(dir.path(), "c", &scenario(2));
        assert_eq!(a.len(), 75_000 * 4);
        assert!(a == b, "same seed, different bytes");
        assert!(a != c, "different seeds, same bytes");
        let meta_a = std::fs::read_to_string(dir.path().join("a.sigmf-meta")).unwrap();
        let meta_b = std::fs::read_to_string(dir.path().join("b.sigmf-meta")).unwrap();
        assert_eq!(meta_a, meta_b);
    }

    #[test]
    fn invalid_scenarios_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = scenario(1);
        s.events[0].duration_s = 5.0;
        let err = generate(&s, &dir.path().join("x"), Datatype::CF32_LE).unwrap_err();
        assert!(err.to_string().contains("events[0].duration_s"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
