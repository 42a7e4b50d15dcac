//! Configuration: the TOML file, its profiles, defaults and validation.
//!
//! Layers, lowest first: `impl Default` → the TOML file (`--config`, `IMMDQA_CONFIG`, or the
//! user's config dir) → `IMMDQA_STORE` / `IMMDQA_PROFILE` → command-line flags (applied by the
//! CLI). Relative paths in the file are resolved against the file's own folder, so a config
//! travels with the files it names. Secrets are never held here: a password comes from the
//! environment variable named by `password_env` (or, discouraged, a `password` key, refused when
//! the file is readable by others). Leaf module: uses nothing else in the crate.

mod analysis;

pub use analysis::{ScoreConfig, Thresholds};

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::domain::Kind;

/// The registry's recommended network timeout, in seconds.
pub const DEFAULT_TIMEOUT_SECS: u64 = 65;
/// Files larger than this are not downloaded (reported instead).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 256 * 1024 * 1024;

/// Errors loading or resolving configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}{}", if source.kind() == std::io::ErrorKind::NotFound { " (create one with `immdqa init`)" } else { "" })]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("no profile named '{name}' in {path} (profiles: {available})")]
    UnknownProfile {
        name: String,
        path: String,
        available: String,
    },
    #[error(
        "no profile selected: {path} has {count} profiles ({available}); pass --profile NAME or set default_profile"
    )]
    NoProfile {
        path: String,
        count: usize,
        available: String,
    },
    #[error("profile '{profile}': {message}")]
    Invalid { profile: String, message: String },
    #[error(
        "cannot find a home directory to place the default config and store; pass --config and set `store`"
    )]
    NoHome,
}

/// `[owners]`: code → owner overrides, and `[owners.people]`: who works an item by default.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OwnersConfig {
    /// `[owners.people]`: an owner (`front_desk`, `clinical`, …) or a site name → the user an
    /// item of that site or owner is assigned to unless someone assigned it by hand; a site
    /// wins over an owner.
    #[serde(default)]
    pub people: BTreeMap<String, String>,
    /// `CODE = "owner"`.
    #[serde(flatten)]
    pub codes: BTreeMap<String, crate::domain::Owner>,
}

