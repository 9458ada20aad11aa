//! The alert lifecycle. Detections of successive frames that agree in kind
//! family and frequency are one track; a track is *raised* once it has
//! persisted long enough (in at least half of its frames), *updated* at most
//! every `update_interval_s` while it lasts, and *cleared* once it has been
//! absent for `clear_holdoff_s` — so one jammer makes one alert, not thousands.
//! A jammer's kind is decided by the votes of its frames before it is raised.
//!
//! Monitoring gaps follow the same lifecycle: a gap raises a `monitoring_gap`
//! alert at once; further gaps of the same cause within `clear_holdoff_s`
//! (a device outage is reported piecemeal while it lasts, overflows come in
//! bursts) extend it, with `details.lost_samples` the running total; it is
//! cleared once samples have flowed for `clear_holdoff_s` without another.

use super::{Centroid, Detection};
use crate::alert::{AlertEvent, AlertKind, EventType, EvidencePaths};
use crate::profile::Thresholds;
use crate::source::Gap;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Which detections may continue a track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Jamming,
    Unknown,
    Anomalous,
    Overload,
    SignalLoss,
}

fn class_of(kind: AlertKind) -> Class {
    match kind {
        AlertKind::JammingBarrage
        | AlertKind::JammingTone
        | AlertKind::JammingSwept
        | AlertKind::JammingPulsed => Class::Jamming,
        AlertKind::EmitterUnknown => Class::Unknown,
        AlertKind::EmitterAnomalous => Class::Anomalous,
        AlertKind::ReceiverOverload | AlertKind::MonitoringGap => Class::Overload,
        AlertKind::ReceiverSignalLoss => Class::SignalLoss,
    }
}

/// A jammer of the wideband detector (one at a time per tuning).
pub fn is_wideband(kind: AlertKind) -> bool {
    matches!(
        kind,
        AlertKind::JammingBarrage | AlertKind::JammingSwept | AlertKind::JammingPulsed
    )
}

/// Widths of an unknown emitter's last detections its channel is the median of.
const CHANNEL_WIDTHS: usize = 15;

/// Most power difference between a hopper's channels, dB.
const HOP_POWER_DB: f32 = 8.0;

/// Order of preference when votes tie (the more specific kind first; an
/// unknown emitter after every jammer).
const KIND_PRIORITY: [AlertKind; 4] = [
    AlertKind::JammingPulsed,
    AlertKind::JammingSwept,
    AlertKind::JammingTone,
    AlertKind::JammingBarrage,
];

#[derive(Debug)]
struct Track {
    id: Option<String>,
    class: Class,
    segment: usize,
    votes: BTreeMap<AlertKind, u32>,
    kind: AlertKind,
    low_hz: f64,
    high_hz: f64,
    first_sample: u64,
    /// End of the last frame that saw it.
    last_sample: u64,
    /// Frames seen, and frames elapsed, since the first.
    seen: u32,
    elapsed: u32,
    peak_dbfs: f32,
    excess_db: f32,
    snr_db: f32,
    confidence: f32,
    details: serde_json::Map<String, serde_json::Value>,
    last_update_sample: u64,
    changed: bool,
    /// The finding stands until this sample even unseen (see [`Detection::hold_s`]).
    held_until: u64,
    /// An unknown emitter's channel width: the lower median of the widths
    /// it was last seen with ([`CHANNEL_WIDTHS`]), one channel of a hopper
    /// even when its first sighting joined two.
    channel_hz: f64,
    widths: Vec<f64>,
    /// The frame (its end) the kinds in `voted` were voted in: one vote
    /// per kind a frame (the lines of one comb are not twenty tones).
    voted_frame: u64,
    voted: Vec<AlertKind>,
    /// Power-weighted centre (Hz) of the detections it absorbed, each
    /// weighing its peak power: the emitter's own frequency, however far
    /// splatter or a hopper's channels widen its band.
    centroid: Centroid,
}

/// A detection's weight in a track's centroid: its peak power, linear.
fn weight(d: &Detection) -> f64 {
    10f64.powf(d.peak_dbfs as f64 / 10.0)
}

impl Track {
    fn absorb(&mut self, d: &Detection, frame_end: u64, hold: u64) {
        // A finding holds its own kind of track: a burst an unknown emitter
        // made beside a tone does not keep the tone standing.
        if class_of(d.kind) == self.class {
            self.held_until = self.held_until.max(frame_end + hold);
        }
        if self.voted_frame != frame_end {
            self.voted_frame = frame_end;
            self.voted.clear();
        }
        if !self.voted.contains(&d.kind) {
            self.voted.push(d.kind);
            *self.votes.entry(d.kind).or_default() += 1;
        }
        self.low_hz = self.low_hz.min(d.low_hz);
        self.high_hz = self.high_hz.max(d.high_hz);
        if self.class == Class::Unknown && d.kind == AlertKind::EmitterUnknown {
            if self.widths.len() == CHANNEL_WIDTHS {
                self.widths.remove(0);
            }
            self.widths.push(d.high_hz - d.low_hz);
            let mut sorted = self.widths.clone();
            sorted.sort_by(f64::total_cmp);
            self.channel_hz = sorted[(sorted.len() - 1) / 2];
        }
        self.centroid.add(d.center_hz(), weight(d));
        self.last_sample = frame_end;
        if d.peak_dbfs > self.peak_dbfs {
            self.peak_dbfs = d.peak_dbfs;
            self.excess_db = self.excess_db.max(d.excess_db);
            self.snr_db = self.snr_db.max(d.snr_db);
            self.details = d.details.clone();
        }
        self.confidence = self.confidence.max(d.confidence);
        self.changed = true;
    }

