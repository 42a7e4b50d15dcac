//! immdqa: the ImmTrac2 (Texas Immunization Registry) data-quality companion.
//!
//! Data flows one way:
//!
//! ```text
//! transport (RemoteFs: SFTP | FTPS | local dir) → mirror (manifest diff, atomic download, archive)
//!     → formats (one parser per file shape) → ingest → store (SQLite history +
//!       content-addressed archive + journals; SQL in queries/)
//!     → analytics (polars over a columnar cache) → charts (plotters) / table exports
//!     → report (index.html + PNG + CSV)
//! sent batches (upload, the accepted folder, import --sent) → formats::sent (one more shape)
//!     → ingest → store::ledger
//!     (every sent message joined to its answer) → ledger::worklist (what to fix, who fixes it)
//! outbox (complete batches) → hl7::lint → upload (intent, snapshot, atomic transfer, record)
//!     → transport, beside fetch
//! cli (the terminal) and serve (the browser) → the library above; neither holds logic the
//!     other needs
//! ```
//!
//! The boundaries are a test (`tests/boundaries.rs`): clap only in `cli/`, rusqlite only in
//! `store/`, polars only in `analytics/`, the store importing nothing above it, formats
//! nothing of the store, and each module doc's list of the modules it uses true.
//!
//! Module map:
//! - [`config`]: the TOML configuration and its profiles (leaf).
//! - [`domain`]: typed domain values (kinds, statuses, owners, roles, short texts, the sent
//!   message model, ISO weeks).
//! - [`transport`]: the [`transport::RemoteFs`] trait, SFTP, FTPS and local implementations,
//!   retries and the outage bound.
//! - [`store`]: the SQLite history, migrations, archive, journals (uploads, worklist and
//!   consent hand actions), the message ledger's tables, users and the audit trail, the lock;
//!   encryption at rest (SQLCipher, sealed archive and journal lines, the key) and the
//!   crash-safe `store encrypt`/`rekey`.
//! - [`mirror`]: `fetch`, the remote mailbox's report folders mirrored into the store.
//! - [`hl7`]: HL7 v2 reading (segments, escapes, delimiters) and [`hl7::lint`].
//! - [`vaccines`]: CDC's vaccine code sets (embedded, updatable): names, lint's facts.
//! - [`formats`]: parsers for every known report shape, detection, the code catalogue.
//! - [`ingest`]: archived files → parsers (one file ahead) → a report's rows or a sent
//!   batch's ledger messages, one transaction each; quarantine, import; answers linked to
//!   their sent batches (and relinked when a run stopped before).
//! - [`ledger`]: the message ledger's logic: owners, the worklist.
//! - [`rebuild`]: the history recreated from the archive and its journals, beside the old one.
//! - [`batch_name`]: `<ImportCode><YY><DDD>.hl7` names.
//! - [`analytics`]: trends, submissions, changes, consent follow-ups, thresholds, exports.
//! - [`table`]: result tables rendered as plain terminal columns, CSV, JSON or HTML.
//! - [`charts`]: the chart kinds as PNG or SVG.
//! - [`report`]: report definitions (reports/*.toml) → a report folder.
//! - [`exchange`]: the unattended weekly exchange (`immdqa sync`) as a library function.
//! - [`outbox`]: which batches in the outbox are complete, and where each goes after upload.
//! - [`upload`]: naming, pre-flight checks, exactly-once transfer and history of uploads.
//! - [`demo`]: the synthetic mailbox and the embedded SFTP server of `immdqa demo`.
//! - [`failpoint`]: crash and pause points for the crash-safety tests.
//! - [`serve`]: the web workspace (`immdqa serve`): sessions, roles, CSRF, TLS, pages, API.
//! - [`cli`]: the command line (the only module that prints; its choices map to domain values
//!   in `cli::choices`).

pub mod analytics;
pub mod batch_name;
pub(crate) mod charts;
pub mod cli;
pub mod config;
pub mod demo;
pub(crate) mod domain;
pub mod exchange;
pub(crate) mod failpoint;
pub mod formats;
pub mod hl7;
pub(crate) mod ingest;
pub(crate) mod ledger;
pub(crate) mod mirror;
pub(crate) mod outbox;
pub(crate) mod rebuild;
pub(crate) mod report;
pub mod serve;
pub mod store;
pub(crate) mod table;
pub(crate) mod transport;
pub(crate) mod upload;
pub(crate) mod vaccines;
