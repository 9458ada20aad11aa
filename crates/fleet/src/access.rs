//! Who may use an rfsentry web server (the hub's; meant to be shared with
//! the sensor's console): loopback by default; any other address only with
//! an access token, which every request then carries — as
//! `Authorization: Bearer TOKEN`, the `rfsentry_token` cookie, or once as
//! `?token=TOKEN` on the page (answered with that cookie). Without a token,
//! only requests whose `Host` names the loopback are served, so a web page
//! elsewhere cannot reach the server by DNS rebinding.

use crate::error::{FleetError, Result};
use axum::http::{header, HeaderMap};
use std::net::SocketAddr;
use std::path::Path;

/// The cookie that carries the token in a browser.
pub const COOKIE: &str = "rfsentry_token";
/// Shortest token accepted.
pub const MIN_TOKEN_LEN: usize = 16;

/// The rule for one server.
#[derive(Clone)]
pub struct AccessRule {
    token: Option<String>,
}

impl std::fmt::Debug for AccessRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "AccessRule {{ token: {} }}",
            if self.token.is_some() { "set" } else { "none" }
        )
    }
}

/// What a request may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Allowed by `?token=`: answer with the cookie.
    AllowedSetCookie,
    Denied,
}

impl AccessRule {
    /// The rule for a server listening on `addr`: a non-loopback address
    /// without a token is refused.
    pub fn for_listen(addr: SocketAddr, token: Option<String>) -> Result<Self> {
        if let Some(t) = &token {
            if t.len() < MIN_TOKEN_LEN || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(FleetError::config(format!(
                    "the access token must be at least {MIN_TOKEN_LEN} characters, without spaces"
                )));
            }
        }
        if !addr.ip().is_loopback() && token.is_none() {
            return Err(FleetError::config(format!(
                "refusing to listen on {addr}, which is not a loopback address, without an access token: give --token-file FILE (or RFSENTRY_HUB_TOKEN), or listen on 127.0.0.1"
            )));
        }
        Ok(AccessRule { token })
    }

    /// The token from `file` (its first line) or else the environment variable `env`.
    pub fn token_from(file: Option<&Path>, env: &str) -> Result<Option<String>> {
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|e| FleetError::io(path, e))?;
            let t = text.lines().next().unwrap_or("").trim().to_string();
            if t.is_empty() {
                return Err(FleetError::config(format!(
                    "{}: no token in its first line",
                    path.display()
                )));
            }
            return Ok(Some(t));
        }
        Ok(std::env::var(env).ok().filter(|t| !t.is_empty()))
    }

    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Judge a request by its headers and query string.
    pub fn check(&self, headers: &HeaderMap, query: Option<&str>) -> Verdict {
        let Some(token) = &self.token else {
            return if host_is_loopback(headers) {
                Verdict::Allowed
            } else {
                Verdict::Denied
            };
        };
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if bearer.is_some_and(|b| same(b, token)) {
            return Verdict::Allowed;
        }
        let cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().strip_prefix(COOKIE)?.strip_prefix('='))
            .any(|c| same(c, token));
        if cookie {
            return Verdict::Allowed;
        }
        let in_query = query
            .into_iter()
            .flat_map(|q| q.split('&'))
            .filter_map(|kv| kv.strip_prefix("token="))
            .any(|t| same(t, token));
        if in_query {
            Verdict::AllowedSetCookie
        } else {
            Verdict::Denied
        }
    }

    /// The `Set-Cookie` value for [`Verdict::AllowedSetCookie`].
    pub fn cookie(&self) -> String {
        format!(
            "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
            self.token.as_deref().unwrap_or("")
        )
    }
}

/// The request's `Host` names the loopback (`localhost`, `127.x`, `[::1]`).
fn host_is_loopback(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Compare without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn a_public_address_needs_a_token() {
        let any: SocketAddr = "0.0.0.0:8470".parse().unwrap();
        let e = AccessRule::for_listen(any, None).unwrap_err().to_string();
        assert!(
            e.contains("not a loopback") && e.contains("--token-file"),
            "{e}"
        );
        assert!(AccessRule::for_listen(any, Some("short".into())).is_err());
        assert!(AccessRule::for_listen(any, Some("0123456789abcdef".into())).is_ok());
        assert!(AccessRule::for_listen("127.0.0.1:1".parse().unwrap(), None).is_ok());
    }

    #[test]
    fn without_a_token_only_loopback_hosts_are_served() {
        let r = AccessRule::for_listen("127.0.0.1:1".parse().unwrap(), None).unwrap();
        for ok in ["127.0.0.1:8470", "localhost:1", "[::1]:2", "localhost"] {
            assert_eq!(
                r.check(&headers(&[(header::HOST, ok)]), None),
                Verdict::Allowed,
                "{ok}"
            );
        }
        for bad in ["evil.example:8470", "10.0.0.1"] {
            assert_eq!(
                r.check(&headers(&[(header::HOST, bad)]), None),
                Verdict::Denied,
                "{bad}"
            );
        }
        assert_eq!(r.check(&HeaderMap::new(), None), Verdict::Denied);
    }

    #[test]
    fn a_token_is_taken_from_bearer_cookie_or_query() {
        let t = "0123456789abcdef";
        let r = AccessRule::for_listen("0.0.0.0:1".parse().unwrap(), Some(t.into())).unwrap();
        let bearer = format!("Bearer {t}");
        assert_eq!(
            r.check(&headers(&[(header::AUTHORIZATION, &bearer)]), None),
            Verdict::Allowed
        );
        let cookie = format!("a=b; {COOKIE}={t}");
        assert_eq!(
            r.check(&headers(&[(header::COOKIE, &cookie)]), None),
            Verdict::Allowed
        );
        let q = format!("site=x&token={t}");
        assert_eq!(
            r.check(&HeaderMap::new(), Some(&q)),
            Verdict::AllowedSetCookie
        );
        assert_eq!(
            r.check(&HeaderMap::new(), Some("token=0123456789abcdeX")),
            Verdict::Denied
        );
        assert_eq!(
            r.check(&headers(&[(header::HOST, "127.0.0.1")]), None),
            Verdict::Denied
        );
    }
}
