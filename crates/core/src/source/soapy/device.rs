//! One opened SoapySDR receiver: the device handle and its RX stream, set up
//! from a [`DeviceConfig`]. Every SoapySDR failure becomes an [`Error`]
//! naming the device arguments and the step that failed; nothing panics.
//!
//! Frequency correction: the `soapysdr` crate has no binding for SoapySDR's
//! `setFrequencyCorrection`, so the correction goes through the tunable
//! element named `CORR` (in ppm), which is what SoapySDR 0.8's default
//! implementation of `setFrequencyCorrection` uses and what drivers such as
//! SoapyRTLSDR expose. Devices without it get the tuned frequency shifted
//! instead.
//!
//! Sample format: a device whose native stream format is CS16 or CS8 at full
//! range (full scale 32768 or 128: USRPs, RTL-SDRs, HackRFs) is read in that
//! format and converted here, exactly as a ci16/ci8 recording is, so that IQ
//! evidence can keep the device's own words (a quarter of cf32 for 8-bit
//! receivers). Any other device is read as CF32, converted by its driver.

use super::DeviceConfig;
use crate::iq::{Datatype, Sample};
use crate::{Error, Result};
use num_complex::Complex;
use soapysdr::{Device, Direction::Rx, Format, RxStream};

/// The RX stream, in the format the samples are read in.
enum Stream {
    Cf32(RxStream<Sample>),
    /// With a buffer of device words to convert from.
    Cs16(RxStream<Complex<i16>>, Vec<Complex<i16>>),
    Cs8(RxStream<Complex<i8>>, Vec<Complex<i8>>),
}

impl Stream {
    /// Set up the stream on `channel`: the native format when it is one
    /// rfsentry converts exactly (see the module doc), CF32 otherwise.
    fn open(device: &Device, channel: usize) -> std::result::Result<Stream, soapysdr::Error> {
        Ok(match device.native_stream_format(Rx, channel) {
            Ok((Format::CS16, 32768.0)) => Stream::Cs16(device.rx_stream(&[channel])?, Vec::new()),
            Ok((Format::CS8, 128.0)) => Stream::Cs8(device.rx_stream(&[channel])?, Vec::new()),
            _ => Stream::Cf32(device.rx_stream(&[channel])?),
        })
    }

    /// How the samples arrive (the evidence keeps this encoding when exact).
    fn datatype(&self) -> Datatype {
        match self {
            Stream::Cf32(_) => Datatype::CF32_LE,
            Stream::Cs16(..) => Datatype::CI16_LE,
            Stream::Cs8(..) => Datatype::CI8,
        }
    }

    fn activate(&mut self) -> std::result::Result<(), soapysdr::Error> {
        match self {
            Stream::Cf32(s) => s.activate(None),
            Stream::Cs16(s, _) => s.activate(None),
            Stream::Cs8(s, _) => s.activate(None),
        }
    }

    /// Read up to `buf.len()` samples as `Complex<f32>` at full scale ±1
    /// (integer words scaled by 2^-15 or 2^-7, as the readers do).
    fn read(
        &mut self,
        buf: &mut [Sample],
        timeout_us: i64,
    ) -> std::result::Result<usize, soapysdr::Error> {
        match self {
            Stream::Cf32(s) => s.read(&mut [buf], timeout_us),
            Stream::Cs16(s, words) => {
                words.resize(buf.len(), Complex::default());
                let n = s.read(&mut [&mut words[..]], timeout_us)?;
                for (out, w) in buf.iter_mut().zip(&words[..n]) {
                    *out = Sample::new(f32::from(w.re) / 32768.0, f32::from(w.im) / 32768.0);
                }
                Ok(n)
            }
            Stream::Cs8(s, words) => {
                words.resize(buf.len(), Complex::default());
                let n = s.read(&mut [&mut words[..]], timeout_us)?;
                for (out, w) in buf.iter_mut().zip(&words[..n]) {
                    *out = Sample::new(f32::from(w.re) / 128.0, f32::from(w.im) / 128.0);
                }
                Ok(n)
            }
        }
    }
}

/// A device with an RX stream on the configured channel.
pub(super) struct Receiver {
    // Field order: the stream is closed before the device handle is released.
    stream: Stream,
    device: Device,
    args: String,
    channel: usize,
    ppm: f64,
    /// The device corrects its own frequency (through the `CORR` element).
    corrects: bool,
    sample_rate: f64,
}

/// Device arguments as SoapySDR takes them (the crate panics on NUL bytes, so they are refused here).
pub(super) fn parse_args(args: &str) -> Result<soapysdr::Args> {
    if args.contains('\0') {
        return Err(Error::setting(
            "device arguments",
            format!("{args:?}"),
            "no NUL byte",
        ));
    }
    Ok(soapysdr::Args::from(args))
}

