//! Charts (plotters): result rows → PNG or SVG files. No database, no polars here.
//!
//! Fonts are embedded (DejaVu Sans, registered once), so charts render the same on a server
//! with no fonts installed. Kinds: [`Kind::Trend`] (weekly lines for the top fields),
//! [`Kind::Top`] (bars of the top fields or codes), [`Kind::Acceptance`] (acceptance rate per
//! submission with the threshold line), [`Kind::Consent`] (notices per week stacked by
//! status), [`Kind::Heatmap`] (field × week), and per site ([`sites`]) [`Kind::Timeliness`]
//! and [`Kind::Score`]. The output format follows the file extension.
//! Uses: analytics (result types only).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Once;

use chrono::NaiveDate;
use plotters::coord::Shift;
use plotters::prelude::*;

mod describe;
mod kind;
mod sites;

pub use kind::Kind;

use describe::{accessible, ranked_by_errors};

use crate::analytics::breakdown::Timeliness;
use crate::analytics::consent::WeeklyConsent;
use crate::analytics::submissions::SubmissionRow;
use crate::analytics::trends::TrendRow;
use crate::analytics::week_label;

#[derive(Debug, thiserror::Error)]
#[error("chart {path}: {message}")]
pub struct ChartError {
    pub path: String,
    pub message: String,
}

pub use crate::analytics::chart_rows::ChartRows;

impl<'a> ChartData<'a> {
    /// The rows of [`crate::analytics::chart_rows::rows`], drawn with these settings.
    pub fn of(
        rows: &'a ChartRows,
        key_label: &'a str,
        min_acceptance_rate: f64,
        top: usize,
        subtitle: String,
    ) -> ChartData<'a> {
        ChartData {
            trend: &rows.trend,
            key_label,
            submissions: &rows.submissions,
            consent: &rows.consent,
            timeliness: &rows.timeliness,
            scores: &rows.scores,
            min_acceptance_rate,
            top,
            subtitle,
        }
    }
}

/// What a chart draws from.
pub struct ChartData<'a> {
    /// Trend rows by field (or code).
    pub trend: &'a [TrendRow],
    /// What the trend rows are keyed by ("HL7 field" or "registry code").
    pub key_label: &'a str,
    pub submissions: &'a [SubmissionRow],
    pub consent: &'a [WeeklyConsent],
    /// Timeliness per site and week (the message ledger).
    pub timeliness: &'a [Timeliness],
    /// The scorecard per site and week.
    pub scores: &'a [crate::analytics::score::SiteScore],
    pub min_acceptance_rate: f64,
    /// How many fields the trend and heat map show.
    pub top: usize,
    /// A subtitle (organisation, period).
    pub subtitle: String,
}

const W: u32 = 1200;
const H: u32 = 700;

const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
        let _ = plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold());
    });
}

type DrawResult = Result<(), String>;

/// The width kept right of a weekly chart's plot for its legend (and the last x label).
const LEGEND_WIDTH: u32 = 200;

/// The legend of a weekly line chart, drawn in its own area beside the plot (the part of the
/// root [`split_for_legend`] kept), so it never covers a line: each series' colour and
/// stroke as [`line`] draws it, and its name.
fn legend_beside<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    names: &[String],
) -> DrawResult {
    for (i, name) in names.iter().enumerate() {
        let (color, width, _) = series_style(i);
        let y = 70 + 26 * i as i32;
        area.draw(&PathElement::new(
            vec![(4, y), (30, y)],
            color.stroke_width(width),
        ))
        .map_err(e)?;
        area.draw(&Text::new(
            name.clone(),
            (38, y - 8),
            ("sans-serif", 16).into_font().color(&BLACK),
        ))
        .map_err(e)?;
    }
    Ok(())
}

/// The root split into the plot (left) and the legend's area (right).
fn split_for_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
) -> (DrawingArea<DB, Shift>, DrawingArea<DB, Shift>) {
    root.split_horizontally(W as i32 - LEGEND_WIDTH as i32)
}

/// The `i`-th series' colour, line width and dot size: each later series thinner, with a
/// smaller dot, drawn over the earlier ones, so series that coincide stay distinguishable as
/// nested stripes of colour (three sites at 100% are three stripes, not one line).
fn series_style(i: usize) -> (RGBColor, u32, u32) {
    let step = 2 * (i as u32 % 4);
    (
        PALETTE[i % PALETTE.len()],
        9u32.saturating_sub(step).max(2),
        9u32.saturating_sub(step).max(3),
    )
}

