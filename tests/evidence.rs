//! Evidence components end to end, on synthetic inputs: alert and overview
//! spectrogram PNGs (decoded back and checked pixel by pixel), IQ evidence
//! snippets (SigMF metadata, checksum, annotation, tone found by an FFT),
//! evidence limits, and the HTML report.
//!
//! Set `RFSENTRY_EVIDENCE_OUT=/some/dir` to keep the pictures and the report
//! for a look.

use num_complex::Complex32;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rfsentry::alert::{AlertEvent, AlertKind, EventType, EvidencePaths};
use rfsentry::dsp::PsdFrame;
use rfsentry::evidence::{
    self, render_alert_png, render_overview_png, write_report, AlertPicture, Baseline,
    CaptureLimits, EvidenceLimits, IqEvidenceRecorder, IqStream, Overview, OverviewPicture, Report,
    ReportRecording, SpectrogramRecorder, SpectrumRow,
};
use rfsentry::iq::Datatype;
use rfsentry::source::IqBlock;
use sha2::{Digest, Sha512};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

// ---------------------------------------------------------------- helpers

const RATE: f64 = 2.4e6;
const CENTER: f64 = 462.5e6;
const BINS: usize = 1024;
const FRAME: u64 = 120_000; // 50 ms
const ROGUE_LO: f64 = 462.55e6;
const ROGUE_HI: f64 = 462.575e6;
const KNOWN_HZ: f64 = 462.8e6;

/// A directory for the test's outputs: kept under `RFSENTRY_EVIDENCE_OUT` when set.
fn out_dir(name: &str) -> (Option<tempfile::TempDir>, PathBuf) {
    match std::env::var_os("RFSENTRY_EVIDENCE_OUT") {
        Some(base) => {
            let dir = PathBuf::from(base).join(name);
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            (None, dir)
        }
        None => {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path().to_path_buf();
            (Some(tmp), dir)
        }
    }
}

fn bin_of(hz: f64) -> usize {
    ((hz - CENTER) * BINS as f64 / RATE + (BINS / 2) as f64).round() as usize
}

/// Frame `i`: a -100 dBFS noise floor, a known emitter (always on) and,
/// during `rogue` frames, a -60 dBFS rogue emitter over `ROGUE_LO..ROGUE_HI`.
fn frame(i: u64, rng: &mut ChaCha8Rng, rogue: std::ops::Range<u64>) -> PsdFrame {
    let mut mean: Vec<f32> = (0..BINS)
        .map(|_| -100.0 + rng.gen_range(-2.0..2.0))
        .collect();
    for v in &mut mean[bin_of(KNOWN_HZ) - 2..=bin_of(KNOWN_HZ) + 2] {
        *v = -72.0 + rng.gen_range(-1.0..1.0);
    }
    if rogue.contains(&i) {
        for v in &mut mean[bin_of(ROGUE_LO)..=bin_of(ROGUE_HI)] {
            *v = -60.0 + rng.gen_range(-1.0..1.0);
        }
    }
    PsdFrame {
        segment: 0,
        start_sample: i * FRAME,
        sample_count: FRAME,
        center_hz: CENTER,
        sample_rate: RATE,
        max_dbfs: mean.clone(),
        mean_dbfs: mean,
        fft_power_dbfs: vec![-70.0],
        clipped: 0,
        probe: Vec::new(),
    }
}

