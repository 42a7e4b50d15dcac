//! The benchmark harness (issue 7): immdqa against the tools a user would otherwise use, in
//! one command, on data it generates itself.
//!
//!     cargo run --release --example bench                 # everything (about 20 minutes)
//!     cargo run --release --example bench -- --quick      # a tenth of the sizes
//!     cargo run --release --example bench -- --only B1,B4 --runs 7
//!
//! Needs the `sqlite3` CLI, OpenSSH (`sshd`, `sftp`, `ssh-keygen`) and Python with polars;
//! it checks them first and says how to install what is missing. Each measurement is
//! repeated `--runs` times (default 5), immdqa and the reference alternating, and the median
//! is reported with the peak RSS of the process. Data is generated under target/bench/ (kept
//! between runs, so a second run skips generation). The table is printed and written to
//! target/bench/results.md.
//!
//! Flags: --only IDS (B1..B11, G for the growth series), --runs N, --quick,
//! --growth-base N (the 1× size of the growth series; default a sixteenth of B1 and B2).

use std::path::PathBuf;
use std::process::Command;

mod at_rest;
mod common;
mod fetch;
mod ingest;
mod ledger;
mod report;
mod serve;
mod trends;

use common::{Series, flag, has, num, which};

/// Where the reference tools are.
pub struct Tools {
    pub sqlite3: PathBuf,
    pub sftp: PathBuf,
    pub python: PathBuf,
}

pub struct Bench {
    pub exe: PathBuf,
    pub root: PathBuf,
    pub runs: usize,
    pub tools: Tools,
}

/// One line of the results table.
pub struct Row {
    pub id: &'static str,
    pub workload: String,
    pub ours: Series,
    pub reference: String,
    pub theirs: Option<Series>,
    pub ratio: Option<f64>,
    pub goal: String,
    pub met: Option<bool>,
    pub note: String,
    /// The reference is another immdqa measurement (its peak RSS is not a reference tool's).
    pub reference_is_immdqa: bool,
}

impl Row {
    /// A row comparing medians, `ours / theirs`, against `goal` (at most) if there is one.
    pub fn ratio(
        id: &'static str,
        workload: String,
        ours: Series,
        reference: &str,
        theirs: Series,
        goal: Option<f64>,
    ) -> Row {
        let ratio = ours.median() / theirs.median();
        Row {
            id,
            workload,
            ours,
            reference: reference.into(),
            theirs: Some(theirs),
            ratio: Some(ratio),
            goal: goal.map_or("-".into(), |g| format!("≤ {g}")),
            met: goal.map(|g| ratio <= g),
            note: String::new(),
            reference_is_immdqa: false,
        }
    }
}

/// One size of a growth series.
pub struct Growth {
    pub id: &'static str,
    pub size: u64,
    pub ours: Series,
    pub theirs: Series,
}

const INSTALL: &str =
    "apt-get install -y sqlite3 openssh-server openssh-client python3-pip && pip install polars";

