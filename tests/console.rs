//! The operator console as a person and a tool meet it: the built `rfsentry
//! monitor --listen 127.0.0.1:0` replaying the demo venue's incidents at real
//! time, driven over real HTTP — status, Prometheus metrics (parsed), the
//! live event stream (in order), acknowledgements with and without the
//! token (written to alerts.jsonl, or refused with nothing written),
//! evidence downloads byte for byte, path traversal refused, notifications
//! by command and by webhook — and the page itself in headless Chromium (the
//! DOM shows the alerts with their pictures, the waterfall canvas has lit
//! pixels, a screenshot is kept in `target/tmp/console-screenshot.png`).
//!
//! The replay is the demo's incidents lengthened to 40 s (generated here with
//! `rfsentry synth`), so acknowledgements are made while monitoring is on.
//! No assertion depends on wall-clock time beyond "did not hang" bounds.

use crate::util::cli;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOKEN: &str = "console-test-token-0123456789";
/// Generous bound for things that take a few seconds of replay.
const BOUND: Duration = Duration::from_secs(90);

/// A running `rfsentry monitor` and what it said on stderr.
struct Monitor {
    child: Child,
    stderr: Arc<Mutex<String>>,
    port: u16,
}

impl Monitor {
    fn start(args: &[&str]) -> Monitor {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rfsentry"))
            .arg("monitor")
            .args(args)
            .current_dir(cli::repo())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rfsentry runs");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let keep = stderr.clone();
        std::thread::spawn(move || {
            let mut line = String::new();
            while err.read_line(&mut line).unwrap_or(0) > 0 {
                if let Some(rest) = line.strip_prefix("console: http://127.0.0.1:") {
                    let port: u16 = rest.split('/').next().unwrap().parse().unwrap();
                    let _ = tx.send(port);
                }
                keep.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        let port = rx
            .recv_timeout(BOUND)
            .unwrap_or_else(|_| panic!("no console address on stderr: {}", stderr.lock().unwrap()));
        Monitor {
            child,
            stderr,
            port,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// SIGTERM, then the exit status and stdout.
    fn stop(mut self) -> (std::process::ExitStatus, String) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + BOUND;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut out = String::new();
                self.child
                    .stdout
                    .take()
                    .unwrap()
                    .read_to_string(&mut out)
                    .unwrap();
                return (status, out);
            }
            assert!(Instant::now() < deadline, "monitor did not end on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
struct Answer {
    status: u16,
    body: Vec<u8>,
    content_type: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A request through ureq (a real HTTP client); any status is an answer.
fn http(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Answer {
    let mut r = ureq::request(method, url).timeout(Duration::from_secs(20));
    for (k, v) in headers {
        r = r.set(k, v);
    }
    let res = match body {
        Some(b) => r.send_bytes(b),
        None => r.call(),
    };
    let resp = match res {
        Ok(resp) => resp,
        Err(ureq::Error::Status(_, resp)) => resp,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = resp.status();
    let content_type = resp.header("content-type").unwrap_or("").to_string();
    let mut body = Vec::new();
    resp.into_reader().read_to_end(&mut body).unwrap();
    Answer {
        status,
        body,
        content_type,
    }
}

const BEARER: (&str, &str) = ("Authorization", "Bearer console-test-token-0123456789");

fn get(url: &str) -> Answer {
    http("GET", url, &[BEARER], None)
}

/// A request written by hand, exactly as given (no URL normalisation): the status code.
fn raw_status(port: u16, request_line: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "{request_line}\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, text)
}

/// The demo's incidents, lengthened to `seconds` of replay, as 16-bit SigMF.
fn long_incidents(dir: &Path, seconds: u32) -> PathBuf {
    let rec = cli::repo().join("recordings");
    std::fs::copy(rec.join("demo-site.toml"), dir.join("demo-site.toml")).unwrap();
    let toml = std::fs::read_to_string(rec.join("demo-incidents.toml"))
        .unwrap()
        .replace("duration_s = 6\n", &format!("duration_s = {seconds}\n"));
    assert!(toml.contains(&format!("duration_s = {seconds}")));
    let scenario = dir.join("incidents.toml");
    std::fs::write(&scenario, toml).unwrap();
    let out = dir.join("incidents.sigmf-meta");
    cli::ok(&[
        "synth",
        cli::s(&scenario),
        "-o",
        cli::s(&out),
        "--datatype",
        "ci16_le",
    ]);
    out
}

fn token_file(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("token");
    std::fs::write(&p, format!("{TOKEN}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    p
}

/// Lines of the alert log, parsed.
/// The alert events of the run's log (not the chain of custody's records).
fn log(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out.join("alerts.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| !cli::is_custody_record(e))
        .collect()
}

fn acknowledged(out: &Path) -> Vec<Value> {
    log(out)
        .into_iter()
        .filter(|e| e["event"] == "acknowledged")
        .collect()
}

/// Poll `f` until it gives `Some`, within [`BOUND`].
fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + BOUND;
    loop {
        if let Some(t) = f() {
            return t;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A webhook receiver on loopback: the first POST is answered 500 (to be
/// retried), the others 200; the bodies of all are kept.
fn webhook_server() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook/secret-part", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let keep = bodies.clone();
    std::thread::spawn(move || {
        for (n, conn) in listener.incoming().enumerate() {
            let Ok(mut conn) = conn else { continue };
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut len = 0;
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            keep.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&body).into_owned());
            let status = if n == 0 {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            let _ = write!(
                conn,
                "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    (url, bodies)
}

/// The event stream (without spectrum rows), collected on a thread.
fn follow_events(url: String) -> Arc<Mutex<Vec<(String, Value)>>> {
    let events = Arc::new(Mutex::new(Vec::new()));
    let keep = events.clone();
    std::thread::spawn(move || {
        let resp = ureq::get(&url)
            .set(BEARER.0, BEARER.1)
            .call()
            .expect("event stream");
        assert!(resp.content_type().starts_with("text/event-stream"));
        let mut name = String::new();
        for line in BufReader::new(resp.into_reader()).lines() {
            let Ok(line) = line else { break };
            if let Some(n) = line.strip_prefix("event: ") {
                name = n.to_string();
            } else if let Some(d) = line.strip_prefix("data: ") {
                keep.lock()
                    .unwrap()
                    .push((name.clone(), serde_json::from_str(d).unwrap()));
            }
        }
    });
    events
}

/// Parse the Prometheus text exposition: (series with labels, value) pairs.
fn prometheus(text: &str) -> Vec<(String, f64)> {
    let mut types = 0;
    let series = text
        .lines()
        .filter(|l| {
            types += l.starts_with("# TYPE ") as usize;
            !l.starts_with('#') && !l.is_empty()
        })
        .map(|l| {
            let (name, value) = l
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("not a sample line: {l}"));
            let v: f64 = value
                .parse()
                .unwrap_or_else(|_| panic!("not a number: {l}"));
            (name.to_string(), v)
        })
        .collect();
    assert!(types >= 10, "{text}");
    series
}

fn metric(series: &[(String, f64)], name: &str) -> f64 {
    series
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{name} not exposed: {series:?}"))
        .1
}

#[test]
fn the_console_follows_a_replay_and_records_acknowledgements() {
    let dir = tempfile::tempdir().unwrap();
    let recording = long_incidents(dir.path(), 40);
    let out = dir.path().join("out");
    let notified = dir.path().join("notified.jsonl");
    let (hook, hooked) = webhook_server();
    let tokens = token_file(dir.path());
    let exec = format!("cat >> {}", notified.display());
    let m = Monitor::start(&[
        "--site",
        "demo-venue",
        "--out",
        cli::s(&out),
        "--listen",
        "127.0.0.1:0",
        "--token-file",
        cli::s(&tokens),
        "--notify-exec",
        &exec,
        "--notify-webhook",
        &hook,
        cli::s(&recording),
    ]);

    // Every request needs the token (a --token-file was given).
    assert_eq!(http("GET", &m.url("/api/status"), &[], None).status, 401);
    let wrong = ("Authorization", "Bearer console-test-token-WRONG-0000");
    assert_eq!(
        http("GET", &m.url("/api/alerts"), &[wrong], None).status,
        401
    );
    let status = get(&m.url("/api/status"));
    assert_eq!(status.status, 200, "{}", status.text());
    let s = status.json();
    assert_eq!(s["site"], "demo-venue");
    assert_eq!(s["sensor"]["sample_rate"], 250e3);
    assert_eq!(s["sensor"]["tunings_hz"][0], 433.92e6);
    assert_eq!(s["monitoring"], true);
    let events = follow_events(m.url("/api/events?spectrum=0"));
    let page = get(&m.url("/"));
    assert!(page.content_type.starts_with("text/html"));
    assert!(page.text().contains("<canvas id=\"waterfall\""));
    assert!(
        !page.text().contains("http://") && !page.text().contains("https://"),
        "self-contained: no external URL"
    );

    // The three incidents, raised and cleared, with their evidence written.
    let alerts = wait_for("three cleared alerts with their evidence", || {
        let a = get(&m.url("/api/alerts")).json();
        let list = a.as_array()?.clone();
        let done = list.len() >= 3
            && list.iter().all(|a| {
                a["state"] == "cleared"
                    && a["evidence_ready"]["spectrogram"] == true
                    && a["evidence_ready"]["iq"] == true
            });
        done.then_some(list)
    });
    let kinds: Vec<&str> = alerts.iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["jamming.tone", "emitter.unknown", "jamming.swept"]);
    let tone = &alerts[0];
    let id = tone["id"].as_str().unwrap().to_string();
    assert!(tone["duration_s"].as_f64().unwrap() > 0.5, "{tone}");
    assert_eq!(
        get(&m.url(&format!("/api/alerts/{id}"))).json()["id"],
        id.as_str()
    );
    assert_eq!(get(&m.url("/api/alerts/no-such-id")).status, 404);

    // Evidence downloads are the files' very bytes.
    for rel in [
        tone["evidence"]["spectrogram"]
            .as_str()
            .unwrap()
            .to_string(),
        tone["evidence"]["iq"].as_str().unwrap().to_string(),
        tone["evidence"]["iq"]
            .as_str()
            .unwrap()
            .replace(".sigmf-meta", ".sigmf-data"),
    ] {
        let got = get(&m.url(&format!("/evidence/{rel}")));
        assert_eq!(got.status, 200, "{rel}");
        assert_eq!(got.body, std::fs::read(out.join(&rel)).unwrap(), "{rel}");
    }
    // … and nothing else: no way out of the output directory, nor into its other files.
    for target in [
        "/evidence/../../../etc/passwd",
        "/evidence/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/evidence/..%2f..%2f..%2fetc%2fpasswd",
        "/evidence/iq/..%2f..%2falerts.jsonl",
        "/evidence/alerts.jsonl",
        "/evidence/.console-token",
        "/evidence/%2fetc%2fpasswd",
        "/evidence//etc/passwd",
    ] {
        let (code, text) = raw_status(m.port, &format!("GET {target} HTTP/1.1"));
        assert!((400..500).contains(&code), "{target}: {code}\n{text}");
        assert!(!text.contains("root:"), "{target} served /etc/passwd");
    }

    // Acknowledging: refused clearly, with nothing written, unless all is right.
    let ack_url = m.url(&format!("/api/alerts/{id}/ack"));
    let json = ("Content-Type", "application/json");
    let good =
        br#"{"by":"night shift (A. Operator)","note":"walked the hall: a visitor's key fob"}"#;
    let huge = format!(r#"{{"by":"x","note":"{}"}}"#, "n".repeat(100_000));
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a [u8], u16);
    let cases: Vec<Case> = vec![
        ("no token", vec![json], good, 401),
        ("a wrong token", vec![json, wrong], good, 401),
        ("not JSON", vec![json, BEARER], b"by=me", 400),
        (
            "an unknown field",
            vec![json, BEARER],
            br#"{"by":"me","notes":"x"}"#,
            400,
        ),
        (
            "no one",
            vec![json, BEARER],
            br#"{"by":"  ","note":"x"}"#,
            400,
        ),
        (
            "a control character",
            vec![json, BEARER],
            b"{\"by\":\"me\\u0007\"}",
            400,
        ),
        (
            "a form",
            vec![
                ("Content-Type", "application/x-www-form-urlencoded"),
                BEARER,
            ],
            good,
            415,
        ),
    ];
    for (what, headers, body, code) in &cases {
        let a = http("POST", &ack_url, headers, Some(body));
        assert_eq!(a.status, *code, "{what}: {}", a.text());
        assert!(
            a.json()["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{what}"
        );
    }
    // A huge body: refused from its Content-Length, before it is read.
    {
        let mut c = TcpStream::connect(("127.0.0.1", m.port)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        write!(
            c,
            "POST /api/alerts/{id}/ack HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            huge.len()
        )
        .unwrap();
        let _ = c.write_all(huge.as_bytes()); // the server may close before taking it all
        let mut answer = String::new();
        let _ = c.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    }
    let unknown = http(
        "POST",
        &m.url("/api/alerts/nope/ack"),
        &[json, BEARER],
        Some(good),
    );
    assert_eq!(unknown.status, 404, "{}", unknown.text());
    assert!(
        acknowledged(&out).is_empty(),
        "a refused acknowledgement was written"
    );

    let a = http("POST", &ack_url, &[json, BEARER], Some(good));
    assert_eq!(a.status, 201, "{}", a.text());
    let written = acknowledged(&out);
    assert_eq!(written.len(), 1);
    let w = &written[0];
    assert_eq!(w["id"], id.as_str());
    assert_eq!(w["kind"], "jamming.tone");
    assert_eq!(
        w["details"]["acknowledged"]["by"],
        "night shift (A. Operator)"
    );
    assert_eq!(
        w["details"]["acknowledged"]["note"],
        "walked the hall: a visitor's key fob"
    );
    assert!(chrono::DateTime::parse_from_rfc3339(
        w["details"]["acknowledged"]["at"].as_str().unwrap()
    )
    .is_ok());
    let shown = get(&m.url(&format!("/api/alerts/{id}"))).json();
    assert_eq!(
        shown["acknowledgements"][0]["by"],
        "night shift (A. Operator)"
    );
    assert_eq!(
        shown["state"], "cleared",
        "an acknowledgement does not change the alert's state"
    );

    // Metrics, as Prometheus parses them.
    let mtext = get(&m.url("/metrics"));
    assert_eq!(mtext.status, 200);
    let series = prometheus(&mtext.text());
    assert!(metric(&series, "rfsentry_samples_total") > 250e3);
    assert_eq!(metric(&series, "rfsentry_lost_samples_total"), 0.0);
    assert_eq!(metric(&series, "rfsentry_gaps_total"), 0.0);
    assert_eq!(metric(&series, "rfsentry_open_alerts"), 0.0);
    assert_eq!(
        metric(
            &series,
            r#"rfsentry_alerts{kind="jamming.tone",state="cleared"}"#
        ),
        1.0
    );
    assert_eq!(
        metric(
            &series,
            r#"rfsentry_alert_events_total{kind="jamming.swept",event="raised"}"#
        ),
        1.0
    );
    assert_eq!(
        metric(
            &series,
            r#"rfsentry_alert_events_total{kind="jamming.tone",event="acknowledged"}"#
        ),
        1.0
    );
    assert!(metric(&series, "rfsentry_evidence_bytes") > 0.0);
    assert!((-70.0..-40.0).contains(&metric(&series, "rfsentry_noise_floor_dbfs")));
    assert!(metric(&series, "rfsentry_seconds_since_last_sample") >= 0.0);

    // The page in a real browser.
    let shot = browser_check(&m);
    println!("console screenshot: {}", shot.display());

    // The event stream gave every alert event in log order, the acknowledgement too.
    let streamed = wait_for("the acknowledgement on the event stream", || {
        let e = events.lock().unwrap().clone();
        e.iter()
            .any(|(n, v)| {
                n == "alert"
                    && v["acknowledgements"]
                        .as_array()
                        .is_some_and(|a| !a.is_empty())
            })
            .then_some(e)
    });
    // (An acknowledgement streams as the alert's record with its acknowledgements.)
    let order: Vec<(String, String)> = streamed
        .iter()
        .filter(|(n, v)| {
            n == "alert"
                && v["acknowledgements"]
                    .as_array()
                    .is_some_and(|a| a.is_empty())
        })
        .map(|(_, v)| {
            (
                v["id"].as_str().unwrap().to_string(),
                v["event"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let logged: Vec<(String, String)> = log(&out)
        .iter()
        .filter(|e| e["event"] != "acknowledged")
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_string(),
                e["event"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(order.len() >= 6, "{order:?}");
    assert!(logged.ends_with(&order), "stream {order:?}\nlog {logged:?}");
    assert!(streamed.iter().any(|(n, _)| n == "status"));

    // Notifications: the command and the webhook (its first answer was a 500: retried).
    let notes = wait_for(
        "notifications of every raise and clear and the acknowledgement",
        || {
            let text = std::fs::read_to_string(&notified).unwrap_or_default();
            let hooks = hooked.lock().unwrap().clone();
            (text.lines().count() >= 7 && hooks.len() >= 8).then_some((text, hooks))
        },
    );
    let by_exec: Vec<Value> = notes
        .0
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for e in ["raised", "cleared", "acknowledged"] {
        assert!(
            by_exec.iter().any(|v| v["event"] == e),
            "no {e} by exec: {}",
            notes.0
        );
    }
    assert!(by_exec.iter().all(|v| v["text"]
        .as_str()
        .unwrap()
        .starts_with("rfsentry demo-venue: ")));
    let hooks: Vec<Value> = notes
        .1
        .iter()
        .map(|b| serde_json::from_str(b).unwrap())
        .collect();
    assert_eq!(hooks[0], hooks[1], "the refused first post is retried");
    assert!(hooks.iter().any(|v| v["event"] == "acknowledged"));
    let stderr = m.stderr();
    assert!(
        !stderr.contains("secret-part"),
        "the webhook URL's secret reached stderr: {stderr}"
    );
    assert!(!stderr.contains(TOKEN), "the token reached stderr");

    let (status, stdout) = m.stop();
    assert!(status.success(), "{status}: {stdout}");
    // The log stays whole and the one record: every line an alert event.
    let l = log(&out);
    assert!(l.iter().filter(|e| e["event"] == "acknowledged").count() == 1);
    let parsed = rfsentry::alert::log::read_alert_log(&out.join("alerts.jsonl")).unwrap();
    assert_eq!(parsed.len(), l.len());
}

/// Load the page in headless Chromium (logging in with `/?token=`): the DOM
/// shows the three alerts with their pictures, the waterfall has lit
/// pixels (read back by the page), the title counts open alerts; a
/// screenshot is decoded and kept. Returns its path.
fn browser_check(m: &Monitor) -> PathBuf {
    // A snapshot (no live stream): headless Chromium's virtual clock would
    // wait for ever on an open event stream. The stream is tested above.
    let url = m.url(&format!("/?token={TOKEN}&snapshot=1"));
    let chromium = |extra: &[&str]| {
        let out = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
            ])
            .args(["--window-size=1500,1100", "--virtual-time-budget=4000"])
            .args(extra)
            .arg(&url)
            .stdin(Stdio::null())
            .output()
            .expect("chromium runs (Debian package `chromium`; .ci/run installs it)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let dom = String::from_utf8(chromium(&["--dump-dom"]).stdout).unwrap();
    let attr = |name: &str| -> u64 {
        let at = dom
            .find(&format!("{name}=\""))
            .unwrap_or_else(|| panic!("no {name} in the DOM:\n{dom}"));
        dom[at + name.len() + 2..]
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(attr("data-rows") > 10, "waterfall rows");
    assert!(
        attr("data-waterfall-pixels") > 1000,
        "the waterfall is blank"
    );
    for kind in ["jamming.tone", "emitter.unknown", "jamming.swept"] {
        assert!(
            dom.contains(&format!("<b>{kind}</b>")),
            "{kind} not shown:\n{dom}"
        );
    }
    assert_eq!(
        dom.matches("<img class=\"pic\" alt=\"spectrogram of demo-venue-")
            .count(),
        3,
        "{dom}"
    );
    assert!(
        dom.contains("acknowledged by night shift (A. Operator)"),
        "{dom}"
    );
    assert!(
        dom.contains("<title>rfsentry · demo-venue</title>"),
        "no open alert: no count in the title"
    );

    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshot.png");
    let _ = std::fs::remove_file(&shot);
    chromium(&[&format!("--screenshot={}", shot.display())]);
    let decoder = png::Decoder::new(std::fs::File::open(&shot).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (1500, 1100));
    let px = &buf[..info.buffer_size()];
    let distinct: std::collections::HashSet<&[u8]> =
        px.chunks(info.line_size / info.width as usize).collect();
    assert!(
        distinct.len() > 200,
        "the screenshot is nearly blank ({} colours)",
        distinct.len()
    );
    shot
}

#[test]
fn loopback_is_the_default_and_anything_else_needs_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let rec = "recordings/demo-incidents.sigmf-meta";
    // Any other address without a token: refused before monitoring starts.
    let out = cli::run(&[
        "monitor",
        "--site",
        "demo-venue",
        "--out",
        cli::s(&dir.path().join("o1")),
        "--listen",
        "0.0.0.0:0",
        rec,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--listen 0.0.0.0:0: not a loopback address") && err.contains("--token-file"),
        "{err}"
    );
    // A token file others can read is refused too.
    let loose = dir.path().join("loose");
    std::fs::write(&loose, format!("{TOKEN}\n")).unwrap();
    let out = cli::run(&[
        "monitor",
        "--site",
        "demo-venue",
        "--out",
        cli::s(&dir.path().join("o2")),
        "--listen",
        "0.0.0.0:0",
        "--token-file",
        cli::s(&loose),
        rec,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("chmod 600"));

    // Loopback without a token: reading is open (to loopback names only),
    // acknowledging needs the token generated into the output directory.
    let o3 = dir.path().join("o3");
    let m = Monitor::start(&[
        "--site",
        "demo-venue",
        "--out",
        cli::s(&o3),
        "--listen",
        "127.0.0.1:0",
        rec,
    ]);
    assert_eq!(http("GET", &m.url("/api/status"), &[], None).status, 200);
    let (code, _) = {
        let mut s = TcpStream::connect(("127.0.0.1", m.port)).unwrap();
        write!(
            s,
            "GET /api/status HTTP/1.1\r\nHost: rebound.example:{}\r\nConnection: close\r\n\r\n",
            m.port
        )
        .unwrap();
        let mut t = String::new();
        let _ = s.read_to_string(&mut t);
        (t.split_whitespace().nth(1).unwrap_or("").to_string(), t)
    };
    assert_eq!(code, "403", "a foreign Host name is refused");
    let id = wait_for("an alert", || {
        get(&m.url("/api/alerts"))
            .json()
            .as_array()?
            .first()
            .map(|a| a["id"].as_str().unwrap().to_string())
    });
    let ack = m.url(&format!("/api/alerts/{id}/ack"));
    let json = ("Content-Type", "application/json");
    let a = http("POST", &ack, &[json], Some(br#"{"by":"me"}"#));
    assert_eq!(a.status, 401, "{}", a.text());
    use std::os::unix::fs::PermissionsExt;
    let token_path = o3.join(".console-token");
    assert_eq!(
        std::fs::metadata(&token_path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let generated = std::fs::read_to_string(&token_path).unwrap();
    let bearer = format!("Bearer {}", generated.trim());
    let a = http(
        "POST",
        &ack,
        &[json, ("Authorization", &bearer)],
        Some(br#"{"by":"me"}"#),
    );
    // Written while monitoring; refused (and not written) once the 6 s replay has ended.
    match a.status {
        201 => assert_eq!(acknowledged(&o3).len(), 1),
        503 => assert!(acknowledged(&o3).is_empty()),
        other => panic!("{other}: {}", a.text()),
    }
    assert!(
        !m.stderr().contains(generated.trim()),
        "the token reached stderr"
    );
    let (status, _) = m.stop();
    assert!(status.success());
}

/// The console on a live receiver: the replay SoapySDR device plays the demo
/// incidents in real time. The console says it is live and names the device
/// and its rate, counts samples as they come, streams the alerts as they are
/// raised, and its metrics agree.
#[cfg(feature = "soapy")]
#[test]
fn the_console_follows_a_live_receiver() {
    use crate::util::soapy_replay;
    soapy_replay::setup();
    let dir = tempfile::tempdir().unwrap();
    let meta = dir.path().join("demo.sigmf-meta");
    cli::ok(&[
        "synth",
        "recordings/demo-incidents.toml",
        "-o",
        cli::s(&meta),
        "--datatype",
        "cf32_le",
    ]);
    let device = soapy_replay::device_args(
        "console-live",
        &dir.path().join("demo.sigmf-data"),
        &["pace=realtime"],
    );
    let out = dir.path().join("out");
    let m = Monitor::start(&[
        "--site",
        "demo-venue",
        "--out",
        cli::s(&out),
        "--device",
        &device,
        "--duration",
        "6s",
        "--listen",
        "127.0.0.1:0",
    ]);
    let events = follow_events(m.url("/api/events"));
    let status = wait_for("samples from the device", || {
        let s = get(&m.url("/api/status")).json();
        (s["samples"].as_u64()? > 0).then_some(s)
    });
    assert_eq!(status["sensor"]["live"], true, "{status}");
    assert!(
        status["sensor"]["source"]
            .as_str()
            .is_some_and(|s| s.contains("driver=rfsentry_replay")),
        "{status}"
    );
    assert_eq!(status["sensor"]["sample_rate"].as_f64(), Some(250_000.0));
    let raised = wait_for("a raised alert on the stream", || {
        events
            .lock()
            .unwrap()
            .iter()
            .find(|(name, v)| name == "alert" && v["event"] == "raised")
            .map(|(_, v)| v.clone())
    });
    assert_eq!(raised["kind"], "jamming.tone", "the demo's first incident");
    let later = wait_for("more samples", || {
        let s = get(&m.url("/api/status")).json()["samples"].as_u64()?;
        (s > status["samples"].as_u64().unwrap()).then_some(s)
    });
    let series = prometheus(&get(&m.url("/metrics")).text());
    assert!(metric(&series, "rfsentry_samples_total") >= later as f64);
    let (exit, _) = m.stop();
    assert!(exit.success(), "{}", "monitor on the device failed");
    assert!(log(&out).iter().any(|e| e["id"] == raised["id"]));
}
