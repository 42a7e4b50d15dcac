//! The chart kinds: each one's name, one-line summary, the rows it draws, its title and words
//! for a screen reader, and which drawing draws it. A new chart is an arm in each list here
//! and its drawing (a function in `mod.rs`, `sites.rs` or a file of its own).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{ChartData, DrawResult, weeks_of};
use crate::analytics::chart_rows::Needs;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Weekly findings for the top fields (lines)
    Trend,
    /// Top fields (or codes) over the period (bars)
    Top,
    /// Acceptance rate per submission, with the threshold
    Acceptance,
    /// Consent notices per week, stacked by status
    Consent,
    /// Findings per field and week (heat map)
    Heatmap,
    /// Share of administered doses reported within 7 days, per site and week
    Timeliness,
    /// The scorecard's score per site and week
    Score,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Trend => "trend",
            Kind::Top => "top",
            Kind::Acceptance => "acceptance",
            Kind::Consent => "consent",
            Kind::Heatmap => "heatmap",
            Kind::Timeliness => "timeliness",
            Kind::Score => "score",
        }
    }
    /// Every chart, in the order `immdqa chart --help` lists them.
    pub const ALL: [Kind; 7] = [
        Kind::Trend,
        Kind::Top,
        Kind::Acceptance,
        Kind::Consent,
        Kind::Heatmap,
        Kind::Timeliness,
        Kind::Score,
    ];

    pub fn all() -> [Kind; 7] {
        Kind::ALL
    }

    /// The rows it draws (computed by `analytics::chart_rows`).
    pub fn needs(self) -> Needs {
        let mut n = Needs::default();
        match self {
            Kind::Trend | Kind::Top | Kind::Heatmap => n.trend = true,
            Kind::Acceptance => n.submissions = true,
            Kind::Consent => n.consent = true,
            Kind::Timeliness => n.timeliness = true,
            Kind::Score => n.scores = true,
        }
        n
    }

    /// What it draws, in a line (`immdqa chart --help`).
    pub fn summary(self) -> &'static str {
        match self {
            Kind::Trend => "Weekly findings for the top fields (lines)",
            Kind::Top => "Top fields (or codes) over the period (bars)",
            Kind::Acceptance => "Acceptance rate per submission, with the threshold",
            Kind::Consent => "Consent notices per week, stacked by status",
            Kind::Heatmap => "Findings per field and week (heat map)",
            Kind::Timeliness => {
                "Share of administered doses reported within 7 days, per site and week"
            }
            Kind::Score => "The scorecard's score per site and week",
        }
    }

    /// What it draws, for a screen reader (the SVG's `<desc>`).
    pub(super) fn desc(self, d: &ChartData<'_>) -> String {
        match self {
            Kind::Trend => format!(
                "Line chart: one line per {} ({} week(s)), findings on the vertical axis.",
                d.key_label,
                weeks_of(d.trend.iter().map(|r| r.week)).len()
            ),
            Kind::Top => format!(
                "Bar chart of the {} with the most errors, then findings.",
                d.key_label
            ),
            Kind::Acceptance => format!(
                "Bar chart: one bar per submission ({}), the threshold {:.0}% drawn as a line.",
                d.submissions.len(),
                d.min_acceptance_rate * 100.0
            ),
            Kind::Consent => format!(
                "Stacked bars: {} week(s) of consent notices.",
                d.consent.len()
            ),
            Kind::Heatmap => format!(
                "Heat map: {} by week, darker is more findings.",
                d.key_label
            ),
            Kind::Timeliness => format!(
                "Lines per site: the share of doses reported within 7 days, per week ({} row(s)); sites with equal values are drawn as nested stripes (each later site thinner), the legend beside the plot.",
                d.timeliness.len()
            ),
            Kind::Score => format!(
                "Lines per site: the weighted score of acceptance, completeness, timeliness and validity, per week ({} row(s), {} unknown and left out).",
                d.scores.len(),
                d.scores.iter().filter(|s| s.score.is_none()).count()
            ),
        }
    }

    /// A chart's title: the one it draws and the one a screen reader reads (its `<title>`).
    pub(super) fn title(self, d: &ChartData<'_>) -> String {
        match self {
            Kind::Trend => format!("Findings per week, top {} by {}", d.top, d.key_label),
            Kind::Top => {
                let wanted = d.top.max(10);
                let of = super::describe::ranked_by_errors(d.trend).len();
                super::describe::top_title(of.min(wanted), of, wanted, d.key_label)
            }
            Kind::Acceptance => "Acceptance rate per submission".to_string(),
            Kind::Consent => "Consent notices per week by status".to_string(),
            Kind::Heatmap => format!("Findings by {} and week", d.key_label),
            Kind::Timeliness => {
                "Doses reported within 7 days of administration, per site".to_string()
            }
            Kind::Score => "Scorecard per site (0–100)".to_string(),
        }
    }

    /// Draw it (each kind's drawing: `mod.rs`, `sites.rs`).
    pub(super) fn draw<DB: DrawingBackend>(
        self,
        d: &ChartData<'_>,
        root: &DrawingArea<DB, Shift>,
    ) -> DrawResult {
        match self {
            Kind::Trend => super::trend(d, root),
            Kind::Top => super::top(d, root),
            Kind::Acceptance => super::acceptance(d, root),
            Kind::Consent => super::consent(d, root),
            Kind::Heatmap => super::heatmap(d, root),
            Kind::Timeliness => super::sites::timeliness(d, root),
            Kind::Score => super::sites::score(d, root),
        }
    }
}
