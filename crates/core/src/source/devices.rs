//! What `rfsentry devices` shows: the SoapySDR receivers present, or the probe
//! of one (`"driver=rtlsdr,serial=…"`) with its frequency ranges, sample
//! rates, gains and antennas. Without the `soapy` feature it explains how to
//! get SoapySDR support instead.

/// The device table, or the probe of `probe` when given, as printable text.
pub fn report(probe: Option<&str>) -> crate::Result<String> {
    #[cfg(feature = "soapy")]
    {
        use super::soapy;
        match probe {
            Some(device) => Ok(soapy::probe(device)?.to_string()),
            None => Ok(soapy::format_device_list(&soapy::list_devices()?)),
        }
    }
    #[cfg(not(feature = "soapy"))]
    {
        let _ = probe;
        Err(crate::Error::NoSoapy {
            needed_by: "listing or probing receivers".into(),
        })
    }
}
