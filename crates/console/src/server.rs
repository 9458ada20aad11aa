//! The web console's HTTP side (axum on a one-thread tokio runtime of its
//! own): the page, the JSON API, the event stream, `/metrics` and the
//! evidence files, behind the access rules of [`crate::access`].
//!
//! | route | what |
//! |---|---|
//! | `GET /` | the console page (self-contained: no CDN, works offline) |
//! | `GET /api/status` | the sensor and its health |
//! | `GET /api/alerts`, `GET /api/alerts/{id}` | every alert of the run with its latest state |
//! | `POST /api/alerts/{id}/ack` | acknowledge: `{"by": "…", "note": "…"}`; needs the token |
//! | `GET /api/baseline` | the profile's floor and p99, emitters, protected bands |
//! | `GET /api/waterfall` | the last spectrum rows (30 s), for a page that opens now |
//! | `GET /api/events` | Server-Sent Events: `alert`, `status`, `spectrum` (`?spectrum=0` leaves rows out) |
//! | `GET /metrics` | Prometheus (OpenMetrics text) |
//! | `GET /evidence/{path}` | `spectrograms/…`, `iq/…` and overview pictures of the output directory |
//!
//! Slow clients never slow anything but themselves: the stream is a
//! broadcast with a backlog of [`STREAM_BACKLOG`] messages, and a client that
//! falls that far behind is disconnected (its browser reconnects and
//! re-reads the state); at most [`MAX_CLIENTS`] streams at once.

use crate::access::{is_loopback_host, Access, COOKIE};
use crate::error::ConsoleError;
use crate::{evidence, metrics, Shared};
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use rfsentry_core::alert::ack::Acknowledgement;
use rfsentry_core::watch::{AckReply, AckRequest};
use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Event-stream messages a client may fall behind by before it is dropped.
pub const STREAM_BACKLOG: usize = 256;
/// Event-stream clients at once.
pub const MAX_CLIENTS: usize = 16;
/// The largest request body (an acknowledgement), bytes.
pub const MAX_BODY: usize = 16 * 1024;
/// How long an acknowledgement may wait for the sink to write it.
const ACK_WAIT: Duration = Duration::from_secs(10);
/// How long an acknowledgement's answer waits for the board to show it.
const ACK_SHOWN_WAIT: Duration = Duration::from_secs(2);

const PAGE: &str = include_str!("page.html");

/// The server thread.
pub struct Server {
    pub addr: SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    thread: JoinHandle<()>,
}

impl Server {
    /// Serve on `listener` (already bound) from a thread of its own.
    pub fn start(
        listener: std::net::TcpListener,
        shared: Arc<Shared>,
    ) -> Result<Server, ConsoleError> {
        let start_err = |source| ConsoleError::Start {
            what: "web server",
            source,
        };
        listener.set_nonblocking(true).map_err(start_err)?;
        let addr = listener.local_addr().map_err(start_err)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(start_err)?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let app = router(shared);
        let thread = std::thread::Builder::new()
            .name("rfsentry-web".into())
            .spawn(move || {
                rt.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            tracing::error!("the console cannot listen: {e}");
                            return;
                        }
                    };
                    let (mut a, mut b) = (stopped.clone(), stopped);
                    let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                        let _ = a.wait_for(|s| *s).await;
                    });
                    let serve = std::future::IntoFuture::into_future(serve);
                    // Connections still open a moment after the stop are cut.
                    let deadline = async move {
                        let _ = b.wait_for(|s| *s).await;
                        tokio::time::sleep(Duration::from_secs(2)).await;
                    };
                    let _ = futures_util::future::select(Box::pin(serve), Box::pin(deadline)).await;
                });
            })
            .map_err(start_err)?;
        Ok(Server { addr, stop, thread })
    }

    /// Stop serving and wait for the thread.
    pub fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.thread.join();
    }
}

/// Every route, behind the access rules.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/api/status", get(status))
        .route("/api/alerts", get(alerts))
        .route("/api/alerts/{id}", get(alert))
        .route("/api/alerts/{id}/ack", post(ack))
        .route("/api/baseline", get(baseline))
        .route("/api/waterfall", get(waterfall))
        .route("/api/events", get(events))
        .route("/metrics", get(metrics_text))
        .route("/evidence/{*path}", get(evidence_file))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such page") })
        .layer(middleware::from_fn_with_state(shared.clone(), guard))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(shared)
}

