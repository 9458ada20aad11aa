//! How to reach the broker: the `mqtt://HOST:PORT` / `mqtts://HOST:PORT`
//! address, the TLS trust (a CA file, optionally a client certificate and
//! key) and the user name and password read from a file, turned into the MQTT
//! client's options. TLS is rustls on the `ring` provider.

use crate::error::{FleetError, Result};
use rumqttc::{MqttOptions, TlsConfiguration, Transport};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A broker address as typed: `mqtt://host:port` or `mqtts://host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    pub tls: bool,
    pub host: String,
    pub port: u16,
}

impl BrokerUrl {
    /// Parse `mqtt://HOST[:PORT]` (default port 1883) or `mqtts://HOST[:PORT]`
    /// (8883); an IPv6 host is written in brackets.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |why: &str| {
            FleetError::setting(
                "broker address",
                Some(format!("{text:?}")),
                format!("{why}; expected mqtt://HOST:PORT or mqtts://HOST:PORT"),
            )
        };
        let (tls, rest) = if let Some(r) = text.strip_prefix("mqtt://") {
            (false, r)
        } else if let Some(r) = text.strip_prefix("mqtts://") {
            (true, r)
        } else {
            return Err(bad("unknown scheme"));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') || rest.contains('@') {
            return Err(bad(
                "a path or user name has no place here (credentials come from --mqtt-credentials)",
            ));
        }
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(|| bad("unclosed ["))?;
            (h, after.strip_prefix(':'))
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port {
            None => {
                if tls {
                    8883
                } else {
                    1883
                }
            }
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&p| p > 0)
                .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?,
        };
        Ok(BrokerUrl {
            tls,
            host: host.to_string(),
            port,
        })
    }
}

impl std::fmt::Display for BrokerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// A user name and password for the broker.
#[derive(Clone)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Credentials {{ user: {:?}, password: <hidden> }}",
            self.user
        )
    }
}

impl Credentials {
    /// Read `USER:PASSWORD` from the first line of `path` (the password may
    /// contain `:`). A file others can read is accepted with a warning.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| FleetError::io(path, e))?;
        #[cfg(unix)]
        if let Ok(meta) = std::fs::metadata(path) {
            use std::os::unix::fs::PermissionsExt;
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    "{}: the broker password file can be read by other users (chmod 600 it)",
                    path.display()
                );
            }
        }
        let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
        let (user, password) = line.split_once(':').ok_or_else(|| {
            FleetError::format(path, "expected one line USER:PASSWORD (no `:` found)")
        })?;
        if user.is_empty() {
            return Err(FleetError::format(
                path,
                "the user name before `:` is empty",
            ));
        }
        Ok(Credentials {
            user: user.to_string(),
            password: password.to_string(),
        })
    }
}

/// Everything needed to connect to the broker.
#[derive(Debug, Clone)]
pub struct BrokerSettings {
    pub url: BrokerUrl,
    /// PEM file of the CA that signed the broker's certificate (`mqtts://`).
    pub ca: Option<PathBuf>,
    /// PEM client certificate chain and key, when the broker asks for one.
    pub client_cert: Option<(PathBuf, PathBuf)>,
    pub credentials: Option<Credentials>,
}

