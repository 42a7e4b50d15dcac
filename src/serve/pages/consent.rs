//! `/consent`: open consent follow-ups with the names the notices carry (compliance), closed
//! with a note through `/consent/actions`.

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};

use super::*;

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
        )?;
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
        let (who, form) = posted(
            app,
            &headers,
            peer,
            "/consent/actions",
            Role::works_consent,
            &body,
        )?;
        if form.text("action") != "close" {
            return Err(Reply::Bad("the consent page closes follow-ups only".into()));
        }
        let chosen: Vec<i64> = form
            .all("id")
            .filter_map(|i| i.trim().parse().ok())
            .collect();
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
        )?;
        Ok(Redirect::to(&format!(
            "/consent?done={}",
            urlencode(&format!("{} follow-up(s) closed", done.len()))
        ))
        .into_response())
    })
    .await
}
