//! The chart kinds: each one's name, one-line summary and the rows it draws. A new chart is a
//! row in each list here and its drawing (a function of `mod.rs`'s `draw`).

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
}
