//! B2 (weekly field trends over 10 M findings against `sqlite3` GROUP BY on the same
//! database), B3 (the same trends in Python polars over a Parquet export) and B2's growth.
//! The history is generated straight into a store (520 reports over 52 weeks) and cached
//! under target/bench/history-N.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use immdqa::store::Store;

use crate::common::{Series, config, measure, show_run};
use crate::{Bench, Row};

/// The same weekly GROUP BY immdqa computes (ISO week from the report date, findings by field
/// and severity), for the sqlite3 CLI.
const SQL: &str = "SELECT date(r.report_date, '-' || ((CAST(strftime('%w', r.report_date) AS INTEGER) + 6) % 7) || ' days') AS week, \
COALESCE(f.field, '(none)') AS field, f.severity, SUM(f.count) AS findings \
FROM finding f JOIN report r ON r.id = f.report_id WHERE r.kind = 'dqa' GROUP BY 1, 2, 3;";

/// The same trends in Python polars over the Parquet export.
const POLARS: &str = r#"
import sys, polars as pl
(pl.scan_parquet(sys.argv[1])
   .group_by(["week", "field", "severity"])
   .agg(pl.col("count").sum().alias("findings"))
   .sort(["week", "field", "severity"])
   .collect()
   .write_csv(sys.argv[2]))
"#;

const FIELDS: [&str; 16] = [
    "PID-7", "PID-5", "PID-11", "PID-13", "NK1", "PD1-12", "PD1-13", "RXA-5", "RXA-17", "RXR-1",
    "RXR-2", "OBX-14", "ORC-12.1", "PID-3", "PID-19", "RXA-15",
];
const CODES: [&str; 16] = [
    "IMR-100", "IEE-411", "IEE-998", "IEE-413", "IEE-519", "CLR-101", "CLR-105", "IMR-109",
    "IMR-111", "IEE-570", "IEE-571", "IEE-533", "IEE-526", "IEE-200", "IEE-251", "IEE-402",
];