/// A JSON error answer.
fn error(code: StatusCode, message: &str) -> Response {
    let mut r = (code, axum::Json(json!({ "error": message }))).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn json_response(value: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        value,
    )
        .into_response()
}

/// The access rules, on every request; security headers on every answer.
async fn guard(State(s): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let Some(access) = s.access.as_ref() else {
        return error(StatusCode::FORBIDDEN, "the console is not serving");
    };
    if access.loopback_only {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok());
        if !host.is_some_and(is_loopback_host) {
            return error(
                StatusCode::FORBIDDEN,
                "this console listens on loopback and answers to 127.0.0.1, [::1] or localhost only",
            );
        }
    }
    if access.everything {
        if let Some(token) = login_token(&req) {
            let snapshot = req
                .uri()
                .query()
                .is_some_and(|q| q.split('&').any(|kv| kv == "snapshot=1"));
            return login(access, token, snapshot);
        }
        if !carries_token(access, req.headers()) {
            let message = match req.uri().path() {
                "/" => "this console needs its access token: open /?token=TOKEN once (the token is in the --token-file), or send Authorization: Bearer TOKEN",
                _ => "missing or wrong access token (Authorization: Bearer TOKEN, or open /?token=TOKEN once)",
            };
            return error(StatusCode::UNAUTHORIZED, message);
        }
    }
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; media-src 'self' data:; form-action 'none'; frame-ancestors 'none'",
        ),
    );
    r
}

fn carries_token(access: &Access, headers: &HeaderMap) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    Access::carried(text(header::AUTHORIZATION), text(header::COOKIE))
        .is_some_and(|t| access.is_token(t))
}

/// `GET /?token=…`: the token a browser logs in with.
fn login_token(req: &Request) -> Option<String> {
    if req.method() != Method::GET || req.uri().path() != "/" {
        return None;
    }
    req.uri()
        .query()?
        .split('&')
        .find_map(|kv| kv.strip_prefix("token="))
        .map(percent_decode)
}

/// Set the cookie and send the browser to `/` (so the token leaves the
/// address bar), keeping `snapshot=1` if asked.
fn login(access: &Access, token: String, snapshot: bool) -> Response {
    if !access.is_token(&token) {
        return error(StatusCode::UNAUTHORIZED, "wrong access token");
    }
    let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(
            header::LOCATION,
            if snapshot { "/?snapshot=1" } else { "/" },
        )
        .header(header::SET_COOKIE, cookie)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::empty())
        .expect("a valid response")
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        PAGE,
    )
        .into_response()
}

async fn status(State(s): State<Arc<Shared>>) -> Response {
    let board = s.board.lock().expect("board");
    json_response(s.status_json(&board).to_string())
}

async fn alerts(State(s): State<Arc<Shared>>) -> Response {
    json_response(s.board.lock().expect("board").alerts_json().to_string())
}

async fn alert(State(s): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let board = s.board.lock().expect("board");
    match board.alert(&id) {
        Some(a) => json_response(a.to_json(&board.info).to_string()),
        None => error(StatusCode::NOT_FOUND, "no alert of this run has that id"),
    }
}

async fn baseline(State(s): State<Arc<Shared>>) -> Response {
    json_response(s.baseline.clone())
}

async fn waterfall(State(s): State<Arc<Shared>>) -> Response {
    json_response(s.waterfall_json())
}

