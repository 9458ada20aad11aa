//! The names of what a run writes into its output directory (`alerts/SITE`
//! or `--out`): the alert log, the evidence directories, the pictures and the
//! report. The output directory's rules (locking, archiving earlier runs)
//! live in `alert::out_dir`; the chain of custody (`custody`) checks these
//! same files, so the names sit below both.

/// The alert log (JSON Lines).
pub const LOG_FILE: &str = "alerts.jsonl";
/// Directory of IQ evidence recordings (SigMF).
pub const IQ_DIR: &str = "iq";
/// Directory of spectrogram PNGs, one per alert.
pub const SPECTROGRAM_DIR: &str = "spectrograms";
/// The offline report (`analyze`), a view of the log written after it.
pub const REPORT_FILE: &str = "report.html";
/// Prefix of the overview pictures, `overview-<recording>.png`.
pub const OVERVIEW_PREFIX: &str = "overview-";

/// Whether `name`, an entry of the output directory, is one of a run's outputs.
pub fn is_run_output(name: &str) -> bool {
    name == LOG_FILE || name == REPORT_FILE || is_evidence_entry(name)
}

/// Whether `name`, an entry of the output directory, holds evidence: the
/// evidence directories and the overview pictures.
pub fn is_evidence_entry(name: &str) -> bool {
    name == IQ_DIR
        || name == SPECTROGRAM_DIR
        || (name.starts_with(OVERVIEW_PREFIX) && name.ends_with(".png"))
}
