//! Baseline profiles (`profiles/<site>.toml`): what "normal" looks like at one
//! site — the capture settings, per-bin statistics of the averaged spectrum
//! for each tuning (segment), known emitters, protected bands and per-site
//! detector thresholds. [`learn`] builds and merges them.

use crate::config_keys as keys;
pub mod learn;
mod rounded;
pub mod thresholds;

use crate::dsp::PsdConfig;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub use keys::explain as explain_unknown_key;
pub use thresholds::Thresholds;

/// Highest frequency a profile may name (1 THz, as on the command line).
pub const MAX_FREQ_HZ: f64 = 1e12;

/// The profile format version this build reads and writes.
pub const FORMAT: u32 = 1;

/// A site's baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Format version, currently 1.
    pub format: u32,
    pub site: Site,
    /// Capture settings the statistics were learned with.
    pub capture: CaptureSettings,
    /// Per-site overrides; only values that differ from the defaults are written,
    /// so a profile follows improved defaults unless the site chose otherwise.
    #[serde(default, serialize_with = "thresholds::serialize_overrides")]
    pub thresholds: Thresholds,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protected: Vec<ProtectedBand>,
    #[serde(default)]
    pub emitters: Vec<Emitter>,
    /// The site's receiver settings for live monitoring (`args`, `gain_db`, `antenna`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<toml::Table>,
    /// Absolute power scale of the site's receiver, when measured: alerts then carry `peak_dbm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
    /// The sensor's chain-of-custody settings: the key that signs its logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custody: Option<Custody>,
    pub segments: Vec<Segment>,
}

/// Who and what the profile is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Site {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub location: String,
    /// Who learned it (user or tool).
    #[serde(default)]
    pub learned_by: String,
    /// RFC 3339 time of the last learning run (from the recording, or the clock for a device).
    #[serde(default)]
    pub learned_at: String,
    /// rfsentry version that wrote the statistics.
    #[serde(default)]
    pub tool_version: String,
    /// Recordings or devices learned from.
    #[serde(default)]
    pub sources: Vec<String>,
}

/// The capture settings a profile was learned with; monitoring must match them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureSettings {
    pub sample_rate: f64,
    #[serde(flatten)]
    pub psd: PsdConfig,
    /// Receiver gain in dB, when learned from a device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gain_db: Option<f64>,
}

/// Per-bin statistics of the averaged spectrum at one tuning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    pub center_hz: f64,
    /// Seconds to stay on this tuning in a scan plan (0 for a single tuning).
    #[serde(default)]
    pub dwell_s: f64,
    /// Frames the statistics summarise.
    pub frames: u64,
    /// Median of the frame power per bin (the robust floor), dBFS.
    #[serde(serialize_with = "rounded::vec")]
    pub floor_dbfs: Vec<f32>,
    #[serde(serialize_with = "rounded::vec")]
    pub p95_dbfs: Vec<f32>,
    #[serde(serialize_with = "rounded::vec")]
    pub p99_dbfs: Vec<f32>,
    #[serde(serialize_with = "rounded::vec")]
    pub max_dbfs: Vec<f32>,
    /// 99th percentile of the per-frame max-hold, dBFS (what short bursts reach).
    #[serde(serialize_with = "rounded::vec")]
    pub maxhold_p99_dbfs: Vec<f32>,
    /// Fraction of frames in which the bin stood above floor + occupancy margin.
    #[serde(serialize_with = "rounded::vec")]
    pub occupancy: Vec<f32>,
    /// Median total power per FFT over the band, dBFS.
    #[serde(serialize_with = "rounded::scalar")]
    pub total_power_dbfs: f32,
    /// 1st percentile of the total power per FFT, dBFS: how quiet the band ever got.
    #[serde(default = "floor_dbfs")]
    pub total_power_p01_dbfs: f32,
    /// Largest fraction of clipped samples in any frame while learning.
    #[serde(default)]
    pub clipped_fraction_max: f32,
    /// Median over bins of the floor: the band's noise floor, dBFS per bin.
    #[serde(serialize_with = "rounded::scalar")]
    pub noise_floor_dbfs: f32,
}

/// Where a known emitter came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmitterSource {
    /// Found by `learn` as contiguous occupied bins.
    Learned,
    /// Written by hand (an allow-list entry).
    Manual,
}

