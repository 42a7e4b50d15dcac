//! B6: the weekly report (every chart as PNG and SVG, the CSVs, the HTML page) over the B2
//! history's 52 weeks, against B2's time for the trends alone.

use crate::common::{Series, config, measure_exit, show_run};
use crate::{Bench, Row};

pub fn b6(b: &Bench, findings: u64, b2: &Series) -> anyhow::Result<Row> {
    let dir = crate::trends::history(b, findings)?;
    let cfg = config(&dir, "bench.toml", &dir, "")?;
    let out = b.root.join("report-out");
    // The same report without the week's findings CSV, to show where the time goes.
    let lean = b.root.join("weekly-without-findings-csv.toml");
    let def = include_str!("../../reports/weekly.toml")
        .lines()
        .map(|l| {
            if l.starts_with("exports") {
                "exports = [\"submissions\", \"trends\"]"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&lean, def)?;
    let (mut ours, mut without) = (Series::default(), Series::default());
    for r in 0..b.runs {
        for (def, series) in [
            (lean.to_str().unwrap(), &mut without),
            ("weekly", &mut ours),
        ] {
            let _ = std::fs::remove_dir_all(&out);
            // exit 1 or 2: thresholds warn or fail on generated data; the report is complete
            series.push(measure_exit(
                b.cli(&cfg, &["report", def, "-q", "--out"]).arg(&out),
                &dir.join("report.log"),
                &[0, 1, 2],
            )?);
        }
        show_run(
            "B6",
            r,
            &[("report", &ours), ("without findings.csv", &without)],
        );
    }
    let week_rows = std::fs::read_to_string(out.join("findings.csv"))
        .map(|t| t.lines().count().saturating_sub(1))
        .unwrap_or(0);
    let files = std::fs::read_dir(&out)?.count();
    let _ = std::fs::remove_dir_all(&out);
    let mut row = Row::ratio(
        "B6",
        format!(
            "weekly report (charts, CSVs, HTML) over 52 weeks of the B2 history ({files} files)"
        ),
        ours,
        "B2's immdqa trends time",
        b2.clone(),
        Some(2.0),
    );
    row.reference_is_immdqa = true;
    row.note = format!(
        "the same report without findings.csv (the report week's {week_rows} findings): {:.3}s median",
        without.median()
    );
    Ok(row)
}
