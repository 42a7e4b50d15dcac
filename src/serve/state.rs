//! What every request shares: the configuration, sessions and login throttle, a few store
//! connections, the worklist computed once per change of the store, and the audit writer.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDate;

use super::auth::{Hosts, Sessions, Throttle};
use crate::config::Config;
use crate::ledger::owners::Owners;
use crate::ledger::worklist::{self, Filter, Item};
use crate::store::Keyring;
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
    /// Every site of the items, sorted.
    pub sites: Vec<String>,
    /// The selections already made on this snapshot (a view's key → positions in `items`):
    /// the same page asked by many is filtered and sorted once.
    views: Mutex<std::collections::HashMap<String, Arc<Vec<usize>>>>,
}

impl Snapshot {
    fn new(version: i64, today: NaiveDate, items: Vec<Item>) -> Snapshot {
        let mut sites: Vec<String> = items.iter().map(|i| i.site.clone()).collect();
        sites.sort();
        sites.dedup();
        Snapshot {
            version,
            today,
            items,
            sites,
            views: Mutex::new(Default::default()),
        }
    }

    /// The positions of a view's items, in its order (computed once per view).
    pub fn select(&self, view: &super::pages::View) -> Arc<Vec<usize>> {
        let key = view.key();
        if let Some(v) = self.views.lock().unwrap().get(&key) {
            return v.clone();
        }
        let v = Arc::new(view.select(&self.items));
        let mut views = self.views.lock().unwrap();
        if views.len() >= 256 {
            views.clear();
        }
        views.insert(key, v.clone());
        v
    }
}

/// The worklist a request reads: the latest computed, and whether the store has changed
/// since (by another process: a new one is being computed in the background).
pub struct Current {
    pub snapshot: Arc<Snapshot>,
    pub stale: bool,
}

type HomeCache = std::collections::HashMap<(bool, NaiveDate), (i64, Arc<(bool, String)>)>;

type Snapshots = std::collections::HashMap<Option<crate::domain::Owner>, Arc<Snapshot>>;

pub struct App {
    pub store_dir: PathBuf,
    /// The store key (an encrypted store): every connection and the audit log use it.
    pub keys: Keyring,
    pub profile: Option<String>,
    pub config: Config,
    pub tls: bool,
    pub hosts: Hosts,
    pub sessions: Sessions,
    pub throttle: Throttle,
    pool: Mutex<Vec<(Store, u64)>>,
    /// One connection kept only to read `data_version` (it never writes, so every commit,
    /// ours included, changes what it reads).
    watch: Arc<Watch>,
    /// Per owner a list is for (None: the configured `[worklist] follow`): `--owner`'s list
    /// also holds that owner's warnings on accepted records.
    snapshots: Arc<Mutex<Snapshots>>,
    /// One computation at a time in the foreground.
    computing: Mutex<()>,
    /// A background computation is running.
    refreshing: Arc<std::sync::atomic::AtomicBool>,
    /// Bumped by this server's own changes: a background computation begun before one is
    /// not kept.
    generation: Arc<std::sync::atomic::AtomicU64>,
    /// "This week" as computed from one state of the history, per (patient references
    /// redacted, day): (version, has data, the body).
    home: Mutex<HomeCache>,
    /// The audit trail (its own database file: writing to it never waits on an import).
    audit_log: Mutex<Option<crate::store::users::AuditLog>>,
}

/// The inode of the database file: a rebuild swaps in a new file, and connections to the old
/// one must then be opened again.
fn db_inode(dir: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(dir.join("history.sqlite"))
        .map(|m| m.ino())
        .unwrap_or(0)
}

