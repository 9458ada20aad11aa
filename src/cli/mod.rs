//! The command line: argument parsing (clap) and one module per subcommand.
//! Each subcommand is a thin layer over the library.

pub mod analyze;
pub mod common;
pub mod devices;
pub mod host;
pub mod hub;
pub mod keygen;
pub mod learn;
pub mod live;
pub mod monitor;
pub mod operator;
pub mod score;
pub mod synth;
pub mod verify;

use clap::{Parser, Subcommand};

/// rfsentry — learn a site's normal radio spectrum, then watch it for jamming and rogue transmitters.
#[derive(Debug, Parser)]
#[command(name = "rfsentry", version, about, long_about = None)]
pub struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make a labelled test recording (SigMF) from a scenario: noise, known emitters, jammers, rogue bursts.
    Synth(synth::SynthArgs),
    /// Build or merge a site's baseline profile from recordings or a device.
    Learn(learn::LearnArgs),
    /// Analyse recordings against a site's profile; write alerts, evidence and a report.
    Analyze(analyze::AnalyzeArgs),
    /// Watch a site live (a SoapySDR device, or a recording replayed at real time).
    Monitor(monitor::MonitorArgs),
    /// Score an alert log against the annotated recordings it came from.
    Score(score::ScoreArgs),
    /// List SoapySDR receivers, or probe one's ranges.
    Devices(devices::DevicesArgs),
    /// The command centre: every venue's alerts through an MQTT broker, stored and served.
    Hub(hub::HubArgs),
    /// Make a sensor's Ed25519 key pair (signs its alert logs and profiles).
    Keygen(keygen::KeygenArgs),
    /// Check an output directory's chain of custody: every line, signature and evidence file.
    Verify(verify::VerifyArgs),
}

/// What a command can fail with: the core's errors, and those of the
/// console and the fleet (which `monitor` and `hub` start). Each is printed
/// as it says itself.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Core(#[from] crate::Error),
    #[error(transparent)]
    Console(#[from] rfsentry_console::ConsoleError),
    #[error(transparent)]
    Fleet(#[from] rfsentry_fleet::FleetError),
}

/// Parse the arguments, run the command, print any error; returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    init_tracing(cli.verbose);
    let result = match &cli.command {
        Command::Synth(a) => synth::run(a).map_err(CliError::from),
        Command::Learn(a) => learn::run(a).map_err(CliError::from),
        Command::Analyze(a) => analyze::run(a).map_err(CliError::from),
        Command::Monitor(a) => monitor::run(a),
        Command::Score(a) => score::run(a).map_err(CliError::from),
        Command::Devices(a) => devices::run(a).map_err(CliError::from),
        Command::Hub(a) => hub::run(a),
        Command::Keygen(a) => keygen::run(a).map_err(CliError::from),
        Command::Verify(a) => return verify::run(a),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("rfsentry: error: {e}");
            1
        }
    }
}

/// Print clap's message (help, version, or a usage error) and return its exit
/// code. A usage error quotes what was typed: control characters in it are
/// escaped, never sent raw to the terminal.
fn usage_error(e: clap::Error) -> i32 {
    use std::io::Write;
    let text = e.render().to_string();
    let safe: String = text
        .chars()
        .flat_map(|c| match c {
            '\n' | '\t' => vec![c],
            c if c.is_control() => c.escape_default().collect(),
            c => vec![c],
        })
        .collect();
    if e.use_stderr() {
        let _ = write!(std::io::stderr(), "{safe}");
    } else {
        let _ = write!(std::io::stdout(), "{safe}");
    }
    e.exit_code()
}

/// Log to stderr at a level set by `-v` or `RUST_LOG`.
pub fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colour codes only on a terminal: logs redirected to a file or a
    // journal stay plain text.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        // Colour codes only for a terminal, not for a log file or journald.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
