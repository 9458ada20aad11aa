//! A real Mosquitto broker for the fleet's tests and load bench: a generated
//! configuration on a free loopback port (optionally with passwords, the
//! README's ACL, TLS from a test CA made with `openssl` at test time, and
//! persistence), started, killed and restarted on the same port; plus the
//! `rfsentry hub` process and a plain HTTP GET to read its API.
//!
//! Mosquitto and openssl are required, never skipped: `.ci/run` installs
//! Debian's `mosquitto` and `openssl`.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The broker ACL the README documents: the hub reads every sensor and asks
/// them for replays; a sensor (user = site name) writes only under its own
/// site and reads only its own replay requests.
pub const ACL: &str = "\
user rfsentry-hub
topic read rfsentry/v1/#
topic write rfsentry/v1/+/replay

pattern write rfsentry/v1/%u/alert
pattern write rfsentry/v1/%u/status
pattern write rfsentry/v1/%u/evidence/#
pattern read rfsentry/v1/%u/replay
";

/// Find a program in PATH or the sbin directories, or fail saying what to install.
pub fn program(name: &str, package: &str) -> PathBuf {
    let dirs = std::env::var("PATH").unwrap_or_default();
    for d in dirs
        .split(':')
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"])
    {
        let p = Path::new(d).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "`{name}` is needed by the fleet tests: apt-get install {package} (.ci/run installs it)"
    );
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Wait until `cond` holds, polling; panics with `what` after `timeout`.
pub fn wait_until(timeout: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out after {timeout:?} waiting for {what}");
}

/// TLS files made by a test CA.
#[derive(Debug, Clone)]
pub struct TestCa {
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new(program("openssl", "openssl"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl TestCa {
    /// A CA, a server certificate for 127.0.0.1 and a client certificate, in `dir`.
    pub fn make(dir: &Path, name: &str) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let f = |s: &str| format!("{name}-{s}");
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN={name} test CA"),
                "-keyout",
                &f("ca.key"),
                "-out",
                &f("ca.pem"),
            ],
        );
        // Version 3 certificates (webpki refuses version 1), for a server on
        // 127.0.0.1 and a client.
        std::fs::write(
            dir.join(f("server.ext")),
            "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
        )
        .unwrap();
        std::fs::write(
            dir.join(f("client.ext")),
            "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n",
        )
        .unwrap();
        for who in ["server", "client"] {
            openssl(
                dir,
                &[
                    "req",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-subj",
                    &format!("/CN=rfsentry-{who}"),
                    "-keyout",
                    &f(&format!("{who}.key")),
                    "-out",
                    &f(&format!("{who}.csr")),
                ],
            );
            let args: Vec<String> = [
                "x509",
                "-req",
                "-days",
                "2",
                "-in",
                &f(&format!("{who}.csr")),
                "-CA",
                &f("ca.pem"),
                "-CAkey",
                &f("ca.key"),
                "-CAcreateserial",
                "-out",
                &f(&format!("{who}.pem")),
                "-extfile",
                &f(&format!("{who}.ext")),
            ]
            .iter()
            .map(|a| a.to_string())
            .collect();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            openssl(dir, &args);
        }
        TestCa {
            ca: dir.join(f("ca.pem")),
            server_cert: dir.join(f("server.pem")),
            server_key: dir.join(f("server.key")),
            client_cert: dir.join(f("client.pem")),
            client_key: dir.join(f("client.key")),
        }
    }
}

/// How the broker is set up.
#[derive(Debug, Clone, Default)]
pub struct BrokerSetup {
    /// Users and passwords; with them, anonymous clients are refused and the ACL applies.
    pub users: Vec<(String, String)>,
    /// TLS with a client certificate required.
    pub tls: Option<TestCa>,
    /// Keep sessions and queued messages across restarts.
    pub persistence: bool,
}

/// A running Mosquitto.
pub struct Broker {
    pub port: u16,
    pub dir: PathBuf,
    conf: PathBuf,
    child: Option<Child>,
}

impl Broker {
    /// Write the configuration in `dir` and start the broker.
    pub fn start(dir: &Path, setup: &BrokerSetup) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let port = free_port();
        let mut conf = format!(
            "per_listener_settings false\nlistener {port} 127.0.0.1\nmax_queued_messages 100000\nmax_inflight_messages 100\nmax_packet_size 67108864\n"
        );
        // Run as root (CI), mosquitto would drop to user `mosquitto`, which
        // cannot read the test's private directory.
        if unsafe { libc::geteuid() } == 0 {
            conf.push_str("user root\n");
        }
        if setup.users.is_empty() {
            conf.push_str("allow_anonymous true\n");
        } else {
            let pw = dir.join("passwd");
            let _ = std::fs::remove_file(&pw);
            std::fs::write(&pw, "").unwrap();
            for (u, p) in &setup.users {
                let out = Command::new(program("mosquitto_passwd", "mosquitto"))
                    .args(["-b", pw.to_str().unwrap(), u, p])
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "mosquitto_passwd: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            std::fs::write(dir.join("acl"), ACL).unwrap();
            conf.push_str(&format!(
                "allow_anonymous false\npassword_file {}\nacl_file {}\n",
                pw.display(),
                dir.join("acl").display()
            ));
        }
        if let Some(ca) = &setup.tls {
            conf.push_str(&format!(
                "cafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate true\n",
                ca.ca.display(),
                ca.server_cert.display(),
                ca.server_key.display()
            ));
        }
        if setup.persistence {
            conf.push_str(&format!(
                "persistence true\npersistence_location {}/\nautosave_interval 1\n",
                dir.display()
            ));
        } else {
            conf.push_str("persistence false\n");
        }
        let path = dir.join("mosquitto.conf");
        std::fs::write(&path, conf).unwrap();
        let mut b = Broker {
            port,
            dir: dir.to_path_buf(),
            conf: path,
            child: None,
        };
        b.restart();
        b
    }

    /// (Re)start on the same port and configuration.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the broker is running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("mosquitto.log"))
            .unwrap();
        let child = Command::new(program("mosquitto", "mosquitto"))
            .arg("-c")
            .arg(&self.conf)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("mosquitto starts");
        self.child = Some(child);
        let port = self.port;
        wait_until(Duration::from_secs(10), "mosquitto to listen", || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
    }

    /// Kill with SIGKILL (a crash: nothing saved).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stop with SIGTERM (mosquitto saves its persistence file).
    pub fn terminate(&mut self) {
        if let Some(mut c) = self.child.take() {
            unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
            let _ = c.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("mosquitto.log")).unwrap_or_default()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A plain HTTP/1.1 GET; returns the status code and body.
pub fn http_get(port: u16, path: &str, headers: &[(&str, &str)]) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("the hub listens");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP response");
    let head = String::from_utf8_lossy(&raw[..split]).to_lowercase();
    let status: u16 = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut body = raw[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let nl = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let n = usize::from_str_radix(std::str::from_utf8(&rest[..nl]).unwrap().trim(), 16)
                .unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[nl + 2..nl + 2 + n]);
            rest = &rest[nl + 2 + n + 2..];
        }
        body = out;
    }
    (status, body)
}

