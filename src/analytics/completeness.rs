//! Completeness of what was sent: for administered doses, the share (percent) carrying each
//! field a registry relies on, per week and site, provider or vaccine — fields a registry
//! never rejects, so no answer ever shows them missing. A share whose base is zero (no dose,
//! or no minor for NK1) is empty, never 0 % or 100 %.

use chrono::NaiveDate;

use crate::domain::Field;
use crate::store::completeness::{CompletenessRow, GroupBy};
use crate::store::{Store, StoreError};
use crate::table::{ColType, Table, Value};

/// What a completeness row is about: a site, a provider, a vaccine (CVX) or a vaccine group
/// (DTaP, HepB, Influenza…: CDC's vac2vg, summed over its vaccines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Site,
    Provider,
    Vaccine,
    Group,
}

impl By {
    fn column(self) -> &'static str {
        match self {
            By::Site => "site",
            By::Provider => "provider",
            By::Vaccine => "vaccine",
            By::Group => "vaccine_group",
        }
    }
    fn store(self) -> GroupBy {
        match self {
            By::Site => GroupBy::Site,
            By::Provider => GroupBy::Provider,
            By::Vaccine | By::Group => GroupBy::Vaccine,
        }
    }
}

/// Rows per vaccine summed per vaccine group (a vaccine in several groups, e.g. DTaP-HepB-IPV,
/// counts in each; one in none under "(no group)").
fn by_group(rows: Vec<CompletenessRow>) -> Vec<CompletenessRow> {
    let set = crate::vaccines::current();
    let mut m: std::collections::BTreeMap<(String, String), CompletenessRow> = Default::default();
    for r in rows {
        let groups = set.groups_of(&r.group);
        let groups: Vec<String> = if groups.is_empty() {
            vec!["(no group)".into()]
        } else {
            groups.to_vec()
        };
        for g in groups {
            let e = m
                .entry((r.week.clone(), g.clone()))
                .or_insert_with(|| CompletenessRow {
                    week: r.week.clone(),
                    group: g,
                    doses: 0,
                    unknown: 0,
                    present: [0; 14],
                    minors: 0,
                });
            e.doses += r.doses;
            e.unknown += r.unknown;
            e.minors += r.minors;
            for (a, b) in e.present.iter_mut().zip(r.present) {
                *a += b;
            }
        }
    }
    m.into_values().collect()
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
    by: By,
    from: NaiveDate,
    to: NaiveDate,
    profile: Option<&str>,
) -> Result<Vec<CompletenessRow>, StoreError> {
    let rows = store.completeness(by.store(), &from.to_string(), &to.to_string(), profile)?;
    Ok(if by == By::Group {
        by_group(rows)
    } else {
        rows
    })
}

/// The table: week, group, doses, unknown, then one percent column per field; vaccines by
/// name beside their code.
pub fn table(rows: &[CompletenessRow], by: By) -> Table {
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
            By::Vaccine => format!("{} {}", r.group, crate::vaccines::names_of(&r.group)),
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
