//! The fleet through a real Mosquitto broker: `monitor --publish` sensors
//! and `rfsentry hub`, run as a user would, with the faults of issue #15 and
//! exact counts at the hub — broker killed mid-incident, sensor SIGKILLed,
//! hub restarted, wrong password and another site's topic refused by the
//! README's ACL, TLS with a CA made at test time, bad input and a flood at
//! the hub — and the hub's page (headless chromium), API, export and access
//! rule.

use crate::util::{cli, mosquitto};

use mosquitto::{get_json, http_get, program, wait_until, Broker, BrokerSetup, HubProcess, TestCa};
use rfsentry::custody::chain;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SITE: &str = "demo-venue";
const RECORDING: &str = "recordings/demo-incidents.sigmf-meta";

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rfsentry"))
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Start `rfsentry monitor --site demo-venue --out OUT EXTRA… RECORDING`,
/// its stderr into `log`.
fn monitor(out: &Path, log: &Path, extra: &[&str]) -> Child {
    let log = std::fs::File::create(log).unwrap();
    Command::new(bin())
        .args(["monitor", "--site", SITE, "--out", s(out)])
        .args(extra)
        .arg(RECORDING)
        .current_dir(repo())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("rfsentry monitor starts")
}

fn finish(mut child: Child, log: &Path) -> String {
    let status = child.wait().unwrap();
    let text = std::fs::read_to_string(log).unwrap_or_default();
    assert!(status.success(), "monitor failed ({status}):\n{text}");
    text
}

/// The alert events of a log line (not the chain of custody's records).
fn is_alert_line(line: &str) -> bool {
    !cli::is_custody_record(&serde_json::from_str(line).unwrap())
}

fn alert_lines(out: &Path) -> Vec<String> {
    log_lines(out)
        .into_iter()
        .filter(|l| is_alert_line(l))
        .collect()
}

