//! The command line: clap definitions, the shared context, dispatch and exit codes.
//!
//! The only module that prints. Each subcommand lives in `commands/<name>.rs` with its clap
//! `Args` and a `run(args, &Ctx)` that turns them into library options and calls one library
//! entry point. Exit codes are a contract (README, "Exit codes"): see [`Exit`].

/// `-q`: summaries of successful work are not printed (errors and failures still are).
pub(crate) static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `println!` unless `-q`: the summary lines of fetch, import, report, upload, ….
macro_rules! say {
    ($($t:tt)*) => {
        if !$crate::cli::QUIET.load(std::sync::atomic::Ordering::Relaxed) {
            $crate::cli::out!($($t)*);
        }
    };
}
pub(crate) use say;

/// `println!` to standard output, where a closed pipe (`immdqa worklist | head`) ends the
/// process quietly, as for other Unix tools — read from the write's `io::Error` kind, never
/// from a panic's text (`println!` would panic). SIGPIPE itself stays ignored (Rust's
/// default): a server that drops an FTPS or SFTP connection must be an error the run handles,
/// not a signal that kills it mid-transfer.
macro_rules! out {
    () => {
        $crate::cli::output::write_out(format_args!("\n"))
    };
    ($($t:tt)*) => {
        $crate::cli::output::write_out(format_args!("{}\n", format_args!($($t)*)))
    };
}
pub(crate) use out;

/// [`out!`] without the line end (prompts).
macro_rules! out_part {
    ($($t:tt)*) => {
        $crate::cli::output::write_out(format_args!($($t)*))
    };
}
pub(crate) use out_part;

pub mod choices;
pub mod commands;
mod ingest_summary;
pub mod output;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::config::{self, Config, Profile};
use crate::store::Store;

/// Exit codes: 0 ok, 1 thresholds warn, 2 thresholds fail, 3+ the run itself failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    Ok = 0,
    Warn = 1,
    Fail = 2,
    /// The run failed (bad configuration, connection refused, host key problem, …).
    Error = 3,
    /// The run completed but some files failed (see the summary).
    Partial = 4,
    /// Another immdqa process holds the store lock.
    Busy = 5,
    /// The command line is wrong (unknown option, missing value, contradicting options):
    /// nothing was done. EX_USAGE from sysexits.h, so cron can tell a typo from a failing week.
    Usage = 64,
}

impl Exit {
    /// The higher of two exits: one code for a run of several steps.
    pub fn max(self, other: Exit) -> Exit {
        if other as u8 > self as u8 {
            other
        } else {
            self
        }
    }
}

/// A command line that cannot be carried out as written (exit [`Exit::Usage`]).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Return a [`UsageError`] from a command.
macro_rules! usage {
    ($($t:tt)*) => {
        return Err($crate::cli::UsageError(format!($($t)*)).into())
    };
}
pub(crate) use usage;

/// When to colour log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    /// On a terminal, unless NO_COLOR is set
    Auto,
    Always,
    Never,
}

/// `--version`: the release, the commit it was built from and the build date.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("IMMDQA_COMMIT"),
    ", built ",
    env!("IMMDQA_BUILD_DATE"),
    ")"
);

/// The commands by what they are for, one line each (the top-level help; clap's own list
/// wraps long descriptions badly and cannot group). `help_lists_every_command` keeps it whole.
pub const COMMANDS_HELP: &str = "\
Exchange with the registry:
  fetch         download new registry files (DQA reports, consent files) and parse them
  upload        check batches and send them under the registry's name
  sync          the whole weekly exchange for cron: outbox, fetch, check, report
  lint          check HL7 batches before sending: what the registry would reject
  import        archive and parse files you downloaded yourself (or --sent batches)
  trust-host    show the server's key or certificate and pin it after you confirm

