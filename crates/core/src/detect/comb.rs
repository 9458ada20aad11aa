//! Combs: a jammer that sweeps its band many times within one FFT (the
//! cheap GNSS and cellular "car jammers" sweep a few MHz every 10–100 µs)
//! shows in the spectrum not as a sweep but as a comb of steady lines
//! spaced by the sweep rate. Each line alone looks like a tone or a narrow
//! emitter; [`find_comb`] recognises the evenly spaced set, so that the
//! jammer is one `jamming.swept` alert spanning its band, not one alert per
//! line.

use super::clusters::Cluster;
use super::view::FrameView;
use super::{confidence_from_margin, Detection};
use crate::alert::AlertKind;
use serde_json::json;

/// Fewest evenly spaced lines that make a comb.
const MIN_LINES: usize = 4;
/// How far a line may sit from its place in the comb, bins.
const TOLERANCE_BINS: f64 = 1.5;

/// How many line spacings beyond a comb's outer lines a line may still
/// belong to it (lines lost in noise or under known emitters between).
const REACH_SPACINGS: f64 = 4.0;

/// Whether a narrow signal at `peak_hz` is one more line of `comb` (a
/// detection of [`find_comb`]): on its grid, within `REACH_SPACINGS`
/// of its ends, to within `tolerance_hz`.
pub fn is_line_of(comb: &Detection, peak_hz: f64, tolerance_hz: f64) -> bool {
    let Some(spacing) = comb.details.get("line_spacing_hz").and_then(|v| v.as_f64()) else {
        return false;
    };
    if spacing <= 0.0 {
        return false;
    }
    let reach = REACH_SPACINGS * spacing;
    if peak_hz < comb.low_hz - reach || peak_hz > comb.high_hz + reach {
        return false;
    }
    let steps = (peak_hz - comb.low_hz) / spacing;
    ((steps - steps.round()) * spacing).abs() <= tolerance_hz
}

/// The comb among `clusters` (their narrow ones), if any: its detection
/// and the indices of the clusters it is made of.
pub fn find_comb(view: &FrameView, clusters: &[Cluster]) -> Option<(Detection, Vec<usize>)> {
    let lines: Vec<usize> = (0..clusters.len())
        .filter(|&i| {
            let c = &clusters[i];
            c.peak_width_bins <= view.thresholds.tone_max_bins.saturating_add(1)
        })
        .collect();
    if lines.len() < MIN_LINES {
        return None;
    }
    let peak = |i: usize| clusters[i].peak_bin as f64;
    // The spacing: the commonest gap between neighbouring lines.
    let gaps: Vec<f64> = lines.windows(2).map(|w| peak(w[1]) - peak(w[0])).collect();
    let mut best: Option<(f64, Vec<usize>)> = None;
    for &spacing in &gaps {
        if spacing < 2.0 {
            continue;
        }
        // The longest run of lines each one spacing (or two or three: lines
        // lost in noise or under a known emitter) after the previous.
        let mut run: Vec<usize> = Vec::new();
        let mut longest: Vec<usize> = Vec::new();
        for &i in &lines {
            let fits = run.last().is_some_and(|&j| {
                let steps = (peak(i) - peak(j)) / spacing;
                let k = steps.round();
                (1.0..=3.0).contains(&k)
                    && (peak(i) - peak(j) - k * spacing).abs() <= TOLERANCE_BINS
            });
            if !fits {
                if run.len() > longest.len() {
                    longest = std::mem::take(&mut run);
                }
                run.clear();
            }
            run.push(i);
        }
        if run.len() > longest.len() {
            longest = run;
        }
        if longest.len() >= MIN_LINES && best.as_ref().map_or(true, |b| longest.len() > b.1.len()) {
            best = Some((spacing, longest));
        }
    }
    let (spacing, members) = best?;
    let first = &clusters[members[0]];
    let last = &clusters[*members.last().expect("a comb has lines")];
    let strongest = members
        .iter()
        .map(|&i| &clusters[i])
        .max_by(|a, b| a.peak_dbfs.total_cmp(&b.peak_dbfs))
        .expect("a comb has lines");
    let excess = members
        .iter()
        .map(|&i| clusters[i].excess_db)
        .fold(f32::MIN, f32::max);
    let mut details = serde_json::Map::new();
    details.insert("comb_lines".into(), json!(members.len()));
    details.insert(
        "line_spacing_hz".into(),
        json!((spacing * view.frame.bin_width_hz()).round()),
    );
    details.insert(
        "sweep_period_us".into(),
        json!((1e6 / (spacing * view.frame.bin_width_hz())).round()),
    );
    let detection = Detection {
        kind: AlertKind::JammingSwept,
        low_hz: view.bin_low_hz(first.lo),
        high_hz: view.bin_high_hz(last.hi),
        peak_dbfs: strongest.peak_dbfs,
        excess_db: excess,
        snr_db: strongest.snr_db,
        confidence: confidence_from_margin(excess - view.thresholds.emitter_margin_db),
        details,
        hold_s: 0.0,
        // A comb spans its sweep: the band's middle is its centre.
        centroid_hz: None,
    };
    Some((detection, members))
}
