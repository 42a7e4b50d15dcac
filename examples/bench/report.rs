//! B6: the weekly report (every chart as PNG and SVG, the CSVs, the HTML page) over the B2
//! history's 52 weeks, against the `sqlite3` CLI writing the same week's findings to a CSV
//! file (the report's largest cost: its findings.csv).

use std::process::Command;

use crate::common::{Series, config, measure, measure_exit, show_run};
use crate::{Bench, Row};

/// The report week's findings with their report's context, as findings.csv has them.
fn week_findings_sql(db: &std::path::Path) -> anyhow::Result<String> {
    let conn = rusqlite::Connection::open(db)?;
    let last: String = conn.query_row(
        "SELECT max(report_date) FROM report WHERE kind = 'dqa'",
        [],
        |r| r.get(0),
    )?;
    let last = chrono::NaiveDate::parse_from_str(&last, "%Y-%m-%d")?;
    let monday = immdqa::analytics::week_start(last);
    let sunday = monday + chrono::Duration::days(6);
    let sql: String = include_str!("../../queries/store/export_findings.sql")
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
        .replace("?1", &format!("'{monday}'"))
        .replace("?2", &format!("'{sunday}'"))
        .replace("?3", "NULL");
    Ok(sql + ";")
}

pub fn b6(b: &Bench, findings: u64) -> anyhow::Result<Row> {
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
    let db = dir.join("history.sqlite");
    let sql = week_findings_sql(&db)?;
    let reference_csv = b.root.join("week-findings.csv");
    let (mut ours, mut without, mut theirs) =
        (Series::default(), Series::default(), Series::default());
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
        theirs.push(measure(
            Command::new(&b.tools.sqlite3)
                .arg("-csv")
                .arg("-header")
                .arg("-readonly")
                .arg(&db)
                .arg(format!(".once {}", reference_csv.display()))
                .arg(&sql),
            &dir.join("sqlite3.log"),
        )?);
        show_run(
            "B6",
            r,
            &[
                ("report", &ours),
                ("without findings.csv", &without),
                ("sqlite3 -csv", &theirs),
            ],
        );
    }
    let _ = std::fs::remove_file(&reference_csv);
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
        "sqlite3 -csv writing the same week's findings to a file",
        theirs,
        Some(1.5),
    );
    row.note = format!(
        "the same report without findings.csv (the report week's {week_rows} findings): {:.3}s median",
        without.median()
    );
    Ok(row)
}