Analysis:
  status        what the history holds, the last fetch, the store's health
  check         threshold verdicts for a week: exit 0 ok, 1 warn/unknown, 2 fail
  report        the weekly report folder (HTML, charts, CSV)
  trends        findings per week by field, code, severity, site, vaccine, provider
  submissions   one row per batch: messages, accepted, rejected, answers
  changes       issues new, resolved and persisting against the period before
  chart         one chart as PNG or SVG
  export        tables for analysts as CSV or Parquet
  query         a named read-only SQL query over the history
  inspect       parse files without storing them: what immdqa reads in them
  explain       what a registry code means and how to fix it
  codes         the vaccine code sets (CVX, MVX, NDC): status, show a code, update from CDC
  completeness  the share of doses carrying each field a registry relies on, per week
  score         a scorecard per site and week: acceptance, completeness, timeliness, validity

Worklist and follow-ups:
  worklist      the records to fix, who fixes them, close/ignore/reopen/assign with notes
  consent       consent notices per week; --open: follow-ups still open

The team's workspace in a browser:
  serve         the worklist, this week and consent follow-ups as web pages
  user          who may sign in, with which role (dqo, compliance, analyst, admin)
  audit         who signed in, saw patient-level pages, and did what

Setup and maintenance:
  init          create a configuration (asks for what it needs)
  config        show, check or print the configuration
  demo          the whole tool on a synthetic mailbox, nothing to set up
  rebuild       recreate the history from the archive
  reparse       parse archived files again
  store         encrypt an existing store, or change its key (store encrypt, store rekey)
  completions   shell completions
  man           the manual page
  help          this help, or a command's (immdqa help worklist)";

#[derive(Debug, Parser)]
#[command(
    name = "immdqa",
    version = VERSION,
    about = "Fetch, parse and chart ImmTrac2 data quality reports and consent notifications",
    help_template = "{about}\n\n{usage-heading} {usage}\n\n{before-help}\n\nOptions:\n{options}\n\n{after-help}",
    before_help = COMMANDS_HELP,
    after_help = "Examples:\n  immdqa init                                 create a configuration (asks for what it needs)\n  immdqa fetch                                download new registry files and parse them\n  immdqa check || mail -s 'ImmTrac2 data quality' dq@example.org\n  immdqa report --out reports/this-week       the weekly report folder\n  immdqa trends --since 2025-W40 --format csv --out trends.csv\n\nExit codes: 0 ok, 1 warn or unknown, 2 fail, 3 run failed, 4 some files failed, 5 store busy, 64 usage error.\nConfiguration: immdqa init, or immdqa config default > ~/.config/immdqa/config.toml"
)]
pub struct Cli {
    /// Configuration file [default: the user's config dir, immdqa/config.toml]
    #[arg(long, global = true, env = "IMMDQA_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Profile (mailbox) to use [default: default_profile, or the only profile]
    #[arg(
        long,
        short = 'p',
        global = true,
        env = "IMMDQA_PROFILE",
        value_name = "NAME"
    )]
    pub profile: Option<String>,
    /// History folder [default: `store` from the config, or the user's data dir]
    #[arg(long, global = true, env = "IMMDQA_STORE", value_name = "DIR")]
    pub store: Option<PathBuf>,
    /// More log output (-v info, -vv debug); IMMDQA_LOG=... overrides
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print nothing on success (errors and failures still go to stderr): for cron
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
    /// Colour in log lines: auto (only on a terminal, and not with NO_COLOR), always, never
    #[arg(long, value_enum, global = true, default_value_t = Color::Auto, value_name = "WHEN")]
    pub color: Color,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Fetch(commands::fetch::Args),
    Status(commands::status::Args),
    /// Show, check or print the configuration (config check, config default, config path)
    #[command(subcommand)]
    Config(commands::config::ConfigCmd),
    TrustHost(commands::trust_host::Args),
    Import(commands::import::Args),
    Inspect(commands::inspect::Args),
    Explain(commands::explain::Args),
    Reparse(commands::reparse::Args),
    Rebuild(commands::rebuild::Args),
    Store(commands::store::Args),
    Codes(commands::codes::Args),
    Completeness(commands::completeness::Args),
    Score(commands::score::Args),
    Trends(commands::trends::Args),
    Submissions(commands::submissions::Args),
    Changes(commands::changes::Args),
    Consent(commands::consent::Args),
    Export(commands::export::Args),
    Query(commands::query::Args),
    Check(commands::check::Args),
    Chart(commands::chart::Args),
    Report(commands::report::Args),
    Upload(commands::upload::Args),
    Sync(commands::sync::Args),
    Lint(commands::lint::Args),
    Worklist(commands::worklist::Args),
    Serve(commands::serve::Args),
    User(commands::user::Args),
    Audit(commands::audit::Args),
    Demo(commands::demo::Args),
    Init(commands::init::Args),
    Completions(commands::completions::Args),
    Man(commands::completions::ManArgs),
}

