//! Benchmark: weekly field trends over a generated history, immdqa against the `sqlite3` CLI
//! running the equivalent GROUP BY on the same database. Not a test: run it with
//!
//!     cargo run --release --example bench_trends -- [--findings 10000000] [--runs 5]
//!
//! It generates the history once (cached under target/bench-trends-<N>/), builds immdqa's
//! columnar cache once (timed and reported separately), then times `immdqa trends` and
//! `sqlite3` alternately, `--runs` times each, and prints medians and their ratio
//! (goal: immdqa at most half the sqlite3 time).

use std::path::Path;
use std::process::Command;

mod common;
use common::{arg, list, median, timed, which};
use std::time::Instant;

use immdqa::store::Store;

const SQL: &str = "SELECT date(r.report_date, '-' || ((CAST(strftime('%w', r.report_date) AS INTEGER) + 6) % 7) || ' days') AS week, \
COALESCE(f.field, '(none)') AS field, f.severity, SUM(f.count) AS findings \
FROM finding f JOIN report r ON r.id = f.report_id WHERE r.kind = 'dqa' GROUP BY 1, 2, 3;";

fn generate(dir: &Path, findings: u64) -> anyhow::Result<()> {
    let done = dir.join("generated.ok");
    if done.exists() {
        return Ok(());
    }
    let _ = std::fs::remove_dir_all(dir);
    let mut store = Store::open(dir)?;
    let conn = store_conn(&mut store);
    conn.execute_batch("PRAGMA synchronous=OFF;")?;
    let tx = conn.unchecked_transaction()?;
    let reports = 520u64; // 52 weeks × 10 batches
    let per = findings / reports;
    let fields = [
        "PID-7", "PID-5", "PID-11", "PID-13", "NK1", "PD1-12", "PD1-13", "RXA-5", "RXA-17",
        "RXR-1", "RXR-2", "OBX-14", "ORC-12.1", "PID-3", "PID-19", "RXA-15",
    ];
    let codes = [
        "IMR-100", "IEE-411", "IEE-998", "IEE-413", "IEE-519", "CLR-101", "CLR-105", "IMR-109",
        "IMR-111", "IEE-570", "IEE-571", "IEE-533", "IEE-526", "IEE-200", "IEE-251", "IEE-402",
    ];
    let start = chrono::NaiveDate::from_ymd_opt(2024, 11, 4).unwrap();
    {
        let mut blob =
            tx.prepare("INSERT INTO blob (sha256, size, stored_at) VALUES (?1, 0, '')")?;
        let mut sub = tx.prepare("INSERT INTO submission (file_name, import_code, submitted_on) VALUES (?1, 'BENCH', ?2)")?;
        let mut rep = tx.prepare("INSERT INTO report (sha256, kind, format, submission_id, report_date, messages, accepted, accepted_with_warnings, rejected, skipped, finding_rows, parsed_at, parser_version) VALUES (?1, 'dqa', 'hl7-ack', ?2, ?3, ?4, ?5, 0, ?6, 0, ?7, '', 1)")?;
        let mut fin = tx.prepare("INSERT INTO finding (report_id, message_control_id, field, segment, code, severity, text, raw, count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'generated finding text', 'ERR||generated', 1)")?;
        let mut x: u64 = 0x2545F4914F6CDD1D;
        for r in 0..reports {
            let day = start + chrono::Duration::days((r / 10 * 7 + r % 5) as i64);
            let name = format!(
                "BENCH{}{:03}.{}.hl7",
                day.format("%y"),
                day.format("%j"),
                r % 10
            );
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
                let f = fields[k];
                fin.execute(rusqlite::params![
                    rid,
                    format!("C{r:04}{i:07}"),
                    f,
                    &f[..3],
                    codes[k],
                    sev
                ])?;
            }
        }
    }
    tx.commit()?;
    std::fs::write(done, "ok")?;
    Ok(())
}

fn store_conn(store: &mut Store) -> &rusqlite::Connection {
    store.connection()
}

fn main() -> anyhow::Result<()> {
    let findings = arg("--findings", 10_000_000);
    let runs = arg("--runs", 5).max(1) as usize;
    let exe_dir = std::env::current_exe()?
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let immdqa = exe_dir.join("immdqa");
    anyhow::ensure!(
        immdqa.exists(),
        "build the binary first: cargo build --release ({} missing)",
        immdqa.display()
    );
    let sqlite3 = which("sqlite3")
        .ok_or_else(|| anyhow::anyhow!("sqlite3 not found: apt-get install -y sqlite3"))?;
    let dir = exe_dir
        .parent()
        .unwrap()
        .join(format!("bench-trends-{findings}"));
    let t = Instant::now();
    generate(&dir, findings)?;
    println!(
        "history: {findings} findings in 520 reports over 52 weeks at {} (ready in {:.1}s)",
        dir.display(),
        t.elapsed().as_secs_f64()
    );
    let cfg = dir.join("bench.toml");
    std::fs::write(&cfg, format!("store = {:?}\n", dir))?;
    let trends = || {
        let mut c = Command::new(&immdqa);
        c.arg("--config").arg(&cfg).args([
            "trends",
            "--by",
            "field",
            "--format",
            "csv",
            "--out",
            "/dev/null",
        ]);
        c
    };
    let _ = std::fs::remove_dir_all(dir.join("columnar"));
    let cache = timed(&mut trends())?.0;
    println!("immdqa columnar cache build (first run, once per new data): {cache:.2}s");
    let db = dir.join("history.sqlite");
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        a.push(timed(&mut trends())?.0);
        b.push(
            timed(
                Command::new(&sqlite3)
                    .arg(&db)
                    .arg(SQL)
                    .stdout(std::process::Stdio::null()),
            )?
            .0,
        );
    }
    let (ma, mb) = (median(a.clone()), median(b.clone()));
    println!("\n| workload ({findings} findings) | median of {runs} | runs |");
    println!("|---|---|---|");
    println!("| immdqa trends --by field | {ma:.3}s | {} |", list(&a, 3));
    println!(
        "| sqlite3 GROUP BY (same database) | {mb:.3}s | {} |",
        list(&b, 3)
    );
    println!(
        "\nratio immdqa / sqlite3 = {:.3} (goal <= 0.5: {})",
        ma / mb,
        if ma / mb <= 0.5 { "met" } else { "MISSED" }
    );
    Ok(())
}
