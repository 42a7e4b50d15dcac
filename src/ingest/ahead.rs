//! The one read-ahead helper: a parser (any shape, sent batches included) works one file
//! ahead of the file being stored, streaming its records over a bounded channel, so parsing
//! and SQLite use two cores.

use std::sync::mpsc::SyncSender;

use crate::formats::{self, ParseOptions, Records};
use crate::store::crypt::Blob;

/// On a helper thread: for each item, `open` its input (None: the store side reports why it
/// cannot be read), send the item with the reading end of its records channel, then parse
/// the input into that channel. Stops when the store side hangs up.
pub(super) fn parse_ahead<T>(
    items: impl IntoIterator<Item = T>,
    open: impl Fn(&T) -> Option<(Blob, String, ParseOptions)>,
    tx: SyncSender<(T, Option<Records>)>,
) {
    for item in items {
        let Some((input, name, opts)) = open(&item) else {
            if tx.send((item, None)).is_err() {
                break;
            }
            continue;
        };
        let (sender, records) = formats::records_channel();
        if tx.send((item, Some(records))).is_err() {
            break; // the store side stopped
        }
        sender.parse(input, &name, &opts);
    }
}
