//! Who may use the hub's web server — the sensor console's rules, on the
//! console's own pieces (`rfsentry_console::access`: the token file, the
//! constant-time comparison, the loopback `Host`, the cookie): loopback by
//! default; any other address only with
//! an access token, which every request then carries — as
//! `Authorization: Bearer TOKEN`, the `rfsentry_token` cookie, or once as
//! `?token=TOKEN` on the page (answered with that cookie). Without a token,
//! only requests whose `Host` names the loopback are served, so a web page
//! elsewhere cannot reach the server by DNS rebinding.

use crate::error::{FleetError, Result};
use axum::http::{header, HeaderMap};
use rfsentry_console::access::{is_loopback_host, read_token_file, same_token as same};
pub use rfsentry_console::access::{COOKIE, MIN_TOKEN_CHARS};
use std::net::SocketAddr;
use std::path::Path;

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
            if t.chars().count() < MIN_TOKEN_CHARS
                || t.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(FleetError::setting(
                    "the access token",
                    None,
                    format!("expected at least {MIN_TOKEN_CHARS} characters, without spaces"),
                ));
            }
        }
        if !addr.ip().is_loopback() && token.is_none() {
            return Err(FleetError::Unprotected {
                addr: addr.to_string(),
            });
        }
        Ok(AccessRule { token })
    }

    /// The token from `file` (checked as the console checks its own: a
    /// private file, one word) or else the environment variable `env`.
    pub fn token_from(file: Option<&Path>, env: &str) -> Result<Option<String>> {
        if let Some(path) = file {
            return read_token_file(path).map(Some).map_err(FleetError::from);
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
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(is_loopback_host)
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

    #[test]
    fn the_token_file_is_checked_as_the_consoles() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("token");
        std::fs::write(&p, "0123456789abcdef0123\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = AccessRule::token_from(Some(&p), "RFSENTRY_TEST_UNSET").unwrap_err();
        assert!(e.to_string().contains("chmod 600"), "{e}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            AccessRule::token_from(Some(&p), "RFSENTRY_TEST_UNSET").unwrap(),
            Some("0123456789abcdef0123".to_string())
        );
    }
}
