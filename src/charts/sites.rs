//! The per-site line charts: one line per site over the weeks — the share of administered
//! doses reported within 7 days ([`Kind::Timeliness`]) and the scorecard's score
//! ([`Kind::Score`], an unknown week left as a gap).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    ChartData, DrawResult, Kind, caption, legend_beside, line, no_data, split_for_legend,
    week_index, weekly_frame, weeks_of,
};

/// One line per site: the share of its administered doses reported within 7 days.
pub(super) fn timeliness<DB: DrawingBackend>(
    d: &ChartData<'_>,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult {
    let points = d
        .timeliness
        .iter()
        .map(|t| (t.week, t.site.as_str(), Some(t.within_7 * 100.0)));
    site_lines(Kind::Timeliness, d, root, points, "% within 7 days")
}

/// One line per site: its score per week.
pub(super) fn score<DB: DrawingBackend>(
    d: &ChartData<'_>,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult {
    let points = d.scores.iter().map(|s| (s.week, s.site.as_str(), s.score));
    site_lines(Kind::Score, d, root, points, "score (0–100)")
}

/// A line per site of (week, site, value 0–100) points; a point without a value is a gap.
fn site_lines<'d, DB: DrawingBackend>(
    kind: Kind,
    d: &ChartData<'_>,
    root: &DrawingArea<DB, Shift>,
    points: impl Iterator<Item = (NaiveDate, &'d str, Option<f64>)>,
    y_desc: &str,
) -> DrawResult {
    let title = kind.title(d);
    let points: Vec<_> = points.collect();
    let weeks = weeks_of(points.iter().map(|p| p.0));
    if weeks.is_empty() {
        return no_data(root, &title);
    }
    let widx = week_index(&weeks);
    let mut series: BTreeMap<&str, Vec<(usize, f64)>> = BTreeMap::new();
    for (week, site, value) in points {
        let e = series.entry(site).or_default();
        if let Some(v) = value {
            e.push((widx[&week], v));
        }
    }
    let (plot, side) = split_for_legend(root);
    let mut chart = weekly_frame(&plot, &caption(&title, d), &weeks, 0.0..105.0, y_desc)?;
    let names: Vec<String> = series.keys().map(|k| k.to_string()).collect();
    for (i, pts) in series.into_values().enumerate() {
        line(&mut chart, i, pts)?;
    }
    legend_beside(&side, &names)
}
