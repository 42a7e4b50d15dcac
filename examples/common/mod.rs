//! Helpers shared by the benchmark examples: flags, timing, medians, finding tools.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

/// The value of `--name N` on the command line (underscores allowed), or `default`.
pub fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Run a command; its wall time in seconds and its standard error. Fails if it fails.
pub fn timed(cmd: &mut Command) -> anyhow::Result<(f64, String)> {
    let t = Instant::now();
    let o = cmd.output()?;
    let secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        o.status.success(),
        "{:?} failed: {}",
        cmd,
        String::from_utf8_lossy(&o.stderr)
    );
    Ok((secs, String::from_utf8_lossy(&o.stderr).into_owned()))
}

/// A program on the PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|p| p.exists())
    })
}

/// Seconds as a comma-separated list.
pub fn list(v: &[f64], decimals: usize) -> String {
    v.iter()
        .map(|x| format!("{x:.decimals$}"))
        .collect::<Vec<_>>()
        .join(", ")
}
