//! `/worklist` (filters, sort, pages of 50), `/worklist/actions` (bulk close, ignore, reopen,
//! assign) and `/worklist/{id}` (one item in full).

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};

use super::*;

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

    /// The positions in `items` of this view's items, sorted (every page); sort `store`
    /// keeps the store's order (the CLI's: oldest answer first).
    pub fn select(&self, items: &[Item]) -> Vec<usize> {
        let min_age: Option<i64> = self.min_age.parse().ok();
        let keep = |i: &Item| {
            (self.status == "all" || i.status.as_str() == self.status)
                && (self.site.is_empty() || i.site.eq_ignore_ascii_case(&self.site))
                && (self.owner.is_empty() || i.codes.iter().any(|c| c.owner.as_str() == self.owner))
                && (self.code.is_empty()
                    || i.codes
                        .iter()
                        .any(|c| c.code.eq_ignore_ascii_case(&self.code)))
                && (self.assignee.is_empty()
                    || i.assignee
                        .as_deref()
                        .is_some_and(|a| a.eq_ignore_ascii_case(&self.assignee)))
                && min_age.is_none_or(|m| i.age_days.is_some_and(|a| a >= m))
        };
        let mut out: Vec<usize> = (0..items.len()).filter(|&k| keep(&items[k])).collect();
        let it = |k: &usize| &items[*k];
        let code = |k: &usize| it(k).own_code().map(|c| c.code.as_str()).unwrap_or("");
        match self.sort.as_str() {
            "store" => {}
            "id" => out.sort_by_key(|k| it(k).id),
            "site" => out.sort_by(|a, b| it(a).site.cmp(&it(b).site).then(it(a).id.cmp(&it(b).id))),
            "code" => out.sort_by(|a, b| code(a).cmp(code(b)).then(it(a).id.cmp(&it(b).id))),
            "status" => out.sort_by(|a, b| {
                it(a)
                    .status
                    .cmp(&it(b).status)
                    .then(it(a).id.cmp(&it(b).id))
            }),
            "assignee" => out.sort_by(|a, b| {
                it(a)
                    .assignee
                    .cmp(&it(b).assignee)
                    .then(it(a).id.cmp(&it(b).id))
            }),
            _ => out.sort_by(|a, b| {
                it(a)
                    .age_days
                    .cmp(&it(b).age_days)
                    .then(it(b).id.cmp(&it(a).id))
            }),
        }
        if self.dir == "desc" {
            out.reverse();
        }
        out
    }

    /// What identifies the selection (filters and order, not the page).
    pub fn key(&self) -> String {
        format!("{}\u{1f}{}\u{1f}{}", self.query(), self.sort, self.dir)
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
        vaccine: i
            .vaccines
            .as_deref()
            .map(|v| format!("{v} {}", crate::vaccines::names_of(v)))
            .unwrap_or_default(),
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
pub fn reads_worklist(r: Role) -> bool {
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
        let current = app.snapshot(view.owner())?;
        let snap = &current.snapshot;
        let selected = snap.select(&view);
        let total = selected.len();
        let pages_n = total.div_ceil(PAGE_SIZE).max(1);
        let page = view.page.min(pages_n);
        let shown: Vec<&Item> = selected
            .iter()
            .skip((page - 1) * PAGE_SIZE)
            .take(PAGE_SIZE)
            .map(|&k| &snap.items[k])
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
        let sites = snap.sites.clone();
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
            )?;
        }
        let flash = q.get("done").map(str::to_string).or_else(|| {
            current.stale.then(|| {
                "The history changed a moment ago (a sync or the command line): this view is being brought up to date; reload in a second.".to_string()
            })
        });
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

/// `POST /worklist/actions`: close, ignore, reopen or assign the selected items (the same
/// store rows, history and journal as `immdqa worklist close|ignore|reopen|assign`).
pub async fn worklist_actions(
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
            "/worklist/actions",
            Role::works_worklist,
            &body,
        )?;
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
        )?;
        app.changed();
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
            format!(
                "/worklist?{}&done={}",
                form.text("back"),
                urlencode(&message)
            )
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
            let snap = app.snapshot(owner)?.snapshot;
            if let Some(i) = snap.items.iter().find(|i| i.id == id) {
                found = Some(i.clone());
                break;
            }
        }
        let it = found.ok_or_else(|| Reply::NotFound(format!("No worklist item {id}.")))?;
        let it = &it;
        let events = app.with_store(|s| s.worklist_events(id))?;
        let text = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
        let mut facts = vec![(
            "sent in",
            format!(
                "{} (message {}), profile {}",
                it.batch, it.message_index, it.profile
            ),
        )];
        if who.role.sees_patients() {
            facts.push(("patient", text(&it.patient_ref)));
        }
        facts.extend([
            (
                "vaccine",
                it.vaccines
                    .as_deref()
                    .map(|v| format!("CVX {v}: {}", crate::vaccines::names_of(v)))
                    .unwrap_or_default(),
            ),
            ("given on", text(&it.administered_on)),
            ("site", it.site.clone()),
            ("provider", text(&it.provider)),
            ("answer", it.message_status.as_str().to_string()),
            ("owner", it.owner.as_str().to_string()),
            ("assignee", text(&it.assignee)),
            (
                "age (days)",
                it.age_days.map(|a| a.to_string()).unwrap_or_default(),
            ),
        ]);
        let mut history = Vec::new();
        if let Some(o) = it.opened {
            history.push(format!(
                "{o}  opened by the registry's answer to {}",
                it.batch
            ));
        }
        history.extend(events.iter().map(crate::ledger::worklist::event_line));
        if it.status == ItemStatus::Resolved {
            history.push(
                "resolved: a later message for the same patient, vaccine and date was accepted"
                    .into(),
            );
        }
        if who.role.sees_patients() {
            audit(app, &who, "view", &path, Some(id.to_string()))?;
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