fn alert(
    id: &str,
    event: EventType,
    kind: AlertKind,
    span: (u64, u64),
    band: (f64, f64),
) -> AlertEvent {
    let t = |s: u64| {
        let base = chrono::DateTime::parse_from_rfc3339("2024-05-01T12:00:00Z").unwrap();
        (base + chrono::Duration::microseconds((s as f64 / RATE * 1e6) as i64))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    AlertEvent {
        id: id.into(),
        event,
        kind,
        site: "venue-a".into(),
        recording: "recordings/venue-a.sigmf-meta".into(),
        start: t(span.0),
        end: t(span.1),
        start_sample: span.0,
        end_sample: span.1,
        freq_low_hz: band.0,
        freq_high_hz: band.1,
        center_hz: 0.5 * (band.0 + band.1),
        peak_dbfs: -59.2,
        peak_dbm: None,
        excess_db: 35.6,
        snr_db: 40.1,
        confidence: 0.93,
        evidence: EvidencePaths::default(),
        details: Default::default(),
    }
}

/// Decoded RGB pixels of a PNG.
struct Picture {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl Picture {
    fn load(path: &Path) -> Picture {
        let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        buf.truncate(info.buffer_size());
        Picture {
            width: info.width,
            height: info.height,
            rgb: buf,
        }
    }

    fn at(&self, x: i32, y: i32) -> [u8; 3] {
        let i = (y as usize * self.width as usize + x as usize) * 3;
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }

    fn distinct_colours(&self) -> usize {
        self.rgb
            .chunks(3)
            .map(|c| (c[0], c[1], c[2]))
            .collect::<HashSet<_>>()
            .len()
    }
}

/// Bright (upper half of viridis: green to yellow), not the magenta outline.
fn bright(c: [u8; 3]) -> bool {
    c[1] > 150 && c[0] as u16 + c[1] as u16 > 250 && c[2] < 150
}

/// Feed 10 s of frames with a rogue emitter from 5 s to 8 s, raised at 5.5 s
/// and cleared at 9 s, and return the alert's rows.
fn rogue_alert_rows() -> evidence::AlertRows {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut rec = SpectrogramRecorder::new(CaptureLimits::default());
    let span = (100 * FRAME, 160 * FRAME);
    let band = (ROGUE_LO, ROGUE_HI);
    let mut done = None;
    for i in 0..200 {
        rec.push_frame(&frame(i, &mut rng, 100..160));
        let event = match i {
            110 => Some(alert(
                "venue-a-0001",
                EventType::Raised,
                AlertKind::EmitterUnknown,
                (span.0, 110 * FRAME),
                band,
            )),
            130 => Some(alert(
                "venue-a-0001",
                EventType::Updated,
                AlertKind::EmitterUnknown,
                (span.0, 130 * FRAME),
                band,
            )),
            180 => Some(alert(
                "venue-a-0001",
                EventType::Cleared,
                AlertKind::EmitterUnknown,
                span,
                band,
            )),
            _ => None,
        };
        if let Some(e) = event {
            if let Some(rows) = rec.on_alert(&e) {
                done = Some(rows);
            }
        }
    }
    assert_eq!(rec.open_alerts(), 0);
    done.expect("cleared alert hands back its rows")
}

fn baseline() -> (Vec<f32>, Vec<f32>) {
    let mut floor = vec![-100.0f32; BINS];
    let mut p99 = vec![-96.0f32; BINS];
    for b in bin_of(KNOWN_HZ) - 2..=bin_of(KNOWN_HZ) + 2 {
        floor[b] = -72.0;
        p99[b] = -70.0;
    }
    (floor, p99)
}

// ---------------------------------------------------------------- alert PNG

#[test]
fn alert_png_shows_the_band_where_its_frequency_maps() {
    let (_tmp, dir) = out_dir("alert_png");
    let rows = alert_rows_checked();
    let (floor, p99) = baseline();
    let picture = rows.picture(
        "venue-a",
        Some(Baseline {
            floor_dbfs: &floor,
            p99_dbfs: &p99,
        }),
    );
    let path = dir.join(evidence::spectrogram_rel_path(&rows.event.id));
    let layout = render_alert_png(&path, &picture).unwrap();
    assert!(!dir.join("spectrograms").read_dir().unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".part")));
    let png = Picture::load(&path);
    assert_eq!((png.width, png.height), (layout.width, layout.height));
    assert_eq!((png.width, png.height), (1000, 800));
    assert!(
        png.distinct_colours() > 100,
        "{} colours",
        png.distinct_colours()
    );

    let g = layout.waterfall;
    let before = g.y_of_sample(3.0 * RATE).round() as i32;
    let during = g.y_of_sample(6.5 * RATE).round() as i32;
    assert!(before > g.rect.top && during < g.rect.bottom());
    let cols = |y: i32| -> Vec<i32> {
        (g.rect.left + 3..g.rect.right() - 3)
            .filter(|&x| bright(png.at(x, y)))
            .collect()
    };
    let known_x = g.x_of_hz(KNOWN_HZ);
    let bright_before = cols(before);
    assert!(
        !bright_before.is_empty(),
        "the known emitter is visible before the alert"
    );
    assert!(
        bright_before
            .iter()
            .all(|&x| (x as f64 - known_x).abs() < 11.0),
        "{bright_before:?} vs {known_x}"
    );

    let (x_lo, x_hi) = (g.x_of_hz(ROGUE_LO), g.x_of_hz(ROGUE_HI));
    let new: Vec<i32> = cols(during)
        .into_iter()
        .filter(|x| !bright_before.contains(x))
        .collect();
    assert!(!new.is_empty());
    assert!(
        new.iter()
            .all(|&x| x as f64 >= x_lo - 3.0 && x as f64 <= x_hi + 3.0),
        "bright columns {new:?} outside {x_lo}..{x_hi}"
    );
    assert!(
        new.len() as f64 >= 0.7 * (x_hi - x_lo),
        "band only {} px of {}",
        new.len(),
        x_hi - x_lo
    );

    // The alert's box is outlined in magenta around the band.
    let magenta = |c: [u8; 3]| c[0] > 200 && c[1] < 90 && c[2] > 150;
    let row: Vec<i32> = (g.rect.left..g.rect.right())
        .filter(|&x| magenta(png.at(x, during)))
        .collect();
    assert!(
        row.iter().any(|&x| (x as f64 - x_lo).abs() < 6.0),
        "{row:?}"
    );
    assert!(
        row.iter().any(|&x| (x as f64 - x_hi).abs() < 6.0),
        "{row:?}"
    );

    // The PSD panel lies below the waterfall with the same frequency mapping.
    assert!(layout.psd.top > g.rect.bottom());
    assert_eq!(
        (layout.psd.left, layout.psd.width),
        (g.rect.left, g.rect.width)
    );
    // Deterministic output.
    let again = dir.join("again.png");
    render_alert_png(&again, &picture).unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(&again).unwrap()
    );
}

