//! `immdqa config check|default|path`: show and validate the configuration.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::cli::{Ctx, Exit};
use crate::config::Profile;
use crate::transport::Options;

#[derive(Debug, clap::Subcommand)]
pub enum ConfigCmd {
    /// Print the resolved configuration (secrets masked) and what is wrong with it.
    ///
    /// Checks every profile (or the one given with --profile): required keys, key file
    /// present and private, known_hosts readable, password variable set, config file not
    /// readable by others when it holds a secret, store folder permissions.
    ///
    /// With --connect it also logs in (after the host key or certificate check), lists the
    /// account's home, and maps the four folders to what the server calls them (real accounts
    /// show lower-case `hl7-dropoff`, …), writing the names it found into the profile.
    ///
    /// Example: immdqa config check --profile registry --connect
    #[command(verbatim_doc_comment)]
    Check {
        /// Log in, list the home folder and map dqa_dir, receive_dir, accepted_dir and
        /// dropoff_dir to the folders found there (written into the profile)
        #[arg(long)]
        connect: bool,
    },
    /// Print a commented example configuration.
    ///
    /// Example: immdqa config default > ~/.config/immdqa/config.toml
    #[command(verbatim_doc_comment)]
    Default,
    /// Print the path of the configuration file in use.
    Path,
}

fn mode_of(p: &Path) -> Option<u32> {
    std::fs::metadata(p)
        .ok()
        .map(|m| m.permissions().mode() & 0o777)
}

/// Log in, list the home folder, map the four folder settings to what is there and write the
/// names found into the profile. Returns the folders still missing (problems).
pub fn discover_folders(ctx: &Ctx, name: &str, p: &Profile) -> anyhow::Result<Vec<String>> {
    use crate::transport::discover::{Found, map_folders};
    let opts = Options::from_profile(name, p)?;
    let mut remote = opts.open()?;
    let home: Vec<String> = remote
        .list(".")?
        .into_iter()
        .filter(|e| e.kind == crate::transport::EntryKind::Dir)
        .filter_map(|e| String::from_utf8(e.name).ok())
        .collect();
    crate::cli::out!(
        "  home folder of {}: {}",
        remote.describe(),
        home.join(", ")
    );
    let mapping = map_folders(
        &home,
        [
            ("dqa_dir", p.dqa_dir.as_str()),
            ("receive_dir", p.receive_dir.as_str()),
            ("accepted_dir", p.accepted_dir.as_str()),
            ("dropoff_dir", p.dropoff_dir.as_str()),
        ],
    );
    let mut updates: Vec<(&str, String)> = Vec::new();
    let mut missing = Vec::new();
    for m in &mapping {
        match &m.found {
            Found::Exact => crate::cli::out!("  {:<13} {} (found)", m.key, m.configured),
            Found::Other(n) => {
                crate::cli::out!(
                    "  {:<13} {} → {n} (the server's name; written into the profile)",
                    m.key,
                    m.configured
                );
                updates.push((m.key, n.clone()));
            }
            Found::Missing => missing.push(format!(
                "profile '{name}': {} = {:?}: no such folder in the home folder (it has: {})",
                m.key,
                m.configured,
                home.join(", ")
            )),
            Found::NotChecked => {
                crate::cli::out!("  {:<13} {} (a path: not checked)", m.key, m.configured)
            }
        }
    }
    if !updates.is_empty() {
        let Some(config) = &ctx.config.source else {
            anyhow::bail!("no configuration file to write the folder names into");
        };
        let keys: Vec<(&str, &str)> = updates.iter().map(|(k, v)| (*k, v.as_str())).collect();
        crate::config::set_profile_keys(config, name, &keys)?;
    }
    Ok(missing)
}

