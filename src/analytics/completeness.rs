//! Completeness of what was sent: for administered doses, the share (percent) carrying each
//! field a registry relies on, per week and site, provider or vaccine — fields a registry
//! never rejects, so no answer ever shows them missing. A share whose base is zero (no dose,
//! or no minor for NK1) is empty, never 0 % or 100 %.

use chrono::NaiveDate;

use crate::domain::Field;
use crate::store::completeness::{CompletenessRow, GroupBy};
use crate::store::{Store, StoreError};
use crate::table::{ColType, Table, Value};

impl From<super::breakdown::By> for GroupBy {
    fn from(b: super::breakdown::By) -> GroupBy {
        match b {
            super::breakdown::By::Site => GroupBy::Site,
            super::breakdown::By::Vaccine => GroupBy::Vaccine,
            super::breakdown::By::Provider => GroupBy::Provider,
        }
    }
}

/// A field's share in percent (one decimal), None without a base.
pub fn share(row: &CompletenessRow, f: Field) -> Option<f64> {
    let base = row.base(f);
    let i = Field::ALL.iter().position(|x| *x == f)?;
    (base > 0).then(|| (row.present[i] as f64 * 1000.0 / base as f64).round() / 10.0)
}

/// Completeness rows for weeks from `from` to `to` (Mondays).
pub fn rows(
    store: &Store,
    by: GroupBy,
    from: NaiveDate,
    to: NaiveDate,
    profile: Option<&str>,
) -> Result<Vec<CompletenessRow>, StoreError> {
    store.completeness(by, &from.to_string(), &to.to_string(), profile)
}

/// The table: week, group, doses, unknown, then one percent column per field; vaccines by
/// name beside their code.
pub fn table(rows: &[CompletenessRow], by: GroupBy) -> Table {
    let mut cols: Vec<(&str, ColType)> = vec![
        ("week", ColType::Text),
        (by.column(), ColType::Text),
        ("doses", ColType::Int),
        ("unknown", ColType::Int),
    ];
    cols.extend(Field::ALL.iter().map(|f| (f.as_str(), ColType::Float)));
    let mut t = Table::typed(&cols);
    for r in rows {
        let group = match by {
            GroupBy::Vaccine => format!("{} {}", r.group, crate::vaccines::names_of(&r.group)),
            _ => r.group.clone(),
        };
        let mut row = vec![
            Value::text(crate::domain::week_label(
                NaiveDate::parse_from_str(&r.week, "%Y-%m-%d").unwrap_or_default(),
            )),
            Value::text(group),
            Value::Int(r.doses as i64),
            Value::Int(r.unknown as i64),
        ];
        row.extend(
            Field::ALL
                .iter()
                .map(|f| share(r, *f).map(Value::Float).unwrap_or(Value::Null)),
        );
        t.push(row);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_without_a_base_is_empty_not_zero() {
        let mut r = CompletenessRow {
            week: "2026-11-30".into(),
            group: "NORTH".into(),
            doses: 3,
            unknown: 0,
            present: [0; 14],
            minors: 0,
        };
        r.present[0] = 2;
        assert_eq!(share(&r, Field::Lot), Some(66.7));
        assert_eq!(share(&r, Field::Expiry), Some(0.0));
        assert_eq!(share(&r, Field::ResponsiblePerson), None);
        r.doses = 0;
        assert_eq!(share(&r, Field::Lot), None);
    }
}