/// A transmitter the baseline expects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Emitter {
    pub name: String,
    pub low_hz: f64,
    pub high_hz: f64,
    /// Strongest level seen, dBFS per bin.
    #[serde(default)]
    #[serde(serialize_with = "rounded::scalar")]
    pub peak_dbfs: f32,
    /// Typical level while on (median of its on-frames), dBFS per bin.
    #[serde(default)]
    #[serde(serialize_with = "rounded::scalar")]
    pub power_dbfs: f32,
    /// Fraction of time on.
    #[serde(default)]
    #[serde(serialize_with = "rounded::scalar")]
    pub duty: f32,
    #[serde(default = "manual")]
    pub source: EmitterSource,
}

fn floor_dbfs() -> f32 {
    crate::dsp::psd::FLOOR_DBFS
}

fn manual() -> EmitterSource {
    EmitterSource::Manual
}

impl Emitter {
    pub fn center_hz(&self) -> f64 {
        0.5 * (self.low_hz + self.high_hz)
    }
    pub fn bandwidth_hz(&self) -> f64 {
        self.high_hz - self.low_hz
    }
}

/// How dBFS maps to dBm at the antenna port for the site's receiver at the
/// profile's capture settings and gain, measured by the site team (a signal
/// generator of known level into the receiver): dBm = dBFS + `dbm_at_0dbfs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    /// The level in dBm that reads as 0 dBFS (a full-scale tone).
    pub dbm_at_0dbfs: f64,
    /// How and when it was measured.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// `[custody]`: how the site's sensor signs what it writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Custody {
    /// The sensor's private key file (from `rfsentry keygen`); a relative
    /// path is relative to the profile's directory. `--key` overrides it.
    pub key: PathBuf,
}

impl Profile {
    /// The key file `[custody]` names, resolved against the directory of
    /// the profile at `profile_path`.
    pub fn custody_key(&self, profile_path: &Path) -> Option<PathBuf> {
        let key = &self.custody.as_ref()?.key;
        let dir = profile_path.parent().unwrap_or(Path::new(""));
        Some(dir.join(key))
    }
}

/// A band whose jamming matters most; detectors use tighter thresholds there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtectedBand {
    pub name: String,
    pub low_hz: f64,
    pub high_hz: f64,
}

impl Profile {
    /// The default path of a site's profile in `dir`.
    pub fn path_in(dir: &Path, site: &str) -> PathBuf {
        dir.join(format!("{site}.toml"))
    }

