//! The offline HTML report (`OUT/report.html`): one self-contained page
//! (inline CSS, no script, no external URL) that shows the run's header,
//! summary numbers, each recording's overview picture and every alert with
//! its spectrogram and a link to its IQ evidence. Pictures are referenced by
//! relative paths next to the report. Output depends only on the [`Report`]
//! and on which evidence files exist, never on the clock.

use super::overview::{format_duration, latest_per_alert};
use super::spectrogram::{format_bandwidth, format_time};
use super::{describe_kind, file_stem};
use crate::alert::{AlertEvent, AlertKind};
use crate::atomic_file::write_atomic;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One analysed recording.
#[derive(Debug, Clone, Default)]
pub struct ReportRecording {
    /// The recording's path (as in the alert log's `recording`).
    pub name: String,
    /// Its overview PNG, relative to the report's directory.
    pub overview_png: Option<String>,
    pub samples: u64,
    pub sample_rate: f64,
    pub center_hz: f64,
    /// Wall-clock time of its first sample, when known.
    pub start_time: Option<DateTime<Utc>>,
    /// How `start_time` was estimated, when the recording does not carry it.
    pub time_basis: Option<String>,
}

impl ReportRecording {
    /// Duration in seconds.
    pub fn duration_s(&self) -> f64 {
        if self.sample_rate > 0.0 {
            self.samples as f64 / self.sample_rate
        } else {
            0.0
        }
    }
}

/// Everything the report shows.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub site: String,
    /// The baseline profile used (its path or a description).
    pub profile: Option<String>,
    /// What made the report; `rfsentry VERSION` when empty.
    pub generated_by: String,
    /// When the report was made, if the caller wants it shown (never read from the clock here).
    pub generated_at: Option<String>,
    pub recordings: Vec<ReportRecording>,
    /// Alert events (any lifecycle stage: the last event of each id is shown).
    pub alerts: Vec<AlertEvent>,
    /// Wall-clock seconds the analysis took, for the processing rate.
    pub processing_s: Option<f64>,
    /// Path from the report's directory to the alert directory, which the
    /// evidence paths of the events are relative to ("" when the same).
    pub evidence_prefix: String,
}

/// Escape text for HTML element content and quoted attribute values.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Percent-encode a relative path for an `href`/`src` (keeps `/` and unreserved characters).
pub fn url_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Write `out_dir/report.html`; returns its path.
pub fn write_report(out_dir: &Path, report: &Report) -> Result<PathBuf> {
    std::fs::create_dir_all(out_dir).map_err(|e| Error::io(out_dir, e))?;
    let path = out_dir.join("report.html");
    let html = render_html(out_dir, report);
    write_atomic(&path, html.as_bytes())?;
    Ok(path)
}

