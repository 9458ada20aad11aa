//! Notifications for people away from the screen: on every `raised`,
//! `cleared` and `acknowledged` alert event,
//!
//! - `--notify-exec CMD` runs `sh -c CMD` with the alert's JSON (one line)
//!   on its standard input and `RFSENTRY_ID`, `RFSENTRY_EVENT`,
//!   `RFSENTRY_KIND`, `RFSENTRY_TEXT` in its environment; at most
//!   [`EXEC_WORKERS`] at once, each killed after [`EXEC_TIMEOUT`];
//! - `--notify-webhook URL` POSTs the same JSON (`Content-Type:
//!   application/json`), retried with back-off (1, 2, 4, 8 s) on a network
//!   error or a 5xx/408/429 answer.
//!
//! Both run on worker threads fed by bounded queues: a slow, hanging or
//! failing command or server never stalls monitoring (when a queue is full,
//! the notification is dropped, counted and logged). The JSON is the alert
//! event as logged plus `text`, a one-line summary a chat message can show.
//! Webhook URLs often embed a secret: messages name only their host.

use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};
use rfsentry_core::alert::{AlertEvent, EventType};
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::ConsoleError;

/// Commands run at once at most.
pub const EXEC_WORKERS: usize = 4;
/// A command still running after this is killed.
pub const EXEC_TIMEOUT: Duration = Duration::from_secs(30);
/// Webhook posts in flight at most.
pub const WEBHOOK_WORKERS: usize = 2;
/// Attempts per webhook notification.
pub const WEBHOOK_ATTEMPTS: u32 = 5;
/// Notifications waiting per channel at most.
pub const QUEUE: usize = 256;

/// Where notifications go.
#[derive(Debug, Clone, Default)]
pub struct NotifyOptions {
    pub exec: Option<String>,
    pub webhook: Option<String>,
    /// Seconds before the first retry of a webhook (doubled each time); 1 s.
    pub webhook_backoff: Option<Duration>,
}

/// Told each notification's outcome: (channel, outcome: sent | failed | dropped).
pub type OutcomeFn = Arc<dyn Fn(&'static str, &'static str) + Send + Sync>;

/// One notification.
#[derive(Debug, Clone)]
pub struct Note {
    pub json: String,
    pub id: String,
    pub event: &'static str,
    pub kind: &'static str,
    pub text: String,
}

impl Note {
    /// The notification for `e`, if its event is one people are told of.
    pub fn of(e: &AlertEvent) -> Option<Note> {
        let event = match e.event {
            EventType::Raised => "raised",
            EventType::Cleared => "cleared",
            EventType::Acknowledged => "acknowledged",
            EventType::Updated => return None,
        };
        let text = summary_line(e, event);
        let mut v = serde_json::to_value(e).ok()?;
        v.as_object_mut()?
            .insert("text".into(), text.clone().into());
        Some(Note {
            json: v.to_string(),
            id: e.id.clone(),
            event,
            kind: e.kind.name(),
            text,
        })
    }
}

/// "rfsentry venue: RAISED jamming.tone at 433.9404 MHz, +18.5 dB over the baseline (venue-0001)".
fn summary_line(e: &AlertEvent, event: &str) -> String {
    let mut line = format!(
        "rfsentry {}: {} {} at {:.4} MHz, {:+.1} dB over the baseline ({})",
        e.site,
        event.to_uppercase(),
        e.kind,
        e.center_hz / 1e6,
        e.excess_db,
        e.id
    );
    if let Some(a) = e.details.get("acknowledged") {
        let by = a.get("by").and_then(|v| v.as_str()).unwrap_or("?");
        let note = a.get("note").and_then(|v| v.as_str()).unwrap_or("");
        line.push_str(&format!(" by {by}"));
        if !note.is_empty() {
            line.push_str(&format!(": {note}"));
        }
    }
    line
}

/// A queue and its workers.
struct Channel {
    name: &'static str,
    queue: Option<Sender<Note>>,
    workers: Vec<JoinHandle<()>>,
}

/// The running notifiers.
pub struct Notifier {
    channels: Vec<Channel>,
    outcome: OutcomeFn,
}