    /// Load and validate a profile.
    pub fn load(path: &Path) -> Result<Profile> {
        let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::format(
                path,
                "profile",
                format!(
                    "a baseline profile; the file does not exist (learn one first: rfsentry learn --site {} --profile-dir {} RECORDING, or pass the --profile-dir that holds it)",
                    path.file_stem().unwrap_or_default().to_string_lossy(),
                    path.parent()
                        .filter(|d| !d.as_os_str().is_empty())
                        .unwrap_or(Path::new("."))
                        .display()
                ),
            ),
            std::io::ErrorKind::InvalidData => Error::format(
                path,
                "profile",
                "a baseline profile in TOML (UTF-8 text); the file is not text",
            ),
            _ => Error::io(path, e),
        })?;
        let profile: Profile = toml::from_str(&text).map_err(|e| {
            let at = e.span().map(|s| s.start);
            let field = at
                .map(|at| locate(&text, at))
                .unwrap_or_else(|| "profile".into());
            let table = keys::table_at(&text, at.unwrap_or(0));
            let message = keys::explain(e.message(), &table)
                .unwrap_or_else(|| format!("a valid rfsentry profile: {}", e.message()));
            Error::format(path, field, message)
        })?;
        check_capture_keys(path, &text)?;
        #[cfg(feature = "soapy")]
        if let Some(device) = &profile.device {
            crate::source::soapy::DeviceConfig::from_table(device)
                .map_err(|e| Error::format(path, "device", e.to_string()))?;
        }
        profile.validate(path)?;
        Ok(profile)
    }

    /// Check internal consistency: format, bin counts, frequency ranges.
    pub fn validate(&self, path: &Path) -> Result<()> {
        let err = |field: &str, expected: String| Err(Error::format(path, field, expected));
        if self.format != FORMAT {
            return err(
                "format",
                format!(
                    "format = {FORMAT} (this is rfsentry {}), found {}",
                    crate::VERSION,
                    self.format
                ),
            );
        }
        if !crate::iq::open::is_plausible_sample_rate(self.capture.sample_rate) {
            return err(
                "capture.sample_rate",
                format!(
                    "a positive number of samples per second, at most {:e}; found {}",
                    crate::iq::open::MAX_SAMPLE_RATE,
                    self.capture.sample_rate
                ),
            );
        }
        if let Err(e) = self.capture.psd.validate(self.capture.sample_rate) {
            return err("capture", e.to_string());
        }
        if self.capture.gain_db.is_some_and(|g| !g.is_finite()) {
            return err("capture.gain_db", "a finite gain in dB".into());
        }
        if let Some(c) = self
            .calibration
            .as_ref()
            .filter(|c| !c.dbm_at_0dbfs.is_finite())
        {
            return err(
                "calibration.dbm_at_0dbfs",
                format!(
                    "a finite level in dBm (the level that reads as 0 dBFS); found {}",
                    c.dbm_at_0dbfs
                ),
            );
        }
        if self.segments.is_empty() {
            return err("segments", "at least one [[segments]] table".into());
        }
        let n = self.capture.psd.fft_size;
        for (i, s) in self.segments.iter().enumerate() {
            if !(s.center_hz.is_finite() && s.center_hz >= 0.0) {
                return err(
                    &format!("segments[{i}].center_hz"),
                    format!(
                        "a centre frequency in Hz (finite, not negative); found {}",
                        s.center_hz
                    ),
                );
            }
            if s.frames == 0 {
                return err(
                    &format!("segments[{i}].frames"),
                    "at least 1 frame: statistics learned from no frames describe nothing".into(),
                );
            }
            if !(s.dwell_s.is_finite() && s.dwell_s >= 0.0) {
                return err(
                    &format!("segments[{i}].dwell_s"),
                    format!("a dwell time in seconds, 0 or more; found {}", s.dwell_s),
                );
            }
            for (name, v) in [
                ("total_power_dbfs", s.total_power_dbfs),
                ("total_power_p01_dbfs", s.total_power_p01_dbfs),
                ("noise_floor_dbfs", s.noise_floor_dbfs),
            ] {
                if !v.is_finite() {
                    return err(
                        &format!("segments[{i}].{name}"),
                        format!("a finite level in dBFS; found {v}"),
                    );
                }
            }
            if !(0.0..=1.0).contains(&s.clipped_fraction_max) {
                return err(
                    &format!("segments[{i}].clipped_fraction_max"),
                    format!("a fraction from 0 to 1; found {}", s.clipped_fraction_max),
                );
            }
            if let Some(j) = self.segments[..i]
                .iter()
                .position(|o| (o.center_hz - s.center_hz).abs() < 1.0)
            {
                return err(
                    &format!("segments[{i}].center_hz"),
                    format!(
                        "one segment per tuning; {} Hz is also segments[{j}]'s",
                        s.center_hz
                    ),
                );
            }
            for (name, v) in [
                ("floor_dbfs", &s.floor_dbfs),
                ("p95_dbfs", &s.p95_dbfs),
                ("p99_dbfs", &s.p99_dbfs),
                ("max_dbfs", &s.max_dbfs),
                ("maxhold_p99_dbfs", &s.maxhold_p99_dbfs),
                ("occupancy", &s.occupancy),
            ] {
                if v.len() != n {
                    return err(
                        &format!("segments[{i}].{name}"),
                        format!("{n} values (fft_size), found {}", v.len()),
                    );
                }
                if v.iter().any(|x| !x.is_finite()) {
                    return err(&format!("segments[{i}].{name}"), "finite numbers".into());
                }
            }
        }
        for (i, e) in self.emitters.iter().enumerate() {
            if !(e.low_hz.is_finite() && e.high_hz.is_finite() && e.low_hz <= e.high_hz) {
                return err(
                    &format!("emitters[{i}] ({})", e.name),
                    format!(
                        "finite low_hz ≤ high_hz; found low_hz = {}, high_hz = {}",
                        e.low_hz, e.high_hz
                    ),
                );
            }
            if e.low_hz < 0.0 || e.high_hz > MAX_FREQ_HZ {
                return err(
                    &format!("emitters[{i}] ({})", e.name),
                    format!(
                        "a frequency range within 0 Hz to {MAX_FREQ_HZ:e} Hz; found {} to {} Hz",
                        e.low_hz, e.high_hz
                    ),
                );
            }
            let half = 0.5 * self.capture.sample_rate;
            if let Some(seg) = self.segments.iter().find(|s| {
                e.source == EmitterSource::Manual
                    && e.low_hz <= s.center_hz - half
                    && e.high_hz >= s.center_hz + half
            }) {
                return err(
                    &format!("emitters[{i}] ({})", e.name),
                    format!(
                        "a known emitter narrower than the monitored band; {} to {} Hz covers the whole band at {} Hz ({} to {} Hz) and would hide every rogue transmitter and jammer there",
                        e.low_hz,
                        e.high_hz,
                        seg.center_hz,
                        seg.center_hz - half,
                        seg.center_hz + half
                    ),
                );
            }
            if !(e.peak_dbfs.is_finite() && e.power_dbfs.is_finite()) {
                return err(
                    &format!("emitters[{i}] ({})", e.name),
                    format!(
                        "finite peak_dbfs and power_dbfs; found {} and {}",
                        e.peak_dbfs, e.power_dbfs
                    ),
                );
            }
            if !(0.0..=1.0).contains(&e.duty) {
                return err(
                    &format!("emitters[{i}] ({}).duty", e.name),
                    format!("a fraction of time from 0 to 1; found {}", e.duty),
                );
            }
        }
        for (i, b) in self.protected.iter().enumerate() {
            if !(b.low_hz.is_finite() && b.high_hz.is_finite() && b.low_hz < b.high_hz) {
                return err(
                    &format!("protected[{i}] ({})", b.name),
                    "low_hz < high_hz".into(),
                );
            }
        }
        self.thresholds
            .validate()
            .map_err(|e| Error::format(path, "thresholds", e))
    }

    /// Check the profile, then write it atomically: a profile that would not
    /// load again is an error now, not at the next `monitor`.
    pub fn save(&self, path: &Path) -> Result<()> {
        self.validate(path)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let text = toml::to_string(self).map_err(|e| Error::Encode {
            what: "the profile".into(),
            message: e.to_string(),
        })?;
        crate::atomic_file::write_atomic(path, text.as_bytes())
    }

    /// The segment tuned to `center_hz` (within 1 Hz).
    pub fn segment_for(&self, center_hz: f64) -> Option<(usize, &Segment)> {
        self.segments
            .iter()
            .enumerate()
            .find(|(_, s)| (s.center_hz - center_hz).abs() < 1.0)
    }

    /// Check that a stream at `sample_rate`/`center_hz` analysed with `psd` fits this profile.
    pub fn check_fits(
        &self,
        source: &str,
        sample_rate: f64,
        center_hz: f64,
        psd: &PsdConfig,
    ) -> Result<()> {
        let c = &self.capture;
        let name = &self.site.name;
        if (c.sample_rate - sample_rate).abs() > 1e-6 * c.sample_rate {
            return Err(Error::Mismatch {
                subject: source.to_string(),
                property: "sample rate".into(),
                found: format!("{sample_rate} Hz"),
                against: format!("profile {name:?}, learned at {} Hz", c.sample_rate),
            });
        }
        if c.psd.fft_size != psd.fft_size {
            return Err(Error::Mismatch {
                subject: source.to_string(),
                property: "FFT size".into(),
                found: psd.fft_size.to_string(),
                against: format!("profile {name:?}, learned with {}", c.psd.fft_size),
            });
        }
        if self.segment_for(center_hz).is_none() {
            let known: Vec<String> = self
                .segments
                .iter()
                .map(|s| format!("{} Hz", s.center_hz))
                .collect();
            return Err(Error::Mismatch {
                subject: source.to_string(),
                property: "centre frequency".into(),
                found: format!("{center_hz} Hz"),
                against: format!("profile {name:?}, learned at {}", known.join(", ")),
            });
        }
        Ok(())
    }
}

