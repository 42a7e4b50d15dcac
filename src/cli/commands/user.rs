//! `immdqa user`: who may sign in to `immdqa serve`, with which role.

use std::io::{BufRead, IsTerminal};

use crate::cli::{Ctx, Exit};
use crate::domain::Role;
use crate::serve::auth;

/// People who may sign in to the web workspace (`immdqa serve`) and their roles:
///   dqo         the worklist with patient references; closes, ignores, reopens, assigns
///   compliance  consent follow-ups with the names the notices carry; closes them
///   analyst     every aggregate page, the worklist without patient references
///   admin       manages users; sees what an analyst sees
///
/// Passwords are stored as argon2id hashes, API tokens as SHA-256 hashes (a token is shown
/// once, when made). Every change is in the audit trail (`immdqa audit`).
///
/// Examples:
///   immdqa user add ana --role dqo
///   printf '%s\n' "$PASSWORD" | immdqa user add lee --role analyst --password-stdin
///   immdqa user token ana        (for scripts: curl -H "Authorization: Bearer TOKEN" …/api/worklist)
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Add a user (asks for the password twice, or reads it with --password-stdin)
    Add(AddArgs),
    /// Every user and role
    List,
    /// Remove a user and their API tokens
    Remove(NameArg),
    /// Set a new password
    Passwd(PasswdArgs),
    /// Make a new API token and print it (once: only its hash is kept)
    Token(NameArg),
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The user name (letters, digits, '.', '_', '-')
    pub name: String,
    /// dqo, compliance, analyst or admin
    #[arg(long, value_parser = parse_role)]
    pub role: Role,
    /// Read the password from the first line of standard input instead of asking
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, clap::Args)]
pub struct PasswdArgs {
    /// The user name
    pub name: String,
    /// Read the password from the first line of standard input instead of asking
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, clap::Args)]
pub struct NameArg {
    /// The user name
    pub name: String,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        format!(
            "unknown role '{s}': one of {}",
            Role::ALL.map(Role::as_str).join(", ")
        )
    })
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    let first = rpassword::prompt_password("password (12 characters or more): ")?;
    let again = rpassword::prompt_password("again: ")?;
    if first != again {
        anyhow::bail!("the two passwords differ: nothing was changed");
    }
    Ok(first)
}

fn audit(store: &mut crate::store::Store, detail: &str) -> anyhow::Result<()> {
    let by = std::env::var("USER").ok();
    crate::store::users::AuditLog::open(store.dir(), store.key())?.append(
        &crate::store::users::AuditEntry {
            user: by.as_deref(),
            address: Some("cli"),
            event: "user",
            detail: Some(detail),
            items: None,
        },
    )?;
    Ok(())
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let mut store = ctx.open_store()?;
    match args.action {
        Action::Add(a) => {
            if let Err(m) = auth::check_new_user(&a.name, "x".repeat(12).as_str()) {
                crate::cli::usage!("{m}");
            }
            let password = read_password(a.password_stdin)?;
            if let Err(m) = auth::check_new_user(&a.name, &password) {
                crate::cli::usage!("{m}");
            }
            let hash = auth::hash_password(&password).map_err(anyhow::Error::msg)?;
            if !store.user_add(&a.name, a.role, &hash)? {
                crate::cli::usage!(
                    "there is already a user named {}: `immdqa user passwd {}` sets a new password",
                    a.name,
                    a.name
                );
            }
            audit(
                &mut store,
                &format!("{} added as {}", a.name, a.role.as_str()),
            )?;
            crate::cli::out!("added {} ({})", a.name, a.role.as_str());
        }
        Action::List => {
            let mut t = crate::table::Table::new(&["name", "role", "created", "password_changed"]);
            for u in store.users()? {
                t.push(vec![
                    crate::table::Value::text(&u.name),
                    crate::table::Value::text(u.role.as_str()),
                    crate::table::Value::text(&u.created),
                    crate::table::Value::text(&u.updated),
                ]);
            }
            if t.rows.is_empty() {
                crate::cli::out!(
                    "no users yet: immdqa user add NAME --role dqo|compliance|analyst|admin"
                );
            } else {
                crate::cli::out!("{}", t.to_terminal());
            }
        }
        Action::Remove(a) => {
            if !store.user_remove(&a.name)? {
                anyhow::bail!("no user named {}: see `immdqa user list`", a.name);
            }
            audit(&mut store, &format!("{} removed", a.name))?;
            crate::cli::out!(
                "removed {} (a running server signs them out at their next request)",
                a.name
            );
        }
        Action::Passwd(a) => {
            if store.user(&a.name)?.is_none() {
                anyhow::bail!("no user named {}: see `immdqa user list`", a.name);
            }
            let password = read_password(a.password_stdin)?;
            if let Err(m) = auth::check_new_user(&a.name, &password) {
                crate::cli::usage!("{m}");
            }
            let hash = auth::hash_password(&password).map_err(anyhow::Error::msg)?;
            store.user_set_password(&a.name, &hash)?;
            audit(&mut store, &format!("{}: new password", a.name))?;
            crate::cli::out!("new password set for {}", a.name);
        }
        Action::Token(a) => {
            if store.user(&a.name)?.is_none() {
                anyhow::bail!("no user named {}: see `immdqa user list`", a.name);
            }
            let token = auth::random_token();
            store.token_add(&a.name, &auth::token_hash(&token))?;
            audit(&mut store, &format!("{}: new API token", a.name))?;
            eprintln!(
                "a new API token for {} (shown once; send it as Authorization: Bearer …):",
                a.name
            );
            crate::cli::out!("{token}");
        }
    }
    Ok(Exit::Ok)
}
