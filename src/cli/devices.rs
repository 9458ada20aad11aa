//! `rfsentry devices`: list the SoapySDR receivers present, or probe one
//! (`--probe "driver=rtlsdr,serial=…"`); the library's
//! `source::devices::report` says what.

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
    print!("{}", crate::source::devices::report(args.probe.as_deref())?);
    Ok(())
}
