//! The pages, one file per page or family of pages ([`login`], [`home`], [`worklist`],
//! [`consent`], [`browse`]: submissions and codes, [`admin`]: users and the audit trail), and
//! what they share: who is asking ([`page_who`]), the CSRF check, forms, the answer to an
//! error ([`Reply`]), the page header ([`Chrome`]). Each handler runs its store work on a
//! blocking thread, checks the role the page needs on the server (never by hiding a link),
//! and records in the audit trail every view of patient-level data and every action.

pub mod admin;
pub mod browse;
pub mod consent;
pub mod home;
pub mod login;
pub mod worklist;

pub use admin::{audit_trail, user_actions, users};
pub use browse::{batch, code, submissions};
pub use consent::{consent, consent_actions};
pub use home::home;
pub use login::{login, login_form, logout};
pub use worklist::{PAGE_SIZE, View, item, reads_worklist, worklist, worklist_actions};

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::App;
use super::auth;
use super::state::AuditMsg;
use crate::domain::HandAction;
use crate::domain::Role;
use crate::ledger::worklist::{Item, ItemStatus};

/// The session cookie (Secure under TLS, HttpOnly, SameSite=Strict).
pub const SESSION_COOKIE: &str = "immdqa_session";
/// The login form's CSRF cookie (double submit: the form carries the same value).
pub const LOGIN_COOKIE: &str = "immdqa_login";

/// What went wrong, as an answer.
#[derive(Debug)]
pub enum Reply {
    /// No session: to the login page, then back.
    Login(String),
    /// No session or token on `/api/`.
    Unauthorized,
    Forbidden(String),
    NotFound(String),
    Bad(String),
    Busy(String),
    TooMany(std::time::Duration),
    Internal(String),
}

impl From<crate::store::StoreError> for Reply {
    fn from(e: crate::store::StoreError) -> Reply {
        match e {
            crate::store::StoreError::Locked { .. } => Reply::Busy(
                "the store is busy (a sync, fetch or rebuild holds it): nothing was changed; try again in a minute".into(),
            ),
            e => {
                tracing::error!("serve: {e}");
                Reply::Internal(e.to_string())
            }
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let page = |status: StatusCode, title: &str, message: String| {
            let html = MessagePage {
                title: title.to_string(),
                chrome: None,
                message,
            }
            .render()
            .unwrap_or_default();
            (status, Html(html)).into_response()
        };
        match self {
            Reply::Login(next) => {
                Redirect::to(&format!("/login?next={}", urlencode(&next))).into_response()
            }
            Reply::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                axum::Json(serde_json::json!({"error": "sign in, or send Authorization: Bearer <token> (immdqa user token NAME)"})),
            )
                .into_response(),
            Reply::Forbidden(m) => page(StatusCode::FORBIDDEN, "Not allowed", m),
            Reply::NotFound(m) => page(StatusCode::NOT_FOUND, "Not found", m),
            Reply::Bad(m) => page(StatusCode::BAD_REQUEST, "Cannot do that", m),
            Reply::Busy(m) => page(StatusCode::SERVICE_UNAVAILABLE, "Busy", m),
            Reply::TooMany(wait) => {
                let mut r = page(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many failed sign-ins",
                    format!(
                        "Too many failed sign-ins for this user or address: try again in {} s.",
                        wait.as_secs().max(1)
                    ),
                );
                if let Ok(v) = wait.as_secs().max(1).to_string().parse() {
                    r.headers_mut().insert(header::RETRY_AFTER, v);
                }
                r
            }
            Reply::Internal(m) => page(StatusCode::INTERNAL_SERVER_ERROR, "Something failed", m),
        }
    }
}

pub(crate) fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Run a page's work on a blocking thread (the store is synchronous).
pub(crate) async fn blocking(
    app: Arc<App>,
    f: impl FnOnce(&App) -> Result<Response, Reply> + Send + 'static,
) -> Response {
    match tokio::task::spawn_blocking(move || f(&app)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => e.into_response(),
        Err(_) => Reply::Internal("the page failed".into()).into_response(),
    }
}

/// Who is asking.
#[derive(Debug, Clone)]
pub struct Who {
    pub user: String,
    pub role: Role,
    pub csrf: String,
    pub address: String,
}

pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The signed-in person of a page request (else to the login page, back to `path`), with the
/// role `allowed` must accept (else 403, audited).
pub(crate) fn page_who(
    app: &App,
    headers: &HeaderMap,
    peer: SocketAddr,
    path: &str,
    allowed: impl Fn(Role) -> bool,
) -> Result<Who, Reply> {
    let token = cookie(headers, SESSION_COOKIE).unwrap_or_default();
    let s = app
        .sessions
        .get(token)
        .ok_or_else(|| Reply::Login(path.to_string()))?;
    // the account as it is now: removed (`user remove`) or given a new password (`user
    // passwd`) since sign-in ends the session; the role is read from the store each time
    let Some(account) = app
        .with_store(|st| st.user(&s.user))?
        .filter(|u| auth::same(&auth::token_hash(&u.password_hash), &s.account))
    else {
        app.sessions.end(token);
        return Err(Reply::Login(path.to_string()));
    };
    let who = Who {
        user: s.user,
        role: account.role,
        csrf: s.csrf,
        address: peer.ip().to_string(),
    };
    if !allowed(who.role) {
        audit(app, &who, "denied", path, None)?;
        return Err(Reply::Forbidden(format!(
            "{} is not open to the {} role.",
            path,
            who.role.as_str()
        )));
    }
    Ok(who)
}