/// The alert's rows cover the pre-trigger history and the alert, and the
/// PSD is a frame from inside the alert.
fn alert_rows_checked() -> evidence::AlertRows {
    let rows = rogue_alert_rows();
    assert_eq!(rows.event.event, EventType::Cleared);
    let first = rows.rows.first().unwrap().start_sample;
    assert!(
        first <= 100 * FRAME - 2 * RATE as u64,
        "pre-trigger starts at {first}"
    );
    assert!(rows.rows.last().unwrap().end_sample() >= 160 * FRAME);
    assert!(rows.rows.len() <= 400);
    let rogue = bin_of(ROGUE_LO) + 2;
    assert!(
        rows.psd[rogue] > -62.0,
        "psd at the rogue bin {}",
        rows.psd[rogue]
    );
    rows
}

#[test]
fn odd_inputs_still_make_a_picture() {
    let (_tmp, dir) = out_dir("odd_pictures");
    let one_row = vec![SpectrumRow {
        start_sample: 0,
        sample_count: 1000,
        dbfs: vec![-90.0, f32::NAN, -40.0, f32::INFINITY],
    }];
    let nan_rows = vec![SpectrumRow {
        start_sample: 10,
        sample_count: 0,
        dbfs: vec![f32::NAN; 16],
    }];
    let zero_width = alert(
        "z",
        EventType::Cleared,
        AlertKind::JammingTone,
        (500, 500),
        (1e6, 1e6),
    );
    let reversed = alert(
        "r",
        EventType::Cleared,
        AlertKind::JammingBarrage,
        (900, 100),
        (2e6, -5e9),
    );
    let nan_band = alert(
        "n",
        EventType::Cleared,
        AlertKind::MonitoringGap,
        (0, 10),
        (f64::NAN, f64::NAN),
    );
    // (name, rows, alert, sample rate, psd)
    type Case<'a> = (&'a str, &'a [SpectrumRow], &'a AlertEvent, f64, &'a [f32]);
    let cases: Vec<Case> = vec![
        ("one_row", &one_row, &zero_width, 1e3, &[-50.0, -60.0]),
        ("no_rows", &[], &zero_width, 1e3, &[]),
        ("nan_rows", &nan_rows, &reversed, 1e3, &[f32::NAN]),
        ("zero_rate", &one_row, &nan_band, 0.0, &[]),
        ("nan_band", &one_row, &nan_band, 1e3, &[]),
    ];
    for (name, rows, alert, rate, psd) in cases {
        let picture = AlertPicture {
            site: "",
            alert,
            rows,
            sample_rate: rate,
            center_hz: 1e6,
            baseline: Some(Baseline {
                floor_dbfs: &[-100.0; 3],
                p99_dbfs: &[],
            }),
            psd,
            view_hz: None,
        };
        let path = dir.join(format!("{name}.png"));
        render_alert_png(&path, &picture).unwrap_or_else(|e| panic!("{name}: {e}"));
        let png = Picture::load(&path);
        assert_eq!((png.width, png.height), (1000, 800), "{name}");
        assert!(png.distinct_colours() > 10, "{name}");
    }
    // The overview copes with nothing at all, too.
    let ov = Overview::default();
    let path = dir.join("empty_overview.png");
    let picture = OverviewPicture {
        site: "s",
        recording: "r",
        overview: &ov,
        alerts: &[nan_band.clone(), zero_width.clone()],
        start_time: None,
    };
    render_overview_png(&path, &picture).unwrap();
    assert_eq!(Picture::load(&path).width, 1000);
}

// ---------------------------------------------------------------- overview

#[test]
fn overview_memory_is_bounded_for_100k_frames() {
    let mut ov = Overview::default();
    let mut f = PsdFrame {
        segment: 0,
        start_sample: 0,
        sample_count: 4096,
        center_hz: 100e6,
        sample_rate: 1e6,
        mean_dbfs: vec![-90.0; 4096],
        max_dbfs: Vec::new(),
        fft_power_dbfs: Vec::new(),
        clipped: 0,
        probe: Vec::new(),
    };
    let mut peak_bytes = 0;
    for i in 0..100_000u64 {
        f.start_sample = i * 4096;
        f.mean_dbfs[(i % 4096) as usize] = -30.0;
        ov.push_frame(&f);
        f.mean_dbfs[(i % 4096) as usize] = -90.0;
        peak_bytes = peak_bytes.max(ov.heap_bytes());
    }
    assert_eq!(ov.frames(), 100_000);
    assert!(ov.stored_rows() <= Overview::DEFAULT_ROWS);
    // 512 rows of 1024 columns of f32, plus bookkeeping.
    let bound = Overview::DEFAULT_ROWS * Overview::DEFAULT_COLUMNS * 4 + 256 * 1024;
    assert!(peak_bytes <= bound, "{peak_bytes} > {bound}");
    assert_eq!(ov.span_samples(), Some((0, 100_000 * 4096)));
}

