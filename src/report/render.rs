//! Step two of a report: rendering the model ([`super::model::ReportModel`]) to the page,
//! with no store access. Each section is one function returning a [`Table`] (or HTML), and
//! [`page`] assembles `index.html` with the charts inline as SVG.

use std::fmt::Write as _;

use super::model::{LedgerModel, ReportModel};
use super::{ExportKind, ReportDef, ReportError, TableKind};
use crate::analytics::thresholds::Level;
use crate::analytics::trends::TrendBy;
use crate::analytics::{changes, consent, submissions, trends, week_label};
use crate::charts;
use crate::table::{ColType, Table, Value};

/// "What do I fix first": the week's top codes with owner, open records, trend and fix.
pub fn top_issues(m: &LedgerModel) -> Table {
    let mut t = Table::typed(&[
        ("code", ColType::Text),
        ("owner", ColType::Text),
        ("this week", ColType::Int),
        ("open records", ColType::Int),
        ("trend", ColType::Text),
        ("how to fix", ColType::Text),
    ]);
    for i in &m.top_issues {
        t.push(vec![
            Value::text(&i.code),
            Value::text(i.owner.as_str()),
            Value::Int(i.findings),
            Value::Int(i.open_records as i64),
            Value::text(i.arrow.symbol()),
            Value::opt_text(i.fix.as_deref()),
        ]);
    }
    t
}

/// Acceptance and findings per site in the report week.
pub fn sites(m: &LedgerModel) -> Table {
    let mut t = Table::typed(&[
        ("site", ColType::Text),
        ("messages", ColType::Int),
        ("accepted", ColType::Int),
        ("with warnings", ColType::Int),
        ("rejected", ColType::Int),
        ("no answer", ColType::Int),
        ("acceptance", ColType::Text),
        ("findings", ColType::Int),
        ("per 1,000", ColType::Float),
    ]);
    for s in &m.sites {
        let g = &s.acceptance;
        t.push(vec![
            Value::text(&g.key),
            Value::Int(g.messages),
            Value::Int(g.accepted),
            Value::Int(g.accepted_with_warnings),
            Value::Int(g.rejected),
            Value::Int(g.pending + g.not_mentioned),
            Value::text(
                crate::analytics::breakdown::acceptance_rate(g)
                    .map(|r| format!("{:.1}%", r * 100.0))
                    .unwrap_or_else(|| "unknown".into()),
            ),
            Value::Int(s.findings),
            Value::opt_float(s.per_1000.map(|x| (x * 10.0).round() / 10.0)),
        ]);
    }
    t
}

/// The open worklist as shown on the page: the report week's new items first (newest
/// first), then the older backlog, oldest first; worklist.csv holds every item.
pub fn open_worklist(m: &LedgerModel, week: chrono::NaiveDate) -> Table {
    let is_new = |i: &crate::ledger::worklist::Item| i.opened.is_some_and(|o| o >= week);
    let open = || {
        m.worklist
            .iter()
            .filter(|i| i.status == crate::ledger::worklist::ItemStatus::Open)
    };
    let mut new: Vec<_> = open().filter(|i| is_new(i)).cloned().collect();
    new.reverse();
    new.extend(open().filter(|i| !is_new(i)).cloned());
    crate::ledger::worklist::table(&new)
}

/// What to fix first: the open backlog by site × owner.
pub fn backlog(m: &LedgerModel) -> Table {
    let mut t = Table::typed(&[
        ("site", ColType::Text),
        ("owner", ColType::Text),
        ("open records", ColType::Int),
        ("new this week", ColType::Int),
        ("oldest (days)", ColType::Int),
        ("most frequent code", ColType::Text),
        ("how to fix", ColType::Text),
    ]);
    for b in &m.backlog {
        t.push(vec![
            Value::text(&b.site),
            Value::text(b.owner.as_str()),
            Value::Int(b.open as i64),
            Value::Int(b.new_this_week as i64),
            Value::opt_int(b.oldest_days),
            Value::text(&b.top_code),
            Value::opt_text(b.fix.as_deref()),
        ]);
    }
    t
}

