//! rfsentry's operator console: what `rfsentry monitor` shows a person while
//! it watches a site.
//!
//! - [`server`]: with `--listen ADDR`, a web page (live waterfall and
//!   spectrum against the baseline, the live alert list with evidence and
//!   acknowledgements, sensor health), a JSON API, an event stream (SSE),
//!   `/metrics` for Prometheus and the evidence files — on a thread of its
//!   own (axum on a one-thread tokio runtime);
//! - [`notify`]: `--notify-exec` and `--notify-webhook`;
//! - [`terminal`]: the terminal screen.
//!
//! All of it is fed by the core's watch tap ([`mod@rfsentry_core::watch::tap`])
//! through one [`hub`] thread: the monitoring threads hand over and never
//! wait for the console. Acknowledgements go back through the tap to the
//! sink, which writes them to the alert log like every other event.

pub mod access;
pub mod error;
pub mod evidence;
pub mod hub;
pub mod metrics;
pub mod notify;
pub mod run;
pub mod server;
pub mod state;
pub mod terminal;

pub use error::ConsoleError;
pub use notify::NotifyOptions;
pub use state::RunInfo;
pub use terminal::TerminalOptions;

use access::Access;
use crossbeam_channel::Sender;
use evidence::DiskUse;
use metrics::Metrics;
use notify::Notifier;
use rfsentry_core::profile::Profile;
use rfsentry_core::watch::{AckRequest, TapEnd};
use serde_json::{json, Map, Value};
use state::Board;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the operator asked for on the command line.
#[derive(Debug, Clone, Default)]
pub struct ConsoleOptions {
    /// `--listen ADDR`: serve the web console there.
    pub listen: Option<String>,
    /// `--token-file FILE`: the access token.
    pub token_file: Option<PathBuf>,
    pub notify: NotifyOptions,
    /// `--no-bell`.
    pub no_bell: bool,
    /// `--local-time`.
    pub local_time: bool,
}

/// A message of the event stream: its SSE event name and JSON data.
#[derive(Debug, Clone)]
pub struct Msg {
    pub name: &'static str,
    pub data: Arc<str>,
}

/// What the hub, the web handlers and the metrics share.
pub struct Shared {
    pub board: Mutex<Board>,
    pub metrics: Mutex<Metrics>,
    pub disk: Mutex<DiskUse>,
    /// The event stream; `None` once the console is shutting down.
    stream: Mutex<Option<tokio::sync::broadcast::Sender<Msg>>>,
    /// Acknowledgements to the sink.
    pub acks: Sender<AckRequest>,
    pub access: Option<Access>,
    /// Event-stream clients connected.
    pub clients: AtomicUsize,
    /// Tap events the hub missed (it was behind).
    pub missed: AtomicU64,
    /// `/api/baseline`.
    pub baseline: String,
    /// The latest spectrum rows (JSON), oldest first: a page opened now
    /// starts with the last [`WATERFALL_ROWS`] rows of waterfall.
    pub history: Mutex<std::collections::VecDeque<Arc<str>>>,
}

/// Spectrum rows kept for a page that opens later (30 s at 10 rows/s).
pub const WATERFALL_ROWS: usize = 300;

impl Shared {
    /// Send a message to every event-stream client (none waits).
    pub fn publish(&self, name: &'static str, data: String) {
        if let Some(tx) = self.stream.lock().expect("stream").as_ref() {
            let _ = tx.send(Msg {
                name,
                data: data.into(),
            });
        }
    }

    /// A receiver of the event stream, unless the console is shutting down.
    pub fn subscribe(&self) -> Option<tokio::sync::broadcast::Receiver<Msg>> {
        self.stream
            .lock()
            .expect("stream")
            .as_ref()
            .map(|tx| tx.subscribe())
    }

    /// Keep a spectrum row for later pages and send it to the clients.
    pub fn spectrum(&self, row_json: String) {
        let row: Arc<str> = row_json.into();
        {
            let mut h = self.history.lock().expect("history");
            if h.len() == WATERFALL_ROWS {
                h.pop_front();
            }
            h.push_back(row.clone());
        }
        if let Some(tx) = self.stream.lock().expect("stream").as_ref() {
            let _ = tx.send(Msg {
                name: "spectrum",
                data: row,
            });
        }
    }

