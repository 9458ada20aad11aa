//! Finding receivers and what they can do: [`list_devices`] enumerates the
//! SoapySDR devices present, [`probe`] opens one and reads its capabilities
//! on RX channel 0, and [`format_device_list`] / [`DeviceProbe`]'s `Display`
//! render them as the `devices` command prints them.

use super::device::{device_error, open_device};
use crate::units::{hz, rate, trimmed};
use crate::{Error, Result};
use serde::Serialize;
use soapysdr::Direction::Rx;
use std::fmt::{self, Write as _};

/// One device found by enumeration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceSummary {
    pub driver: String,
    /// Human-readable name (the driver when the device gives none).
    pub label: String,
    pub serial: Option<String>,
    /// Arguments that open this device (`--device` / `[device] args`).
    pub args: String,
}

/// A closed range of values; `step` 0 means continuous. `min == max` is a single value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ValueRange {
    pub min: f64,
    pub max: f64,
    pub step: f64,
}

impl From<soapysdr::Range> for ValueRange {
    fn from(r: soapysdr::Range) -> Self {
        ValueRange {
            min: r.minimum,
            max: r.maximum,
            step: r.step,
        }
    }
}

/// One named amplification stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GainElement {
    pub name: String,
    pub range: ValueRange,
}

/// What a device offers on RX channel 0.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeviceProbe {
    /// The arguments it was opened with.
    pub args: String,
    pub driver: String,
    pub hardware: String,
    pub rx_channels: usize,
    pub frequency_ranges: Vec<ValueRange>,
    /// Sample rates: continuous ranges, or single values (`min == max`).
    pub sample_rates: Vec<ValueRange>,
    pub bandwidths: Vec<ValueRange>,
    /// Overall gain range in dB.
    pub gain_range: ValueRange,
    pub gain_elements: Vec<GainElement>,
    pub has_agc: bool,
    pub antennas: Vec<String>,
    /// The device corrects its frequency itself (a `CORR` element, in ppm).
    pub frequency_correction: bool,
    pub stream_formats: Vec<String>,
}

/// The SoapySDR devices present (every module SoapySDR loads is asked).
pub fn list_devices() -> Result<Vec<DeviceSummary>> {
    super::driver_log::route();
    let found = soapysdr::enumerate("").map_err(|e| device_error("", "enumerate devices", e))?;
    Ok(found
        .iter()
        .map(|args| {
            let get = |k: &str| args.get(k).map(str::to_string);
            let driver = get("driver").unwrap_or_default();
            let open_args: Vec<String> = args
                .iter()
                .filter(|(k, _)| *k != "label")
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            DeviceSummary {
                label: get("label").unwrap_or_else(|| driver.clone()),
                serial: get("serial"),
                args: open_args.join(","),
                driver,
            }
        })
        .collect())
}

/// Open the device that `args` selects and read its RX channel 0 capabilities.
pub fn probe(args: &str) -> Result<DeviceProbe> {
    let err = |what: &'static str| move |e| device_error(args, what, e);
    let device = open_device(args)?;
    let rx_channels = device.num_channels(Rx).map_err(err("count RX channels"))?;
    if rx_channels == 0 {
        return Err(Error::device(args, "probe", "the device has no RX channel"));
    }
    let ranges = |r: Vec<soapysdr::Range>| r.into_iter().map(ValueRange::from).collect();
    // Optional capabilities: a driver that cannot say gives an empty answer, not a failed probe.
    let or_empty = |what: &str, r: std::result::Result<Vec<String>, soapysdr::Error>| {
        r.unwrap_or_else(|e| {
            tracing::debug!(args, what, error = %e, "probe: not available");
            Vec::new()
        })
    };
    let gain_names = or_empty("gain elements", device.list_gains(Rx, 0));
    let mut gain_elements = Vec::with_capacity(gain_names.len());
    for name in gain_names {
        let range = device
            .gain_element_range(Rx, 0, name.as_str())
            .map_err(err("read gain element range"))?;
        gain_elements.push(GainElement {
            name,
            range: range.into(),
        });
    }
    Ok(DeviceProbe {
        args: args.to_string(),
        driver: device.driver_key().map_err(err("read driver key"))?,
        hardware: device.hardware_key().map_err(err("read hardware key"))?,
        rx_channels,
        frequency_ranges: ranges(
            device
                .frequency_range(Rx, 0)
                .map_err(err("read frequency range"))?,
        ),
        sample_rates: ranges(
            device
                .get_sample_rate_range(Rx, 0)
                .map_err(err("read sample rates"))?,
        ),
        bandwidths: ranges(device.bandwidth_range(Rx, 0).unwrap_or_default()),
        gain_range: device
            .gain_range(Rx, 0)
            .map_err(err("read gain range"))?
            .into(),
        gain_elements,
        has_agc: device.has_gain_mode(Rx, 0).unwrap_or(false),
        antennas: or_empty("antennas", device.antennas(Rx, 0)),
        frequency_correction: or_empty("tunable elements", device.list_frequencies(Rx, 0))
            .iter()
            .any(|e| e == "CORR"),
        stream_formats: device
            .stream_formats(Rx, 0)
            .map(|f| f.iter().map(|f| f.to_string()).collect())
            .unwrap_or_default(),
    })
}

