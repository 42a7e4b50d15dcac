//! What a chart says in words: its title and description for screen readers (the SVG's
//! `<title>` and `<desc>`), and the ranking and title of the top chart. Uses: analytics
//! (trend rows).

use std::collections::BTreeMap;

use super::{ChartData, Kind, weeks_of};
use crate::analytics::trends::TrendRow;

/// A chart's title: the one it draws and the one a screen reader reads (its `<title>`).
pub(super) fn title(kind: Kind, d: &ChartData<'_>) -> String {
    match kind {
        Kind::Trend => format!("Findings per week, top {} by {}", d.top, d.key_label),
        Kind::Top => {
            let wanted = d.top.max(10);
            let of = ranked_by_errors(d.trend).len();
            top_title(of.min(wanted), of, wanted, d.key_label)
        }
        Kind::Acceptance => "Acceptance rate per submission".to_string(),
        Kind::Consent => "Consent notices per week by status".to_string(),
        Kind::Heatmap => format!("Findings by {} and week", d.key_label),
        Kind::Timeliness => "Doses reported within 7 days of administration, per site".to_string(),
        Kind::Score => "Scorecard per site (0–100)".to_string(),
    }
}

/// What a screen reader says of a chart: `<title>` and `<desc>`, put first in the SVG.
pub(super) fn accessible(svg: &str, kind: Kind, d: &ChartData<'_>) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let desc = match kind {
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
    };
    let title = super::caption(&title(kind, d), d);
    match svg
        .find("<svg")
        .and_then(|i| svg[i..].find('>').map(|j| i + j + 1))
    {
        Some(at) => format!(
            "{}<title>{}</title><desc>{}</desc>{}",
            &svg[..at],
            esc(&title),
            esc(&desc),
            &svg[at..]
        ),
        None => svg.to_string(),
    }
}

/// The keys of the top chart: errors first (a key with rejections outranks one with more
/// warnings), then every finding; (key, findings).
pub(super) fn ranked_by_errors(rows: &[TrendRow]) -> Vec<(String, i64)> {
    let mut m: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for r in rows {
        let e = m.entry(&r.key).or_default();
        if r.severity == "E" {
            e.0 += r.findings;
        }
        e.1 += r.findings;
    }
    let mut v: Vec<(&str, (i64, i64))> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    v.into_iter()
        .map(|(k, (_, n))| (k.to_string(), n))
        .collect()
}

/// "Top 10 by code", or "Top 7 of 7 by code" when the history holds fewer than asked.
pub(super) fn top_title(shown: usize, of: usize, wanted: usize, label: &str) -> String {
    if of < wanted {
        format!("Top {shown} of {of} by {label} over the period (errors first)")
    } else {
        format!("Top {shown} by {label} over the period (errors first)")
    }
}