/// Timeliness per site and week.
pub fn timeliness(m: &LedgerModel) -> Table {
    crate::analytics::breakdown::timeliness_table(&m.timeliness)
}

/// The note shown when the ledger is empty.
pub const NO_LEDGER: &str = "The message ledger is empty: these sections fill once sent batches arrive (immdqa upload, the accepted folder, or immdqa import --sent).";

pub(super) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html_table(t: &Table, max_rows: usize) -> String {
    let mut h = String::from("<table><thead><tr>");
    for c in &t.columns {
        let _ = write!(h, "<th>{}</th>", esc(&c.replace('_', " ")));
    }
    h.push_str("</tr></thead><tbody>");
    for r in t.rows.iter().take(max_rows) {
        h.push_str("<tr>");
        for v in r {
            let cls = if matches!(v, Value::Int(_) | Value::Float(_)) {
                " class=\"n\""
            } else {
                ""
            };
            let _ = write!(h, "<td{cls}>{}</td>", esc(&v.render()));
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table>");
    if t.rows.len() > max_rows {
        let _ = write!(
            h,
            "<p class=\"note\">{} more rows in the CSV export.</p>",
            t.rows.len() - max_rows
        );
    }
    if t.rows.is_empty() {
        h.push_str("<p class=\"note\">Nothing to show for this period.</p>");
    }
    h
}

const CSS: &str = "body{font-family:DejaVu Sans,Verdana,sans-serif;margin:2em auto;max-width:1240px;color:#222}\
h1{margin-bottom:0}.sub{color:#555;margin-top:.3em}table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:13px}\
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f0f3f7}td.n{text-align:right}\
.verdict{padding:.6em 1em;border-radius:4px;font-weight:bold;margin:1em 0}.ok{background:#e3f4e1}.unknown{background:#e2e3e5}.warn{background:#fff3cd}.fail{background:#f8d7da}\
figure{margin:1em 0}figure svg{max-width:100%;height:auto;border:1px solid #eee}.note{color:#666;font-size:12px}nav a{margin-right:1em}";

/// The threshold checks and breaches as a table.
fn verdicts(m: &ReportModel) -> Table {
    let v = &m.verdict;
    let mut tb = Table::new(&["check", "result", "detail", "basis"]);
    for c in &v.checks {
        tb.push(vec![
            Value::text(c.name),
            Value::text(c.level.as_str()),
            Value::text(&c.message),
            Value::text(&c.basis),
        ]);
    }
    for b in v
        .breaches
        .iter()
        .filter(|b| !v.checks.iter().any(|c| c.message == b.message))
    {
        tb.push(vec![
            Value::text(b.check),
            Value::text(b.level.as_str()),
            Value::text(&b.message),
            Value::text(""),
        ]);
    }
    tb
}

/// One table section: (title, table, rows shown).
fn section(m: &ReportModel, t: TableKind) -> (&'static str, Table, usize) {
    match t {
        TableKind::Verdicts => ("Threshold checks", verdicts(m), 50),
        TableKind::Submissions => ("Submissions", submissions::table(&m.submissions), 60),
        TableKind::Changes => (
            "Changes against the previous week (new, persisting, resolved issues)",
            m.changes.as_ref().map(changes::table).unwrap_or_default(),
            60,
        ),
        TableKind::Trends => {
            let mut rows = m.trend.clone();
            rows.retain(|r| r.week == m.week);
            (
                "Findings this week by field",
                trends::table(&rows, TrendBy::Field),
                40,
            )
        }
        TableKind::ConsentOpen => (
            "Open consent follow-ups (oldest first)",
            consent::open_table(&m.consent),
            200,
        ),
        TableKind::ConsentWeekly => {
            let v = consent::ConsentView {
                notices: vec![],
                weekly: m.consent_weekly.clone(),
                open: vec![],
                untracked: 0,
            };
            ("Consent notices per week", consent::weekly_table(&v), 200)
        }
        TableKind::Backlog => (
            "What to fix first: the open backlog by site and owner (most open first)",
            backlog(&m.ledger),
            50,
        ),
        TableKind::Resolved => (
            "Resolved this week: fixes the registry accepted",
            crate::ledger::worklist::table(&m.ledger.resolved_this_week),
            100,
        ),
        TableKind::TopIssues => (
            "What to fix first: this week's codes, who fixes them, open records",
            top_issues(&m.ledger),
            20,
        ),
        TableKind::Sites => (
            "Acceptance and findings per site this week",
            sites(&m.ledger),
            50,
        ),
        TableKind::Worklist => {
            let title = if m.ledger.open_items() > 100 {
                "Open worklist: this week's new items first, then the oldest (100 shown; every item in worklist.csv)"
            } else {
                "Open worklist: this week's new items first, then the oldest (every item in worklist.csv)"
            };
            (title, open_worklist(&m.ledger, m.week), 100)
        }
        TableKind::Timeliness => (
            "Timeliness: doses reported within 1, 7 and 30 days, per site and week",
            timeliness(&m.ledger),
            200,
        ),
        TableKind::Score => {
            let mut rows = m.scores.clone();
            rows.retain(|r| r.week == m.week);
            (
                "Scorecard per site this week (0–100; acceptance, completeness, timeliness, validity; change against last week)",
                crate::analytics::score::table(&rows, &m.score_weights),
                100,
            )
        }
        TableKind::Vaccines => (
            "Acceptance per vaccine this week (per batch)",
            crate::analytics::breakdown::acceptance_table(
                &m.vaccines,
                crate::analytics::breakdown::By::Vaccine,
            ),
            100,
        ),
        TableKind::Completeness => (
            "Completeness per site this week: % of administered doses carrying each field",
            crate::analytics::completeness::table(
                &m.completeness,
                crate::analytics::completeness::By::Site,
            ),
            100,
        ),
    }
}

/// The banner: the verdict in one line.
fn banner(m: &ReportModel) -> String {
    let v = &m.verdict;
    if m.consent_only {
        return v.checks[0].message.clone();
    }
    let n = |l: Level| v.checks.iter().filter(|c| c.level == l).count();
    let parts: Vec<String> = [
        (Level::Fail, "failure(s)"),
        (Level::Warn, "warning(s)"),
        (Level::Unknown, "unknown (the data cannot tell)"),
    ]
    .into_iter()
    .filter(|(l, _)| n(*l) > 0)
    .map(|(l, word)| format!("{} {word}", n(l)))
    .collect();
    if parts.is_empty() {
        "all checks pass".to_string()
    } else {
        parts.join(", ")
    }
}

/// The definition's charts inline as SVG, with a link to each one's PNG.
fn figures(
    def: &ReportDef,
    data: &charts::ChartData<'_>,
    body: &mut String,
    links: &mut Vec<String>,
) -> Result<(), ReportError> {
    for kind in &def.charts {
        let svg = charts::render_svg(*kind, data)?;
        links.push(format!("<a href=\"{0}.png\">{0}.png</a>", kind.name()));
        let _ = write!(body, "<figure id=\"chart-{}\">{svg}</figure>", kind.name());
    }
    Ok(())
}

/// Step two: the whole `index.html` of the model (charts inline as SVG; the PNG and CSV
/// files it links to are written by the writing step).
pub fn page(m: &ReportModel, def: &ReportDef, name: &str) -> Result<String, ReportError> {
    let (body, mut links) = body(m, def, Body::default())?;
    for e in &def.exports {
        links.push(format!("<a href=\"{0}\">{0}</a>", e.file()));
    }
    let footer = if m.consent_only {
        "consent follow-ups close when the patient appears later without a consent problem"
            .to_string()
    } else {
        format!(
            "thresholds: acceptance rate ≥ {:.0}%, error rate not rising {} weeks in a row",
            m.min_acceptance_rate * 100.0,
            m.rising_error_weeks
        )
    };
    Ok(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} {}</title><style>{CSS}</style></head><body>{body}<h2>Files</h2><nav>{}</nav><p class=\"note\">immdqa {} · report '{}' · {footer}.</p></body></html>\n",
        esc(&def.title),
        week_label(m.week),
        links.join(" "),
        env!("CARGO_PKG_VERSION"),
        esc(name),
    ))
}

