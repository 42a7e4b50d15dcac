//! Binding rows to the store's bulk INSERTs: parameters borrowed from the row ([`Sql`]) and
//! rows inserted by multi-row statements ([`insert_rows`]), shared by the report writer
//! (findings) and the ledger writer (messages, vaccinations).

use rusqlite::Transaction;
use rusqlite::types::{ToSqlOutput, ValueRef};

/// A parameter of a bulk INSERT, borrowed from its row (rusqlite copies text as it binds).
pub(crate) type Sql<'a> = ToSqlOutput<'a>;

pub(crate) fn text(s: &str) -> Sql<'_> {
    Sql::Borrowed(ValueRef::Text(s.as_bytes()))
}

pub(crate) fn opt_text<S: AsRef<str>>(s: &Option<S>) -> Sql<'_> {
    match s {
        Some(s) => text(s.as_ref()),
        None => Sql::Borrowed(ValueRef::Null),
    }
}

pub(crate) fn int(i: impl Into<i64>) -> Sql<'static> {
    Sql::from(i.into())
}

pub(crate) fn opt_int(i: Option<impl Into<i64>>) -> Sql<'static> {
    match i {
        Some(i) => int(i),
        None => Sql::Borrowed(ValueRef::Null),
    }
}

/// A one-row `INSERT … VALUES (…)` from queries/ turned into one inserting `rows` rows of
/// `params` positional parameters each (a quarter less SQLite time per row: benchmark B1).
pub(crate) fn multi_row_insert(sql: &str, params: usize, rows: usize) -> String {
    let (head, _) = sql
        .split_once("VALUES")
        .expect("a one-row INSERT … VALUES statement");
    let row = format!("({})", vec!["?"; params].join(", "));
    format!("{head}VALUES {}", vec![row; rows].join(",\n"))
}

/// Insert `rows`: each full chunk of `per` rows by `many` (the multi-row statement of `per`
/// rows), the rest one by one with `one`; `values` gives a row's `N` parameters in the
/// statements' order.
pub(crate) fn insert_rows<'a, R, const N: usize>(
    tx: &Transaction<'_>,
    (one, many, per): (&str, &str, usize),
    rows: &'a [R],
    values: impl Fn(&'a R) -> [Sql<'a>; N],
) -> rusqlite::Result<()> {
    for chunk in rows.chunks(per) {
        let full = chunk.len() == per;
        let mut st = tx.prepare_cached(if full { many } else { one })?;
        for (k, r) in chunk.iter().enumerate() {
            let offset = if full { k * N } else { 0 };
            for (i, v) in values(r).into_iter().enumerate() {
                st.raw_bind_parameter(offset + i + 1, &v)?;
            }
            if !full {
                st.raw_execute()?;
            }
        }
        if full {
            st.raw_execute()?;
        }
    }
    Ok(())
}