fn log_lines(out: &Path) -> Vec<String> {
    std::fs::read_to_string(out.join("alerts.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The hub's events of `site` in sequence order: (seq, line).
fn hub_events(db: &Path, site: &str) -> Vec<(u64, String)> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let mut st = c
        .prepare("SELECT seq, line FROM events WHERE site = ?1 ORDER BY seq")
        .unwrap();
    let rows = st
        .query_map([site], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

fn stored_seq(hub: &HubProcess, site: &str) -> u64 {
    get_json(hub.port, "/api/sensors")
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["site"] == site)
        .map_or(0, |x| x["stored_seq"].as_u64().unwrap())
}

/// The hub holds exactly the sensor's log: line k as event #k, byte for
/// byte, each once, every alert in its final state, and every signed line
/// of the chain of custody as a head.
fn assert_hub_holds_the_log(hub: &HubProcess, out: &Path) {
    let lines = log_lines(out);
    assert!(!lines.is_empty(), "the sensor logged nothing");
    let n = lines.len() as u64;
    wait_until(
        Duration::from_secs(40),
        "the hub to store every event of the log",
        || stored_seq(hub, SITE) >= n,
    );
    let events = hub_events(&hub.db, SITE);
    let seqs: Vec<u64> = events.iter().map(|e| e.0).collect();
    assert_eq!(
        seqs,
        (1..=n).collect::<Vec<_>>(),
        "every event once, numbered in log order"
    );
    for ((seq, stored), line) in events.iter().zip(&lines) {
        assert_eq!(stored, line, "event #{seq} differs from the log's line");
    }
    let signed: Vec<(u64, String)> = lines
        .iter()
        .filter_map(|l| {
            chain::parse(l.as_bytes())
                .filter(|s| s.sig.is_some())
                .map(|s| (s.seq, chain::to_hex(&chain::sha256(l.as_bytes()))))
        })
        .collect();
    let heads: Vec<(u64, String)> = get_json(hub.port, &format!("/api/heads?site={SITE}"))
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["chain_seq"].as_u64().unwrap(),
                h["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        heads, signed,
        "the hub keeps every signed line of the chain as a head"
    );
    let mut last = std::collections::BTreeMap::new();
    for l in lines.iter().filter(|l| is_alert_line(l)) {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        last.insert(
            v["id"].as_str().unwrap().to_string(),
            v["event"].as_str().unwrap().to_string(),
        );
    }
    let alerts = get_json(hub.port, &format!("/api/alerts?site={SITE}&limit=10000"));
    let got: std::collections::BTreeMap<String, String> = alerts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["id"].as_str().unwrap().to_string(),
                a["event"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        got, last,
        "each alert's latest state is its last event in the log"
    );
    assert_eq!(hub.stats()["conflicts"], 0);
}

fn credentials(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    p
}

/// Publish `msgs` as client `id` (QoS 1) and wait for every acknowledgement.
fn raw_publish(port: u16, id: &str, user: Option<(&str, &str)>, msgs: Vec<(String, Vec<u8>)>) {
    let mut o = rumqttc::MqttOptions::new(id, "127.0.0.1", port);
    o.set_max_packet_size(1 << 20, 1 << 20);
    if let Some((u, p)) = user {
        o.set_credentials(u, p);
    }
    let (client, mut conn) = rumqttc::Client::new(o, 128);
    let total = msgs.len();
    let sender = std::thread::spawn(move || {
        for (t, p) in msgs {
            client
                .publish(t, rumqttc::QoS::AtLeastOnce, false, p)
                .unwrap();
        }
        client
    });
    let mut acked = 0;
    let end = Instant::now() + Duration::from_secs(60);
    while acked < total {
        assert!(
            Instant::now() < end,
            "the broker acknowledged {acked} of {total}"
        );
        match conn.recv_timeout(Duration::from_secs(5)) {
            Ok(Ok(rumqttc::Event::Incoming(rumqttc::Packet::PubAck(_)))) => acked += 1,
            Ok(Ok(_)) => {}
            Ok(Err(e)) => panic!("raw client {id}: {e}"),
            Err(_) => {}
        }
    }
    let client = sender.join().unwrap();
    let _ = client.disconnect();
    for _ in 0..5 {
        if conn.recv_timeout(Duration::from_millis(200)).is_err() {
            break;
        }
    }
}

fn alert_json(site: &str, seq: u64, id: &str) -> Vec<u8> {
    let line = format!(
        r#"{{"id":"{id}","event":"raised","kind":"jamming.tone","site":"{site}","recording":"r","start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:00:01Z","start_sample":0,"end_sample":1,"freq_low_hz":1.0,"freq_high_hz":2.0,"center_hz":1.5,"peak_dbfs":-20.0,"excess_db":10.0,"snr_db":12.0,"confidence":0.9,"evidence":{{}}}}"#
    );
    rfsentry_fleet::topics::alert_payload(seq, line.as_bytes()).unwrap()
}

#[test]
fn broker_killed_mid_incident_every_event_arrives_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut broker = Broker::start(&dir.path().join("broker"), &BrokerSetup::default());
    let hub = HubProcess::start(
        &bin(),
        &dir.path().join("hub"),
        &["--broker", &broker.url()],
    );
    let out = dir.path().join("out");
    let log = dir.path().join("monitor.log");
    let mon = monitor(
        &out,
        &log,
        &[
            "--publish",
            &broker.url(),
            "--heartbeat",
            "1s",
            "--publish-drain",
            "90s",
        ],
    );
    // The tone jammer is raised about 1 s in and cleared about 2.8 s in, the
    // rogue raised at 2.6 s: the broker is away for both, and for 20 s (the
    // replay ends meanwhile; the monitor goes on delivering at its end).
    std::thread::sleep(Duration::from_millis(1500));
    broker.kill();
    std::thread::sleep(Duration::from_secs(20));
    broker.restart();
    let text = finish(mon, &log);
    assert!(text.contains("retrying"), "the outage was seen:\n{text}");
    assert_hub_holds_the_log(&hub, &out);
    assert_eq!(
        alert_lines(&out).len(),
        7,
        "the demo's 3 alerts: raised, cleared, and the rogue's update"
    );
}

#[test]
fn a_sensor_killed_and_restarted_resumes_from_its_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(&dir.path().join("broker"), &BrokerSetup::default());
    let hub = HubProcess::start(
        &bin(),
        &dir.path().join("hub"),
        &["--broker", &broker.url()],
    );
    let out = dir.path().join("out");
    let cursor = out.join("alerts.jsonl.cursor");
    let log1 = dir.path().join("monitor1.log");
    let mut mon = monitor(
        &out,
        &log1,
        &["--publish", &broker.url(), "--heartbeat", "1s"],
    );
    let acked = |p: &Path| -> u64 {
        std::fs::read(p)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["acked_seq"].as_u64())
            .unwrap_or(0)
    };
    wait_until(
        Duration::from_secs(20),
        "the first events to be acknowledged",
        || acked(&cursor) >= 2,
    );
    mon.kill().unwrap(); // SIGKILL
    mon.wait().unwrap();
    let acked_at_kill = acked(&cursor);
    let lines_at_kill = log_lines(&out).len() as u64;
    assert!(acked_at_kill >= 2 && acked_at_kill <= lines_at_kill);
    // The restarted monitor closes the alerts left open, runs again, and
    // its publisher goes on from the cursor.
    let log2 = dir.path().join("monitor2.log");
    finish(
        monitor(&out, &log2, &["--publish", &broker.url(), "--fast"]),
        &log2,
    );
    assert!(log_lines(&out).len() as u64 > lines_at_kill + 3);
    assert_hub_holds_the_log(&hub, &out);
    // Only what was after the cursor could come twice.
    let dup = hub.stats()["duplicates"].as_u64().unwrap();
    assert!(
        dup <= lines_at_kill - acked_at_kill,
        "{dup} duplicates, but only {} events were unacknowledged at the kill",
        lines_at_kill - acked_at_kill
    );
}

