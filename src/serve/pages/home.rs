//! `/`: this week, from the weekly report's model (its verdict, backlog, top issues, resolved
//! this week, sites and charts).

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::*;

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
        let redact = !who.role.sees_patients();
        let page = app.home_body(redact, || {
            app.with_store(|store| {
                let mut def = crate::report::definition("weekly").map_err(report_err)?;
                def.tables = vec![
                    crate::report::TableKind::Verdicts,
                    crate::report::TableKind::Score,
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
                    score: &app.config.score,
                    registries: app.config.registries(),
                };
                let m = crate::report::model::compute(
                    store,
                    &def,
                    None,
                    &settings,
                    app.profile.as_deref(),
                )
                .map_err(|e| report_err(e.into()))?;
                let has_data = !m.trend.is_empty() || m.ledger.has_ledger;
                let (body, _) = crate::report::render::body(
                    &m,
                    &def,
                    crate::report::render::Body {
                        served: true,
                        redact_patients: redact,
                    },
                )
                .map_err(report_err)?;
                Ok((has_data, body))
            })
        })?;
        let (has_data, body) = (page.0, page.1.clone());
        if who.role.sees_patients() {
            audit(
                app,
                &who,
                "view",
                "/ (resolved this week, with patient references)",
                None,
            )?;
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
