//! Scenario files (TOML): reading, `base` inheritance, and conversion to the
//! [`Scenario`] model, with every error naming the file and field it concerns.
//! An `[[events]]` table is read by its kind (see [`super::incidents`]).
//!
//! ```toml
//! base = "demo-site.toml"          # optional: settings and [[emitters]] to inherit
//! seed = 2
//! duration_s = 6.0
//! description = "tone jammer, rogue FSK, swept jammer"
//! datatype = "cu8"                 # 8-bit like an RTL-SDR (full scale = ±127.5 LSB)
//!
//! [receiver]                       # optional, every key optional (absent = ideal)
//! dc_spike_db = 15                 # DC offset, dB over the floor in one 1024-point bin
//! iq_image_dbc = -30               # mirror image of every signal about the centre
//! gain_drift_db = 1.5              # whole-receiver gain ± this many dB…
//! gain_drift_period_s = 240        # …over this period (default 300), seeded phase
//!
//! [[emitters]]
//! name = "beacon"
//! type = "carrier"                 # carrier, nbfm, burst or ptt
//! offset_hz = -80e3
//! level_db = 25
//! drift_hz = 1000                  # optional: centre wanders ± this many Hz…
//! drift_period_s = 120             # …over this period (default 120), seeded phase
//!
//! [[emitters]]
//! name = "sensor"
//! type = "burst"
//! modulation = "fsk"               # or "ook"
//! offset_hz = -45e3
//! level_db = 15
//! bitrate = 9600
//! deviation_hz = 15e3
//! period_s = 0.5                   # mean time between burst starts
//! burst_s = 0.02
//! jitter = 0.3                     # optional: ± fraction of period_s (default 0.1, ≤ 0.5)
//!
//! [[emitters]]
//! name = "walkie"
//! type = "ptt"                     # push-to-talk NBFM radio: legitimate, intermittent
//! offset_hz = 60e3
//! level_db = 20
//! deviation_hz = 2500              # default 5000
//! key_s = [2.0, 8.0]               # talk spells, uniform (default [2, 8])
//! idle_s = [5.0, 40.0]             # silences, uniform (default [5, 40])
//!
//! [[events]]                      # kind, start_s and duration_s, then the kind's own keys:
//! kind = "jamming.tone"            # each kind's module in `incidents/` shows its table
//! start_s = 0.8
//! duration_s = 1.0
//! offset_hz = 20e3                 # or freq_hz = 433.94e6
//! level_db = 22
//! ```
//!
//! A base file supplies defaults for every top-level setting except
//! `description` (sample_rate, center_hz, noise_dbfs, seed, duration_s,
//! datatype, start_time, and each key of `[receiver]` separately), and its
//! `[[emitters]]` are prepended to the file's own, so a site's baseline and
//! its incident scenarios share the same receiver and known emitters. Bases
//! may themselves have a base; events are never inherited (a base with
//! `[[events]]` is an error).

use super::incidents::read_event;
use super::keyed::Keying;
use super::scenario::{
    BurstSpec, BurstTrain, Emitter, EmitterKind, FrequencyDrift, GainDrift, Impairments, PttSpec,
    Scenario, DEFAULT_BURST_JITTER, DEFAULT_FREQUENCY_DRIFT_PERIOD_S, DEFAULT_GAIN_DRIFT_PERIOD_S,
    DEFAULT_START_TIME,
};
use super::toml_fields::Fields;
use super::validate::{Issue, Item};
use crate::iq::Datatype;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Table;

/// Deepest chain of `base` files followed.
const MAX_BASE_DEPTH: usize = 16;

/// Default peak deviation of an NBFM emitter, in Hz.
pub const DEFAULT_NBFM_DEVIATION_HZ: f64 = 5000.0;

/// Default talk spells of a push-to-talk radio, in seconds.
pub const DEFAULT_PTT_KEY_S: [f64; 2] = [2.0, 8.0];

/// Default silences between a push-to-talk radio's spells, in seconds.
pub const DEFAULT_PTT_IDLE_S: [f64; 2] = [5.0, 40.0];

impl Scenario {
    /// Read a scenario file (and its bases, relative to it).
    pub fn load(path: &Path) -> Result<Scenario> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let dir = path.parent().unwrap_or(Path::new(""));
        Scenario::from_toml_str(&text, dir, &path.display().to_string())
    }

    /// Parse a scenario from TOML text; a `base` is looked up relative to
    /// `base_dir`, and errors name `name_for_errors` (which also becomes the
    /// scenario's [`Scenario::source`]).
    pub fn from_toml_str(text: &str, base_dir: &Path, name_for_errors: &str) -> Result<Scenario> {
        let layers = read_layers(
            text,
            PathBuf::from(name_for_errors),
            base_dir,
            &mut Vec::new(),
        )?;
        let (scenario, origins) = convert(&layers)?;
        scenario
            .check()
            .map_err(|issue| origins.error(&layers, issue))?;
        Ok(scenario)
    }
}

/// One file of a base chain, parsed.
struct Layer {
    path: PathBuf,
    table: Table,
}