#[test]
fn a_restarted_hub_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(&dir.path().join("broker"), &BrokerSetup::default());
    let mut hub = HubProcess::start(
        &bin(),
        &dir.path().join("hub"),
        &["--broker", &broker.url()],
    );
    let out = dir.path().join("out");
    let log = dir.path().join("monitor.log");
    finish(
        monitor(&out, &log, &["--publish", &broker.url(), "--fast"]),
        &log,
    );
    let first = log_lines(&out).len() as u64;
    wait_until(Duration::from_secs(20), "the first run stored", || {
        stored_seq(&hub, SITE) == first
    });
    hub.kill();
    // While the hub is away the broker keeps its session's queue.
    finish(
        monitor(&out, &log, &["--publish", &broker.url(), "--fast"]),
        &log,
    );
    assert!(log_lines(&out).len() as u64 > first);
    hub.restart();
    assert_hub_holds_the_log(&hub, &out);
    assert_eq!(
        hub.stats()["events_stored"].as_u64().unwrap(),
        log_lines(&out).len() as u64 - first
    );
}

#[test]
fn a_wrong_password_and_another_sites_topic_are_refused_by_the_acl() {
    let dir = tempfile::tempdir().unwrap();
    let setup = BrokerSetup {
        users: vec![
            ("rfsentry-hub".into(), "hub-secret".into()),
            (SITE.into(), "venue-secret".into()),
            ("venue-b".into(), "b-secret".into()),
        ],
        ..Default::default()
    };
    let broker = Broker::start(&dir.path().join("broker"), &setup);
    let hub_creds = credentials(dir.path(), "hub.cred", "rfsentry-hub:hub-secret\n");
    let hub = HubProcess::start(
        &bin(),
        &dir.path().join("hub"),
        &[
            "--broker",
            &broker.url(),
            "--mqtt-credentials",
            s(&hub_creds),
        ],
    );
    // A wrong password: monitoring works, publishing is refused, nothing is lost.
    let bad = credentials(
        dir.path(),
        "bad.cred",
        &format!("{SITE}:not-the-password\n"),
    );
    let out = dir.path().join("out");
    let log = dir.path().join("monitor-bad.log");
    let text = finish(
        monitor(
            &out,
            &log,
            &[
                "--publish",
                &broker.url(),
                "--mqtt-credentials",
                s(&bad),
                "--fast",
                "--publish-drain",
                "2s",
            ],
        ),
        &log,
    );
    // Mosquitto answers a wrong password with "not authorized".
    assert!(text.contains("refused the connection"), "{text}");
    assert!(text.contains("acknowledged events up to #0"), "{text}");
    // venue-b publishes under demo-venue's topic (dropped by the broker), then under its own.
    raw_publish(
        broker.port,
        "intruder",
        Some(("venue-b", "b-secret")),
        vec![
            (
                rfsentry_fleet::topics::alert_topic(SITE),
                alert_json(SITE, 1, "demo-venue-9999"),
            ),
            (
                rfsentry_fleet::topics::alert_topic("venue-b"),
                alert_json("venue-b", 1, "venue-b-0001"),
            ),
        ],
    );
    wait_until(Duration::from_secs(10), "venue-b's own event", || {
        stored_seq(&hub, "venue-b") == 1
    });
    assert!(
        hub_events(&hub.db, SITE).is_empty(),
        "another site's topic was refused"
    );
    // The right password: the whole log (kept while refused) arrives.
    let good = credentials(dir.path(), "good.cred", &format!("{SITE}:venue-secret\n"));
    let log = dir.path().join("monitor-good.log");
    finish(
        monitor(
            &out,
            &log,
            &[
                "--publish",
                &broker.url(),
                "--mqtt-credentials",
                s(&good),
                "--fast",
            ],
        ),
        &log,
    );
    assert_hub_holds_the_log(&hub, &out);
    assert_eq!(
        hub.stats()["events_stored"],
        log_lines(&out).len() as u64 + 1
    );
}

