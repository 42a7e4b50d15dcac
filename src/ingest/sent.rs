//! Sent batches into the message ledger: the store side of the sent-batch shape
//! (`formats::sent` reads it), and the record of a batch `upload` just sent.

use crate::formats::{self, Kind, ParseError, ParseOptions, SentMessage, Sink, SinkError, Summary};
use crate::store::ledger::{LedgerWriter, SentSource};
use crate::store::{FetchedFile, RemoteFileInfo, RunCounts, Store, StoreError};

use super::{IngestError, Ingested, Outcome, ingest_one};

/// Where a stored sent batch came from: an upload of the same content, a local import (an
/// absolute local folder), else the registry's accepted folder.
fn sent_source(store: &Store, file: &RemoteFileInfo) -> Result<SentSource, IngestError> {
    Ok(if store.is_uploaded(&file.sha256)? {
        SentSource::Upload
    } else if file.folder.starts_with('/') {
        SentSource::Import
    } else {
        SentSource::Accepted
    })
}

/// Store what `parse` reads of a sent batch (the sent-batch shape) as one ledger batch, all
/// or nothing, then link it to its answer. A file that is not an HL7 batch is quarantined
/// with the reason; a batch name the profile already has adds nothing (the registry's copy
/// of an upload).
pub(super) fn store_sent(
    store: &mut Store,
    file: RemoteFileInfo,
    parse: impl FnOnce(&mut dyn Sink) -> Result<Summary, ParseError>,
) -> Result<Ingested, IngestError> {
    let source = sent_source(store, &file)?;
    let Some(mut writer) =
        store.begin_sent_batch(&file.profile, &file.name, &file.sha256, source)?
    else {
        store.mark_parsed(&file.sha256)?;
        store.link_batch(&file.name)?;
        return Ok(Ingested {
            file,
            outcome: Outcome::Ledger { messages: 0 },
        });
    };
    let mut sink = LedgerSink {
        writer: &mut writer,
        error: None,
    };
    let read = parse(&mut sink);
    let store_error = sink.error.take();
    let outcome = match read {
        Ok(summary) => {
            let messages = writer.commit(summary.date)?;
            store.mark_parsed(&file.sha256)?;
            crate::failpoint::hit("sent_before_link");
            store.link_batch(&file.name)?;
            tracing::info!(
                "sent batch {}: {messages} message(s) in the ledger",
                file.name
            );
            Outcome::Ledger { messages }
        }
        Err(e) if e.is_quarantine() => {
            drop(writer); // rolls back
            store.mark_quarantined(&file.sha256, &e.reason())?;
            tracing::info!("quarantined {}: {}", file.name, e.reason());
            Outcome::Quarantined {
                reason: e.to_string(),
            }
        }
        Err(e) => {
            drop(writer);
            return Err(store_error.map_or(IngestError::Parse(e), IngestError::Store));
        }
    };
    Ok(Ingested { file, outcome })
}

/// The ledger's writer as the sink of the sent-batch shape (which has no findings).
struct LedgerSink<'a, 'w> {
    writer: &'a mut LedgerWriter<'w>,
    /// What the store said when it stopped taking messages.
    error: Option<StoreError>,
}

impl Sink for LedgerSink<'_, '_> {
    fn finding(&mut self, _: formats::Finding) -> Result<(), SinkError> {
        Ok(())
    }
    fn consent(&mut self, _: formats::ConsentNotice) -> Result<(), SinkError> {
        Ok(())
    }
    fn sent(&mut self, m: SentMessage) -> Result<(), SinkError> {
        self.writer.message(m).map_err(|e| {
            let text: SinkError = e.to_string().into();
            self.error = Some(e);
            text
        })
    }
}

/// Record a batch that was just sent (by `upload`) in the archive and the ledger.
pub fn record_sent_bytes(
    store: &mut Store,
    profile: &str,
    folder: &str,
    name: &str,
    data: &[u8],
) -> Result<Ingested, IngestError> {
    let stored = store
        .archive()
        .store_copy(data)
        .map_err(|source| IngestError::Local {
            path: store.dir().display().to_string(),
            source,
        })?;
    let run_id = store.begin_run(profile, "upload")?;
    let (_, id) = store.record_fetched(&FetchedFile {
        profile,
        folder,
        name,
        kind: Kind::Sent,
        mtime: chrono::Utc::now().timestamp(),
        stored: &stored,
        run_id,
    })?;
    store.finish_run(
        run_id,
        &RunCounts {
            new: 1,
            bytes: stored.size,
            ..RunCounts::default()
        },
    )?;
    ingest_one(store, id, &ParseOptions::default(), false)
}
