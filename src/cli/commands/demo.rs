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
        &mut |line| crate::cli::out!("{line}"),
    )?;
    let cwd = std::env::current_dir().unwrap_or_default();
    let shown = |p: &std::path::Path| -> String {
        p.strip_prefix(&cwd)
            .map(|r| r.display().to_string())
            .unwrap_or_else(|_| p.display().to_string())
    };
    let (run, alternative) = invocation(&cwd);
    let config = shown(&r.config);
    crate::cli::out!(
        "\nOpen {} in a browser. Explore the history, from this folder, with for example:",
        shown(&r.report.index)
    );
    for command in [
        "trends --top 5",
        "worklist --owner clinical",
        "consent --open",
        "check",
    ] {
        crate::cli::out!("  {run} --config {config} {command}");
    }
    if let Some(dir) = r.config.parent() {
        crate::cli::out!(
            "The history is encrypted with the key {} (beside the config, outside the store).",
            shown(&dir.join("immdqa-demo.key"))
        );
    }
    if let Some(alt) = alternative {
        crate::cli::out!("({alt})");
    }
    Ok(Exit::Ok)
}

/// How to run immdqa again as the user just did: `cargo run --` from the source tree (with
/// the built binary as the alternative), `immdqa` when the PATH finds this binary, else its
/// full path.
fn invocation(cwd: &std::path::Path) -> (String, Option<String>) {
    let Ok(exe) = std::env::current_exe() else {
        return ("immdqa".into(), None);
    };
    if exe.starts_with(cwd.join("target")) && cwd.join("Cargo.toml").exists() {
        let built = exe.strip_prefix(cwd).unwrap_or(&exe).display().to_string();
        return (
            "cargo run --".into(),
            Some(format!(
                "or {built} instead of `cargo run --`; `cargo install --path .` puts immdqa on your PATH"
            )),
        );
    }
    let on_path = std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|d| {
            std::fs::canonicalize(d.join("immdqa")).ok() == std::fs::canonicalize(&exe).ok()
        })
    });
    if on_path {
        ("immdqa".into(), None)
    } else {
        (exe.display().to_string(), None)
    }
}