#[test]
fn tls_with_a_test_ca_and_client_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::make(&dir.path().join("pki"), "good");
    let other = TestCa::make(&dir.path().join("pki"), "other");
    let setup = BrokerSetup {
        tls: Some(ca.clone()),
        ..Default::default()
    };
    let broker = Broker::start(&dir.path().join("broker"), &setup);
    let url = format!("mqtts://127.0.0.1:{}", broker.port);
    let tls = |ca: &TestCa| -> Vec<String> {
        [
            "--mqtt-ca",
            s(&ca.ca),
            "--mqtt-cert",
            s(&ca.client_cert),
            "--mqtt-key",
            s(&ca.client_key),
        ]
        .iter()
        .map(|x| x.to_string())
        .collect()
    };
    let mut hub_args = vec!["--broker".to_string(), url.clone()];
    hub_args.extend(tls(&ca));
    let hub_args: Vec<&str> = hub_args.iter().map(String::as_str).collect();
    let hub = HubProcess::start(&bin(), &dir.path().join("hub"), &hub_args);
    // A broker certificate from another CA is not trusted.
    let log = dir.path().join("monitor-untrusted.log");
    let mut args = vec![
        "--publish".to_string(),
        url.clone(),
        "--fast".into(),
        "--publish-drain".into(),
        "2s".into(),
    ];
    args.extend(tls(&other));
    let args_ref: Vec<&str> = args.iter().map(String::as_str).collect();
    let text = finish(
        monitor(&dir.path().join("out-untrusted"), &log, &args_ref),
        &log,
    );
    assert!(text.to_lowercase().contains("certificate"), "{text}");
    assert!(hub_events(&hub.db, SITE).is_empty());
    // The right CA and client certificate.
    let out = dir.path().join("out");
    let log = dir.path().join("monitor.log");
    let mut args = vec!["--publish".to_string(), url, "--fast".into()];
    args.extend(tls(&ca));
    let args_ref: Vec<&str> = args.iter().map(String::as_str).collect();
    finish(monitor(&out, &log, &args_ref), &log);
    assert_hub_holds_the_log(&hub, &out);
}

#[test]
fn bad_input_and_a_flood_at_the_hub_are_counted_and_nothing_else_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(&dir.path().join("broker"), &BrokerSetup::default());
    let hub = HubProcess::start(
        &bin(),
        &dir.path().join("hub"),
        &[
            "--broker",
            &broker.url(),
            "--flood-rate",
            "50",
            "--flood-burst",
            "200",
        ],
    );
    use rfsentry_fleet::topics::{alert_topic, evidence_topic, status_topic};
    let mut wrong_site = alert_json("junk", 3, "junk-0003");
    let at = wrong_site
        .windows(13)
        .position(|w| w == b"\"site\":\"junk\"")
        .unwrap();
    wrong_site.splice(at..at + 13, b"\"site\":\"else\"".iter().copied());
    let bad: Vec<(String, Vec<u8>)> = vec![
        (alert_topic("junk"), b"{not json".to_vec()),
        (
            alert_topic("junk"),
            String::from_utf8(alert_json("junk", 1, "junk-0001"))
                .unwrap()
                .replace("\"schema\":1", "\"schema\":2")
                .into_bytes(),
        ),
        (alert_topic("junk"), vec![b' '; 100 << 10]),
        (
            status_topic("junk"),
            br#"{"schema":1,"site":"junk"}"#.to_vec(),
        ),
        (
            evidence_topic("junk", "junk-0001"),
            b"GIF89a not a png".to_vec(),
        ),
        (alert_topic("junk"), wrong_site),
        ("rfsentry/v1/junk/nonsense".to_string(), b"{}".to_vec()),
    ];
    raw_publish(broker.port, "junk", None, bad);
    // A flooding sensor and a real one at the same time.
    let flood: Vec<(String, Vec<u8>)> = (1..=2000)
        .map(|i| {
            (
                alert_topic("flood"),
                alert_json("flood", i, &format!("flood-{i:04}")),
            )
        })
        .collect();
    let flooder = std::thread::spawn({
        let port = broker.port;
        move || raw_publish(port, "flood", None, flood)
    });
    let out = dir.path().join("out");
    let log = dir.path().join("monitor.log");
    finish(
        monitor(&out, &log, &["--publish", &broker.url(), "--fast"]),
        &log,
    );
    flooder.join().unwrap();
    assert_hub_holds_the_log(&hub, &out);
    wait_until(Duration::from_secs(30), "the flood to be counted", || {
        let st = hub.stats();
        let stored = hub_events(&hub.db, "flood").len() as u64;
        stored + st["flood_dropped"]["flood"].as_u64().unwrap_or(0) == 2000
    });
    let st = hub.stats();
    assert!(st["flood_dropped"]["flood"].as_u64().unwrap() > 0, "{st}");
    let expect = serde_json::json!({
        "malformed JSON": 2, "unknown schema": 1, "oversized": 1, "not a PNG": 1, "site mismatch": 1, "unknown topic": 1
    });
    assert_eq!(st["rejected"], expect, "{st}");
    assert!(
        hub.log_text().contains("rejected (unknown schema"),
        "logged"
    );
    assert!(
        hub.log_text()
            .contains("flood sends more than 50 messages/s"),
        "logged"
    );
}