/// `[serve]`: where the web workspace listens and what it answers to.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// ADDR:PORT (default 127.0.0.1:8470); anything but loopback needs `tls_cert`/`tls_key`.
    pub listen: Option<String>,
    /// PEM certificate chain and private key: the server then speaks HTTPS only.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Host names the server answers to besides the address it listens on (and `localhost`
    /// on loopback); any other Host header is refused (DNS rebinding).
    #[serde(default)]
    pub hosts: Vec<String>,
    /// A session ends after this many minutes without a request (default 30).
    pub idle_minutes: Option<f64>,
}

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Folder holding the local history (SQLite + archive). Default: the user's data dir.
    pub store: Option<PathBuf>,
    /// The key file of an encrypted store (64 hex digits, mode 0600, outside the store).
    /// `IMMDQA_STORE_KEY_FILE` overrides it; without either, a systemd credential
    /// `immdqa-store-key` is used. None of them: the store is not encrypted.
    pub store_key_file: Option<PathBuf>,
    /// Profile used when `--profile` is not given and there is more than one.
    pub default_profile: Option<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
    /// Extra header names for tabular reports: column role → header names
    /// (e.g. `field = ["Elemento HL7"]`). Roles: see the README.
    #[serde(default)]
    pub aliases: BTreeMap<String, Vec<String>>,
    /// Data quality thresholds (`check`, `report`).
    #[serde(default)]
    pub thresholds: Thresholds,
    /// `[score]`: the weights of the per-site scorecard (`immdqa score`, the report).
    #[serde(default)]
    pub score: ScoreConfig,
    /// `[worklist]`: which records become work items.
    #[serde(default)]
    pub worklist: WorklistConfig,
    /// `[owners]`: `CODE = "owner"` overrides the catalogue's owner of a code;
    /// `[owners.people]`: owner or site → the user items are assigned to by default.
    #[serde(default)]
    pub owners: OwnersConfig,
    /// `[serve]`: the web workspace (`immdqa serve`).
    #[serde(default)]
    pub serve: ServeConfig,
    /// Extra folder of named SQL queries for `immdqa query` (default: `queries/` next to the
    /// config file).
    pub queries_dir: Option<PathBuf>,
    /// Where the file was read from (None: built-in defaults).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// One registry mailbox: how to reach it and which folders mean what.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// `sftp` (default) or `ftps`.
    #[serde(default)]
    pub protocol: Protocol,
    pub host: Option<String>,
    /// Default: 22 for SFTP, 990 for implicit FTPS, 21 for explicit FTPS.
    pub port: Option<u16>,
    /// FTPS: `implicit` (default) or `explicit`.
    #[serde(default)]
    pub tls: Tls,
    /// FTPS: the server certificate's SHA-256 fingerprint (`SHA256:base64` or the colon hex
    /// `openssl x509 -fingerprint -sha256` prints). Enough on its own (a self-signed
    /// certificate works when pinned); a different certificate stops the run.
    pub tls_fingerprint: Option<String>,
    /// FTPS: extra trusted root certificates (PEM), besides the system's.
    pub ca_file: Option<PathBuf>,
    pub user: Option<String>,
    /// Private key for SSH public-key login.
    pub key_file: Option<PathBuf>,
    /// Name of an environment variable holding the key's passphrase.
    pub key_passphrase_env: Option<String>,
    /// Name of an environment variable holding the SSH password.
    pub password_env: Option<String>,
    /// A password written in the file itself (discouraged; refused if the file is readable by others).
    pub password: Option<String>,
    /// Use a local or mounted folder as the mailbox instead of SFTP.
    pub local_dir: Option<PathBuf>,
    /// OpenSSH-format known_hosts file used to verify the server. Default: `known_hosts` next
    /// to the config file.
    pub known_hosts: Option<PathBuf>,
    #[serde(default = "default_dqa_dir")]
    pub dqa_dir: String,
    #[serde(default = "default_receive_dir")]
    pub receive_dir: String,
    #[serde(default = "default_accepted_dir")]
    pub accepted_dir: String,
    #[serde(default = "default_dropoff_dir")]
    pub dropoff_dir: String,
    pub import_code: Option<String>,
    /// Connect and read timeout, seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// How many times a transient failure (connect, dropped connection) is retried.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// First back-off delay in milliseconds; doubles on each retry.
    #[serde(default = "default_retry_delay_ms")]
    pub retry_delay_ms: u64,
    /// Stop a run after this many files in a row failed on the connection (0 = never).
    #[serde(default = "default_stop_after_failures")]
    pub stop_after_failures: u32,
    /// Files larger than this many bytes are skipped and reported.
    #[serde(default = "default_max_file_size")]
    pub max_file_size: u64,
    /// A second upload on the same day: "sequence" (.1, .2, …) or "refuse".
    #[serde(default)]
    pub same_day: crate::batch_name::SameDay,
    /// Flag an upload with no DQA report after this many days.
    #[serde(default = "default_report_overdue_days")]
    pub report_overdue_days: u32,
    /// Whose lint rules apply: "texas" (ImmTrac2's, the default) or "generic" (CDC IG 1.5 only).
    #[serde(default)]
    pub registry: Registry,
    /// Fetch the accepted folder's batches into the message ledger (false: only note their
    /// names, for upload naming).
    #[serde(default = "default_true")]
    pub fetch_accepted: bool,
    /// `immdqa sync`: the folder the EHR writes batches to (sent ones go to `outbox/sent/`).
    pub outbox: Option<PathBuf>,
    /// When an outbox batch counts as complete: "complete" (its BHS/BTS, FHS/FTS counts match
    /// its messages, or a `NAME.done` marker sits beside it; the default) or "settle" (also
    /// any file unchanged for `sync --settle` seconds).
    #[serde(default)]
    pub outbox_ready: OutboxReady,
    /// `immdqa sync`: where each completed week's report is written (`report_dir/<ISO week>/`).
    pub report_dir: Option<PathBuf>,
}

/// When an outbox file is complete enough to send (see [`Profile::outbox_ready`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxReady {
    /// A wrapped batch whose trailer counts match its messages, or a `NAME.done` marker.
    #[default]
    Complete,
    /// As `Complete`, or unchanged for `--settle` seconds (an unwrapped batch without a marker).
    Settle,
}

/// Which registry's lint rules apply to a profile's batches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Registry {
    /// CDC HL7 2.5.1 Immunization IG release 1.5 rules only (every registry).
    Generic,
    /// ImmTrac2 (Texas): the generic rules plus consent, NK1, ORC-12, OBX-14 and address.
    #[default]
    Texas,
}

