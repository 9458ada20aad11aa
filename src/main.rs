//! The `rfsentry` command: a thin shell over the library's `cli` module.

fn main() {
    std::process::exit(rfsentry::cli::main());
}