/// The series legend, in the same style on every chart.
fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> DrawResult {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 16))
        .draw()
        .map_err(e)
}

fn e<E: std::fmt::Display>(err: E) -> String {
    err.to_string()
}

/// Draw one chart into `path` (`.png` or `.svg`).
pub fn render(kind: Kind, data: &ChartData<'_>, path: &Path) -> Result<(), ChartError> {
    fonts();
    let fail = |message: String| ChartError {
        path: path.display().to_string(),
        message,
    };
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "svg" => {
            let svg = render_svg(kind, data).map_err(|x| fail(x.message))?;
            std::fs::write(path, svg).map_err(|x| fail(x.to_string()))
        }
        "png" => {
            let root = BitMapBackend::new(path, (W, H)).into_drawing_area();
            draw(kind, data, &root).map_err(fail)?;
            root.present().map_err(|x| fail(x.to_string()))
        }
        other => Err(fail(format!(
            "unsupported chart format '.{other}': use .png or .svg"
        ))),
    }
}

/// Render to an SVG string (inlined in the HTML report).
pub fn render_svg(kind: Kind, data: &ChartData<'_>) -> Result<String, ChartError> {
    fonts();
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (W, H)).into_drawing_area();
        draw(kind, data, &root).map_err(|m| ChartError {
            path: "(inline svg)".into(),
            message: m,
        })?;
        root.present().map_err(|x| ChartError {
            path: "(inline svg)".into(),
            message: x.to_string(),
        })?;
    }
    Ok(accessible(&buf, kind, data))
}

fn draw<DB: DrawingBackend>(
    kind: Kind,
    d: &ChartData<'_>,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult {
    root.fill(&WHITE).map_err(e)?;
    kind.draw(d, root)
}

fn no_data<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str) -> DrawResult {
    root.draw(&Text::new(
        format!("{title}: no data in the history for this period"),
        (40, (H / 2) as i32),
        ("sans-serif", 26).into_font().color(&BLACK),
    ))
    .map_err(e)
}