/// Parse `text` (the file `path`) and its bases, base-most first. `chain`
/// holds the files that are waiting for this one (to catch cycles).
fn read_layers(
    text: &str,
    path: PathBuf,
    dir: &Path,
    chain: &mut Vec<PathBuf>,
) -> Result<Vec<Layer>> {
    let table: Table = text.parse().map_err(|e: toml::de::Error| {
        let at = e
            .span()
            .map(|span| {
                format!(
                    " (at line {})",
                    text[..span.start].matches('\n').count() + 1
                )
            })
            .unwrap_or_default();
        Error::format(
            &path,
            "toml",
            format!("expected valid TOML{at}: {}", e.message()),
        )
    })?;
    let mut layers = Vec::new();
    if let Some(base) = table.get("base") {
        let Some(base) = base.as_str() else {
            return Err(Error::format(
                &path,
                "base",
                "expected a file name (a string)",
            ));
        };
        let base_path = dir.join(base);
        chain.push(path.clone());
        if chain.len() > MAX_BASE_DEPTH || chain.iter().any(|p| same_file(p, &base_path)) {
            return Err(Error::format(
                &path,
                "base",
                format!(
                    "expected a chain of at most {MAX_BASE_DEPTH} base files without cycles, but {} leads back to a file already in the chain",
                    base_path.display()
                ),
            ));
        }
        let base_text = std::fs::read_to_string(&base_path).map_err(|e| {
            Error::format(
                &path,
                "base",
                format!(
                    "expected a readable scenario file to inherit from; {}: {e}",
                    base_path.display()
                ),
            )
        })?;
        let base_dir = base_path.parent().unwrap_or(Path::new("")).to_path_buf();
        layers = read_layers(&base_text, base_path, &base_dir, chain)?;
        chain.pop();
    }
    layers.push(Layer { path, table });
    Ok(layers)
}

/// True when both paths name the same existing file (or are equal).
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Where each item of the merged scenario came from.
struct Origins {
    /// Index of the layer that set each top-level key.
    settings: BTreeMap<&'static str, usize>,
    /// Index of the layer that set each key of `[receiver]`.
    receiver: BTreeMap<&'static str, usize>,
    /// (layer, index within that layer) of each emitter and event.
    emitters: Vec<(usize, usize)>,
    events: Vec<(usize, usize)>,
}

impl Origins {
    /// Turn a range-check issue into an error naming the file and field where
    /// the value was written.
    fn error(&self, layers: &[Layer], issue: Issue) -> Error {
        let last = layers.len() - 1;
        let (layer, prefix) = match issue.item {
            Item::Scenario => (
                self.settings.get(issue.field).copied().unwrap_or(last),
                String::new(),
            ),
            Item::Receiver => (
                self.receiver.get(issue.field).copied().unwrap_or(last),
                "receiver.".to_string(),
            ),
            Item::Emitter(i) => {
                let (layer, local) = self.emitters[i];
                (layer, format!("emitters[{local}]."))
            }
            Item::Event(i) => {
                let (layer, local) = self.events[i];
                (layer, format!("events[{local}]."))
            }
        };
        let table = match issue.item {
            Item::Scenario => Some(&layers[layer].table),
            Item::Receiver => None,
            Item::Emitter(i) => nth_table(&layers[layer].table, "emitters", self.emitters[i].1),
            Item::Event(i) => nth_table(&layers[layer].table, "events", self.events[i].1),
        };
        Error::format(
            &layers[layer].path,
            format!("{prefix}{}", spelled(table, issue.field)),
            issue.expected,
        )
    }
}

fn nth_table<'a>(table: &'a Table, key: &str, index: usize) -> Option<&'a Table> {
    table.get(key)?.as_array()?.get(index)?.as_table()
}

