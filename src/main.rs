//! The `immdqa` binary: parse the command line, run it, exit with its code.
fn main() -> std::process::ExitCode {
    immdqa::cli::main()
}
