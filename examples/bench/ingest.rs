//! B1 (ingest 1 M findings in 500 report files, against `sqlite3 .import` of the same rows as
//! one CSV), its growth at 1×/4×/16×, and B7 (peak RSS importing one 1 GiB report).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{Series, config, measure, show_run};
use crate::{Bench, Row};

const HEADER: &str = "File Name,Message Control ID,Patient ID,HL7 Field,Severity,Code,Message\n";
const FIELDS: [(&str, &str, &str); 6] = [
    ("PID-7", "IMR-100", "Error"),
    ("NK1", "IEE-519", "Warning"),
    ("PD1-13", "CLR-105", "Error"),
    ("RXR-2", "IEE-571", "Warning"),
    ("PID-13", "IEE-413", "Warning"),
    ("PID-19", "IEE-251", "Informational"),
];

/// One CSV row of a generated DQA report (the registry's tabular export shape).
pub fn row(batch: &str, i: u64) -> String {
    let (f, c, s) = FIELDS[(i % 6) as usize];
    format!(
        "{batch},C{i:010},MRN{:07},{f},{s},{c},Generated issue {i} in {f}\n",
        i % 9_999_991
    )
}

/// A report file of `rows` findings starting at row number `first`.
pub fn write_report(path: &Path, batch: &str, first: u64, rows: u64) -> std::io::Result<u64> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    f.write_all(HEADER.as_bytes())?;
    let mut bytes = HEADER.len() as u64;
    for i in first..first + rows {
        let r = row(batch, i);
        bytes += r.len() as u64;
        f.write_all(r.as_bytes())?;
    }
    f.flush()?;
    Ok(bytes)
}

/// The batch file name a report of day `k` is about (`BENCHyyddd.hl7`).
pub fn batch_of(k: u64) -> (String, String) {
    let day = chrono::NaiveDate::from_ymd_opt(2025, 1, 7).unwrap()
        + chrono::Duration::days(k as i64 % 360);
    let stem = format!("BENCH{}", day.format("%y%j"));
    (format!("{stem}.hl7"), stem)
}