impl BrokerSettings {
    /// Check the combination (TLS files only with `mqtts://`, a CA for it)
    /// and read the credentials file.
    pub fn new(
        url: &str,
        ca: Option<PathBuf>,
        cert: Option<PathBuf>,
        key: Option<PathBuf>,
        credentials: Option<&Path>,
    ) -> Result<Self> {
        let url = BrokerUrl::parse(url)?;
        if !url.tls && (ca.is_some() || cert.is_some() || key.is_some()) {
            return Err(FleetError::setting(
                "--mqtt-ca/--mqtt-cert/--mqtt-key",
                None,
                format!(
                    "these are for TLS: write the broker as mqtts://{}:{}",
                    url.host, url.port
                ),
            ));
        }
        if url.tls && ca.is_none() {
            return Err(FleetError::Missing {
                by: url.to_string(),
                what: "--mqtt-ca FILE: the PEM certificate of the CA that signed the broker's certificate".into(),
            });
        }
        let client_cert = match (cert, key) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => {
                return Err(FleetError::Missing {
                    by: "a client certificate".into(),
                    what: "both --mqtt-cert FILE and --mqtt-key FILE".into(),
                })
            }
        };
        let credentials = credentials.map(Credentials::load).transpose()?;
        let settings = BrokerSettings {
            url,
            ca,
            client_cert,
            credentials,
        };
        // Read the TLS files now, so a wrong path is an error at start-up,
        // not a reconnect loop.
        settings.transport()?;
        Ok(settings)
    }

    /// The client options for `client_id`, with `keep_alive`.
    pub fn options(&self, client_id: &str, keep_alive: Duration) -> Result<MqttOptions> {
        let mut o = MqttOptions::new(client_id, self.url.host.clone(), self.url.port);
        o.set_keep_alive(keep_alive);
        o.set_transport(self.transport()?);
        if let Some(c) = &self.credentials {
            o.set_credentials(c.user.clone(), c.password.clone());
        }
        Ok(o)
    }

    fn transport(&self) -> Result<Transport> {
        if !self.url.tls {
            return Ok(Transport::Tcp);
        }
        let ca_path = self.ca.as_deref().expect("checked in new");
        let mut roots = rustls::RootCertStore::empty();
        for cert in read_certs(ca_path)? {
            roots.add(cert).map_err(|e| {
                FleetError::format(ca_path, format!("not a usable CA certificate: {e}"))
            })?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| FleetError::Tls {
                context: "TLS".into(),
                message: e.to_string(),
            })?
            .with_root_certificates(roots);
        let config = match &self.client_cert {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => {
                let chain = read_certs(cert)?;
                let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                    FleetError::format(key, format!("expected a PEM private key: {e}"))
                })?;
                builder
                    .with_client_auth_cert(chain, key_der)
                    .map_err(|e| FleetError::Tls {
                        context: format!("{} / {}", cert.display(), key.display()),
                        message: format!("cannot use this client certificate and key: {e}"),
                    })?
            }
        };
        Ok(Transport::Tls(TlsConfiguration::Rustls(Arc::new(config))))
    }
}

/// Every certificate in a PEM file (at least one).
fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| FleetError::format(path, format!("expected PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(FleetError::format(
            path,
            "no PEM certificate (-----BEGIN CERTIFICATE-----) in it",
        ));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_with_default_ports_and_bracketed_ipv6() {
        let u = BrokerUrl::parse("mqtt://127.0.0.1:1999").unwrap();
        assert_eq!((u.tls, u.host.as_str(), u.port), (false, "127.0.0.1", 1999));
        assert_eq!(
            BrokerUrl::parse("mqtts://broker.example").unwrap().port,
            8883
        );
        assert_eq!(BrokerUrl::parse("mqtt://h/").unwrap().port, 1883);
        let v6 = BrokerUrl::parse("mqtt://[::1]:2000").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 2000));
        assert_eq!(v6.to_string(), "mqtt://[::1]:2000");
        for bad in [
            "http://h:1",
            "mqtt://",
            "mqtt://h:0",
            "mqtt://h:x",
            "mqtt://u@h:1",
            "mqtt://h:1/t",
        ] {
            let e = BrokerUrl::parse(bad).unwrap_err().to_string();
            assert!(e.contains("expected mqtt://HOST:PORT"), "{bad}: {e}");
        }
    }

    #[test]
    fn credentials_need_a_user_and_a_colon() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c");
        std::fs::write(&p, "venue-a:pa:ss\n").unwrap();
        let c = Credentials::load(&p).unwrap();
        assert_eq!((c.user.as_str(), c.password.as_str()), ("venue-a", "pa:ss"));
        assert!(!format!("{c:?}").contains("pa:ss"));
        std::fs::write(&p, "nocolon\n").unwrap();
        assert!(Credentials::load(&p)
            .unwrap_err()
            .to_string()
            .contains("USER:PASSWORD"));
        std::fs::write(&p, ":pw\n").unwrap();
        assert!(Credentials::load(&p)
            .unwrap_err()
            .to_string()
            .contains("empty"));
    }

    #[test]
    fn tls_needs_a_ca_and_plain_refuses_tls_files() {
        let e = BrokerSettings::new("mqtts://h:1", None, None, None, None).unwrap_err();
        assert!(e.to_string().contains("--mqtt-ca"), "{e}");
        let e =
            BrokerSettings::new("mqtt://h:1", Some("ca.pem".into()), None, None, None).unwrap_err();
        assert!(e.to_string().contains("mqtts://"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "not pem").unwrap();
        let e = BrokerSettings::new("mqtts://h:1", Some(ca), None, None, None).unwrap_err();
        assert!(e.to_string().contains("ca.pem"), "{e}");
    }
}
