//! `rfsentry hub`: the command centre. It subscribes to every sensor through
//! the broker ([`ingest`]), stores sensors, statuses and alert events exactly
//! once in SQLite ([`store`]), serves a web page and a JSON API ([`web`]),
//! and exports alerts for the incident report ([`export`]).

pub mod export;
pub mod ingest;
pub mod store;
pub mod web;

use crate::access::AccessRule;
use crate::broker::BrokerSettings;
use crate::error::{FleetError, Result};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What `rfsentry hub` runs with.
#[derive(Debug, Clone)]
pub struct HubConfig {
    pub broker: BrokerSettings,
    pub db: PathBuf,
    pub listen: SocketAddr,
    pub token: Option<String>,
    /// The hub's MQTT client id: its persistent session at the broker.
    pub client_id: String,
    /// The per-site message limit.
    pub flood: ingest::FloodLimit,
}

/// Run the hub until `stop` is set.
pub fn run(config: HubConfig, stop: Arc<AtomicBool>) -> Result<()> {
    let access = AccessRule::for_listen(config.listen, config.token.clone())?;
    // Create or check the database before anything connects.
    drop(store::Store::open(&config.db)?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("rfsentry-hub")
        .enable_all()
        .build()
        .map_err(|source| FleetError::Start {
            what: "the hub's runtime",
            source,
        })?;
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(config.listen))
        .map_err(|e| FleetError::Listen {
            addr: config.listen.to_string(),
            source: e,
        })?;
    let addr = listener.local_addr().unwrap_or(config.listen);
    let stats = Arc::new(Mutex::new(ingest::Stats::default()));
    let store_thread = ingest::start(
        rt.handle(),
        &config.broker,
        &config.client_id,
        config.db.clone(),
        stats.clone(),
        config.flood,
        stop.clone(),
    )?;
    eprintln!(
        "hub: broker {} as {}; database {}; web page on http://{addr}/{}",
        config.broker.url,
        config.client_id,
        config.db.display(),
        if access.has_token() {
            " (access token required)"
        } else {
            ""
        }
    );
    let state = web::WebState::new(config.db.clone(), stats, access);
    let app = web::router(state);
    let s = stop.clone();
    let served = rt.block_on(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                while !s.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
            .await
    });
    stop.store(true, Ordering::SeqCst);
    let _ = store_thread.join();
    rt.shutdown_timeout(Duration::from_secs(2));
    served.map_err(|e| FleetError::Listen {
        addr: addr.to_string(),
        source: e,
    })
}