const STYLE: &str = r#"
:root { --ink:#212529; --muted:#60666e; --line:#dee2e6; --bg:#f6f7f9; --accent:#c2185b; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif; color:var(--ink); background:var(--bg); }
main { max-width:1120px; margin:0 auto; padding:24px 28px 48px; }
header { background:#1f2a37; color:#fff; padding:22px 28px; }
header .inner { max-width:1120px; margin:0 auto; }
header h1 { margin:0 0 6px; font-size:26px; font-weight:650; }
header p { margin:2px 0; color:#cfd6de; }
h2 { font-size:20px; margin:34px 0 12px; padding-bottom:6px; border-bottom:2px solid var(--line); }
h3 { font-size:17px; margin:0 0 8px; }
.cards { display:flex; flex-wrap:wrap; gap:12px; margin:18px 0; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px 16px; min-width:150px; }
.card .v { font-size:22px; font-weight:650; }
.card .k { color:var(--muted); font-size:13px; }
table { border-collapse:collapse; width:100%; background:#fff; border:1px solid var(--line); }
th, td { padding:7px 10px; border-bottom:1px solid var(--line); text-align:left; vertical-align:middle; }
th { background:#eef0f3; font-size:13px; text-transform:uppercase; letter-spacing:.03em; color:#464c53; }
td.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
tr:nth-child(even) td { background:#fafbfc; }
.kind { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12.5px; font-weight:600; white-space:nowrap; }
.k-jamming { background:#fde2e4; color:#a4161a; }
.k-emitter { background:#fff1d6; color:#8a5300; }
.k-receiver { background:#e8e1fb; color:#4b2a9b; }
.k-monitoring_gap { background:#e6e8eb; color:#3d4349; }
img.thumb { width:120px; height:auto; border:1px solid var(--line); display:block; }
figure { margin:0 0 18px; background:#fff; border:1px solid var(--line); border-radius:8px; padding:12px; }
figure img { max-width:100%; height:auto; display:block; margin:0 auto; }
figcaption { color:var(--muted); font-size:13.5px; margin-top:8px; }
article.alert { background:#fff; border:1px solid var(--line); border-radius:8px; padding:16px; margin:0 0 20px; }
article.alert img { max-width:100%; height:auto; display:block; margin:10px auto; border:1px solid var(--line); }
dl.facts { display:grid; grid-template-columns:max-content 1fr max-content 1fr; gap:4px 16px; margin:6px 0 0; font-size:14px; }
dl.facts dt { color:var(--muted); }
dl.facts dd { margin:0; }
.none { color:var(--muted); font-style:italic; }
.mono { font-family:ui-monospace,"DejaVu Sans Mono",monospace; font-size:13.5px; overflow-wrap:anywhere; }
td.id { white-space:nowrap; overflow-wrap:normal; }
.nowrap { white-space:nowrap; }
table.alerts th, table.alerts td { padding:6px 8px; }
a { color:#0b5cad; }
footer { color:var(--muted); font-size:13px; margin-top:40px; }
"#;

/// The report's HTML (evidence links are checked against files under `out_dir`).
pub fn render_html(out_dir: &Path, r: &Report) -> String {
    let alerts = latest_per_alert(&r.alerts);
    let generated_by = if r.generated_by.is_empty() {
        format!("rfsentry {}", crate::VERSION)
    } else {
        r.generated_by.clone()
    };
    let total_samples: u64 = r.recordings.iter().map(|x| x.samples).sum();
    let total_s: f64 = r.recordings.iter().map(ReportRecording::duration_s).sum();
    let e = html_escape;
    let mut h = String::with_capacity(16 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>rfsentry report — {site}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        site = e(&r.site)
    );

    // Header.
    let _ = writeln!(
        h,
        "<header><div class=\"inner\">\n<h1>Spectrum security report — site {}</h1>",
        e(&r.site)
    );
    let names: Vec<String> = r.recordings.iter().map(|x| e(&x.name)).collect();
    let _ = writeln!(
        h,
        "<p>Recording{}: <span class=\"mono\">{}</span></p>",
        if names.len() == 1 { "" } else { "s" },
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join("</span>, <span class=\"mono\">")
        }
    );
    let _ = writeln!(
        h,
        "<p>Baseline profile: {}</p>",
        r.profile
            .as_deref()
            .map(|p| format!("<span class=\"mono\">{}</span>", e(p)))
            .unwrap_or_else(|| "none".into())
    );
    let _ = writeln!(
        h,
        "<p>Analysed time: {}</p>",
        e(&analysis_span(&r.recordings))
    );
    let _ = write!(h, "<p>Generated by {}", e(&generated_by));
    if let Some(at) = &r.generated_at {
        let _ = write!(h, " at {}", e(at));
    }
    h.push_str("</p>\n</div></header>\n<main>\n");

    // Summary.
    h.push_str("<h2>Summary</h2>\n<div class=\"cards\">\n");
    let mut card = |value: String, key: &str| {
        let _ = writeln!(
            h,
            "<div class=\"card\"><div class=\"v\">{}</div><div class=\"k\">{}</div></div>",
            e(&value),
            e(key)
        );
    };
    card(alerts.len().to_string(), "alerts");
    card(r.recordings.len().to_string(), "recordings");
    card(format_duration(total_s), "of signal analysed");
    card(format_count(total_samples), "samples");
    if let Some(secs) = r.processing_s.filter(|s| *s > 0.0 && s.is_finite()) {
        card(
            format!("{:.1} MS/s", total_samples as f64 / secs / 1e6),
            "processing rate",
        );
        card(format!("{:.1}×", total_s / secs), "faster than real time");
    }
    h.push_str("</div>\n");
    h.push_str("<table class=\"bykind\"><thead><tr><th>Alert kind</th><th>Meaning</th><th>Alerts</th></tr></thead><tbody>\n");
    for kind in AlertKind::ALL {
        let n = alerts.iter().filter(|a| a.kind == kind).count();
        if n > 0 {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{n}</td></tr>",
                kind_badge(kind),
                e(describe_kind(kind))
            );
        }
    }
    if alerts.is_empty() {
        h.push_str("<tr><td colspan=\"3\" class=\"none\">No alerts: nothing unusual was found against the baseline.</td></tr>\n");
    }
    h.push_str("</tbody></table>\n");

    // Recordings.
    h.push_str("<h2>Recordings</h2>\n");
    for rec in &r.recordings {
        h.push_str("<figure>\n");
        match rec
            .overview_png
            .as_deref()
            .filter(|p| out_dir.join(p).is_file())
        {
            Some(png) => {
                let _ = writeln!(h, "<img src=\"{}\" alt=\"Overview spectrogram of {}\" width=\"1000\" height=\"720\">", e(&url_path(png)), e(&rec.name));
            }
            None => h.push_str("<p class=\"none\">No overview picture.</p>\n"),
        }
        let _ = writeln!(
            h,
            "<figcaption><span class=\"mono\">{}</span> — {} at {:.3} MHz, {} samples at {:.3} MS/s{}</figcaption>\n</figure>",
            e(&rec.name),
            e(&format_duration(rec.duration_s())),
            rec.center_hz / 1e6,
            e(&format_count(rec.samples)),
            rec.sample_rate / 1e6,
            match (rec.start_time, &rec.time_basis) {
                (Some(t), None) => format!(", starting {}", e(&t.format("%Y-%m-%d %H:%M:%S UTC").to_string())),
                (Some(t), Some(basis)) => format!(", starting about {} ({})", e(&t.format("%Y-%m-%d %H:%M:%S UTC").to_string()), e(basis)),
                (None, _) => ", start time unknown".to_string(),
            }
        );
    }
    if r.recordings.is_empty() {
        h.push_str("<p class=\"none\">No recordings.</p>\n");
    }

    // Alert table.
    h.push_str("<h2>Alerts</h2>\n");
    if alerts.is_empty() {
        h.push_str("<p class=\"none\">No alerts.</p>\n");
    } else {
        h.push_str(
            "<table class=\"alerts\"><thead><tr><th>Alert</th><th>Kind</th><th>Start (UTC)</th><th>Duration</th>\
             <th>Frequency (MHz)</th><th>Peak</th><th>Excess (dB)</th><th>Confidence</th><th>Evidence</th></tr></thead><tbody>\n",
        );
        for a in &alerts {
            let anchor = format!("alert-{}", file_stem(&a.id));
            let picture = existing(
                out_dir,
                &r.evidence_prefix,
                a.evidence.spectrogram.as_deref(),
            );
            let thumb = picture
                .as_deref()
                .map(|src| format!("<a href=\"#{anchor}\"><img class=\"thumb\" src=\"{}\" alt=\"spectrogram of alert {}\"></a>", e(&url_path(src)), e(&a.id)))
                .unwrap_or_else(|| format!("<a href=\"#{anchor}\">details</a>"));
            let _ = writeln!(
                h,
                "<tr><td class=\"mono id\"><a href=\"#{anchor}\">{}</a></td><td>{}</td><td>{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:+.1}</td><td class=\"num\">{:.2}</td><td>{thumb}</td></tr>",
                e(&a.id),
                kind_badge(a.kind),
                table_time(&a.start),
                e(&alert_duration(a, &r.recordings)),
                e(&freq_range(a)),
                e(&peak_text(a)),
                a.excess_db,
                a.confidence,
            );
        }
        h.push_str("</tbody></table>\n");

        // Alert details.
        h.push_str("<h2>Alert evidence</h2>\n");
        for a in &alerts {
            let anchor = format!("alert-{}", file_stem(&a.id));
            let _ = writeln!(h, "<article class=\"alert\" id=\"{anchor}\">\n<h3>{} — <span class=\"mono\">{}</span></h3>", e(describe_kind(a.kind)), e(&a.id));
            let _ = writeln!(
                h,
                "<dl class=\"facts\"><dt>Kind</dt><dd>{}</dd><dt>Recording</dt><dd class=\"mono\">{}</dd>\
                 <dt>Start</dt><dd>{}</dd><dt>End</dt><dd>{}</dd>\
                 <dt>Frequency</dt><dd>{} MHz ({})</dd><dt>Centre</dt><dd>{:.6} MHz</dd>\
                 <dt>Peak</dt><dd>{}</dd><dt>Over baseline</dt><dd>{:+.1} dB</dd>\
                 <dt>SNR</dt><dd>{:.1} dB</dd><dt>Confidence</dt><dd>{:.2}</dd></dl>",
                kind_badge(a.kind),
                e(&a.recording),
                e(&format_time(&a.start)),
                e(&format_time(&a.end)),
                e(&freq_range(a)),
                e(&format_bandwidth(a.freq_high_hz - a.freq_low_hz)),
                a.center_hz / 1e6,
                e(&peak_text(a)),
                a.excess_db,
                a.snr_db,
                a.confidence,
            );
            match existing(
                out_dir,
                &r.evidence_prefix,
                a.evidence.spectrogram.as_deref(),
            ) {
                Some(src) => {
                    let _ = writeln!(h, "<img src=\"{}\" alt=\"Spectrogram of alert {}\" width=\"1000\" height=\"800\">", e(&url_path(&src)), e(&a.id));
                }
                None => h.push_str("<p class=\"none\">No spectrogram picture.</p>\n"),
            }
            match existing(out_dir, &r.evidence_prefix, a.evidence.iq.as_deref()) {
                Some(meta) => {
                    let data = meta
                        .strip_suffix(".sigmf-meta")
                        .map(|b| format!("{b}.sigmf-data"));
                    let _ = write!(h, "<p>IQ evidence (SigMF, opens in inspectrum, IQEngine, GNU Radio): <a href=\"{}\">metadata</a>", e(&url_path(&meta)));
                    if let Some(data) = data.filter(|d| out_dir.join(d).is_file()) {
                        let _ = write!(h, " · <a href=\"{}\">samples</a>", e(&url_path(&data)));
                    }
                    h.push_str("</p>\n");
                }
                None => h.push_str("<p class=\"none\">No IQ evidence recorded.</p>\n"),
            }
            h.push_str("</article>\n");
        }
    }
    let _ = writeln!(h, "<footer>Made by {}. Times are UTC; powers are relative to the receiver's full scale (dBFS).</footer>", e(&generated_by));
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

/// `prefix/path` when that file exists under `out_dir`.
fn existing(out_dir: &Path, prefix: &str, path: Option<&str>) -> Option<String> {
    let path = path?;
    let rel = if prefix.is_empty() {
        path.to_string()
    } else {
        format!("{}/{}", prefix.trim_end_matches('/'), path)
    };
    out_dir.join(&rel).is_file().then_some(rel)
}

/// A start time for the table: date and time may wrap apart, each stays whole.
fn table_time(rfc3339: &str) -> String {
    let text = format_time(rfc3339);
    let text = text.trim_end_matches(" UTC");
    text.split(' ')
        .map(|part| format!("<span class=\"nowrap\">{}</span>", html_escape(part)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn kind_badge(kind: AlertKind) -> String {
    format!(
        "<span class=\"kind k-{}\">{}</span>",
        kind.family(),
        html_escape(kind.name())
    )
}

/// An alert's peak: dBFS, and dBm too when the profile is calibrated.
fn peak_text(a: &AlertEvent) -> String {
    match a.peak_dbm {
        Some(dbm) => format!("{:.1} dBFS ({dbm:.1} dBm)", a.peak_dbfs),
        None => format!("{:.1} dBFS", a.peak_dbfs),
    }
}

fn freq_range(a: &AlertEvent) -> String {
    let (lo, hi) = if a.freq_low_hz <= a.freq_high_hz {
        (a.freq_low_hz, a.freq_high_hz)
    } else {
        (a.freq_high_hz, a.freq_low_hz)
    };
    format!("{:.4}–{:.4}", lo / 1e6, hi / 1e6)
}

/// Duration from the RFC 3339 times, else from samples at the recording's rate.
fn alert_duration(a: &AlertEvent, recordings: &[ReportRecording]) -> String {
    let parse = |s: &str| DateTime::parse_from_rfc3339(s).ok();
    if let (Some(s), Some(t)) = (parse(&a.start), parse(&a.end)) {
        let ms = (t - s).num_milliseconds();
        if ms >= 0 {
            return format!("{:.2} s", ms as f64 / 1e3);
        }
    }
    recordings
        .iter()
        .find(|r| r.name == a.recording)
        .or(recordings.first())
        .filter(|r| r.sample_rate > 0.0)
        .map(|r| format!("{:.2} s", a.duration_s(r.sample_rate)))
        .unwrap_or_else(|| "unknown".into())
}

/// The wall-clock span of the recordings, when their start times are known.
fn analysis_span(recordings: &[ReportRecording]) -> String {
    let spans: Vec<(DateTime<Utc>, DateTime<Utc>)> = recordings
        .iter()
        .filter_map(|r| {
            let start = r.start_time?;
            let millis = (r.duration_s() * 1e3).clamp(0.0, 1e15) as i64;
            let end = start.checked_add_signed(chrono::Duration::milliseconds(millis))?;
            Some((start, end))
        })
        .collect();
    let total: f64 = recordings.iter().map(ReportRecording::duration_s).sum();
    match (
        spans.iter().map(|s| s.0).min(),
        spans.iter().map(|s| s.1).max(),
    ) {
        (Some(a), Some(b)) => format!(
            "{} to {} ({} of signal)",
            a.format("%Y-%m-%d %H:%M:%S UTC"),
            b.format("%Y-%m-%d %H:%M:%S UTC"),
            format_duration(total)
        ),
        _ => format!("{} of signal (start time unknown)", format_duration(total)),
    }
}

/// A count with thin-space thousands separators.
fn format_count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\u{2009}');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(html_escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
        assert_eq!(
            url_path("spectrograms/a b#1.png"),
            "spectrograms/a%20b%231.png"
        );
        assert_eq!(format_count(1234567), "1\u{2009}234\u{2009}567");
        assert_eq!(format_count(12), "12");
    }
}