/// Check one profile; returns problems found (printed lines go to stdout).
fn check_profile(name: &str, p: &Profile) -> Vec<String> {
    let mut problems = Vec::new();
    crate::cli::out!("profile {name}:");
    match Options::from_profile(name, p) {
        Err(e) => problems.push(e.to_string()),
        Ok(o) => {
            let check = o.preflight(name);
            for (label, value) in &check.lines {
                crate::cli::out!("  {:<14}{value}", format!("{label}:"));
            }
            problems.extend(check.problems);
        }
    }
    crate::cli::out!("  dqa_dir:      {}", p.dqa_dir);
    crate::cli::out!("  receive_dir:  {}", p.receive_dir);
    crate::cli::out!("  accepted_dir: {}", p.accepted_dir);
    crate::cli::out!("  dropoff_dir:  {}", p.dropoff_dir);
    crate::cli::out!(
        "  import_code:  {}",
        p.import_code
            .as_deref()
            .unwrap_or("(not set; needed for upload)")
    );
    crate::cli::out!(
        "  timeout {} s, retries {}, max_file_size {} bytes",
        p.timeout_secs,
        p.retries,
        p.max_file_size
    );
    problems
}

pub fn run(cmd: ConfigCmd, ctx: &Ctx) -> anyhow::Result<Exit> {
    match cmd {
        ConfigCmd::Default => unreachable!("handled before the config is loaded"),
        ConfigCmd::Path => {
            match &ctx.config.source {
                Some(p) => crate::cli::out!("{}", p.display()),
                None => crate::cli::out!(
                    "{} (does not exist)",
                    crate::config::default_config_path()?.display()
                ),
            }
            Ok(Exit::Ok)
        }
        ConfigCmd::Check { connect } => {
            let mut problems = Vec::new();
            match &ctx.config.source {
                Some(p) => crate::cli::out!(
                    "config file: {} (mode {:o})",
                    p.display(),
                    mode_of(p).unwrap_or(0)
                ),
                None => {
                    crate::cli::out!("config file: none (using defaults)");
                    problems.push(format!(
                        "no config file at {}: create one with `immdqa config default > FILE`",
                        crate::config::default_config_path()?.display()
                    ));
                }
            }
            if let Err(e) = ctx.config.check_secret_permissions() {
                problems.push(e.to_string());
            }
            let store = ctx.store_path()?;
            match mode_of(&store) {
                Some(m) => {
                    crate::cli::out!("store: {} (mode {m:o})", store.display());
                    if m & 0o077 != 0 {
                        problems.push(format!(
                            "store {} is readable by others (mode {m:o}); it holds patient data: run chmod 700",
                            store.display()
                        ));
                    }
                }
                None => crate::cli::out!("store: {} (created on first fetch)", store.display()),
            }
            // the key is found and readable (its fit is checked when the store is opened)
            match crate::store::crypt::find_key(
                ctx.config.store_key_file.as_deref(),
                &ctx.config.label(),
                &store,
            ) {
                Ok(keys) => match keys.key() {
                    Some(k) => crate::cli::out!(
                        "store key: {} (fingerprint {})",
                        k.origin(),
                        k.fingerprint()
                    ),
                    None => crate::cli::out!(
                        "store key: none: the store is not encrypted (looked for: {})",
                        keys.looked()
                    ),
                },
                Err(e) => problems.push(e.to_string()),
            }
            let selected: Vec<(String, &Profile)> = match &ctx.profile_flag {
                Some(_) => vec![ctx.profile()?],
                None => ctx
                    .config
                    .profiles
                    .iter()
                    .map(|(n, p)| (n.clone(), p))
                    .collect(),
            };
            if selected.is_empty() {
                problems.push("no profiles defined".into());
            }
            for (name, p) in selected {
                problems.extend(check_profile(&name, p));
                if connect {
                    match discover_folders(ctx, &name, p) {
                        Ok(found) => problems.extend(found),
                        Err(e) => problems.push(format!("profile '{name}': {e:#}")),
                    }
                }
            }
            if problems.is_empty() {
                crate::cli::out!("configuration ok");
                Ok(Exit::Ok)
            } else {
                crate::cli::out!("problems:");
                for p in &problems {
                    crate::cli::out!("  - {p}");
                }
                Ok(Exit::Error)
            }
        }
    }
}