#[test]
fn the_page_api_export_and_access_rule() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(&dir.path().join("broker"), &BrokerSetup::default());
    let hub = HubProcess::start(
        &bin(),
        &dir.path().join("hub"),
        &["--broker", &broker.url()],
    );
    let out = dir.path().join("out");
    let log = dir.path().join("monitor.log");
    finish(
        monitor(&out, &log, &["--publish", &broker.url(), "--fast"]),
        &log,
    );
    assert_hub_holds_the_log(&hub, &out);
    let alerts = get_json(hub.port, "/api/alerts");
    let ids: Vec<String> = alerts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 3);
    wait_until(
        Duration::from_secs(10),
        "the pictures and IQ announcements",
        || {
            get_json(hub.port, "/api/alerts")
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["picture"] == true && a["iq"]["sha512"].is_string())
        },
    );
    // Filters.
    assert_eq!(
        get_json(hub.port, "/api/alerts?kind=jamming.tone")
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        get_json(hub.port, "/api/alerts?state=cleared")
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        get_json(hub.port, "/api/alerts?state=open")
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        get_json(hub.port, "/api/alerts?site=elsewhere")
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        get_json(hub.port, "/api/alerts?since=2027-01-01T00:00:00Z")
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // The sensor said goodbye: offline, with its coverage.
    let sensors = get_json(hub.port, "/api/sensors");
    let sensor = &sensors[0];
    assert_eq!(
        (
            sensor["site"].as_str(),
            sensor["online"].as_bool(),
            sensor["reason"].as_str()
        ),
        (Some(SITE), Some(false), Some("stopped"))
    );
    assert_eq!(
        sensor["status"]["coverage"][0][0].as_f64(),
        Some(433.92e6 - 125e3)
    );
    // The picture is the sensor's PNG, byte for byte.
    let id = &ids[0];
    let (status, png) = http_get(
        hub.port,
        &format!("/api/alerts/{SITE}/{id}/picture.png"),
        &[],
    );
    assert_eq!(status, 200);
    assert_eq!(
        png,
        std::fs::read(out.join(format!("spectrograms/{id}.png"))).unwrap()
    );
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let info = decoder.read_info().unwrap();
    assert!(info.info().width > 100);
    let detail = get_json(hub.port, &format!("/api/alerts/{SITE}/{id}"));
    assert!(detail["events"].as_array().unwrap().len() >= 2);
    // The page, rendered by a real browser: venues and the feed come from the API.
    let chromium = program("chromium", "chromium");
    let dom = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("http://127.0.0.1:{}/", hub.port))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("0 of 1 venues online"), "{dom}");
    assert!(dom.contains("offline (stopped)"), "{dom}");
    for id in &ids {
        assert!(dom.contains(id.as_str()), "{id} in the feed:\n{dom}");
    }
    // Export: JSON Lines and CSV.
    let export = |fmt: &str| {
        let o = Command::new(bin())
            .args(["hub", "--db", s(&hub.db), "--export", fmt])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let jsonl = export("jsonl");
    assert_eq!(jsonl.lines().count(), 3);
    for l in jsonl.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["state"], "cleared");
        assert_eq!(v["latest"]["site"], SITE);
    }
    let csv = export("csv");
    assert!(csv.starts_with("site,id,kind,state,"));
    assert_eq!(csv.lines().count(), 4);
    // Access: a foreign Host is refused on a loopback hub without a token.
    let (status, _) = http_get(hub.port, "/api/sensors", &[("Host", "evil.example")]);
    assert_eq!(status, 401);
    // A public address without a token is refused; with one, requests need it.
    let o = Command::new(bin())
        .args([
            "hub",
            "--broker",
            &broker.url(),
            "--db",
            s(&dir.path().join("h2.sqlite")),
            "--listen",
            "0.0.0.0:0",
        ])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a loopback address"));
    let token = "fleet-test-token-0123456789";
    let tf = credentials(dir.path(), "token", token);
    let public = HubProcess::start_on(
        &bin(),
        &dir.path().join("hub-public"),
        "0.0.0.0",
        &[
            "--broker",
            &broker.url(),
            "--token-file",
            s(&tf),
            "--client-id",
            "hub-two",
        ],
        token,
    );
    assert_eq!(http_get(public.port, "/api/sensors", &[]).0, 401);
    let bearer = format!("Bearer {token}");
    assert_eq!(
        http_get(public.port, "/api/sensors", &[("Authorization", &bearer)]).0,
        200
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// The chain heads the hub received check the sensor's log: a log whose
/// closing record was cut (which `verify --allow-incomplete` alone accepts,
/// as it would a crashed run) fails against them, naming the missing line.
#[test]
fn the_hubs_chain_heads_catch_a_log_cut_after_them() {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(&dir.path().join("broker"), &BrokerSetup::default());
    let hub = HubProcess::start(
        &bin(),
        &dir.path().join("hub"),
        &["--broker", &broker.url()],
    );
    let key = dir.path().join("sensor.key");
    let ok = Command::new(bin())
        .args(["keygen", "--out", s(&key)])
        .output()
        .unwrap();
    assert!(ok.status.success());
    let pubkey = dir.path().join("sensor.key.pub");
    let out = dir.path().join("out");
    let log = dir.path().join("monitor.log");
    finish(
        monitor(
            &out,
            &log,
            &["--publish", &broker.url(), "--fast", "--key", s(&key)],
        ),
        &log,
    );
    assert_hub_holds_the_log(&hub, &out);
    let heads = dir.path().join("heads.jsonl");
    let export = Command::new(bin())
        .args([
            "hub",
            "--db",
            s(&hub.db),
            "--export",
            "heads",
            "--site",
            SITE,
            "-o",
            s(&heads),
        ])
        .output()
        .unwrap();
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let exported = std::fs::read_to_string(&heads).unwrap();
    assert!(
        exported.lines().count() >= 3,
        "genesis, heads after each cleared, close:\n{exported}"
    );
    let verify = |dir: &Path, extra: &[&str]| {
        let o = Command::new(bin())
            .args(["verify", s(dir), "--pubkey", s(&pubkey)])
            .args(extra)
            .output()
            .unwrap();
        (
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        )
    };
    let (good, text) = verify(&out, &["--heads", s(&heads)]);
    assert!(good, "{text}");
    assert!(text.contains("received by the hub match"), "{text}");
    // Cut the log's closing record: it now reads like a run that crashed.
    let lines = log_lines(&out);
    assert!(lines.last().unwrap().contains("custody.close"));
    let cut = dir.path().join("cut");
    copy_dir(&out, &cut);
    let kept: String = lines[..lines.len() - 1]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(cut.join("alerts.jsonl"), kept).unwrap();
    let (alone, text) = verify(&cut, &["--allow-incomplete"]);
    assert!(
        alone,
        "without the heads, the cut log reads as a crashed run:\n{text}"
    );
    let (with_heads, text) = verify(&cut, &["--allow-incomplete", "--heads", s(&heads)]);
    assert!(!with_heads, "{text}");
    assert!(
        text.contains("FAILED")
            && text.contains("missing")
            && text.contains("that the hub received"),
        "{text}"
    );
}
