//! SoapySDR's own log — what its modules say ("[INFO] Opening…", "Found
//! Rafael Micro R820T tuner", a broken module's load error) — kept behind
//! rfsentry's messages: it goes through `tracing` under the target
//! `soapysdr` (shown with `RUST_LOG=soapysdr=info`), and while a device is
//! being opened it is held: if opening fails, rfsentry's error comes first
//! and names the driver's warnings and errors after it; if it succeeds, the
//! held lines are logged as any others.

use std::ffi::CStr;
use std::os::raw::c_char;
use std::sync::{Mutex, Once};

/// A driver's message and its SoapySDR level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverMessage {
    pub level: soapysdr_sys::SoapySDRLogLevel,
    pub text: String,
}

impl DriverMessage {
    /// A warning or worse.
    pub fn is_warning(&self) -> bool {
        self.level <= soapysdr_sys::SOAPY_SDR_WARNING
    }
}

/// Messages held while a device opens (`None`: not holding).
static HELD: Mutex<Option<Vec<DriverMessage>>> = Mutex::new(None);

/// Route SoapySDR's log here (once, before the first SoapySDR call).
pub fn route() {
    static ROUTED: Once = Once::new();
    ROUTED.call_once(|| {
        // SAFETY: registers a handler with the signature SoapySDR expects;
        // the handler only reads the message it is given.
        unsafe {
            soapysdr_sys::SoapySDR_registerLogHandler(Some(handler));
            soapysdr_sys::SoapySDR_setLogLevel(soapysdr_sys::SOAPY_SDR_DEBUG);
        }
    });
}

extern "C" fn handler(level: soapysdr_sys::SoapySDRLogLevel, message: *const c_char) {
    if message.is_null() {
        return;
    }
    // SAFETY: SoapySDR passes a NUL-terminated string valid for this call.
    let text = unsafe { CStr::from_ptr(message) }
        .to_string_lossy()
        .trim_matches(&['\r', '\n'][..])
        .to_string();
    let message = DriverMessage { level, text };
    if let Ok(mut held) = HELD.lock() {
        if let Some(held) = held.as_mut() {
            held.push(message);
            return;
        }
    }
    emit(&message);
}

/// Log a driver's message through `tracing`.
fn emit(m: &DriverMessage) {
    use soapysdr_sys::*;
    match m.level {
        SOAPY_SDR_FATAL | SOAPY_SDR_CRITICAL | SOAPY_SDR_ERROR => {
            tracing::error!(target: "soapysdr", "{}", m.text)
        }
        SOAPY_SDR_WARNING => tracing::warn!(target: "soapysdr", "{}", m.text),
        SOAPY_SDR_NOTICE | SOAPY_SDR_INFO | SOAPY_SDR_SSI => {
            tracing::info!(target: "soapysdr", "{}", m.text)
        }
        _ => tracing::debug!(target: "soapysdr", "{}", m.text),
    }
}

/// Run `open` with the driver's messages held. On success they are logged
/// after it; on failure they are returned (logged at debug level) for the
/// error to name after its own words.
pub fn holding<T, E>(open: impl FnOnce() -> Result<T, E>) -> Result<T, (E, Vec<DriverMessage>)> {
    route();
    if let Ok(mut held) = HELD.lock() {
        held.get_or_insert_with(Vec::new);
    }
    let result = open();
    let said = HELD
        .lock()
        .ok()
        .and_then(|mut held| held.take())
        .unwrap_or_default();
    match result {
        Ok(t) => {
            said.iter().for_each(emit);
            Ok(t)
        }
        Err(e) => {
            for m in &said {
                tracing::debug!(target: "soapysdr", "{}", m.text);
            }
            Err((e, said))
        }
    }
}

/// What the driver warned of while failing, for the end of an error
/// message: its warnings and errors (at most `max`), or "".
pub fn summary(said: &[DriverMessage], max: usize) -> String {
    let warnings: Vec<&str> = said
        .iter()
        .filter(|m| m.is_warning())
        .map(|m| m.text.as_str())
        .collect();
    if warnings.is_empty() {
        return String::new();
    }
    let mut out = String::from("; the driver said: ");
    out.push_str(&warnings[..warnings.len().min(max)].join(" | "));
    if warnings.len() > max {
        out.push_str(&format!(
            " (and {} more; RUST_LOG=soapysdr=debug shows all)",
            warnings.len() - max
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(level: soapysdr_sys::SoapySDRLogLevel, text: &str) -> DriverMessage {
        DriverMessage {
            level,
            text: text.into(),
        }
    }

    #[test]
    fn the_summary_names_warnings_and_errors_only() {
        use soapysdr_sys::*;
        let said = [
            m(SOAPY_SDR_INFO, "Opening"),
            m(SOAPY_SDR_ERROR, "usb_open error -3"),
            m(SOAPY_SDR_WARNING, "no tuner"),
            m(SOAPY_SDR_ERROR, "third"),
        ];
        assert_eq!(summary(&said[..1], 2), "");
        assert_eq!(
            summary(&said, 2),
            "; the driver said: usb_open error -3 | no tuner (and 1 more; RUST_LOG=soapysdr=debug shows all)"
        );
    }
}
