//! `monitor`'s terminal screen, for a tired operator: one status line that
//! fits the terminal's width (redrawn in place, never wrapping), under it a
//! short list of the alerts open now, and above them one line per alert
//! event — `raised` in red with the terminal bell, `cleared` with its clear
//! time, `acknowledged` with who and the note. Times are UTC, or local with
//! `--local-time`. Without a terminal (or with `NO_COLOR`) lines are plain,
//! no bell, no status line; their first words stay `EVENT KIND ID` for tools.

use crate::state::Board;
use rfsentry_core::alert::{AlertEvent, EventType};
use std::io::Write;

/// Open alerts listed under the status line at most.
pub const OPEN_LISTED: usize = 3;

/// How the screen looks.
#[derive(Debug, Clone, Copy)]
pub struct TerminalOptions {
    /// stderr is a terminal: draw the status line and the open list in place.
    pub screen: bool,
    pub color: bool,
    pub bell: bool,
    pub local_time: bool,
}

impl TerminalOptions {
    /// For stderr as it is: a screen when it is a terminal, colour unless
    /// `NO_COLOR` is set, the bell unless `no_bell`.
    pub fn detect(no_bell: bool, local_time: bool) -> Self {
        use std::io::IsTerminal;
        let screen = std::io::stderr().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        TerminalOptions {
            screen,
            color: screen && !no_color,
            bell: screen && !no_bell,
            local_time,
        }
    }
}

/// The screen's state: how many lines the status block took.
#[derive(Debug)]
pub struct Terminal {
    options: TerminalOptions,
    drawn: usize,
}