    /// Whether a detection of `class`/`kind` may continue this track: the same
    /// class, or a narrow carrier seen either as a steady tone or, in the
    /// frames where it starts, stops or is keyed, as an unknown emitter.
    fn continues_with(&self, class: Class, kind: AlertKind) -> bool {
        self.class == class
            || (self.class == Class::Unknown && kind == AlertKind::JammingTone)
            || (self.class == Class::Jamming
                && self.kind == AlertKind::JammingTone
                && kind == AlertKind::EmitterUnknown)
    }

    /// Whether `d`, an unknown emitter elsewhere in the band, is this
    /// unknown emitter hopping: it was seen a frame or two ago but not in
    /// this frame (two emitters on the air together stay two), and `d` has
    /// about its channel width (½–2×) and power (within 8 dB). A frequency
    /// hopper over tens of channels is one transmitter, one alert over its
    /// hop set.
    fn hops_to(&self, d: &Detection, frame_start: u64, frame_len: u64) -> bool {
        let width = d.high_hz - d.low_hz;
        // A channel seen steady for a moment looks like a tone: once the
        // emitter has hopped, it is one of its channels too.
        let hopped = self.high_hz - self.low_hz > 2.0 * self.channel_hz;
        self.class == Class::Unknown
            && (d.kind == AlertKind::EmitterUnknown || (hopped && d.kind == AlertKind::JammingTone))
            && self.last_sample < frame_start + frame_len
            && self.last_sample + 2 * frame_len >= frame_start + frame_len
            && width >= 0.5 * self.channel_hz
            && width <= 2.0 * self.channel_hz
            && (d.peak_dbfs - self.peak_dbfs).abs() <= HOP_POWER_DB
    }

    /// The frequency to report: a wideband jammer's (or the receiver's)
    /// band is the finding, centred in its middle; an emitter or a tone is
    /// centred on its power.
    fn center_hz(&self) -> f64 {
        let middle = 0.5 * (self.low_hz + self.high_hz);
        if is_wideband(self.kind) || matches!(self.class, Class::Overload | Class::SignalLoss) {
            return middle;
        }
        self.centroid.at().unwrap_or(middle)
    }

    fn overlaps(&self, d: &Detection, tolerance_hz: f64) -> bool {
        // The wideband detector reports one jammer per tuning: a sweep that
        // wraps around or a pulse that lands elsewhere is still that jammer.
        if is_wideband(self.kind) && is_wideband(d.kind) {
            return true;
        }
        let tol = tolerance_hz.max(0.1 * (self.high_hz - self.low_hz));
        d.low_hz <= self.high_hz + tol && d.high_hz >= self.low_hz - tol
    }

    /// The kind to raise: for jammers, pulsing or sweeping seen in at least a
    /// third of the frames wins (those patterns take a few frames to show);
    /// otherwise the plurality of votes (a narrow carrier is a tone jammer
    /// when most of its frames saw it steady, else an unknown emitter).
    fn vote(&self) -> AlertKind {
        let count = |k: &AlertKind| self.votes.get(k).copied().unwrap_or(0);
        let total: u32 = self.votes.values().sum();
        if self.class == Class::Jamming {
            // On a tie, pulsing wins: the frames a pulse starts or stops in
            // can look like a sweep's, never the other way round.
            let specific = [AlertKind::JammingSwept, AlertKind::JammingPulsed]
                .into_iter()
                .filter(|k| 3 * count(k) >= total && count(k) > 0)
                .max_by_key(count);
            if let Some(k) = specific {
                return k;
            }
        }
        let best = self.votes.values().copied().max().unwrap_or(0);
        KIND_PRIORITY
            .iter()
            .chain(&[AlertKind::EmitterUnknown])
            .copied()
            .find(|k| count(k) == best)
            .or_else(|| self.votes.iter().find(|(_, &v)| v == best).map(|(k, _)| *k))
            .unwrap_or(self.kind)
    }
}

/// Turns per-frame detections into alert events.
pub struct Tracker {
    thresholds: Thresholds,
    site: String,
    recording: String,
    id_prefix: String,
    sample_rate: f64,
    /// How `start_time` was found when it is an estimate (see [`Tracker::with_time_basis`]).
    time_basis: Option<String>,
    start_time: DateTime<Utc>,
    tracks: Vec<Track>,
    /// The raised `monitoring_gap` alert that later gaps may still extend.
    gap: Option<Track>,
    next_id: u64,
    /// dBm at 0 dBFS, when the profile is calibrated.
    dbm_at_0dbfs: Option<f64>,
}

impl Tracker {
    /// A tracker for one stream. Alert ids are `{id_prefix}{n:04}`.
    pub fn new(
        thresholds: Thresholds,
        site: &str,
        recording: &str,
        id_prefix: &str,
        sample_rate: f64,
        start_time: DateTime<Utc>,
    ) -> Self {
        Tracker {
            thresholds,
            site: site.to_string(),
            recording: recording.to_string(),
            id_prefix: id_prefix.to_string(),
            sample_rate,
            start_time,
            tracks: Vec::new(),
            gap: None,
            next_id: 1,
            dbm_at_0dbfs: None,
            time_basis: None,
        }
    }