#[test]
fn overview_marks_every_alert_over_its_span() {
    let (_tmp, dir) = out_dir("overview");
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let mut ov = Overview::default();
    for i in 0..1200 {
        // 60 s; rogue from 20 s to 23 s.
        ov.push_frame(&frame(i, &mut rng, 400..460));
    }
    let rogue_span = (400 * FRAME, 460 * FRAME);
    let alerts = vec![
        alert(
            "venue-a-0001",
            EventType::Raised,
            AlertKind::EmitterUnknown,
            (rogue_span.0, rogue_span.0 + FRAME),
            (ROGUE_LO, ROGUE_HI),
        ),
        alert(
            "venue-a-0001",
            EventType::Cleared,
            AlertKind::EmitterUnknown,
            rogue_span,
            (ROGUE_LO, ROGUE_HI),
        ),
        alert(
            "venue-a-0002",
            EventType::Cleared,
            AlertKind::JammingTone,
            (900 * FRAME, 905 * FRAME),
            (461.9e6, 461.9e6),
        ),
        alert(
            "venue-a-0003",
            EventType::Cleared,
            AlertKind::MonitoringGap,
            (1000 * FRAME, 1010 * FRAME),
            (0.0, 0.0),
        ),
    ];
    let path = dir.join("overview.png");
    let picture = OverviewPicture {
        site: "venue-a",
        recording: "recordings/venue-a.sigmf-meta",
        overview: &ov,
        alerts: &alerts,
        start_time: Some("2024-05-01T12:00:00Z".parse().unwrap()),
    };
    let layout = render_overview_png(&path, &picture).unwrap();
    assert_eq!(
        layout.alerts_drawn,
        vec!["venue-a-0001", "venue-a-0002", "venue-a-0003"]
    );
    assert_eq!(layout.labels_drawn, 3);
    let png = Picture::load(&path);
    assert_eq!((png.width, png.height), (1000, 720));
    assert!(png.distinct_colours() > 100);
    let g = layout.waterfall;
    let magenta = |c: [u8; 3]| c[0] > 200 && c[1] < 90 && c[2] > 150;
    // The rogue's box: magenta at its band edges in the middle of its time span.
    let y = g
        .y_of_sample((rogue_span.0 + rogue_span.1) as f64 / 2.0)
        .round() as i32;
    let xs: Vec<i32> = (g.rect.left..g.rect.right())
        .filter(|&x| magenta(png.at(x, y)))
        .collect();
    let (x_lo, x_hi) = (g.x_of_hz(ROGUE_LO), g.x_of_hz(ROGUE_HI));
    assert!(
        xs.iter().any(|&x| (x as f64 - x_lo).abs() < 6.0),
        "{xs:?} vs {x_lo}"
    );
    assert!(
        xs.iter().any(|&x| (x as f64 - x_hi).abs() < 6.0),
        "{xs:?} vs {x_hi}"
    );
    // The rogue itself is bright inside the box, and not before it.
    let inside = g.x_of_hz(0.5 * (ROGUE_LO + ROGUE_HI)).round() as i32;
    assert!(bright(png.at(inside, y)));
    let y_before = g.y_of_sample(10.0 * RATE).round() as i32;
    assert!(!bright(png.at(inside, y_before)));
    // The gap spans the whole width.
    let y_gap = g.y_of_sample(1005.0 * FRAME as f64).round() as i32;
    assert!(magenta(png.at(g.rect.left + 1, y_gap)) || magenta(png.at(g.rect.left, y_gap)));
}

// ---------------------------------------------------------------- IQ evidence

const IQ_RATE: f64 = 100_000.0;
const IQ_CENTER: f64 = 433.92e6;
const TONE_OFFSET: f64 = 12_500.0;
const BLOCK: usize = 10_000;

/// Block `k` (0.1 s): low noise, plus a tone at +12.5 kHz during `tone` samples.
fn iq_block(k: u64, rng: &mut ChaCha8Rng, tone: std::ops::Range<u64>) -> IqBlock {
    let start = k * BLOCK as u64;
    let samples = (0..BLOCK as u64)
        .map(|i| {
            let n = start + i;
            let noise = Complex32::new(rng.gen_range(-1e-3..1e-3), rng.gen_range(-1e-3..1e-3));
            if tone.contains(&n) {
                let phase = 2.0 * std::f64::consts::PI * TONE_OFFSET * n as f64 / IQ_RATE;
                noise + Complex32::from_polar(0.5, phase as f32)
            } else {
                noise
            }
        })
        .collect();
    IqBlock {
        start_sample: start,
        samples,
        segment: 0,
        center_hz: IQ_CENTER,
        nonfinite: 0,
    }
}

fn iq_stream() -> IqStream {
    IqStream {
        site: "venue-a".into(),
        recording: "recordings/test.sigmf-meta".into(),
        sample_rate: IQ_RATE,
        start_time: Some("2024-05-01T12:00:00Z".parse().unwrap()),
        datatype: Datatype::CF32_LE,
    }
}