/// Plain pages for this process: with transparent huge pages every short-lived large buffer
/// is 2 MiB pages the kernel zeroes first, which cost `lint` a third of its time (benchmark
/// B12) and the weekly report half of its (B6).
pub(crate) fn plain_pages() {
    // SAFETY: prctl with integer arguments; it changes nothing but this process's THP policy.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// What every command may need, loaded once by the dispatcher.
pub struct Ctx {
    pub config: Config,
    pub profile_flag: Option<String>,
    pub store_flag: Option<PathBuf>,
    pub quiet: bool,
    /// `-v` given (once or more): show steps even when not on a terminal.
    pub verbose: bool,
}

impl Ctx {
    /// The selected profile.
    pub fn profile(&self) -> anyhow::Result<(String, &Profile)> {
        Ok(self.config.profile(self.profile_flag.as_deref())?)
    }

    pub fn store_path(&self) -> anyhow::Result<PathBuf> {
        match &self.store_flag {
            Some(p) => Ok(p.clone()),
            None => Ok(self.config.store_path()?),
        }
    }

    /// Parser options from the configuration (header aliases).
    pub fn parse_options(&self) -> anyhow::Result<crate::formats::ParseOptions> {
        let aliases = crate::formats::tabular::Aliases::with_user(&self.config.aliases)
            .map_err(|m| anyhow::anyhow!("configuration: {m}"))?;
        Ok(crate::formats::ParseOptions {
            kind_hint: None,
            aliases,
        })
    }

    /// The profile every analysis is scoped to: the one named with --profile (an error when
    /// neither the configuration nor the history knows it), else `default_profile`, else the
    /// only profile; None (every profile, with the profile shown) when there are several and
    /// none is selected.
    pub fn analysis_profile(&self, store: &Store) -> anyhow::Result<Option<String>> {
        if let Some(name) = &self.profile_flag {
            if self.config.profiles.contains_key(name) || store.has_profile(name)? {
                return Ok(Some(name.clone()));
            }
            // the configuration's own message (names the file and the profiles it has)
            self.config.profile(Some(name))?;
            unreachable!("an unknown profile is an error");
        }
        if let Some(d) = &self.config.default_profile {
            return Ok(Some(d.clone()));
        }
        Ok((self.config.profiles.len() == 1)
            .then(|| self.config.profiles.keys().next().cloned())
            .flatten())
    }

    /// The history of the selected profile (every profile when none is selected).
    pub fn history(&self, store: &Store) -> anyhow::Result<crate::analytics::History> {
        let profile = self.analysis_profile(store)?;
        Ok(crate::analytics::History::load_scoped(
            store,
            profile.as_deref(),
        )?)
    }

    /// The selected profile resolved into what its transport needs: the one place a
    /// profile becomes transport options (the library never sees a profile).
    pub fn transport(&self) -> anyhow::Result<(String, crate::transport::Options)> {
        let (name, profile) = self.profile()?;
        let opts = crate::transport::Options::from_profile(&name, profile)?;
        Ok((name, opts))
    }

    /// Today and the selected profile's overdue period, for the ledger's check rules
    /// (without a profile, the default period).
    pub fn ledger_scope(&self) -> crate::analytics::thresholds::LedgerScope {
        crate::analytics::thresholds::LedgerScope {
            today: chrono::Local::now().date_naive(),
            overdue_days: self
                .profile()
                .map(|(_, p)| p.report_overdue_days)
                .unwrap_or_else(|_| crate::config::Profile::default().report_overdue_days),
        }
    }

    /// What a report is built with (thresholds, ledger scope, worklist and owners).
    pub fn report_settings(&self) -> crate::report::Settings<'_> {
        crate::report::Settings {
            thresholds: &self.config.thresholds,
            ledger: self.ledger_scope(),
            worklist: &self.config.worklist,
            owners: &self.config.owners,
            score: &self.config.score,
            registries: self.config.registries(),
        }
    }

    /// What `fetch` (and `sync`) do for the selected profile.
    pub fn fetch_options(&self, dry_run: bool) -> anyhow::Result<crate::mirror::FetchOptions> {
        let (name, p) = self.profile()?;
        Ok(crate::mirror::FetchOptions {
            profile: name,
            folders: p
                .fetch_folders()
                .iter()
                .map(|(k, d)| (*k, d.to_string()))
                .collect(),
            dry_run,
            max_file_size: p.max_file_size,
            retry: crate::transport::Retry::from_profile(p),
            accepted_dir: Some(p.accepted_dir.clone()),
        })
    }

    /// What `upload` (and `sync`) do for the selected profile; its import code names batches.
    pub fn upload_options(
        &self,
        date: Option<chrono::NaiveDate>,
        dry_run: bool,
        strict: bool,
    ) -> anyhow::Result<crate::upload::UploadOptions> {
        let (name, p) = self.profile()?;
        let import_code = p.import_code.clone().ok_or_else(|| {
            anyhow::anyhow!(
                "profile '{name}' has no import_code: it names the batches (<import_code><YY><DDD>.hl7)"
            )
        })?;
        let today = chrono::Local::now().date_naive();
        Ok(crate::upload::UploadOptions {
            profile: name,
            import_code,
            dropoff_dir: p.dropoff_dir.clone(),
            accepted_dir: p.accepted_dir.clone(),
            date: date.unwrap_or(today),
            today,
            dry_run,
            strict,
            same_day: p.same_day,
            retry: crate::transport::Retry::from_profile(p),
            max_size: p.max_file_size,
            registry: p.registry,
            codes: crate::vaccines::current(),
        })
    }

    /// The store key (IMMDQA_STORE_KEY_FILE, the config's `store_key_file`, a systemd
    /// credential), or where it was looked for. An interrupted `store encrypt` or `rekey` is
    /// finished first: a rekey's last step replaces the key file.
    pub fn keyring(&self) -> anyhow::Result<crate::store::Keyring> {
        let store = self.store_path()?;
        if crate::store::convert::pending(&store) {
            crate::store::convert::recover(&store)?;
        }
        Ok(crate::store::crypt::find_key(
            self.config.store_key_file.as_deref(),
            &self.config.label(),
            &store,
        )?)
    }

    /// Open (creating) the store.
    /// Every command reads and writes only a sound history: a damaged one is refused with
    /// the way out (`immdqa rebuild`), never read as if it were whole. The check is a stat of
    /// the database when it is unchanged since it was last known sound.
    pub fn open_store(&self) -> anyhow::Result<Store> {
        let path = self.store_path()?;
        let keys = self.keyring()?;
        if keys.key().is_none() && !path.join("history.sqlite").exists() {
            tracing::warn!(
                "creating the store {} unencrypted: no store key was found (looked for: {}); `immdqa store encrypt` encrypts it (`immdqa init` configures a key)",
                path.display(),
                keys.looked()
            );
        }
        let store = Store::open(&path, &keys)?;
        store.verify()?;
        Ok(store)
    }
}

