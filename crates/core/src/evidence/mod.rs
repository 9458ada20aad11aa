//! Evidence a task-force member can show afterwards (DESIGN §5):
//!
//! - per alert, a spectrogram PNG ([`spectrogram`]) from rows kept by
//!   [`capture::SpectrogramRecorder`] (recent history + the alert's own rows),
//! - per recording, an overview spectrogram with every alert marked ([`overview`]),
//! - per alert, the IQ samples around it as a SigMF recording ([`iq`]),
//! - the self-contained HTML report ([`report`]).
//!
//! Shared pieces: [`waterfall`] (time × frequency rows, bounded history and
//! decimation), [`scale`] (colour scale), [`raster`] (rows → pixels),
//! [`chart`] (axes, colour bar, PNG file), [`font`] (the embedded font).
//!
//! Evidence file names are derived from the alert id by [`file_stem`]; paths
//! stored in [`crate::alert::EvidencePaths`] are relative to the alert directory.
//!
//! # How the sink thread uses these pieces
//!
//! Everything is fed in stream order, on one thread:
//!
//! ```text
//! start:   spectro = SpectrogramRecorder::new(CaptureLimits)        one per stream
//!          iq      = IqEvidenceRecorder::new(alert_dir, IqStream, EvidenceLimits)
//!                    .with_reread(reader)        a recording: no IQ ring in memory
//!          overview = Overview::default()                          one per recording
//! frame:   spectro.push_frame(&frame); overview.push_frame(&frame)
//! block:   iq.push_block(block, |buf| pool.put(buf))               evicted buffers come back
//! event:   event.evidence.iq = iq.on_alert(&event)                  Some("iq/<id>.sigmf-meta")
//!          if let Some(rows) = spectro.on_alert(&event) {            Some on `cleared`
//!              let rel = spectrogram_rel_path(&event.id);
//!              render_alert_png(&alert_dir.join(&rel),
//!                  &rows.picture(site, profile.segments.get(rows.segment).map(Baseline::from)))?;
//!              event.evidence.spectrogram = Some(rel);
//!          }
//!          then write the event to the alert log
//! end:     for rows in spectro.finish_all() { render as above }       alerts still open
//!          iq.finish_all(|buf| pool.put(buf))                       -> EvidenceStats
//!          render_overview_png(path, &OverviewPicture { .. all events of the recording .. })
//!          write_report(out_dir, &Report { .. })                     offline analysis
//! ```

pub mod capture;
pub mod chart;
pub mod font;
pub mod iq;
pub mod overview;
pub mod raster;
pub mod report;
pub mod scale;
pub mod spectrogram;
pub mod waterfall;

use crate::alert::AlertKind;

pub use capture::{AlertRows, CaptureLimits, SpectrogramRecorder};
pub use iq::{EvidenceLimits, EvidenceStats, IqEvidenceRecorder, IqStream};
pub use overview::{render_overview_png, Overview, OverviewPicture};
pub use report::{write_report, Report, ReportRecording};
pub use spectrogram::{render_alert_png, AlertPicture, AlertPictureLayout, Baseline};
pub use waterfall::{HistoryLimits, RowAccumulator, SpectrumRow, WaterfallHistory};

pub use crate::alert::out_dir::{IQ_DIR, SPECTROGRAM_DIR};

/// A file-name-safe form of an alert id: ASCII letters, digits, `-`, `_`
/// and `.` are kept, anything else becomes `_`; never empty, never hidden.
pub fn file_stem(alert_id: &str) -> String {
    let mut stem: String = alert_id
        .chars()
        .take(120)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.is_empty() || stem.starts_with('.') {
        stem.insert(0, '_');
    }
    stem
}

/// The spectrogram's path relative to the alert directory: `spectrograms/<id>.png`.
pub fn spectrogram_rel_path(alert_id: &str) -> String {
    format!("{SPECTROGRAM_DIR}/{}.png", file_stem(alert_id))
}

/// The IQ evidence's path relative to the alert directory: `iq/<id>.sigmf-meta`.
pub fn iq_rel_path(alert_id: &str) -> String {
    format!("{IQ_DIR}/{}.sigmf-meta", file_stem(alert_id))
}

/// A short human description of an alert kind, for titles and tables.
pub fn describe_kind(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::JammingBarrage => "Barrage (wideband noise) jamming",
        AlertKind::JammingTone => "Tone (carrier) jamming",
        AlertKind::JammingSwept => "Swept (chirp) jamming",
        AlertKind::JammingPulsed => "Pulsed jamming",
        AlertKind::EmitterUnknown => "Unknown transmitter",
        AlertKind::EmitterAnomalous => "Known transmitter out of profile",
        AlertKind::ReceiverOverload => "Receiver overload",
        AlertKind::ReceiverSignalLoss => "Signal loss (antenna?)",
        AlertKind::MonitoringGap => "Monitoring gap",
    }
}

/// A short, readable form of an alert id for crowded labels: the id itself
/// when short, else its last 8 characters after an ellipsis.
pub fn short_id(alert_id: &str) -> String {
    let n = alert_id.chars().count();
    if n <= 12 {
        alert_id.to_string()
    } else {
        let tail: String = alert_id.chars().skip(n - 8).collect();
        format!("…{tail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems_are_safe() {
        assert_eq!(file_stem("venue-a-0001"), "venue-a-0001");
        assert_eq!(file_stem("../x/y z"), "_.._x_y_z");
        assert_eq!(file_stem(""), "_");
        assert_eq!(iq_rel_path("a/b"), "iq/a_b.sigmf-meta");
        assert_eq!(spectrogram_rel_path("a1"), "spectrograms/a1.png");
        assert_eq!(short_id("abc"), "abc");
        assert_eq!(short_id("venue-a-20240501-0001"), "…501-0001");
    }
}