/// The label of segment `v` on an axis drawn bottom-up (first name at the top).
fn reversed_label(names: &[String], v: &SegmentValue<usize>) -> String {
    match v {
        SegmentValue::CenterOf(i) => (names.len().saturating_sub(1))
            .checked_sub(*i)
            .and_then(|j| names.get(j))
            .cloned()
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// The ISO week label of segment `v` on a week axis.
fn week_segment_label(weeks: &[NaiveDate], v: &SegmentValue<usize>) -> String {
    match v {
        SegmentValue::CenterOf(i) => weeks.get(*i).map(|w| week_label(*w)).unwrap_or_default(),
        _ => String::new(),
    }
}

/// Each week's position on the x axis.
fn week_index(weeks: &[NaiveDate]) -> BTreeMap<NaiveDate, usize> {
    weeks.iter().enumerate().map(|(i, w)| (*w, i)).collect()
}

/// The distinct weeks, in order.
fn weeks_of(weeks: impl IntoIterator<Item = NaiveDate>) -> Vec<NaiveDate> {
    weeks
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn top_keys(rows: &[TrendRow], n: usize) -> Vec<String> {
    crate::analytics::trends::totals_by_key(rows)
        .into_iter()
        .take(n)
        .map(|(k, _)| k)
        .collect()
}

fn caption(title: &str, d: &ChartData<'_>) -> String {
    if d.subtitle.is_empty() {
        title.to_string()
    } else {
        format!("{title} — {}", d.subtitle)
    }
}

fn trend<DB: DrawingBackend>(d: &ChartData<'_>, root: &DrawingArea<DB, Shift>) -> DrawResult {
    let title = Kind::Trend.title(d);
    let weeks = weeks_of(d.trend.iter().map(|r| r.week));
    if weeks.is_empty() {
        return no_data(root, &title);
    }
    let keys = top_keys(d.trend, d.top);
    let widx = week_index(&weeks);
    let mut series: BTreeMap<&str, Vec<i64>> = keys
        .iter()
        .map(|k| (k.as_str(), vec![0; weeks.len()]))
        .collect();
    for r in d.trend {
        if let Some(v) = series.get_mut(r.key.as_str()) {
            v[widx[&r.week]] += r.findings;
        }
    }
    let max = series
        .values()
        .flat_map(|v| v.iter())
        .copied()
        .max()
        .unwrap_or(1)
        .max(1);
    let (plot, side) = split_for_legend(root);
    let mut chart = weekly_frame(
        &plot,
        &caption(&title, d),
        &weeks,
        0..(max + max / 10 + 1),
        "Findings",
    )?;
    for (i, k) in keys.iter().enumerate() {
        let pts: Vec<(usize, i64)> = series[k.as_str()]
            .iter()
            .enumerate()
            .map(|(x, y)| (x, *y))
            .collect();
        line(&mut chart, i, pts)?;
    }
    legend_beside(&side, &keys)
}

/// The frame of a weekly line chart: one x position per week (labelled with its ISO week),
/// `y` on the vertical axis.
fn weekly_frame<'a, DB, Y>(
    root: &'a DrawingArea<DB, Shift>,
    caption: &str,
    weeks: &[NaiveDate],
    y: Y,
    y_desc: &str,
) -> Result<
    ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordusize, Y::CoordDescType>>,
    String,
>
where
    DB: DrawingBackend + 'a,
    Y: plotters::coord::ranged1d::AsRangedCoord,
    Y::CoordDescType: plotters::coord::ranged1d::ValueFormatter<Y::Value>,
{
    let n = weeks.len();
    let mut chart = ChartBuilder::on(root)
        .caption(caption, ("sans-serif", 26))
        .margin(20)
        // room for the last week's label, centred on the last point
        .margin_right(40)
        .x_label_area_size(60)
        .y_label_area_size(70)
        .build_cartesian_2d(0..(n.max(2) - 1), y)
        .map_err(e)?;
    chart
        .configure_mesh()
        .x_desc("ISO week")
        .y_desc(y_desc)
        .x_labels(n.min(14))
        .x_label_formatter(&|x| weeks.get(*x).map(|w| week_label(*w)).unwrap_or_default())
        .axis_desc_style(("sans-serif", 18))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(e)?;
    Ok(chart)
}

/// The `i`-th series of a weekly line chart: a line with a dot per week, in the style of
/// [`series_style`] (the legend beside the plot draws the same, see [`legend_beside`]).
fn line<'a, DB, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordusize, Y>>,
    i: usize,
    pts: Vec<(usize, Y::ValueType)>,
) -> DrawResult
where
    DB: DrawingBackend + 'a,
    Y: Ranged,
    Y::ValueType: Clone + 'static,
{
    let (color, width, dot) = series_style(i);
    chart
        .draw_series(LineSeries::new(pts.clone(), color.stroke_width(width)))
        .map_err(e)?;
    chart
        .draw_series(pts.into_iter().map(|p| Circle::new(p, dot, color.filled())))
        .map_err(e)?;
    Ok(())
}

fn top<DB: DrawingBackend>(d: &ChartData<'_>, root: &DrawingArea<DB, Shift>) -> DrawResult {
    let totals: Vec<(String, i64)> = ranked_by_errors(d.trend)
        .into_iter()
        .take(d.top.max(10))
        .collect();
    let title = Kind::Top.title(d);
    if totals.is_empty() {
        return no_data(root, &title);
    }
    let max = totals[0].1.max(1);
    let n = totals.len();
    let names: Vec<String> = totals.iter().map(|(k, _)| k.clone()).collect();
    let mut chart = ChartBuilder::on(root)
        .caption(caption(&title, d), ("sans-serif", 26))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(130)
        .build_cartesian_2d(0..(max + max / 8 + 1), (0..(n - 1).max(1)).into_segmented())
        .map_err(e)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc("Findings")
        .y_desc(d.key_label)
        .y_labels(n)
        .y_label_formatter(&|v| reversed_label(&names, v))
        .axis_desc_style(("sans-serif", 18))
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(e)?;
    chart
        .draw_series(totals.iter().enumerate().map(|(i, (_, v))| {
            let y = n - 1 - i;
            let mut bar = Rectangle::new(
                [
                    (0, SegmentValue::Exact(y)),
                    (*v, SegmentValue::Exact(y + 1)),
                ],
                PALETTE[0].filled(),
            );
            bar.set_margin(4, 4, 0, 0);
            bar
        }))
        .map_err(e)?;
    Ok(())
}

fn acceptance<DB: DrawingBackend>(d: &ChartData<'_>, root: &DrawingArea<DB, Shift>) -> DrawResult {
    let title = &Kind::Acceptance.title(d);
    // Every batch with a report: those without message counts are drawn as outlined bars up
    // to the most their batch size allows (red when even that is below the threshold, grey
    // when it cannot tell), or as grey bars marked "no counts" when the size is unknown too;
    // never left out.
    let subs: Vec<&SubmissionRow> = d
        .submissions
        .iter()
        .filter(|s| s.acceptance_rate.is_some() || s.report_received)
        .collect();
    if subs.is_empty() {
        return no_data(root, title);
    }
    let n = subs.len();
    let names: Vec<String> = subs
        .iter()
        .map(|s| {
            s.date
                .map(|d| d.to_string())
                .unwrap_or_else(|| s.submission.clone())
        })
        .collect();
    let mut chart = ChartBuilder::on(root)
        .caption(caption(title, d), ("sans-serif", 26))
        .margin(20)
        .x_label_area_size(70)
        .y_label_area_size(70)
        .build_cartesian_2d((0..(n - 1).max(1)).into_segmented(), 0f64..110f64)
        .map_err(e)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc("Submission (date)")
        .y_desc("Accepted messages (%)")
        .x_labels(n.min(16))
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => names.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .axis_desc_style(("sans-serif", 18))
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(e)?;
    let threshold = d.min_acceptance_rate * 100.0;
    let bar = |i: usize, v: f64, style: ShapeStyle| {
        let mut bar = Rectangle::new(
            [
                (SegmentValue::Exact(i), 0.0),
                (SegmentValue::Exact(i + 1), v),
            ],
            style,
        );
        bar.set_margin(0, 0, 3, 3);
        bar
    };
    chart
        .draw_series(subs.iter().enumerate().filter_map(|(i, s)| {
            let v = s.acceptance_rate? * 100.0;
            let color = if v < threshold {
                PALETTE[3]
            } else {
                PALETTE[2]
            };
            Some(bar(i, v, color.filled()))
        }))
        .map_err(e)?;
    let grey = RGBColor(200, 200, 200);
    let bounded: Vec<(usize, f64)> = (0..n)
        .filter(|&i| subs[i].acceptance_rate.is_none())
        .filter_map(|i| Some((i, subs[i].acceptance_at_most()? * 100.0)))
        .collect();
    if !bounded.is_empty() {
        let outline = move |v: f64| {
            if v < threshold {
                PALETTE[3].stroke_width(2)
            } else {
                RGBColor(120, 120, 120).stroke_width(2)
            }
        };
        chart
            .draw_series(bounded.iter().map(|&(i, v)| bar(i, v, outline(v))))
            .map_err(e)?
            .label(format!(
                "at most, from the batch size ({} of {n})",
                bounded.len()
            ))
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 6), (x + 24, y + 6)], PALETTE[3].stroke_width(2))
            });
        chart
            .draw_series(bounded.iter().map(|&(i, v)| {
                Text::new(
                    format!("≤ {v:.0}%"),
                    (SegmentValue::CenterOf(i), (v + 6.0).min(108.0)),
                    ("sans-serif", 14).into_font().color(&BLACK),
                )
            }))
            .map_err(e)?;
    }
    let unknown: Vec<usize> = (0..n)
        .filter(|&i| subs[i].acceptance_rate.is_none() && subs[i].acceptance_at_most().is_none())
        .collect();
    if !unknown.is_empty() {
        chart
            .draw_series(unknown.iter().map(|&i| bar(i, 100.0, grey.filled())))
            .map_err(e)?
            .label(format!("no counts ({} of {n})", unknown.len()))
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 24, y + 6)], grey.filled()));
        chart
            .draw_series(unknown.iter().map(|&i| {
                Text::new(
                    "?",
                    (SegmentValue::CenterOf(i), 106.0),
                    ("sans-serif", 14).into_font().color(&BLACK),
                )
            }))
            .map_err(e)?;
    }
    chart
        .draw_series(LineSeries::new(
            vec![
                (SegmentValue::Exact(0), threshold),
                (SegmentValue::Exact(n), threshold),
            ],
            BLACK.stroke_width(2),
        ))
        .map_err(e)?
        .label(format!("threshold {threshold:.0}%"))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLACK.stroke_width(2)));
    legend(&mut chart, SeriesLabelPosition::LowerRight)
}