/// `files` reports holding `findings` rows in all, and the same rows as one CSV (one header).
pub fn generate(dir: &Path, findings: u64, files: u64) -> anyhow::Result<(PathBuf, PathBuf)> {
    let reports = dir.join("reports");
    let all = dir.join("all.csv");
    if dir.join("generated.ok").exists() {
        return Ok((reports, all));
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(&reports)?;
    let mut one = std::io::BufWriter::new(std::fs::File::create(&all)?);
    one.write_all(HEADER.as_bytes())?;
    let per = findings / files;
    for k in 0..files {
        let (batch, stem) = batch_of(k);
        write_report(
            &reports.join(format!("{stem}_{k:05}_DQA.csv")),
            &batch,
            k * per,
            per,
        )?;
        for i in k * per..(k + 1) * per {
            one.write_all(row(&batch, i).as_bytes())?;
        }
    }
    one.flush()?;
    std::fs::write(dir.join("generated.ok"), "")?;
    Ok((reports, all))
}

/// `immdqa import PATH` into a fresh store under `dir`.
fn import_fresh(b: &Bench, dir: &Path, path: &Path) -> anyhow::Result<crate::common::Run> {
    let store = dir.join("store");
    let _ = std::fs::remove_dir_all(&store);
    let cfg = config(dir, "bench.toml", &store, "")?;
    measure(
        b.cli(&cfg, &["import", "-q"]).arg(path),
        &dir.join("immdqa.log"),
    )
}

/// immdqa import into a fresh store against sqlite3 .import into a fresh database,
/// alternating, `runs` times each.
fn compare(b: &Bench, findings: u64, files: u64) -> anyhow::Result<(Series, Series, u64)> {
    let dir = b.root.join(format!("ingest-{findings}-{files}"));
    let (reports, all) = generate(&dir, findings, files)?;
    let csv_bytes = std::fs::metadata(&all)?.len();
    let (mut ours, mut theirs) = (Series::default(), Series::default());
    for r in 0..b.runs {
        ours.push(import_fresh(b, &dir, &reports)?);
        let db = dir.join("reference.db");
        let _ = std::fs::remove_file(&db);
        theirs.push(measure(
            Command::new(&b.tools.sqlite3)
                .arg(&db)
                .arg(format!(".import --csv {} finding", all.display())),
            &dir.join("sqlite3.log"),
        )?);
        show_run(
            &format!("B1 {findings}"),
            r,
            &[("immdqa", &ours), ("sqlite3", &theirs)],
        );
    }
    let _ = std::fs::remove_dir_all(dir.join("store"));
    let _ = std::fs::remove_file(dir.join("reference.db"));
    Ok((ours, theirs, csv_bytes))
}

pub fn b1(b: &Bench, findings: u64, files: u64) -> anyhow::Result<(Row, Series)> {
    let (ours, theirs, bytes) = compare(b, findings, files)?;
    let row = Row::ratio(
        "B1",
        format!(
            "import {findings} findings in {files} CSV reports ({})",
            crate::common::mib(bytes)
        ),
        ours.clone(),
        "sqlite3 .import of the same rows as one CSV",
        theirs,
        Some(1.5),
    );
    Ok((row, ours))
}

/// B1 at `base`, 4× and 16× `base` findings, files scaled alike (2,000 findings each);
/// `known` is a measured point (findings, files, immdqa, sqlite3) to reuse.
pub fn growth(
    b: &Bench,
    base: u64,
    known: Option<(u64, u64, &Series, &Series)>,
) -> anyhow::Result<Vec<crate::Growth>> {
    let mut out = Vec::new();
    for k in [1, 4, 16] {
        let findings = base * k;
        let files = (findings / 2000).max(1);
        let (ours, theirs) = match known {
            Some((n, f, o, t)) if n == findings && f == files => (o.clone(), t.clone()),
            _ => {
                let (o, t, _) = compare(b, findings, files)?;
                (o, t)
            }
        };
        out.push(crate::Growth {
            id: "B1",
            size: findings,
            ours,
            theirs,
        });
    }
    Ok(out)
}

/// Peak RSS importing one report of `mib` MiB.
pub fn b7(b: &Bench, mib: u64) -> anyhow::Result<Row> {
    let dir = b.root.join(format!("big-{mib}"));
    let big = dir.join("BIG26001_DQA.csv");
    if !dir.join("generated.ok").exists() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&big)?);
        f.write_all(HEADER.as_bytes())?;
        let (mut i, mut written) = (0u64, 0u64);
        while written < mib << 20 {
            let r = row("BIG26001.hl7", i);
            written += r.len() as u64;
            f.write_all(r.as_bytes())?;
            i += 1;
        }
        f.flush()?;
        std::fs::write(dir.join("generated.ok"), i.to_string())?;
    }
    let rows = std::fs::read_to_string(dir.join("generated.ok"))?;
    let mut ours = Series::default();
    for r in 0..b.runs {
        ours.push(import_fresh(b, &dir, &big)?);
        eprintln!(
            "  B7 run {}: {:.1}s, peak RSS {:.1} MiB",
            r + 1,
            ours.runs[r].secs,
            ours.runs[r].peak_kib as f64 / 1024.0
        );
    }
    let _ = std::fs::remove_dir_all(dir.join("store"));
    let peak = ours.peak_mib();
    Ok(Row {
        id: "B7",
        workload: format!("import one {mib} MiB report ({rows} findings): peak RSS"),
        ours,
        reference: "-".into(),
        theirs: None,
        ratio: None,
        goal: "≤ 256 MiB".into(),
        met: Some(peak <= 256.0),
        note: format!("peak RSS {peak:.1} MiB (largest of the runs)"),
        reference_is_immdqa: false,
    })
}
