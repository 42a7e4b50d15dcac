//! One module per subcommand: clap `Args` + `run(args, &Ctx) -> Result<Exit>`.
pub mod config;
pub mod explain;
pub mod fetch;
pub mod import;
pub mod inspect;
pub mod reparse;
pub mod status;
pub mod trust_host;
