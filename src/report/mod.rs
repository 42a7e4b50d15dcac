//! Reports: a folder a person opens, built from a report definition (reports/*.toml).
//!
//! `index.html` holds the threshold verdicts, the charts inline as SVG, the tables and links;
//! next to it are the charts as PNG and the CSV exports. The HTML is self-contained (no
//! scripts, no external fonts or styles), so it opens from a file share or an e-mail
//! attachment. Definitions ship for data quality officers (`weekly`) and compliance staff
//! (`consent`); a path to another TOML file works too. Uses: analytics, charts, table.

pub mod model;
pub mod render;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate};
use serde::Deserialize;

use crate::analytics::thresholds::{Level, Thresholds, Verdict};
use crate::analytics::trends::{TrendBy, TrendOptions};
use crate::analytics::{
    History, changes, consent, export, submissions, trends, week_label, week_start,
};
use crate::charts::{self, ChartData, Kind};
use crate::store::{DateRange, Store};
use crate::table::Table;

/// A report definition.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportDef {
    pub title: String,
    #[serde(default)]
    pub audience: String,
    #[serde(default = "default_weeks")]
    pub weeks: u32,
    #[serde(default)]
    pub charts: Vec<Kind>,
    #[serde(default = "default_top")]
    pub top: usize,
    #[serde(default)]
    pub tables: Vec<TableKind>,
    #[serde(default)]
    pub exports: Vec<ExportKind>,
}

fn default_weeks() -> u32 {
    12
}
fn default_top() -> usize {
    6
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    Verdicts,
    Submissions,
    Changes,
    Trends,
    ConsentOpen,
    ConsentWeekly,
    /// "What do I fix first": top codes with owner, open records, trend and fix (ledger).
    TopIssues,
    /// Acceptance and findings per site in the report week (ledger).
    Sites,
    /// The open worklist (ledger).
    Worklist,
    /// Timeliness per site and week (ledger).
    Timeliness,
}

impl TableKind {
    fn is_ledger_section(self) -> bool {
        matches!(
            self,
            TableKind::TopIssues | TableKind::Sites | TableKind::Worklist | TableKind::Timeliness
        )
    }
}

/// What a report is built with besides its definition: the thresholds and the ledger's
/// settings (today, the overdue period, `[worklist]`, `[owners]`).
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    pub thresholds: &'a Thresholds,
    pub ledger: crate::analytics::thresholds::LedgerScope,
    pub worklist: &'a crate::config::WorklistConfig,
    pub owners: &'a std::collections::BTreeMap<String, crate::domain::Owner>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportKind {
    Findings,
    Submissions,
    Trends,
    Consent,
    /// Every worklist item (patient references: the folder is owner-only).
    Worklist,
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Kind, D::Error> {
        let s = String::deserialize(d)?;
        Kind::all()
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "unknown chart '{s}' (trend, top, acceptance, consent, heatmap, timeliness)"
                ))
            })
    }
}

