//! Live receivers for `learn --device` and `monitor --device`: the device
//! flags, merged over the site profile's `[device]` table, and the scan plan
//! (one tuning, or several with dwell times; `rfsentry_core::run::learn::scan_plan`
//! makes it from `--tune`/`--freq`/`--dwell`). Without the `soapy` feature
//! these flags give a clear error.

use crate::source::Source;
use crate::Result;
use clap::Args;

/// Flags that choose and set up a SoapySDR receiver.
#[derive(Debug, Args, Clone, Default)]
pub struct DeviceArgs {
    /// SoapySDR device arguments, e.g. "driver=rtlsdr,serial=00000001" (feature `soapy`).
    #[arg(long, value_name = "ARGS")]
    pub device: Option<String>,
    /// Receiver gain in dB (default: the site's [device] gain, else AGC).
    #[arg(long)]
    pub gain: Option<f64>,
    /// Use the receiver's automatic gain control.
    #[arg(long, conflicts_with = "gain")]
    pub agc: bool,
    /// Antenna port.
    #[arg(long)]
    pub antenna: Option<String>,
    /// Reference frequency correction, ppm.
    #[arg(long, allow_negative_numbers = true)]
    pub ppm: Option<f64>,
    /// Analog filter bandwidth, Hz.
    #[arg(long, value_parser = super::common::parse_hz)]
    pub bandwidth: Option<f64>,
    /// Scan plan: centre frequencies to visit in turn (comma-separated), e.g. 433.92M,446.1M.
    #[arg(long, value_delimiter = ',', value_parser = super::common::parse_hz)]
    pub tune: Vec<f64>,
    /// Seconds to dwell on each tuning of a scan plan.
    #[arg(long, default_value_t = 1.0)]
    pub dwell: f64,
}

/// Open the receiver: `site_device` is the profile's `[device]` table (if
/// any); flags override it. `plan` is (centre Hz, dwell s) per tuning.
#[cfg(feature = "soapy")]
pub fn open_device(
    args: &DeviceArgs,
    site_device: Option<&toml::Table>,
    sample_rate: f64,
    plan: &[(f64, f64)],
) -> Result<Box<dyn Source>> {
    use crate::source::soapy::{DeviceConfig, SoapySource, Tuning};
    let mut config: DeviceConfig = match site_device {
        Some(t) => DeviceConfig::from_table(t)?,
        None => DeviceConfig::default(),
    };
    if let Some(a) = &args.device {
        config.args = a.clone();
    }
    if let Some(g) = args.gain {
        config.gain_db = Some(g);
    }
    if args.agc {
        config.gain_db = None;
    }
    if let Some(a) = &args.antenna {
        config.antenna = Some(a.clone());
    }
    if let Some(p) = args.ppm {
        config.ppm = p;
    }
    if let Some(b) = args.bandwidth {
        config.bandwidth_hz = Some(b);
    }
    let tunings = plan
        .iter()
        .map(|&(center_hz, dwell_s)| Tuning { center_hz, dwell_s })
        .collect();
    let name = format!("device {:?}", config.args);
    let source =
        super::common::while_opening(&name, || SoapySource::open(config, sample_rate, tunings))?;
    Ok(Box::new(source))
}

/// Without SoapySDR support, a live device is a clear error.
#[cfg(not(feature = "soapy"))]
pub fn open_device(
    _args: &DeviceArgs,
    _site_device: Option<&toml::Table>,
    _sample_rate: f64,
    _plan: &[(f64, f64)],
) -> Result<Box<dyn Source>> {
    Err(crate::Error::NoSoapy {
        needed_by: "--device".into(),
    })
}
