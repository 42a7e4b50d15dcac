//! `immdqa serve`: the web workspace (see [`crate::serve`]).

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::cli::{Ctx, Exit};
use crate::serve::{self, ServeOptions};

/// The team's workspace in a browser: this week, the worklist (filter, close, ignore,
/// reopen, assign, download), consent follow-ups, submissions, codes; users with roles
/// (`immdqa user add`), an audit trail (`immdqa audit`).
///
/// Listens on 127.0.0.1:8470 by default. Anything but loopback needs TLS (--tls-cert and
/// --tls-key, or tls_cert/tls_key in [serve]): it then speaks HTTPS only. Runs beside `sync`
/// on the same store; stop it with Ctrl-C or SIGTERM.
///
/// Examples:
///   immdqa user add ana --role dqo
///   immdqa serve
///   immdqa serve --listen 0.0.0.0:8443 --tls-cert /etc/immdqa/cert.pem --tls-key /etc/immdqa/key.pem --host dq.clinic.example
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// ADDR:PORT to listen on [default: [serve] listen, else 127.0.0.1:8470]
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<String>,
    /// PEM certificate chain: serve HTTPS only (with --tls-key)
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// A host name the server answers to (repeatable; added to [serve] hosts)
    #[arg(long = "host", value_name = "NAME")]
    pub hosts: Vec<String>,
}

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let cfg = &ctx.config.serve;
    let listen_text = args
        .listen
        .or_else(|| cfg.listen.clone())
        .unwrap_or_else(|| serve::DEFAULT_LISTEN.to_string());
    let Ok(listen) = listen_text.parse::<SocketAddr>() else {
        crate::cli::usage!(
            "--listen '{listen_text}': give ADDR:PORT, such as 127.0.0.1:8470 or [::1]:8470"
        );
    };
    let tls = match (
        args.tls_cert.or_else(|| cfg.tls_cert.clone()),
        args.tls_key.or_else(|| cfg.tls_key.clone()),
    ) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        _ => crate::cli::usage!(
            "TLS needs both a certificate and a key (tls_cert and tls_key in [serve])"
        ),
    };
    let mut hosts = cfg.hosts.clone();
    hosts.extend(args.hosts);
    let idle = std::time::Duration::from_secs_f64(cfg.idle_minutes.unwrap_or(30.0).max(0.0) * 60.0);
    let opts = ServeOptions {
        listen,
        tls,
        hosts,
        idle,
    };
    if let Err(e) = opts.check() {
        crate::cli::usage!("{e}");
    }
    let store = ctx.open_store()?;
    let profile = ctx.analysis_profile(&store)?;
    let users = store.users()?.len();
    drop(store);
    let app = serve::App::new(
        ctx.store_path()?,
        profile,
        ctx.config.clone(),
        serve::auth::Hosts::new(&opts.listen, &opts.hosts),
        opts.tls.is_some(),
        idle,
        ctx.keyring()?,
    )?;
    let scheme = if opts.tls.is_some() { "https" } else { "http" };
    serve::run(app, &opts, |addr| {
        eprintln!("immdqa serve: {scheme}://{addr}/ (Ctrl-C stops)");
        if users == 0 {
            eprintln!(
                "no user can sign in yet: immdqa user add NAME --role dqo|compliance|analyst|admin"
            );
        }
    })?;
    Ok(Exit::Ok)
}