impl Notifier {
    /// Start the workers of the channels `options` asks for.
    pub fn start(options: &NotifyOptions, outcome: OutcomeFn) -> Result<Notifier, ConsoleError> {
        let mut channels = Vec::new();
        if let Some(cmd) = options.exec.as_ref() {
            if cmd.trim().is_empty() {
                return Err(ConsoleError::BadExec {
                    what: "the command is empty".into(),
                });
            }
            let cmd = Arc::new(cmd.clone());
            channels.push(spawn("exec", EXEC_WORKERS, outcome.clone(), move |note| {
                run_command(&cmd, note, EXEC_TIMEOUT)
            })?);
        }
        if let Some(url) = options.webhook.as_ref() {
            let host = check_url(url)?;
            let url = Arc::new(url.clone());
            let agent = ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(10))
                .build();
            let backoff = options.webhook_backoff.unwrap_or(Duration::from_secs(1));
            channels.push(spawn(
                "webhook",
                WEBHOOK_WORKERS,
                outcome.clone(),
                move |note| post(&agent, &url, &host, note, backoff),
            )?);
        }
        Ok(Notifier { channels, outcome })
    }

    /// Whether any channel is configured.
    pub fn is_empty(&self) -> bool {
        self.channels.is_empty()
    }

    /// Queue `e`'s notification on every channel; never waits.
    pub fn send(&self, e: &AlertEvent) {
        let Some(note) = Note::of(e) else { return };
        for c in &self.channels {
            let Some(q) = c.queue.as_ref() else { continue };
            if let Err(TrySendError::Full(_)) = q.try_send(note.clone()) {
                tracing::warn!(
                    "{} notification for {} {} dropped: {QUEUE} are already waiting",
                    c.name,
                    note.event,
                    note.id
                );
                (self.outcome)(c.name, "dropped");
            }
        }
    }

    /// Let queued notifications go out for at most `wait`, then return (a
    /// worker still busy is left behind; it ends with the process).
    pub fn finish(mut self, wait: Duration) {
        let deadline = Instant::now() + wait;
        for c in &mut self.channels {
            c.queue = None;
        }
        for c in &mut self.channels {
            for w in std::mem::take(&mut c.workers) {
                while !w.is_finished() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
                if w.is_finished() {
                    let _ = w.join();
                } else {
                    tracing::warn!("{} notifications still in progress at exit", c.name);
                }
            }
        }
    }
}

fn spawn(
    name: &'static str,
    workers: usize,
    outcome: OutcomeFn,
    work: impl Fn(&Note) -> Result<(), String> + Send + Sync + 'static,
) -> Result<Channel, ConsoleError> {
    let (tx, rx): (Sender<Note>, Receiver<Note>) = bounded(QUEUE);
    let work = Arc::new(work);
    let mut handles = Vec::new();
    for i in 0..workers {
        let (rx, work, outcome) = (rx.clone(), work.clone(), outcome.clone());
        let h = std::thread::Builder::new()
            .name(format!("rfsentry-notify-{name}-{i}"))
            .spawn(move || {
                for note in rx {
                    match work(&note) {
                        Ok(()) => outcome(name, "sent"),
                        Err(why) => {
                            tracing::warn!(
                                "{name} notification for {} {}: {why}",
                                note.event,
                                note.id
                            );
                            eprintln!(
                                "rfsentry: {name} notification for {} {} failed: {why}",
                                note.event, note.id
                            );
                            outcome(name, "failed");
                        }
                    }
                }
            })
            .map_err(|source| ConsoleError::Start {
                what: "notification workers",
                source,
            })?;
        handles.push(h);
    }
    Ok(Channel {
        name,
        queue: Some(tx),
        workers: handles,
    })
}

/// Run `sh -c cmd` with the note on stdin; an error says how it ended.
fn run_command(cmd: &str, note: &Note, timeout: Duration) -> Result<(), String> {
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .env("RFSENTRY_ID", &note.id)
        .env("RFSENTRY_EVENT", note.event)
        .env("RFSENTRY_KIND", note.kind)
        .env("RFSENTRY_TEXT", &note.text)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run /bin/sh: {e}"))?;
    // A command that does not read its input must not hold us up: write
    // from a helper thread; a closed pipe is the command's business.
    let mut stdin = child.stdin.take();
    let payload = format!("{}\n", note.json);
    let writer = std::thread::spawn(move || {
        if let Some(s) = stdin.as_mut() {
            let _ = s.write_all(payload.as_bytes());
        }
    });
    let mut stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(s) = stderr.as_mut() {
            let _ = s.take(4096).read_to_string(&mut text);
        }
        text
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "still running after {} s; killed",
                    timeout.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("cannot wait for the command: {e}")),
        }
    };
    let _ = writer.join();
    let said = reader.join().unwrap_or_default();
    match status.success() {
        true => Ok(()),
        false => Err(format!(
            "the command exited with {status}{}",
            match said.lines().next() {
                Some(l) => format!(": {l}"),
                None => String::new(),
            }
        )),
    }
}

