//! The runs driven the way another program would drive them: through a
//! [`Host`] of the test's own that stops when told and keeps every
//! [`Notice`] it is given — no command line, no progress bars, no signals.
//! Recordings are written here with the core's own SigMF writer: a quiet
//! site to learn from, and the same noise with a carrier keyed on for two
//! seconds to analyse.

use super::analyze::{analyze, AnalyzeOptions};
use super::learn::{learn, LearnInput, LearnOptions};
use super::{Host, Notice};
use crate::alert::log::read_alert_log;
use crate::alert::{AlertKind, EventType};
use crate::dsp::PsdConfig;
use crate::iq::{Datatype, OpenOptions, Sample, SigmfWriter};
use crate::Error;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const RATE: f64 = 1e6;
const CENTER_HZ: f64 = 433.92e6;
/// The carrier's offset from the centre, Hz.
const CARRIER_HZ: f64 = 200e3;

/// A host that records what it is told and stops on request.
#[derive(Default)]
struct TestHost {
    stop: Arc<AtomicBool>,
    notices: Mutex<Vec<String>>,
}

impl TestHost {
    fn stopped() -> Self {
        let host = TestHost::default();
        host.stop.store(true, Ordering::SeqCst);
        host
    }

    fn notices(&self) -> Vec<String> {
        self.notices.lock().unwrap().clone()
    }
}

impl Host for TestHost {
    fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
    fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::new(AtomicBool::new(self.stop_requested()))
    }
    fn stop_after(&self, _duration: Duration) {
        unreachable!("recordings end by themselves")
    }
    fn notice(&self, notice: Notice<'_>) {
        let line = match notice {
            Notice::Archived { .. } => "archived".to_string(),
            Notice::TimeEstimated { .. } => "time estimated".to_string(),
            Notice::Analysed { recording, summary } => format!(
                "analysed {}: {} samples, {} alerts",
                Path::new(recording).file_name().unwrap().to_string_lossy(),
                summary.samples,
                summary.alerts.values().sum::<u64>()
            ),
            Notice::AlertLog { .. } => "alert log".to_string(),
            Notice::Report { .. } => "report".to_string(),
            other => format!("{other:?}"),
        };
        self.notices.lock().unwrap().push(line);
    }
}

/// Write `seconds` of complex noise (σ = 0.01 per component) at `path`,
/// with a carrier of amplitude 0.1 from 1 s to 3 s when `carrier`.
fn recording(path: &Path, seconds: usize, carrier: bool, seed: u64) -> PathBuf {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let noise = Normal::new(0.0f32, 0.01).unwrap();
    let mut w = SigmfWriter::create(path, Datatype::CF32_LE, RATE, CENTER_HZ).unwrap();
    w.set_datetime("2026-12-05T10:00:00Z".parse().unwrap());
    let block = RATE as usize / 10;
    for b in 0..seconds * 10 {
        let samples: Vec<Sample> = (0..block)
            .map(|i| {
                let n = (b * block + i) as f64;
                let t = n / RATE;
                let mut s = Sample::new(noise.sample(&mut rng), noise.sample(&mut rng));
                if carrier && (1.0..3.0).contains(&t) {
                    let phase = 2.0 * std::f64::consts::PI * CARRIER_HZ * t;
                    s += Sample::new(0.1 * phase.cos() as f32, 0.1 * phase.sin() as f32);
                }
                s
            })
            .collect();
        w.write(&samples).unwrap();
    }
    w.finish().unwrap()
}

/// Learning `input` into `profile_path` as the site `test-site`, with every
/// other option at `learn`'s defaults.
fn learn_options(profile_path: PathBuf, input: LearnInput) -> LearnOptions {
    LearnOptions {
        site: "test-site".into(),
        profile_path,
        psd: PsdConfig::default(),
        input,
        replace: false,
        description: None,
        location: None,
        add_tuning: false,
        dwell_s: 1.0,
        key: None,
    }
}

