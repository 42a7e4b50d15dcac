//! A profile resolved, once, into what a transport needs ([`Options`], an enum the transport
//! owns): the CLI calls [`Options::from_profile`] and hands the result to the library, which
//! never sees a `Profile`. Adding a transport is a module beside this one (its options, its
//! connection, its `preflight`), a variant here with its arms, and a value of `config::Protocol`.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::preflight::Preflight;
use super::{RemoteFs, Retry, TransportError, ftps, local, sftp};
use crate::config::{ConfigError, Profile, Protocol, Tls};

/// How a profile logs in, after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    KeyFile {
        path: PathBuf,
        passphrase_env: Option<String>,
    },
    PasswordEnv(String),
    /// A password written in the config file itself.
    Password(Secret),
}

impl Auth {
    /// The password (FTPS has no key login), read from the environment when it lives there.
    pub fn password(&self, host: &str) -> Result<Secret, TransportError> {
        match self {
            Auth::Password(s) => Ok(s.clone()),
            Auth::PasswordEnv(var) => {
                std::env::var(var)
                    .map(Secret)
                    .map_err(|_| TransportError::Credentials {
                        host: host.to_string(),
                        message: format!("environment variable {var} (password) is not set"),
                    })
            }
            Auth::KeyFile { .. } => Err(TransportError::Credentials {
                host: host.to_string(),
                message: "FTPS logs in with a password: set password_env, not key_file".into(),
            }),
        }
    }
}

/// A secret string whose `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where a profile's mailbox is and how to reach it.
#[derive(Debug, Clone)]
pub enum Options {
    Local { root: PathBuf },
    Sftp(sftp::SftpOptions),
    Ftps(ftps::FtpsOptions),
}

