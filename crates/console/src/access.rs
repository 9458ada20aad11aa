//! Who may use the console: where it listens (loopback unless an access
//! token is given), the access token (read from a file, never logged), and
//! the check made on every request.
//!
//! - Bound to loopback without `--token-file`: reading is open to this
//!   machine (requests must name a loopback host, so a web page elsewhere
//!   cannot reach the console through DNS rebinding); acknowledging needs the
//!   token, which is then generated and written to `OUT/.console-token`
//!   (mode 0600) for the operator at this machine.
//! - Any other address needs `--token-file`: every request carries the
//!   token, as `Authorization: Bearer TOKEN` or the `rfsentry_token` cookie
//!   that opening `/?token=TOKEN` once sets (HttpOnly, SameSite=Strict).
//!
//! The pieces every rfsentry web server checks alike — the token file
//! ([`read_token_file`]), the constant-time comparison ([`same_token`]), a
//! loopback `Host` ([`is_loopback_host`]), the cookie's name — are public
//! here, and the fleet hub's rule (`rfsentry_fleet::access`) is built on them.

use crate::error::ConsoleError;
use std::io::Read;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The shortest access token accepted.
pub const MIN_TOKEN_CHARS: usize = 16;
/// The cookie that carries the token for a browser.
pub const COOKIE: &str = "rfsentry_token";

/// The console's access rules.
#[derive(Clone)]
pub struct Access {
    token: String,
    /// Every request needs the token (not only acknowledgements).
    pub everything: bool,
    /// Requests must name a loopback host (no token for reading).
    pub loopback_only: bool,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token itself never reaches a log line.
        f.debug_struct("Access")
            .field("token", &"<hidden>")
            .field("everything", &self.everything)
            .field("loopback_only", &self.loopback_only)
            .finish()
    }
}

/// Parse `--listen`.
pub fn parse_listen(addr: &str) -> Result<SocketAddr, ConsoleError> {
    if let Ok(a) = addr.parse() {
        return Ok(a);
    }
    // A host name (localhost:8080): resolve it, loopback names only matter here.
    use std::net::ToSocketAddrs;
    addr.to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| ConsoleError::BadAddress { addr: addr.into() })
}

impl Access {
    /// The rules for listening on `addr`: with `token_file`, the token
    /// guards everything; without, only a loopback address is allowed and a
    /// token for acknowledging is generated into `generated_at`.
    pub fn decide(
        addr: SocketAddr,
        token_file: Option<&Path>,
        generated_at: &Path,
    ) -> Result<Access, ConsoleError> {
        match token_file {
            Some(path) => Ok(Access {
                token: read_token_file(path)?,
                everything: true,
                loopback_only: false,
            }),
            None if addr.ip().is_loopback() => Ok(Access {
                token: generate_token(generated_at)?,
                everything: false,
                loopback_only: true,
            }),
            None => Err(ConsoleError::NeedsToken {
                addr: addr.to_string(),
                min: MIN_TOKEN_CHARS,
            }),
        }
    }

    /// Whether `given` is the token (compared in constant time).
    pub fn is_token(&self, given: &str) -> bool {
        same_token(&self.token, given)
    }

    /// The token a request carries: `Authorization: Bearer …` or the cookie.
    pub fn carried<'a>(authorization: Option<&'a str>, cookie: Option<&'a str>) -> Option<&'a str> {
        if let Some(t) = authorization.and_then(|a| a.strip_prefix("Bearer ")) {
            return Some(t.trim());
        }
        cookie?
            .split(';')
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == COOKIE)
            .map(|(_, v)| v.trim())
    }
}

/// Whether `given` is `token`, compared without stopping at the first
/// difference (the time taken tells nothing of how much matched).
pub fn same_token(token: &str, given: &str) -> bool {
    let (a, b) = (token.as_bytes(), given.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether a `Host` header names this machine's loopback (with any port).
pub fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The access token in `path`: a private file (no access for group or
/// others), one word of at least [`MIN_TOKEN_CHARS`] printable characters.
pub fn read_token_file(path: &Path) -> Result<String, ConsoleError> {
    let err = |source| ConsoleError::TokenFile {
        path: path.to_path_buf(),
        source,
    };
    let bad = |what: String| ConsoleError::BadToken {
        path: path.to_path_buf(),
        what,
    };
    let file = std::fs::File::open(path).map_err(err)?;
    let meta = file.metadata().map_err(err)?;
    if !meta.is_file() {
        return Err(bad("expected a regular file holding the token".into()));
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(bad(format!(
            "readable by others (mode {mode:04o}); a secret file must be private: chmod 600 it"
        )));
    }
    let mut text = String::new();
    file.take(4096)
        .read_to_string(&mut text)
        .map_err(|e| bad(format!("expected UTF-8 text ({e})")))?;
    let token = text.trim();
    if token.chars().count() < MIN_TOKEN_CHARS {
        return Err(bad(format!(
            "the token is {} characters long; at least {MIN_TOKEN_CHARS} are needed",
            token.chars().count()
        )));
    }
    if let Some(c) = token
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || *c == ';' || *c == ',')
    {
        return Err(bad(format!(
            "the token holds {c:?}; expected one word of printable characters (no spaces, ';' or ',')"
        )));
    }
    Ok(token.to_string())
}

/// A fresh random token (32 bytes from the kernel, hex), written to `path` with mode 0600.
fn generate_token(path: &Path) -> Result<String, ConsoleError> {
    let err = |source| ConsoleError::TokenFile {
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(err)?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let _ = std::fs::remove_file(path);
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(format!("{token}\n").as_bytes()))
        .map_err(err)?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_loopback_without_a_token_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let gen = dir.path().join("t");
        let e = Access::decide("0.0.0.0:80".parse().unwrap(), None, &gen).unwrap_err();
        assert!(e.to_string().contains("--token-file"), "{e}");
        let a = Access::decide("127.0.0.1:0".parse().unwrap(), None, &gen).unwrap();
        assert!(!a.everything && a.loopback_only);
        let written = std::fs::read_to_string(&gen).unwrap();
        assert!(a.is_token(written.trim()));
        assert_eq!(
            std::fs::metadata(&gen).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(!format!("{a:?}").contains(written.trim()));
    }

    #[test]
    fn token_files_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tok");
        let write = |text: &str, mode: u32| {
            std::fs::write(&p, text).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        write("short\n", 0o600);
        let msg = read_token_file(&p).unwrap_err().to_string();
        assert!(msg.contains("at least 16"), "{msg}");
        write("0123456789abcdef0123\n", 0o644);
        let msg = read_token_file(&p).unwrap_err().to_string();
        assert!(msg.contains("chmod 600"), "{msg}");
        write("0123456789abcdef0123\n", 0o600);
        assert_eq!(read_token_file(&p).unwrap(), "0123456789abcdef0123");
        write("0123456789 abcdef0123\n", 0o600);
        assert!(read_token_file(&p).is_err());
    }

    #[test]
    fn the_token_is_found_in_a_header_or_the_cookie() {
        assert_eq!(Access::carried(Some("Bearer abc"), None), Some("abc"));
        assert_eq!(
            Access::carried(None, Some("a=1; rfsentry_token=xyz; b=2")),
            Some("xyz")
        );
        assert_eq!(Access::carried(Some("Basic abc"), Some("a=1")), None);
        for h in ["127.0.0.1:8080", "localhost:1", "[::1]:80", "LOCALHOST"] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in ["evil.example:8080", "10.0.0.1:80", "[2001:db8::1]:80"] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }
}
