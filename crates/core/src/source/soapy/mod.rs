//! The SoapySDR device source (feature `soapy`): a live receiver as the first
//! stage of the pipeline.
//!
//! [`SoapySource::open`] opens and configures a device from a [`DeviceConfig`]
//! (the `[device]` table of a site config), a sample rate and a scan plan of
//! [`Tuning`]s, and starts its stream. [`Source::run`] then reads blocks until
//! `stop` is set. The source never blocks the driver: when the pipeline is
//! behind, whole blocks are dropped and reported as [`GapCause::Dropped`];
//! device overflows, stalls and disconnects become gaps too, and a device that
//! vanished is reopened with back-off. Time is the sample index: samples lost
//! in gaps are counted (estimated from the wall clock when the device cannot
//! say), so it stays true.
//!
//! [`list_devices`] and [`probe`] serve the `devices` command.
//!
//! Modules: `device` (one opened receiver), `driver_log` (SoapySDR's own log), `scan` (the scan plan in
//! sample-index time), `outbox` (non-blocking delivery), `capture` (the read
//! loop and its fault handling), `probe` (enumeration and capabilities).
//!
//! SoapySDR's own log (its modules' chatter) stays behind rfsentry's
//! messages: see `driver_log`.
//!
//! [`GapCause::Dropped`]: crate::source::GapCause::Dropped

mod capture;
mod device;
mod driver_log;
mod outbox;
mod probe;
mod scan;

pub use probe::{
    format_device_list, list_devices, probe, DeviceProbe, DeviceSummary, GainElement, ValueRange,
};

use crate::source::{Source, SourceContext, SourceInfo};
use crate::{Error, Result};
use device::Receiver;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// How to open and set up a receiver: the `[device]` table of a site config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeviceConfig {
    /// SoapySDR device arguments, e.g. `"driver=rtlsdr,serial=00000001"`
    /// (empty: the first device found).
    pub args: String,
    /// RX channel.
    pub channel: usize,
    /// Overall gain in dB; `None` turns AGC on when the device has it.
    pub gain_db: Option<f64>,
    /// Antenna port; `None` keeps the device's default.
    pub antenna: Option<String>,
    /// Frequency correction of the device's reference, in ppm (positive: the
    /// oscillator runs fast). Uses the device's correction (`CORR` element)
    /// when it has one, else shifts the tuned frequency.
    pub ppm: f64,
    /// Analog filter bandwidth; `None` keeps the device's default.
    pub bandwidth_hz: Option<f64>,
    /// Seconds of samples discarded after each (re)tune, while the tuner settles.
    pub settle_s: f64,
    /// Samples per block sent downstream (create the pool with
    /// [`SoapySource::block_len`]). `0` (the default): about 10 ms of samples,
    /// a power of two from 16 Ki to 1 Mi, so the pipeline's bounded channels
    /// (a few blocks each) hold tens of milliseconds at any sample rate and a
    /// briefly descheduled stage does not make the source drop blocks.
    pub block_len: usize,
}

/// Seconds of samples in an automatic block ([`DeviceConfig::block_len`] `0`).
const AUTO_BLOCK_S: f64 = 0.01;

/// The automatic block length at `sample_rate`.
fn auto_block_len(sample_rate: f64) -> usize {
    let want = (sample_rate * AUTO_BLOCK_S).clamp(1.0, (1 << 20) as f64) as usize;
    want.next_power_of_two().clamp(1 << 14, 1 << 20)
}

impl DeviceConfig {
    /// The `[device]` table of a profile, read strictly: an unknown key (a
    /// typo such as `gain_bd`, which would quietly mean AGC) is an error
    /// naming it and the nearest known key.
    pub fn from_table(table: &toml::Table) -> Result<DeviceConfig> {
        let config: DeviceConfig =
            toml::Value::Table(table.clone())
                .try_into()
                .map_err(|e: toml::de::Error| {
                    Error::setting(
                        "the profile's [device] table",
                        "",
                        crate::config_keys::explain(e.message(), "[device]")
                            .unwrap_or_else(|| e.message().to_string()),
                    )
                })?;
        check_block_len(config.block_len)?;
        Ok(config)
    }
}

