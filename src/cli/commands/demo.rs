//! `immdqa demo`: see what immdqa does, with nothing but this binary.

use std::path::PathBuf;

use crate::cli::Exit;
use crate::demo::{self, DemoOptions};

/// Run the whole tool on a synthetic registry mailbox: generate N weeks of an invented
/// organisation's batches and the registry's answers (several report shapes, consent
/// notices), serve them over SFTP from this process on 127.0.0.1 with a fresh host key, fetch
/// them as a real profile would, parse them, and write the weekly report. No network, no
/// account, nothing to install. Deterministic per --seed.
///
/// Example: immdqa demo --weeks 26 --out immdqa-demo
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// How many weeks of history to generate
    #[arg(long, default_value_t = 26, value_parser = clap::value_parser!(u32).range(2..=260))]
    pub weeks: u32,
    /// Random seed (same seed, same mailbox)
    #[arg(long, default_value_t = 2025)]
    pub seed: u64,
    /// Output folder (replaced if it holds an earlier demo)
    #[arg(long, default_value = "immdqa-demo")]
    pub out: PathBuf,
}

pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let today = chrono::Local::now().date_naive();
    let r = demo::run(
        &DemoOptions {
            weeks: args.weeks,
            seed: args.seed,
            out: args.out.clone(),
            today,
        },
        &mut |line| println!("{line}"),
    )?;
    println!(
        "\nOpen {} in a browser. Explore the history with, for example:\n  immdqa --config {} trends --top 5\n  immdqa --config {} consent --open\n  immdqa --config {} check",
        r.report.index.display(),
        r.config.display(),
        r.config.display(),
        r.config.display()
    );
    Ok(Exit::Ok)
}