/// A store holding `findings` findings in 520 reports (10 batches a week for 52 weeks).
pub fn history(b: &Bench, findings: u64) -> anyhow::Result<PathBuf> {
    let dir = b.root.join(format!("history-{findings}"));
    if dir.join("generated.ok").exists() {
        return Ok(dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!(
        "  generating a history of {findings} findings in {}",
        dir.display()
    );
    // the schema from Store::open; the bulk rows written straight into the database file
    drop(Store::open(&dir, &immdqa::store::Keyring::none())?);
    let conn = rusqlite::Connection::open(dir.join("history.sqlite"))?;
    conn.execute_batch("PRAGMA synchronous=OFF;")?;
    let tx = conn.unchecked_transaction()?;
    let reports = 520u64;
    let per = findings / reports;
    let start = chrono::NaiveDate::from_ymd_opt(2024, 11, 4).unwrap();
    {
        let mut blob =
            tx.prepare("INSERT INTO blob (sha256, size, stored_at) VALUES (?1, 0, '')")?;
        let mut sub = tx.prepare(
            "INSERT INTO submission (file_name, import_code, submitted_on) VALUES (?1, 'BENCH', ?2)",
        )?;
        let mut rep = tx.prepare("INSERT INTO report (sha256, kind, format, submission_id, report_date, messages, accepted, accepted_with_warnings, rejected, skipped, finding_rows, parsed_at, parser_version) VALUES (?1, 'dqa', 'hl7-ack', ?2, ?3, ?4, ?5, 0, ?6, 0, ?7, '', 1)")?;
        let mut fin = tx.prepare("INSERT INTO finding (report_id, message_control_id, field, segment, code, severity, text, raw, count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'generated finding text', 'ERR||generated', 1)")?;
        let mut x: u64 = 0x2545F4914F6CDD1D;
        for r in 0..reports {
            let day = start + chrono::Duration::days((r / 10 * 7 + r % 5) as i64);
            let name = format!("BENCH{}.{}.hl7", day.format("%y%j"), r % 10);
            let sha = format!("{r:064x}");
            blob.execute([&sha])?;
            sub.execute(rusqlite::params![name, day.to_string()])?;
            let sid = tx.last_insert_rowid();
            let msgs = (per / 2) as i64;
            rep.execute(rusqlite::params![
                sha,
                sid,
                day.to_string(),
                msgs,
                msgs * 9 / 10,
                msgs / 10,
                per as i64
            ])?;
            let rid = tx.last_insert_rowid();
            for i in 0..per {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let k = (x % 16) as usize;
                let sev = match x % 10 {
                    0..=2 => "E",
                    3..=8 => "W",
                    _ => "I",
                };
                fin.execute(rusqlite::params![
                    rid,
                    format!("C{r:04}{i:07}"),
                    FIELDS[k],
                    &FIELDS[k][..3],
                    CODES[k],
                    sev
                ])?;
            }
        }
    }
    // what ingest writes with each report: its occurrences per (field, code, severity)
    tx.execute_batch(
        "INSERT INTO finding_sum (report_id, field, code, severity, count)
         SELECT report_id, field, code, severity, SUM(count) FROM finding
         GROUP BY report_id, field, code, severity;",
    )?;
    tx.commit()?;
    std::fs::write(dir.join("generated.ok"), "")?;
    Ok(dir)
}

/// The same trends in DuckDB over the Parquet export (`pip install duckdb`).
const DUCKDB: &str = r#"
import sys, duckdb
duckdb.sql(f"COPY (SELECT week, field, severity, SUM(count) AS findings FROM read_parquet('{sys.argv[1]}') GROUP BY ALL ORDER BY ALL) TO '{sys.argv[2]}' (HEADER, DELIMITER ',')")
"#;

/// Cold B2/B3: the first `trends` after the import (the columnar cache built in the timed
/// run, from the sums ingest wrote) against sqlite3 GROUP BY and against a whole DuckDB
/// process over a Parquet export (when the duckdb module is installed).
pub fn cold(b: &Bench, findings: u64) -> anyhow::Result<Vec<Row>> {
    let dir = history(b, findings)?;
    let cfg = config(&dir, "bench.toml", &dir, "")?;
    let db = dir.join("history.sqlite");
    let duckdb = Command::new(&b.tools.python)
        .args(["-c", "import duckdb"])
        .status()
        .is_ok_and(|s| s.success());
    let parquet = dir.join("findings.parquet");
    let script = dir.join("trends_duckdb.py");
    if duckdb {
        measure(
            b.cli(
                &cfg,
                &["export", "findings", "--format", "parquet", "--out"],
            )
            .arg(&parquet),
            &dir.join("immdqa.log"),
        )?;
        std::fs::write(&script, DUCKDB)?;
    }
    let (mut ours, mut sqlite, mut duck) =
        (Series::default(), Series::default(), Series::default());
    for r in 0..b.runs {
        let _ = std::fs::remove_dir_all(dir.join("columnar"));
        ours.push(measure(&mut trends_cmd(b, &cfg), &dir.join("immdqa.log"))?);
        sqlite.push(measure(
            &mut sqlite_trends_cmd(b, &db),
            &dir.join("sqlite3.log"),
        )?);
        if duckdb {
            duck.push(measure(
                Command::new(&b.tools.python)
                    .arg(&script)
                    .arg(&parquet)
                    .arg("/dev/null"),
                &dir.join("duckdb.log"),
            )?);
            show_run(
                "B2c",
                r,
                &[("immdqa", &ours), ("sqlite3", &sqlite), ("duckdb", &duck)],
            );
        } else {
            show_run("B2c", r, &[("immdqa", &ours), ("sqlite3", &sqlite)]);
        }
    }
    let _ = std::fs::remove_file(&parquet);
    let mut rows = vec![Row::ratio(
        "B2c",
        format!("first trends after importing {findings} findings (cache build included)"),
        ours.clone(),
        "sqlite3 GROUP BY on the same database",
        sqlite,
        None,
    )];
    if duckdb {
        rows.push(Row::ratio(
            "B3c",
            format!("first trends after importing {findings} findings (cache build included)"),
            ours,
            "a whole DuckDB process (Python) over a Parquet export",
            duck,
            Some(1.0),
        ));
    }
    Ok(rows)
}

/// The reference: the same weekly trends as SQL in the sqlite3 CLI, output discarded.
fn sqlite_trends_cmd(b: &Bench, db: &Path) -> Command {
    let mut c = Command::new(&b.tools.sqlite3);
    c.arg(db).arg(SQL).stdout(Stdio::null());
    c
}

pub fn trends_cmd(b: &Bench, cfg: &Path) -> Command {
    let mut c = b.immdqa();
    c.arg("--config").arg(cfg).args([
        "trends",
        "--by",
        "field",
        "--format",
        "csv",
        "--out",
        "/dev/null",
    ]);
    c
}

/// The columnar cache is built by the first analysis after new reports arrive: timed once,
/// reported beside the rows, not part of the medians.
fn warm_cache(b: &Bench, dir: &Path, cfg: &Path) -> anyhow::Result<f64> {
    let _ = std::fs::remove_dir_all(dir.join("columnar"));
    Ok(measure(&mut trends_cmd(b, cfg), &dir.join("immdqa.log"))?.secs)
}

/// immdqa trends against sqlite3, alternating; and the cache build time.
fn compare(b: &Bench, findings: u64) -> anyhow::Result<(Series, Series, f64)> {
    let dir = history(b, findings)?;
    let cfg = config(&dir, "bench.toml", &dir, "")?;
    let cache = warm_cache(b, &dir, &cfg)?;
    let db = dir.join("history.sqlite");
    let (mut ours, mut theirs) = (Series::default(), Series::default());
    for r in 0..b.runs {
        ours.push(measure(&mut trends_cmd(b, &cfg), &dir.join("immdqa.log"))?);
        theirs.push(measure(
            &mut sqlite_trends_cmd(b, &db),
            &dir.join("sqlite3.log"),
        )?);
        show_run(
            &format!("B2 {findings}"),
            r,
            &[("immdqa", &ours), ("sqlite3", &theirs)],
        );
    }
    Ok((ours, theirs, cache))
}

pub fn b2(b: &Bench, findings: u64) -> anyhow::Result<(Row, Series)> {
    let (ours, theirs, cache) = compare(b, findings)?;
    let mut row = Row::ratio(
        "B2",
        format!("weekly trends by field over {findings} findings (520 reports, 52 weeks)"),
        ours.clone(),
        "sqlite3 GROUP BY on the same database",
        theirs,
        Some(0.5),
    );
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(
        crate::trends::history(b, findings)?.join("columnar/manifest.json"),
    )?)?;
    row.note = format!(
        "columnar cache built once beforehand: {cache:.2}s; it holds {} rows for the {} findings (summed per report, field, code and severity)",
        manifest["stored_rows"], manifest["rows"]
    );
    Ok((row, ours))
}

pub fn b3(b: &Bench, findings: u64) -> anyhow::Result<Row> {
    let dir = history(b, findings)?;
    let cfg = config(&dir, "bench.toml", &dir, "")?;
    let parquet = dir.join("findings.parquet");
    let export = measure(
        b.cli(
            &cfg,
            &["export", "findings", "--format", "parquet", "--out"],
        )
        .arg(&parquet),
        &dir.join("immdqa.log"),
    )?;
    let script = dir.join("trends.py");
    std::fs::write(&script, POLARS)?;
    warm_cache(b, &dir, &cfg)?;
    let (mut ours, mut theirs) = (Series::default(), Series::default());
    for r in 0..b.runs {
        ours.push(measure(&mut trends_cmd(b, &cfg), &dir.join("immdqa.log"))?);
        theirs.push(measure(
            Command::new(&b.tools.python)
                .arg(&script)
                .arg(&parquet)
                .arg("/dev/null"),
            &dir.join("python.log"),
        )?);
        show_run("B3", r, &[("immdqa", &ours), ("python polars", &theirs)]);
    }
    let mut row = Row::ratio(
        "B3",
        format!("the same trends over {findings} findings"),
        ours,
        "Python polars over a Parquet export of the findings",
        theirs,
        Some(1.5),
    );
    row.note = format!(
        "export to Parquet (once, not timed in the medians): {:.1}s, {}",
        export.secs,
        crate::common::mib(std::fs::metadata(&parquet)?.len())
    );
    let _ = std::fs::remove_file(&parquet);
    Ok(row)
}

/// B2 at `base`, 4× and 16× `base` findings; `known` is a measured point to reuse.
pub fn growth(
    b: &Bench,
    base: u64,
    known: Option<(u64, &Series, &Series)>,
) -> anyhow::Result<Vec<crate::Growth>> {
    let mut out = Vec::new();
    for k in [1, 4, 16] {
        let size = base * k;
        let (ours, theirs) = match known {
            Some((n, o, t)) if n == size => (o.clone(), t.clone()),
            _ => {
                let (o, t, _) = compare(b, size)?;
                (o, t)
            }
        };
        out.push(crate::Growth {
            id: "B2",
            size,
            ours,
            theirs,
        });
    }
    Ok(out)
}