fn init_logging(verbose: u8, quiet: bool, color: Color) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "immdqa=info",
        _ => "immdqa=debug",
    };
    let filter = EnvFilter::try_from_env("IMMDQA_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .try_init();
}

/// Map an error to its exit code: a held store lock is 5 (busy), whichever layer's error
/// wraps it (the store's errors travel transparently inside sync, ingest and upload errors,
/// so the chain shows the wrapper, not the store error).
fn exit_for(err: &anyhow::Error) -> Exit {
    use crate::store::StoreError;
    fn locked(e: Option<&StoreError>) -> bool {
        matches!(e, Some(StoreError::Locked { .. }))
    }
    for cause in err.chain() {
        if cause.downcast_ref::<UsageError>().is_some()
            || matches!(
                cause.downcast_ref(),
                Some(crate::analytics::AnalyticsError::Usage(_))
            )
        {
            return Exit::Usage;
        }
        let store = cause
            .downcast_ref::<StoreError>()
            .or_else(|| match cause.downcast_ref() {
                Some(crate::mirror::SyncError::Store(e)) => Some(e),
                _ => None,
            })
            .or_else(|| match cause.downcast_ref() {
                Some(crate::ingest::IngestError::Store(e)) => Some(e),
                Some(crate::ingest::IngestError::Fetch(crate::mirror::SyncError::Store(e))) => {
                    Some(e)
                }
                _ => None,
            })
            .or_else(|| match cause.downcast_ref() {
                Some(crate::upload::UploadError::Store(e)) => Some(e),
                _ => None,
            })
            .or_else(|| match cause.downcast_ref() {
                Some(crate::rebuild::RebuildError::Store(e)) => Some(e),
                Some(crate::rebuild::RebuildError::Ingest(crate::ingest::IngestError::Store(
                    e,
                ))) => Some(e),
                _ => None,
            });
        if locked(store) {
            return Exit::Busy;
        }
    }
    Exit::Error
}

