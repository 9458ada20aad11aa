//! What the operator console costs monitoring: `rfsentry monitor --device …
//! --listen` watching the test-only `rfsentry_replay` SoapySDR device at
//! 20 MS/s (a noise-and-carrier file looped, paced at real time, FFT 1024),
//! once with no client and once with 8 clients following the live stream
//! (`GET /api/events` with its spectrum rows, as the page does). Measured:
//! the monitor process's CPU time (user + system, `/proc/PID/stat`) over the
//! same window after a warm-up, the samples it lost (`/api/status`), and the
//! rows and bytes each client received. The runs alternate (none, clients,
//! none, clients…) so that a change of machine load hits both alike.
//!
//! ```sh
//! cargo bench --features soapy --bench console_load
//! cargo bench --features soapy --bench console_load -- --rate 20 --clients 8 --seconds 10 --rounds 3
//! ```
//!
//! Without `--bench` (as `cargo test --benches` runs it) it does one short
//! round at 1 MS/s with one client, to show that it works.

#[path = "../tests/util/soapy_replay.rs"]
mod soapy_replay;

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Samples in the replayed file (8 MiB of cf32), looped by the device.
const FILE_SAMPLES: usize = 1 << 20;
/// Run time before the CPU window opens (start-up, the clients connecting).
const WARM_UP: Duration = Duration::from_secs(3);

struct Options {
    rate: f64,
    clients: usize,
    seconds: f64,
    rounds: usize,
}