fn iq_alert(id: &str, event: EventType, span: (u64, u64)) -> AlertEvent {
    let band = (IQ_CENTER + TONE_OFFSET - 2e3, IQ_CENTER + TONE_OFFSET + 2e3);
    let mut a = alert(id, event, AlertKind::JammingTone, span, band);
    a.recording = "recordings/test.sigmf-meta".into();
    a
}

fn read_cf32(path: &Path) -> Vec<Complex32> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(8)
        .map(|c| {
            Complex32::new(
                f32::from_le_bytes(c[0..4].try_into().unwrap()),
                f32::from_le_bytes(c[4..8].try_into().unwrap()),
            )
        })
        .collect()
}

fn no_part_files(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name();
        assert!(
            !name.to_string_lossy().ends_with(".part"),
            "{name:?} left behind"
        );
    }
}

#[test]
fn iq_snippet_holds_the_alert_with_its_annotation() {
    let (_tmp, dir) = out_dir("iq");
    let limits = EvidenceLimits {
        pre_trigger_s: 0.5,
        post_trigger_s: 0.5,
        ring_s: 2.0,
        ..Default::default()
    };
    let mut rec = IqEvidenceRecorder::new(&dir, iq_stream(), limits);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (t0, t1) = (150_000u64, 300_000u64); // tone from 1.5 s to 3.0 s
    let mut recycled = 0usize;
    let mut path = None;
    for k in 0..50 {
        rec.push_block(iq_block(k, &mut rng, t0..t1), |buf| {
            assert_eq!(buf.len(), BLOCK);
            recycled += 1;
        });
        // Raised 0.5 s after the start; cleared 0.5 s after the end (hold-off).
        match k {
            19 => path = rec.on_alert(&iq_alert("a-1", EventType::Raised, (t0, 200_000))),
            24 => assert_eq!(
                rec.on_alert(&iq_alert("a-1", EventType::Updated, (t0, 250_000))),
                path
            ),
            34 => assert_eq!(
                rec.on_alert(&iq_alert("a-1", EventType::Cleared, (t0, t1))),
                path
            ),
            _ => {}
        }
    }
    assert_eq!(path.as_deref(), Some("iq/a-1.sigmf-meta"));
    assert_eq!(
        rec.open_snippets(),
        0,
        "finished after the post-trigger time"
    );
    let stats = rec.finish_all(|_| recycled += 1);
    assert_eq!(recycled, 50, "every buffer comes back");
    assert_eq!(stats.snippets_written, 1);
    assert_eq!(stats.alerts_without_evidence, 0);
    no_part_files(&dir.join("iq"));

    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("iq/a-1.sigmf-meta")).unwrap())
            .unwrap();
    let data = read_cf32(&dir.join("iq/a-1.sigmf-data"));
    let global = &meta["global"];
    assert_eq!(global["core:datatype"], "cf32_le");
    assert_eq!(global["core:sample_rate"], IQ_RATE);
    assert_eq!(global["rfsentry:site"], "venue-a");
    assert_eq!(
        global["core:recorder"],
        format!("rfsentry {}", rfsentry::VERSION)
    );
    assert!(global["core:description"].as_str().unwrap().contains("a-1"));
    assert_eq!(global["rfsentry:stream_sample_start"], 100_000);
    let sha: String = Sha512::digest(std::fs::read(dir.join("iq/a-1.sigmf-data")).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(global["core:sha512"], sha);
    let capture = &meta["captures"][0];
    assert_eq!(capture["core:frequency"], IQ_CENTER);
    assert_eq!(capture["core:datetime"], "2024-05-01T12:00:01.000000Z");

    // From 0.5 s before the start to 0.5 s after the end.
    assert_eq!(data.len(), 250_000);
    let ann = &meta["annotations"][0];
    assert_eq!(meta["annotations"].as_array().unwrap().len(), 1);
    assert_eq!(ann["core:sample_start"], 50_000);
    assert_eq!(ann["core:sample_count"], 150_000);
    assert_eq!(ann["rfsentry:kind"], "jamming.tone");
    assert_eq!(ann["core:label"], "jamming.tone");
    assert_eq!(ann["rfsentry:alert_id"], "a-1");
    assert_eq!(ann["rfsentry:stream_sample_start"], t0);
    let (lo, hi) = (
        ann["core:freq_lower_edge"].as_f64().unwrap(),
        ann["core:freq_upper_edge"].as_f64().unwrap(),
    );

    // The snippet's samples are the stream's: the tone sits inside the annotation.
    let power = |r: std::ops::Range<usize>| {
        data[r.clone()].iter().map(|s| s.norm_sqr()).sum::<f32>() / r.len() as f32
    };
    assert!(power(60_000..190_000) > 0.2);
    assert!(power(0..49_000) < 1e-4 && power(201_000..250_000) < 1e-4);
    // An FFT of the annotated part finds the tone between the annotated edges.
    let n = 4096;
    let mut buf: Vec<Complex32> = data[100_000..100_000 + n].to_vec();
    rustfft::FftPlanner::new()
        .plan_fft_forward(n)
        .process(&mut buf);
    let k = (0..n)
        .max_by(|&a, &b| buf[a].norm().total_cmp(&buf[b].norm()))
        .unwrap();
    let offset = if k < n / 2 {
        k as f64
    } else {
        k as f64 - n as f64
    } * IQ_RATE
        / n as f64;
    let tone_hz = IQ_CENTER + offset;
    assert!(
        tone_hz >= lo && tone_hz <= hi,
        "{tone_hz} outside {lo}..{hi}"
    );
    assert!((tone_hz - (IQ_CENTER + TONE_OFFSET)).abs() < IQ_RATE / n as f64);
}