impl Registry {
    pub fn as_str(self) -> &'static str {
        match self {
            Registry::Generic => "generic",
            Registry::Texas => "texas",
        }
    }
}

fn default_stop_after_failures() -> u32 {
    3
}
fn default_report_overdue_days() -> u32 {
    3
}

fn default_true() -> bool {
    true
}
fn default_dqa_dir() -> String {
    "DQA-Reports".into()
}
fn default_receive_dir() -> String {
    "Receive".into()
}
fn default_accepted_dir() -> String {
    "Accepted".into()
}
fn default_dropoff_dir() -> String {
    "HL7-Dropoff".into()
}
fn default_timeout() -> u64 {
    DEFAULT_TIMEOUT_SECS
}
fn default_retries() -> u32 {
    2
}
fn default_retry_delay_ms() -> u64 {
    2_000
}
fn default_max_file_size() -> u64 {
    DEFAULT_MAX_FILE_SIZE
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            protocol: Protocol::default(),
            host: None,
            port: None,
            tls: Tls::default(),
            tls_fingerprint: None,
            ca_file: None,
            user: None,
            key_file: None,
            key_passphrase_env: None,
            password_env: None,
            password: None,
            local_dir: None,
            known_hosts: None,
            dqa_dir: default_dqa_dir(),
            receive_dir: default_receive_dir(),
            accepted_dir: default_accepted_dir(),
            fetch_accepted: true,
            dropoff_dir: default_dropoff_dir(),
            import_code: None,
            timeout_secs: default_timeout(),
            retries: default_retries(),
            retry_delay_ms: default_retry_delay_ms(),
            max_file_size: default_max_file_size(),
            stop_after_failures: default_stop_after_failures(),
            same_day: Default::default(),
            report_overdue_days: default_report_overdue_days(),
            registry: Registry::default(),
            outbox: None,
            outbox_ready: OutboxReady::default(),
            report_dir: None,
        }
    }
}

// Debug by hand so a password can never reach a log line through `{:?}`.
impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Profile")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("key_file", &self.key_file)
            .field("password_env", &self.password_env)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("local_dir", &self.local_dir)
            .field("known_hosts", &self.known_hosts)
            .field("dqa_dir", &self.dqa_dir)
            .field("receive_dir", &self.receive_dir)
            .finish_non_exhaustive()
    }
}

impl Profile {
    /// The remote folders fetched, with the kind of file each holds (the accepted folder's
    /// batches feed the ledger unless `fetch_accepted = false`).
    pub fn fetch_folders(&self) -> Vec<(Kind, &str)> {
        let mut v = vec![
            (Kind::Dqa, self.dqa_dir.as_str()),
            (Kind::Cnf, self.receive_dir.as_str()),
        ];
        if self.fetch_accepted {
            v.push((Kind::Sent, self.accepted_dir.as_str()));
        }
        v
    }
}

/// Which lint rules each profile's batches follow (a profile not named: the default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registries(pub BTreeMap<String, Registry>);

impl Registries {
    pub fn of(&self, profile: &str) -> Registry {
        self.0.get(profile).copied().unwrap_or_default()
    }
}

/// `[worklist]`: what becomes a work item besides rejected messages.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorklistConfig {
    /// Codes that are FYI only: dropped from the worklist and the counts built on it.
    pub ignore_codes: Vec<String>,
    /// Owners whose warnings you follow: an accepted message with a finding of one of these
    /// owners becomes a work item too (rejected messages always do).
    pub follow: Vec<crate::domain::Owner>,
}

/// How a profile reaches its mailbox.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// SFTP (SSH), the host key checked against known_hosts.
    #[default]
    Sftp,
    /// FTP over TLS, the certificate checked against the system roots or a pinned fingerprint.
    Ftps,
}

/// How an FTPS connection starts TLS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tls {
    /// TLS from the first byte (port 990; the registry's setting).
    #[default]
    Implicit,
    /// `AUTH TLS` on a plain connection (port 21).
    Explicit,
}

