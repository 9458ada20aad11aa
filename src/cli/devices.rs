//! `rfsentry devices`: list the SoapySDR receivers present, or probe one
//! (`--probe "driver=rtlsdr,serial=…"`) for its frequency ranges, sample
//! rates, gains and antennas. Without the `soapy` feature it explains how to
//! get SoapySDR support instead.

/// List SoapySDR devices, or probe one.
#[derive(clap::Args, Debug)]
pub struct DevicesArgs {
    /// Open this device (SoapySDR arguments, e.g. "driver=rtlsdr,serial=00000001")
    /// and print its frequency ranges, sample rates, gains and antennas.
    #[arg(long, value_name = "ARGS")]
    pub probe: Option<String>,
}

/// Print the device table (or the probe of one device) to stdout.
pub fn run(args: &DevicesArgs) -> crate::Result<()> {
    #[cfg(feature = "soapy")]
    {
        use crate::source::soapy;
        match &args.probe {
            Some(device) => print!("{}", soapy::probe(device)?),
            None => print!("{}", soapy::format_device_list(&soapy::list_devices()?)),
        }
        Ok(())
    }
    #[cfg(not(feature = "soapy"))]
    {
        let _ = args;
        Err(crate::Error::config(
            "this rfsentry was built without SoapySDR support; rebuild with \
             `cargo build --release --features soapy` (needs libsoapysdr-dev)",
        ))
    }
}
