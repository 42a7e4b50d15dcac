//! One module per subcommand: clap `Args` + `run(args, &Ctx) -> Result<Exit>`.
pub mod config;
pub mod fetch;
pub mod status;
pub mod trust_host;
