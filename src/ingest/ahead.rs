//! The one read-ahead helper: a parser (any shape, sent batches included) works one file
//! ahead of the file being stored, streaming its records over a bounded channel, so parsing
//! and SQLite use two cores.

use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::Scope;

use crate::formats::{self, ParseOptions, Records};
use crate::store::crypt::Blob;

/// On a helper thread of scope `s`: for each item, `open` its input (None: the store side
/// reports why it cannot be read), send the item with the reading end of its records channel,
/// then parse the input into that channel. The store side reads the returned channel, one
/// file behind; the helper stops when it hangs up.
pub(super) fn parse_ahead<'scope, T, I, F>(
    s: &'scope Scope<'scope, '_>,
    items: I,
    open: F,
) -> Receiver<(T, Option<Records>)>
where
    T: Send + 'scope,
    I: IntoIterator<Item = T> + Send + 'scope,
    F: Fn(&T) -> Option<(Blob, String, ParseOptions)> + Send + 'scope,
{
    let (tx, rx) = sync_channel::<(T, Option<Records>)>(1);
    s.spawn(move || {
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
    });
    rx
}