fn open(dir: &std::path::Path, keys: &Keyring) -> Result<(Store, u64), StoreError> {
    let s = Store::open(dir, keys)?;
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
        keys: Keyring,
    ) -> Result<App, StoreError> {
        let first = open(&store_dir, &keys)?;
        let audit_log = crate::store::users::AuditLog::open(&store_dir, keys.key())?;
        Ok(App {
            watch: Arc::new(Mutex::new(Some(open(&store_dir, &keys)?))),
            keys,
            pool: Mutex::new(vec![first]),
            store_dir,
            profile,
            config,
            tls,
            hosts,
            sessions: Sessions::new(idle),
            throttle: Throttle::default(),
            snapshots: Default::default(),
            computing: Mutex::new(()),
            refreshing: Default::default(),
            generation: Default::default(),
            home: Mutex::new(Default::default()),
            audit_log: Mutex::new(Some(audit_log)),
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
            None => open(&self.store_dir, &self.keys)?,
        };
        let out = f(&mut store);
        let mut pool = self.pool.lock().unwrap();
        if pool.len() < 4 {
            pool.push((store, i));
        }
        out
    }

    fn version(&self) -> Result<i64, StoreError> {
        version_of(&self.store_dir, &self.keys, &self.watch)
    }

    /// The worklist (for `owner`, as `worklist --owner` lists it). Computed once per change
    /// of the store and shared by every request. After a change by another process (a sync,
    /// the command line) the previous one is served, marked stale, while a new one is
    /// computed in the background: a page never waits on a computation it did not cause.
    /// After this server's own change ([`App::changed`]) the next request computes it.
    pub fn snapshot(&self, owner: Option<crate::domain::Owner>) -> Result<Current, StoreError> {
        use std::sync::atomic::Ordering;
        let today = chrono::Local::now().date_naive();
        let version = self.version()?;
        if let Some(s) = self.snapshots.lock().unwrap().get(&owner).cloned()
            && s.today == today
        {
            let stale = s.version != version;
            if stale && !self.refreshing.swap(true, Ordering::AcqRel) {
                let (map, flag, gen_now) = (
                    self.snapshots.clone(),
                    self.refreshing.clone(),
                    self.generation.clone(),
                );
                let generation = gen_now.load(Ordering::Acquire);
                let (dir, keys, profile, config, watch) = (
                    self.store_dir.clone(),
                    self.keys.clone(),
                    self.profile.clone(),
                    self.config.clone(),
                    self.watch.clone(),
                );
                std::thread::spawn(move || {
                    // below the writer's priority, and once its commits have settled: the
                    // import that changed the store is not slowed down by its readers
                    unsafe {
                        libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 10);
                    }
                    let version = settled(&dir, &keys, &watch, version);
                    if let Ok(s) = compute(
                        &dir,
                        &keys,
                        profile.as_deref(),
                        &config,
                        owner,
                        today,
                        version,
                    ) && gen_now.load(Ordering::Acquire) == generation
                    {
                        map.lock().unwrap().insert(owner, Arc::new(s));
                    }
                    flag.store(false, Ordering::Release);
                });
            }
            return Ok(Current { snapshot: s, stale });
        }
        let _one = self.computing.lock().unwrap();
        if let Some(s) = self.snapshots.lock().unwrap().get(&owner)
            && s.today == today
            && s.version == version
        {
            return Ok(Current {
                snapshot: s.clone(),
                stale: false,
            });
        }
        let s = Arc::new(compute(
            &self.store_dir,
            &self.keys,
            self.profile.as_deref(),
            &self.config,
            owner,
            today,
            version,
        )?);
        self.snapshots.lock().unwrap().insert(owner, s.clone());
        Ok(Current {
            snapshot: s,
            stale: false,
        })
    }

    /// "This week" (has data, body) for a reader who may (not) see patient references: made
    /// by `make` once per state of the history (the first view after a change pays for it,
    /// the others share it).
    pub fn home_body(
        &self,
        redact: bool,
        make: impl FnOnce() -> Result<(bool, String), StoreError>,
    ) -> Result<Arc<(bool, String)>, StoreError> {
        let today = chrono::Local::now().date_naive();
        let version = self.version()?;
        let mut cache = self.home.lock().unwrap();
        if let Some((v, body)) = cache.get(&(redact, today))
            && *v == version
        {
            return Ok(body.clone());
        }
        let body = Arc::new(make()?);
        cache.retain(|(_, d), (v, _)| *d == today && *v == version);
        cache.insert((redact, today), (version, body.clone()));
        Ok(body)
    }

    /// This server changed the store: the next request computes the worklist again (the one
    /// who acted sees the result of the action, never a stale list).
    pub fn changed(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.snapshots.lock().unwrap().clear();
    }

    /// Append an audit row before the answer goes out (a page of patient data is never shown
    /// without its row: the caller fails closed on an error).
    pub fn audit(&self, msg: AuditMsg) -> Result<(), StoreError> {
        let mut log = self.audit_log.lock().unwrap();
        if log.is_none() {
            *log = Some(crate::store::users::AuditLog::open(
                &self.store_dir,
                self.keys.key(),
            )?);
        }
        let e = AuditEntry {
            user: msg.user.as_deref(),
            address: msg.address.as_deref(),
            event: &msg.event,
            detail: msg.detail.as_deref(),
            items: msg.items.as_deref(),
        };
        let written = log.as_ref().expect("just opened").append(&e);
        if written.is_err() {
            *log = None; // opened again next time
        }
        written
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

/// The connection kept to read `data_version` (the numbers of one connection only compare
/// with each other).
type Watch = Mutex<Option<(Store, u64)>>;

/// The store's version as the watch connection reads it (a new database file, after a
/// rebuild, is a new history: its own counter starts again).
fn version_of(dir: &std::path::Path, keys: &Keyring, watch: &Watch) -> Result<i64, StoreError> {
    let ino = db_inode(dir);
    let mut w = watch.lock().unwrap();
    if w.as_ref().is_none_or(|(_, i)| *i != ino) {
        *w = Some(open(dir, keys)?);
    }
    let (s, i) = w.as_ref().expect("just opened");
    Ok(s.data_version()? ^ ((*i as i64) << 20))
}

/// Wait until the store has not changed for half a second (a run commits several times in a
/// row; at most 5 seconds): the version then.
fn settled(dir: &std::path::Path, keys: &Keyring, watch: &Watch, mut version: i64) -> i64 {
    let started = std::time::Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(500));
        match version_of(dir, keys, watch) {
            Ok(v) if v != version && started.elapsed() < Duration::from_secs(5) => version = v,
            _ => return version,
        }
    }
}

/// The worklist of the store in `dir` as of `version` (read before: a commit during the
/// computation makes the result stale at once, never wrongly fresh).
fn compute(
    dir: &std::path::Path,
    keys: &Keyring,
    profile: Option<&str>,
    config: &Config,
    owner: Option<crate::domain::Owner>,
    today: NaiveDate,
    version: i64,
) -> Result<Snapshot, StoreError> {
    let (store, _) = open(dir, keys)?;
    let filter = Filter {
        all: true,
        owner,
        ..Filter::default()
    };
    let items = worklist::load(
        &store,
        profile,
        &config.worklist,
        &Owners::new(&config.owners),
        &filter,
        today,
    )?;
    Ok(Snapshot::new(version, today, items))
}
