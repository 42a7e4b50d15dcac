//! What a profile's resolved transport options say of themselves, and what is wrong with them
//! that can be seen without connecting (`immdqa config check`): each transport answers for
//! itself here, so a new one adds its arm and `config check` stays as it is.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::options::{Auth, Options};

/// Labelled lines (no secret) and the problems found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Preflight {
    pub lines: Vec<(&'static str, String)>,
    pub problems: Vec<String>,
}

impl Preflight {
    fn line(&mut self, label: &'static str, value: String) {
        self.lines.push((label, value));
    }
}

fn mode_of(p: &Path) -> Option<u32> {
    std::fs::metadata(p)
        .ok()
        .map(|m| m.permissions().mode() & 0o777)
}

impl Options {
    /// Describe these options and check what can be checked locally (folders, key files and
    /// their modes, environment variables, known_hosts, a CA file), for profile `name`.
    pub fn preflight(&self, name: &str) -> Preflight {
        let mut p = Preflight::default();
        match self {
            Options::Local { root } => {
                p.line("transport", format!("local folder {}", root.display()));
                if !root.is_dir() {
                    p.problems.push(format!(
                        "profile '{name}': local_dir {} is not a readable folder",
                        root.display()
                    ));
                }
            }
            Options::Ftps(o) => {
                p.line(
                    "transport",
                    format!(
                        "ftps://{}@{}:{} ({} TLS)",
                        o.user,
                        o.host,
                        o.port,
                        if o.implicit { "implicit" } else { "explicit" }
                    ),
                );
                auth(&mut p, name, &o.auth);
                match (&o.pin, &o.ca_file) {
                    (Some(pin), _) => p.line(
                        "certificate",
                        format!("pinned {}", super::ftps::format_fingerprint(pin)),
                    ),
                    (None, Some(ca)) => {
                        p.line("certificate", format!("system roots and {}", ca.display()));
                        if !ca.is_file() {
                            p.problems.push(format!(
                                "profile '{name}': ca_file {} does not exist",
                                ca.display()
                            ));
                        }
                    }
                    (None, None) => p.line(
                        "certificate",
                        "system roots (or pin one: immdqa trust-host)".into(),
                    ),
                }
            }
            Options::Sftp(o) => {
                p.line(
                    "transport",
                    format!("sftp://{}@{}:{}", o.user, o.host, o.port),
                );
                auth(&mut p, name, &o.auth);
                let kh = &o.known_hosts;
                match std::fs::read_to_string(kh) {
                    Ok(text) => {
                        let n = text
                            .lines()
                            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
                            .count();
                        p.line("known_hosts", format!("{} ({n} entries)", kh.display()));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        p.line("known_hosts", format!("{} (not created yet)", kh.display()));
                        p.problems.push(format!(
                            "profile '{name}': known_hosts {} does not exist yet: run `immdqa trust-host --profile {name}`",
                            kh.display()
                        ));
                    }
                    Err(e) => p.problems.push(format!(
                        "profile '{name}': known_hosts {} cannot be read: {e}",
                        kh.display()
                    )),
                }
            }
        }
        p
    }
}

/// How a profile logs in, and what is missing.
fn auth(p: &mut Preflight, name: &str, auth: &Auth) {
    match auth {
        Auth::KeyFile {
            path,
            passphrase_env,
        } => {
            let m = mode_of(path);
            p.line(
                "auth",
                format!(
                    "key file {} ({})",
                    path.display(),
                    match m {
                        Some(m) => format!("mode {m:o}"),
                        None => "MISSING".into(),
                    }
                ),
            );
            match m {
                None => p.problems.push(format!(
                    "profile '{name}': key_file {} does not exist or cannot be read",
                    path.display()
                )),
                Some(m) if m & 0o077 != 0 => p.problems.push(format!(
                    "profile '{name}': key_file {} is readable by others (mode {m:o}); run chmod 600",
                    path.display()
                )),
                _ => {}
            }
            if let Some(var) = passphrase_env {
                let set = std::env::var_os(var).is_some();
                p.line(
                    "passphrase",
                    format!("${var} ({})", if set { "set" } else { "NOT SET" }),
                );
                if !set {
                    p.problems.push(format!(
                        "profile '{name}': environment variable {var} (key passphrase) is not set"
                    ));
                }
            }
        }
        Auth::PasswordEnv(var) => {
            let set = std::env::var_os(var).is_some();
            p.line(
                "auth",
                format!(
                    "password from ${var} ({})",
                    if set { "set, ********" } else { "NOT SET" }
                ),
            );
            if !set {
                p.problems.push(format!(
                    "profile '{name}': environment variable {var} (password) is not set"
                ));
            }
        }
        Auth::Password(_) => p.line("auth", "password in the config file (********)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_folder_says_where_and_whether_it_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let ok = Options::Local {
            root: dir.path().to_path_buf(),
        }
        .preflight("p");
        assert_eq!(ok.lines[0].0, "transport");
        assert!(ok.problems.is_empty());
        let missing = Options::Local {
            root: dir.path().join("nope"),
        }
        .preflight("p");
        assert!(missing.problems[0].contains("is not a readable folder"));
    }
}
