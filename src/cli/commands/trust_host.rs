//! `immdqa trust-host`: show the server's host key fingerprint and record it in known_hosts.

use std::io::{BufRead, IsTerminal, Write};

use crate::cli::{Ctx, Exit};
use crate::transport::Options;
use crate::transport::ftps::{self, FtpsOptions};
use crate::transport::sftp::{self, HostKeyStatus};

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

/// Ask, or take --fingerprint / --yes: whether to record what the server presented.
fn confirm(
    args: &Args,
    presented: &str,
    matches: impl Fn(&str) -> bool,
    into: &str,
) -> anyhow::Result<Option<bool>> {
    if let Some(expected) = &args.fingerprint {
        if !matches(expected.trim()) {
            eprintln!(
                "the fingerprint does not match the expected {}: not recording it",
                expected.trim()
            );
            return Ok(Some(false));
        }
        return Ok(Some(true));
    }
    if args.yes {
        return Ok(Some(true));
    }
    if std::io::stdin().is_terminal() {
        crate::cli::out_part!("Is this the registry's? Record it in {into}? [y/N] ");
        std::io::stdout().flush()?;
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(Some(matches!(line.trim(), "y" | "Y" | "yes" | "YES")));
    }
    eprintln!(
        "not a terminal: pass --fingerprint {presented} (after checking it) or --yes to record it"
    );
    Ok(None)
}

/// FTPS: show the certificate's fingerprint and pin it in the profile (`tls_fingerprint`).
fn trust_ftps(args: &Args, ctx: &Ctx, name: &str, o: &FtpsOptions) -> anyhow::Result<Exit> {
    let presented = ftps::probe_certificate(o)?;
    let who = format!("{}:{}", o.host, o.port);
    if let Some(pin) = &o.pin {
        if ftps::format_fingerprint(pin) == presented {
            crate::cli::out!("{who} is already pinned ({presented})");
            return Ok(Exit::Ok);
        }
        eprintln!(
            "@@@ TLS CERTIFICATE CHANGED for {who} @@@\nThe server now presents {presented}, not the pinned {}.\nNot recording it. If the registry confirms the new certificate, remove tls_fingerprint from the profile and run trust-host again.",
            ftps::format_fingerprint(pin)
        );
        return Ok(Exit::Error);
    }
    crate::cli::out!("{who} presents a TLS certificate:");
    crate::cli::out!("  fingerprint: {presented}");
    let Some(config) = ctx.config.source.clone() else {
        anyhow::bail!(
            "no configuration file to record the fingerprint in: run `immdqa init` first"
        );
    };
    let same = |e: &str| {
        ftps::parse_fingerprint(e)
            .map(|h| ftps::format_fingerprint(&h) == presented)
            .unwrap_or(false)
    };
    match confirm(args, &presented, same, &config.display().to_string())? {
        Some(true) => {}
        Some(false) => return Ok(Exit::Error),
        None => return Ok(Exit::Error),
    }
    crate::config::pin_tls_fingerprint(&config, name, &presented)?;
    crate::cli::out!("pinned {who} in profile '{name}' of {}", config.display());
    Ok(Exit::Ok)
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let (name, transport) = ctx.transport()?;
    let opts = match transport {
        Options::Ftps(o) => return trust_ftps(&args, ctx, &name, &o),
        Options::Sftp(o) => o,
        // a transport without a server identity (a local folder) needs no arm here
        other => anyhow::bail!(
            "profile '{name}' uses {}: there is no server identity to trust",
            other.describe()
        ),
    };
    let (key, status) = sftp::probe_host_key(&opts)?;
    let who = opts.known_hosts_name();
    match status {
        HostKeyStatus::Trusted => {
            crate::cli::out!(
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
    crate::cli::out!("{who} presents a {} key:", key.type_name());
    crate::cli::out!("  fingerprint: {}", key.fingerprint);
    let accept = confirm(
        &args,
        &key.fingerprint,
        |e| e == key.fingerprint,
        &opts.known_hosts.display().to_string(),
    )?;
    if accept != Some(true) {
        if accept == Some(false) && args.fingerprint.is_none() {
            crate::cli::out!("not recorded");
        }
        return Ok(Exit::Error);
    }
    sftp::trust_host_key(&opts, &key)?;
    crate::cli::out!("recorded {who} in {}", opts.known_hosts.display());
    Ok(Exit::Ok)
}
