//! `immdqa demo`: the whole tool on a synthetic registry mailbox, with nothing to install.
//!
//! Generates a realistic mailbox for one invented organisation ([`generate`]), serves it from
//! an SFTP server embedded in the binary on 127.0.0.1 with a fresh host key
//! ([`sftp_server`]), pins that key, and runs the same fetch path users run, then the weekly
//! report. Uses: every library module.

pub mod generate;
pub mod sftp_server;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::formats::ParseOptions;
use crate::ingest;
use crate::mirror::{FetchOptions, FetchReport, NoProgress};
use crate::report;
use crate::store::Store;
use crate::transport::Retry;

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub weeks: u32,
    pub seed: u64,
    pub out: PathBuf,
    pub today: NaiveDate,
}

#[derive(Debug)]
pub struct DemoResult {
    pub generated: generate::Summary,
    pub fetch: FetchReport,
    pub parsed: ingest::IngestTotals,
    /// Open worklist items after the demo's fetch.
    pub worklist_open: usize,
    pub report: report::Built,
    pub store: PathBuf,
    pub config: PathBuf,
}

const MARKER: &str = ".immdqa-demo";

fn random_hex(n: usize) -> std::io::Result<String> {
    let mut b = vec![0u8; n];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut b)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Prepare `out` (refusing a non-empty folder that is not an earlier demo).
fn prepare(out: &Path) -> anyhow::Result<()> {
    if out.exists() && std::fs::read_dir(out)?.next().is_some() {
        anyhow::ensure!(
            out.join(MARKER).exists(),
            "{} exists and is not an earlier demo folder: choose another --out",
            out.display()
        );
        std::fs::remove_dir_all(out)?;
    }
    crate::store::archive::mkdir_private(out)?;
    std::fs::write(out.join(MARKER), "created by immdqa demo; safe to delete\n")?;
    Ok(())
}

/// The demo's configuration (absolute paths: it reads the same history from any folder). The
/// store is encrypted, like every new store: a random key beside the config, outside the
/// store, named in it.
fn write_config(
    out: &Path,
    store_dir: &Path,
    mailbox: &Path,
    import_code: &str,
) -> anyhow::Result<(PathBuf, crate::store::StoreKey)> {
    let key_file = out.join("immdqa-demo.key");
    crate::store::StoreKey::generate("the demo")?.write_new(&key_file)?;
    let key = crate::store::StoreKey::read(&key_file, "store_key_file of the demo")?;
    let config = out.join("immdqa-demo.toml");
    std::fs::write(
        &config,
        format!(
            "# The demo's history, to explore with other commands:\n#   immdqa --config {} trends\nstore = {:?}\n# the store is encrypted with this key (kept outside the store)\nstore_key_file = {:?}\n[profiles.demo]\nlocal_dir = {:?}\nimport_code = {:?}\n",
            config.display(),
            store_dir,
            key_file,
            mailbox,
            import_code
        ),
    )?;
    Ok((config, key))
}

/// Generate, serve over SFTP on 127.0.0.1, fetch, parse, report. `say` receives progress lines.
/// One attempt: the demo's server is this process, on loopback.
fn demo_retry() -> Retry {
    Retry {
        attempts: 1,
        first_delay: std::time::Duration::from_millis(200),
        stop_after_failures: 3,
    }
}

