//! immdqa: the ImmTrac2 (Texas Immunization Registry) data-quality companion.
//!
//! Data flows one way:
//!
//! ```text
//! transport (RemoteFs: SFTP | local dir) → sync (manifest diff, atomic download, archive)
//!     → formats (one parser per file shape) → ingest → store (SQLite history +
//!       content-addressed archive; SQL in queries/)
//! ```
//! Parsers, analytics, charts, reports and upload build on these (see the README's roadmap).
//!
//! Module map:
//! - [`config`]: the TOML configuration and its profiles (leaf).
//! - [`transport`]: the [`transport::RemoteFs`] trait, SFTP and local implementations.
//! - [`store`]: the SQLite history, migrations, archive and lock.
//! - [`sync`]: `fetch`, from a remote mailbox into the store.
//! - [`hl7`]: HL7 v2 reading (segments, escapes, delimiters).
//! - [`formats`]: parsers for every known report shape, detection, the code catalogue.
//! - [`ingest`]: archived files → parsers → normalised rows, quarantine, import.
//! - [`batch_name`]: `<ImportCode><YY><DDD>.hl7` names.
//! - [`cli`]: the command line (the only module that prints).

pub mod analytics;
pub mod batch_name;
pub mod charts;
pub mod cli;
pub mod config;
pub mod demo;
pub mod failpoint;
pub mod formats;
pub mod hl7;
pub mod ingest;
pub mod report;
pub mod store;
pub mod sync;
pub mod table;
pub mod transport;
pub mod upload;