pub fn main() -> ExitCode {
    // A closed pipe (`immdqa trends | head`) ends the process quietly: every line goes
    // through `out!`, which reads the write's error kind (no panic hook of its own: the only
    // one is the parsers' containment, formats::contained).
    // Everything immdqa writes may hold patient references (reports, exports, worklists,
    // the store): owner-only, like the store (README, "Security notes").
    // SAFETY: setting the process's file mode mask at start-up, before any thread exists.
    unsafe {
        libc::umask(0o077);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print to stdout and succeed; anything else is a usage error
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Ok
            } as u8);
        }
    };
    QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
    init_logging(cli.verbose, cli.quiet, cli.color);
    let code = match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("immdqa: error: {err:#}");
            exit_for(&err)
        }
    };
    if std::env::var_os("IMMDQA_REPORT_PEAK_RSS").is_some() {
        report_peak_rss();
    }
    ExitCode::from(code as u8)
}

/// Print this process's peak resident memory (VmHWM) to stderr: used by the memory tests and
/// benchmarks, which cannot get an exec'd child's own peak from rusage reliably.
fn report_peak_rss() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:")) {
        let kib: u64 = line
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        eprintln!("peak_rss_kib={kib}");
    }
}

fn load_config(explicit: Option<&PathBuf>) -> anyhow::Result<Config> {
    let (path, is_explicit) = match explicit {
        Some(p) => (p.clone(), true),
        None => (config::default_config_path()?, false),
    };
    let cfg = Config::load(&path, is_explicit)?;
    Ok(cfg)
}

