//! `immdqa init`: write a first configuration (owner-only), then offer to trust the host.

use std::io::{BufRead, IsTerminal, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use crate::cli::Exit;

/// Create the configuration for a registry mailbox: asks for (or takes as flags) the host,
/// user, import code and how to log in, writes the config file with owner-only permissions,
/// and tells you how to record the server's host key (`immdqa trust-host`).
///
/// Passwords are never written: give the NAME of an environment variable that will hold it.
///
/// Example: immdqa init --profile registry --host immtrac-ftps1.dshs.state.tx.us --user ACMECLIN --import-code ACMECLIN --password-env IMMDQA_PASSWORD
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// SFTP host of the registry mailbox [asked; default immtrac-ftps1.dshs.state.tx.us]
    #[arg(long)]
    pub host: Option<String>,
    /// SFTP port
    #[arg(long, default_value_t = 22)]
    pub port: u16,
    /// Account (login) name on the mailbox [asked]
    #[arg(long)]
    pub user: Option<String>,
    /// Your import code: the prefix of batch names, <ImportCode><YY><DDD>.hl7 [asked]
    #[arg(long)]
    pub import_code: Option<String>,
    /// Log in with this private key (it must exist)
    #[arg(long, conflicts_with = "password_env")]
    pub key_file: Option<PathBuf>,
    /// Log in with the password held in this environment variable
    #[arg(long)]
    pub password_env: Option<String>,
    /// Use a local or mounted folder instead of SFTP (it must exist)
    #[arg(long, conflicts_with_all = ["host", "key_file", "password_env"])]
    pub local_dir: Option<PathBuf>,
    /// Overwrite an existing config file
    #[arg(long)]
    pub force: bool,
    /// After writing it, log in, list the account's home and map the four folders to the
    /// names found there (asked on a terminal)
    #[arg(long)]
    pub connect: bool,
}

fn ask(prompt: &str, default: Option<&str>) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        anyhow::bail!("{prompt} is required: pass it as a flag (not a terminal, cannot ask)");
    }
    match default {
        Some(d) => crate::cli::out_part!("{prompt} [{d}]: "),
        None => crate::cli::out_part!("{prompt}: "),
    }
    std::io::stdout().flush()?;
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let v = line.trim().to_string();
    Ok(if v.is_empty() {
        default.unwrap_or("").to_string()
    } else {
        v
    })
}

/// The context of the configuration just written, with its profile selected.
fn written(config_path: &std::path::Path, profile: &str) -> anyhow::Result<crate::cli::Ctx> {
    Ok(crate::cli::Ctx {
        config: crate::config::Config::load(config_path, true)?,
        profile_flag: Some(profile.to_string()),
        store_flag: None,
        quiet: false,
        verbose: false,
    })
}

/// Map the folders of the profile just written to what the server has (writing the names
/// found into it).
fn discover(config_path: &std::path::Path, profile: &str) -> anyhow::Result<Exit> {
    let ctx = written(config_path, profile)?;
    let (_, p) = ctx.profile()?;
    let missing = crate::cli::commands::config::discover_folders(&ctx, profile, p)?;
    for m in &missing {
        eprintln!("{m}");
    }
    Ok(if missing.is_empty() {
        Exit::Ok
    } else {
        Exit::Error
    })
}

fn toml_str(s: &str) -> String {
    format!("{s:?}")
}

/// A value that may not be empty (given as a flag or answered).
fn required(what: &str, v: String) -> anyhow::Result<String> {
    let v = v.trim().to_string();
    if v.is_empty() {
        crate::cli::usage!("{what} cannot be empty");
    }
    Ok(v)
}

/// A path that must exist (an absolute path is written, so the config works from anywhere).
fn existing(what: &str, p: &std::path::Path, dir: bool) -> anyhow::Result<PathBuf> {
    let ok = if dir { p.is_dir() } else { p.is_file() };
    if !ok {
        crate::cli::usage!(
            "{what} {} does not exist{}",
            p.display(),
            if dir { " (or is not a folder)" } else { "" }
        );
    }
    Ok(std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()))
}

/// The store key's file, beside the config (outside the store, which lives in the data folder).
const KEY_FILE: &str = "store.key";

