//! Benchmark B1 and B7 (issue 7): ingesting findings, against the `sqlite3` CLI's `.import`.
//!
//!     cargo run --release --example bench_ingest -- [--findings 1000000] [--files 500] [--runs 5] [--big-mib 1024]
//!
//! B1: `immdqa import` of `--files` tabular DQA reports holding `--findings` findings in all
//! (parse + archive + one transaction per file into a fresh store), against `sqlite3 .import`
//! of the same rows as one CSV into a table; medians of `--runs`, alternating.
//! B7: peak RSS of `immdqa import` of one report of `--big-mib` MiB (0 skips it).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{arg, list, median, timed, which};

const HEADER: &str = "File Name,Message Control ID,Patient ID,HL7 Field,Severity,Code,Message\n";
const FIELDS: [(&str, &str, &str); 6] = [
    ("PID-7", "IMR-100", "Error"),
    ("NK1", "IEE-519", "Warning"),
    ("PD1-13", "CLR-105", "Error"),
    ("RXR-2", "IEE-571", "Warning"),
    ("PID-13", "IEE-413", "Warning"),
    ("PID-19", "IEE-251", "Informational"),
];

fn row(file: &str, i: u64) -> String {
    let (f, c, s) = FIELDS[(i % 6) as usize];
    format!(
        "{file},C{i:010},MRN{:07},{f},{s},{c},Generated issue {i} in {f}\n",
        i % 9_999_991
    )
}

/// `files` reports and the same rows as one CSV (without the header repeated).
fn generate(dir: &Path, findings: u64, files: u64) -> std::io::Result<PathBuf> {
    let reports = dir.join("reports");
    std::fs::create_dir_all(&reports)?;
    let all = dir.join("all.csv");
    let mut one = std::io::BufWriter::new(std::fs::File::create(&all)?);
    one.write_all(HEADER.as_bytes())?;
    let per = findings / files;
    let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 7).unwrap();
    for k in 0..files {
        let day = start + chrono::Duration::days(k as i64 % 360);
        let name = format!("BENCH{}.hl7", day.format("%y%j"));
        let mut f = std::io::BufWriter::new(std::fs::File::create(
            reports.join(format!("BENCH{}_{k:04}_DQA.csv", day.format("%y%j"))),
        )?);
        f.write_all(HEADER.as_bytes())?;
        for i in 0..per {
            let r = row(&name, k * per + i);
            f.write_all(r.as_bytes())?;
            one.write_all(r.as_bytes())?;
        }
    }
    one.flush()?;
    Ok(all)
}

fn main() -> anyhow::Result<()> {
    let findings = arg("--findings", 1_000_000);
    let files = arg("--files", 500).max(1);
    let runs = arg("--runs", 5).max(1) as usize;
    let big_mib = arg("--big-mib", 1024);
    let exe_dir = std::env::current_exe()?
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let immdqa = exe_dir.join("immdqa");
    anyhow::ensure!(
        immdqa.exists(),
        "build the binary first: cargo build --release"
    );
    let sqlite3 = which("sqlite3")
        .ok_or_else(|| anyhow::anyhow!("sqlite3 not found: apt-get install -y sqlite3"))?;
    let work = tempfile::tempdir_in(exe_dir.parent().unwrap())?;
    let all = generate(work.path(), findings, files)?;
    println!(
        "B1 data: {findings} findings in {files} report files ({} MiB as one CSV)",
        std::fs::metadata(&all)?.len() >> 20
    );
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for r in 0..runs {
        let store = work.path().join(format!("store{r}"));
        let cfg = work.path().join(format!("c{r}.toml"));
        std::fs::write(&cfg, format!("store = {store:?}\n"))?;
        a.push(
            timed(
                Command::new(&immdqa)
                    .arg("--config")
                    .arg(&cfg)
                    .args(["import", "-q"])
                    .arg(work.path().join("reports")),
            )?
            .0,
        );
        let db = work.path().join(format!("s{r}.db"));
        b.push(
            timed(
                Command::new(&sqlite3)
                    .arg(&db)
                    .arg(format!(".import --csv {} finding", all.display())),
            )?
            .0,
        );
        let _ = std::fs::remove_dir_all(&store);
        let _ = std::fs::remove_file(&db);
    }
    let (ma, mb) = (median(a.clone()), median(b.clone()));
    println!("\n| id | workload | median of {runs} | runs (s) |\n|---|---|---|---|");
    println!(
        "| B1 | immdqa import ({findings} findings, {files} files) | {ma:.2}s | {} |",
        list(&a, 2)
    );
    println!(
        "| B1 ref | sqlite3 .import of the same rows as one CSV | {mb:.2}s | {} |",
        list(&b, 2)
    );
    println!(
        "B1 ratio immdqa / sqlite3 = {:.2} (goal <= 1.5: {})",
        ma / mb,
        if ma / mb <= 1.5 { "met" } else { "MISSED" }
    );
    if big_mib > 0 {
        let big = work.path().join("BIG26001_DQA.csv");
        let mut f = std::io::BufWriter::new(std::fs::File::create(&big)?);
        f.write_all(HEADER.as_bytes())?;
        let mut i = 0u64;
        let mut written = 0u64;
        while written < big_mib << 20 {
            let r = row("BIG26001.hl7", i);
            written += r.len() as u64;
            f.write_all(r.as_bytes())?;
            i += 1;
        }
        f.flush()?;
        drop(f);
        let cfg = work.path().join("big.toml");
        std::fs::write(
            &cfg,
            format!("store = {:?}\n", work.path().join("bigstore")),
        )?;
        let (secs, err) = timed(
            Command::new(&immdqa)
                .env("IMMDQA_REPORT_PEAK_RSS", "1")
                .arg("--config")
                .arg(&cfg)
                .args(["import", "-q"])
                .arg(&big),
        )?;
        let kib: u64 = err
            .lines()
            .find_map(|l| l.strip_prefix("peak_rss_kib="))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        println!(
            "| B7 | immdqa import of one {big_mib} MiB report ({i} findings) | peak RSS {:.1} MiB in {secs:.1}s (goal <= 256 MiB: {}) | |",
            kib as f64 / 1024.0,
            if kib <= 256 * 1024 { "met" } else { "MISSED" }
        );
    }
    Ok(())
}
