//! Sign in (`/login`: the form with its own CSRF cookie, the slow-down of failed attempts) and
//! sign out (`/logout`).

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::*;

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
        max_age
            .map(|s| format!("; Max-Age={s}"))
            .unwrap_or_default()
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
            .map_err(|e| Reply::Internal(format!("the audit trail cannot be written: {e}")))
        };
        if let Some(wait) = app.throttle.wait(&keys) {
            record("login_refused", "too many failed sign-ins: waiting")?;
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
            record("login_failed", "wrong user name or password")?;
            return Ok(login_page(
                app,
                &next,
                Some("Wrong user name or password.".into()),
                StatusCode::UNAUTHORIZED,
            ));
        };
        app.throttle.succeeded(&keys[..1]);
        let (token, _) =
            app.sessions
                .start(&user.name, user.role, &auth::token_hash(&user.password_hash));
        record("login", "signed in")?;
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
        let (who, _) = posted(app, &headers, peer, "/", |_| true, &body)?;
        if let Some(t) = cookie(&headers, SESSION_COOKIE) {
            app.sessions.end(t);
        }
        audit(app, &who, "logout", "signed out", None)?;
        let mut r = Redirect::to("/login").into_response();
        if let Ok(v) = cookie_header(app, SESSION_COOKIE, "", Some(0)).parse() {
            r.headers_mut().insert(header::SET_COOKIE, v);
        }
        Ok(r)
    })
    .await
}
