//! The message ledger: every sent message joined to the registry's answer, and the worklist
//! built on it (README, "The message ledger").
//!
//! Sent batches arrive from `upload`, the accepted folder (fetched like the report folders)
//! and `import --sent`; `formats::sent` reads a batch into messages and vaccinations (the
//! sent batch is one more shape of file), the store keeps them (`store::ledger`) and links
//! each to its answer; [`owners`] says who fixes a code; [`worklist`] turns rejected and
//! followed messages into items to fix.

pub mod owners;
pub mod worklist;