/// Open the device `args` names with the driver's log held (see
/// `driver_log`): a failure says rfsentry's words first, then what the
/// driver warned of.
pub(super) fn open_device(args: &str) -> Result<Device> {
    let parsed = parse_args(args)?;
    super::driver_log::holding(|| Device::new(parsed)).map_err(|(e, said)| {
        match device_error(args, "open", e) {
            Error::Device {
                device,
                action,
                message,
            } => Error::Device {
                device,
                action,
                message: message + &super::driver_log::summary(&said, 3),
            },
            other => other,
        }
    })
}

/// A SoapySDR error as an rfsentry device error: `args: what: message`.
pub(super) fn device_error(args: &str, what: &str, e: soapysdr::Error) -> Error {
    let name = if args.is_empty() {
        "(first device)"
    } else {
        args
    };
    Error::device(name, what, e)
}

impl Receiver {
    /// Open the device and configure it (rate, bandwidth, antenna, gain or
    /// AGC, frequency correction), then set up an RX stream (see the module
    /// doc for its format).
    /// The stream is not active yet and the device is not tuned.
    /// `centers` (the scan plan's centre frequencies) and the configured gain
    /// are checked against the ranges the device reports first: a tuning or
    /// gain it cannot do is an error naming its real range.
    pub fn open(config: &DeviceConfig, sample_rate: f64, centers: &[f64]) -> Result<Receiver> {
        let args = config.args.as_str();
        let err = |what: &'static str| move |e| device_error(args, what, e);
        let device = open_device(args)?;
        let ch = config.channel;
        let channels = device.num_channels(Rx).map_err(err("count RX channels"))?;
        if ch >= channels {
            return Err(Error::Unavailable {
                device: name_of(args).to_string(),
                setting: "channel".into(),
                value: ch.to_string(),
                available: format!("{channels} RX channel(s)"),
                advice: None,
            });
        }
        check_ranges(&device, config, centers)?;

        device
            .set_sample_rate(Rx, ch, sample_rate)
            .map_err(err("set sample rate"))?;
        let actual = device
            .sample_rate(Rx, ch)
            .map_err(err("read sample rate"))?;
        let sample_rate = if actual.is_finite() && actual > 0.0 {
            if (actual - sample_rate).abs() > sample_rate * 1e-6 {
                tracing::warn!(
                    args,
                    asked = sample_rate,
                    actual,
                    "device chose another sample rate; using its rate"
                );
            }
            actual
        } else {
            sample_rate
        };

        if let Some(bw) = config.bandwidth_hz {
            device
                .set_bandwidth(Rx, ch, bw)
                .map_err(err("set bandwidth"))?;
        }
        if let Some(antenna) = &config.antenna {
            let antennas = device.antennas(Rx, ch).map_err(err("list antennas"))?;
            if !antennas.contains(antenna) {
                return Err(Error::Unavailable {
                    device: name_of(args).to_string(),
                    setting: "antenna".into(),
                    value: format!("{antenna:?}"),
                    available: format!("{antennas:?}"),
                    advice: None,
                });
            }
            device
                .set_antenna(Rx, ch, antenna.as_str())
                .map_err(err("set antenna"))?;
        }

        let has_agc = device.has_gain_mode(Rx, ch).map_err(err("query AGC"))?;
        match config.gain_db {
            Some(gain) => {
                if has_agc {
                    device
                        .set_gain_mode(Rx, ch, false)
                        .map_err(err("turn AGC off"))?;
                }
                device.set_gain(Rx, ch, gain).map_err(err("set gain"))?;
            }
            None if has_agc => device
                .set_gain_mode(Rx, ch, true)
                .map_err(err("turn AGC on"))?,
            None => tracing::info!(args, "device has no AGC; gain left at its default"),
        }

        let elements = device
            .list_frequencies(Rx, ch)
            .map_err(err("list tunable elements"))?;
        let corrects = elements.iter().any(|e| e == "CORR");
        if corrects {
            device
                .set_component_frequency(Rx, ch, "CORR", config.ppm, ())
                .map_err(err("set frequency correction"))?;
        } else if config.ppm != 0.0 {
            tracing::info!(
                args,
                ppm = config.ppm,
                "device has no frequency correction; shifting the tuned frequency instead"
            );
        }

        let stream = Stream::open(&device, ch).map_err(err("set up RX stream"))?;
        Ok(Receiver {
            stream,
            device,
            args: args.to_string(),
            channel: ch,
            ppm: config.ppm,
            corrects,
            sample_rate,
        })
    }

    /// The sample rate the device runs at.
    pub fn sample_rate(&self) -> f64 {
        self.sample_rate
    }

    /// How the device's samples are encoded before conversion.
    pub fn datatype(&self) -> Datatype {
        self.stream.datatype()
    }

    /// Tune to `center_hz` (corrected for `ppm` when the device does not correct itself).
    pub fn tune(&self, center_hz: f64) -> Result<()> {
        let (freq, args) = if self.corrects {
            // Keep SoapySDR's default tuning from writing the remainder into CORR.
            (center_hz, "CORR=IGNORE")
        } else {
            (shifted_frequency(center_hz, self.ppm), "")
        };
        self.device
            .set_frequency(Rx, self.channel, freq, args)
            .map_err(|e| device_error(&self.args, &format!("tune to {center_hz} Hz"), e))
    }

