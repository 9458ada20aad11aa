//! The hub's web server: the page (`page.html`, self-contained: no CDN, no
//! external file), and the JSON API the page and other tools read —
//! `/api/sensors` (every venue, online or offline), `/api/alerts` (each
//! alert's latest state, filtered by site, kind, state and time),
//! `/api/alerts/{site}/{id}` (an alert's events), its picture, and
//! `/api/stats` (what the intake counted). Every request passes the
//! [`AccessRule`].

use super::ingest::SharedStats;
use super::store::{AlertFilter, SensorRow, Store};
use crate::access::{AccessRule, Verdict};
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The page.
const PAGE: &str = include_str!("page.html");

/// What the handlers share.
pub struct WebState {
    pub db: PathBuf,
    pub stats: SharedStats,
    pub access: AccessRule,
    reader: Mutex<Option<Store>>,
}

impl WebState {
    pub fn new(db: PathBuf, stats: SharedStats, access: AccessRule) -> Arc<Self> {
        Arc::new(WebState {
            db,
            stats,
            access,
            reader: Mutex::new(None),
        })
    }

    /// Run `f` on the reading connection, off the async workers.
    async fn read<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&Store) -> crate::Result<T> + Send + 'static,
    ) -> Result<T, Response> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = me
                .reader
                .lock()
                .map_err(|_| "the reader lock is poisoned".to_string())?;
            if guard.is_none() {
                *guard = Some(Store::open(&me.db).map_err(|e| e.to_string())?);
            }
            f(guard.as_ref().expect("opened")).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r)
        .map_err(|e| {
            tracing::warn!("hub web: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, e).into_response()
        })
    }
}

/// The routes, behind the access rule.
pub fn router(state: Arc<WebState>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/api/sensors", get(sensors))
        .route("/api/alerts", get(alerts))
        .route("/api/alerts/{site}/{id}", get(alert_detail))
        .route("/api/alerts/{site}/{id}/picture.png", get(picture))
        .route("/api/heads", get(heads))
        .route("/api/stats", get(stats))
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

async fn guard(State(state): State<Arc<WebState>>, req: Request, next: Next) -> Response {
    let verdict = state.access.check(req.headers(), req.uri().query());
    match verdict {
        Verdict::Denied => {
            let msg = if state.access.has_token() {
                "an access token is needed (Authorization: Bearer TOKEN, or open /?token=TOKEN once)"
            } else {
                "this hub answers requests addressed to the loopback only"
            };
            (StatusCode::UNAUTHORIZED, msg).into_response()
        }
        Verdict::Allowed => next.run(req).await,
        Verdict::AllowedSetCookie => {
            let mut resp = next.run(req).await;
            if let Ok(v) = HeaderValue::from_str(&state.access.cookie()) {
                resp.headers_mut().insert(header::SET_COOKIE, v);
            }
            resp
        }
    }
}

async fn page() -> Response {
    let mut resp = Html(PAGE).into_response();
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src 'self'"),
    );
    resp
}

/// A sensor with its online verdict.
#[derive(Debug, Serialize)]
pub struct SensorView {
    #[serde(flatten)]
    pub row: SensorRow,
    /// A heartbeat (`online`) younger than three heartbeat intervals.
    pub online: bool,
    /// Seconds since the hub received its last status.
    pub heartbeat_age_s: Option<f64>,
}

/// Sensors with `online` judged at `now_us`.
pub fn sensor_views(rows: Vec<SensorRow>, now_us: i64) -> Vec<SensorView> {
    rows.into_iter()
        .map(|row| {
            let age = row.status_received_us.map(|t| (now_us - t) as f64 / 1e6);
            let online =
                row.state == "online" && age.is_some_and(|a| a <= 3.0 * row.heartbeat_s.max(1.0));
            SensorView {
                row,
                online,
                heartbeat_age_s: age,
            }
        })
        .collect()
}

async fn sensors(State(state): State<Arc<WebState>>) -> Response {
    match state.read(|s| s.sensors()).await {
        Ok(rows) => Json(sensor_views(rows, chrono::Utc::now().timestamp_micros())).into_response(),
        Err(r) => r,
    }
}

/// The signed lines of the sensors' chains received (`?site=`: one sensor's).
async fn heads(State(state): State<Arc<WebState>>, Query(filter): Query<AlertFilter>) -> Response {
    match state
        .read(move |s| s.chain_heads(filter.site.as_deref()))
        .await
    {
        Ok(rows) => Json(rows).into_response(),
        Err(r) => r,
    }
}

async fn alerts(State(state): State<Arc<WebState>>, Query(filter): Query<AlertFilter>) -> Response {
    match state.read(move |s| s.alerts(&filter)).await {
        Ok(rows) => Json(rows).into_response(),
        Err(r) => r,
    }
}

async fn alert_detail(
    State(state): State<Arc<WebState>>,
    UrlPath((site, id)): UrlPath<(String, String)>,
) -> Response {
    match state.read(move |s| s.alert_detail(&site, &id)).await {
        Ok(Some((alert, events))) => {
            Json(serde_json::json!({ "alert": alert, "events": events })).into_response()
        }
        Ok(None) => (StatusCode::NOT_FOUND, "no such alert").into_response(),
        Err(r) => r,
    }
}

async fn picture(
    State(state): State<Arc<WebState>>,
    UrlPath((site, id)): UrlPath<(String, String)>,
) -> Response {
    match state.read(move |s| s.picture(&site, &id)).await {
        Ok(Some(png)) => ([(header::CONTENT_TYPE, "image/png")], png).into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "no picture for this alert").into_response(),
        Err(r) => r,
    }
}

async fn stats(State(state): State<Arc<WebState>>) -> Response {
    let snapshot = state.stats.lock().map(|s| s.clone()).unwrap_or_default();
    Json(snapshot).into_response()
}