pub fn run(cli: Cli) -> anyhow::Result<Exit> {
    // Commands that need no configuration return before it is read.
    match &cli.command {
        Command::Config(commands::config::ConfigCmd::Default) => {
            out_part!("{}", config::EXAMPLE_CONFIG);
            return Ok(Exit::Ok);
        }
        Command::Explain(a) => {
            // owners may be overridden in the config, and the vaccine code set updated in its
            // store; explain works without either
            let config = load_config(cli.config.as_ref()).unwrap_or_default();
            if let Some(store) = config
                .store_path()
                .ok()
                .filter(|s| crate::vaccines::saved::dir(s).exists())
                && let Ok(set) = crate::vaccines::saved::load(&store)
            {
                crate::vaccines::install(set);
            }
            return commands::explain::run(a, &config.owners);
        }
        Command::Demo(a) => return commands::demo::run(a),
        Command::Completions(a) => return commands::completions::run(a),
        Command::Man(a) => return commands::completions::man(a),
        Command::Init(_) => {
            let Command::Init(a) = cli.command else {
                unreachable!()
            };
            let path = match cli.config {
                Some(p) => p,
                None => config::default_config_path()?,
            };
            return commands::init::run(a, cli.profile, path);
        }
        _ => {}
    }
    let config = load_config(cli.config.as_ref()).context("loading the configuration")?;
    let ctx = Ctx {
        config,
        profile_flag: cli.profile,
        store_flag: cli.store,
        quiet: cli.quiet,
        verbose: cli.verbose > 0,
    };
    // vaccine names in every output come from the set `codes update` kept, when there is one
    if let Ok(store) = ctx.store_path()
        && crate::vaccines::saved::dir(&store).exists()
    {
        crate::vaccines::install(crate::vaccines::saved::load(&store)?);
    }
    match cli.command {
        Command::Fetch(a) => commands::fetch::run(a, &ctx),
        Command::Status(a) => commands::status::run(a, &ctx),
        Command::Config(c) => commands::config::run(c, &ctx),
        Command::TrustHost(a) => commands::trust_host::run(a, &ctx),
        Command::Import(a) => commands::import::run(a, &ctx),
        Command::Inspect(a) => commands::inspect::run(a, &ctx),
        Command::Reparse(a) => commands::reparse::run(a, &ctx),
        Command::Rebuild(a) => commands::rebuild::run(a, &ctx),
        Command::Store(a) => commands::store::run(a, &ctx),
        Command::Codes(a) => commands::codes::run(a, &ctx),
        Command::Completeness(a) => commands::completeness::run(a, &ctx),
        Command::Score(a) => commands::score::run(a, &ctx),
        Command::Trends(a) => commands::trends::run(a, &ctx),
        Command::Submissions(a) => commands::submissions::run(a, &ctx),
        Command::Changes(a) => commands::changes::run(a, &ctx),
        Command::Consent(a) => commands::consent::run(a, &ctx),
        Command::Export(a) => commands::export::run(a, &ctx),
        Command::Query(a) => commands::query::run(a, &ctx),
        Command::Check(a) => commands::check::run(a, &ctx),
        Command::Chart(a) => commands::chart::run(a, &ctx),
        Command::Report(a) => commands::report::run(a, &ctx),
        Command::Upload(a) => commands::upload::run(a, &ctx),
        Command::Sync(a) => commands::sync::run(a, &ctx),
        Command::Lint(a) => commands::lint::run(a, &ctx),
        Command::Worklist(a) => commands::worklist::run(a, &ctx),
        Command::Serve(a) => commands::serve::run(a, &ctx),
        Command::User(a) => commands::user::run(a, &ctx),
        Command::Audit(a) => commands::audit::run(a, &ctx),
        Command::Explain(_)
        | Command::Demo(_)
        | Command::Completions(_)
        | Command::Man(_)
        | Command::Init(_) => unreachable!("handled before the config is loaded"),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every option and argument of every command says what it does (help, man pages).
    #[test]
    fn no_option_without_a_description() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                let id = a.get_id().as_str();
                if matches!(id, "help" | "version") {
                    continue;
                }
                if a.get_help().is_none() && a.get_long_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_about().is_none() && sub.get_long_about().is_none() {
                    missing.push(format!("{path} {} (no about)", sub.get_name()));
                }
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&super::Cli::command(), "immdqa", &mut missing);
        assert!(missing.is_empty(), "without a description: {missing:#?}");
    }
}
