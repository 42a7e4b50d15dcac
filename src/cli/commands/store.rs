//! `immdqa store`: encryption at rest of an existing store (`encrypt`, `rekey`).

use std::path::{Path, PathBuf};

use crate::cli::{Ctx, Exit};
use crate::store::{Keyring, StoreKey, convert};

/// Encrypt an existing store, or change its key.
///
/// New stores are encrypted from the start (`immdqa init` and `immdqa demo` make a key).
/// A store from before then is converted in place: the history and the audit log with
/// SQLCipher, every archived file and the journals with XChaCha20-Poly1305, all under one
/// random 256-bit key kept in a file outside the store (mode 0600). A kill at any point
/// leaves the old store or the new one, never a mix (the next command finishes or undoes
/// it). Stop `immdqa serve` first.
///
/// Keep the key apart from the store and its backups: without it the store cannot be read.
///
/// Examples:
///   immdqa store encrypt                      (key: store.key beside the config)
///   immdqa store encrypt --key-file /etc/immdqa/store.key
///   immdqa store rekey                        (a new key, in the same key file)
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Encrypt a plaintext store (with the configured key, or a new one named in the config)
    Encrypt(EncryptArgs),
    /// Re-encrypt the store under a new key, written over the current key file
    Rekey,
}

#[derive(Debug, clap::Args)]
pub struct EncryptArgs {
    /// Where to create the key when none is configured (default: store.key beside the
    /// config file); it is named in the config as store_key_file
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    match args.action {
        Action::Encrypt(a) => encrypt(a, ctx),
        Action::Rekey => rekey(ctx),
    }
}

fn summary(done: &convert::Converted, key: &StoreKey) -> String {
    format!(
        "{} database(s), {} archived file(s) ({} bytes) and {} journal line(s) now under the key {} (fingerprint {})",
        done.databases,
        done.archived_files,
        done.bytes,
        done.journal_lines,
        key.origin(),
        key.fingerprint()
    )
}

fn encrypt(args: EncryptArgs, ctx: &Ctx) -> anyhow::Result<Exit> {
    let dir = ctx.store_path()?;
    let keys = ctx.keyring()?;
    let key = match keys.key() {
        Some(k) => {
            if let Some(p) = &args.key_file {
                anyhow::bail!(
                    "a store key is already configured ({}); --key-file {} was not used. Nothing was changed",
                    k.origin(),
                    p.display()
                );
            }
            k.clone()
        }
        None => new_configured_key(ctx, &dir, args.key_file)?,
    };
    match convert::is_encrypted(&dir) {
        Some(true) => {
            // already encrypted: with this key (nothing to do) or another (refused)
            crate::store::Store::open(&dir, &Keyring::with(key.clone()))?;
            crate::cli::say!(
                "the store {} is already encrypted with the key {}",
                dir.display(),
                key.origin()
            );
            return Ok(Exit::Ok);
        }
        None if !dir.join("archive").exists() => {
            crate::cli::say!(
                "no store at {} yet: it will be created encrypted with the key {}",
                dir.display(),
                key.origin()
            );
            return Ok(Exit::Ok);
        }
        _ => {}
    }
    let done = convert::convert(&dir, &Keyring::none(), &key, None)?;
    crate::cli::say!("encrypted {}: {}", dir.display(), summary(&done, &key));
    Ok(Exit::Ok)
}

/// A new key in its own file, named in the config file (so every later command finds it).
fn new_configured_key(ctx: &Ctx, store: &Path, at: Option<PathBuf>) -> anyhow::Result<StoreKey> {
    let Some(config) = ctx.config.source.clone() else {
        anyhow::bail!(
            "no configuration file to name the key in: run `immdqa init`, or make a key file (64 hex digits, mode 600) and set {}",
            crate::store::crypt::KEY_FILE_ENV
        );
    };
    let path = at.unwrap_or_else(|| config.parent().unwrap_or(Path::new(".")).join("store.key"));
    let path = std::path::absolute(&path)?;
    crate::store::crypt::check_outside(&path, "--key-file", store)?;
    let origin = format!("store_key_file in {}", config.display());
    if !path.exists() {
        StoreKey::generate(&origin)?.write_new(&path)?;
        crate::cli::say!(
            "created the store key {} (mode 600); keep it apart from the store and its backups",
            path.display()
        );
    }
    let key = StoreKey::read(&path, &origin)?;
    crate::config::set_top_level(&config, "store_key_file", &path.display().to_string())?;
    crate::cli::say!("named it in {} (store_key_file)", config.display());
    Ok(key)
}

fn rekey(ctx: &Ctx) -> anyhow::Result<Exit> {
    let dir = ctx.store_path()?;
    let keys = ctx.keyring()?;
    let Some(old) = keys.key() else {
        anyhow::bail!(
            "no store key was found (looked for: {}): `immdqa store encrypt` encrypts a plaintext store",
            keys.looked()
        );
    };
    let file = key_file_of(old)?;
    let next = PathBuf::from(format!("{}.next", file.display()));
    let _ = std::fs::remove_file(&next); // a rekey killed before it started converting
    let new = StoreKey::generate(old.origin())?;
    new.write_new(&next)?;
    let done = convert::convert(&dir, &keys, &new, Some((next, file.clone())))?;
    let new = StoreKey::read(&file, "the new key")?;
    crate::cli::say!("re-encrypted {}: {}", dir.display(), summary(&done, &new));
    Ok(Exit::Ok)
}

/// The key file a key was read from.
fn key_file_of(key: &StoreKey) -> anyhow::Result<PathBuf> {
    match key.file() {
        Some(p) => Ok(std::path::absolute(p)?),
        None => anyhow::bail!(
            "cannot tell which file holds the store key ({}); nothing was changed",
            key.origin()
        ),
    }
}
