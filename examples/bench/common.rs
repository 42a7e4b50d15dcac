//! Shared by the benchmark workloads: command-line flags, running a command while measuring
//! its wall time and peak RSS, medians, finding the reference tools.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The value of `--name VALUE` on the command line.
pub fn flag(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

/// `--name N` as a number (underscores allowed), or `default`.
pub fn num(name: &str, default: u64) -> u64 {
    flag(name)
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

pub fn has(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

/// One run of a command.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub secs: f64,
    /// Peak resident set of the process itself (not of its children), KiB.
    pub peak_kib: u64,
}

/// Run a command to completion (stdout discarded unless the caller set it, stderr kept in
/// `log`), with its wall time and peak RSS from `wait4`. A failing command is an error
/// carrying its stderr.
pub fn measure(cmd: &mut Command, log: &Path) -> anyhow::Result<Run> {
    measure_exit(cmd, log, &[0])
}

/// [`measure`], accepting any of the exit codes `ok`.
pub fn measure_exit(cmd: &mut Command, log: &Path, ok: &[i32]) -> anyhow::Result<Run> {
    let err = std::fs::File::create(log)?;
    cmd.stdin(Stdio::null()).stderr(err);
    // Start every run from the same state: no dirty pages from data generation or from
    // deleting the previous run's output still being written back.
    unsafe { libc::sync() };
    let t = Instant::now();
    let child = cmd.spawn().map_err(|e| anyhow::anyhow!("{cmd:?}: {e}"))?;
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(pid > 0, "wait4 failed for {cmd:?}");
    let ok = libc::WIFEXITED(status) && ok.contains(&libc::WEXITSTATUS(status));
    anyhow::ensure!(
        ok,
        "{cmd:?} failed (status {status:#x}): {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
    Ok(Run {
        secs,
        peak_kib: usage.ru_maxrss as u64,
    })
}

pub fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs of one side of a comparison.
#[derive(Debug, Default, Clone)]
pub struct Series {
    pub runs: Vec<Run>,
}

impl Series {
    pub fn push(&mut self, r: Run) {
        self.runs.push(r);
    }
    pub fn median(&self) -> f64 {
        median(&self.runs.iter().map(|r| r.secs).collect::<Vec<_>>())
    }
    pub fn peak_mib(&self) -> f64 {
        self.runs.iter().map(|r| r.peak_kib).max().unwrap_or(0) as f64 / 1024.0
    }
    pub fn list(&self) -> String {
        self.runs
            .iter()
            .map(|r| format!("{:.3}", r.secs))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A program on the PATH (or at an absolute path).
pub fn which(name: &str) -> Option<PathBuf> {
    if name.starts_with('/') {
        return Path::new(name).exists().then(|| PathBuf::from(name));
    }
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

/// Bytes as MiB with one decimal.
pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1048576.0)
}

/// A config file pointing at `store`, written into `dir`.
pub fn config(dir: &Path, name: &str, store: &Path, extra: &str) -> anyhow::Result<PathBuf> {
    let cfg = dir.join(name);
    std::fs::write(&cfg, format!("store = {store:?}\n{extra}"))?;
    Ok(cfg)
}

/// Print one run's times on stderr: `  B1 run 2: immdqa 2.310s, sqlite3 1.500s`.
pub fn show_run(label: &str, r: usize, sides: &[(&str, &Series)]) {
    let parts: Vec<String> = sides
        .iter()
        .map(|(name, s)| format!("{name} {:.3}s", s.runs[r].secs))
        .collect();
    eprintln!("  {label} run {}: {}", r + 1, parts.join(", "));
}