/// Collects what `tracing` prints, for checking warnings.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn with_captured_logs<T>(f: impl FnOnce() -> T) -> (T, String) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let out = tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    (out, text)
}

#[test]
fn limits_drop_evidence_with_a_warning_and_keep_working() {
    // The long alert's snippet is cut at 50 000 samples by the time limit
    // (0.5 s) or, at a rate where bytes bind first, by the byte limit.
    let by_time = EvidenceLimits {
        max_snippet_s: 0.5,
        ..Default::default()
    };
    let by_bytes = EvidenceLimits {
        max_snippet_s: 30.0,
        max_snippet_bytes: 50_000 * 8,
        ..Default::default()
    };
    for (snippet_limit, says) in [
        (by_time, "0.5 s per snippet"),
        (by_bytes, "400000 bytes per snippet"),
    ] {
        let (_tmp, dir) = out_dir("iq_limits");
        let limits = EvidenceLimits {
            pre_trigger_s: 0.2,
            post_trigger_s: 0.2,
            ring_s: 1.0,
            max_snippets: 2,
            ..snippet_limit
        };
        let ((stats, paths), logs) = with_captured_logs(|| {
            let mut rec = IqEvidenceRecorder::new(&dir, iq_stream(), limits);
            let mut rng = ChaCha8Rng::seed_from_u64(4);
            let mut paths = Vec::new();
            for k in 0..60 {
                rec.push_block(iq_block(k, &mut rng, 0..0), drop);
                let s = k * BLOCK as u64;
                match k {
                    // A long alert: truncated at 0.5 s.
                    10 => paths.push(rec.on_alert(&iq_alert("long", EventType::Raised, (s, s)))),
                    // A short one, within limits, cleared before its post-trigger time passed.
                    20 => {
                        let span = (s - 5_000, s);
                        paths.push(rec.on_alert(&iq_alert("short", EventType::Raised, span)));
                        paths.push(rec.on_alert(&iq_alert("short", EventType::Cleared, span)));
                    }
                    // A third: over the snippet count.
                    30 => paths.push(rec.on_alert(&iq_alert("third", EventType::Raised, (s, s)))),
                    40 => paths.push(rec.on_alert(&iq_alert(
                        "long",
                        EventType::Cleared,
                        (100_000, s),
                    ))),
                    _ => {}
                }
            }
            (rec.finish_all(drop), paths)
        });
        assert_eq!(
            paths,
            vec![
                Some("iq/long.sigmf-meta".to_string()),
                Some("iq/short.sigmf-meta".to_string()),
                Some("iq/short.sigmf-meta".to_string()),
                None,
                Some("iq/long.sigmf-meta".to_string()),
            ]
        );
        assert_eq!(stats.snippets_written, 2);
        assert_eq!(stats.snippets_truncated, 1);
        assert_eq!(stats.alerts_without_evidence, 1);
        assert!(logs.contains("WARN"), "{logs}");
        assert!(
            logs.contains("alert third") && logs.contains("not recorded"),
            "{logs}"
        );
        assert!(logs.contains("alert long truncated"), "{logs}");
        no_part_files(&dir.join("iq"));

        let long: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("iq/long.sigmf-meta")).unwrap())
                .unwrap();
        assert_eq!(
            std::fs::metadata(dir.join("iq/long.sigmf-data"))
                .unwrap()
                .len(),
            50_000 * 8
        );
        let ann = &long["annotations"][0];
        assert!(ann["rfsentry:truncated"]
            .as_str()
            .unwrap()
            .contains("per snippet"));
        assert_eq!(ann["core:sample_start"], 20_000);
        // The short alert: 0.2 s before its start to 0.2 s after its end.
        let short_len = std::fs::metadata(dir.join("iq/short.sigmf-data"))
            .unwrap()
            .len()
            / 8;
        assert_eq!(short_len, 20_000 + 5_000 + 20_000);
        assert_eq!(
            ann["core:sample_count"], 30_000,
            "the truncated alert lasts to the snippet's end"
        );
        assert!(!dir.join("iq/third.sigmf-meta").exists());

        assert!(ann["rfsentry:truncated"].as_str().unwrap().contains(says));
    }
}

