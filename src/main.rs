//! The `immdqa` binary: parse the command line, run it, exit with its code.

/// mimalloc instead of the system allocator: ingest hands every parsed record from the
/// parser thread to the store thread, and glibc's per-thread arenas made those cross-thread
/// frees 17% of the store thread's time (benchmark B1).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    immdqa::cli::main()
}