/// GET a JSON document from the hub.
pub fn get_json(port: u16, path: &str) -> serde_json::Value {
    let (status, body) = http_get(port, path, &[]);
    assert_eq!(
        status,
        200,
        "GET {path}: {}",
        String::from_utf8_lossy(&body)
    );
    serde_json::from_slice(&body).unwrap()
}

/// A running `rfsentry hub`.
pub struct HubProcess {
    pub port: u16,
    pub db: PathBuf,
    pub log: PathBuf,
    child: Option<Child>,
    args: Vec<String>,
    bin: PathBuf,
    token: Option<String>,
}

impl HubProcess {
    /// Start `BIN hub --db DB --listen 127.0.0.1:PORT EXTRA…` and wait until its
    /// intake is connected to the broker.
    pub fn start(bin: &Path, dir: &Path, extra: &[&str]) -> Self {
        Self::start_on(bin, dir, "127.0.0.1", extra, "")
    }

    /// Start listening on `host` (a free port), with access `token` ("" for none).
    pub fn start_on(bin: &Path, dir: &Path, host: &str, extra: &[&str], token: &str) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        let port = free_port();
        let db = dir.join("hub.sqlite");
        let mut args: Vec<String> = vec![
            "hub".into(),
            "--db".into(),
            db.to_str().unwrap().into(),
            "--listen".into(),
            format!("{host}:{port}"),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut h = HubProcess {
            port,
            db,
            log: dir.join("hub.log"),
            child: None,
            args,
            bin: bin.to_path_buf(),
            token: (!token.is_empty()).then(|| token.to_string()),
        };
        h.restart();
        h
    }

    pub fn restart(&mut self) {
        assert!(self.child.is_none());
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(&self.bin)
            .args(&self.args)
            .env("RUST_LOG", "rfsentry_fleet=info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("rfsentry hub starts");
        self.child = Some(child);
        let port = self.port;
        wait_until(
            Duration::from_secs(20),
            "the hub to connect to the broker",
            || TcpStream::connect(("127.0.0.1", port)).is_ok() && self.stats()["connected"] == true,
        );
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn stats(&self) -> serde_json::Value {
        let bearer = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = bearer
            .iter()
            .map(|b| ("Authorization", b.as_str()))
            .collect();
        let (status, body) = http_get(self.port, "/api/stats", &headers);
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).unwrap()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