/// One monitor run's numbers.
struct Run {
    /// CPU seconds per wall second (1.0 = one core).
    cpu: f64,
    lost_samples: u64,
    samples_per_s: f64,
    /// Per client: spectrum rows per second and bytes per second received.
    clients: Vec<(f64, f64)>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bench = args.iter().any(|a| a == "--bench");
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .map(|v| {
                v.parse::<f64>()
                    .unwrap_or_else(|_| panic!("{flag}: a number"))
            })
    };
    let opts = if bench {
        Options {
            rate: value("--rate").unwrap_or(20.0) * 1e6,
            clients: value("--clients").unwrap_or(8.0) as usize,
            seconds: value("--seconds").unwrap_or(10.0),
            rounds: value("--rounds").unwrap_or(3.0) as usize,
        }
    } else {
        Options {
            rate: 1e6,
            clients: 1,
            seconds: 1.0,
            rounds: 1,
        }
    };
    soapy_replay::setup();
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("noise.cf32");
    soapy_replay::write_cf32(&file, &soapy_replay::noise_and_carrier(FILE_SAMPLES));
    let profiles = dir.path().join("profiles");
    learn(&file, &profiles, opts.rate);
    println!(
        "console_load: monitor at {:.0} MS/s, {} s windows, {} cores, load average {}",
        opts.rate / 1e6,
        opts.seconds,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    let (mut without, mut with) = (Vec::new(), Vec::new());
    for round in 0..opts.rounds {
        for clients in [0, opts.clients] {
            let tag = format!("r{round}-c{clients}");
            let run = monitor(&file, &profiles, dir.path(), &tag, clients, &opts);
            let per_client = run
                .clients
                .iter()
                .map(|c| format!("{:.1} rows/s {:.0} kB/s", c.0, c.1 / 1e3))
                .next()
                .unwrap_or_else(|| "-".into());
            println!(
                "round {round}: {clients} client(s): CPU {:5.1} % of a core, {:.2} MS/s processed, {} samples lost; a client got {per_client}",
                run.cpu * 100.0,
                run.samples_per_s / 1e6,
                run.lost_samples
            );
            if clients == 0 {
                without.push(run.cpu);
            } else {
                with.push(run.cpu);
            }
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (a, b) = (mean(&without), mean(&with));
    println!(
        "mean CPU: {:.1} % without clients, {:.1} % with {}: {:+.1} % more",
        a * 100.0,
        b * 100.0,
        opts.clients,
        (b / a - 1.0) * 100.0
    );
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_rfsentry")
}

fn device(file: &Path, tag: &str) -> String {
    soapy_replay::device_args(
        &format!("console_load-{tag}"),
        file,
        &["pace=realtime", "loop=1"],
    )
}

/// The site's profile, learned live from 2 s of the device at `rate`.
fn learn(file: &Path, profiles: &Path, rate: f64) {
    let out = Command::new(bin())
        .args(["learn", "--site", "bench", "--profile-dir"])
        .arg(profiles)
        .args(["--device", &device(file, "learn"), "--rate"])
        .arg(rate.to_string())
        .args(["--freq", "100M", "--duration", "2s"])
        .output()
        .expect("run rfsentry learn");
    assert!(
        out.status.success(),
        "learn failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// One monitor run with `clients` following the stream.
fn monitor(
    file: &Path,
    profiles: &Path,
    dir: &Path,
    tag: &str,
    clients: usize,
    o: &Options,
) -> Run {
    let port = free_port();
    let total = WARM_UP.as_secs_f64() + o.seconds + 2.0;
    let mut child: Child = Command::new(bin())
        .args(["monitor", "--site", "bench", "--profile-dir"])
        .arg(profiles)
        .arg("--out")
        .arg(dir.join(format!("out-{tag}")))
        .args(["--device", &device(file, tag), "--duration"])
        .arg(format!("{total}s"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--no-bell"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start rfsentry monitor");
    let started = Instant::now();
    while get(port, "/api/status").is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the console never answered"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let counters: Vec<Arc<(AtomicU64, AtomicU64)>> = (0..clients)
        .map(|_| Arc::new((AtomicU64::new(0), AtomicU64::new(0))))
        .collect();
    let threads: Vec<_> = counters
        .iter()
        .map(|c| {
            let (c, stop) = (c.clone(), stop.clone());
            std::thread::spawn(move || follow(port, &c, &stop))
        })
        .collect();
    std::thread::sleep(WARM_UP.saturating_sub(started.elapsed()));
    let (cpu0, t0) = (cpu_seconds(child.id()), Instant::now());
    let counts0: Vec<(u64, u64)> = counters
        .iter()
        .map(|c| (c.0.load(Ordering::Relaxed), c.1.load(Ordering::Relaxed)))
        .collect();
    let status0 = get(port, "/api/status").unwrap_or(Value::Null);
    std::thread::sleep(Duration::from_secs_f64(o.seconds));
    let (cpu1, dt) = (cpu_seconds(child.id()), t0.elapsed().as_secs_f64());
    let status1 = get(port, "/api/status").unwrap_or(Value::Null);
    let per_client = counters
        .iter()
        .zip(&counts0)
        .map(|(c, (rows, bytes))| {
            (
                (c.0.load(Ordering::Relaxed) - rows) as f64 / dt,
                (c.1.load(Ordering::Relaxed) - bytes) as f64 / dt,
            )
        })
        .collect();
    stop.store(true, Ordering::Relaxed);
    let _ = child.kill();
    let _ = child.wait();
    for t in threads {
        let _ = t.join();
    }
    let num = |s: &Value, k: &str| {
        s["health"][k]
            .as_f64()
            .or_else(|| s[k].as_f64())
            .unwrap_or(0.0)
    };
    Run {
        cpu: (cpu1 - cpu0) / dt,
        lost_samples: (num(&status1, "lost_samples") - num(&status0, "lost_samples")) as u64,
        samples_per_s: (num(&status1, "samples") - num(&status0, "samples")) / dt,
        clients: per_client,
    }
}

/// Follow `/api/events` (spectrum rows included) until `stop`, counting
/// spectrum events and bytes.
fn follow(port: u16, counts: &(AtomicU64, AtomicU64), stop: &AtomicBool) {
    let Ok(mut c) = TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let _ = c.set_read_timeout(Some(Duration::from_millis(200)));
    let _ = write!(
        c,
        "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
    );
    let mut buf = vec![0u8; 64 * 1024];
    let marker = b"event: spectrum";
    let mut tail: Vec<u8> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        match c.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                counts.1.fetch_add(n as u64, Ordering::Relaxed);
                tail.extend_from_slice(&buf[..n]);
                let rows = tail.windows(marker.len()).filter(|w| w == marker).count();
                counts.0.fetch_add(rows as u64, Ordering::Relaxed);
                let keep = tail.len().min(marker.len() - 1);
                tail.drain(..tail.len() - keep);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

/// A JSON answer of the console, `None` until it answers.
fn get(port: u16, path: &str) -> Option<Value> {
    let mut c = TcpStream::connect(("127.0.0.1", port)).ok()?;
    c.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    c.read_to_string(&mut text).ok()?;
    let body = text.split_once("\r\n\r\n")?.1;
    serde_json::from_str(body).ok()
}

/// CPU seconds (user + system) the process `pid` has used.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<f64>().ok()))
        .sum();
    ticks / clock_ticks()
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf reads a constant of the system.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}