    /// Say in every event's `details.time_basis` how the start time was
    /// found, when it is an estimate (a recording that does not carry one).
    pub fn with_time_basis(mut self, basis: Option<String>) -> Self {
        self.time_basis = basis;
        self
    }

    /// Report peaks in dBm too: dBm = dBFS + `dbm_at_0dbfs` (see [`crate::profile::Calibration`]).
    pub fn with_calibration(mut self, dbm_at_0dbfs: Option<f64>) -> Self {
        self.dbm_at_0dbfs = dbm_at_0dbfs;
        self
    }

    /// Continue numbering from another tracker (several recordings in one log).
    pub fn with_next_id(mut self, next_id: u64) -> Self {
        self.next_id = next_id;
        self
    }

    /// The id the next raised alert will get.
    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    /// Alerts currently raised.
    pub fn active(&self) -> usize {
        self.tracks.iter().filter(|t| t.id.is_some()).count() + usize::from(self.gap.is_some())
    }

    fn secs(&self, s: f64) -> u64 {
        (s * self.sample_rate).round() as u64
    }

    fn min_duration(&self, class: Class) -> u64 {
        let t = &self.thresholds;
        self.secs(match class {
            Class::Jamming => t.jamming_min_duration_s,
            Class::Unknown | Class::Anomalous => t.emitter_min_duration_s,
            Class::Overload | Class::SignalLoss => t.emitter_min_duration_s,
        })
    }

    /// Process the detections of one frame of `segment` spanning `[frame_start, frame_end)`.
    pub fn on_frame(
        &mut self,
        segment: usize,
        frame_start: u64,
        frame_end: u64,
        bin_hz: f64,
        detections: &[Detection],
    ) -> Vec<AlertEvent> {
        let mut events = Vec::new();
        let holdoff = self.secs(self.thresholds.clear_holdoff_s);
        if let Some(gap) = self.gap.take_if(|g| frame_end >= g.last_sample + holdoff) {
            events.push(self.event(&gap, EventType::Cleared));
        }
        for t in self.tracks.iter_mut().filter(|t| t.segment == segment) {
            t.elapsed += 1;
        }
        let last_before = self
            .tracks
            .iter()
            .map(|t| t.last_sample)
            .collect::<Vec<_>>();
        for d in detections {
            let class = class_of(d.kind);
            let tolerance = 3.0 * bin_hz;
            let hold = self.secs(d.hold_s);
            let frame_len = frame_end - frame_start;
            let found = self
                .tracks
                .iter()
                .position(|t| {
                    t.segment == segment
                        && t.continues_with(class, d.kind)
                        && t.overlaps(d, tolerance)
                })
                .or_else(|| {
                    self.tracks
                        .iter()
                        .position(|t| t.segment == segment && t.hops_to(d, frame_start, frame_len))
                });
            match found.map(|i| &mut self.tracks[i]) {
                Some(t) => t.absorb(d, frame_end, hold),
                None => self.tracks.push(Track {
                    id: None,
                    class,
                    segment,
                    votes: BTreeMap::from([(d.kind, 1)]),
                    kind: d.kind,
                    low_hz: d.low_hz,
                    high_hz: d.high_hz,
                    first_sample: frame_start,
                    last_sample: frame_end,
                    seen: 1,
                    elapsed: 1,
                    peak_dbfs: d.peak_dbfs,
                    excess_db: d.excess_db,
                    snr_db: d.snr_db,
                    confidence: d.confidence,
                    details: d.details.clone(),
                    last_update_sample: frame_end,
                    changed: false,
                    held_until: frame_end + hold,
                    channel_hz: d.high_hz - d.low_hz,
                    widths: vec![d.high_hz - d.low_hz],
                    voted_frame: frame_end,
                    voted: vec![d.kind],
                    centroid: {
                        let mut c = Centroid::default();
                        c.add(d.center_hz(), weight(d));
                        c
                    },
                }),
            }
        }
        // A track counts as present in this frame when a detection continued
        // it, or while an earlier finding still holds.
        for (i, t) in self.tracks.iter_mut().enumerate() {
            let seen_now = match last_before.get(i) {
                Some(&before) => t.last_sample == frame_end && before != frame_end,
                None => false,
            };
            let held = t.held_until >= frame_end && t.last_sample < frame_end;
            if t.segment == segment && (seen_now || (held && t.elapsed > t.seen)) {
                t.seen += 1;
            }
            if t.held_until > frame_end {
                // A finding that holds vouches for the frames in between.
                t.elapsed = t.seen;
            }
        }
        self.merge_pending(segment, 3.0 * bin_hz, 2 * (frame_end - frame_start));
        let update = self.secs(self.thresholds.update_interval_s);
        let jamming_min = self.min_duration(Class::Jamming);
        let wide_hz = 0.1 * self.sample_rate;
        let mut i = 0;
        while i < self.tracks.len() {
            let min_dur = self.min_duration(self.tracks[i].class);
            let t = &mut self.tracks[i];
            if t.segment != segment {
                i += 1;
                continue;
            }
            let standing = t.last_sample.max(t.held_until.min(frame_end));
            let absent = frame_end.saturating_sub(standing);
            if t.id.is_none() {
                if absent >= holdoff {
                    self.tracks.remove(i);
                    continue;
                }
                // A finding that stands only by its hold (a burst) waits as
                // long as a jammer does: long enough for a sweep it was a
                // glimpse of to show and swallow it.
                // So does an unknown emitter as wide as a jammer.
                let wide = t.class == Class::Unknown && t.high_hz - t.low_hz >= wide_hz;
                let min_dur = if t.last_sample - t.first_sample < min_dur || wide {
                    min_dur.max(jamming_min)
                } else {
                    min_dur
                };
                if t.seen >= 2 && 2 * t.seen >= t.elapsed && standing - t.first_sample >= min_dur {
                    t.kind = t.vote();
                    t.class = class_of(t.kind);
                    t.id = Some(format!("{}{:04}", self.id_prefix, self.next_id));
                    self.next_id += 1;
                    t.last_update_sample = t.last_sample;
                    t.changed = false;
                    let e = self.event(&self.tracks[i], EventType::Raised);
                    events.push(e);
                }
            } else if absent >= holdoff {
                let t = self.tracks.remove(i);
                events.push(self.event(&t, EventType::Cleared));
                continue;
            } else if t.class == Class::Jamming
                && matches!(t.kind, AlertKind::JammingBarrage | AlertKind::JammingTone)
                && matches!(t.vote(), AlertKind::JammingPulsed | AlertKind::JammingSwept)
            {
                // A jammer's pattern can take longer to show than raising it
                // may wait (a pulse a second): its kind is refined at once,
                // from the generic to the specific, never back.
                let first = t.kind;
                t.kind = t.vote();
                t.details
                    .insert("reclassified_from".into(), first.name().into());
                t.last_update_sample = t.last_sample;
                t.changed = false;
                let e = self.event(&self.tracks[i], EventType::Updated);
                events.push(e);
            } else if t.changed && t.last_sample >= t.last_update_sample + update {
                t.last_update_sample = t.last_sample;
                t.changed = false;
                let e = self.event(&self.tracks[i], EventType::Updated);
                events.push(e);
            }
            i += 1;
        }
        events
    }