/// How [`body`] is drawn: in a report folder (links to its files) or inside a served page.
#[derive(Debug, Clone, Copy, Default)]
pub struct Body {
    /// Served: no links to the folder's files, no title (the page has its own).
    pub served: bool,
    /// No patient references in any table (a reader who may not see them).
    pub redact_patients: bool,
}

/// The report's content: title, verdict, sections and charts (SVG), and the links to the
/// folder's files (empty when served).
pub fn body(
    m: &ReportModel,
    def: &ReportDef,
    how: Body,
) -> Result<(String, Vec<String>), ReportError> {
    let mut body = String::new();
    let scope = match (&m.profile, m.profiles.len()) {
        (Some(p), _) => format!(" · profile {}", esc(p)),
        (None, n) if n > 1 => format!(" · profiles {}", esc(&m.profiles.join(", "))),
        _ => String::new(),
    };
    let _ = write!(
        body,
        "<h1>{}</h1><p class=\"sub\">{} · week {} ({} to {}){scope} · {} · generated {}</p>",
        esc(&def.title),
        esc(&def.audience),
        week_label(m.week),
        m.week,
        m.until,
        m.coverage,
        chrono::Local::now().format("%Y-%m-%d %H:%M")
    );
    let _ = write!(
        body,
        "<div class=\"verdict {}\">{}: {}</div>",
        m.verdict.level.as_str(),
        if m.consent_only {
            "Consent"
        } else {
            "Thresholds"
        },
        esc(&banner(m))
    );
    if !m.consent_only {
        for c in m.verdict.checks.iter().filter(|c| c.level != Level::Ok) {
            let _ = write!(
                body,
                "<p class=\"note\">{}: {} — {} (basis: {})</p>",
                c.level.as_str(),
                esc(c.name),
                esc(&c.message),
                esc(&c.basis)
            );
        }
    }
    if m.needs_consent {
        let _ = write!(
            body,
            "<p class=\"note\">Consent follow-up ages are counted to {}.</p>",
            m.consent_as_of
        );
    }
    // "what do I fix first" leads the page; the charts, then the other tables follow
    let lead = |t: &TableKind| matches!(t, TableKind::Backlog | TableKind::TopIssues);
    let tables = def
        .tables
        .iter()
        .filter(|t| lead(t))
        .map(|t| (true, *t))
        .chain(def.tables.iter().filter(|t| !lead(t)).map(|t| (false, *t)));
    let data = m.chart_data(def.top);
    let mut links = Vec::new();
    let mut charts_done = false;
    for (leading, t) in tables {
        if !leading && !charts_done {
            charts_done = true;
            figures(def, &data, &mut body, &mut links)?;
        }
        let (title, mut table, rows) = section(m, t);
        if how.redact_patients {
            table.remove_column("patient_ref");
        }
        if t.is_ledger_section() && !m.ledger.has_ledger {
            let _ = write!(
                body,
                "<h2>{}</h2><p class=\"note\">{}</p>",
                esc(title),
                esc(NO_LEDGER)
            );
            continue;
        }
        let _ = write!(body, "<h2>{}</h2>{}", esc(title), html_table(&table, rows));
        if t == TableKind::Worklist && def.exports.contains(&ExportKind::Worklist) && !how.served {
            let _ = write!(
                body,
                "<p class=\"note\">Every item, open or not, with its fix and notes: <a href=\"worklist.csv\">worklist.csv</a>.</p>"
            );
        }
    }
    if !charts_done {
        figures(def, &data, &mut body, &mut links)?;
    }
    if how.served {
        links.clear();
    }
    Ok((body, links))
}
