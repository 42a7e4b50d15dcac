//! Build script: the commit and build date that `immdqa --version` reports (IMMDQA_COMMIT,
//! IMMDQA_BUILD_DATE), read from git when the source is a checkout, "unknown" otherwise.

use std::process::Command;

fn main() {
    let git = |args: &[&str]| -> Option<String> {
        let o = Command::new("git").args(args).output().ok()?;
        o.status
            .success()
            .then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let commit = git(&["rev-parse", "--short=9", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into());
    println!(
        "cargo:rustc-env=IMMDQA_COMMIT={commit}{}",
        if dirty { "+changes" } else { "" }
    );
    println!("cargo:rustc-env=IMMDQA_BUILD_DATE={date}");
    // a new commit (or checkout) rebuilds the version string
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
        if let Some(head) = git(&["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo:rerun-if-changed={dir}/{head}");
        }
        // (a file that does not exist would make every build rerun this script)
        if std::path::Path::new(&format!("{dir}/packed-refs")).exists() {
            println!("cargo:rerun-if-changed={dir}/packed-refs");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