/// `[capture]` flattens the PSD settings into its table, which serde cannot
/// combine with `deny_unknown_fields`: its keys are checked here against the
/// keys a [`CaptureSettings`] writes (so a typo such as `fft_szie` is an
/// error, not a silent default).
fn check_capture_keys(path: &Path, text: &str) -> Result<()> {
    let Ok(value) = text.parse::<toml::Table>() else {
        return Ok(());
    };
    let Some(capture) = value.get("capture").and_then(|c| c.as_table()) else {
        return Ok(());
    };
    let every_key = CaptureSettings {
        sample_rate: 1.0,
        psd: PsdConfig::default(),
        gain_db: Some(0.0),
    };
    let known_table = toml::Table::try_from(&every_key).unwrap_or_default();
    let known: Vec<&str> = known_table.keys().map(String::as_str).collect();
    let Some(unknown) = capture.keys().find(|k| !known_table.contains_key(*k)) else {
        return Ok(());
    };
    let listed: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
    let message = format!(
        "unknown field `{unknown}`, expected one of {}",
        listed.join(", ")
    );
    let at = text
        .find("[capture]")
        .and_then(|c| {
            text[c..]
                .lines()
                .scan(c, |pos, line| {
                    let here = *pos;
                    *pos += line.len() + 1;
                    Some((here, line))
                })
                .find(|(_, l)| {
                    l.trim_start()
                        .strip_prefix(unknown.as_str())
                        .is_some_and(|r| r.trim_start().starts_with('='))
                })
        })
        .map(|(at, _)| locate(text, at))
        .unwrap_or_else(|| "capture".into());
    Err(Error::format(
        path,
        at,
        keys::explain(&message, "[capture]").unwrap_or(message),
    ))
}

