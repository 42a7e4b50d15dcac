//! `/submissions` (every batch), `/submissions/{batch}` (its messages) and `/codes/{code}`
//! (what a code means, who fixes it, how).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::*;

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
        let col = if t.col("batch").is_some() {
            "batch"
        } else {
            "file"
        };
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
        let snap = app.snapshot(None)?.snapshot;
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
            audit(app, &who, "view", &path, None)?;
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