/// Check a webhook URL; returns its host (what messages may show of it).
fn check_url(url: &str) -> Result<String, ConsoleError> {
    let bad = |what: &str| ConsoleError::BadWebhook {
        url: redact(url),
        what: what.into(),
    };
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| bad("expected an http:// or https:// URL"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty()
        || host.contains('@')
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad(
            "expected http(s)://HOST[:PORT]/PATH, with no credentials or spaces",
        ));
    }
    Ok(host.to_string())
}

/// A URL as it may appear in a message: scheme and host only.
fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => format!(
            "{scheme}://{}/…",
            rest.split(['/', '?', '#']).next().unwrap_or("")
        ),
        None => "(not a URL)".into(),
    }
}

/// POST the note, retrying on network errors and 5xx/408/429.
fn post(
    agent: &ureq::Agent,
    url: &str,
    host: &str,
    note: &Note,
    backoff: Duration,
) -> Result<(), String> {
    let mut wait = backoff;
    let mut last = String::new();
    for attempt in 1..=WEBHOOK_ATTEMPTS {
        match agent
            .post(url)
            .set("Content-Type", "application/json")
            .set(
                "User-Agent",
                concat!("rfsentry/", env!("CARGO_PKG_VERSION")),
            )
            .send_string(&note.json)
        {
            Ok(_) => return Ok(()),
            Err(ureq::Error::Status(code, _)) if code < 500 && code != 408 && code != 429 => {
                return Err(format!("{host} answered {code}; not retried"));
            }
            Err(ureq::Error::Status(code, _)) => last = format!("{host} answered {code}"),
            Err(ureq::Error::Transport(t)) => {
                last = format!("{host}: {}", t.kind());
            }
        }
        if attempt < WEBHOOK_ATTEMPTS {
            std::thread::sleep(wait);
            wait *= 2;
        }
    }
    Err(format!("{last} ({WEBHOOK_ATTEMPTS} attempts)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn event(kind: EventType) -> AlertEvent {
        let mut v = serde_json::json!({
            "id": "s-0001", "event": "raised", "kind": "jamming.tone", "site": "s", "recording": "r",
            "start": "2024-05-01T12:00:00Z", "end": "2024-05-01T12:00:01Z",
            "start_sample": 0, "end_sample": 25, "freq_low_hz": 1.0, "freq_high_hz": 2.0,
            "center_hz": 433.92e6, "peak_dbfs": -20.0, "excess_db": 10.0, "snr_db": 12.0,
            "confidence": 0.9, "evidence": {}
        });
        v["event"] = serde_json::to_value(kind).unwrap();
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_command_gets_the_alert_on_stdin_and_a_hanging_one_is_killed() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("got");
        let note = Note::of(&event(EventType::Raised)).unwrap();
        assert!(
            note.text.contains("RAISED jamming.tone at 433.9200 MHz"),
            "{}",
            note.text
        );
        let cmd = format!("cat > {} && echo \"$RFSENTRY_EVENT\" >> {0}", out.display());
        run_command(&cmd, &note, Duration::from_secs(10)).unwrap();
        let got = std::fs::read_to_string(&out).unwrap();
        let v: serde_json::Value = serde_json::from_str(got.lines().next().unwrap()).unwrap();
        assert_eq!(v["id"], "s-0001");
        assert_eq!(got.lines().nth(1), Some("raised"));
        let e = run_command("echo oops >&2; exit 3", &note, Duration::from_secs(10)).unwrap_err();
        assert!(e.contains("exit status: 3") && e.contains("oops"), "{e}");
        let e = run_command("sleep 30", &note, Duration::from_millis(200)).unwrap_err();
        assert!(e.contains("killed"), "{e}");
        assert!(Note::of(&event(EventType::Updated)).is_none());
    }

    #[test]
    fn a_full_queue_drops_instead_of_waiting() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let outcome: OutcomeFn = Arc::new(move |c, o| s.lock().unwrap().push((c, o)));
        let n = Notifier::start(
            &NotifyOptions {
                exec: Some("sleep 2".into()),
                ..Default::default()
            },
            outcome,
        )
        .unwrap();
        for _ in 0..(QUEUE + EXEC_WORKERS + 5) {
            n.send(&event(EventType::Raised));
        }
        assert!(seen.lock().unwrap().iter().any(|&(_, o)| o == "dropped"));
        n.finish(Duration::from_millis(10));
    }

    #[test]
    fn webhook_urls_are_checked_and_never_shown_whole() {
        assert_eq!(
            check_url("https://hooks.example/T0/B0/secret").unwrap(),
            "hooks.example"
        );
        let e = check_url("ftp://x/secret").unwrap_err().to_string();
        assert!(!e.contains("secret"), "{e}");
        assert!(check_url("http://user:pw@host/").is_err());
        assert!(check_url("http:///path").is_err());
    }
}