pub fn run(args: Args, profile: Option<String>, config_path: PathBuf) -> anyhow::Result<Exit> {
    let profile = profile.unwrap_or_else(|| "registry".into());
    if config_path.exists() && !args.force {
        anyhow::bail!(
            "{} already exists: edit it, or pass --force to replace it",
            config_path.display()
        );
    }
    let mut body = format!(
        "# immdqa configuration, written by `immdqa init`. See `immdqa config default` for every key.\ndefault_profile = {}\n# the store (history and archive) is encrypted with this key; keep it apart from the store\n# and its backups (without it the store cannot be read)\nstore_key_file = {}\n\n[profiles.{}]\n",
        toml_str(&profile),
        toml_str(KEY_FILE),
        profile
    );
    // interactively, offer the other ways a mailbox is reached
    let interactive = std::io::stdin().is_terminal();
    let mut local_dir = args.local_dir.clone();
    if local_dir.is_none() && args.host.is_none() && interactive {
        let how = ask(
            "mailbox: (s)ftp, or a (l)ocal or mounted folder your EHR vendor fills",
            Some("s"),
        )?;
        if how.starts_with(['l', 'L']) {
            local_dir = Some(PathBuf::from(ask("mailbox folder", None)?));
        }
    }
    if let Some(dir) = &local_dir {
        let dir = existing("local_dir", dir, true)?;
        body.push_str(&format!(
            "local_dir = {}\n",
            toml_str(&dir.display().to_string())
        ));
    } else {
        body.push_str(&login_lines(
            args.host,
            args.user,
            args.port,
            args.key_file,
            args.password_env,
            interactive,
        )?);
        body.push_str("known_hosts = \"known_hosts\"\n");
    }
    let code = required(
        "the import code",
        match args.import_code {
            Some(c) => c,
            None => ask("import code (batch name prefix)", None)?,
        },
    )?;
    body.push_str(&format!("import_code = {}\n", toml_str(&code)));
    body.push_str("dqa_dir = \"DQA-Reports\"\nreceive_dir = \"Receive\"\naccepted_dir = \"Accepted\"\ndropoff_dir = \"HL7-Dropoff\"\n");
    // validate before writing
    crate::config::Config::from_toml(&body, &config_path)?;
    if let Some(dir) = config_path.parent() {
        crate::store::archive::mkdir_private(dir)?;
    }
    let key_path = config_path
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join(KEY_FILE);
    let key_note = if key_path.exists() {
        // a key from an earlier init: replacing it would lock its store away
        crate::store::StoreKey::read(&key_path, "an earlier `immdqa init`")?;
        "kept"
    } else {
        crate::store::StoreKey::generate("immdqa init")?.write_new(&key_path)?;
        "created"
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&config_path)?;
    f.write_all(body.as_bytes())?;
    crate::cli::out!("wrote {} (mode 600)", config_path.display());
    crate::cli::out!(
        "{key_note} the store key {} (mode 600): the store is encrypted with it. Back it up apart from the store",
        key_path.display()
    );
    next_steps(
        &config_path,
        &profile,
        local_dir.is_none(),
        interactive,
        args.connect,
    )
}

/// The SFTP lines of the profile: host, port, user, and a key file or the environment
/// variable holding the password (asked for what the flags do not give).
fn login_lines(
    host: Option<String>,
    user: Option<String>,
    port: u16,
    key_file: Option<PathBuf>,
    password_env: Option<String>,
    interactive: bool,
) -> anyhow::Result<String> {
    let mut body = String::new();
    let host = match host {
        Some(h) => h,
        None => ask("SFTP host", Some("immtrac-ftps1.dshs.state.tx.us"))?,
    };
    let user = required(
        "the user (account)",
        match user {
            Some(u) => u,
            None => ask("user (account)", None)?,
        },
    )?;
    body.push_str(&format!(
        "host = {}\nport = {}\nuser = {}\n",
        toml_str(&host),
        port,
        toml_str(&user)
    ));
    let key_file = match (key_file, &password_env) {
        (Some(k), _) => Some(k),
        (None, None) if interactive => {
            let how = ask(
                "log in with (k)ey file, or (p)assword held in an environment variable",
                Some("p"),
            )?;
            if how.starts_with(['k', 'K']) {
                Some(PathBuf::from(ask(
                    "private key file",
                    Some("~/.ssh/id_ed25519"),
                )?))
            } else {
                None
            }
        }
        _ => None,
    };
    match (key_file, password_env) {
        (Some(k), _) => {
            let k = match k.to_str().and_then(|s| s.strip_prefix("~/")) {
                Some(rest) => directories::BaseDirs::new()
                    .map(|b| b.home_dir().join(rest))
                    .unwrap_or(k),
                None => k,
            };
            let k = existing("key_file", &k, false)?;
            body.push_str(&format!(
                "key_file = {}\n",
                toml_str(&k.display().to_string())
            ))
        }
        (None, Some(v)) => body.push_str(&format!(
            "password_env = {}\n",
            toml_str(&required("--password-env", v)?)
        )),
        (None, None) => {
            let v = ask(
                "environment variable that will hold the password",
                Some("IMMDQA_PASSWORD"),
            )?;
            body.push_str(&format!("password_env = {}\n", toml_str(&v)));
        }
    }
    Ok(body)
}

/// After the configuration is written: offer to pin the host key and map the folders, or
/// say what to run next.
fn next_steps(
    config_path: &std::path::Path,
    profile: &str,
    remote: bool,
    interactive: bool,
    connect: bool,
) -> anyhow::Result<Exit> {
    if remote && interactive {
        let answer = ask(
            "Connect now (no credentials are sent) to show the server's host key fingerprint and record it? [Y/n]",
            Some("y"),
        )?;
        if matches!(answer.as_str(), "y" | "Y" | "yes") {
            let ctx = written(config_path, profile)?;
            let trusted = crate::cli::commands::trust_host::run(
                crate::cli::commands::trust_host::Args {
                    fingerprint: None,
                    yes: false,
                },
                &ctx,
            )?;
            if trusted != Exit::Ok {
                return Ok(trusted);
            }
            let answer = ask(
                "Log in now and map the mailbox folders to the names on the server? [Y/n]",
                Some("y"),
            )?;
            if matches!(answer.as_str(), "y" | "Y" | "yes") {
                return discover(config_path, profile);
            }
            return Ok(Exit::Ok);
        }
    }
    if connect {
        return discover(config_path, profile);
    }
    if remote {
        crate::cli::out!(
            "next: record the server's host key after checking its fingerprint with the registry:\n  immdqa --config {} trust-host\nthen: immdqa --config {} fetch",
            config_path.display(),
            config_path.display()
        );
    } else {
        crate::cli::out!("next: immdqa --config {} fetch", config_path.display());
    }
    Ok(Exit::Ok)
}
