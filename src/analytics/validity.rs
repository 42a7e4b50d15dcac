//! Validity: what lint finds in what was sent, per week and site — the lint rules (the
//! vaccine code sets included) run again over each archived sent batch of the weeks asked,
//! each finding counted against the site of the message it is in. A batch whose archived copy
//! cannot be read is counted as not linted (its sites' validity is unknown, never clean).

use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use chrono::NaiveDate;

use super::AnalyticsError;
use crate::config::Registries;
use crate::hl7::lint::{self, Level};
use crate::store::Store;

/// Lint findings of one site in one week.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidityRow {
    /// Monday of the ISO week.
    pub week: String,
    pub site: String,
    /// Messages linted.
    pub messages: u64,
    /// Messages whose archived batch could not be read.
    pub not_linted: u64,
    pub errors: u64,
    pub warnings: u64,
}

impl ValidityRow {
    /// Lint errors and warnings per 1,000 linted messages.
    pub fn per_1000(&self) -> Option<(f64, f64)> {
        let per = |n: u64| n as f64 * 1000.0 / self.messages as f64;
        (self.messages > 0).then(|| (per(self.errors), per(self.warnings)))
    }
}

/// Lint the sent batches of the weeks `from`..=`to` (Mondays) and count per week × site.
/// `registries` gives each profile's lint rules. "Not in the future" is judged as of the day the
/// batch was sent (else `today`): what was true when it left.
pub fn validity(
    store: &Store,
    profile: Option<&str>,
    (from, to): (NaiveDate, NaiveDate),
    registries: &Registries,
    today: NaiveDate,
) -> Result<Vec<ValidityRow>, AnalyticsError> {
    let (first, last) = (from.to_string(), to.to_string());
    let mut out: BTreeMap<(String, String), ValidityRow> = BTreeMap::new();
    let codes = crate::vaccines::current();
    for batch in store.sent_batches_of_weeks(profile, (Some(from), Some(to)))? {
        let sites = store.batch_message_sites(batch.id)?;
        let mut bytes = Vec::new();
        let read = store
            .archive()
            .open_blob(&batch.sha256)
            .and_then(|mut b| b.read_to_end(&mut bytes));
        let found: Option<HashMap<u64, (u64, u64)>> = read.ok().map(|_| {
            let as_of = batch.sent_on.unwrap_or(today);
            let report = lint::check_with(&bytes, as_of, registries.of(&batch.profile), codes);
            let mut per: HashMap<u64, (u64, u64)> = HashMap::new();
            for i in &report.lint {
                let e = per.entry(i.message_no).or_default();
                match i.level {
                    Level::Error => e.0 += 1,
                    Level::Warning => e.1 += 1,
                }
            }
            per
        });
        for m in sites {
            if m.week < first || m.week > last {
                continue;
            }
            let row = out
                .entry((m.week.clone(), m.site.clone()))
                .or_insert_with(|| ValidityRow {
                    week: m.week.clone(),
                    site: m.site.clone(),
                    ..Default::default()
                });
            match &found {
                Some(per) => {
                    row.messages += 1;
                    let (e, w) = per.get(&m.index).copied().unwrap_or_default();
                    row.errors += e;
                    row.warnings += w;
                }
                None => row.not_linted += 1,
            }
        }
    }
    Ok(out.into_values().collect())
}
