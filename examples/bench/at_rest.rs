//! B1e, B8e, B2ce: what encryption at rest costs. The runs of B1 (import findings into a
//! fresh store), B8 (read sent batches into the ledger of a fresh store) and B2c (the first
//! trends after an import, cache build included) on an encrypted store (SQLCipher history,
//! sealed archive) against the same runs on a plaintext store, alternating in one command.
//! Goal: ≤ 1.25× each.

use std::path::{Path, PathBuf};

use crate::common::{Series, config, measure, show_run};
use crate::{Bench, Row};

/// A key file for the encrypted runs of `dir` (outside the stores).
fn key(dir: &Path) -> anyhow::Result<PathBuf> {
    let path = dir.join("bench.key");
    if !path.exists() {
        immdqa::store::StoreKey::generate("bench")?.write_new(&path)?;
    }
    Ok(path)
}

/// Two configs for the same store folder: plaintext, and encrypted with `key`.
fn configs(dir: &Path, store: &Path, extra: &str) -> anyhow::Result<(PathBuf, PathBuf)> {
    let plain = config(dir, "plain.toml", store, extra)?;
    let keyed = config(
        dir,
        "encrypted.toml",
        store,
        &format!("store_key_file = {:?}\n{extra}", key(dir)?),
    )?;
    Ok((plain, keyed))
}

/// `import` (findings) or `import --sent` (batches) of `input` into a fresh store, plaintext
/// then encrypted, `runs` times.
fn fresh_imports(
    b: &Bench,
    dir: &Path,
    label: &str,
    args: &[&str],
    input: &Path,
) -> anyhow::Result<(Series, Series)> {
    let store = dir.join("store-at-rest");
    let (plain, keyed) = configs(dir, &store, "")?;
    let (mut p, mut e) = (Series::default(), Series::default());
    for r in 0..b.runs {
        for (cfg, series) in [(&plain, &mut p), (&keyed, &mut e)] {
            let _ = std::fs::remove_dir_all(&store);
            series.push(measure(
                b.cli(cfg, args).arg(input),
                &dir.join("at-rest.log"),
            )?);
        }
        show_run(label, r, &[("encrypted", &e), ("plaintext", &p)]);
    }
    let _ = std::fs::remove_dir_all(&store);
    Ok((e, p))
}

/// The rows asked for (`want` by id: B1E, B8E, B2CE).
pub fn rows(
    b: &Bench,
    want: &dyn Fn(&str) -> bool,
    b1: (u64, u64),
    b8: (u64, u64),
    b2_findings: u64,
) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    if want("B1E") {
        rows.push(b1e(b, b1)?);
    }
    if want("B8E") {
        rows.push(b8e(b, b8)?);
    }
    if want("B2CE") {
        rows.push(b2ce(b, b2_findings)?);
    }
    Ok(rows)
}

fn b1e(b: &Bench, (findings, files): (u64, u64)) -> anyhow::Result<Row> {
    let dir = b.root.join(format!("ingest-{findings}-{files}"));
    let (reports, _) = crate::ingest::generate(&dir, findings, files)?;
    let (e, p) = fresh_imports(b, &dir, "B1e", &["import", "-q"], &reports)?;
    Ok(Row::ratio(
        "B1e",
        format!("B1 (import {findings} findings in {files} reports) on an encrypted store"),
        e,
        "the same import into a plaintext store",
        p,
        Some(1.25),
    ))
}

fn b8e(b: &Bench, (messages, batches): (u64, u64)) -> anyhow::Result<Row> {
    let dir = b.root.join(format!("ledger-{messages}-{batches}"));
    let (sent, _, _) = crate::ledger::generate(&dir, messages, batches)?;
    let (e, p) = fresh_imports(b, &dir, "B8e", &["import", "-q", "--sent"], &sent)?;
    Ok(Row::ratio(
        "B8e",
        format!(
            "B8 (read {messages} messages in {batches} sent batches into the ledger) on an encrypted store"
        ),
        e,
        "the same import into a plaintext store",
        p,
        Some(1.25),
    ))
}

fn b2ce(b: &Bench, b2_findings: u64) -> anyhow::Result<Row> {
    // B2c's history, and a copy of it converted with `immdqa store encrypt`
    let plain_dir = crate::trends::history(b, b2_findings)?;
    let enc_dir = b.root.join(format!("history-{b2_findings}-encrypted"));
    let work = b.root.join("at-rest");
    std::fs::create_dir_all(&work)?;
    let (_, keyed) = configs(&work, &enc_dir, "")?;
    if !work.join(format!("encrypted-{b2_findings}.ok")).exists() {
        let _ = std::fs::remove_dir_all(&enc_dir);
        let status = std::process::Command::new("cp")
            .arg("-a")
            .arg(&plain_dir)
            .arg(&enc_dir)
            .status()?;
        anyhow::ensure!(status.success(), "copying the B2 history failed");
        // the key is configured: `store encrypt` converts the copy under it
        measure(
            &mut b.cli(&keyed, &["store", "encrypt"]),
            &work.join("encrypt.log"),
        )
        .ok();
        anyhow::ensure!(
            immdqa::store::convert::is_encrypted(&enc_dir) == Some(true),
            "the encrypted copy of the B2 history was not made (see {})",
            work.join("encrypt.log").display()
        );
        std::fs::write(work.join(format!("encrypted-{b2_findings}.ok")), "")?;
    }
    let plain_cfg = config(&plain_dir, "bench.toml", &plain_dir, "")?;
    let (mut e, mut p) = (Series::default(), Series::default());
    for r in 0..b.runs {
        for (dir, cfg, series) in [(&plain_dir, &plain_cfg, &mut p), (&enc_dir, &keyed, &mut e)] {
            let _ = std::fs::remove_dir_all(dir.join("columnar"));
            series.push(measure(
                &mut crate::trends::trends_cmd(b, cfg),
                &work.join("at-rest.log"),
            )?);
        }
        show_run("B2ce", r, &[("encrypted", &e), ("plaintext", &p)]);
    }
    Ok(Row::ratio(
        "B2ce",
        format!("B2c (first trends after importing {b2_findings} findings) on an encrypted store"),
        e,
        "the same trends on the plaintext store",
        p,
        Some(1.25),
    ))
}