/// Set keys of `[profiles.NAME]` in the config file: a key already in the table is
/// replaced on its line, a new one goes right after the table's header; the rest of the file,
/// comments included, is kept. The result is parsed before it replaces the file, which keeps
/// its permissions.
pub fn set_profile_keys(
    path: &Path,
    profile: &str,
    keys: &[(&str, &str)],
) -> Result<(), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let header = |l: &str| {
        let t = l.trim();
        t == format!("[profiles.{profile}]") || t == format!("[profiles.\"{profile}\"]")
    };
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let Some(at) = lines.iter().position(|l| header(l)) else {
        return Err(ConfigError::Invalid {
            profile: profile.to_string(),
            message: format!("no [profiles.{profile}] table in {}", path.display()),
        });
    };
    for (key, value) in keys {
        let end = lines[at + 1..]
            .iter()
            .position(|l| l.trim_start().starts_with('['))
            .map(|n| at + 1 + n)
            .unwrap_or(lines.len());
        let line = format!("{key} = {value:?}");
        let existing = (at + 1..end).find(|&i| {
            lines[i]
                .split_once('=')
                .is_some_and(|(k, _)| k.trim() == *key)
        });
        match existing {
            Some(i) => lines[i] = line,
            None => lines.insert(at + 1, line),
        }
    }
    let new = lines.join("\n") + "\n";
    Config::from_toml(&new, path)?;
    let tmp = path.with_extension("toml.immdqa-tmp");
    let io = |source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    };
    let perms = std::fs::metadata(path).map_err(io)?.permissions();
    std::fs::write(&tmp, new).map_err(io)?;
    std::fs::set_permissions(&tmp, perms).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// Pin an FTPS certificate: `tls_fingerprint = "…"` in `[profiles.NAME]`.
pub fn pin_tls_fingerprint(
    path: &Path,
    profile: &str,
    fingerprint: &str,
) -> Result<(), ConfigError> {
    set_profile_keys(path, profile, &[("tls_fingerprint", fingerprint)])
}

/// The default config file location (`<config dir>/immdqa/config.toml`).
pub fn default_config_path() -> Result<PathBuf, ConfigError> {
    let dirs = directories::ProjectDirs::from("", "", "immdqa").ok_or(ConfigError::NoHome)?;
    Ok(dirs.config_dir().join("config.toml"))
}

/// The default store location (`<data dir>/immdqa`).
pub fn default_store_path() -> Result<PathBuf, ConfigError> {
    let dirs = directories::ProjectDirs::from("", "", "immdqa").ok_or(ConfigError::NoHome)?;
    Ok(dirs.data_dir().to_path_buf())
}

/// `~`, `~/…`, `$HOME`, `$HOME/…`, `${HOME}/…` → under `home`; None when `p` starts with none
/// of them (`~user` is not expanded: say the full path).
pub fn expand_home(p: &Path, home: &Path) -> Option<PathBuf> {
    let s = p.to_str()?;
    for prefix in ["~", "$HOME", "${HOME}"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            if rest.is_empty() {
                return Some(home.to_path_buf());
            }
            if let Some(rest) = rest.strip_prefix('/') {
                return Some(home.join(rest));
            }
        }
    }
    None
}

