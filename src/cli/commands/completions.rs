//! `immdqa completions SHELL` and `immdqa man`: shell completions and the man page.

use clap::CommandFactory;

use crate::cli::{Cli, Exit};

/// Print shell completions.
///
/// Example: immdqa completions bash > ~/.local/share/bash-completion/completions/immdqa
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "immdqa", &mut std::io::stdout());
    Ok(Exit::Ok)
}

/// Print the man page (roff).
///
/// Example: immdqa man > /usr/local/share/man/man1/immdqa.1
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ManArgs {}

pub fn man() -> anyhow::Result<Exit> {
    let page = clap_mangen::Man::new(Cli::command());
    page.render(&mut std::io::stdout())?;
    Ok(Exit::Ok)
}
