//! `immdqa serve`: the team's workspace in a browser, on the same store `sync` keeps current.
//!
//! Uses: store (users, audit, worklist hand actions), ledger (the worklist), report (this
//! week's model and its SVG charts), analytics (submissions, consent), formats (the code
//! catalogue), config, table, hl7 (printable texts), vaccines (names beside codes).
//!
//! Layout: [`auth`] (passwords, tokens, sessions, login slow-down, Host names), [`state`] (the
//! shared state: a few store connections, the worklist computed once per change of the
//! store, the audit writer), [`pages`] (one handler per page, HTML from askama templates in
//! `templates/serve/`), [`api`] (JSON and downloads). Every request passes [`guard`]: Host
//! check, security headers; every page needs a session (or, for `/api/`, a bearer token),
//! every POST the session's CSRF token, every page and action its role.
//!
//! Beside `sync`: reads never take the store lock (SQLite's WAL lets them read while an
//! import writes); a hand action takes it for one short write, waiting up to 3 seconds, and
//! says "busy" otherwise; audit rows go to their own database file before the answer does,
//! so a page never waits on an import's transaction and never shows patient data unrecorded.

pub mod api;
pub mod auth;
pub mod pages;
pub mod state;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub use state::App;

/// The default address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8470";

/// How to serve (resolved from the command line and `[serve]`).
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub tls: Option<(PathBuf, PathBuf)>,
    pub hosts: Vec<String>,
    pub idle: std::time::Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "refusing to serve plain HTTP on {0}: beyond loopback (127.0.0.1, ::1) passwords and patient references would cross the network in clear; give --tls-cert FILE --tls-key FILE (or tls_cert/tls_key in [serve]), or listen on 127.0.0.1"
    )]
    PlainBeyondLoopback(SocketAddr),
    #[error("TLS: {0}")]
    Tls(String),
    #[error(
        "cannot listen on {addr}: {source} (is another server on that port? pick another with --listen)"
    )]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
}

impl ServeOptions {
    /// Refuse what must not run: plain HTTP beyond loopback.
    pub fn check(&self) -> Result<(), ServeError> {
        if self.tls.is_none() && !self.listen.ip().is_loopback() {
            return Err(ServeError::PlainBeyondLoopback(self.listen));
        }
        Ok(())
    }
}

/// The routes, behind the guard.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/static/app.js", get(pages::script))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/", get(pages::home))
        .route("/worklist", get(pages::worklist))
        .route("/worklist.csv", get(api::worklist_csv))
        .route("/worklist.xlsx", get(api::worklist_xlsx))
        .route("/worklist/actions", post(pages::worklist_actions))
        .route("/worklist/{id}", get(pages::item))
        .route("/consent", get(pages::consent))
        .route("/consent/actions", post(pages::consent_actions))
        .route("/submissions", get(pages::submissions))
        .route("/submissions/{batch}", get(pages::batch))
        .route("/codes/{code}", get(pages::code))
        .route("/users", get(pages::users))
        .route("/users/actions", post(pages::user_actions))
        .route("/audit", get(pages::audit_trail))
        .route("/api/worklist", get(api::worklist))
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

/// Every request: the Host header must name this server (DNS rebinding), and every answer
/// carries headers that keep it out of frames, caches and other origins' scripts.
async fn guard(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    if !host.as_deref().is_some_and(|h| app.hosts.allows(h)) {
        return (
            StatusCode::MISDIRECTED_REQUEST,
            "this server does not answer to that host name (add it to [serve] hosts)\n",
        )
            .into_response();
    }
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let started = std::time::Instant::now();
    let mut res = next.run(req).await;
    // method, path and status only: no query string, no body, no user input beyond the path
    tracing::info!(
        "{method} {path} {} {} ms",
        res.status().as_u16(),
        started.elapsed().as_millis()
    );
    let h = res.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    if app.tls {
        set(h, header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
    res
}

/// Serve until SIGINT or SIGTERM; `ready` gets the bound address (port 0 picks one).
pub fn run(
    app: App,
    opts: &ServeOptions,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    opts.check()?;
    let tls = opts
        .tls
        .as_ref()
        .map(|(c, k)| tls_config(c, k))
        .transpose()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let app = Arc::new(app);
    let result = rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(opts.listen)
            .await
            .map_err(|source| ServeError::Bind {
                addr: opts.listen,
                source,
            })?;
        let addr = listener.local_addr()?;
        ready(addr);
        let routes = router(app.clone());
        match tls {
            None => {
                axum::serve(
                    listener,
                    routes.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .with_graceful_shutdown(shutdown())
                .await?;
            }
            Some(cfg) => serve_tls(listener, routes, cfg).await?,
        }
        Ok::<(), ServeError>(())
    });
    result
}

async fn shutdown() {
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term => {},
    }
}

/// Read a PEM certificate chain and key into a rustls server configuration.
fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<Arc<rustls::ServerConfig>, ServeError> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            ServeError::Tls(format!(
                "{}: not a PEM certificate chain: {e}",
                cert.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(ServeError::Tls(format!(
            "{}: no certificate in the file",
            cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| ServeError::Tls(format!("{}: not a PEM private key: {e}", key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServeError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServeError::Tls(format!("the certificate and key do not go together: {e}")))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// HTTPS only: every connection is a TLS handshake first (a plain HTTP request fails it).
async fn serve_tls(
    listener: tokio::net::TcpListener,
    routes: Router,
    cfg: Arc<rustls::ServerConfig>,
) -> Result<(), ServeError> {
    use tower::ServiceExt;
    let acceptor = tokio_rustls::TlsAcceptor::from(cfg);
    let stop = shutdown();
    tokio::pin!(stop);
    loop {
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => r?,
            _ = &mut stop => return Ok(()),
        };
        let acceptor = acceptor.clone();
        let routes = routes.clone();
        tokio::spawn(async move {
            let Ok(Ok(tls)) =
                tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(tcp))
                    .await
            else {
                return; // not TLS, or too slow: dropped
            };
            let svc = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    routes.clone().oneshot(req.map(axum::body::Body::new))
                },
            );
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(tls), svc)
                .await;
        });
    }
}