pub fn run(o: &DemoOptions, say: &mut dyn FnMut(String)) -> anyhow::Result<DemoResult> {
    prepare(&o.out)?;
    // absolute paths in the demo's config: it reads the same history whatever folder the
    // next command runs from (a config's relative paths are relative to its own folder)
    let out = std::fs::canonicalize(&o.out)?;
    let o = &DemoOptions { out, ..o.clone() };
    let mailbox = o.out.join("mailbox");
    let gopts = generate::Options::ending_this_week(o.weeks, o.seed, o.today);
    let generated = generate::generate(&mailbox, &gopts)?;
    say(format!(
        "1. generated a synthetic mailbox for {} (invented patients): {} weekly batches, {} messages, {} DQA reports, {} consent files, in {}",
        gopts.import_code,
        generated.batches,
        generated.messages,
        generated.report_files,
        generated.consent_files,
        mailbox.display()
    ));

    let host_key = sftp_server::fresh_host_key()?;
    let public = host_key.public_key().to_openssh()?;
    let password = random_hex(16)?;
    let mut sopts = sftp_server::ServerOptions::new(&mailbox, host_key);
    sopts.user = "demo".into();
    sopts.password = password.clone();
    let server = sftp_server::start(sopts)?;
    let port = server.port();
    let known_hosts = o.out.join("known_hosts");
    std::fs::write(
        &known_hosts,
        format!("[127.0.0.1]:{port} {}\n", public.trim()),
    )?;
    say(format!(
        "2. serving it over SFTP on 127.0.0.1:{port} with a fresh host key, pinned in {}",
        known_hosts.display()
    ));

    let store_dir = o.out.join("store");
    let (config, key) = write_config(&o.out, &store_dir, &mailbox, &gopts.import_code)?;
    let transport = crate::transport::Options::Sftp(crate::transport::sftp::SftpOptions {
        host: "127.0.0.1".into(),
        port,
        user: "demo".into(),
        auth: crate::transport::Auth::Password(crate::transport::Secret(password)),
        known_hosts,
        timeout: std::time::Duration::from_secs(30),
        retry: demo_retry(),
    });
    let mut store = Store::open(&store_dir, &crate::store::Keyring::with(key))?;
    let mut remote = transport.open()?;
    let done = ingest::fetch_and_parse(
        &mut store,
        remote.as_mut(),
        &FetchOptions {
            profile: "demo".into(),
            // the folders the generator wrote
            folders: vec![
                (crate::domain::Kind::Dqa, "DQA-Reports".into()),
                (crate::domain::Kind::Cnf, "Receive".into()),
                (crate::domain::Kind::Sent, "Accepted".into()),
            ],
            dry_run: false,
            max_file_size: 256 << 20,
            retry: demo_retry(),
            accepted_dir: Some("Accepted".into()),
        },
        &ParseOptions::default(),
        true,
        &NoProgress,
    )?;
    drop(remote);
    drop(server);
    let fetch = done.fetch;
    say(format!("3. {}", fetch.summary_line()));
    let parsed = ingest::totals(&done.parsed);
    say(format!(
        "4. parsed {} reports: {} findings, {} consent notices, {} quarantined; history in {}",
        parsed.parsed,
        parsed.findings,
        parsed.consent_rows,
        parsed.quarantined,
        store_dir.display()
    ));
    let def = report::definition("weekly")?;
    let built = report::build(
        &store,
        &def,
        "weekly",
        None,
        &o.out.join("report"),
        &report::Settings {
            thresholds: &crate::analytics::thresholds::Thresholds::default(),
            ledger: crate::analytics::thresholds::LedgerScope {
                today: o.today,
                overdue_days: crate::config::Profile::default().report_overdue_days,
            },
            worklist: &Default::default(),
            owners: &Default::default(),
            score: &Default::default(),
            registries: Default::default(),
        },
        None,
    )?;
    say(format!(
        "5. weekly report for {}: {} (its verdict: {}{})",
        crate::analytics::week_label(built.week),
        built.index.display(),
        built.verdict.level.as_str(),
        if built.verdict.level == crate::analytics::thresholds::Level::Ok {
            ""
        } else {
            ": the patterns the demo plants, as a real week would show them; the demo itself went well"
        }
    ));
    let items = crate::ledger::worklist::load(
        &store,
        None,
        &Default::default(),
        &crate::ledger::owners::Owners::new(&Default::default()),
        &crate::ledger::worklist::Filter::default(),
        o.today,
    )?;
    let by_owner: Vec<String> = crate::ledger::worklist::open_by_owner(&items)
        .into_iter()
        .map(|(owner, n)| format!("{n} {owner}"))
        .collect();
    let worklist_csv = built.index.with_file_name("worklist.csv");
    say(format!(
        "6. worklist: {} open record(s) to fix ({}), every item in {}",
        items.len(),
        by_owner.join(", "),
        worklist_csv.display(),
    ));
    Ok(DemoResult {
        generated,
        fetch,
        parsed,
        worklist_open: items.len(),
        report: built,
        store: store_dir,
        config,
    })
}
