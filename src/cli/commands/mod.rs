//! One module per subcommand: clap `Args` + `run(args, &Ctx) -> Result<Exit>`.
pub mod audit;
pub mod changes;
pub mod chart;
pub mod check;
pub mod codes;
pub mod completeness;
pub mod completions;
pub mod config;
pub mod consent;
pub mod demo;
pub mod explain;
pub mod export;
pub mod fetch;
pub mod import;
pub mod init;
pub mod inspect;
pub mod lint;
pub mod query;
pub mod rebuild;
pub mod reparse;
pub mod report;
pub mod score;
pub mod serve;
pub mod status;
pub mod store;
pub mod submissions;
pub mod sync;
pub mod trends;
pub mod trust_host;
pub mod upload;
pub mod user;
pub mod worklist;

/// The arguments of a hand action on several items (worklist close/ignore/reopen, consent
/// close).
#[derive(Debug, clap::Args)]
pub struct HandArgs {
    /// The ids (first column of the listing: `immdqa worklist`, `immdqa consent --open`)
    #[arg(required = true, num_args = 1..)]
    pub ids: Vec<i64>,
    /// Why (kept with the item, with the time and who; earlier notes are kept; do not write
    /// patient names here)
    #[arg(long)]
    pub note: Option<String>,
    /// Who takes the action [default: $USER]
    #[arg(long = "as", value_name = "NAME")]
    pub by: Option<String>,
}

/// A hand action on several ids (worklist close/ignore/reopen, consent close): `act` takes
/// each id and says whether it knew it; one line per id acted on, then one error naming every
/// unknown id with where to find the ids (`hint`).
pub(crate) fn on_each_id(
    ids: &[i64],
    done: &str,
    unknown: &str,
    hint: &str,
    mut act: impl FnMut(i64) -> anyhow::Result<bool>,
) -> anyhow::Result<crate::cli::Exit> {
    let mut missing = Vec::new();
    for id in ids {
        if act(*id)? {
            crate::cli::say!("{} {id} {done}", unknown.trim_start_matches("no "));
        } else {
            missing.push(id.to_string());
        }
    }
    if !missing.is_empty() {
        anyhow::bail!("{unknown} {}: see the ids in `{hint}`", missing.join(", "));
    }
    Ok(crate::cli::Exit::Ok)
}

/// Who takes a hand action: `--as NAME`, else `$USER`.
pub(crate) fn who(by: &Option<String>) -> Option<String> {
    by.clone().or_else(|| std::env::var("USER").ok())
}