impl Options {
    /// Validate a profile and resolve it (defaults, credentials, identity checks).
    pub fn from_profile(name: &str, p: &Profile) -> Result<Options, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            profile: name.to_string(),
            message,
        };
        if let Some(root) = &p.local_dir {
            if p.host.is_some() {
                return Err(invalid("set either local_dir or host, not both".into()));
            }
            return Ok(Options::Local { root: root.clone() });
        }
        let host = p
            .host
            .clone()
            .ok_or_else(|| invalid("missing `host` (or `local_dir` for a local mailbox)".into()))?;
        let user = p
            .user
            .clone()
            .ok_or_else(|| invalid("missing `user`".into()))?;
        let auth = match (&p.key_file, &p.password_env, &p.password) {
            (Some(path), None, None) => Auth::KeyFile {
                path: path.clone(),
                passphrase_env: p.key_passphrase_env.clone(),
            },
            (None, Some(var), None) => Auth::PasswordEnv(var.clone()),
            (None, None, Some(pw)) => Auth::Password(Secret(pw.clone())),
            (None, None, None) => {
                return Err(invalid(
                    "no credentials: set `key_file` or `password_env` (the name of an environment variable holding the password)".into(),
                ));
            }
            _ => {
                return Err(invalid(
                    "set only one of `key_file`, `password_env`, `password`".into(),
                ));
            }
        };
        let timeout = Duration::from_secs(p.timeout_secs);
        let retry = Retry::from_profile(p);
        match p.protocol {
            Protocol::Sftp => {
                let known_hosts = p
                    .known_hosts
                    .clone()
                    .ok_or_else(|| invalid("missing `known_hosts`".into()))?;
                Ok(Options::Sftp(sftp::SftpOptions {
                    host,
                    port: p.port.unwrap_or(22),
                    user,
                    auth,
                    known_hosts,
                    timeout,
                    retry,
                }))
            }
            Protocol::Ftps => {
                if matches!(auth, Auth::KeyFile { .. }) {
                    return Err(invalid(
                        "FTPS logs in with a password: set `password_env` instead of `key_file`"
                            .into(),
                    ));
                }
                let pin = match &p.tls_fingerprint {
                    Some(f) => Some(
                        ftps::parse_fingerprint(f)
                            .map_err(|m| invalid(format!("tls_fingerprint: {m}")))?,
                    ),
                    None => None,
                };
                Ok(Options::Ftps(ftps::FtpsOptions {
                    port: p.port.unwrap_or(match p.tls {
                        Tls::Implicit => 990,
                        Tls::Explicit => 21,
                    }),
                    host,
                    user,
                    auth,
                    implicit: p.tls == Tls::Implicit,
                    pin,
                    ca_file: p.ca_file.clone(),
                    timeout,
                    retry,
                }))
            }
        }
    }

    /// Connect (with retries) and return the mailbox.
    pub fn open(&self) -> Result<Box<dyn RemoteFs>, TransportError> {
        Ok(match self {
            Options::Local { root } => Box::new(local::LocalFs::new(root.clone())?),
            Options::Sftp(o) => Box::new(sftp::SftpFs::connect(o.clone())?),
            Options::Ftps(o) => Box::new(ftps::FtpsFs::connect(o.clone())?),
        })
    }

    /// Where these options reach, in one line (no secret, no I/O): `sftp://user@host:port`,
    /// `ftps://…`, `local folder …`.
    pub fn describe(&self) -> String {
        match self {
            Options::Local { root } => local::LocalFs::describe_root(root),
            Options::Sftp(o) => o.describe(),
            Options::Ftps(o) => o.describe(),
        }
    }

    /// Describe these options and check what can be checked locally (folders, key files and
    /// their modes, environment variables, known_hosts, a CA file), for profile `name`: each
    /// transport answers for itself.
    pub fn preflight(&self, name: &str) -> Preflight {
        let mut p = Preflight::default();
        match self {
            Options::Local { root } => local::LocalFs::preflight(root, name, &mut p),
            Options::Sftp(o) => o.preflight(name, &mut p),
            Options::Ftps(o) => o.preflight(name, &mut p),
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{Config, EXAMPLE_CONFIG};

    #[test]
    fn example_config_parses_and_resolves() {
        let cfg = Config::from_toml(EXAMPLE_CONFIG, Path::new("/etc/immdqa/config.toml")).unwrap();
        let (name, p) = cfg.profile(None).unwrap();
        assert_eq!(name, "registry");
        assert_eq!(p.dqa_dir, "DQA-Reports");
        match Options::from_profile(&name, p).unwrap() {
            Options::Sftp(sftp::SftpOptions {
                auth,
                known_hosts,
                port,
                ..
            }) => {
                assert_eq!(auth, Auth::PasswordEnv("IMMDQA_PASSWORD".into()));
                assert_eq!(known_hosts, PathBuf::from("/etc/immdqa/known_hosts"));
                assert_eq!(port, 22);
            }
            other => panic!("expected sftp, got {other:?}"),
        }
        let (_, local) = cfg.profile(Some("share")).unwrap();
        assert!(matches!(
            Options::from_profile("share", local).unwrap(),
            Options::Local { root } if root == Path::new("/etc/immdqa/../mailbox")
        ));
    }

    #[test]
    fn credentials_must_be_exactly_one() {
        let p = Profile {
            host: Some("h".into()),
            user: Some("u".into()),
            known_hosts: Some("kh".into()),
            ..Profile::default()
        };
        assert!(
            Options::from_profile("p", &p)
                .unwrap_err()
                .to_string()
                .contains("no credentials")
        );
        let both = Profile {
            key_file: Some("k".into()),
            password_env: Some("P".into()),
            ..p.clone()
        };
        assert!(
            Options::from_profile("p", &both)
                .unwrap_err()
                .to_string()
                .contains("only one")
        );
    }

    #[test]
    fn ftps_defaults_by_tls_mode_and_pins() {
        let p = Profile {
            protocol: Protocol::Ftps,
            host: Some("h".into()),
            user: Some("u".into()),
            password_env: Some("P".into()),
            ..Profile::default()
        };
        let Options::Ftps(o) = Options::from_profile("p", &p).unwrap() else {
            panic!("ftps")
        };
        assert_eq!((o.port, o.implicit, o.pin), (990, true, None));
        let explicit = Profile {
            tls: Tls::Explicit,
            tls_fingerprint: Some(format!("SHA256:{}", "A".repeat(43))),
            ..p.clone()
        };
        let Options::Ftps(o) = Options::from_profile("p", &explicit).unwrap() else {
            panic!("ftps")
        };
        assert_eq!((o.port, o.implicit), (21, false));
        assert!(o.pin.is_some());
        let bad = Profile {
            tls_fingerprint: Some("nonsense".into()),
            ..p.clone()
        };
        assert!(
            Options::from_profile("p", &bad)
                .unwrap_err()
                .to_string()
                .contains("tls_fingerprint")
        );
        let key = Profile {
            password_env: None,
            key_file: Some("k".into()),
            ..p
        };
        assert!(
            Options::from_profile("p", &key)
                .unwrap_err()
                .to_string()
                .contains("password")
        );
    }
}
