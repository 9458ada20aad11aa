//! Load through a real broker: N simulated sensors (the real publisher, one
//! per site, tailing its own alert log) send heartbeats and bursts of alert
//! events through Mosquitto into one `rfsentry hub` process. Reports the
//! events per second the hub stores, end-to-end latency (written to the
//! sensor's log → stored at the hub) p50/p99, and the hub's RSS.
//!
//! `cargo bench --bench fleet_load -- [--sensors 200] [--rounds 5] [--burst 10] [--backlog 100]`
//! (needs Debian's `mosquitto`). Phase 1: every second each sensor logs a
//! burst of `--burst` events, `--rounds` times (latency under a steady
//! load). Phase 2: each sensor logs `--backlog` events at once (what the hub
//! stores per second when every venue comes back from an outage).

#[path = "../tests/util/mosquitto.rs"]
mod mosquitto;

use mosquitto::{Broker, BrokerSetup, HubProcess};
use rfsentry_fleet::broker::BrokerSettings;
use rfsentry_fleet::publisher::{PublishConfig, Publisher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} takes a number"))
        })
        .unwrap_or(default)
}

fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// Append `n` events of alert `alert` to the sensor's log, stamped now.
fn log_events(out: &Path, site: &str, alert: u64, n: u64) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(out.join("alerts.jsonl"))
        .unwrap();
    let mut buf = String::new();
    for k in 0..n {
        let event = match k {
            0 => "raised",
            k if k + 1 == n => "cleared",
            _ => "updated",
        };
        buf.push_str(&format!(
            r#"{{"id":"{site}-{alert:06}","event":"{event}","kind":"jamming.barrage","site":"{site}","recording":"bench","start":"2026-01-01T00:00:00Z","end":"2026-01-01T00:00:01Z","start_sample":0,"end_sample":1,"freq_low_hz":433.0e6,"freq_high_hz":434.0e6,"center_hz":433.5e6,"peak_dbfs":-30.0,"excess_db":12.0,"snr_db":15.0,"confidence":0.9,"evidence":{{}},"details":{{"sent_us":{}}}}}"#,
            now_us()
        ));
        buf.push('\n');
    }
    f.write_all(buf.as_bytes()).unwrap();
}

fn stored(hub: &HubProcess) -> u64 {
    hub.stats()["events_stored"].as_u64().unwrap()
}

fn wait_stored(hub: &HubProcess, n: u64, timeout: Duration) -> Duration {
    let t = Instant::now();
    while stored(hub) < n {
        assert!(
            t.elapsed() < timeout,
            "the hub stored {} of {n} events in {timeout:?}",
            stored(hub)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    t.elapsed()
}

/// Latencies (ms) of events with seq in `from..=to` for every site.
fn latencies(db: &Path, from_us: i64) -> Vec<f64> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let mut st = c
        .prepare("SELECT received_us, json_extract(line, '$.details.sent_us') FROM events WHERE json_extract(line, '$.details.sent_us') >= ?1")
        .unwrap();
    let rows = st
        .query_map([from_us], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
        })
        .unwrap();
    let mut v: Vec<f64> = rows
        .map(|r| r.unwrap())
        .map(|(got, sent)| (got - sent) as f64 / 1000.0)
        .collect();
    v.sort_by(|a, b| a.total_cmp(b));
    v
}

fn pct(v: &[f64], p: f64) -> f64 {
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // cargo bench -- --list
    }
    let sensors = arg("--sensors", 200);
    let rounds = arg("--rounds", 5);
    let burst = arg("--burst", 10);
    let backlog = arg("--backlog", 100);
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(&dir.path().join("broker"), &BrokerSetup::default());
    let hub = HubProcess::start(
        Path::new(env!("CARGO_BIN_EXE_rfsentry")),
        &dir.path().join("hub"),
        &["--broker", &broker.url()],
    );
    let settings = BrokerSettings::new(&broker.url(), None, None, None, None).unwrap();
    let outs: Vec<(String, PathBuf)> = (0..sensors)
        .map(|i| {
            let site = format!("bench-{i:04}");
            let out = dir.path().join(&site);
            std::fs::create_dir_all(&out).unwrap();
            (site, out)
        })
        .collect();
    let publishers: Vec<Publisher> = outs
        .iter()
        .map(|(site, out)| {
            Publisher::start(PublishConfig {
                broker: settings.clone(),
                site: site.clone(),
                out_dir: out.clone(),
                heartbeat: Duration::from_secs(1),
                drain: Duration::from_secs(5),
                coverage: vec![[433.0e6, 434.0e6]],
            })
            .unwrap()
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2)); // every sensor connected, heartbeats flowing
    eprintln!("{sensors} sensors connected; phase 1: {rounds} rounds of {burst}-event bursts per sensor, 1 s apart");
    let start_us = now_us();
    let mut alert = 0;
    let t1 = Instant::now();
    for _ in 0..rounds {
        let round = Instant::now();
        alert += 1;
        for (site, out) in &outs {
            log_events(out, site, alert, burst);
        }
        std::thread::sleep(Duration::from_secs(1).saturating_sub(round.elapsed()));
    }
    let steady_total = sensors * rounds * burst;
    wait_stored(&hub, steady_total, Duration::from_secs(120));
    let steady_s = t1.elapsed().as_secs_f64();
    let lat = latencies(&hub.db, start_us);
    assert_eq!(lat.len() as u64, steady_total);
    eprintln!("phase 2: {backlog} events per sensor at once");
    alert += 1;
    let t2 = Instant::now();
    for (site, out) in &outs {
        log_events(out, site, alert, backlog);
    }
    let backlog_total = sensors * backlog;
    let took = wait_stored(&hub, steady_total + backlog_total, Duration::from_secs(600));
    let _ = t2;
    let st = hub.stats();
    println!("fleet_load: {sensors} sensors, heartbeat 1 s, one Mosquitto 2.0, one hub (SQLite synchronous=FULL)");
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| steady: events stored | {steady_total} in {steady_s:.1} s ({:.0} events/s offered) |",
        steady_total as f64 / steady_s
    );
    println!(
        "| steady: latency log line → stored, p50 / p99 / max | {:.1} / {:.1} / {:.1} ms |",
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        lat[lat.len() - 1]
    );
    println!("| backlog: {backlog_total} events from {sensors} sensors at once | stored in {:.2} s = {:.0} events/s |", took.as_secs_f64(), backlog_total as f64 / took.as_secs_f64());
    println!(
        "| hub RSS now / peak | {:.1} / {:.1} MB |",
        rss_kib(hub.pid(), "VmRSS:") as f64 / 1024.0,
        rss_kib(hub.pid(), "VmHWM:") as f64 / 1024.0
    );
    println!(
        "| hub counters | stored {}, duplicates {}, statuses {}, rejected {} |",
        st["events_stored"], st["duplicates"], st["statuses"], st["rejected"]
    );
    for p in publishers {
        p.finish();
    }
}
