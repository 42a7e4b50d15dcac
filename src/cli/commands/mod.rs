//! One module per subcommand: clap `Args` + `run(args, &Ctx) -> Result<Exit>`.
pub mod changes;
pub mod chart;
pub mod check;
pub mod config;
pub mod consent;
pub mod explain;
pub mod export;
pub mod fetch;
pub mod import;
pub mod inspect;
pub mod query;
pub mod reparse;
pub mod report;
pub mod status;
pub mod submissions;
pub mod trends;
pub mod trust_host;
