//! `rfsentry hub --export`: each alert's latest state from the hub's
//! database, as JSON Lines (the API's objects, with the sensor's own last
//! event line) or CSV (one row per alert, for the incident report); or the
//! sensors' chain heads the hub received, as JSON Lines, which `rfsentry
//! verify OUTDIR --heads FILE` checks a sensor's log against.

use super::store::{AlertFilter, AlertRow, Store};
use crate::error::{FleetError, Result};
use std::io::Write;
use std::path::Path;

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Jsonl,
    Csv,
    /// The signed lines of the sensors' chains of custody received.
    Heads,
}

const CSV_COLUMNS: [&str; 14] = [
    "site",
    "id",
    "kind",
    "state",
    "last_event",
    "start",
    "end",
    "center_hz",
    "freq_low_hz",
    "freq_high_hz",
    "peak_dbfs",
    "excess_db",
    "events",
    "picture",
];

/// Write the alerts `filter` selects from `db` to `out` (with `Heads`, the
/// chain heads of `filter.site`, or of every site); returns how many.
pub fn export(
    db: &Path,
    format: Format,
    filter: &AlertFilter,
    out: &mut dyn Write,
    out_name: &Path,
) -> Result<usize> {
    let store = Store::open_existing(db)?;
    let io = |e| FleetError::io(out_name, e);
    let n = match format {
        Format::Jsonl => {
            let alerts = oldest_first(&store, filter)?;
            for a in &alerts {
                write_json_line(out, a).map_err(io)?;
            }
            alerts.len()
        }
        Format::Csv => {
            let alerts = oldest_first(&store, filter)?;
            writeln!(out, "{}", CSV_COLUMNS.join(",")).map_err(io)?;
            for a in &alerts {
                writeln!(out, "{}", csv_row(a)).map_err(io)?;
            }
            alerts.len()
        }
        Format::Heads => {
            let heads = store.chain_heads(filter.site.as_deref())?;
            for h in &heads {
                write_json_line(out, h).map_err(io)?;
            }
            heads.len()
        }
    };
    out.flush().map_err(io)?;
    Ok(n)
}

/// Every alert `filter` selects, oldest first (as a report reads).
fn oldest_first(store: &Store, filter: &AlertFilter) -> Result<Vec<AlertRow>> {
    let mut filter = filter.clone();
    filter.limit = Some(filter.limit.unwrap_or(u64::MAX >> 1));
    let mut alerts = store.alerts(&filter)?;
    alerts.reverse();
    Ok(alerts)
}

fn write_json_line(out: &mut dyn Write, value: &impl serde::Serialize) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    out.write_all(b"\n")
}

fn csv_row(a: &AlertRow) -> String {
    let num = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        a.site.clone(),
        a.id.clone(),
        a.kind.clone(),
        a.state.clone(),
        a.event.clone(),
        text(&a.start),
        text(&a.end),
        num(a.center_hz),
        num(a.freq_low_hz),
        num(a.freq_high_hz),
        num(a.peak_dbfs),
        num(a.excess_db),
        a.events.to_string(),
        a.picture.to_string(),
    ]
    .iter()
    .map(|f| csv_field(f))
    .collect::<Vec<_>>()
    .join(",")
}

/// RFC 4180 quoting; a field that a spreadsheet would run as a formula
/// (`=`, `+`, `-`, `@` first) is prefixed with `'`, unless it is a number.
fn csv_field(f: &str) -> String {
    let formula =
        f.starts_with(['=', '+', '@']) || (f.starts_with('-') && f.parse::<f64>().is_err());
    let f = if formula {
        format!("'{f}")
    } else {
        f.to_string()
    };
    if f.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"x\""), "\"say \"\"x\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("-37.5"), "-37.5");
    }
}