fn tools(need_sqlite: bool, need_ssh: bool, need_python: bool) -> anyhow::Result<Tools> {
    let python = flag("--python").unwrap_or_else(|| "python3".into());
    let mut missing = Vec::new();
    let mut find = |name: &str, needed: bool, how: &str| {
        let found = which(name);
        if needed && found.is_none() {
            missing.push(format!("  {name}: {how}"));
        }
        found.unwrap_or_default()
    };
    let t = Tools {
        sqlite3: find("sqlite3", need_sqlite, "apt-get install -y sqlite3"),
        sftp: find("sftp", need_ssh, "apt-get install -y openssh-client"),
        python: find(
            &python,
            need_python,
            "apt-get install -y python3 python3-pip",
        ),
    };
    find(
        "/usr/sbin/sshd",
        need_ssh,
        "apt-get install -y openssh-server",
    );
    find("ssh-keygen", need_ssh, "apt-get install -y openssh-client");
    if need_python && t.python.exists() {
        let ok = Command::new(&t.python)
            .args(["-c", "import polars"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            missing.push(format!(
                "  polars for {}: {} -m pip install polars",
                t.python.display(),
                t.python.display()
            ));
        }
    }
    anyhow::ensure!(
        missing.is_empty(),
        "reference tools missing:\n{}\n(all at once: {INSTALL}; or leave those rows out with --only)",
        missing.join("\n")
    );
    Ok(t)
}

/// Set in the environment of the processes this harness starts as immdqa.
const AS_IMMDQA: &str = "IMMDQA_BENCH_RUN_CLI";

impl Bench {
    /// A command running immdqa: this executable re-entering `immdqa::cli::main`, i.e. the
    /// same code as the `immdqa` binary, with the same allocator. (Building the binary
    /// separately would compile the library a second time with other features: dev
    /// dependencies only unify into the example's build.)
    pub fn immdqa(&self) -> Command {
        let mut c = Command::new(&self.exe);
        c.env(AS_IMMDQA, "1");
        c
    }

    /// `immdqa --config CFG ARGS...`
    pub fn cli(&self, cfg: &std::path::Path, args: &[&str]) -> Command {
        let mut c = self.immdqa();
        c.arg("--config").arg(cfg).args(args);
        c
    }
}

fn sh(cmd: &str) -> String {
    Command::new("sh")
        .args(["-c", cmd])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn machine(t: &Tools) -> String {
    let sqlite = sh(&format!(
        "{} --version | cut -d' ' -f1",
        t.sqlite3.display()
    ));
    let polars = sh(&format!(
        "{} -c 'import polars; print(polars.__version__)' 2>/dev/null",
        t.python.display()
    ));
    format!(
        "{} · {} cores · {} RAM · {} · sqlite3 {sqlite} · {} · Python polars {polars}",
        sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'"),
        sh("nproc"),
        sh("free -h | awk '/Mem:/ {print $2}'"),
        sh("uname -sr"),
        sh("ssh -V 2>&1 | cut -d, -f1"),
    )
}

fn verdict(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "-",
    }
}

fn table(rows: &[Row], growth: &[Growth], runs: usize, header: &str) -> String {
    let mut s = format!(
        "{header}\n\n| id | workload | immdqa (median of {runs}) | reference | reference (median) | ratio | goal | verdict | peak RSS immdqa | peak RSS reference |\n|---|---|---|---|---|---|---|---|---|---|\n"
    );
    for r in rows {
        let theirs = r.theirs.as_ref();
        s += &format!(
            "| {} | {} | {:.3} s | {} | {} | {} | {} | {} | {:.1} MiB | {} |\n",
            r.id,
            r.workload,
            r.ours.median(),
            r.reference,
            theirs.map_or("-".into(), |t| format!("{:.3} s", t.median())),
            r.ratio.map_or("-".into(), |x| format!("{x:.3}")),
            r.goal,
            verdict(r.met),
            r.ours.peak_mib(),
            match theirs {
                Some(t) if !r.reference_is_immdqa => format!("{:.1} MiB", t.peak_mib()),
                _ => "-".into(),
            },
        );
    }
    if !growth.is_empty() {
        s += "\nGrowth (medians; per-million = seconds per million findings):\n\n| id | findings | immdqa | per million | reference | per million | ratio |\n|---|---|---|---|---|---|---|\n";
        for g in growth {
            let (o, t) = (g.ours.median(), g.theirs.median());
            let m = g.size as f64 / 1e6;
            s += &format!(
                "| {} | {} | {o:.3} s | {:.3} s | {t:.3} s | {:.3} s | {:.3} |\n",
                g.id,
                g.size,
                o / m,
                t / m,
                o / t
            );
        }
    }
    s += "\nRuns (seconds) and notes:\n\n";
    for r in rows {
        s += &format!("- {}: immdqa {}", r.id, r.ours.list());
        if let Some(t) = &r.theirs {
            s += &format!("; reference {}", t.list());
        }
        if !r.note.is_empty() {
            s += &format!("; {}", r.note);
        }
        s += "\n";
    }
    s
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc; // as in src/main.rs

fn main() -> std::process::ExitCode {
    if std::env::var_os(AS_IMMDQA).is_some() {
        return immdqa::cli::main();
    }
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: error: {e:#}");
            std::process::ExitCode::from(3)
        }
    }
}

fn run() -> anyhow::Result<()> {
    let only: Vec<String> = flag("--only")
        .map(|v| v.split(',').map(|s| s.trim().to_uppercase()).collect())
        .unwrap_or_else(|| {
            [
                "B1", "B2", "B2C", "B3", "B4", "B5", "B6", "B7", "B8", "B8L", "B10", "B11", "B1E",
                "B8E", "B2CE", "B12", "G",
            ]
            .map(String::from)
            .to_vec()
        });
    let want = |id: &str| only.iter().any(|o| o == id);
    let quick = has("--quick");
    let scale = |n: u64| if quick { (n / 10).max(1) } else { n };
    let (b1_findings, b2_findings) = (scale(1_000_000), scale(10_000_000));
    let runs = num("--runs", 5).max(1) as usize;
    let t = tools(
        want("B1")
            || want("B2")
            || want("B2C")
            || want("B6")
            || want("B8")
            || want("B8L")
            || want("B9")
            || want("B11")
            || want("B1E")
            || want("B8E")
            || want("B2CE")
            || want("B12")
            || want("G"),
        want("B4") || want("B5"),
        want("B3"),
    )?;
    let exe = std::env::current_exe()?;
    anyhow::ensure!(
        exe.parent()
            .and_then(|p| p.parent())
            .and_then(|p| p.file_name())
            .is_some_and(|n| n == "release"),
        "run the benchmark from a release build: cargo run --release --example bench"
    );
    // target/release/examples/bench → target/bench
    let root = exe.ancestors().nth(3).unwrap().join("bench");
    std::fs::create_dir_all(&root)?;
    let b = Bench {
        exe,
        root: root.clone(),
        runs,
        tools: t,
    };
    let started = chrono::Local::now();
    let mut rows = Vec::new();
    let mut growth = Vec::new();
    let mut b1_series = None;
    if want("B1") {
        eprintln!("B1: ingest");
        let (row, _) = ingest::b1(&b, b1_findings, scale(500))?;
        b1_series = Some((row.ours.clone(), row.theirs.clone().unwrap()));
        rows.push(row);
    }
    let mut b2_series = None;
    if want("B2") {
        eprintln!("B2: trends");
        let (row, ours) = trends::b2(&b, b2_findings)?;
        b2_series = Some((ours, row.theirs.clone().unwrap()));
        if want("B2") {
            rows.push(row);
        }
    }
    if want("B2C") {
        eprintln!("B2c/B3c: the first trends after an import");
        rows.extend(trends::cold(&b, b2_findings)?);
    }
    if want("B3") {
        eprintln!("B3: trends against Python polars");
        rows.push(trends::b3(&b, b2_findings)?);
    }
    if want("B4") || want("B5") {
        eprintln!("B4/B5: fetch over SFTP");
        rows.extend(
            fetch::b4_b5(&b, scale(2000))?
                .into_iter()
                .filter(|r| want(r.id.trim_end_matches('+'))),
        );
    }
    if want("B8") || want("B9") || want("B11") {
        eprintln!("B8/B9: the message ledger and the worklist (B11: the worklist page)");
        rows.extend(
            ledger::b8_b9(&b, scale(1_000_000), scale(100), want("B11"))?
                .into_iter()
                .filter(|r| {
                    if r.id.starts_with("B11") {
                        want("B11")
                    } else {
                        want("B8") || want("B9")
                    }
                }),
        );
    }
    if want("B1E") || want("B8E") || want("B2CE") {
        eprintln!("B1e/B8e/B2ce: the same runs on an encrypted store");
        rows.extend(at_rest::rows(
            &b,
            &want,
            (b1_findings, scale(500)),
            (scale(1_000_000), scale(100)),
            b2_findings,
        )?);
    }
    if want("B12") {
        eprintln!("B12: lint with every rule on");
        rows.push(ledger::b12(&b, scale(1_000_000), scale(100))?);
    }
    if want("B8L") {
        eprintln!("B8L: one batch of 1 M messages linked to its answer");
        rows.push(ledger::b8_link(&b, scale(1_000_000))?);
    }
    if want("B10") {
        eprintln!("B10: fetch over FTPS");
        rows.extend(fetch::b10(&b, scale(2000))?);
    }
    if want("B6") {
        eprintln!("B6: weekly report");
        rows.push(report::b6(&b, b2_findings)?);
    }
    if want("B7") {
        eprintln!("B7: one big report");
        rows.push(ingest::b7(&b, scale(1024))?);
    }
    if want("G") {
        eprintln!("growth series");
        let b1_base = num("--growth-base", b1_findings / 16);
        let b2_base = num("--growth-base", b2_findings / 16);
        let known1 = b1_series
            .as_ref()
            .map(|(o, t)| (b1_findings, scale(500), o, t));
        growth.extend(ingest::growth(&b, b1_base, known1)?);
        let known2 = b2_series.as_ref().map(|(o, t)| (b2_findings, o, t));
        growth.extend(trends::growth(&b, b2_base, known2)?);
    }
    let header = format!(
        "immdqa {} benchmark, {} ({}), release build{}\n\nMachine: {}",
        env!("CARGO_PKG_VERSION"),
        started.format("%Y-%m-%d %H:%M"),
        sh(concat!(
            "git -C ",
            env!("CARGO_MANIFEST_DIR"),
            " rev-parse --short HEAD 2>/dev/null"
        )),
        if quick { ", --quick sizes" } else { "" },
        machine(&b.tools)
    );
    let out = table(&rows, &growth, runs, &header);
    println!("{out}");
    let file = flag("--out")
        .map(PathBuf::from)
        .unwrap_or(root.join("results.md"));
    std::fs::write(&file, &out)?;
    eprintln!("written to {}", file.display());
    let missed = rows.iter().filter(|r| r.met == Some(false)).count();
    if missed > 0 {
        eprintln!("{missed} goal(s) missed");
    }
    Ok(())
}
