//! What is not a page: `/api/worklist` (JSON, the fields of `immdqa worklist --format json`,
//! for a session or a bearer token), and the worklist view as CSV or Excel.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use super::App;
use super::auth;
use super::pages::{Form, Reply, View, Who, audit, blocking, ids, page_who, reads_worklist};
use super::state::Snapshot;
use crate::ledger::worklist::Item;
use crate::table::Table;

/// The worklist table of a view, without patient references for a role that may not see them.
fn view_table(who: &Who, items: &[&Item]) -> Table {
    let mut t = crate::ledger::worklist::table(items.iter().copied());
    if !who.role.sees_patients() {
        t.remove_column("patient_ref");
    }
    t
}

/// The selected items: sorted as asked, else in the CLI's order (oldest answer first).
fn selected<'a>(view: &View, q: &Form, snap: &'a Snapshot) -> Vec<&'a Item> {
    let mut v = view.clone();
    if q.get("sort").is_none() {
        v.sort = "store".into();
        v.dir = "asc".into();
    }
    snap.select(&v).iter().map(|&k| &snap.items[k]).collect()
}

/// `GET /api/worklist`: a session, or `Authorization: Bearer <token>` (`immdqa user token`).
pub async fn worklist(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    blocking(app, move |app| {
        let who = api_who(app, &headers, peer)?;
        if !reads_worklist(who.role) {
            audit(app, &who, "denied", "/api/worklist", None)?;
            return Err(Reply::Forbidden(
                "the worklist is not open to this role".into(),
            ));
        }
        let q = Form::query(&uri);
        let view = View::parse(&q);
        let snap = app.snapshot(view.owner())?.snapshot;
        let chosen = selected(&view, &q, &snap);
        if who.role.sees_patients() {
            audit(
                app,
                &who,
                "view",
                &format!("/api/worklist?{}", view.query()),
                Some(ids(chosen.iter().map(|i| i.id))),
            )?;
        }
        Ok(axum::Json(view_table(&who, &chosen).to_json()).into_response())
    })
    .await
}

/// The signed-in person of an API request: a session cookie, else a bearer token.
fn api_who(app: &App, headers: &HeaderMap, peer: SocketAddr) -> Result<Who, Reply> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim);
    if let Some(token) = bearer {
        let user = app
            .with_store(|s| s.token_user(&auth::token_hash(token)))?
            .ok_or(Reply::Unauthorized)?;
        return Ok(Who {
            user: user.name,
            role: user.role,
            csrf: String::new(),
            address: peer.ip().to_string(),
        });
    }
    page_who(app, headers, peer, "/api/worklist", |_| true).map_err(|e| match e {
        Reply::Login(_) => Reply::Unauthorized,
        e => e,
    })
}

/// `GET /worklist.csv?…`: the view as CSV (every page).
pub async fn worklist_csv(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    download(app, peer, headers, uri, "csv").await
}

/// `GET /worklist.xlsx?…`: the view as an Excel workbook (every page).
pub async fn worklist_xlsx(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    download(app, peer, headers, uri, "xlsx").await
}

async fn download(
    app: Arc<App>,
    peer: SocketAddr,
    headers: HeaderMap,
    uri: axum::http::Uri,
    kind: &'static str,
) -> Response {
    blocking(app, move |app| {
        let who = page_who(app, &headers, peer, "/worklist", reads_worklist)?;
        let q = Form::query(&uri);
        let view = View::parse(&q);
        let snap = app.snapshot(view.owner())?.snapshot;
        let chosen: Vec<&Item> = snap.select(&view).iter().map(|&k| &snap.items[k]).collect();
        let t = view_table(&who, &chosen);
        let name = format!(
            "worklist{}{}.{kind}",
            if view.site.is_empty() { "" } else { "-" },
            view.site
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect::<String>()
        );
        let (body, mime) = if kind == "csv" {
            let mut buf = Vec::new();
            t.write_csv(&mut buf)
                .map_err(|e| Reply::Internal(format!("writing CSV: {e}")))?;
            (buf, "text/csv; charset=utf-8")
        } else {
            (
                xlsx(&t).map_err(|e| Reply::Internal(format!("writing the workbook: {e}")))?,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        };
        audit(
            app,
            &who,
            "download",
            &format!("/worklist.{kind}?{}", view.query()),
            Some(ids(chosen.iter().map(|i| i.id))),
        )?;
        Ok((
            [
                (header::CONTENT_TYPE, mime.to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            body,
        )
            .into_response())
    })
    .await
}

/// A table as one worksheet: a bold header, numbers as numbers, the header row frozen.
pub fn xlsx(t: &Table) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use crate::table::Value;
    let mut wb = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name("worklist")?;
    for (c, name) in t.columns.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, name, &bold)?;
    }
    for (r, row) in t.rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, v) in row.iter().enumerate() {
            let c = c as u16;
            match v {
                Value::Int(n) => {
                    ws.write_number(r, c, *n as f64)?;
                }
                Value::Float(x) => {
                    ws.write_number(r, c, *x)?;
                }
                Value::Null => {}
                other => {
                    ws.write_string(r, c, other.render())?;
                }
            }
        }
    }
    ws.set_freeze_panes(1, 0)?;
    wb.save_to_buffer()
}

/// The audit trail as a table (`immdqa audit`, `/audit`).
pub fn audit_table(rows: &[crate::store::users::AuditRow]) -> Table {
    use crate::table::Value;
    let mut t = Table::new(&["id", "at", "user", "address", "event", "detail", "items"]);
    for r in rows {
        t.push(vec![
            Value::Int(r.id),
            Value::text(&r.at),
            Value::opt_text(r.user.as_deref()),
            Value::opt_text(r.address.as_deref()),
            Value::text(&r.event),
            Value::opt_text(r.detail.as_deref()),
            Value::opt_text(r.items.as_deref()),
        ]);
    }
    t
}
