//! What validity (lint findings per 1,000 messages, per site and week) reads from the store:
//! the sent batches of a range of weeks and where each of their messages came from. The lint
//! itself runs in analytics, over the archived batch.

use super::ledger::Weeks;
use super::{Store, StoreError};

/// A sent batch of the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentBatchRef {
    pub id: i64,
    pub profile: String,
    pub name: String,
    /// The archived file's content hash.
    pub sha256: String,
    /// When it was sent (the name's YYDDD, else MSH-7), when known.
    pub sent_on: Option<chrono::NaiveDate>,
}

/// One message of a sent batch: its 1-based position, week (Monday, ISO) and site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSite {
    pub index: u64,
    pub week: String,
    pub site: String,
}

impl Store {
    /// The sent batches holding messages of the weeks (both ends needed), oldest first.
    pub fn sent_batches_of_weeks(
        &self,
        profile: Option<&str>,
        (first, last): Weeks,
    ) -> Result<Vec<SentBatchRef>, StoreError> {
        let monday =
            |d: Option<chrono::NaiveDate>| d.map(|d| crate::domain::week_start(d).to_string());
        let (first, last) = (
            monday(first).unwrap_or_else(|| "0000-01-01".into()),
            monday(last).unwrap_or_else(|| "9999-12-31".into()),
        );
        self.rows(
            include_str!("../../queries/store/sent_batches_of_weeks.sql"),
            rusqlite::params![profile, first, last],
            |r| {
                Ok(SentBatchRef {
                    id: r.get(0)?,
                    profile: r.get(1)?,
                    name: r.get(2)?,
                    sha256: r.get(3)?,
                    sent_on: r
                        .get::<_, Option<String>>(4)?
                        .and_then(|d| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
                })
            },
        )
    }

    /// Every message of a sent batch, in the order sent.
    pub fn batch_message_sites(&self, batch: i64) -> Result<Vec<MessageSite>, StoreError> {
        self.rows(
            include_str!("../../queries/store/batch_message_sites.sql"),
            [batch],
            |r| {
                Ok(MessageSite {
                    index: r.get::<_, i64>(0)? as u64,
                    week: r.get(1)?,
                    site: r.get(2)?,
                })
            },
        )
    }
}