    /// `/api/waterfall`: the rows kept, oldest first, as a JSON array.
    pub fn waterfall_json(&self) -> String {
        let h = self.history.lock().expect("history");
        let mut s = String::with_capacity(2 + h.iter().map(|r| r.len() + 1).sum::<usize>());
        s.push('[');
        for (i, r) in h.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(r);
        }
        s.push(']');
        s
    }

    /// `/api/status` for `board`.
    pub fn status_json(&self, board: &Board) -> Value {
        let disk = self.disk.lock().expect("disk").get();
        let mut extra = Map::new();
        extra.insert(
            "clients".into(),
            json!(self.clients.load(Ordering::Relaxed)),
        );
        extra.insert(
            "events_missed".into(),
            json!(self.missed.load(Ordering::Relaxed)),
        );
        board.status_json(disk, extra)
    }

    /// `/metrics`.
    pub fn metrics_text(&self) -> String {
        let board = self.board.lock().expect("board");
        let disk = self.disk.lock().expect("disk").get();
        let clients = self.clients.load(Ordering::Relaxed);
        self.metrics
            .lock()
            .expect("metrics")
            .render(&board, disk, clients)
    }
}

/// The running console: hub, notifiers, web server.
pub struct Console {
    shared: Arc<Shared>,
    hub: Option<JoinHandle<Notifier>>,
    server: Option<server::Server>,
}

impl Console {
    /// Start the console for a run: bind `--listen` (checking who may use
    /// it), start the notifiers, the hub and the web server. `tap` is the
    /// consumer end of the tap given to the watch run. Errors come before
    /// monitoring starts.
    pub fn start(
        options: &ConsoleOptions,
        info: RunInfo,
        profile: &Profile,
        tap: TapEnd,
    ) -> Result<Console, ConsoleError> {
        let listener = match options.listen.as_deref() {
            Some(addr) => {
                let parsed = access::parse_listen(addr)?;
                let access = Access::decide(
                    parsed,
                    options.token_file.as_deref(),
                    &info.out_dir.join(".console-token"),
                )?;
                let l =
                    std::net::TcpListener::bind(parsed).map_err(|source| ConsoleError::Bind {
                        addr: addr.to_string(),
                        source,
                    })?;
                Some((l, access))
            }
            None => None,
        };
        let (stream, _) = tokio::sync::broadcast::channel(server::STREAM_BACKLOG);
        let shared = Arc::new(Shared {
            disk: Mutex::new(DiskUse::new(&info.out_dir)),
            board: Mutex::new(Board::new(info)),
            metrics: Mutex::new(Metrics::new()),
            stream: Mutex::new(Some(stream)),
            acks: tap.acks.clone(),
            access: listener.as_ref().map(|(_, a)| a.clone()),
            clients: AtomicUsize::new(0),
            missed: AtomicU64::new(0),
            baseline: run::baseline_json(profile).to_string(),
            history: Mutex::new(std::collections::VecDeque::with_capacity(WATERFALL_ROWS)),
        });
        let s = shared.clone();
        let outcome: notify::OutcomeFn = Arc::new(move |channel, outcome| {
            s.metrics
                .lock()
                .expect("metrics")
                .notification(channel, outcome)
        });
        let notifier = Notifier::start(&options.notify, outcome)?;
        let server = match listener {
            Some((l, _)) => Some(server::Server::start(l, shared.clone())?),
            None => None,
        };
        let terminal =
            terminal::Terminal::new(TerminalOptions::detect(options.no_bell, options.local_time));
        let s = shared.clone();
        let hub = std::thread::Builder::new()
            .name("rfsentry-console".into())
            .spawn(move || {
                hub::run(tap, s, terminal, &notifier);
                notifier
            })
            .map_err(|source| ConsoleError::Start {
                what: "hub thread",
                source,
            })?;
        Ok(Console {
            shared,
            hub: Some(hub),
            server,
        })
    }

    /// Where the web console listens.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.server.as_ref().map(|s| s.addr)
    }

    /// Whether the web console is serving.
    pub fn serving(&self) -> bool {
        self.server.is_some()
    }

    /// After the watch run has ended (its tap closed): let the hub show the
    /// last events and give notifications up to `notify_wait` to go out. The
    /// web console goes on serving (the page says monitoring has ended)
    /// until [`Console::stop`].
    pub fn end_of_run(&mut self, notify_wait: Duration) {
        if let Some(hub) = self.hub.take() {
            if let Ok(notifier) = hub.join() {
                notifier.finish(notify_wait);
            }
        }
    }

    /// Close the event streams and stop the server (after [`Console::end_of_run`]).
    pub fn stop(mut self) {
        self.end_of_run(Duration::ZERO);
        self.shared.stream.lock().expect("stream").take();
        if let Some(server) = self.server.take() {
            server.stop();
        }
    }
}
