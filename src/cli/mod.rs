//! The command line: argument parsing (clap) and one module per subcommand.
//! Each subcommand is a thin layer over the library.

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
pub enum Command {}

/// Parse the arguments, run the command, print any error; returns the exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    match cli.command {}
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
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