/// A POST of a signed-in person: who (as [`page_who`]) and the form, whose CSRF token must
/// be the session's (else 403): the one way every form is read.
pub(crate) fn posted(
    app: &App,
    headers: &HeaderMap,
    peer: SocketAddr,
    path: &str,
    allowed: impl Fn(Role) -> bool,
    body: &[u8],
) -> Result<(Who, Form), Reply> {
    let who = page_who(app, headers, peer, path, allowed)?;
    let form = Form::parse(body);
    check_csrf(&who, &form)?;
    Ok((who, form))
}

/// A form's CSRF token must be the session's (else 403).
fn check_csrf(who: &Who, form: &Form) -> Result<(), Reply> {
    match form.get("csrf") {
        Some(t) if auth::same(t, &who.csrf) => Ok(()),
        _ => Err(Reply::Forbidden(
            "the form's security token is missing or out of date: reload the page and try again"
                .into(),
        )),
    }
}

pub(crate) fn audit(
    app: &App,
    who: &Who,
    event: &str,
    detail: &str,
    items: Option<String>,
) -> Result<(), Reply> {
    app.audit(AuditMsg {
        user: Some(who.user.clone()),
        address: Some(who.address.clone()),
        event: event.to_string(),
        detail: Some(detail.to_string()),
        items,
    })
    .map_err(|e| {
        tracing::error!("serve: the audit trail cannot be written: {e}");
        Reply::Internal(
            "the audit trail cannot be written, so nothing is shown or changed: tell the administrator".into(),
        )
    })
}

/// A form body (`application/x-www-form-urlencoded`), repeated names kept.
#[derive(Debug, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(body: &[u8]) -> Form {
        Form(form_urlencoded::parse(body).into_owned().collect())
    }
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }
    pub fn text(&self, k: &str) -> String {
        self.get(k).unwrap_or_default().trim().to_string()
    }
    pub fn all(&self, k: &str) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }
    pub fn query(uri: &axum::http::Uri) -> Form {
        Form::parse(uri.query().unwrap_or("").as_bytes())
    }
}

/// The header of every signed-in page: links the role may follow, who, sign out.
pub struct Chrome {
    pub user: String,
    pub role: &'static str,
    pub csrf: String,
    pub here: &'static str,
    pub links: Vec<(&'static str, &'static str)>,
}

impl Chrome {
    pub(crate) fn of(who: &Who, here: &'static str) -> Option<Chrome> {
        let r = who.role;
        let mut links = vec![("/", "This week")];
        if r != Role::Compliance {
            links.push(("/worklist", "Worklist"));
        }
        if r.works_consent() {
            links.push(("/consent", "Consent"));
        }
        links.push(("/submissions", "Submissions"));
        if r == Role::Admin {
            links.push(("/users", "Users"));
            links.push(("/audit", "Audit"));
        }
        Some(Chrome {
            user: who.user.clone(),
            role: r.as_str(),
            csrf: who.csrf.clone(),
            here,
            links,
        })
    }
}

#[derive(Template)]
#[template(path = "serve/message.html")]
struct MessagePage {
    title: String,
    chrome: Option<Chrome>,
    message: String,
}

pub(crate) fn html(t: impl Template) -> Result<Response, Reply> {
    t.render()
        .map(|h| Html(h).into_response())
        .map_err(|e| Reply::Internal(format!("rendering the page: {e}")))
}

/// The small script: "select every row" checkboxes (forms work without it).
pub async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        "document.querySelectorAll('#all').forEach(function(a){a.addEventListener('change',function(){a.closest('table').querySelectorAll('input[name=id]').forEach(function(b){b.checked=a.checked;});});});\n",
    )
}

pub async fn not_found() -> Response {
    Reply::NotFound("No such page.".into()).into_response()
}

pub(crate) fn report_err(e: crate::report::ReportError) -> crate::store::StoreError {
    crate::store::StoreError::Io {
        path: "report".into(),
        source: std::io::Error::other(e.to_string()),
    }
}

#[derive(Template)]
#[template(path = "serve/table.html")]
pub(crate) struct TablePage {
    pub title: String,
    pub chrome: Option<Chrome>,
    pub flash: Option<String>,
    pub heading: String,
    pub before: String,
    pub table: String,
    pub after: String,
}

pub(crate) fn esc(s: &str) -> String {
    askama::filters::escape(s, askama::filters::Html)
        .map(|e| e.to_string())
        .unwrap_or_default()
}

/// A table as HTML; cells of `link_col` link to `link(cell)`.
pub(crate) fn table_html(
    t: &crate::table::Table,
    id: &str,
    link: Option<(&str, &dyn Fn(&str) -> String)>,
) -> String {
    let mut s = format!("<table id=\"{id}\"><tr>");
    for c in &t.columns {
        s.push_str(&format!("<th>{}</th>", esc(c)));
    }
    s.push_str("</tr>");
    let link_at = link.and_then(|(c, f)| t.col(c).map(|i| (i, f)));
    for r in &t.rows {
        s.push_str("<tr>");
        for (i, v) in r.iter().enumerate() {
            let text = v.render();
            let num = matches!(
                v,
                crate::table::Value::Int(_) | crate::table::Value::Float(_)
            );
            let cell = match link_at {
                Some((at, f)) if at == i && !text.is_empty() => {
                    format!("<a href=\"{}\">{}</a>", esc(&f(&text)), esc(&text))
                }
                _ => esc(&text),
            };
            s.push_str(&format!(
                "<td{}>{cell}</td>",
                if num { " class=\"n\"" } else { "" }
            ));
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>");
    s
}

/// Item ids as the audit trail records them: "12,13,20".
pub(crate) fn ids(it: impl Iterator<Item = i64>) -> String {
    it.map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}
