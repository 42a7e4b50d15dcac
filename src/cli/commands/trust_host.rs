//! `immdqa trust-host`: show the server's host key fingerprint and record it in known_hosts.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use crate::cli::{Ctx, Exit};
use crate::config::Endpoint;
use crate::transport::Retry;
use crate::transport::sftp::{self, HostKeyStatus, SftpOptions};

/// Connect (sending no credentials), show the server's host key fingerprint, and record it in
/// the profile's known_hosts after you confirm it.
///
/// Compare the fingerprint with the one the registry gives you out of band. Without a
/// terminal, pass --fingerprint with the expected value (recorded only if it matches) or --yes.
/// A changed key is never replaced: remove the old line yourself once the registry confirms.
///
/// Example: immdqa trust-host --profile registry --fingerprint SHA256:abc...
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Record the key only if its fingerprint is exactly this (SHA256:...)
    #[arg(long, value_name = "SHA256:...")]
    pub fingerprint: Option<String>,
    /// Record the key without asking
    #[arg(long)]
    pub yes: bool,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let (name, profile) = ctx.profile()?;
    let Endpoint::Sftp {
        host,
        port,
        user,
        auth,
        known_hosts,
    } = profile.endpoint(&name)?
    else {
        anyhow::bail!("profile '{name}' uses a local folder: there is no host key to trust");
    };
    let opts = SftpOptions {
        host,
        port,
        user,
        auth,
        known_hosts,
        timeout: Duration::from_secs(profile.timeout_secs),
        retry: Retry::from_profile(profile),
    };
    let (key, status) = sftp::probe_host_key(&opts)?;
    let who = opts.known_hosts_name();
    match status {
        HostKeyStatus::Trusted => {
            println!(
                "{who} is already trusted ({} {}) in {}",
                key.type_name(),
                key.fingerprint,
                opts.known_hosts.display()
            );
            return Ok(Exit::Ok);
        }
        HostKeyStatus::Changed => {
            eprintln!(
                "@@@ HOST KEY CHANGED for {who} @@@\nThe server now presents {} {}, which does not match {}.\nNot recording it. If the registry confirms the new key, delete the old line for {who} from that file and run trust-host again.",
                key.type_name(),
                key.fingerprint,
                opts.known_hosts.display()
            );
            return Ok(Exit::Error);
        }
        HostKeyStatus::Revoked => {
            eprintln!(
                "@@@ REVOKED HOST KEY for {who} @@@\nThe server presents {} {}, which {} marks @revoked.\nNot recording it: a revoked key is never trusted again, whatever --yes or --fingerprint say.",
                key.type_name(),
                key.fingerprint,
                opts.known_hosts.display()
            );
            return Ok(Exit::Error);
        }
        HostKeyStatus::Unknown => {}
    }
    println!("{who} presents a {} key:", key.type_name());
    println!("  fingerprint: {}", key.fingerprint);
    let accept = if let Some(expected) = &args.fingerprint {
        if expected.trim() != key.fingerprint {
            eprintln!(
                "the fingerprint does not match the expected {}: not recording it",
                expected.trim()
            );
            return Ok(Exit::Error);
        }
        true
    } else if args.yes {
        true
    } else if std::io::stdin().is_terminal() {
        print!(
            "Is this the registry's key? Record it in {}? [y/N] ",
            opts.known_hosts.display()
        );
        std::io::stdout().flush()?;
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        matches!(line.trim(), "y" | "Y" | "yes" | "YES")
    } else {
        eprintln!(
            "not a terminal: pass --fingerprint {} (after checking it) or --yes to record it",
            key.fingerprint
        );
        return Ok(Exit::Error);
    };
    if !accept {
        println!("not recorded");
        return Ok(Exit::Error);
    }
    sftp::trust_host_key(&opts, &key)?;
    println!("recorded {who} in {}", opts.known_hosts.display());
    Ok(Exit::Ok)
}