/// "line L, column C" for a byte offset in `text`.
fn locate(text: &str, offset: usize) -> String {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count() + 1)
        .unwrap_or(1);
    format!("line {line}, column {col}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small valid profile (16 bins, one segment, one emitter).
    fn profile() -> Profile {
        let bins = |v: f32| vec![v; 16];
        Profile {
            format: FORMAT,
            site: Site {
                name: "t".into(),
                ..Site::default()
            },
            capture: CaptureSettings {
                sample_rate: 250e3,
                psd: PsdConfig {
                    fft_size: 16,
                    ..PsdConfig::default()
                },
                gain_db: None,
            },
            thresholds: Thresholds::default(),
            protected: Vec::new(),
            emitters: vec![Emitter {
                name: "e".into(),
                low_hz: 1e6,
                high_hz: 1.1e6,
                peak_dbfs: -30.0,
                power_dbfs: -35.0,
                duty: 0.5,
                source: EmitterSource::Learned,
            }],
            device: None,
            calibration: None,
            custody: None,
            segments: vec![Segment {
                center_hz: 433.92e6,
                dwell_s: 0.0,
                frames: 10,
                floor_dbfs: bins(-60.0),
                p95_dbfs: bins(-58.0),
                p99_dbfs: bins(-57.0),
                max_dbfs: bins(-50.0),
                maxhold_p99_dbfs: bins(-52.0),
                occupancy: bins(0.0),
                total_power_dbfs: -30.0,
                total_power_p01_dbfs: -31.0,
                clipped_fraction_max: 0.0,
                noise_floor_dbfs: -60.0,
            }],
        }
    }

    #[test]
    fn valid_profile_round_trips_through_save_and_load() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        profile().save(&path).unwrap();
        assert_eq!(Profile::load(&path).unwrap(), profile());
        let calibrated = Profile {
            calibration: Some(Calibration {
                dbm_at_0dbfs: -17.5,
                note: "signal generator, 2026-11-20".into(),
            }),
            ..profile()
        };
        calibrated.save(&path).unwrap();
        assert_eq!(Profile::load(&path).unwrap(), calibrated);
    }

    /// Spoils a valid profile in one way.
    type Spoil = fn(&mut Profile);

    #[test]
    fn nonsense_values_are_errors_naming_the_field() {
        let cases: Vec<(Spoil, &str)> = vec![
            (|p| p.format = 7, "format"),
            (|p| p.capture.sample_rate = 0.0, "capture.sample_rate"),
            (|p| p.capture.sample_rate = 1e30, "capture.sample_rate"),
            (|p| p.capture.psd.fft_size = 3, "capture"),
            (|p| p.segments.clear(), "segments"),
            (
                |p| p.segments[0].center_hz = f64::NAN,
                "segments[0].center_hz",
            ),
            (|p| p.segments[0].dwell_s = -1.0, "segments[0].dwell_s"),
            (
                |p| {
                    p.segments[0].floor_dbfs.pop();
                },
                "segments[0].floor_dbfs: 16 values",
            ),
            (
                |p| p.segments[0].p99_dbfs[3] = f32::NAN,
                "segments[0].p99_dbfs: finite",
            ),
            (
                |p| p.segments[0].noise_floor_dbfs = f32::INFINITY,
                "segments[0].noise_floor_dbfs",
            ),
            (
                |p| p.segments[0].total_power_dbfs = f32::NAN,
                "segments[0].total_power_dbfs",
            ),
            (
                |p| p.segments[0].clipped_fraction_max = 2.0,
                "clipped_fraction_max",
            ),
            (
                |p| p.segments.push(p.segments[0].clone()),
                "segments[1].center_hz: one segment per tuning",
            ),
            (
                |p| p.emitters[0].high_hz = 0.0,
                "emitters[0] (e): finite low_hz",
            ),
            (
                |p| p.emitters[0].peak_dbfs = f32::NAN,
                "emitters[0] (e): finite peak_dbfs",
            ),
            (|p| p.emitters[0].duty = 1.5, "emitters[0] (e).duty"),
            (
                |p| p.segments[0].frames = 0,
                "segments[0].frames: at least 1",
            ),
            (
                |p| p.emitters[0].high_hz = 2e12,
                "emitters[0] (e): a frequency range within",
            ),
            (
                |p| {
                    p.emitters[0].source = EmitterSource::Manual;
                    p.emitters[0].low_hz = 0.0;
                    p.emitters[0].high_hz = 1e9;
                },
                "covers the whole band at 433920000 Hz",
            ),
            (|p| p.thresholds.barrage_rise_db = -1.0, "thresholds"),
            (
                |p| {
                    p.calibration = Some(Calibration {
                        dbm_at_0dbfs: f64::NAN,
                        note: String::new(),
                    })
                },
                "calibration.dbm_at_0dbfs: a finite level in dBm",
            ),
        ];
        for (spoil, expected) in cases {
            let mut p = profile();
            spoil(&mut p);
            let msg = p.validate(Path::new("x.toml")).unwrap_err().to_string();
            assert!(msg.starts_with("x.toml: "), "{msg}");
            assert!(msg.contains(expected), "{expected}: {msg}");
        }
    }

    #[test]
    fn a_missing_profile_says_how_to_make_one() {
        let msg = Profile::load(Path::new("nowhere/venue-b.toml"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("nowhere/venue-b.toml: profile"), "{msg}");
        assert!(
            msg.contains("rfsentry learn --site venue-b --profile-dir nowhere"),
            "{msg}"
        );
    }

    #[test]
    fn unknown_keys_are_named_with_their_table_and_nearest_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        let text = toml::to_string(&profile()).unwrap();
        for (from, to, says) in [
            (
                "fft_size = 16",
                "fft_size = 16\nfft_szie = 32",
                "unknown key `fft_szie` in [capture] (did you mean `fft_size`?)",
            ),
            (
                "name = \"t\"",
                "name = \"t\"\nlocaton = \"x\"",
                "unknown key `locaton` in [site] (did you mean `location`?)",
            ),
            (
                "format = 1",
                "format = 1\nformt = 2",
                "unknown key `formt` in the top level (did you mean `format`?)",
            ),
            (
                "dwell_s = 0.0",
                "dwell_s = 0.0\ndwel_s = 1.0",
                "unknown key `dwel_s` in [[segments]] (did you mean `dwell_s`?)",
            ),
            (
                "duty = 0.5",
                "duty = 0.5\ndutty = 0.5",
                "unknown key `dutty` in [[emitters]] (did you mean `duty`?)",
            ),
        ] {
            assert!(text.contains(from), "{from}: {text}");
            std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
            let msg = Profile::load(&path).unwrap_err().to_string();
            assert!(msg.contains(says), "{says}: {msg}");
            assert!(msg.contains("t.toml: line "), "{msg}");
        }
    }

    #[test]
    fn toml_errors_give_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        let text = toml::to_string(&profile())
            .unwrap()
            .replace("fft_size = 16", "fft_size = \"many\"");
        std::fs::write(&path, text).unwrap();
        let msg = Profile::load(&path).unwrap_err().to_string();
        assert!(msg.contains("t.toml: line "), "{msg}");
        assert!(msg.contains("a valid rfsentry profile"), "{msg}");
        std::fs::write(&path, [0xff, 0xfe, 0x00]).unwrap();
        let msg = Profile::load(&path).unwrap_err().to_string();
        assert!(msg.contains("not text"), "{msg}");
    }
}