/// Built-in definitions (reports/*.toml).
pub const BUILT_IN: &[(&str, &str)] = &[
    ("weekly", include_str!("../../reports/weekly.toml")),
    ("consent", include_str!("../../reports/consent.toml")),
];

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(
        "no report named '{0}' (built in: weekly, consent; or give a path to a .toml definition)"
    )]
    Unknown(String),
    #[error("report definition {name}: {message}")]
    Definition { name: String, message: String },
    #[error(transparent)]
    Analytics(#[from] crate::analytics::AnalyticsError),
    #[error(transparent)]
    Chart(#[from] charts::ChartError),
    #[error("writing the report to {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Load a definition by built-in name or file path.
pub fn definition(name: &str) -> Result<ReportDef, ReportError> {
    let (label, text) = match BUILT_IN.iter().find(|(n, _)| *n == name) {
        Some((n, t)) => (n.to_string(), t.to_string()),
        None if name.ends_with(".toml") => (
            name.to_string(),
            std::fs::read_to_string(name).map_err(|e| ReportError::Definition {
                name: name.into(),
                message: e.to_string(),
            })?,
        ),
        None => return Err(ReportError::Unknown(name.into())),
    };
    toml::from_str(&text).map_err(|e| ReportError::Definition {
        name: label,
        message: e.message().to_string(),
    })
}

/// The verdict of a consent report: open follow-ups warn (someone has to act), none is OK,
/// no consent data at all is unknown.
fn consent_verdict(v: &consent::ConsentView, as_of: NaiveDate, week: NaiveDate) -> Verdict {
    use crate::analytics::thresholds::{Breach, Check};
    let oldest = v.open.iter().map(|f| f.age_days).max();
    let (level, message) = if v.notices.is_empty() {
        (
            Level::Unknown,
            "no consent notification in the history: nothing to follow up, or no CNF fetched yet"
                .to_string(),
        )
    } else if v.open.is_empty() {
        (Level::Ok, format!("no open follow-up as of {as_of}"))
    } else {
        (
            Level::Warn,
            format!(
                "{} open follow-up(s) as of {as_of}, the oldest {} days old",
                v.open.len(),
                oldest.unwrap_or(0)
            ),
        )
    };
    let check = Check {
        name: "consent_follow_ups",
        level,
        message: message.clone(),
        basis: format!(
            "{} consent notice(s); a follow-up closes when the patient appears later without a consent problem",
            v.notices.len()
        ),
    };
    Verdict {
        week: Some(week),
        level,
        breaches: if level == Level::Ok {
            vec![]
        } else {
            vec![Breach {
                level,
                check: "consent_follow_ups",
                message,
            }]
        },
        checks: vec![check],
    }
}

/// What a built report contains.
#[derive(Debug)]
pub struct Built {
    pub index: PathBuf,
    pub files: Vec<PathBuf>,
    pub verdict: Verdict,
    pub week: NaiveDate,
}

fn esc(s: &str) -> String {
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
            let cls = if matches!(
                v,
                crate::table::Value::Int(_) | crate::table::Value::Float(_)
            ) {
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

/// Build the report for the week holding `week` (default: the latest week with data).
pub fn build(
    store: &Store,
    def: &ReportDef,
    name: &str,
    week: Option<NaiveDate>,
    out: &Path,
    settings: &Settings<'_>,
    profile: Option<&str>,
) -> Result<Built, ReportError> {
    let thresholds = settings.thresholds;
    let io = |source| ReportError::Io {
        path: out.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(out).map_err(io)?;
    // the folder holds patient references (findings.csv, consent.csv): owner-only, even when
    // it existed with wider permissions
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(out, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    let h = History::load_scoped(store, profile)?;
    let week = week
        .map(week_start)
        .or_else(|| changes::latest_date(&h).map(week_start))
        .unwrap_or_else(|| week_start(chrono::Local::now().date_naive()));
    let until = week + Duration::days(6);
    let since = week - Duration::weeks(def.weeks.saturating_sub(1) as i64);

    let trend = trends::trends(
        &h,
        &TrendOptions {
            by: TrendBy::Field,
            since: Some(since),
            until: Some(until),
            top: None,
            split_profiles: false,
        },
    )?;
    // The thresholds look at the report week and the weeks before it; the charts at the
    // report's `weeks`. One submissions pass over the longer window.
    let window_since = since.min(week - crate::analytics::thresholds::lookback(thresholds));
    let window_subs = crate::analytics::thresholds::with_sent_sizes(
        submissions::submissions(&h, Some(window_since))?,
        store,
        profile,
    )
    .map_err(crate::analytics::AnalyticsError::from)?;
    let subs: Vec<_> = window_subs
        .iter()
        .filter(|s| s.date.is_none_or(|d| d >= since && d <= until))
        .cloned()
        .collect();
    let mut verdict = crate::analytics::thresholds::evaluate_submissions(
        store,
        &h,
        thresholds,
        &window_subs,
        Some(week),
        settings.ledger,
    )?;
    // the ledger sections: computed once, only when shown
    let needs_ledger = def.tables.iter().any(|t| t.is_ledger_section())
        || def.exports.contains(&ExportKind::Worklist)
        || def.charts.contains(&Kind::Timeliness);
    let ledger = if needs_ledger {
        model::ledger_model(
            store,
            &h,
            week,
            since,
            model::LedgerSettings {
                worklist: settings.worklist,
                owners: settings.owners,
                today: settings.ledger.today,
            },
            def.top,
        )?
    } else {
        model::LedgerModel::default()
    };
    // consent status reads every patient reference in the history: only when shown
    let needs_consent = def.charts.contains(&Kind::Consent)
        || def
            .tables
            .iter()
            .any(|t| matches!(t, TableKind::ConsentOpen | TableKind::ConsentWeekly))
        || def.exports.contains(&ExportKind::Consent);
    // One reference date for every follow-up age on the page and in consent.csv: the end of
    // the report week, or today for the current week.
    let today = chrono::Local::now().date_naive();
    let consent_as_of = until.min(today);
    let cview = if needs_consent {
        consent::consent(store, &h, consent_as_of)?
    } else {
        consent::ConsentView::default()
    };
    let mut weekly = cview.weekly.clone();
    weekly.retain(|w| w.week >= since && w.week <= until);

    let mut files = Vec::new();
    let subtitle = format!("{} to {}", week_label(since), week_label(week));
    let data = ChartData {
        trend: &trend,
        key_label: "HL7 field",
        submissions: &subs,
        consent: &weekly,
        timeliness: &ledger.timeliness,
        min_acceptance_rate: thresholds.min_acceptance_rate,
        top: def.top,
        subtitle: subtitle.clone(),
    };
    let mut body = String::new();
    // the weeks of the window that hold at least one report
    let covered: std::collections::BTreeSet<NaiveDate> = h
        .reports
        .iter()
        .filter_map(|r| r.week)
        .filter(|w| *w >= since && *w <= week)
        .collect();
    let coverage = match (covered.first(), covered.last()) {
        (Some(first), Some(last)) => format!(
            "{} of {} weeks with reports ({} to {})",
            covered.len(),
            def.weeks,
            week_label(*first),
            week_label(*last)
        ),
        _ => format!("no reports in the {} weeks shown", def.weeks),
    };
    let scope = match (profile, h.profiles.len()) {
        (Some(p), _) => format!(" · profile {}", esc(p)),
        (None, n) if n > 1 => format!(" · profiles {}", esc(&h.profiles.join(", "))),
        _ => String::new(),
    };
    let _ = write!(
        body,
        "<h1>{}</h1><p class=\"sub\">{} · week {} ({} to {}){scope} · {coverage} · generated {}</p>",
        esc(&def.title),
        esc(&def.audience),
        week_label(week),
        week,
        until,
        chrono::Local::now().format("%Y-%m-%d %H:%M")
    );
    // A report about consent only shows consent verdicts; the others the thresholds.
    let consent_only = !def.tables.contains(&TableKind::Verdicts)
        && def.charts.iter().all(|k| *k == Kind::Consent)
        && needs_consent;
    if consent_only {
        verdict = consent_verdict(&cview, consent_as_of, week);
    }
    let level_class = verdict.level.as_str();
    let banner = if consent_only {
        verdict.checks[0].message.clone()
    } else {
        let n = |l: Level| verdict.checks.iter().filter(|c| c.level == l).count();
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
    };
    let _ = write!(
        body,
        "<div class=\"verdict {level_class}\">{}: {}</div>",
        if consent_only {
            "Consent"
        } else {
            "Thresholds"
        },
        esc(&banner)
    );
    if !consent_only {
        for c in verdict.checks.iter().filter(|c| c.level != Level::Ok) {
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
    if needs_consent {
        let _ = write!(
            body,
            "<p class=\"note\">Consent follow-up ages are counted to {consent_as_of}.</p>"
        );
    }
    let mut links = Vec::new();
    for kind in &def.charts {
        let png = out.join(format!("{}.png", kind.name()));
        charts::render(*kind, &data, &png)?;
        let svg = charts::render_svg(*kind, &data)?;
        files.push(png);
        links.push(format!("<a href=\"{0}.png\">{0}.png</a>", kind.name()));
        let _ = write!(body, "<figure id=\"chart-{}\">{svg}</figure>", kind.name());
    }
    for t in &def.tables {
        let (title, table, rows) = match t {
            TableKind::Verdicts => {
                let mut tb = Table::new(&["check", "result", "detail", "basis"]);
                for c in &verdict.checks {
                    tb.push(vec![
                        crate::table::Value::text(c.name),
                        crate::table::Value::text(c.level.as_str()),
                        crate::table::Value::text(&c.message),
                        crate::table::Value::text(&c.basis),
                    ]);
                }
                for b in verdict
                    .breaches
                    .iter()
                    .filter(|b| !verdict.checks.iter().any(|c| c.message == b.message))
                {
                    tb.push(vec![
                        crate::table::Value::text(b.check),
                        crate::table::Value::text(b.level.as_str()),
                        crate::table::Value::text(&b.message),
                        crate::table::Value::text(""),
                    ]);
                }
                ("Threshold checks", tb, 50)
            }
            TableKind::Submissions => ("Submissions", submissions::table(&subs), 60),
            TableKind::Changes => {
                let c = changes::changes(&h, changes::Period::Week, week)?;
                (
                    "Changes against the previous week (new, persisting, resolved issues)",
                    changes::table(&c),
                    60,
                )
            }
            TableKind::Trends => {
                let mut t = trend.clone();
                t.retain(|r| r.week == week);
                (
                    "Findings this week by field",
                    trends::table(&t, TrendBy::Field),
                    40,
                )
            }
            TableKind::ConsentOpen => (
                "Open consent follow-ups (oldest first)",
                consent::open_table(&cview),
                200,
            ),
            TableKind::ConsentWeekly => {
                let v = consent::ConsentView {
                    notices: vec![],
                    weekly: weekly.clone(),
                    open: vec![],
                    untracked: 0,
                };
                ("Consent notices per week", consent::weekly_table(&v), 200)
            }
            TableKind::TopIssues => (
                "What to fix first: this week's codes, who fixes them, open records",
                render::top_issues(&ledger),
                20,
            ),
            TableKind::Sites => (
                "Acceptance and findings per site this week",
                render::sites(&ledger),
                50,
            ),
            TableKind::Worklist => {
                let title = if ledger.open_items() > 100 {
                    "Open worklist (oldest 100 shown; every item in worklist.csv)"
                } else {
                    "Open worklist (oldest first; every item in worklist.csv)"
                };
                (title, render::open_worklist(&ledger), 100)
            }
            TableKind::Timeliness => (
                "Timeliness: doses reported within 1, 7 and 30 days, per site and week",
                render::timeliness(&ledger),
                200,
            ),
        };
        if t.is_ledger_section() && !ledger.has_ledger {
            let _ = write!(
                body,
                "<h2>{}</h2><p class=\"note\">{}</p>",
                esc(title),
                esc(render::NO_LEDGER)
            );
            continue;
        }
        let _ = write!(body, "<h2>{}</h2>{}", esc(title), html_table(&table, rows));
    }
    for e in &def.exports {
        let (file, result) = match e {
            ExportKind::Findings => {
                let p = out.join("findings.csv");
                (
                    p.clone(),
                    // the report week's findings (the whole history is `immdqa export`'s job)
                    export::export_findings(
                        store,
                        &p,
                        &export::ExportOptions {
                            format: export::ExportFormat::Csv,
                            range: DateRange {
                                since: Some(week),
                                until: Some(until),
                                profile: profile.map(str::to_string),
                            },
                            pseudonym_key: None,
                        },
                    )
                    .map(|_| ()),
                )
            }
            ExportKind::Submissions => {
                let p = out.join("submissions.csv");
                (
                    p.clone(),
                    export::export_table(&submissions::table(&subs), &p, export::ExportFormat::Csv),
                )
            }
            ExportKind::Trends => {
                let p = out.join("trends.csv");
                (
                    p.clone(),
                    export::export_table(
                        &trends::table(&trend, TrendBy::Field),
                        &p,
                        export::ExportFormat::Csv,
                    ),
                )
            }
            ExportKind::Worklist => {
                let p = out.join("worklist.csv");
                (
                    p.clone(),
                    export::export_table(
                        &crate::ledger::worklist::table(&ledger.worklist),
                        &p,
                        export::ExportFormat::Csv,
                    ),
                )
            }
            ExportKind::Consent => {
                let p = out.join("consent.csv");
                (
                    p.clone(),
                    export::export_table(
                        &consent::notices_table(&cview, consent_as_of),
                        &p,
                        export::ExportFormat::Csv,
                    ),
                )
            }
        };
        result?;
        links.push(format!(
            "<a href=\"{0}\">{0}</a>",
            file.file_name().unwrap().to_string_lossy()
        ));
        files.push(file);
    }
    let footer = if consent_only {
        "consent follow-ups close when the patient appears later without a consent problem"
            .to_string()
    } else {
        format!(
            "thresholds: acceptance rate ≥ {:.0}%, error rate not rising {} weeks in a row",
            thresholds.min_acceptance_rate * 100.0,
            thresholds.rising_error_weeks
        )
    };
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} {}</title><style>{CSS}</style></head><body>{body}<h2>Files</h2><nav>{}</nav><p class=\"note\">immdqa {} · report '{}' · {footer}.</p></body></html>\n",
        esc(&def.title),
        week_label(week),
        links.join(" "),
        env!("CARGO_PKG_VERSION"),
        esc(name),
    );
    let index = out.join("index.html");
    std::fs::write(&index, html).map_err(io)?;
    Ok(Built {
        index,
        files,
        verdict,
        week,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn built_in_definitions_parse() {
        for (name, _) in super::BUILT_IN {
            let d = super::definition(name).unwrap();
            assert!(!d.title.is_empty());
        }
        assert!(matches!(
            super::definition("nope"),
            Err(super::ReportError::Unknown(_))
        ));
    }

    #[test]
    fn escapes_html() {
        assert_eq!(
            super::esc("<a href=\"x\">&"),
            "&lt;a href=&quot;x&quot;&gt;&amp;"
        );
    }
}
