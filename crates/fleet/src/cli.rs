//! The fleet's command-line flags, for the `rfsentry` binary to flatten into
//! `monitor` (`--publish`) and to use as `hub`: parsing here, so the binary's
//! own command modules stay a few lines.

use crate::broker::BrokerSettings;
use crate::error::{FleetError, Result};
use crate::hub::export::{self, Format};
use crate::hub::store::AlertFilter;
use crate::hub::HubConfig;
use crate::publisher::{PublishConfig, Publisher};
use clap::Args;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// Environment variable holding the hub's access token.
pub const TOKEN_ENV: &str = "RFSENTRY_HUB_TOKEN";

fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{s:?}: {e} (e.g. 5s, 500ms, 1m)"))
}

/// TLS and credentials for the broker.
#[derive(Debug, Args, Clone, Default)]
pub struct BrokerArgs {
    /// PEM certificate of the CA that signed the broker's (for mqtts://).
    #[arg(long, value_name = "FILE")]
    pub mqtt_ca: Option<PathBuf>,
    /// PEM client certificate, when the broker asks for one (with --mqtt-key).
    #[arg(long, value_name = "FILE")]
    pub mqtt_cert: Option<PathBuf>,
    /// PEM private key of --mqtt-cert.
    #[arg(long, value_name = "FILE")]
    pub mqtt_key: Option<PathBuf>,
    /// File whose first line is USER:PASSWORD for the broker.
    #[arg(long, value_name = "FILE")]
    pub mqtt_credentials: Option<PathBuf>,
}

impl BrokerArgs {
    pub fn settings(&self, url: &str) -> Result<BrokerSettings> {
        BrokerSettings::new(
            url,
            self.mqtt_ca.clone(),
            self.mqtt_cert.clone(),
            self.mqtt_key.clone(),
            self.mqtt_credentials.as_deref(),
        )
    }
}

/// `monitor --publish`: send the site's alerts to a broker.
#[derive(Debug, Args, Clone, Default)]
pub struct PublishArgs {
    /// Publish every alert event, a heartbeat and evidence to this MQTT broker
    /// (mqtt://HOST:PORT or mqtts://HOST:PORT) under rfsentry/v1/SITE/.
    #[arg(long, value_name = "URL")]
    pub publish: Option<String>,
    /// Seconds between heartbeats (with --publish).
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    pub heartbeat: Duration,
    /// At the end of a run, how long to go on delivering what the broker has
    /// not acknowledged (what is left is published by the next run).
    #[arg(long, value_parser = parse_duration, default_value = "15s")]
    pub publish_drain: Duration,
    #[command(flatten)]
    pub broker: BrokerArgs,
}

impl PublishArgs {
    /// Start the publisher when `--publish` was given. `coverage`: the
    /// frequency ranges watched, Hz.
    pub fn start(
        &self,
        site: &str,
        out_dir: &Path,
        coverage: Vec<[f64; 2]>,
    ) -> Result<Option<Publisher>> {
        let Some(url) = &self.publish else {
            let b = &self.broker;
            if b.mqtt_ca.is_some()
                || b.mqtt_cert.is_some()
                || b.mqtt_key.is_some()
                || b.mqtt_credentials.is_some()
            {
                return Err(FleetError::Missing {
                    by: "each --mqtt-* setting".into(),
                    what: "--publish URL".into(),
                });
            }
            return Ok(None);
        };
        if self.heartbeat < Duration::from_millis(100) || self.heartbeat > Duration::from_secs(3600)
        {
            return Err(FleetError::setting(
                "--heartbeat",
                Some(humantime::format_duration(self.heartbeat).to_string()),
                "expected 100ms to 1h",
            ));
        }
        let broker = self.broker.settings(url)?;
        if let Some(c) = &broker.credentials {
            if c.user != site {
                tracing::warn!(
                    "the broker user {:?} is not the site {site:?}: a broker set up as the README says lets a sensor publish only under rfsentry/v1/<its user>/, so this sensor's events would be dropped",
                    c.user
                );
            }
        }
        Publisher::start(PublishConfig {
            broker,
            site: site.to_string(),
            out_dir: out_dir.to_path_buf(),
            heartbeat: self.heartbeat,
            drain: self.publish_drain,
            coverage,
        })
        .map(Some)
    }
}

