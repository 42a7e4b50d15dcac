//! What a chart says to a screen reader (the SVG's `<title>` and `<desc>`, each kind's own
//! words from `kind.rs`), and the ranking and title of the top chart. Uses: analytics (trend
//! rows).

use std::collections::BTreeMap;

use super::{ChartData, Kind};
use crate::analytics::trends::TrendRow;

/// What a screen reader says of a chart: `<title>` and `<desc>`, put first in the SVG.
pub(super) fn accessible(svg: &str, kind: Kind, d: &ChartData<'_>) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let desc = kind.desc(d);
    let title = super::caption(&kind.title(d), d);
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
