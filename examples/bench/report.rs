//! B6: the weekly report (every chart as PNG and SVG, the CSVs, the HTML page) over the B2
//! history's 52 weeks, against B2's time for the trends alone.

use crate::common::{Series, config, measure_exit};
use crate::{Bench, Row};

pub fn b6(b: &Bench, findings: u64, b2: &Series) -> anyhow::Result<Row> {
    let dir = crate::trends::history(b, findings)?;
    let cfg = config(&dir, "bench.toml", &dir, "")?;
    let out = b.root.join("report-out");
    let mut ours = Series::default();
    for r in 0..b.runs {
        let _ = std::fs::remove_dir_all(&out);
        // exit 1 or 2: the thresholds warn or fail on generated data; the report is complete
        ours.push(measure_exit(
            b.immdqa()
                .arg("--config")
                .arg(&cfg)
                .args(["report", "weekly", "-q", "--out"])
                .arg(&out),
            &dir.join("report.log"),
            &[0, 1, 2],
        )?);
        eprintln!("  B6 run {}: {:.2}s", r + 1, ours.runs[r].secs);
    }
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
        2.0,
    );
    row.reference_is_immdqa = true;
    Ok(row)
}