async fn metrics_text(State(s): State<Arc<Shared>>) -> Response {
    (
        [(header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
        s.metrics_text(),
    )
        .into_response()
}

/// The body of an acknowledgement.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AckBody {
    by: String,
    #[serde(default)]
    note: String,
}

async fn ack(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let access = s.access.as_ref().expect("guarded");
    if !carries_token(access, &headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "acknowledging needs the access token (Authorization: Bearer TOKEN)",
        );
    }
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            t.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
        });
    if !json_type {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected Content-Type: application/json and a body {\"by\": \"who\", \"note\": \"what\"}",
        );
    }
    let parsed: AckBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("expected {{\"by\": \"who\", \"note\": \"what\"}} as JSON: {e}"),
            )
        }
    };
    let ack = match Acknowledgement::new(&parsed.by, &parsed.note, chrono::Utc::now()) {
        Ok(a) => a,
        Err(e) => return error(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    if s.board.lock().expect("board").alert(&id).is_none() {
        return error(StatusCode::NOT_FOUND, "no alert of this run has that id");
    }
    let (reply, answer) = crossbeam_channel::bounded(1);
    if s.acks.try_send(AckRequest { id, ack, reply }).is_err() {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "monitoring has ended or is busy: the acknowledgement was not recorded",
        );
    }
    let answer = tokio::task::spawn_blocking(move || answer.recv_timeout(ACK_WAIT).ok())
        .await
        .ok()
        .flatten();
    if let Some(AckReply::Written(e) | AckReply::Held(e)) = &answer {
        // Read your writes: the event reaches the board through the tap
        // (sent before this reply); answer once the board shows it, so a
        // request after this answer sees the acknowledgement.
        let at = e.details["acknowledged"]["at"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let (shared, id) = (s.clone(), e.id.clone());
        let _ = tokio::task::spawn_blocking(move || {
            let deadline = std::time::Instant::now() + ACK_SHOWN_WAIT;
            while std::time::Instant::now() < deadline {
                let board = shared.board.lock().expect("board");
                if board
                    .alert(&id)
                    .is_some_and(|a| a.acks.iter().any(|k| k.at == at))
                {
                    return;
                }
                drop(board);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
        .await;
    }
    let body = |e| json!({ "acknowledged": e }).to_string();
    match answer {
        Some(AckReply::Written(e)) => (StatusCode::CREATED, json_response(body(e))).into_response(),
        Some(AckReply::Held(e)) => (StatusCode::ACCEPTED, json_response(body(e))).into_response(),
        Some(AckReply::UnknownAlert) => error(StatusCode::NOT_FOUND, "no alert of this run has that id"),
        Some(AckReply::NoLog) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "this run has no alert log (it could not be opened): the acknowledgement cannot be recorded",
        ),
        None => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "monitoring ended before the acknowledgement could be written: it was not recorded",
        ),
    }
}

#[derive(Debug, Deserialize)]
struct EventsQuery {
    spectrum: Option<u8>,
}

/// Decrements the client count when a stream ends.
struct ClientSlot(Arc<Shared>);

impl Drop for ClientSlot {
    fn drop(&mut self) {
        self.0.clients.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn events(State(s): State<Arc<Shared>>, Query(q): Query<EventsQuery>) -> Response {
    if s.clients.fetch_add(1, Ordering::Relaxed) >= MAX_CLIENTS {
        s.clients.fetch_sub(1, Ordering::Relaxed);
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many event-stream clients",
        );
    }
    let slot = ClientSlot(s.clone());
    let Some(rx) = s.subscribe() else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "monitoring has ended");
    };
    let spectrum = q.spectrum != Some(0);
    let stream = futures_util::stream::unfold((rx, slot), move |(mut rx, slot)| async move {
        use tokio::sync::broadcast::error::RecvError;
        loop {
            match rx.recv().await {
                Ok(m) if m.name == "spectrum" && !spectrum => continue,
                Ok(m) => {
                    let event = Event::default().event(m.name).data(&*m.data);
                    return Some((Ok::<_, std::convert::Infallible>(event), (rx, slot)));
                }
                // Too slow: dropped (the browser reconnects and re-reads the state).
                Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(10)))
        .into_response()
}

async fn evidence_file(State(s): State<Arc<Shared>>, Path(rel): Path<String>) -> Response {
    let out = s.board.lock().expect("board").info.out_dir.clone();
    let Some(path) = evidence::resolve(&out, &rel) else {
        return error(
            StatusCode::NOT_FOUND,
            "no such evidence file (only spectrograms/, iq/ and overview pictures of this run's output directory are served)",
        );
    };
    let file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(_) => return error(StatusCode::NOT_FOUND, "no such evidence file"),
    };
    let len = file.metadata().await.map(|m| m.len()).unwrap_or(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut r = Response::builder()
        .header(header::CONTENT_TYPE, evidence::content_type(&path))
        .header(header::CONTENT_LENGTH, len);
    if !name.ends_with(".png") {
        let safe: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
            .collect();
        r = r.header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{safe}\""),
        );
    }
    r.body(Body::from_stream(tokio_util::io::ReaderStream::new(file)))
        .unwrap_or_else(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "cannot send the file"))
}
