//! The `rfsentry` command: a private command line (`cli`) over the library.

mod cli;

// The library modules the command line calls, bound at the crate root so the
// `cli` files name them as `crate::iq::…`, `crate::watch::…`.
use rfsentry::{
    alert, custody, dsp, iq, layout, profile, run, score, source, synth, watch, Error, Result,
};

fn main() {
    restore_sigpipe();
    std::process::exit(cli::main());
}

/// Die quietly on a closed pipe (`rfsentry score … | head`) like other Unix
/// tools, instead of panicking on the failed write.
#[cfg(unix)]
fn restore_sigpipe() {
    // SAFETY: resetting a signal disposition to its default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn restore_sigpipe() {}
