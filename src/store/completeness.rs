//! Completeness reads: of the administered doses sent, how many carried each field a registry
//! relies on, per week and site, provider or vaccine (the bits the ledger keeps per dose).

use super::{Store, StoreError};
use crate::domain::Field;

/// One week and group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletenessRow {
    /// Monday of the ISO week.
    pub week: String,
    pub group: String,
    /// Doses whose fields are known.
    pub doses: u64,
    /// Doses read before the fields were kept.
    pub unknown: u64,
    /// Per [`Field::ALL`], how many doses carried it (NK1: of the minors).
    pub present: [u64; 14],
    /// Doses given to minors (the NK1 share's base).
    pub minors: u64,
}

impl CompletenessRow {
    /// The base of a field's share: the doses, or for NK1 the minors' doses.
    pub fn base(&self, f: Field) -> u64 {
        if f == Field::ResponsiblePerson {
            self.minors
        } else {
            self.doses
        }
    }
}

/// Which ledger column groups the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Site,
    Provider,
    Vaccine,
}

impl GroupBy {
    pub fn column(self) -> &'static str {
        match self {
            GroupBy::Site => "site",
            GroupBy::Provider => "provider",
            GroupBy::Vaccine => "vaccine",
        }
    }
}

impl Store {
    /// Completeness per week (Mondays `from`..=`to`, ISO dates) and group, for one profile or
    /// all.
    pub fn completeness(
        &self,
        by: GroupBy,
        from: &str,
        to: &str,
        profile: Option<&str>,
    ) -> Result<Vec<CompletenessRow>, StoreError> {
        let sql =
            include_str!("../../queries/store/completeness.sql").replace("{col}", by.column());
        let mut st = self.conn.prepare(&sql).map_err(|e| self.sql_err(e))?;
        let n = |r: &rusqlite::Row<'_>, i: usize| -> rusqlite::Result<u64> {
            Ok(r.get::<_, Option<i64>>(i)?.unwrap_or(0) as u64)
        };
        st.query_map(rusqlite::params![from, to, profile], |r| {
            let mut present = [0u64; 14];
            for (i, p) in present.iter_mut().enumerate() {
                *p = n(r, 4 + i)?;
            }
            Ok(CompletenessRow {
                week: r.get(0)?,
                group: r.get(1)?,
                doses: n(r, 2)?,
                unknown: n(r, 3)?,
                present,
                minors: n(r, 18)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.sql_err(e))
    }
}