    /// A track not yet raised that has grown into an older track of the same
    /// class is part of it (one emitter seen first as two fragments); one
    /// inside an older wideband jammer's band is a piece of that jammer
    /// (a sweep seen as a narrow signal before its span shows).
    fn merge_pending(&mut self, segment: usize, tolerance_hz: f64, recent: u64) {
        let mut i = 0;
        while i < self.tracks.len() {
            let t = &self.tracks[i];
            let target = (t.id.is_none() && t.segment == segment)
                .then(|| {
                    self.tracks.iter().enumerate().position(|(j, u)| {
                        let same = j < i
                            && u.class == t.class
                            && t.low_hz <= u.high_hz + tolerance_hz
                            && t.high_hz >= u.low_hz - tolerance_hz;
                        let reach = tolerance_hz.max(0.25 * (u.high_hz - u.low_hz));
                        // A line of a comb (a car jammer) seen before the
                        // comb showed is a tone of that jammer.
                        let inside_jammer = j != i
                            && u.class == Class::Jamming
                            && is_wideband(u.kind)
                            && (t.class == Class::Unknown || t.kind == AlertKind::JammingTone)
                            && t.low_hz >= u.low_hz - reach
                            && t.high_hz <= u.high_hz + reach;
                        // A hopper's channel first seen steady, as a tone.
                        let hop_channel = j != i
                            && u.class == Class::Unknown
                            && u.high_hz - u.low_hz > 2.0 * u.channel_hz
                            && t.kind == AlertKind::JammingTone
                            && t.low_hz >= u.low_hz - tolerance_hz
                            && t.high_hz <= u.high_hz + tolerance_hz;
                        // Another channel of a hopper, seen in a frame the
                        // hopper was seen in too (a dwell shorter than a
                        // frame), or a burst on a channel it visited,
                        // reported once the burst is over, or the hopper
                        // itself followed from two channels at once: of the
                        // hopper's channel width and power, while it is on
                        // the air.
                        let width = t.channel_hz;
                        let revisit = j != i
                            && u.class == Class::Unknown
                            && u.high_hz - u.low_hz > 2.0 * u.channel_hz
                            && matches!(t.kind, AlertKind::EmitterUnknown | AlertKind::JammingTone)
                            && width >= 0.25 * u.channel_hz
                            && width <= 2.0 * u.channel_hz
                            && (t.peak_dbfs - u.peak_dbfs).abs() <= HOP_POWER_DB
                            && u.last_sample + recent >= t.last_sample;
                        // A known emitter that seems to have grown while a
                        // hopper lands beside it: the hopper's channel joined
                        // to the emitter's, not the emitter changed.
                        let hopped_beside = j != i
                            && u.class == Class::Unknown
                            && u.high_hz - u.low_hz > 2.0 * u.channel_hz
                            && t.class == Class::Anomalous
                            && t.low_hz <= u.high_hz + 2.0 * u.channel_hz
                            && t.high_hz >= u.low_hz - 2.0 * u.channel_hz
                            && u.last_sample + recent >= t.last_sample;
                        u.segment == segment
                            && (same || inside_jammer || hop_channel || revisit || hopped_beside)
                    })
                })
                .flatten();
            let Some(j) = target else {
                i += 1;
                continue;
            };
            let t = self.tracks.remove(i);
            let u = &mut self.tracks[if j > i { j - 1 } else { j }];
            u.low_hz = u.low_hz.min(t.low_hz);
            u.high_hz = u.high_hz.max(t.high_hz);
            u.last_sample = u.last_sample.max(t.last_sample);
            // A fragment's votes count where it is of the same kind of
            // thing (not a jammer's line voting tone for the jammer).
            if u.class == t.class && is_wideband(u.kind) == is_wideband(t.kind) {
                u.held_until = u.held_until.max(t.held_until);
                u.centroid.merge(&t.centroid);
                for (k, v) in t.votes {
                    *u.votes.entry(k).or_default() += v;
                }
            }
            // The next track now sits at `i`.
        }
    }