const RED: &str = "\x1b[1;31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const YELLOW: &str = "\x1b[1;33m";
const RESET: &str = "\x1b[0m";

impl Terminal {
    pub fn new(options: TerminalOptions) -> Self {
        Terminal { options, drawn: 0 }
    }

    /// An alert event: its line above the status block (updates are not shown).
    pub fn alert(&mut self, e: &AlertEvent, board: &Board) {
        if e.event == EventType::Updated {
            return;
        }
        let line = self.event_line(e);
        let mut out = Vec::new();
        self.erase(&mut out);
        let _ = writeln!(out, "{line}");
        if self.options.bell && e.event == EventType::Raised {
            out.push(0x07);
        }
        self.draw(&mut out, board);
        write_all(&out);
    }

    /// New health: redraw the status block.
    pub fn health(&mut self, board: &Board) {
        if !self.options.screen {
            return;
        }
        let mut out = Vec::new();
        self.erase(&mut out);
        self.draw(&mut out, board);
        write_all(&out);
    }

    /// Leave the last status on screen and end its line (before the run's summary).
    pub fn finish(&mut self) {
        if self.options.screen && self.drawn > 0 {
            write_all(b"\n");
            self.drawn = 0;
        }
    }

    /// One alert event as a line: `EVENT KIND ID MHz dB TIME …`.
    pub fn event_line(&self, e: &AlertEvent) -> String {
        let (word, color, time) = match e.event {
            EventType::Raised => ("raised", RED, &e.start),
            EventType::Cleared => ("cleared", GREEN, &e.end),
            EventType::Acknowledged => ("acknowledged", CYAN, &e.end),
            EventType::Updated => ("updated", "", &e.end),
        };
        let mut line = format!(
            "{word:<8} {:<21} {:<12} {:>10.4} MHz  {:+6.1} dB  {}",
            e.kind.name(),
            e.id,
            e.center_hz / 1e6,
            e.excess_db,
            self.time(time)
        );
        match e.event {
            EventType::Cleared => line.push_str(&format!(
                "  (raised {}, lasted {})",
                self.time(&e.start),
                lasted(e)
            )),
            EventType::Acknowledged => {
                if let Some(a) = e.details.get("acknowledged") {
                    let text =
                        |k: &str| a.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                    let note = text("note").replace('\n', " / ");
                    line = format!(
                        "{word} {:<21} {} by {} at {}{}",
                        e.kind.name(),
                        e.id,
                        text("by"),
                        self.time(&text("at")),
                        if note.is_empty() {
                            String::new()
                        } else {
                            format!(": {note}")
                        }
                    );
                }
            }
            _ => {}
        }
        match self.options.color && !color.is_empty() {
            true => format!("{color}{line}{RESET}"),
            false => line,
        }
    }

    /// An RFC 3339 time as the operator reads it.
    pub fn time(&self, rfc3339: &str) -> String {
        let Ok(t) = chrono::DateTime::parse_from_rfc3339(rfc3339) else {
            return rfc3339.to_string();
        };
        match self.options.local_time {
            true => t
                .with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S%.3f %:z")
                .to_string(),
            false => t
                .with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M:%S%.3fZ")
                .to_string(),
        }
    }

    /// The status block: the status line, then the open alerts (each fitted to the width).
    pub fn block(&self, board: &Board, width: usize) -> Vec<String> {
        let h = board.health();
        let mut fields: Vec<(String, &str)> = Vec::new();
        if board.ended {
            fields.push(("monitoring ended".into(), YELLOW));
        } else if board.input_stopped() {
            fields.push((
                format!("INPUT STOPPED {:.0} s", board.seconds_since_last_sample()),
                RED,
            ));
        }
        if board.in_gap() {
            fields.push(("IN A MONITORING GAP".into(), RED));
        }
        let open = board.open_alerts().count();
        fields.push((format!("open {open}"), if open > 0 { RED } else { "" }));
        fields.push((format!("t={:.1}s", h.seconds), ""));
        fields.push((format!("floor {:.1} dBFS", h.noise_floor_dbfs), ""));
        fields.push((format!("{:.2} MS/s", h.rate_sps / 1e6), ""));
        fields.push((
            format!(
                "gaps {} ({:.2} s lost)",
                h.gaps,
                h.lost_samples as f64 / board.info.sample_rate.max(1.0)
            ),
            "",
        ));
        fields.push((format!("total {}", board.alerts().len()), ""));
        fields.push((
            format!("base {:.1} dBFS", board.info.baseline_floor_dbfs),
            "",
        ));
        let mut status = String::new();
        let mut plain_len = 0;
        for (text, color) in fields {
            let sep = if plain_len == 0 { 0 } else { 3 };
            if plain_len + sep + text.chars().count() > width {
                break;
            }
            if sep > 0 {
                status.push_str(" · ");
            }
            plain_len += sep + text.chars().count();
            match self.options.color && !color.is_empty() {
                true => status.push_str(&format!("{color}{text}{RESET}")),
                false => status.push_str(&text),
            }
        }
        let mut lines = vec![status];
        let open: Vec<_> = board.open_alerts().collect();
        for a in open.iter().rev().take(OPEN_LISTED) {
            let e = &a.latest;
            let acked = match a.acks.last() {
                Some(ack) => format!("  ack {}", ack.by),
                None => String::new(),
            };
            let text = format!(
                "  open {} {} {:.4} MHz {:+.1} dB {}{acked}",
                e.id,
                e.kind.name(),
                e.center_hz / 1e6,
                e.excess_db,
                lasted(e)
            );
            lines.push(text.chars().take(width).collect());
        }
        if open.len() > OPEN_LISTED {
            lines.push(format!("  … and {} more open", open.len() - OPEN_LISTED));
        }
        lines
    }

    fn draw(&mut self, out: &mut Vec<u8>, board: &Board) {
        if !self.options.screen {
            return;
        }
        let width = terminal_width().saturating_sub(1).max(20);
        let lines = self.block(board, width);
        let _ = write!(out, "{}", lines.join("\n"));
        self.drawn = lines.len();
    }

    fn erase(&mut self, out: &mut Vec<u8>) {
        if !self.options.screen || self.drawn == 0 {
            return;
        }
        let _ = write!(out, "\r");
        if self.drawn > 1 {
            let _ = write!(out, "\x1b[{}A", self.drawn - 1);
        }
        let _ = write!(out, "\x1b[J");
        self.drawn = 0;
    }
}

/// How long an alert lasted so far, "1.0 s", "2 min 5 s".
fn lasted(e: &AlertEvent) -> String {
    let secs = match (
        chrono::DateTime::parse_from_rfc3339(&e.start),
        chrono::DateTime::parse_from_rfc3339(&e.end),
    ) {
        (Ok(a), Ok(b)) => (b - a).num_milliseconds().max(0) as f64 / 1000.0,
        _ => return String::new(),
    };
    match secs {
        s if s < 60.0 => format!("{s:.1} s"),
        s if s < 3600.0 => format!("{} min {} s", (s / 60.0) as u64, (s % 60.0) as u64),
        s => format!(
            "{} h {} min",
            (s / 3600.0) as u64,
            ((s % 3600.0) / 60.0) as u64
        ),
    }
}

fn write_all(bytes: &[u8]) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(bytes);
    let _ = err.flush();
}

