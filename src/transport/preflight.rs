//! What a profile's resolved transport options say of themselves, and what is wrong with them
//! that can be seen without connecting (`immdqa config check`): the lines and problems every
//! transport fills, and the login check they share. Each transport describes itself in its own
//! module (`preflight` on its options); `Options::preflight` picks the one.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::options::Auth;

/// Labelled lines (no secret) and the problems found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Preflight {
    pub lines: Vec<(&'static str, String)>,
    pub problems: Vec<String>,
}

impl Preflight {
    pub(super) fn line(&mut self, label: &'static str, value: String) {
        self.lines.push((label, value));
    }
}

fn mode_of(p: &Path) -> Option<u32> {
    std::fs::metadata(p)
        .ok()
        .map(|m| m.permissions().mode() & 0o777)
}

/// How a profile logs in, and what is missing.
pub(super) fn auth(p: &mut Preflight, name: &str, auth: &Auth) {
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
    use super::super::Options;

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