/// The spelling of `field` the table actually uses (`freq_hz` for `offset_hz`…).
fn spelled(table: Option<&Table>, field: &'static str) -> &'static str {
    let aliases: &[&'static str] = match field {
        "offset_hz" => &["offset_hz", "freq_hz"],
        "low_offset_hz" => &["low_offset_hz", "low_hz"],
        "high_offset_hz" => &["high_offset_hz", "high_hz"],
        "offsets_hz" => &["offsets_hz", "freqs_hz", "offset_hz", "freq_hz"],
        _ => &[],
    };
    aliases
        .iter()
        .find(|a| table.is_some_and(|t| t.contains_key(**a)))
        .copied()
        .unwrap_or(field)
}

/// Top-level settings as written in one file.
#[derive(Default)]
struct Settings {
    seed: Option<u64>,
    sample_rate: Option<f64>,
    center_hz: Option<f64>,
    duration_s: Option<f64>,
    noise_dbfs: Option<f64>,
    datatype: Option<Datatype>,
    start_time: Option<DateTime<Utc>>,
}

/// The `[receiver]` keys as written in one file (each overrides its base's).
#[derive(Default)]
struct ReceiverSettings {
    dc_spike_db: Option<f64>,
    iq_image_dbc: Option<f64>,
    gain_drift_db: Option<f64>,
    gain_drift_period_s: Option<f64>,
}

impl ReceiverSettings {
    /// The keys present, by name.
    fn present(&self) -> [(&'static str, bool); 4] {
        [
            ("dc_spike_db", self.dc_spike_db.is_some()),
            ("iq_image_dbc", self.iq_image_dbc.is_some()),
            ("gain_drift_db", self.gain_drift_db.is_some()),
            ("gain_drift_period_s", self.gain_drift_period_s.is_some()),
        ]
    }

    /// These settings over `base`'s.
    fn over(self, base: ReceiverSettings) -> ReceiverSettings {
        ReceiverSettings {
            dc_spike_db: self.dc_spike_db.or(base.dc_spike_db),
            iq_image_dbc: self.iq_image_dbc.or(base.iq_image_dbc),
            gain_drift_db: self.gain_drift_db.or(base.gain_drift_db),
            gain_drift_period_s: self.gain_drift_period_s.or(base.gain_drift_period_s),
        }
    }
}

/// Merge the layers into one scenario (values not yet range-checked).
fn convert(layers: &[Layer]) -> Result<(Scenario, Origins)> {
    let last = layers.len() - 1;
    let mut merged = Settings::default();
    let mut receiver = ReceiverSettings::default();
    let mut origins = Origins {
        settings: BTreeMap::new(),
        receiver: BTreeMap::new(),
        emitters: Vec::new(),
        events: Vec::new(),
    };
    let mut description = None;
    let mut emitter_tables = Vec::new();
    let mut event_tables = Vec::new();
    for (index, layer) in layers.iter().enumerate() {
        let mut fields = Fields::new(&layer.path, "", &layer.table);
        fields.string("base")?;
        let settings = read_settings(&mut fields)?;
        let mut set = |key: &'static str, present: bool| {
            if present {
                origins.settings.insert(key, index);
            }
        };
        set("seed", settings.seed.is_some());
        set("sample_rate", settings.sample_rate.is_some());
        set("center_hz", settings.center_hz.is_some());
        set("duration_s", settings.duration_s.is_some());
        set("noise_dbfs", settings.noise_dbfs.is_some());
        merged = Settings {
            seed: settings.seed.or(merged.seed),
            sample_rate: settings.sample_rate.or(merged.sample_rate),
            center_hz: settings.center_hz.or(merged.center_hz),
            duration_s: settings.duration_s.or(merged.duration_s),
            noise_dbfs: settings.noise_dbfs.or(merged.noise_dbfs),
            datatype: settings.datatype.or(merged.datatype),
            start_time: settings.start_time.or(merged.start_time),
        };
        if let Some(table) = fields.table_field("receiver")? {
            let own = read_receiver(&mut Fields::new(&layer.path, "receiver", table))?;
            for (key, present) in own.present() {
                if present {
                    origins.receiver.insert(key, index);
                }
            }
            receiver = own.over(receiver);
        }
        let own_description = fields.string("description")?;
        if index == last {
            description = own_description.map(str::to_string);
        }
        for (i, table) in fields.tables("emitters")?.into_iter().enumerate() {
            emitter_tables.push((index, i, table));
        }
        let events = fields.tables("events")?;
        if index != last && !events.is_empty() {
            return Err(fields.error(
                "events",
                "expected no [[events]] in a base file (only its settings and [[emitters]] are inherited)",
            ));
        }
        for (i, table) in events.into_iter().enumerate() {
            event_tables.push((index, i, table));
        }
        fields.finish("a scenario file")?;
    }

    let child = &layers[last].path;
    let missing = |key: &str, expected: &str| {
        Error::format(
            child,
            key,
            format!("missing; expected {expected} (in this file or its base)"),
        )
    };
    let sample_rate = merged
        .sample_rate
        .ok_or_else(|| missing("sample_rate", "the sample rate in samples/s"))?;
    let center_hz = merged
        .center_hz
        .ok_or_else(|| missing("center_hz", "the centre frequency in Hz"))?;
    let mut scenario = Scenario::new(
        sample_rate,
        center_hz,
        merged
            .duration_s
            .ok_or_else(|| missing("duration_s", "the duration in seconds"))?,
        merged
            .noise_dbfs
            .ok_or_else(|| missing("noise_dbfs", "the noise power over the band in dBFS"))?,
        merged
            .seed
            .ok_or_else(|| missing("seed", "a non-negative integer seed"))?,
    );
    scenario.source = child.clone();
    scenario.description = description;
    scenario.datatype = merged.datatype.unwrap_or(Datatype::CI16_LE);
    if let Some(start_time) = merged.start_time {
        scenario.start_time = start_time;
    }
    scenario.receiver = impairments(receiver, &origins, layers)?;

    for (layer, i, table) in emitter_tables {
        let mut fields = Fields::new(&layers[layer].path, &format!("emitters[{i}]"), table);
        scenario
            .emitters
            .push(read_emitter(&mut fields, center_hz)?);
        origins.emitters.push((layer, i));
    }
    for (layer, i, table) in event_tables {
        let mut fields = Fields::new(&layers[layer].path, &format!("events[{i}]"), table);
        scenario.events.push(read_event(&mut fields, center_hz)?);
        origins.events.push((layer, i));
    }
    Ok((scenario, origins))
}

fn read_settings(fields: &mut Fields) -> Result<Settings> {
    let datatype = match fields.string("datatype")? {
        None => None,
        Some(name) => Some(
            name.parse::<Datatype>()
                .map_err(|message| fields.error("datatype", message))?,
        ),
    };
    let start_time = match fields.datetime_text("start_time")? {
        None => None,
        Some(text) => Some(
            DateTime::parse_from_rfc3339(&text)
                .map_err(|e| {
                    fields.error(
                        "start_time",
                        format!(
                            "expected an RFC 3339 date-time such as {DEFAULT_START_TIME}, got {text:?} ({e})"
                        ),
                    )
                })?
                .with_timezone(&Utc),
        ),
    };
    Ok(Settings {
        seed: fields.unsigned("seed")?,
        sample_rate: fields.number("sample_rate")?,
        center_hz: fields.number("center_hz")?,
        duration_s: fields.number("duration_s")?,
        noise_dbfs: fields.number("noise_dbfs")?,
        datatype,
        start_time,
    })
}

/// The `[receiver]` table of one file.
fn read_receiver(fields: &mut Fields) -> Result<ReceiverSettings> {
    let settings = ReceiverSettings {
        dc_spike_db: fields.number("dc_spike_db")?,
        iq_image_dbc: fields.number("iq_image_dbc")?,
        gain_drift_db: fields.number("gain_drift_db")?,
        gain_drift_period_s: fields.number("gain_drift_period_s")?,
    };
    fields.finish("the [receiver] table")?;
    Ok(settings)
}

/// The merged `[receiver]` keys as impairments (a drift period needs a depth).
fn impairments(
    settings: ReceiverSettings,
    origins: &Origins,
    layers: &[Layer],
) -> Result<Impairments> {
    let gain_drift = match (settings.gain_drift_db, settings.gain_drift_period_s) {
        (Some(depth_db), period_s) => Some(GainDrift {
            depth_db,
            period_s: period_s.unwrap_or(DEFAULT_GAIN_DRIFT_PERIOD_S),
        }),
        (None, None) => None,
        (None, Some(_)) => {
            let layer = origins.receiver["gain_drift_period_s"];
            return Err(Error::format(
                &layers[layer].path,
                "receiver.gain_drift_period_s",
                "expected gain_drift_db (the drift's depth in dB) to go with it",
            ));
        }
    };
    Ok(Impairments {
        dc_spike_db: settings.dc_spike_db,
        iq_image_dbc: settings.iq_image_dbc,
        gain_drift,
    })
}

fn read_emitter(fields: &mut Fields, center_hz: f64) -> Result<Emitter> {
    let name = fields.string("name")?;
    let name = fields.required("name", name, "a unique name (a string)")?;
    let kind_name = fields.string("type")?;
    let kind_name = fields.required("type", kind_name, "carrier, nbfm, burst or ptt")?;
    let offset_hz = fields.required_offset("offset_hz", "freq_hz", center_hz)?;
    let level_db = fields.level()?;
    let kind = match kind_name {
        "carrier" => EmitterKind::Carrier,
        "nbfm" => EmitterKind::Nbfm {
            deviation_hz: fields
                .number("deviation_hz")?
                .unwrap_or(DEFAULT_NBFM_DEVIATION_HZ),
        },
        "burst" => {
            let modulation = fields.string("modulation")?;
            let keying = match fields.required("modulation", modulation, "fsk or ook")? {
                "fsk" => Keying::Fsk {
                    deviation_hz: fields
                        .required_number("deviation_hz", "the FSK deviation in Hz")?,
                },
                "ook" => Keying::Ook,
                other => {
                    return Err(
                        fields.error("modulation", format!("expected fsk or ook, got {other:?}"))
                    )
                }
            };
            EmitterKind::Burst(BurstSpec {
                keying,
                bitrate: fields.required_number("bitrate", "the bit rate in bits/s")?,
                bursts: BurstTrain {
                    period_s: fields
                        .required_number("period_s", "the mean time between bursts in seconds")?,
                    burst_s: fields.required_number("burst_s", "the burst length in seconds")?,
                    jitter: fields.number("jitter")?.unwrap_or(DEFAULT_BURST_JITTER),
                },
            })
        }
        "ptt" => EmitterKind::Ptt(PttSpec {
            deviation_hz: fields
                .number("deviation_hz")?
                .unwrap_or(DEFAULT_NBFM_DEVIATION_HZ),
            key_s: seconds_range(fields, "key_s")?.unwrap_or(DEFAULT_PTT_KEY_S),
            idle_s: seconds_range(fields, "idle_s")?.unwrap_or(DEFAULT_PTT_IDLE_S),
        }),
        other => {
            return Err(fields.error(
                "type",
                format!("expected carrier, nbfm, burst or ptt, got {other:?}"),
            ))
        }
    };
    let drift = match (fields.number("drift_hz")?, fields.number("drift_period_s")?) {
        (Some(depth_hz), period_s) => Some(FrequencyDrift {
            depth_hz,
            period_s: period_s.unwrap_or(DEFAULT_FREQUENCY_DRIFT_PERIOD_S),
        }),
        (None, None) => None,
        (None, Some(_)) => {
            return Err(fields.error(
                "drift_period_s",
                "expected drift_hz (how far the centre wanders) to go with it",
            ))
        }
    };
    fields.finish(&format!("a {kind_name} emitter"))?;
    Ok(Emitter {
        name: name.to_string(),
        offset_hz,
        level_db,
        kind,
        drift,
    })
}

/// A `[shortest, longest]` pair of seconds.
fn seconds_range(fields: &mut Fields, key: &'static str) -> Result<Option<[f64; 2]>> {
    match fields.numbers(key)? {
        None => Ok(None),
        Some(pair) => match pair[..] {
            [low, high] => Ok(Some([low, high])),
            _ => Err(fields.error(
                key,
                format!(
                    "expected [shortest, longest] in seconds, got {} numbers",
                    pair.len()
                ),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::incidents::*;
    use crate::synth::scenario::IN_CODE_SOURCE;
    use crate::synth::scenario::{DutyCycle, Hopping};
    use std::fs;

    const SITE: &str = r#"
sample_rate = 250000
center_hz = 433.92e6
noise_dbfs = -30
seed = 9
datatype = "ci8"
description = "the site"

[[emitters]]
name = "beacon"
type = "carrier"
offset_hz = -80e3
level_db = 25

[[emitters]]
name = "radio"
type = "nbfm"
freq_hz = 433.97e6
level_db = 20
"#;

    const INCIDENTS: &str = r#"
base = "site.toml"
seed = 2
duration_s = 6
start_time = 2026-03-01T12:00:00Z

[[emitters]]
name = "sensor"
type = "burst"
modulation = "fsk"
offset_hz = -45e3
level_db = 15
bitrate = 9600
deviation_hz = 15e3
period_s = 0.5
burst_s = 0.02

[[events]]
kind = "jamming.tone"
start_s = 0.8
duration_s = 1.0
freqs_hz = [433.94e6, 433.95e6]
level_db = 22

[[events]]
kind = "emitter.unknown"
modulation = "fsk"
start_s = 2.4
duration_s = 1.2
offset_hz = 95e3
bandwidth_hz = 12.5e3
level_db = 18
period_s = 0.2
duty = 0.5

[[events]]
kind = "jamming.pulsed"
start_s = 4
duration_s = 1
low_hz = 433.85e6
high_offset_hz = 0
period_s = 0.05
duty = 0.3
level_db = 15

[[events]]
kind = "emitter.anomalous"
emitter = "beacon"
start_s = 5
duration_s = 0.5
extra_db = 10
"#;

    /// A directory holding `site.toml` (with `site` as its text).
    fn dir_with_site(site: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("site.toml"), site).unwrap();
        dir
    }

    fn parse_in(dir: &Path, text: &str) -> Result<Scenario> {
        Scenario::from_toml_str(text, dir, "incidents.toml")
    }

    fn error_in(dir: &Path, text: &str) -> String {
        parse_in(dir, text).expect_err("invalid").to_string()
    }

    /// The incidents scenario with `from` replaced by `to`.
    fn edited(from: &str, to: &str) -> String {
        assert!(INCIDENTS.contains(from), "{from}");
        INCIDENTS.replacen(from, to, 1)
    }

    #[test]
    fn a_base_supplies_defaults_and_prepends_its_emitters() {
        let dir = dir_with_site(SITE);
        let s = parse_in(dir.path(), INCIDENTS).unwrap();
        assert_eq!(s.source, PathBuf::from("incidents.toml"));
        assert_eq!(s.file_name(), "incidents.toml");
        assert_eq!(
            (s.sample_rate, s.center_hz, s.noise_dbfs),
            (250e3, 433.92e6, -30.0)
        );
        assert_eq!((s.seed, s.duration_s), (2, 6.0));
        assert_eq!(s.datatype, Datatype::CI8);
        assert_eq!(s.description, None, "descriptions are not inherited");
        assert_eq!(s.start_time.to_rfc3339(), "2026-03-01T12:00:00+00:00");
        let names: Vec<&str> = s.emitters.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["beacon", "radio", "sensor"]);
        assert!((s.emitters[1].offset_hz - 50e3).abs() < 1e-6);
        assert_eq!(
            s.emitters[1].kind,
            EmitterKind::Nbfm {
                deviation_hz: DEFAULT_NBFM_DEVIATION_HZ
            }
        );
        let Incident::Tone(Tone { offsets_hz, .. }) = &s.events[0].incident else {
            panic!("tone");
        };
        assert!((offsets_hz[0] - 20e3).abs() < 1e-6 && (offsets_hz[1] - 30e3).abs() < 1e-6);
        assert_eq!(
            s.events[1].incident,
            Incident::UnknownEmitter(UnknownEmitter {
                modulation: RogueModulation::fsk(12.5e3),
                offset_hz: 95e3,
                level_db: 18.0,
                hopping: None,
                timing: RogueTiming::DutyCycle(DutyCycle {
                    period_s: 0.2,
                    duty: 0.5
                }),
            })
        );
        let Incident::Pulsed(Pulsed { band, .. }) = &s.events[2].incident else {
            panic!("pulsed");
        };
        assert!((band.low_offset_hz + 70e3).abs() < 1e-6 && band.high_offset_hz == 0.0);
        assert_eq!(
            s.events[3].incident,
            Incident::AnomalousEmitter(AnomalousEmitter {
                emitter: "beacon".into(),
                extra_db: 10.0,
                widen: 1.0,
                shift_hz: 0.0,
            })
        );
        // The site alone is incomplete: it has no duration.
        let err = Scenario::from_toml_str(SITE, dir.path(), "site.toml").unwrap_err();
        assert_eq!(
            err.to_string(),
            "site.toml: duration_s: missing; expected the duration in seconds (in this file or its base)"
        );
    }

    #[test]
    fn load_reads_files_relative_to_themselves() {
        let dir = dir_with_site(SITE);
        fs::create_dir(dir.path().join("sub")).unwrap();
        let path = dir.path().join("sub/x.toml");
        fs::write(
            &path,
            edited("base = \"site.toml\"", "base = \"../site.toml\""),
        )
        .unwrap();
        let s = Scenario::load(&path).unwrap();
        assert_eq!(s.emitters.len(), 3);
        assert_eq!(s.file_name(), "x.toml");
        let missing = Scenario::load(&dir.path().join("nope.toml")).unwrap_err();
        assert!(missing.to_string().contains("nope.toml"));
        assert_ne!(s.source, PathBuf::from(IN_CODE_SOURCE));
    }

    #[test]
    fn impossible_values_name_the_file_and_field() {
        let dir = dir_with_site(SITE);
        let d = dir.path();
        let cases = [
            (
                edited("duration_s = 6", "duration_s = -6"),
                "incidents.toml: duration_s: expected a number greater than 0, got -6",
            ),
            (
                edited("start_s = 5\n", "start_s = 5.8\n"),
                "incidents.toml: events[3].duration_s: expected the event to end within the recording (6 s), but it ends at 6.3 s",
            ),
            (
                edited("433.95e6]", "434.1e6]"),
                "incidents.toml: events[0].freqs_hz: expected an offset within ±125 kHz of the centre (433.795–434.045 MHz), got 180 kHz (434.1 MHz)",
            ),
            (
                edited("emitter = \"beacon\"", "emitter = \"bacon\""),
                "incidents.toml: events[3].emitter: expected the name of a known emitter (beacon, radio, sensor), got \"bacon\"",
            ),
            (
                edited("kind = \"jamming.tone\"", "kind = \"jamming.loud\""),
                "incidents.toml: events[0].kind: expected one of jamming.barrage, jamming.tone, jamming.swept, jamming.pulsed, emitter.unknown, emitter.anomalous, receiver.overload, receiver.signal_loss, got \"jamming.loud\"",
            ),
            (
                edited("kind = \"jamming.tone\"", "kind = \"monitoring_gap\""),
                "incidents.toml: events[0].kind: expected one of",
            ),
            (
                edited("duty = 0.3", "duty = 0"),
                "incidents.toml: events[2].duty: expected an on fraction in (0, 1], got 0",
            ),
            (
                edited("duty = 0.3", "duty = 1.5"),
                "incidents.toml: events[2].duty: expected an on fraction in (0, 1], got 1.5",
            ),
            (
                edited("duty = 0.5\n", ""),
                "incidents.toml: events[1].duty: missing; expected the on fraction",
            ),
            (
                edited("level_db = 22\n", ""),
                "incidents.toml: events[0].level_db: missing; expected the level in dB",
            ),
            (
                edited("level_db = 22", "level_db = 22\nduty = 0.5"),
                "incidents.toml: events[0].duty: unknown key for a jamming.tone event; expected one of: duration_s, freq_hz, freqs_hz, kind, level_db, offset_hz, offsets_hz, start_s",
            ),
            (
                edited("bitrate = 9600", "bitrat = 9600"),
                "incidents.toml: emitters[0].bitrate: missing; expected the bit rate",
            ),
            (
                edited("type = \"burst\"", "type = \"bursty\""),
                "incidents.toml: emitters[0].type: expected carrier, nbfm, burst or ptt, got \"bursty\"",
            ),
            (
                edited("burst_s = 0.02", "burst_s = 0.6"),
                "incidents.toml: emitters[0].burst_s: expected bursts shorter than 90 % of period_s",
            ),
            (
                edited("seed = 2", "seed = -2"),
                "incidents.toml: seed: expected a non-negative integer, got an integer -2",
            ),
            (
                edited("seed = 2", "seed = \"two\""),
                "incidents.toml: seed: expected a non-negative integer, got a string \"two\"",
            ),
            (
                edited("seed = 2", "datatype = \"cf16_le\""),
                "incidents.toml: datatype: unsupported datatype \"cf16_le\"",
            ),
            (
                edited("start_time = 2026-03-01T12:00:00Z", "start_time = \"yesterday\""),
                "incidents.toml: start_time: expected an RFC 3339 date-time",
            ),
            (
                edited("seed = 2", "seed = 2\nseed = 3"),
                "incidents.toml: toml: expected valid TOML (at line 4)",
            ),
            (
                edited("burst_s = 0.02", "burst_s = 0.02\ndrift_period_s = 60"),
                "incidents.toml: emitters[0].drift_period_s: expected drift_hz (how far the centre wanders) to go with it",
            ),
            (
                edited("burst_s = 0.02", "burst_s = 0.02\njitter = 0.7"),
                "incidents.toml: emitters[0].jitter: expected a fraction of the period from 0 to 0.5, got 0.7",
            ),
            (
                edited("type = \"burst\"", "type = \"ptt\"\nkey_s = [1, 2, 3]"),
                "incidents.toml: emitters[0].key_s: expected [shortest, longest] in seconds, got 3 numbers",
            ),
            (
                edited("type = \"burst\"\nmodulation = \"fsk\"", "type = \"ptt\"\nmodulation = \"fsk\""),
                "incidents.toml: emitters[0].bitrate: unknown key for a ptt emitter; expected one of: deviation_hz, drift_hz, drift_period_s, freq_hz, idle_s, key_s, level_db, name, offset_hz, type",
            ),
            (
                edited("duty = 0.5", "duty = 0.5\nburst_s = 0.01"),
                "incidents.toml: events[1].burst_s: expected either duty or burst_s (bursts of a fixed length), not both",
            ),
            (
                edited("duty = 0.5", "jitter = 0.1"),
                "incidents.toml: events[1].jitter: expected burst_s and period_s to go with it",
            ),
            (
                edited("period_s = 0.2\nduty = 0.5", "burst_s = 0.01"),
                "incidents.toml: events[1].period_s: missing; expected the time between burst starts",
            ),
            (
                edited("period_s = 0.2\nduty = 0.5", "hop_channels = 10\ndwell_s = 0.01"),
                "incidents.toml: events[1].hop_spacing_hz: missing; expected the spacing of hop channels in Hz",
            ),
            (
                edited("period_s = 0.2\nduty = 0.5", "hop_channels = -3"),
                "incidents.toml: events[1].hop_channels: expected a non-negative integer, got an integer -3",
            ),
            (
                edited("period_s = 0.2\nduty = 0.5", "hop_channels = 30\nhop_spacing_hz = 25e3\ndwell_s = 0.01"),
                "incidents.toml: events[1].hop_spacing_hz: expected the occupied band",
            ),
            (
                edited("extra_db = 10", "extra_db = 10\nshift_hz = 300e3"),
                "incidents.toml: events[3].shift_hz: expected the occupied band",
            ),
            (
                edited("[[emitters]]", "[receiver]\ndc_spike = 15\n[[emitters]]"),
                "incidents.toml: receiver.dc_spike: unknown key for the [receiver] table; expected one of: dc_spike_db, gain_drift_db, gain_drift_period_s, iq_image_dbc",
            ),
            (
                edited("[[emitters]]", "[receiver]\ngain_drift_period_s = 60\n[[emitters]]"),
                "incidents.toml: receiver.gain_drift_period_s: expected gain_drift_db (the drift's depth in dB) to go with it",
            ),
            (
                edited("[[emitters]]", "[receiver]\ngain_drift_db = 1\ngain_drift_period_s = 0.01\n[[emitters]]"),
                "incidents.toml: receiver.gain_drift_period_s: expected at least 16384 samples",
            ),
            (
                edited("[[emitters]]", "[receiver]\niq_image_dbc = 3\n[[emitters]]"),
                "incidents.toml: receiver.iq_image_dbc: expected an image level below the signal",
            ),
            (
                edited("[[emitters]]", "[receiver]\ndc_spike_db = \"loud\"\n[[emitters]]"),
                "incidents.toml: receiver.dc_spike_db: expected a number, got a string",
            ),
            (
                edited("[[emitters]]", "receiver = 3\n[[emitters]]"),
                "incidents.toml: receiver: expected a table ([key]), got an integer 3",
            ),
            (
                edited("offset_hz = 95e3", "offset_hz = 95e3\nfreq_hz = 434e6"),
                "incidents.toml: events[1].freq_hz: expected either offset_hz or freq_hz, not both",
            ),
        ];
        for (text, expected) in cases {
            let message = error_in(d, &text);
            assert!(
                message.starts_with(expected),
                "{message}\n  does not start with\n{expected}"
            );
        }
    }

    #[test]
    fn real_site_keys_are_read() {
        let dir = dir_with_site(SITE);
        let text = edited("burst_s = 0.02", "burst_s = 0.02\njitter = 0.3\ndrift_hz = 500")
            .replacen("level_db = 20\n", "level_db = 20\ndrift_hz = 1000\ndrift_period_s = 60\n", 1)
            .replacen("period_s = 0.2\nduty = 0.5", "burst_s = 0.005\nperiod_s = 0.3\njitter = 0.1\nhop_channels = 4\nhop_spacing_hz = 5e3\ndwell_s = 0.03", 1)
            .replacen("extra_db = 10", "extra_db = 10\nshift_hz = -30e3", 1)
            + r#"
[[emitters]]
name = "walkie"
type = "ptt"
offset_hz = 10e3
level_db = 20
idle_s = [1, 4]

[[events]]
kind = "jamming.barrage"
start_s = 5.5
duration_s = 0.5
low_offset_hz = -10e3
high_offset_hz = 10e3
level_db = 12
creep_db_per_s = 2
"#;
        let s = parse_in(dir.path(), &text).unwrap();
        let sensor = &s.emitters[2];
        let EmitterKind::Burst(burst) = sensor.kind else {
            panic!("burst");
        };
        assert_eq!(burst.bursts.jitter, 0.3);
        assert_eq!(
            sensor.drift,
            Some(FrequencyDrift {
                depth_hz: 500.0,
                period_s: DEFAULT_FREQUENCY_DRIFT_PERIOD_S
            })
        );
        assert_eq!(
            s.emitters[3].kind,
            EmitterKind::Ptt(PttSpec {
                deviation_hz: DEFAULT_NBFM_DEVIATION_HZ,
                key_s: DEFAULT_PTT_KEY_S,
                idle_s: [1.0, 4.0],
            })
        );
        let Incident::UnknownEmitter(UnknownEmitter {
            timing, hopping, ..
        }) = s.events[1].incident
        else {
            panic!("rogue");
        };
        assert_eq!(
            timing,
            RogueTiming::Bursts(BurstTrain {
                burst_s: 0.005,
                period_s: 0.3,
                jitter: 0.1
            })
        );
        assert_eq!(
            hopping,
            Some(Hopping {
                channels: 4,
                spacing_hz: 5e3,
                dwell_s: 0.03
            })
        );
        let Incident::AnomalousEmitter(AnomalousEmitter {
            shift_hz, extra_db, ..
        }) = s.events[3].incident
        else {
            panic!("anomalous");
        };
        assert_eq!((shift_hz, extra_db), (-30e3, 10.0));
        // Moved, not louder: extra_db may be left out.
        let moved = text.replacen("extra_db = 10\n", "", 1);
        let s = parse_in(dir.path(), &moved).unwrap();
        let Incident::AnomalousEmitter(AnomalousEmitter { extra_db, .. }) = s.events[3].incident
        else {
            panic!("anomalous");
        };
        assert_eq!(extra_db, 0.0);
        let Incident::Barrage(Barrage { creep_db_per_s, .. }) = s.events[4].incident else {
            panic!("barrage");
        };
        assert_eq!(creep_db_per_s, Some(2.0));
        // Emitters without the new keys keep the old behaviour.
        let s = parse_in(dir.path(), INCIDENTS).unwrap();
        let EmitterKind::Burst(burst) = s.emitters[2].kind else {
            panic!("burst");
        };
        assert_eq!(burst.bursts.jitter, DEFAULT_BURST_JITTER);
        assert!(s.emitters.iter().all(|e| e.drift.is_none()));
    }

    #[test]
    fn receiver_keys_are_inherited_one_by_one() {
        let site = SITE.replacen(
            "[[emitters]]",
            "[receiver]\ndc_spike_db = 15\ngain_drift_db = 1.5\ngain_drift_period_s = 240\n\n[[emitters]]",
            1,
        );
        let dir = dir_with_site(&site);
        let s = parse_in(dir.path(), INCIDENTS).unwrap();
        assert_eq!(
            s.receiver,
            Impairments {
                dc_spike_db: Some(15.0),
                iq_image_dbc: None,
                gain_drift: Some(GainDrift {
                    depth_db: 1.5,
                    period_s: 240.0
                }),
            }
        );
        let own = "[receiver]\niq_image_dbc = -30\ngain_drift_db = 2\n\n[[emitters]]";
        let s = parse_in(dir.path(), &edited("[[emitters]]", own)).unwrap();
        assert_eq!(s.receiver.dc_spike_db, Some(15.0));
        assert_eq!(s.receiver.iq_image_dbc, Some(-30.0));
        assert_eq!(s.receiver.gain_drift.unwrap().depth_db, 2.0);
        assert_eq!(s.receiver.gain_drift.unwrap().period_s, 240.0);
        // A depth alone drifts over the default period; no table, no impairment.
        let dir = dir_with_site(SITE);
        let own = "[receiver]\ngain_drift_db = 2\n\n[[emitters]]";
        let s = parse_in(dir.path(), &edited("[[emitters]]", own)).unwrap();
        assert_eq!(
            s.receiver.gain_drift.unwrap().period_s,
            DEFAULT_GAIN_DRIFT_PERIOD_S
        );
        assert!(parse_in(dir.path(), INCIDENTS).unwrap().receiver.is_ideal());
        // A range error in the base names the base file.
        let dir = dir_with_site(&site.replace("gain_drift_db = 1.5", "gain_drift_db = 50"));
        let message = error_in(dir.path(), INCIDENTS);
        assert!(
            message.starts_with(&format!(
                "{}: receiver.gain_drift_db: expected a drift depth from 0 to 20 dB, got 50",
                dir.path().join("site.toml").display()
            )),
            "{message}"
        );
    }

    #[test]
    fn errors_from_a_base_name_the_base_file() {
        let dir = dir_with_site(&SITE.replace("sample_rate = 250000", "sample_rate = 0"));
        let message = error_in(dir.path(), INCIDENTS);
        let site = dir.path().join("site.toml");
        assert_eq!(
            message,
            format!(
                "{}: sample_rate: expected a number greater than 0, got 0",
                site.display()
            )
        );
        let dir = dir_with_site(&SITE.replace("freq_hz = 433.97e6", "freq_hz = 434.2e6"));
        let message = error_in(dir.path(), INCIDENTS);
        let site = dir.path().join("site.toml");
        assert!(
            message.starts_with(&format!(
                "{}: emitters[1].freq_hz: expected an offset",
                site.display()
            )),
            "{message}"
        );
        let dir = dir_with_site(&format!("{SITE}\n[[events]]\nkind = \"jamming.tone\""));
        let message = error_in(dir.path(), INCIDENTS);
        assert!(message.ends_with("events: expected no [[events]] in a base file (only its settings and [[emitters]] are inherited)"), "{message}");
    }

    #[test]
    fn base_cycles_and_missing_bases_are_errors() {
        let dir = dir_with_site(&format!("base = \"site.toml\"\n{SITE}"));
        let message = error_in(dir.path(), INCIDENTS);
        assert!(
            message.contains("base: expected a chain of at most"),
            "{message}"
        );
        let dir = tempfile::tempdir().unwrap();
        let message = error_in(dir.path(), INCIDENTS);
        assert!(message.contains("site.toml"), "{message}");
        let message = error_in(dir.path(), "base = 3");
        assert_eq!(
            message,
            "incidents.toml: base: expected a file name (a string)"
        );
    }
}