fn consent<DB: DrawingBackend>(d: &ChartData<'_>, root: &DrawingArea<DB, Shift>) -> DrawResult {
    let title = &Kind::Consent.title(d);
    let weeks = weeks_of(d.consent.iter().map(|c| c.week));
    if weeks.is_empty() {
        return no_data(root, title);
    }
    let statuses: Vec<String> = d
        .consent
        .iter()
        .map(|c| c.status.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let widx = week_index(&weeks);
    let mut grid = vec![vec![0i64; statuses.len()]; weeks.len()];
    for c in d.consent {
        let s = statuses.iter().position(|x| *x == c.status).unwrap();
        grid[widx[&c.week]][s] += c.notices;
    }
    let max = grid
        .iter()
        .map(|r| r.iter().sum::<i64>())
        .max()
        .unwrap_or(1)
        .max(1);
    let n = weeks.len();
    let mut chart = ChartBuilder::on(root)
        .caption(caption(title, d), ("sans-serif", 26))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(70)
        .build_cartesian_2d((0..(n - 1).max(1)).into_segmented(), 0..(max + max / 8 + 1))
        .map_err(e)?;
    let labels = weeks.clone();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_desc("ISO week")
        .y_desc("Notices")
        .x_labels(n.min(14))
        .x_label_formatter(&|v| week_segment_label(&labels, v))
        .axis_desc_style(("sans-serif", 18))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(e)?;
    for (s, status) in statuses.iter().enumerate() {
        let color = PALETTE[s % PALETTE.len()];
        let bars: Vec<Rectangle<(SegmentValue<usize>, i64)>> = (0..n)
            .filter(|w| grid[*w][s] > 0)
            .map(|w| {
                let base: i64 = grid[w][..s].iter().sum();
                let mut r = Rectangle::new(
                    [
                        (SegmentValue::Exact(w), base),
                        (SegmentValue::Exact(w + 1), base + grid[w][s]),
                    ],
                    color.filled(),
                );
                r.set_margin(0, 0, 4, 4);
                r
            })
            .collect();
        chart
            .draw_series(bars)
            .map_err(e)?
            .label(status.replace('_', " "))
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], color.filled()));
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)
}