/// Columns of the terminal on stderr ($COLUMNS, else 80, when it cannot be asked).
pub fn terminal_width() -> usize {
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ fills a winsize we own.
    let rc = unsafe { libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut ws) };
    if rc == 0 && ws.ws_col > 0 {
        return ws.ws_col as usize;
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(80)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rfsentry_core::watch::Status;

    fn event(event: &str, id: &str) -> AlertEvent {
        serde_json::from_value(serde_json::json!({
            "id": id, "event": event, "kind": "jamming.tone", "site": "s", "recording": "r",
            "start": "2026-01-01T00:00:00.786Z", "end": "2026-01-01T00:00:01.816Z",
            "start_sample": 0, "end_sample": 25, "freq_low_hz": 1.0, "freq_high_hz": 2.0,
            "center_hz": 433.9404e6, "peak_dbfs": -20.0, "excess_db": 18.5, "snr_db": 12.0,
            "confidence": 0.9, "evidence": {}
        }))
        .unwrap()
    }

    fn plain() -> Terminal {
        Terminal::new(TerminalOptions {
            screen: true,
            color: false,
            bell: false,
            local_time: false,
        })
    }

    #[test]
    fn lines_say_what_happened_when() {
        let t = plain();
        let raised = t.event_line(&event("raised", "s-0001"));
        assert!(
            raised.starts_with("raised   jamming.tone          s-0001"),
            "{raised}"
        );
        assert!(
            raised.contains("433.9404 MHz   +18.5 dB  2026-01-01 00:00:00.786Z"),
            "{raised}"
        );
        let cleared = t.event_line(&event("cleared", "s-0001"));
        assert!(
            cleared.contains(
                "2026-01-01 00:00:01.816Z  (raised 2026-01-01 00:00:00.786Z, lasted 1.0 s)"
            ),
            "{cleared}"
        );
        let mut colored = plain();
        colored.options.color = true;
        assert!(colored.event_line(&event("raised", "x")).starts_with(RED));
    }

    #[test]
    fn the_status_block_fits_the_width_and_lists_what_is_open() {
        let t = plain();
        let mut board = Board::new(crate::state::tests::info());
        board.on_health(&Status {
            samples: 100,
            seconds: 12.3,
            rate_sps: 250e3,
            noise_floor_dbfs: -61.0,
            ..Default::default()
        });
        for i in 0..5 {
            board.on_alert(&event("raised", &format!("s-000{i}")));
        }
        for width in [40, 80, 200] {
            let lines = t.block(&board, width);
            assert!(
                lines.iter().all(|l| l.chars().count() <= width),
                "{lines:?}"
            );
            assert!(lines[0].starts_with("open 5"), "{lines:?}");
            assert_eq!(lines.len(), 1 + OPEN_LISTED + 1, "{lines:?}");
            assert!(lines[1].contains("s-0004"), "newest first: {lines:?}");
            assert_eq!(lines[4], "  … and 2 more open");
        }
        assert!(t.block(&board, 200)[0].contains("floor -61.0 dBFS"));
    }
}