#[test]
fn run_byte_limit_and_gaps() {
    // The budget counts bytes as written: 8 per sample for cf32, 2 for a cu8
    // recording's snippets (kept in its own encoding).
    for (datatype, name) in [(Datatype::CF32_LE, "cf32_le"), (Datatype::CU8, "cu8")] {
        let bytes = datatype.sample_bytes() as u64;
        let (_tmp, dir) = out_dir("iq_bytes");
        let limits = EvidenceLimits {
            pre_trigger_s: 0.1,
            post_trigger_s: 0.1,
            ring_s: 0.5,
            max_total_bytes: 35_000 * bytes,
            ..Default::default()
        };
        let stream = IqStream {
            datatype,
            ..iq_stream()
        };
        let mut rec = IqEvidenceRecorder::new(&dir, stream, limits);
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for k in 0..30u64 {
            // Blocks 12 and 13 never arrive: a gap of 0.2 s.
            if k == 12 || k == 13 {
                continue;
            }
            rec.push_block(iq_block(k, &mut rng, 0..0), drop);
            let s = k * BLOCK as u64;
            if k == 10 {
                assert!(rec
                    .on_alert(&iq_alert("gap", EventType::Raised, (s, s)))
                    .is_some());
            }
            if k == 20 {
                assert!(rec
                    .on_alert(&iq_alert("after", EventType::Raised, (s, s)))
                    .is_none());
            }
        }
        let stats = rec.finish_all(drop);
        assert_eq!(stats.bytes_written, 35_000 * bytes, "{name}");
        assert_eq!(stats.snippets_truncated, 1);
        assert_eq!(stats.alerts_without_evidence, 1);
        let data = std::fs::metadata(dir.join("iq/gap.sigmf-data"))
            .unwrap()
            .len();
        assert_eq!(data, 35_000 * bytes, "{name}");
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("iq/gap.sigmf-meta")).unwrap())
                .unwrap();
        assert_eq!(meta["global"]["core:datatype"], name);
        let captures = meta["captures"].as_array().unwrap();
        assert_eq!(
            captures.len(),
            2,
            "the gap starts a new capture: {captures:?}"
        );
        assert_eq!(captures[1]["core:sample_start"], 30_000);
        assert_eq!(captures[1]["core:datetime"], "2024-05-01T12:00:01.400000Z");
        no_part_files(&dir.join("iq"));
    }
}

// ---------------------------------------------------------------- report

