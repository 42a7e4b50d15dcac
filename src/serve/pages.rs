//! One handler per page. Each runs its store work on a blocking thread, checks the role the
//! page needs on the server (never by hiding a link), and records in the audit trail every
//! view of patient-level data and every action.

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::App;
use super::auth;
use super::state::AuditMsg;
use crate::domain::Role;
use crate::ledger::worklist::{Item, ItemStatus};
use crate::store::worklist::HandAction;

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
    let s = cookie(headers, SESSION_COOKIE)
        .and_then(|t| app.sessions.get(t))
        .ok_or_else(|| Reply::Login(path.to_string()))?;
    let who = Who {
        user: s.user,
        role: s.role,
        csrf: s.csrf,
        address: peer.ip().to_string(),
    };
    if !allowed(who.role) {
        audit(app, &who, "denied", path, None);
        return Err(Reply::Forbidden(format!(
            "{} is not open to the {} role.",
            path,
            who.role.as_str()
        )));
    }
    Ok(who)
}

/// A form's CSRF token must be the session's (else 403).
pub(crate) fn check_csrf(who: &Who, form: &Form) -> Result<(), Reply> {
    match form.get("csrf") {
        Some(t) if auth::same(t, &who.csrf) => Ok(()),
        _ => Err(Reply::Forbidden(
            "the form's security token is missing or out of date: reload the page and try again"
                .into(),
        )),
    }
}