/// The device list as a table, or a hint when it is empty.
pub fn format_device_list(devices: &[DeviceSummary]) -> String {
    if devices.is_empty() {
        return "no SoapySDR devices found\n\
                hint: is the driver module for your receiver installed (e.g. soapysdr-module-rtlsdr)? \
                Modules outside the default path are found through SOAPY_SDR_PLUGIN_PATH \
                (a directory of modules); `SoapySDRUtil --info` lists what SoapySDR loads.\n"
            .to_string();
    }
    let rows: Vec<[String; 5]> = devices
        .iter()
        .enumerate()
        .map(|(i, d)| {
            [
                i.to_string(),
                d.driver.clone(),
                d.label.clone(),
                d.serial.clone().unwrap_or_else(|| "-".into()),
                d.args.clone(),
            ]
        })
        .collect();
    let header = ["#", "driver", "label", "serial", "args"].map(String::from);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<w$}  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{} device(s); open one with --device \"<args>\", details with --probe \"<args>\"",
        devices.len()
    );
    out
}

impl fmt::Display for DeviceProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let none = |v: &str| {
            if v.is_empty() {
                "-".to_string()
            } else {
                v.to_string()
            }
        };
        writeln!(f, "device       {}", none(&self.args))?;
        writeln!(
            f,
            "driver       {} (hardware {})",
            self.driver, self.hardware
        )?;
        writeln!(f, "RX channels  {} (channel 0 shown)", self.rx_channels)?;
        writeln!(
            f,
            "frequency    {}",
            none(&list(&self.frequency_ranges, hz))
        )?;
        writeln!(f, "sample rate  {}", none(&list(&self.sample_rates, rate)))?;
        writeln!(f, "bandwidth    {}", none(&list(&self.bandwidths, hz)))?;
        writeln!(
            f,
            "gain         {} dB{}, AGC {}",
            span(&self.gain_range, num),
            step(&self.gain_range, num),
            if self.has_agc { "yes" } else { "no" }
        )?;
        for g in &self.gain_elements {
            writeln!(
                f,
                "  {:<10} {} dB{}",
                g.name,
                span(&g.range, num),
                step(&g.range, num)
            )?;
        }
        writeln!(f, "antennas     {}", none(&self.antennas.join(", ")))?;
        writeln!(
            f,
            "ppm corr.    {}",
            if self.frequency_correction {
                "by the device (CORR element)"
            } else {
                "by shifting the tuned frequency"
            }
        )?;
        writeln!(f, "formats      {}", none(&self.stream_formats.join(", ")))
    }
}

fn num(v: f64) -> String {
    trimmed(v, 3)
}

fn span(r: &ValueRange, show: fn(f64) -> String) -> String {
    if r.min == r.max {
        show(r.min)
    } else {
        format!("{} – {}", show(r.min), show(r.max))
    }
}

fn step(r: &ValueRange, show: fn(f64) -> String) -> String {
    if r.step > 0.0 && r.min != r.max {
        format!(" (step {})", show(r.step))
    } else {
        String::new()
    }
}

fn list(ranges: &[ValueRange], show: fn(f64) -> String) -> String {
    ranges
        .iter()
        .map(|r| span(r, show))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_readable() {
        assert_eq!(hz(433.92e6), "433.92 MHz");
        assert_eq!(hz(6e9), "6 GHz");
        assert_eq!(rate(2.048e6), "2.048 MS/s");
        assert_eq!(rate(250e3), "250 kS/s");
        assert_eq!(num(49.6), "49.6");
        assert_eq!(hz(12.0), "12 Hz");
    }

    #[test]
    fn table_and_empty_hint() {
        let empty = format_device_list(&[]);
        assert!(empty.contains("no SoapySDR devices found"));
        assert!(empty.contains("SOAPY_SDR_PLUGIN_PATH"));
        let table = format_device_list(&[DeviceSummary {
            driver: "rtlsdr".into(),
            label: "Generic RTL2832U".into(),
            serial: None,
            args: "driver=rtlsdr,serial=00000001".into(),
        }]);
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("#  driver"), "{table}");
        assert!(lines[1].contains("Generic RTL2832U") && lines[1].contains(" - "));
        assert!(lines[1].ends_with("driver=rtlsdr,serial=00000001"));
        assert!(lines[2].contains("1 device(s)"));
    }
}