fn heatmap<DB: DrawingBackend>(d: &ChartData<'_>, root: &DrawingArea<DB, Shift>) -> DrawResult {
    let title = Kind::Heatmap.title(d);
    let weeks = weeks_of(d.trend.iter().map(|r| r.week));
    if weeks.is_empty() {
        return no_data(root, &title);
    }
    let keys = top_keys(d.trend, d.top.max(12));
    let widx = week_index(&weeks);
    let mut grid = vec![vec![0i64; weeks.len()]; keys.len()];
    for r in d.trend {
        if let Some(k) = keys.iter().position(|k| *k == r.key) {
            grid[k][widx[&r.week]] += r.findings;
        }
    }
    let max = grid.iter().flatten().copied().max().unwrap_or(1).max(1) as f64;
    let (nw, nk) = (weeks.len(), keys.len());
    let (area, legend) = root.split_horizontally(W - 110);
    let mut chart = ChartBuilder::on(&area)
        .caption(caption(&title, d), ("sans-serif", 26))
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(110)
        .build_cartesian_2d(
            (0..(nw - 1).max(1)).into_segmented(),
            (0..(nk - 1).max(1)).into_segmented(),
        )
        .map_err(e)?;
    let labels = weeks.clone();
    let names = keys.clone();
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("ISO week")
        .y_desc(d.key_label)
        .x_labels(nw.min(14))
        .y_labels(nk)
        .x_label_formatter(&|v| week_segment_label(&labels, v))
        .y_label_formatter(&|v| reversed_label(&names, v))
        .axis_desc_style(("sans-serif", 18))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(e)?;
    let shade = |v: i64| -> RGBColor {
        let t = (v as f64 / max).sqrt();
        let lerp = |a: f64, b: f64| (a + (b - a) * t) as u8;
        RGBColor(lerp(247.0, 8.0), lerp(251.0, 48.0), lerp(255.0, 107.0))
    };
    chart
        .draw_series(
            (0..nk)
                .flat_map(|k| (0..nw).map(move |w| (k, w)))
                .map(|(k, w)| {
                    let y = nk - 1 - k;
                    Rectangle::new(
                        [
                            (SegmentValue::Exact(w), SegmentValue::Exact(y)),
                            (SegmentValue::Exact(w + 1), SegmentValue::Exact(y + 1)),
                        ],
                        shade(grid[k][w]).filled(),
                    )
                }),
        )
        .map_err(e)?;
    // colour scale
    let steps = 10;
    for i in 0..steps {
        let v = (max * (steps - i) as f64 / steps as f64) as i64;
        let y0 = 80 + i * 45;
        legend
            .draw(&Rectangle::new(
                [(10, y0), (40, y0 + 45)],
                shade(v).filled(),
            ))
            .map_err(e)?;
        legend
            .draw(&Text::new(
                v.to_string(),
                (46, y0 + 15),
                ("sans-serif", 14).into_font(),
            ))
            .map_err(e)?;
    }
    legend
        .draw(&Text::new(
            "findings",
            (10, 55),
            ("sans-serif", 15).into_font(),
        ))
        .map_err(e)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::describe::top_title;
    use super::*;

    /// The top chart ranks errors first and says "top 3 of 3" when fewer keys exist than it
    /// shows; every SVG carries a <title> and <desc> for screen readers.
    #[test]
    fn top_ranks_errors_first_says_how_many_and_svgs_have_title_and_desc() {
        let week = chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
        let row = |key: &str, severity: &str, findings: i64| TrendRow {
            profile: None,
            import_code: None,
            week,
            key: key.into(),
            severity: severity.into(),
            findings,
            messages: None,
            per_1000: None,
        };
        let rows = [
            row("NK1", "W", 50),
            row("RXA-17", "E", 3),
            row("PID-7", "E", 5),
        ];
        let ranked: Vec<String> = ranked_by_errors(&rows)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(ranked, ["PID-7", "RXA-17", "NK1"]);
        assert_eq!(
            top_title(3, 3, 10, "HL7 field"),
            "Top 3 of 3 by HL7 field over the period (errors first)"
        );
        assert_eq!(
            top_title(10, 12, 10, "code"),
            "Top 10 by code over the period (errors first)"
        );
        let data = ChartData {
            trend: &rows,
            key_label: "HL7 field",
            submissions: &[],
            consent: &[],
            timeliness: &[],
            scores: &[],
            min_acceptance_rate: 0.9,
            top: 5,
            subtitle: String::new(),
        };
        // the trend's legend stands beside the plot, never on a line
        let svg = render_svg(Kind::Trend, &data).unwrap();
        let at = svg.find(">\nNK1\n<").expect("the legend names the series");
        let tag = &svg[svg[..at].rfind("<text").unwrap()..at];
        let x: f64 = tag
            .split("x=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .and_then(|v| v.parse().ok())
            .unwrap();
        assert!(x >= (W - LEGEND_WIDTH) as f64, "legend at x={x}: {tag}");
        for kind in Kind::all() {
            let svg = render_svg(kind, &data).unwrap();
            let at = svg.find("<svg").unwrap();
            let rest = &svg[at..];
            assert!(
                rest.find("<title>")
                    .is_some_and(|t| t < rest.find("<desc>").unwrap()),
                "{kind:?}: {}",
                &rest[..rest.len().min(300)]
            );
        }
    }

    /// A batch with counts is a filled bar; one without counts but of known size is outlined
    /// up to the most it allows; one of unknown size stays a grey "no counts" bar.
    #[test]
    fn acceptance_bounds_listings_of_known_size_and_marks_the_rest_unknown() {
        let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 11, d);
        let mut counted = SubmissionRow::new("A26301.hl7".into(), day(2), true);
        counted.acceptance_rate = Some(0.95);
        let mut bounded = SubmissionRow::new("A26308.hl7".into(), day(9), true);
        (bounded.sent_messages, bounded.rejected_messages) = (Some(10), Some(5));
        let unknown = SubmissionRow::new("A26315.hl7".into(), day(16), true);
        let subs = [counted, bounded, unknown];
        let data = ChartData {
            trend: &[],
            key_label: "HL7 field",
            submissions: &subs,
            consent: &[],
            timeliness: &[],
            scores: &[],
            min_acceptance_rate: 0.9,
            top: 5,
            subtitle: String::new(),
        };
        let svg = render_svg(Kind::Acceptance, &data).unwrap();
        assert!(
            svg.contains("at most, from the batch size (1 of 3)"),
            "{svg}"
        );
        assert!(svg.contains("≤ 50%"), "{svg}");
        assert!(svg.contains("no counts (1 of 3)"), "{svg}");
    }
}