impl Default for DeviceConfig {
    fn default() -> Self {
        DeviceConfig {
            args: String::new(),
            channel: 0,
            gain_db: None,
            antenna: None,
            ppm: 0.0,
            bandwidth_hz: None,
            settle_s: 0.01,
            block_len: 0,
        }
    }
}

/// One step of a scan plan: a centre frequency and how long to stay there.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tuning {
    pub center_hz: f64,
    /// Seconds of samples at this tuning (after settling) before moving to the
    /// next; ignored for a single-tuning plan, which stays put.
    #[serde(default)]
    pub dwell_s: f64,
}

impl Tuning {
    /// A single tuning that stays put.
    pub fn fixed(center_hz: f64) -> Tuning {
        Tuning {
            center_hz,
            dwell_s: 0.0,
        }
    }
}

/// A live SoapySDR receiver, opened and streaming, ready to [`Source::run`].
pub struct SoapySource {
    config: DeviceConfig,
    sample_rate: f64,
    plan: Vec<Tuning>,
    receiver: Receiver,
    /// When the stream was activated: the wall-clock anchor of sample 0.
    started: Instant,
    start_time: chrono::DateTime<chrono::Utc>,
}

impl SoapySource {
    /// Open the device in `config.args`, set it up (rate, gain or AGC,
    /// antenna, ppm, bandwidth), tune it to the first tuning of `plan` and
    /// start its stream. Errors: [`Error::Setting`] for invalid settings,
    /// [`Error::Unavailable`] for a channel, antenna, frequency or gain the
    /// device lacks, [`Error::Device`] when SoapySDR fails.
    pub fn open(
        mut config: DeviceConfig,
        sample_rate: f64,
        plan: Vec<Tuning>,
    ) -> Result<SoapySource> {
        validate(&config, sample_rate, &plan)?;
        if config.block_len == 0 {
            config.block_len = auto_block_len(sample_rate);
        }
        let centers: Vec<f64> = plan.iter().map(|t| t.center_hz).collect();
        let mut receiver = Receiver::open(&config, sample_rate, &centers)?;
        receiver.tune(plan[0].center_hz)?;
        receiver.activate()?;
        let (started, start_time) = (Instant::now(), chrono::Utc::now());
        let sample_rate = receiver.sample_rate();
        tracing::info!(
            args = %config.args,
            sample_rate,
            tunings = plan.len(),
            "SoapySDR device opened"
        );
        Ok(SoapySource {
            config,
            sample_rate,
            plan,
            receiver,
            started,
            start_time,
        })
    }

    /// The sample rate the device runs at (what it accepted, which may differ
    /// slightly from the one asked for).
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }

    /// Samples per block: create the [`BufferPool`](crate::source::BufferPool) with this.
    pub fn block_len(&self) -> usize {
        self.config.block_len
    }
}

impl Source for SoapySource {
    fn info(&self) -> SourceInfo {
        SourceInfo {
            name: self.config.args.clone(),
            sample_rate: self.sample_rate,
            tunings: self.plan.iter().map(|t| t.center_hz).collect(),
            clip_level: self.receiver.datatype().clip_level(),
            start_time: Some(self.start_time),
            total_samples: None,
            datatype: self.receiver.datatype(),
            live: true,
            block_len: Some(self.config.block_len),
        }
    }

    fn run(self: Box<Self>, ctx: SourceContext) -> Result<()> {
        capture::run(*self, ctx)
    }
}