fn learn_site(dir: &Path, host: &dyn Host) -> PathBuf {
    let quiet = recording(&dir.join("quiet"), 4, false, 1);
    let opts = learn_options(
        dir.join("profiles/test-site.toml"),
        LearnInput::Recordings {
            paths: vec![quiet],
            open: OpenOptions::default(),
            skip_s: 0.0,
            duration: None,
        },
    );
    let learned = learn(&opts, host).unwrap();
    assert_eq!(learned.profile.site.name, "test-site");
    assert!(learned.path.exists());
    learned.path
}

fn analyze_options(dir: &Path, profile: PathBuf, recording: PathBuf) -> AnalyzeOptions {
    AnalyzeOptions {
        recordings: vec![recording],
        open: OpenOptions::default(),
        profile_path: profile,
        out_dir: dir.join("out"),
        evidence: false,
        key: None,
    }
}

#[test]
fn a_host_of_its_own_learns_a_site_and_analyses_a_carrier_into_one_alert() {
    let dir = tempfile::tempdir().unwrap();
    let host = TestHost::default();
    let profile = learn_site(dir.path(), &host);
    let keyed = recording(&dir.path().join("keyed"), 4, true, 2);
    let opts = analyze_options(dir.path(), profile, keyed);
    analyze(&opts, &host).unwrap();

    let events = read_alert_log(&opts.out_dir.join(crate::layout::LOG_FILE)).unwrap();
    let raised: Vec<_> = events
        .iter()
        .filter(|e| e.event == EventType::Raised)
        .collect();
    assert_eq!(raised.len(), 1, "one carrier, one alert: {raised:#?}");
    let alert = raised[0];
    assert_eq!(alert.kind, AlertKind::JammingTone);
    assert!(
        (alert.center_hz - (CENTER_HZ + CARRIER_HZ)).abs() < 2e3,
        "centre {} Hz",
        alert.center_hz
    );
    // Its evidence starts with the 50 ms frame the carrier came on in, and
    // it is cleared once the carrier is gone.
    let start_s = alert.start_sample as f64 / RATE;
    assert!((0.95..1.05).contains(&start_s), "starts at {start_s} s");
    assert!(events
        .iter()
        .any(|e| e.id == alert.id && e.event == EventType::Cleared));
    // The host was told of the recording and the log, in that order.
    assert_eq!(
        host.notices(),
        vec![
            "analysed keyed.sigmf-meta: 4000000 samples, 1 alerts".to_string(),
            "alert log".to_string()
        ]
    );

    // A second run into the same directory moves the first one aside and
    // says so; the first log is kept whole.
    analyze(&opts, &host).unwrap();
    assert_eq!(host.notices()[2], "archived");
}

#[test]
fn a_stop_requested_before_the_run_interrupts_it_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let profile = learn_site(dir.path(), &TestHost::default());
    let keyed = recording(&dir.path().join("keyed"), 1, true, 2);
    let host = TestHost::stopped();
    let err = analyze(&analyze_options(dir.path(), profile, keyed), &host).unwrap_err();
    match &err {
        Error::Interrupted { at, .. } => assert!(at.contains("before"), "{err}"),
        other => panic!("expected an interruption, got {other}"),
    }
    assert!(host.notices().iter().all(|n| !n.starts_with("analysed")));
}

#[test]
fn without_a_receiver_the_default_host_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let opts = learn_options(
        dir.path().join("test-site.toml"),
        LearnInput::Device {
            sample_rate: Some(RATE),
            duration: Some(Duration::from_secs(1)),
            tune: Vec::new(),
            freq: Some(CENTER_HZ),
            gain_db: None,
        },
    );
    let err = learn(&opts, &TestHost::default()).unwrap_err();
    assert!(matches!(err, Error::NoSoapy { .. }), "{err}");
    assert!(err.to_string().contains("--device"), "{err}");
    assert!(
        !opts.profile_path.exists(),
        "nothing learned, nothing written"
    );
}
