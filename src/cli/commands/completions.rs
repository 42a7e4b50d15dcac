//! `immdqa completions SHELL` and `immdqa man`: shell completions and the man page.

use clap::CommandFactory;

use crate::cli::{Cli, Exit};

/// Print shell completions.
///
/// Example: immdqa completions bash > ~/.local/share/bash-completion/completions/immdqa
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The shell to write completions for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub fn run(args: &Args) -> anyhow::Result<Exit> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "immdqa", &mut std::io::stdout());
    Ok(Exit::Ok)
}

/// Print the man page (roff), or with --out write it and one page per subcommand
/// (immdqa-fetch.1, …; the main page's SEE ALSO refers to them).
///
/// Example: immdqa man --out /usr/local/share/man/man1
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ManArgs {
    /// Write immdqa.1 and every immdqa-COMMAND.1 into this folder
    #[arg(long, value_name = "DIR")]
    pub out: Option<std::path::PathBuf>,
}

pub fn man(args: &ManArgs) -> anyhow::Result<Exit> {
    match &args.out {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            clap_mangen::generate_to(Cli::command(), dir)
                .map_err(|e| anyhow::anyhow!("writing man pages to {}: {e}", dir.display()))?;
            let n = std::fs::read_dir(dir)?.count();
            crate::cli::say!("wrote {n} man pages to {}", dir.display());
        }
        None => {
            let page = clap_mangen::Man::new(Cli::command());
            page.render(&mut std::io::stdout())?;
        }
    }
    Ok(Exit::Ok)
}