/// Check settings before touching the device.
fn validate(config: &DeviceConfig, sample_rate: f64, plan: &[Tuning]) -> Result<()> {
    let positive = |v: f64| v.is_finite() && v > 0.0;
    if !positive(sample_rate) {
        return Err(Error::setting(
            "sample rate",
            sample_rate,
            "a positive number of samples per second",
        ));
    }
    if plan.is_empty() {
        return Err(Error::missing("a scan plan", "at least one tuning"));
    }
    for (i, t) in plan.iter().enumerate() {
        if !positive(t.center_hz) {
            return Err(Error::setting(
                format!("tuning {i}: centre frequency"),
                t.center_hz,
                "a positive number of Hz",
            ));
        }
        if plan.len() > 1 && !positive(t.dwell_s) {
            return Err(Error::setting(
                format!("tuning {i}: dwell_s"),
                t.dwell_s,
                "a positive number of seconds in a scan plan",
            ));
        }
    }
    if !(config.settle_s.is_finite() && config.settle_s >= 0.0) {
        return Err(Error::setting(
            "device.settle_s",
            config.settle_s,
            "zero or more seconds",
        ));
    }
    if !config.ppm.is_finite() {
        return Err(Error::setting("device.ppm", config.ppm, "a finite number"));
    }
    if let Some(g) = config.gain_db.filter(|g| !g.is_finite()) {
        return Err(Error::setting("device.gain_db", g, "a finite number of dB"));
    }
    if let Some(b) = config.bandwidth_hz.filter(|&b| !positive(b)) {
        return Err(Error::setting(
            "device.bandwidth_hz",
            b,
            "a positive number of Hz",
        ));
    }
    check_block_len(config.block_len)
}

/// `block_len` is 0 (automatic) or within [`MIN_BLOCK_LEN`]..=[`MAX_BLOCK_LEN`].
fn check_block_len(block_len: usize) -> Result<()> {
    if block_len != 0 && !(MIN_BLOCK_LEN..=MAX_BLOCK_LEN).contains(&block_len) {
        return Err(Error::setting(
            "device.block_len",
            block_len,
            format!("0 (automatic) or {MIN_BLOCK_LEN} to {MAX_BLOCK_LEN} samples per block"),
        ));
    }
    Ok(())
}

/// Smallest `block_len` a `[device]` table may set (samples).
pub const MIN_BLOCK_LEN: usize = 256;
/// Largest `block_len` a `[device]` table may set (samples, 8 MiB of cf32).
pub const MAX_BLOCK_LEN: usize = 1 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_defaults_and_toml() {
        let c: DeviceConfig = toml::from_str(
            "args = \"driver=rtlsdr\"\ngain_db = 30.0\nppm = -1.5\nantenna = \"RX\"\n",
        )
        .unwrap();
        assert_eq!(c.args, "driver=rtlsdr");
        assert_eq!(c.gain_db, Some(30.0));
        assert_eq!(c.ppm, -1.5);
        assert_eq!(c.settle_s, 0.01);
        assert_eq!(c.block_len, 0);
        assert_eq!(auto_block_len(250e3), 1 << 14);
        assert_eq!(auto_block_len(2.4e6), 1 << 15);
        assert_eq!(auto_block_len(20e6), 1 << 18);
        assert_eq!(auto_block_len(80e6), 1 << 20);
        assert_eq!(auto_block_len(1e9), 1 << 20);
        assert!(toml::from_str::<DeviceConfig>("gain = 3.0").is_err());
        let t: Tuning = toml::from_str("center_hz = 433.92e6").unwrap();
        assert_eq!(t, Tuning::fixed(433.92e6));
    }

    #[test]
    fn validation_names_the_problem() {
        let c = DeviceConfig::default();
        let one = [Tuning::fixed(100e6)];
        assert!(validate(&c, 1e6, &one).is_ok());
        let err = |c: &DeviceConfig, rate: f64, plan: &[Tuning]| {
            validate(c, rate, plan).unwrap_err().to_string()
        };
        assert!(err(&c, 0.0, &one).contains("sample rate"));
        assert!(err(&c, 1e6, &[]).contains("a scan plan needs at least one tuning"));
        let scan = [Tuning::fixed(100e6), Tuning::fixed(200e6)];
        assert!(err(&c, 1e6, &scan).contains("dwell_s"));
        let bad = DeviceConfig {
            settle_s: -1.0,
            ..c.clone()
        };
        assert!(err(&bad, 1e6, &one).contains("settle_s"));
        let bad = DeviceConfig {
            bandwidth_hz: Some(0.0),
            ..c
        };
        assert!(err(&bad, 1e6, &one).contains("bandwidth_hz"));
    }
}
