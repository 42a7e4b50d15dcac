//! Printing what an ingest did (shared by fetch, import and reparse).

use crate::ingest::{Ingested, Outcome, totals};

/// Hand each quarantined file's line (`quarantined FOLDER/REASON`) to `each`; returns how many.
pub fn quarantined_lines(items: &[Ingested], mut each: impl FnMut(String)) -> u64 {
    let mut n = 0;
    for i in items {
        if let Outcome::Quarantined { reason } = &i.outcome {
            each(format!("quarantined {}/{}", i.file.folder, reason));
            n += 1;
        }
    }
    n
}

/// Print quarantined files to stderr and a one-line summary to stdout; returns how many files
/// were quarantined.
pub fn print(verb: &str, items: &[Ingested]) -> u64 {
    for i in items {
        if let Outcome::Quarantined { reason } = &i.outcome {
            eprintln!("quarantined {}/{}", i.file.folder, reason);
        }
    }
    let t = totals(items);
    if items.is_empty() {
        return 0;
    }
    crate::cli::say!(
        "{verb}: {} parsed ({} findings, {} consent notices), {} already known, {} quarantined",
        t.parsed,
        t.findings,
        t.consent_rows,
        t.duplicates,
        t.quarantined
    );
    t.quarantined
}
