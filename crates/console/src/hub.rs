//! The hub thread: takes what the watch tap hands over (alert events,
//! health, spectrum rows) and passes it on — to the board behind the web
//! API, the metrics, the web clients' event stream, the notifiers and the
//! terminal screen — so none of them ever talks to the monitoring threads.

use crate::notify::Notifier;
use crate::terminal::Terminal;
use crate::Shared;
use crossbeam_channel::{never, select};
use rfsentry_core::watch::{Observed, SpectrumRow, TapEnd};
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Run until the tap closes (monitoring has ended).
pub fn run(end: TapEnd, shared: Arc<Shared>, mut terminal: Terminal, notifier: &Notifier) {
    let mut rows = end.rows.clone();
    loop {
        select! {
            recv(end.events) -> msg => match msg {
                Ok(Observed::Alert(e)) => {
                    let json = {
                        let mut board = shared.board.lock().expect("board");
                        board.on_alert(&e);
                        let json = board
                            .alert(&e.id)
                            .map(|a| a.to_json(&board.info).to_string())
                            .unwrap_or_default();
                        terminal.alert(&e, &board);
                        json
                    };
                    shared.metrics.lock().expect("metrics").on_alert(&e);
                    shared.publish("alert", json);
                    notifier.send(&e);
                }
                Ok(Observed::Health(s)) => {
                    shared.missed.store(end.missed(), Ordering::Relaxed);
                    shared.metrics.lock().expect("metrics").on_health(&s);
                    let json = {
                        let mut board = shared.board.lock().expect("board");
                        board.on_health(&s);
                        terminal.health(&board);
                        shared.status_json(&board)
                    };
                    shared.publish("status", json.to_string());
                }
                Err(_) => break,
            },
            recv(rows) -> row => match row {
                Ok(row) => shared.spectrum(row_json(&row)),
                Err(_) => rows = never(),
            },
        }
    }
    let json = {
        let mut board = shared.board.lock().expect("board");
        board.ended = true;
        terminal.health(&board);
        terminal.finish();
        shared.status_json(&board)
    };
    shared.publish("status", json.to_string());
}

/// A spectrum row as the event stream carries it (dB to 0.1).
pub fn row_json(row: &SpectrumRow) -> String {
    let mut s = String::with_capacity(16 + row.columns.len() * 6);
    let _ = write!(
        s,
        "{{\"segment\":{},\"center_hz\":{},\"sample_rate\":{},\"end_sample\":{},\"bins_per_column\":{},\"db\":[",
        row.segment, row.center_hz, row.sample_rate, row.end_sample, row.bins_per_column
    );
    for (i, v) in row.columns.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        match v.is_finite() {
            true => {
                let _ = write!(s, "{:.1}", v);
            }
            false => s.push_str("-200"),
        }
    }
    s.push_str("]}");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_json() {
        let row = SpectrumRow {
            segment: 0,
            center_hz: 433.92e6,
            sample_rate: 250e3,
            end_sample: 12500,
            bins_per_column: 1,
            columns: vec![-60.04, f32::NEG_INFINITY, -3.04],
        };
        let v: serde_json::Value = serde_json::from_str(&row_json(&row)).unwrap();
        assert_eq!(v["db"], serde_json::json!([-60.0, -200, -3.0]));
        assert_eq!(v["center_hz"], 433.92e6);
    }
}
