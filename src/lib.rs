//! immdqa: the ImmTrac2 (Texas Immunization Registry) data-quality companion.
//!
//! Data flows one way:
//!
//! ```text
//! transport (RemoteFs: SFTP | local dir) → sync (manifest diff, atomic download, archive)
//!     → store (SQLite history + content-addressed archive; SQL in queries/)
//! ```
//! Parsers, analytics, charts, reports and upload build on these (see the README's roadmap).
//!
//! Module map:
//! - [`config`]: the TOML configuration and its profiles (leaf).
//! - [`transport`]: the [`transport::RemoteFs`] trait, SFTP and local implementations.
//! - [`store`]: the SQLite history, migrations, archive and lock.
//! - [`sync`]: `fetch`, from a remote mailbox into the store.
//! - [`cli`]: the command line (the only module that prints).

pub mod batch_name;
pub mod cli;
pub mod config;
pub mod failpoint;
pub mod formats;
pub mod hl7;
pub mod store;
pub mod sync;
pub mod transport;