/// `rfsentry hub`: the command centre.
#[derive(Debug, Args, Clone)]
pub struct HubArgs {
    /// The MQTT broker every sensor publishes to (mqtt://HOST:PORT or mqtts://HOST:PORT).
    #[arg(long, value_name = "URL", required_unless_present = "export")]
    pub broker: Option<String>,
    /// The hub's SQLite database (created if missing).
    #[arg(long, value_name = "FILE", default_value = "hub.sqlite")]
    pub db: PathBuf,
    /// Address of the web page and JSON API. Anything but a loopback address
    /// needs an access token (--token-file or RFSENTRY_HUB_TOKEN).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8470")]
    pub listen: SocketAddr,
    /// File whose first line is the access token for the web page and API.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// MQTT client id: the broker keeps this session's subscription and queue while the hub is away.
    #[arg(long, default_value = "rfsentry-hub")]
    pub client_id: String,
    /// Messages per second one sensor may send on average; beyond its burst
    /// allowance, its messages are dropped and counted (a flooding sensor).
    #[arg(long, default_value_t = crate::hub::ingest::FLOOD_RATE)]
    pub flood_rate: f64,
    /// Messages one sensor may send in a burst before --flood-rate applies.
    #[arg(long, default_value_t = crate::hub::ingest::FLOOD_BURST)]
    pub flood_burst: f64,
    /// Instead of running: write the database's alerts (latest state each)
    /// as jsonl or csv, or the sensors' chain-of-custody heads received
    /// (heads: for rfsentry verify --heads).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub export: Option<Format>,
    /// With --export: the file to write (default: standard output).
    #[arg(long, short = 'o', value_name = "FILE", requires = "export")]
    pub output: Option<PathBuf>,
    /// With --export: only this site.
    #[arg(long, requires = "export")]
    pub site: Option<String>,
    /// With --export: only this kind (e.g. jamming.tone).
    #[arg(long, requires = "export")]
    pub kind: Option<String>,
    /// With --export: only alerts in this state (open, cleared, acknowledged).
    #[arg(long, requires = "export")]
    pub state: Option<String>,
    /// With --export: only alerts that ended at or after this RFC 3339 time.
    #[arg(long, requires = "export")]
    pub since: Option<String>,
    /// With --export: only alerts that started at or before this RFC 3339 time.
    #[arg(long, requires = "export")]
    pub until: Option<String>,
    #[command(flatten)]
    pub mqtt: BrokerArgs,
}

/// Run `rfsentry hub` (or its export) until `stop` is set.
pub fn run_hub(args: &HubArgs, stop: Arc<AtomicBool>) -> Result<()> {
    if let Some(format) = args.export {
        for (name, t) in [("--since", &args.since), ("--until", &args.until)] {
            if let Some(t) = t {
                chrono::DateTime::parse_from_rfc3339(t).map_err(|e| {
                    FleetError::setting(
                        name,
                        Some(format!("{t:?}")),
                        format!("not an RFC 3339 time ({e}); e.g. 2026-05-01T08:00:00Z"),
                    )
                })?;
            }
        }
        let filter = AlertFilter {
            site: args.site.clone(),
            kind: args.kind.clone(),
            state: args.state.clone(),
            since: args.since.clone(),
            until: args.until.clone(),
            limit: None,
        };
        let n = match &args.output {
            Some(path) => {
                let file = std::fs::File::create(path).map_err(|e| FleetError::io(path, e))?;
                let mut w = std::io::BufWriter::new(file);
                export::export(&args.db, format, &filter, &mut w, path)?
            }
            None => {
                let stdout = std::io::stdout();
                let mut w = stdout.lock();
                export::export(
                    &args.db,
                    format,
                    &filter,
                    &mut w,
                    Path::new("(standard output)"),
                )?
            }
        };
        let what = match format {
            Format::Heads => "chain head(s)",
            _ => "alert(s)",
        };
        eprintln!("hub: exported {n} {what} from {}", args.db.display());
        return Ok(());
    }
    let url = args
        .broker
        .as_deref()
        .expect("clap requires --broker without --export");
    let token = crate::access::AccessRule::token_from(args.token_file.as_deref(), TOKEN_ENV)?;
    let config = HubConfig {
        broker: args.mqtt.settings(url)?,
        db: args.db.clone(),
        listen: args.listen,
        token,
        client_id: args.client_id.clone(),
        flood: crate::hub::ingest::FloodLimit {
            rate: args.flood_rate,
            burst: args.flood_burst,
        },
    };
    if !(config.flood.rate > 0.0 && config.flood.burst >= 1.0) {
        return Err(FleetError::setting(
            "--flood-rate/--flood-burst",
            Some(format!("{}/{}", config.flood.rate, config.flood.burst)),
            "expected a rate above 0 and a burst of at least 1",
        ));
    }
    crate::hub::run(config, stop)
}