impl Config {
    /// Parse a config from TOML text; `origin` names the file in errors and anchors relative paths.
    pub fn from_toml(text: &str, origin: &Path) -> Result<Config, ConfigError> {
        let mut cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_path_buf(),
            message: e.message().to_string()
                + &e.span()
                    .map(|s| format!(" (at line {})", line_of(text, s.start)))
                    .unwrap_or_default(),
        })?;
        let base = origin
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        cfg.resolve_relative_paths(&base);
        cfg.source = Some(origin.to_path_buf());
        let problems = cfg.score.problems();
        if !problems.is_empty() {
            return Err(ConfigError::Parse {
                path: origin.to_path_buf(),
                message: problems.join("; "),
            });
        }
        Ok(cfg)
    }

    /// Every profile's lint rules.
    pub fn registries(&self) -> Registries {
        Registries(
            self.profiles
                .iter()
                .map(|(k, p)| (k.clone(), p.registry))
                .collect(),
        )
    }

    /// Read a config file. A missing file at the *default* location yields an empty config.
    pub fn load(path: &Path, explicit: bool) -> Result<Config, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Config::from_toml(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => Ok(Config {
                source: None,
                ..Config::default()
            }),
            Err(source) => Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Every path of the config: `~` and `$HOME` (`${HOME}`) at its start are the user's home
    /// folder, as a shell would read them; what is still relative is relative to the config
    /// file's folder.
    fn resolve_relative_paths(&mut self, base: &Path) {
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .or_else(|| directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf()));
        let fix = |p: &mut PathBuf| {
            if let Some(home) = &home
                && let Some(expanded) = expand_home(p, home)
            {
                *p = expanded;
            }
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(s) = self.store.as_mut() {
            fix(s);
        }
        if let Some(q) = self.queries_dir.as_mut() {
            fix(q);
        }
        if let Some(k) = self.store_key_file.as_mut() {
            fix(k);
        }
        for profile in self.profiles.values_mut() {
            for p in [
                profile.key_file.as_mut(),
                profile.local_dir.as_mut(),
                profile.known_hosts.as_mut(),
                profile.ca_file.as_mut(),
                profile.outbox.as_mut(),
                profile.report_dir.as_mut(),
            ]
            .into_iter()
            .flatten()
            {
                fix(p);
            }
            if profile.known_hosts.is_none() {
                profile.known_hosts = Some(base.join("known_hosts"));
            }
        }
    }

    /// Refuse a config file that holds a password but can be read by group or others.
    pub fn check_secret_permissions(&self) -> Result<(), ConfigError> {
        use std::os::unix::fs::PermissionsExt;
        let Some(path) = &self.source else {
            return Ok(());
        };
        let holders: Vec<&str> = self
            .profiles
            .iter()
            .filter(|(_, p)| p.password.is_some())
            .map(|(n, _)| n.as_str())
            .collect();
        if holders.is_empty() {
            return Ok(());
        }
        let mode = std::fs::metadata(path)
            .map(|m| m.permissions().mode())
            .unwrap_or(0);
        if mode & 0o077 != 0 {
            return Err(ConfigError::Invalid {
                profile: holders.join(", "),
                message: format!(
                    "{} holds a password but is readable by others (mode {:o}); run `chmod 600 {}` or use password_env",
                    path.display(),
                    mode & 0o777,
                    path.display()
                ),
            });
        }
        Ok(())
    }

    fn source_label(&self) -> String {
        self.source
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "the configuration".into())
    }

    /// Pick a profile: the one named, else `default_profile`, else the only one.
    pub fn profile(&self, name: Option<&str>) -> Result<(String, &Profile), ConfigError> {
        let available = || self.profiles.keys().cloned().collect::<Vec<_>>().join(", ");
        let chosen = name
            .map(str::to_string)
            .or_else(|| self.default_profile.clone())
            .or_else(|| {
                (self.profiles.len() == 1).then(|| self.profiles.keys().next().unwrap().clone())
            });
        let Some(chosen) = chosen else {
            return Err(ConfigError::NoProfile {
                path: self.source_label(),
                count: self.profiles.len(),
                available: if self.profiles.is_empty() {
                    "none; create one with `immdqa init`, or see `immdqa config default`".into()
                } else {
                    available()
                },
            });
        };
        match self.profiles.get(&chosen) {
            Some(p) => Ok((chosen, p)),
            None => Err(ConfigError::UnknownProfile {
                name: chosen,
                path: self.source_label(),
                available: available(),
            }),
        }
    }

    /// Where this configuration came from, for messages.
    pub fn label(&self) -> String {
        self.source_label()
    }

    /// The store folder: `store` from the file, else the user's data dir.
    pub fn store_path(&self) -> Result<PathBuf, ConfigError> {
        match &self.store {
            Some(p) => Ok(p.clone()),
            None => default_store_path(),
        }
    }
}

