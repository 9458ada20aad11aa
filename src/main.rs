//! The `rfsentry` command: a thin shell over the library's `cli` module.

fn main() {
    restore_sigpipe();
    std::process::exit(rfsentry::cli::main());
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