pub(crate) fn audit(app: &App, who: &Who, event: &str, detail: &str, items: Option<String>) {
    app.audit(AuditMsg {
        user: Some(who.user.clone()),
        address: Some(who.address.clone()),
        event: event.to_string(),
        detail: Some(detail.to_string()),
        items,
    });
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
    fn of(who: &Who, here: &'static str) -> Option<Chrome> {
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

fn html(t: impl Template) -> Result<Response, Reply> {
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

// ---- sign in and out ----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "serve/login.html")]
struct LoginPage {
    title: String,
    chrome: Option<Chrome>,
    csrf: String,
    next: String,
    error: Option<String>,
}

fn safe_next(next: &str) -> String {
    // only a path of this server (no //host, no scheme): no open redirect
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_string()
    } else {
        "/".to_string()
    }
}

fn login_page(app: &App, next: &str, error: Option<String>, status: StatusCode) -> Response {
    let token = auth::random_token();
    let page = LoginPage {
        title: "Sign in".into(),
        chrome: None,
        csrf: token.clone(),
        next: safe_next(next),
        error,
    };
    let mut r = match html(page) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    *r.status_mut() = status;
    if let Ok(v) = cookie_header(app, LOGIN_COOKIE, &token, Some(600)).parse() {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

fn cookie_header(app: &App, name: &str, value: &str, max_age: Option<i64>) -> String {
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict{}{}",
        if app.tls { "; Secure" } else { "" },
        max_age.map(|s| format!("; Max-Age={s}")).unwrap_or_default()
    )
}

pub async fn login_form(State(app): State<Arc<App>>, uri: axum::http::Uri) -> Response {
    let q = Form::query(&uri);
    login_page(&app, q.get("next").unwrap_or("/"), None, StatusCode::OK)
}

pub async fn login(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    blocking(app, move |app| {
        let form = Form::parse(&body);
        let next = safe_next(form.get("next").unwrap_or("/"));
        let pre = cookie(&headers, LOGIN_COOKIE).unwrap_or("");
        if pre.is_empty() || !form.get("csrf").is_some_and(|t| auth::same(t, pre)) {
            return Err(Reply::Forbidden(
                "the sign-in form's security token is missing or out of date: reload /login and try again".into(),
            ));
        }
        let name = form.text("username");
        let password = form.get("password").unwrap_or_default().to_string();
        let address = peer.ip().to_string();
        let keys = vec![format!("u:{}", name.to_lowercase()), format!("a:{address}")];
        let record = |event: &str, detail: &str| {
            app.audit(AuditMsg {
                user: Some(name.clone()),
                address: Some(address.clone()),
                event: event.into(),
                detail: Some(detail.into()),
                items: None,
            })
        };
        if let Some(wait) = app.throttle.wait(&keys) {
            record("login_refused", "too many failed sign-ins: waiting");
            return Err(Reply::TooMany(wait));
        }
        let user = app.with_store(|s| s.user(&name))?;
        let ok = match &user {
            Some(u) => auth::verify_password(&password, &u.password_hash),
            None => {
                auth::verify_password(&password, auth::dummy_hash());
                false
            }
        };
        let Some(user) = user.filter(|_| ok) else {
            app.throttle.failed(&keys);
            record("login_failed", "wrong user name or password");
            return Ok(login_page(
                app,
                &next,
                Some("Wrong user name or password.".into()),
                StatusCode::UNAUTHORIZED,
            ));
        };
        app.throttle.succeeded(&keys[..1]);
        let (token, _) = app.sessions.start(&user.name, user.role);
        record("login", "signed in");
        let mut r = Redirect::to(&next).into_response();
        let h = r.headers_mut();
        if let Ok(v) = cookie_header(app, SESSION_COOKIE, &token, None).parse() {
            h.append(header::SET_COOKIE, v);
        }
        if let Ok(v) = cookie_header(app, LOGIN_COOKIE, "", Some(0)).parse() {
            h.append(header::SET_COOKIE, v);
        }
        Ok(r)
    })
    .await
}

pub async fn logout(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    blocking(app, move |app| {
        let who = page_who(app, &headers, peer, "/", |_| true)?;
        check_csrf(&who, &Form::parse(&body))?;
        if let Some(t) = cookie(&headers, SESSION_COOKIE) {
            app.sessions.end(t);
        }
        audit(app, &who, "logout", "signed out", None);
        let mut r = Redirect::to("/login").into_response();
        if let Ok(v) = cookie_header(app, SESSION_COOKIE, "", Some(0)).parse() {
            r.headers_mut().insert(header::SET_COOKIE, v);
        }
        Ok(r)
    })
    .await
}

// ---- this week ----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "serve/home.html")]
struct HomePage {
    title: String,
    chrome: Option<Chrome>,
    has_data: bool,
    body: String,
}

/// The served "this week": the weekly report's verdict, what to fix first, resolved this
/// week, acceptance per site and its charts, for the latest week with data (what `immdqa
/// report` and `immdqa check` judge by default).
pub async fn home(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    blocking(app, move |app| {
        let who = page_who(app, &headers, peer, "/", |_| true)?;
        let (has_data, body) = app.with_store(|store| {
            let mut def = crate::report::definition("weekly").map_err(report_err)?;
            def.tables = vec![
                crate::report::TableKind::Verdicts,
                crate::report::TableKind::Backlog,
                crate::report::TableKind::TopIssues,
                crate::report::TableKind::Resolved,
                crate::report::TableKind::Sites,
            ];
            let settings = crate::report::Settings {
                thresholds: &app.config.thresholds,
                ledger: crate::analytics::thresholds::LedgerScope {
                    today: chrono::Local::now().date_naive(),
                    overdue_days: app.overdue_days(),
                },
                worklist: &app.config.worklist,
                owners: &app.config.owners,
            };
            let m = crate::report::model::compute(store, &def, None, &settings, app.profile.as_deref())
                .map_err(|e| report_err(e.into()))?;
            let has_data = !m.trend.is_empty() || m.ledger.has_ledger;
            let (body, _) = crate::report::render::body(
                &m,
                &def,
                crate::report::render::Body {
                    served: true,
                    redact_patients: !who.role.sees_patients(),
                },
            )
            .map_err(report_err)?;
            Ok((has_data, body))
        })?;
        if who.role.sees_patients() {
            audit(app, &who, "view", "/ (resolved this week, with patient references)", None);
        }
        html(HomePage {
            title: "This week".into(),
            chrome: Chrome::of(&who, "/"),
            has_data,
            body,
        })
    })
    .await
}

fn report_err(e: crate::report::ReportError) -> crate::store::StoreError {
    crate::store::StoreError::Io {
        path: "report".into(),
        source: std::io::Error::other(e.to_string()),
    }
}

// ---- the worklist -------------------------------------------------------------------------

/// The worklist view a query asks for (filters, sort, page).
#[derive(Debug, Clone, Default)]
pub struct View {
    pub site: String,
    pub owner: String,
    pub code: String,
    pub status: String,
    pub assignee: String,
    pub min_age: String,
    pub sort: String,
    pub dir: String,
    pub page: usize,
}

pub const PAGE_SIZE: usize = 50;
const SORTS: [&str; 6] = ["age", "id", "site", "code", "status", "assignee"];
const STATUSES: [&str; 5] = ["open", "resolved", "closed", "ignored", "all"];

impl View {
    pub fn parse(q: &Form) -> View {
        let pick = |k: &str, allowed: &[&str], default: &str| {
            let v = q.text(k);
            if allowed.contains(&v.as_str()) {
                v
            } else {
                default.to_string()
            }
        };
        View {
            site: q.text("site"),
            owner: q.text("owner"),
            code: q.text("code"),
            status: pick("status", &STATUSES, "open"),
            assignee: q.text("assignee"),
            min_age: q.text("min_age"),
            sort: pick("sort", &SORTS, "age"),
            dir: pick("dir", &["asc", "desc"], "desc"),
            page: q.text("page").parse().unwrap_or(1).max(1),
        }
    }

    /// The owner whose list this is (`worklist --owner`), if one is chosen.
    pub fn owner(&self) -> Option<crate::domain::Owner> {
        crate::domain::Owner::parse(&self.owner)
    }

    /// The query string of this view (page left out).
    pub fn query(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("site", &self.site),
            ("owner", &self.owner),
            ("code", &self.code),
            ("status", &self.status),
            ("assignee", &self.assignee),
            ("min_age", &self.min_age),
            ("sort", &self.sort),
            ("dir", &self.dir),
        ] {
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        s.finish()
    }

    /// The items of this view, sorted (every page).
    pub fn select<'a>(&self, items: &'a [Item]) -> Vec<&'a Item> {
        let min_age: Option<i64> = self.min_age.parse().ok();
        let mut out: Vec<&Item> = items
            .iter()
            .filter(|i| self.status == "all" || i.status.as_str() == self.status)
            .filter(|i| self.site.is_empty() || i.site.eq_ignore_ascii_case(&self.site))
            .filter(|i| {
                self.owner.is_empty() || i.codes.iter().any(|c| c.owner.as_str() == self.owner)
            })
            .filter(|i| {
                self.code.is_empty()
                    || i.codes.iter().any(|c| c.code.eq_ignore_ascii_case(&self.code))
            })
            .filter(|i| {
                self.assignee.is_empty()
                    || i.assignee
                        .as_deref()
                        .is_some_and(|a| a.eq_ignore_ascii_case(&self.assignee))
            })
            .filter(|i| min_age.is_none_or(|m| i.age_days.is_some_and(|a| a >= m)))
            .collect();
        let code = |i: &Item| i.own_code().map(|c| c.code.clone()).unwrap_or_default();
        match self.sort.as_str() {
            "id" => out.sort_by_key(|i| i.id),
            "site" => out.sort_by(|a, b| a.site.cmp(&b.site).then(a.id.cmp(&b.id))),
            "code" => out.sort_by(|a, b| code(a).cmp(&code(b)).then(a.id.cmp(&b.id))),
            "status" => out.sort_by(|a, b| a.status.cmp(&b.status).then(a.id.cmp(&b.id))),
            "assignee" => out.sort_by(|a, b| a.assignee.cmp(&b.assignee).then(a.id.cmp(&b.id))),
            _ => out.sort_by(|a, b| a.age_days.cmp(&b.age_days).then(b.id.cmp(&a.id))),
        }
        if self.dir == "desc" {
            out.reverse();
        }
        out
    }
}

pub struct Row {
    pub id: i64,
    pub patient_ref: String,
    pub given: String,
    pub vaccine: String,
    pub site: String,
    pub codes: String,
    pub fix: String,
    pub owner: String,
    pub age: String,
    pub status: String,
    pub assignee: String,
}

fn row(i: &Item) -> Row {
    Row {
        id: i.id,
        patient_ref: i.patient_ref.clone().unwrap_or_default(),
        given: i.administered_on.clone().unwrap_or_default(),
        vaccine: i.vaccines.clone().unwrap_or_default(),
        site: i.site.clone(),
        codes: i
            .codes
            .iter()
            .map(|c| format!("{} ({})", c.code, c.severity))
            .collect::<Vec<_>>()
            .join(", "),
        fix: i.fix().unwrap_or_default().to_string(),
        owner: i.owner.as_str().to_string(),
        age: i.age_days.map(|a| a.to_string()).unwrap_or_default(),
        status: i.status.as_str().to_string(),
        assignee: i.assignee.clone().unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "serve/worklist.html")]
struct WorklistPage {
    title: String,
    chrome: Option<Chrome>,
    flash: Option<String>,
    q: View,
    query: String,
    csrf: String,
    sites: Vec<String>,
    owners: Vec<&'static str>,
    statuses: [&'static str; 5],
    sorts: [&'static str; 6],
    people: Vec<String>,
    total: usize,
    first: usize,
    last: usize,
    rows: Vec<Row>,
    pages: Vec<(String, String)>,
    can_act: bool,
    show_patients: bool,
}

/// Who may read the worklist: everyone but compliance (whose work is `/consent`).
pub(crate) fn reads_worklist(r: Role) -> bool {
    r != Role::Compliance
}

pub async fn worklist(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    blocking(app, move |app| {
        let who = page_who(app, &headers, peer, "/worklist", reads_worklist)?;
        let q = Form::query(&uri);
        let view = View::parse(&q);
        let snap = app.snapshot(view.owner())?;
        let selected = view.select(&snap.items);
        let total = selected.len();
        let pages_n = total.div_ceil(PAGE_SIZE).max(1);
        let page = view.page.min(pages_n);
        let shown: Vec<&Item> = selected
            .iter()
            .skip((page - 1) * PAGE_SIZE)
            .take(PAGE_SIZE)
            .copied()
            .collect();
        let query = view.query();
        let mut pages = Vec::new();
        if page > 1 {
            pages.push(("« previous".to_string(), format!("{query}&page={}", page - 1)));
        }
        if pages_n > 1 {
            pages.push((format!("page {page} of {pages_n}"), format!("{query}&page={page}")));
        }
        if page < pages_n {
            pages.push(("next »".to_string(), format!("{query}&page={}", page + 1)));
        }
        let mut sites: Vec<String> = snap.items.iter().map(|i| i.site.clone()).collect();
        sites.sort();
        sites.dedup();
        let people = app
            .with_store(|s| s.users())?
            .into_iter()
            .filter(|u| u.role.works_worklist())
            .map(|u| u.name)
            .collect();
        if who.role.sees_patients() {
            audit(
                app,
                &who,
                "view",
                &format!("/worklist?{query}&page={page}"),
                Some(ids(shown.iter().map(|i| i.id))),
            );
        }
        let flash = q.get("done").map(str::to_string);
        html(WorklistPage {
            title: "Worklist".into(),
            chrome: Chrome::of(&who, "/worklist"),
            flash,
            csrf: who.csrf.clone(),
            sites,
            owners: crate::domain::Owner::ALL.map(|o| o.as_str()).to_vec(),
            statuses: STATUSES,
            sorts: SORTS,
            people,
            total,
            first: if total == 0 { 0 } else { (page - 1) * PAGE_SIZE + 1 },
            last: (page - 1) * PAGE_SIZE + shown.len(),
            rows: shown.into_iter().map(row).collect(),
            pages,
            can_act: who.role.works_worklist(),
            show_patients: who.role.sees_patients(),
            q: view,
            query,
        })
    })
    .await
}

pub(crate) fn ids(it: impl Iterator<Item = i64>) -> String {
    it.map(|i| i.to_string()).collect::<Vec<_>>().join(",")
}

/// `POST /worklist/actions`: close, ignore, reopen or assign the selected items (the same
/// store rows, history and journal as `immdqa worklist close|ignore|reopen|assign`).
pub async fn worklist_actions(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    blocking(app, move |app| {
        let who = page_who(app, &headers, peer, "/worklist/actions", |r| {
            r.works_worklist()
        })?;
        let form = Form::parse(&body);
        check_csrf(&who, &form)?;
        let note = Some(form.text("note")).filter(|n| !n.is_empty());
        let action = match form.text("action").as_str() {
            "close" => HandAction::Close,
            "ignore" => HandAction::Ignore,
            "reopen" => HandAction::Reopen,
            "assign" => HandAction::Assign(form.text("assignee")),
            other => {
                return Err(Reply::Bad(format!(
                    "unknown action '{other}': close, ignore, reopen or assign"
                )));
            }
        };
        let mut chosen: Vec<i64> = Vec::new();
        for id in form.all("id") {
            chosen.push(
                id.trim()
                    .parse()
                    .map_err(|_| Reply::Bad(format!("'{id}' is not an item id")))?,
            );
        }
        if chosen.is_empty() {
            return Err(Reply::Bad(
                "no item selected: tick the items to act on, then apply".into(),
            ));
        }
        let done = {
            let _lock = app.lock()?;
            app.with_store(|s| {
                let mut done = Vec::new();
                for id in &chosen {
                    if s.worklist_action(*id, &action, note.as_deref(), Some(&who.user))? {
                        done.push(*id);
                    }
                }
                Ok(done)
            })?
        };
        audit(
            app,
            &who,
            "action",
            &format!(
                "worklist {}{}{}",
                action.verb(),
                match &action {
                    HandAction::Assign(a) => format!(" to {a}"),
                    _ => String::new(),
                },
                note.as_ref().map(|_| " with a note").unwrap_or_default()
            ),
            Some(ids(done.iter().copied())),
        );
        let missing = chosen.len() - done.len();
        let message = format!(
            "{} item(s) {}{}",
            done.len(),
            action.verb(),
            if missing > 0 {
                format!("; {missing} unknown id(s) left alone")
            } else {
                String::new()
            }
        );
        let to = if form.get("item").is_some() {
            format!("/worklist/{}?done={}", chosen[0], urlencode(&message))
        } else {
            format!("/worklist?{}&done={}", form.text("back"), urlencode(&message))
        };
        Ok(Redirect::to(&to).into_response())
    })
    .await
}

#[derive(Template)]
#[template(path = "serve/item.html")]
struct ItemPage {
    title: String,
    chrome: Option<Chrome>,
    flash: Option<String>,
    id: i64,
    status: String,
    facts: Vec<(&'static str, String)>,
    codes: Vec<(String, String, String, String, String, String)>,
    history: Vec<String>,
    can_act: bool,
    csrf: String,
}

pub async fn item(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    uri: axum::http::Uri,
) -> Response {
    blocking(app, move |app| {
        let path = format!("/worklist/{id}");
        let who = page_who(app, &headers, peer, &path, reads_worklist)?;
        let id: i64 = id
            .parse()
            .map_err(|_| Reply::NotFound(format!("'{id}' is not a worklist item id")))?;
        // an item of the default list, else of an owner's list (an accepted record with a
        // warning is an item only for the owner who follows it)
        let mut found = None;
        for owner in std::iter::once(None).chain(crate::domain::Owner::ALL.map(Some)) {
            let snap = app.snapshot(owner)?;
            if let Some(i) = snap.items.iter().find(|i| i.id == id) {
                found = Some(i.clone());
                break;
            }
        }
        let it = found.ok_or_else(|| Reply::NotFound(format!("No worklist item {id}.")))?;
        let it = &it;
        let events = app.with_store(|s| s.worklist_events(id))?;
        let text = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
        let mut facts = vec![
            ("sent in", format!("{} (message {}), profile {}", it.batch, it.message_index, it.profile)),
        ];
        if who.role.sees_patients() {
            facts.push(("patient", text(&it.patient_ref)));
        }
        facts.extend([
            ("vaccine", text(&it.vaccines)),
            ("given on", text(&it.administered_on)),
            ("site", it.site.clone()),
            ("provider", text(&it.provider)),
            ("answer", it.message_status.as_str().to_string()),
            ("owner", it.owner.as_str().to_string()),
            ("assignee", text(&it.assignee)),
            ("age (days)", it.age_days.map(|a| a.to_string()).unwrap_or_default()),
        ]);
        let mut history = Vec::new();
        if let Some(o) = it.opened {
            history.push(format!("{o}  opened by the registry's answer to {}", it.batch));
        }
        history.extend(events.iter().map(crate::ledger::worklist::event_line));
        if it.status == ItemStatus::Resolved {
            history.push(
                "resolved: a later message for the same patient, vaccine and date was accepted"
                    .into(),
            );
        }
        if who.role.sees_patients() {
            audit(app, &who, "view", &path, Some(id.to_string()));
        }
        html(ItemPage {
            title: format!("Item {id}"),
            chrome: Chrome::of(&who, "/worklist"),
            flash: Form::query(&uri).get("done").map(str::to_string),
            id,
            status: it.status.as_str().into(),
            facts,
            codes: it
                .codes
                .iter()
                .map(|c| {
                    (
                        c.code.clone(),
                        c.severity.clone(),
                        c.field.clone(),
                        crate::hl7::printable(&c.text).into_owned(),
                        c.owner.as_str().to_string(),
                        c.fix.clone().unwrap_or_default(),
                    )
                })
                .collect(),
            history,
            can_act: who.role.works_worklist(),
            csrf: who.csrf.clone(),
        })
    })
    .await
}

// ---- consent ------------------------------------------------------------------------------

pub struct ConsentRow {
    pub id: i64,
    pub patient_ref: String,
    pub name: String,
    pub dob: String,
    pub opened: String,
    pub last_notice: String,
    pub status: String,
    pub reason: String,
    pub notices: i64,
    pub age: i64,
    pub notes: String,
}

#[derive(Template)]
#[template(path = "serve/consent.html")]
struct ConsentPage {
    title: String,
    chrome: Option<Chrome>,
    flash: Option<String>,
    csrf: String,
    as_of: String,
    rows: Vec<ConsentRow>,
}

fn consent_view(
    app: &App,
    store: &crate::store::Store,
) -> Result<crate::analytics::consent::ConsentView, crate::store::StoreError> {
    let h = crate::analytics::History::load_scoped(store, app.profile.as_deref())
        .map_err(|e| report_err(crate::report::ReportError::Analytics(e)))?;
    crate::analytics::consent::consent(store, &h, chrono::Local::now().date_naive())
        .map_err(|e| report_err(crate::report::ReportError::Analytics(e)))
}

pub async fn consent(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    blocking(app, move |app| {
        let who = page_who(app, &headers, peer, "/consent", Role::works_consent)?;
        let v = app.with_store(|s| consent_view(app, s))?;
        audit(
            app,
            &who,
            "view",
            "/consent (names and birth dates)",
            Some(ids(v.open.iter().map(|f| f.id))),
        );
        html(ConsentPage {
            title: "Consent follow-ups".into(),
            chrome: Chrome::of(&who, "/consent"),
            flash: Form::query(&uri).get("done").map(str::to_string),
            csrf: who.csrf.clone(),
            as_of: chrono::Local::now().date_naive().to_string(),
            rows: v
                .open
                .iter()
                .map(|f| ConsentRow {
                    id: f.id,
                    patient_ref: if f.patient_ref.is_empty() {
                        "(no patient id)".into()
                    } else {
                        f.patient_ref.clone()
                    },
                    name: f.name.clone().unwrap_or_default(),
                    dob: f.dob.clone().unwrap_or_default(),
                    opened: f.opened.to_string(),
                    last_notice: f.last_notice.to_string(),
                    status: f.status.clone(),
                    reason: f.reason_code.clone().unwrap_or_default(),
                    notices: f.notices,
                    age: f.age_days,
                    notes: f.notes.join(" | "),
                })
                .collect(),
        })
    })
    .await
}

pub async fn consent_actions(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    blocking(app, move |app| {
        let who = page_who(app, &headers, peer, "/consent/actions", Role::works_consent)?;
        let form = Form::parse(&body);
        check_csrf(&who, &form)?;
        if form.text("action") != "close" {
            return Err(Reply::Bad("the consent page closes follow-ups only".into()));
        }
        let chosen: Vec<i64> = form.all("id").filter_map(|i| i.trim().parse().ok()).collect();
        if chosen.is_empty() {
            return Err(Reply::Bad("no follow-up selected".into()));
        }
        let note = Some(form.text("note")).filter(|n| !n.is_empty());
        let done = {
            let _lock = app.lock()?;
            app.with_store(|s| {
                let v = consent_view(app, s)?;
                let mut done = Vec::new();
                for id in &chosen {
                    if let Some(f) = v.open.iter().find(|f| f.id == *id) {
                        s.consent_action(&crate::store::consent::ConsentActionEntry {
                            follow_up: f.key.clone(),
                            action: "closed".into(),
                            note: note.clone(),
                            by: Some(who.user.clone()),
                            at: crate::store::now(),
                        })?;
                        done.push(*id);
                    }
                }
                Ok(done)
            })?
        };
        audit(
            app,
            &who,
            "action",
            "consent closed",
            Some(ids(done.iter().copied())),
        );
        Ok(Redirect::to(&format!(
            "/consent?done={}",
            urlencode(&format!("{} follow-up(s) closed", done.len()))
        ))
        .into_response())
    })
    .await
}

// ---- submissions, codes -------------------------------------------------------------------

#[derive(Template)]
#[template(path = "serve/table.html")]
struct TablePage {
    title: String,
    chrome: Option<Chrome>,
    flash: Option<String>,
    heading: String,
    before: String,
    table: String,
    after: String,
}

fn esc(s: &str) -> String {
    askama::filters::escape(s, askama::filters::Html)
        .map(|e| e.to_string())
        .unwrap_or_default()
}

/// A table as HTML; cells of `link_col` link to `link(cell)`.
fn table_html(t: &crate::table::Table, id: &str, link: Option<(&str, &dyn Fn(&str) -> String)>) -> String {
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
            s.push_str(&format!("<td{}>{cell}</td>", if num { " class=\"n\"" } else { "" }));
        }
        s.push_str("</tr>");
    }
    s.push_str("</table>");
    s
}

/// `/submissions`: the batches (as `immdqa submissions`), each drilling into its messages.
pub async fn submissions(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    blocking(app, move |app| {
        let who = page_who(app, &headers, peer, "/submissions", |_| true)?;
        let t = app.with_store(|store| {
            let h = crate::analytics::History::load_scoped(store, app.profile.as_deref())
                .map_err(|e| report_err(crate::report::ReportError::Analytics(e)))?;
            let rows = crate::analytics::submissions::with_uploads(
                crate::analytics::submissions::submissions(&h, None)
                    .map_err(|e| report_err(crate::report::ReportError::Analytics(e)))?,
                &store.uploads()?,
                app.overdue_days(),
                chrono::Local::now().date_naive(),
            );
            Ok(crate::analytics::submissions::table(&rows))
        })?;
        let link = |b: &str| format!("/submissions/{}", urlencode(b));
        let col = if t.col("batch").is_some() { "batch" } else { "file" };
        html(TablePage {
            title: "Submissions".into(),
            chrome: Chrome::of(&who, "/submissions"),
            flash: None,
            heading: "Submissions: every batch and its answer".into(),
            before: String::new(),
            table: table_html(&t, "submissions", Some((col, &link))),
            after: String::new(),
        })
    })
    .await
}

/// `/submissions/{batch}`: the messages of one batch with their answer (patient references
/// for the DQO only).
pub async fn batch(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    blocking(app, move |app| {
        let path = format!("/submissions/{name}");
        let who = page_who(app, &headers, peer, &path, |_| true)?;
        let msgs = app.with_store(|s| s.batch_messages(&name, app.profile.as_deref()))?;
        if msgs.is_empty() {
            return Err(Reply::NotFound(format!(
                "No sent batch named {name} in the ledger (sent batches come from upload, the accepted folder or import --sent)."
            )));
        }
        let mut t = crate::table::Table::new(&[
            "message", "control_id", "site", "patient_ref", "vaccine", "given", "answer", "worklist",
        ]);
        let snap = app.snapshot(None)?;
        for m in &msgs {
            let item = snap
                .items
                .iter()
                .find(|i| i.batch == name && i.profile == m.profile && i.message_index == m.message_index);
            t.push(vec![
                crate::table::Value::Int(m.message_index),
                crate::table::Value::opt_text(m.control_id.as_deref()),
                crate::table::Value::text(&m.site),
                crate::table::Value::opt_text(m.patient_ref.as_deref()),
                crate::table::Value::opt_text(m.vaccines.as_deref()),
                crate::table::Value::opt_text(m.administered_on.as_deref()),
                crate::table::Value::text(format!(
                    "{}{}",
                    m.status.as_str(),
                    if m.inferred { " (inferred)" } else { "" }
                )),
                crate::table::Value::opt_text(item.map(|i| i.id.to_string()).as_deref()),
            ]);
        }
        if !who.role.sees_patients() {
            t.remove_column("patient_ref");
        } else {
            audit(app, &who, "view", &path, None);
        }
        let link = |id: &str| format!("/worklist/{id}");
        let linked: Option<(&str, &dyn Fn(&str) -> String)> =
            reads_worklist(who.role).then_some(("worklist", &link));
        let counts = {
            let mut c: std::collections::BTreeMap<&str, usize> = Default::default();
            for m in &msgs {
                *c.entry(m.status.as_str()).or_default() += 1;
            }
            c.iter().map(|(k, v)| format!("{v} {k}")).collect::<Vec<_>>().join(", ")
        };
        html(TablePage {
            title: name.clone(),
            chrome: Chrome::of(&who, "/submissions"),
            flash: None,
            heading: format!("Batch {name}"),
            before: format!("<p>{} message(s): {}</p>", msgs.len(), esc(&counts)),
            table: table_html(&t, "messages", linked),
            after: String::new(),
        })
    })
    .await
}

/// `/codes/{code}`: what a registry code means, who fixes it and how (as `immdqa explain`).
pub async fn code(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Response {
    blocking(app, move |app| {
        let who = page_who(app, &headers, peer, "/codes", |_| true)?;
        let owners = crate::ledger::owners::Owners::new(&app.config.owners);
        let Some(c) = crate::formats::codes::catalogue().get(&code) else {
            return Err(Reply::NotFound(format!(
                "immdqa does not know the code {code}: the registry's own documentation (or its answer's text) says what it means."
            )));
        };
        let mut t = crate::table::Table::new(&["", ""]);
        let field = c.field.clone().unwrap_or_default();
        for (k, v) in [
            ("code", c.code.clone()),
            ("class", c.class.to_string()),
            ("HL7 field", field.clone()),
            (
                "owner",
                format!("{} (from {})", owners.of(&c.code, &field), owners.source(&c.code)),
            ),
            ("registry text", c.text.clone().unwrap_or_default()),
            ("meaning", c.meaning.clone()),
            ("how to fix", c.fix.clone()),
            ("source", c.source.clone()),
        ] {
            t.push(vec![crate::table::Value::text(k), crate::table::Value::text(v)]);
        }
        let link = format!(
            "<p><a href=\"/worklist?status=open&amp;code={}\">Open worklist items with this code</a></p>",
            esc(&urlencode(&c.code))
        );
        html(TablePage {
            title: c.code.clone(),
            chrome: Chrome::of(&who, "/worklist"),
            flash: None,
            heading: format!("Code {}", c.code),
            before: String::new(),
            table: table_html(&t, "code", None),
            after: if reads_worklist(who.role) { link } else { String::new() },
        })
    })
    .await
}

// ---- users and audit (admin) --------------------------------------------------------------

#[derive(Template)]
#[template(path = "serve/users.html")]
struct UsersPage {
    title: String,
    chrome: Option<Chrome>,
    flash: Option<String>,
    csrf: String,
    users: Vec<(String, String, String, String)>,
}

pub async fn users(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    blocking(app, move |app| {
        let who = page_who(app, &headers, peer, "/users", |r| r == Role::Admin)?;
        let users = app.with_store(|s| s.users())?;
        html(UsersPage {
            title: "Users".into(),
            chrome: Chrome::of(&who, "/users"),
            flash: Form::query(&uri).get("done").map(str::to_string),
            csrf: who.csrf.clone(),
            users: users
                .into_iter()
                .map(|u| {
                    (
                        u.name,
                        u.role.as_str().to_string(),
                        u.created.get(..10).unwrap_or("").to_string(),
                        u.updated.get(..10).unwrap_or("").to_string(),
                    )
                })
                .collect(),
        })
    })
    .await
}

pub async fn user_actions(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    blocking(app, move |app| {
        let who = page_who(app, &headers, peer, "/users/actions", |r| r == Role::Admin)?;
        let form = Form::parse(&body);
        check_csrf(&who, &form)?;
        let name = form.text("name");
        let message = match form.text("action").as_str() {
            "add" => {
                let role = Role::parse(&form.text("role"))
                    .ok_or_else(|| Reply::Bad("role: dqo, compliance, analyst or admin".into()))?;
                crate::serve::auth::check_new_user(&name, form.get("password").unwrap_or(""))
                    .map_err(Reply::Bad)?;
                let hash = auth::hash_password(form.get("password").unwrap_or(""))
                    .map_err(Reply::Internal)?;
                if !app.with_store(|s| s.user_add(&name, role, &hash))? {
                    return Err(Reply::Bad(format!("there is already a user named {name}")));
                }
                format!("{name} added as {}", role.as_str())
            }
            "remove" => {
                if name == who.user {
                    return Err(Reply::Bad("you cannot remove yourself".into()));
                }
                if !app.with_store(|s| s.user_remove(&name))? {
                    return Err(Reply::NotFound(format!("no user named {name}")));
                }
                app.sessions.end_user(&name);
                format!("{name} removed")
            }
            other => return Err(Reply::Bad(format!("unknown action '{other}'"))),
        };
        audit(app, &who, "user", &message, None);
        Ok(Redirect::to(&format!("/users?done={}", urlencode(&message))).into_response())
    })
    .await
}

fn audit_page(
    app: &App,
    who: &Who,
    q: &Form,
) -> Result<Response, Reply> {
    let since = q.get("since").filter(|s| !s.is_empty());
    let user = q.get("user").filter(|s| !s.is_empty());
    let rows = app.with_store(|s| s.audit_rows(since, user))?;
    let t = crate::serve::api::audit_table(&rows);
    html(TablePage {
        title: "Audit".into(),
        chrome: Chrome::of(who, "/audit"),
        flash: None,
        heading: "Audit trail".into(),
        before: "<form class=\"filters\" method=\"get\" action=\"/audit\"><label>Since (YYYY-MM-DD)<input name=\"since\"></label><label>User<input name=\"user\"></label><button>Filter</button></form>".into(),
        table: table_html(&t, "audit", None),
        after: String::new(),
    })
}

/// `/audit` (admin): the audit trail, as `immdqa audit`.
pub async fn audit_trail(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let q = Form::query(&uri);
    blocking(app, move |app| {
        let who = page_who(app, &headers, peer, "/audit", |r| r == Role::Admin)?;
        audit_page(app, &who, &q)
    })
    .await
}