/// Set a top-level string key in the config file at `path` (replacing its line, else added
/// before the first table), keeping every other line and the file's mode; written to a temp
/// file and renamed, and checked to parse first.
pub fn set_top_level(path: &Path, key: &str, value: &str) -> Result<(), ConfigError> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let read = |source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    };
    let text = std::fs::read_to_string(path).map_err(read)?;
    let line = format!("{key} = {}", toml::Value::String(value.to_string()));
    let mut out = Vec::new();
    let mut placed = false;
    let mut in_table = false;
    for l in text.lines() {
        let t = l.trim_start();
        if t.starts_with('[') {
            if !placed {
                out.push(line.clone());
                placed = true;
            }
            in_table = true;
        }
        let is_key = !in_table
            && t.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='));
        if is_key {
            if !placed {
                out.push(line.clone());
                placed = true;
            }
            continue;
        }
        out.push(l.to_string());
    }
    if !placed {
        out.push(line);
    }
    let body = out.join("\n") + "\n";
    Config::from_toml(&body, path)?;
    let mode = std::fs::metadata(path).map_err(read)?.permissions().mode() & 0o777;
    let tmp = path.with_extension("toml.tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .map_err(read)?;
    f.write_all(body.as_bytes()).map_err(read)?;
    f.sync_all().map_err(read)?;
    std::fs::rename(&tmp, path).map_err(read)
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The commented example configuration shipped in examples/ and printed by `config default`.
pub const EXAMPLE_CONFIG: &str = include_str!("../../examples/immdqa.example.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_top_level_key_is_set_in_place_keeping_every_other_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "# mine\nstore = \"s\"\n\n[profiles.t]\nlocal_dir = \"m\"\n",
        )
        .unwrap();
        set_top_level(&p, "store_key_file", "/k/store.key").unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(
            text,
            "# mine\nstore = \"s\"\n\nstore_key_file = \"/k/store.key\"\n[profiles.t]\nlocal_dir = \"m\"\n"
        );
        set_top_level(&p, "store_key_file", "/other").unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.matches("store_key_file").count(), 1, "{text}");
        assert!(text.contains("store_key_file = \"/other\""));
        let cfg = Config::load(&p, true).unwrap();
        assert_eq!(cfg.store_key_file.as_deref(), Some(Path::new("/other")));
    }

    #[test]
    fn example_config_parses() {
        let cfg = Config::from_toml(EXAMPLE_CONFIG, Path::new("/etc/immdqa/config.toml")).unwrap();
        let (name, p) = cfg.profile(None).unwrap();
        assert_eq!(name, "registry");
        assert_eq!(p.port, Some(22));
        assert_eq!(p.dqa_dir, "DQA-Reports");
        assert_eq!(p.protocol, Protocol::Sftp);
        assert_eq!(cfg.worklist.follow, vec![crate::domain::Owner::FrontDesk]);
        assert_eq!(
            cfg.owners.codes.get("IEE-526"),
            Some(&crate::domain::Owner::Interface)
        );
        assert_eq!(cfg.thresholds.min_site_messages, 10);
    }

    /// `report_dir = "~/dq"` is under the home folder, not `<config folder>/~/dq`.
    #[test]
    fn home_is_expanded_in_every_path() {
        let home = Path::new("/home/ann");
        assert_eq!(expand_home(Path::new("~/dq"), home), Some(home.join("dq")));
        assert_eq!(expand_home(Path::new("~"), home), Some(home.to_path_buf()));
        assert_eq!(
            expand_home(Path::new("$HOME/.ssh/id"), home),
            Some(home.join(".ssh/id"))
        );
        assert_eq!(
            expand_home(Path::new("${HOME}/x"), home),
            Some(home.join("x"))
        );
        assert_eq!(expand_home(Path::new("~ann/x"), home), None);
        assert_eq!(expand_home(Path::new("/abs/~"), home), None);
        let cfg = Config::from_toml(
            "store = \"~/immdqa-store\"\n[profiles.a]\nhost = \"h\"\nuser = \"u\"\nkey_file = \"~/.ssh/id_ed25519\"\nreport_dir = \"$HOME/dq\"\noutbox = \"out\"\n",
            Path::new("/etc/immdqa/config.toml"),
        )
        .unwrap();
        let home = PathBuf::from(std::env::var_os("HOME").unwrap());
        let p = &cfg.profiles["a"];
        assert_eq!(
            cfg.store.as_deref(),
            Some(home.join("immdqa-store").as_path())
        );
        assert_eq!(
            p.key_file.as_deref(),
            Some(home.join(".ssh/id_ed25519").as_path())
        );
        assert_eq!(p.report_dir.as_deref(), Some(home.join("dq").as_path()));
        assert_eq!(p.outbox.as_deref(), Some(Path::new("/etc/immdqa/out")));
    }

    #[test]
    fn unknown_key_is_reported_with_line() {
        let err = Config::from_toml(
            "[profiles.a]\nhost = \"h\"\nprot = 22\n",
            Path::new("c.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("c.toml") && err.contains("prot"), "{err}");
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn profile_selection() {
        let cfg = Config::from_toml(
            "[profiles.a]\nlocal_dir='x'\n[profiles.b]\nlocal_dir='y'\n",
            Path::new("c.toml"),
        )
        .unwrap();
        assert!(matches!(
            cfg.profile(None),
            Err(ConfigError::NoProfile { count: 2, .. })
        ));
        assert_eq!(cfg.profile(Some("b")).unwrap().0, "b");
        let err = cfg.profile(Some("zz")).unwrap_err().to_string();
        assert!(err.contains("zz") && err.contains("a, b"), "{err}");
    }

    #[test]
    fn debug_never_shows_password() {
        let p = Profile {
            password: Some("hunter2".into()),
            ..Profile::default()
        };
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