    /// A monitoring gap: raises a `monitoring_gap` alert, or extends the one
    /// raised for an earlier gap of the same cause less than `clear_holdoff_s`
    /// before (updated at most every `update_interval_s`). A gap of another
    /// cause clears the open one first.
    pub fn on_gap(&mut self, gap: &Gap) -> Vec<AlertEvent> {
        let mut events = Vec::new();
        let holdoff = self.secs(self.thresholds.clear_holdoff_s);
        let update = self.secs(self.thresholds.update_interval_s);
        let rate = self.sample_rate;
        let end = gap.start_sample + gap.lost_samples;
        let count = |t: &Track, key: &str| t.details.get(key).and_then(|v| v.as_u64());
        if let Some(open) = self.gap.as_mut().filter(|t| {
            t.details.get("cause").and_then(|c| c.as_str()) == Some(gap.cause.name())
                && gap.start_sample <= t.last_sample + holdoff
        }) {
            let lost = count(open, "lost_samples").unwrap_or(0) + gap.lost_samples;
            let gaps = count(open, "gaps").unwrap_or(1) + 1;
            open.details.insert("lost_samples".into(), lost.into());
            open.details
                .insert("lost_s".into(), lost_s(lost, rate).into());
            open.details.insert("gaps".into(), gaps.into());
            open.last_sample = open.last_sample.max(end);
            // An outage across a scan plan's tunings covers all their bands.
            open.low_hz = open.low_hz.min(gap.center_hz - 0.5 * rate);
            open.high_hz = open.high_hz.max(gap.center_hz + 0.5 * rate);
            if open.last_sample >= open.last_update_sample + update {
                open.last_update_sample = open.last_sample;
                if let Some(open) = &self.gap {
                    events.push(self.event(open, EventType::Updated));
                }
            }
            return events;
        }
        if let Some(open) = self.gap.take() {
            events.push(self.event(&open, EventType::Cleared));
        }
        let id = format!("{}{:04}", self.id_prefix, self.next_id);
        self.next_id += 1;
        let mut details = serde_json::Map::new();
        details.insert("cause".into(), gap.cause.name().into());
        details.insert("lost_samples".into(), gap.lost_samples.into());
        details.insert("lost_s".into(), lost_s(gap.lost_samples, rate).into());
        details.insert("gaps".into(), 1.into());
        if let crate::source::GapCause::StreamError(msg) = &gap.cause {
            details.insert("error".into(), msg.clone().into());
        }
        let track = Track {
            id: Some(id),
            class: Class::Overload,
            segment: gap.segment,
            votes: BTreeMap::new(),
            kind: AlertKind::MonitoringGap,
            low_hz: gap.center_hz - 0.5 * self.sample_rate,
            high_hz: gap.center_hz + 0.5 * self.sample_rate,
            first_sample: gap.start_sample,
            last_sample: end,
            seen: 1,
            elapsed: 1,
            peak_dbfs: 0.0,
            excess_db: 0.0,
            snr_db: 0.0,
            confidence: 1.0,
            details,
            last_update_sample: end,
            changed: false,
            held_until: 0,
            channel_hz: 0.0,
            widths: Vec::new(),
            voted_frame: 0,
            voted: Vec::new(),
            centroid: Centroid::default(),
        };
        events.push(self.event(&track, EventType::Raised));
        self.gap = Some(track);
        events
    }

    /// End of stream: clear every raised alert.
    pub fn finish(&mut self) -> Vec<AlertEvent> {
        let tracks = std::mem::take(&mut self.tracks);
        let gap = self.gap.take();
        tracks
            .iter()
            .filter(|t| t.id.is_some())
            .chain(gap.as_ref())
            .map(|t| self.event(t, EventType::Cleared))
            .collect()
    }

    fn time(&self, sample: u64) -> String {
        let t = self.start_time
            + chrono::Duration::nanoseconds((sample as f64 / self.sample_rate * 1e9).round() as i64);
        t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }

    fn event(&self, t: &Track, event: EventType) -> AlertEvent {
        let r1 = |x: f64| (x * 10.0).round() / 10.0;
        let r2 = |x: f32| ((x as f64) * 100.0).round() / 100.0;
        AlertEvent {
            id: t.id.clone().unwrap_or_default(),
            event,
            kind: t.kind,
            site: self.site.clone(),
            recording: self.recording.clone(),
            start: self.time(t.first_sample),
            end: self.time(t.last_sample),
            start_sample: t.first_sample,
            end_sample: t.last_sample,
            freq_low_hz: r1(t.low_hz),
            freq_high_hz: r1(t.high_hz),
            center_hz: r1(t.center_hz()),
            peak_dbfs: r2(t.peak_dbfs),
            // A monitoring gap has no signal to give a level to.
            peak_dbm: self
                .dbm_at_0dbfs
                .filter(|_| t.kind != AlertKind::MonitoringGap)
                .map(|offset| r2(t.peak_dbfs + offset as f32)),
            excess_db: r2(t.excess_db),
            snr_db: r2(t.snr_db),
            confidence: r2(t.confidence),
            evidence: EvidencePaths::default(),
            details: {
                let mut details = t.details.clone();
                // An unknown emitter over three channels wide has hopped.
                if t.class == Class::Unknown && t.high_hz - t.low_hz > 3.0 * t.channel_hz {
                    details.insert("hop_channel_hz".into(), r1(t.channel_hz).into());
                }
                if let Some(basis) = &self.time_basis {
                    details.insert("time_basis".into(), basis.clone().into());
                }
                details
            },
        }
    }
}

