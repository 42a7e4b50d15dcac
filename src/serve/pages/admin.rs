//! `/users` (admin: add, remove) and `/audit` (admin: the audit trail).

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};

use super::*;

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
        let (who, form) = posted(
            app,
            &headers,
            peer,
            "/users/actions",
            |r| r == Role::Admin,
            &body,
        )?;
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
        audit(app, &who, "user", &message, None)?;
        Ok(Redirect::to(&format!("/users?done={}", urlencode(&message))).into_response())
    })
    .await
}

fn audit_page(app: &App, who: &Who, q: &Form) -> Result<Response, Reply> {
    let since = q.get("since").filter(|s| !s.is_empty());
    let user = q.get("user").filter(|s| !s.is_empty());
    let rows =
        crate::store::users::AuditLog::open(&app.store_dir, app.keys.key())?.rows(since, user)?;
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
