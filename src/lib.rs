//! immdqa: the ImmTrac2 (Texas Immunization Registry) data-quality companion.
//!
//! Data flows one way:
//!
//! ```text
//! transport (RemoteFs: SFTP | local dir) → sync (manifest diff, atomic download, archive)
//!     → formats (one parser per file shape) → ingest → store (SQLite history +
//!       content-addressed archive; SQL in queries/)
//!     → analytics (polars over a columnar cache) → charts (plotters) / table exports
//!     → report (index.html + PNG + CSV)
//! local batch → hl7::lint → upload → transport (beside fetch), recorded in the store
//! ```
//!
//! Module map:
//! - [`config`]: the TOML configuration and its profiles (leaf).
//! - [`transport`]: the [`transport::RemoteFs`] trait, SFTP and local implementations.
//! - [`store`]: the SQLite history, migrations, archive and lock.
//! - [`sync`]: `fetch`, from a remote mailbox into the store.
//! - [`hl7`]: HL7 v2 reading (segments, escapes, delimiters).
//! - [`formats`]: parsers for every known report shape, detection, the code catalogue.
//! - [`ingest`]: archived files → parsers → normalised rows, quarantine, import.
//! - [`rebuild`]: the history recreated from the archive and its index.
//! - [`batch_name`]: `<ImportCode><YY><DDD>.hl7` names.
//! - [`analytics`]: trends, submissions, changes, consent follow-ups, thresholds, exports.
//! - [`table`]: result tables rendered as terminal text, CSV, JSON or HTML.
//! - [`charts`]: the five chart kinds as PNG or SVG.
//! - [`report`]: report definitions (reports/*.toml) → a report folder.
//! - [`upload`]: naming, pre-flight checks, atomic transfer and history of uploads.
//! - [`demo`]: the synthetic mailbox and the embedded SFTP server of `immdqa demo`.
//! - [`failpoint`]: crash points for the crash-safety tests.
//! - [`cli`]: the command line (the only module that prints).

pub mod analytics;
pub mod batch_name;
pub mod charts;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod failpoint;
pub mod formats;
pub mod hl7;
pub mod ingest;
pub mod ledger;
pub mod outbox;
pub mod rebuild;
pub mod report;
pub mod store;
pub mod sync;
pub mod table;
pub mod transport;
pub mod upload;