/// Tags of an HTML document balance (void elements aside); returns the
/// `src` attribute values.
fn check_well_formed(html: &str) -> Vec<String> {
    const VOID: [&str; 6] = ["meta", "img", "br", "hr", "link", "input"];
    let mut stack: Vec<String> = Vec::new();
    let mut srcs = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        let close = rest[open..].find('>').expect("unclosed tag") + open;
        let tag = &rest[open + 1..close];
        rest = &rest[close + 1..];
        if tag.starts_with('!') {
            continue;
        }
        assert!(!tag.contains('<'), "stray < in {tag}");
        if let Some(name) = tag.strip_prefix('/') {
            let top = stack
                .pop()
                .unwrap_or_else(|| panic!("</{name}> without opening"));
            assert_eq!(top, name, "mismatched tags");
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if let Some(i) = tag.find(" src=\"") {
            let v = &tag[i + 6..];
            srcs.push(v[..v.find('"').unwrap()].to_string());
        }
        if name == "style" {
            let end = rest.find("</style>").unwrap();
            rest = &rest[end + "</style>".len()..];
            continue;
        }
        if !VOID.contains(&name.as_str()) {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    srcs
}

#[test]
fn report_shows_every_alert_with_escaped_text_and_existing_pictures() {
    let (_tmp, dir) = out_dir("report");
    // Real evidence for the first alert.
    let rows = rogue_alert_rows();
    let (floor, p99) = baseline();
    let site = "<b>&\"venue'";
    let mut first = rows.event.clone();
    first.site = site.into();
    first.evidence.spectrogram = Some(evidence::spectrogram_rel_path(&first.id));
    first.evidence.iq = Some(evidence::iq_rel_path(&first.id));
    render_alert_png(
        &dir.join(first.evidence.spectrogram.as_ref().unwrap()),
        &rows.picture(
            site,
            Some(Baseline {
                floor_dbfs: &floor,
                p99_dbfs: &p99,
            }),
        ),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("iq")).unwrap();
    std::fs::write(dir.join("iq/venue-a-0001.sigmf-meta"), "{}").unwrap();
    std::fs::write(dir.join("iq/venue-a-0001.sigmf-data"), "").unwrap();
    // A second alert whose evidence files are missing, with an awkward id.
    let mut second = alert(
        "x<y>&\"z",
        EventType::Cleared,
        AlertKind::JammingBarrage,
        (0, 2_400_000),
        (462.2e6, 462.8e6),
    );
    second.evidence.spectrogram = Some("spectrograms/missing.png".into());
    let mut ov = Overview::default();
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    for i in 0..200 {
        ov.push_frame(&frame(i, &mut rng, 100..160));
    }
    let alerts = vec![first.clone(), second.clone()];
    render_overview_png(
        &dir.join("overview-venue-a.png"),
        &OverviewPicture {
            site,
            recording: "recordings/venue-a.sigmf-meta",
            overview: &ov,
            alerts: &alerts,
            start_time: None,
        },
    )
    .unwrap();
    let report = Report {
        site: site.into(),
        profile: Some("profiles/<venue>.toml".into()),
        generated_by: String::new(),
        generated_at: None,
        recordings: vec![ReportRecording {
            name: "recordings/venue-a.sigmf-meta".into(),
            overview_png: Some("overview-venue-a.png".into()),
            samples: 200 * FRAME,
            sample_rate: RATE,
            center_hz: CENTER,
            start_time: Some("2024-05-01T12:00:00Z".parse().unwrap()),
            time_basis: None,
        }],
        alerts: alerts.clone(),
        processing_s: Some(0.5),
        evidence_prefix: String::new(),
    };
    let path = write_report(&dir, &report).unwrap();
    assert_eq!(path, dir.join("report.html"));
    let html = std::fs::read_to_string(&path).unwrap();

    let srcs = check_well_formed(&html);
    assert_eq!(
        srcs.len(),
        3,
        "overview + thumbnail + picture of the first alert: {srcs:?}"
    );
    for src in &srcs {
        assert!(dir.join(src).is_file(), "{src} missing");
    }
    assert!(html.contains("&lt;b&gt;&amp;&quot;venue&#39;"));
    assert!(!html.contains(site));
    assert!(html.contains("venue-a-0001"));
    assert!(html.contains("x&lt;y&gt;&amp;&quot;z"));
    assert!(html.contains("href=\"iq/venue-a-0001.sigmf-meta\""));
    assert!(html.contains("No IQ evidence recorded."));
    assert!(html.contains("profiles/&lt;venue&gt;.toml"));
    assert!(html.contains(&format!("rfsentry {}", rfsentry::VERSION)));
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"));
    // Deterministic.
    let again = write_report(&dir, &report).unwrap();
    assert_eq!(std::fs::read_to_string(again).unwrap(), html);
}

#[test]
fn overview_stitches_the_tunings_of_a_scan_plan() {
    let (_tmp, dir) = out_dir("overview_scan");
    let mut ov = Overview::default();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let tone_hz = 102.5e6;
    for i in 0..400u64 {
        let segment = (i % 2) as usize;
        let center_hz = [100e6, 102e6][segment];
        let mut mean: Vec<f32> = (0..2048)
            .map(|_| -95.0 + rng.gen_range(-2.0..2.0))
            .collect();
        if segment == 1 {
            let b = ((tone_hz - center_hz) * 2048.0 / 2e6) as usize + 1024;
            mean[b] = -40.0;
        }
        ov.push_frame(&PsdFrame {
            segment,
            start_sample: i * 100_000,
            sample_count: 100_000,
            center_hz,
            sample_rate: 2e6,
            max_dbfs: Vec::new(),
            mean_dbfs: mean,
            fft_power_dbfs: Vec::new(),
            clipped: 0,
            probe: Vec::new(),
        });
    }
    assert_eq!(ov.span_hz(), Some((99e6, 103e6)));
    let path = dir.join("scan.png");
    let picture = OverviewPicture {
        site: "venue-a",
        recording: "scan",
        overview: &ov,
        alerts: &[],
        start_time: None,
    };
    let layout = render_overview_png(&path, &picture).unwrap();
    let png = Picture::load(&path);
    let g = layout.waterfall;
    let y = (g.rect.top + g.rect.bottom()) / 2;
    let no_data = [58, 58, 64];
    for hz in [99.2e6, 100.5e6, 101.5e6, 102.8e6] {
        let x = g.x_of_hz(hz).round() as i32;
        assert_ne!(png.at(x, y), no_data, "{hz} Hz has no data");
    }
    let x = g.x_of_hz(tone_hz).round() as i32;
    assert!(
        (x - 1..=x + 1).any(|x| bright(png.at(x, y))),
        "tone at {tone_hz} Hz"
    );
}

#[test]
fn iq_recorder_survives_a_nonsense_rate_and_empty_blocks() {
    let (_tmp, dir) = out_dir("iq_odd");
    let stream = IqStream {
        sample_rate: 0.0,
        ..iq_stream()
    };
    let mut rec = IqEvidenceRecorder::new(&dir, stream, EvidenceLimits::default());
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    rec.push_block(iq_block(0, &mut rng, 0..0), drop);
    rec.push_block(
        IqBlock {
            start_sample: 10_000,
            samples: Vec::new(),
            segment: 0,
            center_hz: IQ_CENTER,
            nonfinite: 0,
        },
        drop,
    );
    rec.on_alert(&iq_alert("odd", EventType::Raised, (5_000, 5_000)));
    rec.push_block(iq_block(1, &mut rng, 0..0), drop);
    rec.on_alert(&iq_alert("odd", EventType::Cleared, (5_000, 6_000)));
    let stats = rec.finish_all(drop);
    assert_eq!(stats.snippets_written, 1);
    no_part_files(&dir.join("iq"));
}
