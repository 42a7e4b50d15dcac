//! What every request shares: the configuration, sessions and login throttle, a few store
//! connections, the worklist computed once per change of the store, and the audit writer.

use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDate;

use super::auth::{Hosts, Sessions, Throttle};
use crate::config::Config;
use crate::ledger::owners::Owners;
use crate::ledger::worklist::{self, Filter, Item};
use crate::store::users::AuditEntry;
use crate::store::{Store, StoreError};

/// One audit row waiting for the writer.
#[derive(Debug, Clone)]
pub struct AuditMsg {
    pub user: Option<String>,
    pub address: Option<String>,
    pub event: String,
    pub detail: Option<String>,
    pub items: Option<String>,
}

/// The worklist as computed from one state of the store (every status; pages filter it).
pub struct Snapshot {
    pub version: i64,
    pub today: NaiveDate,
    pub items: Vec<Item>,
}

pub struct App {
    pub store_dir: PathBuf,
    pub profile: Option<String>,
    pub config: Config,
    pub tls: bool,
    pub hosts: Hosts,
    pub sessions: Sessions,
    pub throttle: Throttle,
    pool: Mutex<Vec<(Store, u64)>>,
    /// One connection kept only to read `data_version` (it never writes, so every commit,
    /// ours included, changes what it reads).
    watch: Mutex<Option<(Store, u64)>>,
    /// Per owner a list is for (None: the configured `[worklist] follow`): `--owner`'s list
    /// also holds that owner's warnings on accepted records.
    snapshot: Mutex<std::collections::HashMap<Option<crate::domain::Owner>, Arc<Snapshot>>>,
    audit_tx: Mutex<Option<mpsc::Sender<AuditMsg>>>,
    audit_writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// The inode of the database file: a rebuild swaps in a new file, and connections to the old
/// one must then be opened again.
fn db_inode(dir: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(dir.join("history.sqlite"))
        .map(|m| m.ino())
        .unwrap_or(0)
}

fn open(dir: &std::path::Path) -> Result<(Store, u64), StoreError> {
    let s = Store::open(dir)?;
    s.verify()?;
    Ok((s, db_inode(dir)))
}

impl App {
    pub fn new(
        store_dir: PathBuf,
        profile: Option<String>,
        config: Config,
        hosts: Hosts,
        tls: bool,
        idle: Duration,
    ) -> Result<App, StoreError> {
        let first = open(&store_dir)?;
        let (tx, rx) = mpsc::channel::<AuditMsg>();
        let dir = store_dir.clone();
        let writer = std::thread::Builder::new()
            .name("immdqa-audit".into())
            .spawn(move || audit_writer(&dir, rx))
            .map_err(|source| StoreError::Io {
                path: store_dir.clone(),
                source,
            })?;
        Ok(App {
            watch: Mutex::new(Some(open(&store_dir)?)),
            pool: Mutex::new(vec![first]),
            store_dir,
            profile,
            config,
            tls,
            hosts,
            sessions: Sessions::new(idle),
            throttle: Throttle::default(),
            snapshot: Mutex::new(Default::default()),
            audit_tx: Mutex::new(Some(tx)),
            audit_writer: Mutex::new(Some(writer)),
        })
    }

    /// Run `f` on a store connection from the pool (opened again after a rebuild).
    pub fn with_store<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let ino = db_inode(&self.store_dir);
        let taken = {
            let mut pool = self.pool.lock().unwrap();
            pool.retain(|(_, i)| *i == ino);
            pool.pop()
        };
        let (mut store, i) = match taken {
            Some(s) => s,
            None => open(&self.store_dir)?,
        };
        let out = f(&mut store);
        let mut pool = self.pool.lock().unwrap();
        if pool.len() < 4 {
            pool.push((store, i));
        }
        out
    }

    fn version(&self) -> Result<i64, StoreError> {
        let ino = db_inode(&self.store_dir);
        let mut w = self.watch.lock().unwrap();
        if w.as_ref().is_none_or(|(_, i)| *i != ino) {
            *w = Some(open(&self.store_dir)?);
        }
        let (s, i) = w.as_ref().expect("just opened");
        // a new file is a new history: its own counter starts again
        Ok(s.data_version()? ^ ((*i as i64) << 20))
    }

    /// The worklist (for `owner`, as `worklist --owner` lists it) as the store holds it now:
    /// computed again only when the store changed (one computation at a time; other requests
    /// wait for it and share it).
    pub fn snapshot(
        &self,
        owner: Option<crate::domain::Owner>,
    ) -> Result<Arc<Snapshot>, StoreError> {
        let today = chrono::Local::now().date_naive();
        let mut cached = self.snapshot.lock().unwrap();
        let version = self.version()?;
        cached.retain(|_, s| s.version == version && s.today == today);
        if let Some(s) = cached.get(&owner) {
            return Ok(s.clone());
        }
        let filter = Filter {
            all: true,
            owner,
            ..Filter::default()
        };
        let items = self.with_store(|store| {
            worklist::load(
                store,
                self.profile.as_deref(),
                &self.config.worklist,
                &Owners::new(&self.config.owners),
                &filter,
                today,
            )
        })?;
        let s = Arc::new(Snapshot {
            version,
            today,
            items,
        });
        cached.insert(owner, s.clone());
        Ok(s)
    }

    /// Queue an audit row (written by the audit thread, never waiting on an import).
    pub fn audit(&self, msg: AuditMsg) {
        if let Some(tx) = self.audit_tx.lock().unwrap().as_ref() {
            let _ = tx.send(msg);
        }
    }

    /// Write the queued audit rows and stop the writer (at shutdown).
    pub fn finish(&self) {
        drop(self.audit_tx.lock().unwrap().take());
        if let Some(h) = self.audit_writer.lock().unwrap().take() {
            let _ = h.join();
        }
    }

    /// Wait for the store lock up to 3 seconds (a `sync` holds it for its whole run).
    pub fn lock(&self) -> Result<crate::store::StoreLock, StoreError> {
        let until = std::time::Instant::now() + Duration::from_secs(3);
        loop {
            match crate::store::StoreLock::acquire(&self.store_dir) {
                Err(StoreError::Locked { .. }) if std::time::Instant::now() < until => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                other => return other,
            }
        }
    }

    /// The overdue period of the selected profile (the default one without a profile).
    pub fn overdue_days(&self) -> u32 {
        self.config
            .profile(self.profile.as_deref())
            .map(|(_, p)| p.report_overdue_days)
            .unwrap_or_else(|_| crate::config::Profile::default().report_overdue_days)
    }
}

/// The audit writer: every row in order; a busy store is waited for (rows are never
/// dropped while the process lives), a failing one retried and then reported.
fn audit_writer(dir: &std::path::Path, rx: mpsc::Receiver<AuditMsg>) {
    let mut store: Option<Store> = None;
    for m in rx {
        let mut tries = 0;
        loop {
            if store.is_none() {
                store = Store::open(dir).ok();
            }
            let e = AuditEntry {
                user: m.user.as_deref(),
                address: m.address.as_deref(),
                event: &m.event,
                detail: m.detail.as_deref(),
                items: m.items.as_deref(),
            };
            match store.as_mut().map(|s| s.audit(&e)) {
                Some(Ok(())) => break,
                other => {
                    tries += 1;
                    store = None;
                    if tries >= 30 {
                        tracing::error!(
                            "could not write an audit row ({}): {}",
                            m.event,
                            other
                                .and_then(|r| r.err())
                                .map(|e| e.to_string())
                                .unwrap_or_else(|| "the store would not open".into())
                        );
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        }
    }
}