    /// Start streaming.
    pub fn activate(&mut self) -> Result<()> {
        self.stream
            .activate()
            .map_err(|e| device_error(&self.args, "activate stream", e))
    }

    /// Read up to `buf.len()` samples, waiting at most `timeout_us`.
    pub fn read(&mut self, buf: &mut [Sample], timeout_us: i64) -> Result<usize, soapysdr::Error> {
        self.stream.read(buf, timeout_us)
    }
}

/// Refuse tunings and a gain outside what the device reports it can do
/// (SoapySDR's `getFrequencyRange` and `getGainRange` on the channel). A
/// device that reports no frequency range, or an empty gain range, is not
/// second-guessed.
fn check_ranges(device: &Device, config: &DeviceConfig, centers: &[f64]) -> Result<()> {
    let (args, ch) = (config.args.as_str(), config.channel);
    let ranges = device
        .frequency_range(Rx, ch)
        .map_err(|e| device_error(args, "read frequency range", e))?;
    let ranges: Vec<ValueRangeHz> = ranges
        .iter()
        .map(|r| ValueRangeHz(r.minimum, r.maximum))
        .filter(|r| r.0.is_finite() && r.1.is_finite() && r.1 >= r.0)
        .collect();
    if let Some(&bad) = centers.iter().find(|&&f| !frequency_fits(&ranges, f)) {
        let shown: Vec<String> = ranges.iter().map(ValueRangeHz::to_string).collect();
        return Err(Error::Unavailable {
            device: name_of(args).to_string(),
            setting: "centre frequency".into(),
            value: format!("{:.6} MHz", bad / 1e6),
            available: format!("it tunes {}", shown.join(", ")),
            advice: Some(
                "learn the profile for this device, or use a receiver that covers it".into(),
            ),
        });
    }
    if let Some(gain) = config.gain_db {
        let range = device
            .gain_range(Rx, ch)
            .map_err(|e| device_error(args, "read gain range", e))?;
        let (lo, hi) = (range.minimum, range.maximum);
        if lo.is_finite() && hi.is_finite() && hi > lo && !(lo - 1e-9..=hi + 1e-9).contains(&gain) {
            return Err(Error::Unavailable {
                device: name_of(args).to_string(),
                setting: "gain".into(),
                value: format!("{gain} dB"),
                available: format!("{lo}–{hi} dB"),
                advice: Some("set --gain or [device] gain_db within it, or use --agc".into()),
            });
        }
    }
    Ok(())
}

/// A tunable range in Hz, shown in MHz.
struct ValueRangeHz(f64, f64);

impl std::fmt::Display for ValueRangeHz {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}–{} MHz", self.0 / 1e6, self.1 / 1e6)
    }
}

/// Whether `center_hz` lies in one of `ranges` (no ranges: nothing to check).
fn frequency_fits(ranges: &[ValueRangeHz], center_hz: f64) -> bool {
    ranges.is_empty()
        || ranges
            .iter()
            .any(|r| center_hz >= r.0 - 1.0 && center_hz <= r.1 + 1.0)
}

fn name_of(args: &str) -> &str {
    if args.is_empty() {
        "(first device)"
    } else {
        args
    }
}

/// The frequency to ask of a tuner whose reference runs `ppm` fast so that it
/// actually tunes to `center_hz`.
fn shifted_frequency(center_hz: f64, ppm: f64) -> f64 {
    center_hz / (1.0 + ppm * 1e-6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ppm_shift_compensates_a_fast_oscillator() {
        let asked = shifted_frequency(100e6, 10.0);
        // The tuner multiplies by (1 + ppm) and lands on the centre.
        assert!((asked * (1.0 + 10e-6) - 100e6).abs() < 1e-3);
        assert!(asked < 100e6);
        assert_eq!(shifted_frequency(433.92e6, 0.0), 433.92e6);
    }

    #[test]
    fn frequencies_must_fit_a_reported_range() {
        let ranges = [ValueRangeHz(1e6, 6e9), ValueRangeHz(7.5e9, 8e9)];
        assert!(frequency_fits(&ranges, 433.92e6));
        assert!(frequency_fits(&ranges, 7.8e9));
        assert!(!frequency_fits(&ranges, 7e9));
        assert!(!frequency_fits(&ranges, 0.5e6));
        assert!(frequency_fits(&[], 7e9));
        assert_eq!(ValueRangeHz(1e6, 6e9).to_string(), "1–6000 MHz");
    }

    #[test]
    fn nul_bytes_in_args_are_refused() {
        assert!(parse_args("driver=x\0").is_err());
        assert_eq!(
            parse_args("driver=x, serial=1").unwrap().get("serial"),
            Some("1")
        );
    }
}
