//! Printing what an ingest did (shared by fetch, import and reparse).

use crate::ingest::{Ingested, Outcome, totals};

/// What an ingest did, as lines: one per quarantined file (problems), and a one-line
/// summary (None when nothing was parsed); with the number quarantined.
pub struct Summary {
    pub quarantined: Vec<String>,
    pub line: Option<String>,
    pub count: u64,
}

pub fn summary(verb: &str, items: &[Ingested]) -> Summary {
    let quarantined: Vec<String> = items
        .iter()
        .filter_map(|i| match &i.outcome {
            Outcome::Quarantined { reason } => {
                Some(format!("quarantined {}/{}", i.file.folder, reason))
            }
            _ => None,
        })
        .collect();
    let t = totals(items);
    let line = (!items.is_empty()).then(|| {
        let ledger = if t.sent_batches > 0 {
            format!(
                ", {} sent batch(es) in the ledger ({} messages)",
                t.sent_batches, t.sent_messages
            )
        } else {
            String::new()
        };
        format!(
            "{verb}: {} parsed ({} findings, {} consent notices), {} already known, {} quarantined{ledger}",
            t.parsed, t.findings, t.consent_rows, t.duplicates, t.quarantined
        )
    });
    Summary {
        count: quarantined.len() as u64,
        quarantined,
        line,
    }
}

/// Print quarantined files to stderr and the summary to stdout (unless `-q`); returns how
/// many files were quarantined.
pub fn print(verb: &str, items: &[Ingested]) -> u64 {
    let s = summary(verb, items);
    for q in &s.quarantined {
        eprintln!("{q}");
    }
    if let Some(line) = &s.line {
        crate::cli::say!("{line}");
    }
    s.count
}