/// Seconds of `lost` samples at `rate`, to the millisecond.
fn lost_s(lost: u64, rate: f64) -> f64 {
    (lost as f64 / rate * 1e3).round() / 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: f64 = 1e6;
    const FRAME: u64 = 50_000;

    fn tracker() -> Tracker {
        Tracker::new(
            Thresholds::default(),
            "site",
            "rec",
            "site-",
            RATE,
            DateTime::UNIX_EPOCH,
        )
    }

    fn det(kind: AlertKind, low: f64, high: f64) -> Detection {
        Detection {
            kind,
            low_hz: low,
            high_hz: high,
            peak_dbfs: -40.0,
            excess_db: 12.0,
            snr_db: 20.0,
            confidence: 0.9,
            details: Default::default(),
            hold_s: 0.0,
            centroid_hz: None,
        }
    }

    /// Feed `frames` frames, with `dets(i)` in frame i; collect events.
    fn feed(t: &mut Tracker, frames: u64, dets: impl Fn(u64) -> Vec<Detection>) -> Vec<AlertEvent> {
        let mut events = Vec::new();
        for i in 0..frames {
            events.extend(t.on_frame(0, i * FRAME, (i + 1) * FRAME, 1000.0, &dets(i)));
        }
        events.extend(t.finish());
        events
    }

    #[test]
    fn a_lasting_jammer_is_one_alert_with_updates() {
        let mut t = tracker();
        // 5 s of jamming in frames 10..110, then quiet.
        let events = feed(&mut t, 200, |i| {
            if (10..110).contains(&i) {
                vec![det(AlertKind::JammingBarrage, 100.0e3, 200.0e3)]
            } else {
                vec![]
            }
        });
        let raised: Vec<_> = events
            .iter()
            .filter(|e| e.event == EventType::Raised)
            .collect();
        let cleared: Vec<_> = events
            .iter()
            .filter(|e| e.event == EventType::Cleared)
            .collect();
        let updated = events
            .iter()
            .filter(|e| e.event == EventType::Updated)
            .count();
        assert_eq!(raised.len(), 1);
        assert_eq!(cleared.len(), 1);
        assert!((3..=6).contains(&updated), "{updated} updates");
        assert!(events.iter().all(|e| e.id == "site-0001"));
        assert_eq!(raised[0].start_sample, 10 * FRAME);
        assert_eq!(cleared[0].end_sample, 110 * FRAME);
        assert_eq!(raised[0].start, "1970-01-01T00:00:00.500Z");
    }

    #[test]
    fn isolated_flickers_never_raise() {
        let mut t = tracker();
        let events = feed(&mut t, 300, |i| {
            if i % 37 == 0 {
                vec![det(AlertKind::EmitterUnknown, 1e3, 5e3)]
            } else {
                vec![]
            }
        });
        assert!(events.is_empty(), "{events:?}");
    }

    #[test]
    fn the_jammer_kind_is_the_vote_of_its_frames() {
        let mut t = tracker();
        let events = feed(&mut t, 40, |i| {
            let kind = if i % 3 == 0 {
                AlertKind::JammingBarrage
            } else {
                AlertKind::JammingPulsed
            };
            vec![det(kind, 0.0, 300e3)]
        });
        assert_eq!(events[0].kind, AlertKind::JammingPulsed);
        assert_eq!(
            events
                .iter()
                .filter(|e| e.event == EventType::Raised)
                .count(),
            1
        );
    }

    #[test]
    fn separate_emitters_are_separate_alerts() {
        let mut t = tracker();
        let events = feed(&mut t, 20, |_| {
            vec![
                det(AlertKind::EmitterUnknown, 10e3, 20e3),
                det(AlertKind::EmitterUnknown, 200e3, 220e3),
            ]
        });
        let ids: std::collections::BTreeSet<_> = events.iter().map(|e| e.id.clone()).collect();
        assert_eq!(ids.len(), 2);
    }

    #[test]
    fn bursts_held_between_repetitions_are_one_alert() {
        let mut t = tracker();
        // A 5 ms burst every 3 s for 12 s, each reported once with a hold.
        let events = feed(&mut t, 300, |i| {
            if i % 60 == 1 && i < 240 {
                let mut d = det(AlertKind::EmitterUnknown, 50e3, 52e3);
                d.hold_s = 4.5;
                vec![d]
            } else {
                vec![]
            }
        });
        let raised = events
            .iter()
            .filter(|e| e.event == EventType::Raised)
            .count();
        assert_eq!(raised, 1, "{events:#?}");
        // The alert ends where the last burst was seen, not where its hold ran out.
        let cleared = events.last().unwrap();
        assert_eq!(cleared.event, EventType::Cleared);
        assert_eq!(cleared.end_sample, 182 * FRAME);
    }

    #[test]
    fn a_hopper_dwelling_less_than_a_frame_is_one_alert() {
        let mut t = tracker();
        // Two channels a frame (a 30 ms dwell in 50 ms frames).
        let events = feed(&mut t, 60, |i| {
            let low = |k: u64| 100e3 + 25e3 * ((k * 7) % 20) as f64;
            vec![
                det(AlertKind::EmitterUnknown, low(2 * i), low(2 * i) + 12.5e3),
                det(
                    AlertKind::EmitterUnknown,
                    low(2 * i + 1),
                    low(2 * i + 1) + 12.5e3,
                ),
            ]
        });
        let raised = events
            .iter()
            .filter(|e| e.event == EventType::Raised)
            .count();
        assert_eq!(raised, 1, "{events:#?}");
    }

    #[test]
    fn the_lines_of_a_comb_vote_once_a_frame() {
        let mut t = tracker();
        // A comb seen as one swept detection and, under it, twelve lines.
        let events = feed(&mut t, 20, |_| {
            let mut found = vec![det(AlertKind::JammingSwept, 100e3, 700e3)];
            found.extend((0..12).map(|k| {
                let f = 100e3 + 50e3 * k as f64;
                det(AlertKind::JammingTone, f, f + 2e3)
            }));
            found
        });
        let raised: Vec<_> = events
            .iter()
            .filter(|e| e.event == EventType::Raised)
            .collect();
        assert_eq!(raised.len(), 1, "{events:#?}");
        assert_eq!(events.last().unwrap().kind, AlertKind::JammingSwept);
    }

    #[test]
    fn a_hopper_is_one_alert_over_its_hop_set() {
        let mut t = tracker();
        // 12.5 kHz channels, a new one every frame, 20 channels 25 kHz apart.
        let events = feed(&mut t, 60, |i| {
            let ch = (i * 7 % 20) as f64;
            let low = 100e3 + 25e3 * ch;
            vec![det(AlertKind::EmitterUnknown, low, low + 12.5e3)]
        });
        let ids: std::collections::BTreeSet<_> = events.iter().map(|e| e.id.clone()).collect();
        assert_eq!(ids.len(), 1, "{events:#?}");
        let last = events.last().unwrap();
        assert_eq!((last.freq_low_hz, last.freq_high_hz), (100e3, 587.5e3));
        assert_eq!(last.details["hop_channel_hz"], 12.5e3);
        // Every channel visited three times, at the same power: the hop
        // set's centre.
        assert_eq!(last.center_hz, 100e3 + 9.5 * 25e3 + 6.25e3);
    }

    #[test]
    fn an_emitter_is_centred_on_its_power_not_on_its_band() {
        let mut t = tracker();
        // A carrier at 101 kHz with, every other frame, splatter 10 dB down
        // beside it (102–132 kHz) that widens the band on one side.
        let events = feed(&mut t, 40, |i| {
            let mut carrier = det(AlertKind::EmitterUnknown, 100e3, 102e3);
            carrier.centroid_hz = Some(101e3);
            let mut splatter = det(AlertKind::EmitterUnknown, 102e3, 132e3);
            splatter.peak_dbfs = carrier.peak_dbfs - 10.0;
            splatter.centroid_hz = Some(110e3);
            if i % 2 == 0 {
                vec![carrier, splatter]
            } else {
                vec![carrier]
            }
        });
        let ids: std::collections::BTreeSet<_> = events.iter().map(|e| e.id.clone()).collect();
        assert_eq!(ids.len(), 1, "{events:#?}");
        let last = events.last().unwrap();
        assert_eq!((last.freq_low_hz, last.freq_high_hz), (100e3, 132e3));
        // Splatter in half the frames at a tenth of the power: 101 kHz + 9 kHz / 21.
        assert!(
            (last.center_hz - 101.4e3).abs() < 100.0,
            "centred at {} Hz",
            last.center_hz
        );
    }

    #[test]
    fn a_detection_without_a_centroid_counts_at_its_band_middle() {
        let mut t = tracker();
        let events = feed(&mut t, 20, |_| {
            let mut a = det(AlertKind::EmitterUnknown, 100e3, 110e3);
            a.centroid_hz = Some(108e3);
            // Same power, no centroid measured: counts at 105 kHz.
            vec![a, det(AlertKind::EmitterUnknown, 100e3, 110e3)]
        });
        assert!((events.last().unwrap().center_hz - 106.5e3).abs() < 1.0);
    }

    #[test]
    fn a_wideband_jammer_is_centred_on_its_band() {
        let mut t = tracker();
        // A sweep reported over a moving part of the band, then all of it.
        let events = feed(&mut t, 40, |i| {
            let low = if i < 20 { 100e3 } else { 0.0 };
            vec![det(AlertKind::JammingSwept, low, 400e3)]
        });
        let last = events.last().unwrap();
        assert_eq!(last.kind, AlertKind::JammingSwept);
        assert_eq!(last.center_hz, 200e3);
    }

    #[test]
    fn a_jammer_raised_as_barrage_is_refined_once_its_pulses_show() {
        let mut t = tracker();
        let events = feed(&mut t, 40, |i| {
            let kind = if i < 8 {
                AlertKind::JammingBarrage
            } else {
                AlertKind::JammingPulsed
            };
            vec![det(kind, 0.0, 300e3)]
        });
        assert_eq!(events[0].kind, AlertKind::JammingBarrage);
        let refined = events
            .iter()
            .find(|e| e.kind == AlertKind::JammingPulsed)
            .unwrap();
        assert_eq!(refined.event, EventType::Updated);
        assert_eq!(refined.details["reclassified_from"], "jamming.barrage");
        assert_eq!(events.last().unwrap().kind, AlertKind::JammingPulsed);
        assert!(events.iter().all(|e| e.id == "site-0001"));
    }

    fn gap(start_sample: u64, lost_samples: u64, cause: crate::source::GapCause) -> Gap {
        Gap {
            start_sample,
            lost_samples,
            cause,
            segment: 0,
            center_hz: 100e6,
        }
    }

    #[test]
    fn a_gap_is_raised_at_once_and_cleared_when_samples_flow_again() {
        use crate::source::GapCause;
        let mut t = tracker();
        let events = t.on_gap(&gap(1000, 500_000, GapCause::Overflow));
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, AlertKind::MonitoringGap);
        assert_eq!(events[0].event, EventType::Raised);
        assert_eq!(events[0].end_sample, 501_000);
        assert_eq!(events[0].details["cause"], "overflow");
        assert_eq!(t.active(), 1);
        // Samples flow: still open within the hold-off (1 s), cleared after it.
        assert!(t.on_frame(0, 501_000, 1_000_000, 1000.0, &[]).is_empty());
        let events = t.on_frame(0, 1_000_000, 1_501_000, 1000.0, &[]);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event, EventType::Cleared);
        assert_eq!(events[0].id, "site-0001");
        assert_eq!(events[0].end_sample, 501_000);
        assert_eq!(t.active(), 0);
        assert!(t.finish().is_empty());
    }

    #[test]
    fn a_gap_has_no_level_in_dbm() {
        use crate::source::GapCause;
        let mut t = tracker().with_calibration(Some(-20.0));
        let e = &t.on_gap(&gap(0, 1000, GapCause::Overflow))[0];
        assert_eq!(e.peak_dbm, None);
    }

    #[test]
    fn a_gap_carries_the_band_of_the_tuning_it_hit() {
        use crate::source::GapCause;
        let mut t = tracker();
        let g = Gap {
            segment: 1,
            center_hz: 200e6,
            ..gap(0, 1000, GapCause::Timeout)
        };
        let e = &t.on_gap(&g)[0];
        assert!((e.center_hz - 200e6).abs() < 1.0, "{}", e.center_hz);
        assert!(e.freq_low_hz < 200e6 && e.freq_high_hz > 200e6 && e.freq_low_hz > 150e6);
        // The outage goes on at the next tuning: one alert over both bands.
        let next = Gap {
            segment: 2,
            center_hz: 300e6,
            ..gap(1000, 1000, GapCause::Timeout)
        };
        assert!(t.on_gap(&next).is_empty());
        let cleared = t.finish();
        assert_eq!(cleared.len(), 1);
        assert!(cleared[0].freq_low_hz < 200e6 && cleared[0].freq_high_hz > 300e6);
    }

    #[test]
    fn one_outage_reported_piecemeal_is_one_gap_alert() {
        use crate::source::GapCause;
        let mut t = tracker();
        // A disconnect reported as it lasts: 2 s in five pieces, then samples.
        let mut events = Vec::new();
        let mut at = 10_000;
        for lost in [4, 400_000, 600_000, 2_500, 997_496] {
            events.extend(t.on_gap(&gap(at, lost, GapCause::Disconnected)));
            at += lost;
        }
        for i in 0..30 {
            let start = at + i * FRAME;
            events.extend(t.on_frame(0, start, start + FRAME, 1000.0, &[]));
        }
        let kinds: Vec<_> = events.iter().map(|e| (e.event, e.id.as_str())).collect();
        assert_eq!(events.first().map(|e| e.event), Some(EventType::Raised));
        assert_eq!(events.last().map(|e| e.event), Some(EventType::Cleared));
        assert!(events.iter().all(|e| e.id == "site-0001"), "{kinds:?}");
        let cleared = events.last().unwrap();
        assert_eq!((cleared.start_sample, cleared.end_sample), (10_000, at));
        assert_eq!(cleared.details["lost_samples"], 2_000_000);
        assert_eq!(cleared.details["lost_s"], 2.0);
        assert_eq!(cleared.details["gaps"], 5);
        // Updated while it lasted, at most once a second.
        let updates = events
            .iter()
            .filter(|e| e.event == EventType::Updated)
            .count();
        assert!((1..=2).contains(&updates), "{kinds:?}");
    }

    #[test]
    fn gaps_of_another_cause_or_after_the_holdoff_are_new_alerts() {
        use crate::source::GapCause;
        let mut t = tracker();
        let mut events = t.on_gap(&gap(0, 100, GapCause::Overflow));
        // Another cause: the overflow alert is cleared, a timeout alert raised.
        events.extend(t.on_gap(&gap(200_000, 600_000, GapCause::Timeout)));
        // 1.2 s later (past the hold-off, no frames in between): a new alert.
        events.extend(t.on_gap(&gap(2_000_000, 100, GapCause::Timeout)));
        events.extend(t.finish());
        let seq: Vec<_> = events.iter().map(|e| (e.event, e.id.as_str())).collect();
        assert_eq!(
            seq,
            [
                (EventType::Raised, "site-0001"),
                (EventType::Cleared, "site-0001"),
                (EventType::Raised, "site-0002"),
                (EventType::Cleared, "site-0002"),
                (EventType::Raised, "site-0003"),
                (EventType::Cleared, "site-0003"),
            ]
        );
        assert_eq!(events[3].details["cause"], "timeout");
    }
}
