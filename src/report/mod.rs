//! Reports: a folder a person opens, built from a report definition (reports/*.toml).
//!
//! `index.html` holds the threshold verdicts, the charts inline as SVG, the tables and links;
//! next to it are the charts as PNG and the CSV exports. The HTML is self-contained (no
//! scripts, no external fonts or styles), so it opens from a file share or an e-mail
//! attachment. Definitions ship for data quality officers (`weekly`) and compliance staff
//! (`consent`); a path to another TOML file works too. Uses: analytics (every figure, the ledger
//! sections included), charts, table, store, ledger (the worklist table), config (settings).

pub mod model;
pub mod render;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;

use crate::analytics::export;
use crate::analytics::thresholds::{Thresholds, Verdict};
use crate::charts::{self, Kind};
use crate::store::{DateRange, Store};

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
    /// "What do I fix first": the open backlog by site × owner, oldest first (ledger).
    Backlog,
    /// "What do I fix first": this week's codes with owner, open records, trend and fix (ledger).
    TopIssues,
    /// Fixes the registry accepted in the report week (ledger).
    Resolved,
    /// Acceptance and findings per site in the report week (ledger).
    Sites,
    /// The open worklist (ledger).
    Worklist,
    /// Timeliness per site and week (ledger).
    Timeliness,
    /// The scorecard per site in the report week, with its change (ledger, archive).
    Score,
    /// Completeness per site in the report week (ledger).
    Completeness,
    /// Acceptance per vaccine (CVX with its name) in the report week (ledger).
    Vaccines,
}

impl TableKind {
    pub(crate) fn is_ledger_section(self) -> bool {
        matches!(
            self,
            TableKind::Backlog
                | TableKind::TopIssues
                | TableKind::Resolved
                | TableKind::Sites
                | TableKind::Worklist
                | TableKind::Timeliness
                | TableKind::Score
                | TableKind::Completeness
                | TableKind::Vaccines
        )
    }
}

/// What a report is built with besides its definition: the thresholds and the ledger's
/// settings (today, the overdue period, `[worklist]`, `[owners]`).
#[derive(Debug, Clone)]
pub struct Settings<'a> {
    pub thresholds: &'a Thresholds,
    pub ledger: crate::analytics::thresholds::LedgerScope,
    pub worklist: &'a crate::config::WorklistConfig,
    pub owners: &'a crate::config::OwnersConfig,
    /// The scorecard's weights and each profile's lint rules (its validity part).
    pub score: &'a crate::config::ScoreConfig,
    pub registries: crate::config::Registries,
}

/// The exports a report definition names (`exports = [...]`): the datasets of `immdqa export`.
pub use crate::analytics::export::Dataset as ExportKind;

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Kind, D::Error> {
        let s = String::deserialize(d)?;
        Kind::all()
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
                serde::de::Error::custom(format!("unknown chart '{s}' ({})", names.join(", ")))
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

/// What a built report contains.
#[derive(Debug)]
pub struct Built {
    pub index: PathBuf,
    pub files: Vec<PathBuf>,
    pub verdict: Verdict,
    pub week: NaiveDate,
}

/// Build the report for the week holding `week` (default: the latest week with data), in
/// three steps: compute the model ([`model::compute`], the only step that reads the store
/// for the page), render it ([`render::page`]), write the folder ([`write`]).
pub fn build(
    store: &Store,
    def: &ReportDef,
    name: &str,
    week: Option<NaiveDate>,
    out: &Path,
    settings: &Settings<'_>,
    profile: Option<&str>,
) -> Result<Built, ReportError> {
    let m = model::compute(store, def, week, settings, profile)?;
    let html = render::page(&m, def, name)?;
    write(store, &m, def, &html, out, settings)
}

/// Step three: write the folder (owner-only: it holds patient references): the charts as
/// PNG, the CSV exports and `index.html`. The findings export streams the week's findings
/// from the store (too many rows to hold in the model).
pub fn write(
    store: &Store,
    m: &model::ReportModel,
    def: &ReportDef,
    html: &str,
    out: &Path,
    settings: &Settings<'_>,
) -> Result<Built, ReportError> {
    let io = |source| ReportError::Io {
        path: out.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(out).map_err(io)?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(out, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    let mut files = Vec::new();
    let data = m.chart_data(def.top);
    for kind in &def.charts {
        let png = out.join(format!("{}.png", kind.name()));
        charts::render(*kind, &data, &png)?;
        files.push(png);
    }
    // the history, loaded once if an export reads it
    let history = export::LazyHistory::new(store, m.profile.as_deref());
    for e in &def.exports {
        let path = out.join(e.file());
        let csv = export::ExportFormat::Csv;
        match e {
            // the report week's findings (the whole history is `immdqa export`'s job)
            ExportKind::Findings => export::export_findings(
                store,
                &path,
                &export::ExportOptions {
                    format: csv,
                    range: DateRange {
                        since: Some(m.week),
                        until: Some(m.until),
                        profile: m.profile.clone(),
                    },
                    pseudonym_key: None,
                },
            )
            .map(|_| ()),
            // rows the page already holds (the same rows `immdqa export` writes for its weeks)
            ExportKind::Submissions => export::export_table(
                &crate::analytics::submissions::table(&m.submissions),
                &path,
                csv,
            ),
            ExportKind::Trends => export::export_table(
                &crate::analytics::trends::table(
                    &m.trend,
                    crate::analytics::trends::TrendBy::Field,
                ),
                &path,
                csv,
            ),
            ExportKind::Worklist => export::export_table(
                &crate::ledger::worklist::table(&m.ledger.worklist),
                &path,
                csv,
            ),
            ExportKind::Score => export::export_table(
                &crate::analytics::score::table(&m.scores, &m.score_weights),
                &path,
                csv,
            ),
            // the others as `immdqa export` writes them, over the report's weeks
            other => {
                let (since, until, today) = match other {
                    // every notice, ages counted to the page's date
                    ExportKind::Consent => (None, None, m.consent_as_of),
                    _ => (Some(m.week), Some(m.until), settings.ledger.today),
                };
                let query = export::DatasetQuery {
                    since,
                    until,
                    today,
                    worklist: settings.worklist,
                    owners: settings.owners,
                    score: settings.score,
                    registries: &settings.registries,
                };
                export::export_table(&other.table(store, &history, &query)?, &path, csv)
            }
        }?;
        files.push(path);
    }
    let index = out.join("index.html");
    std::fs::write(&index, html).map_err(io)?;
    Ok(Built {
        index,
        files,
        verdict: m.verdict.clone(),
        week: m.week,
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
            super::render::esc("<a href=\"x\">&"),
            "&lt;a href=&quot;x&quot;&gt;&amp;"
        );
    }
}
