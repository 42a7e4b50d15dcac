//! A plain result table (column names + typed cells): what analytics returns and what the CLI
//! prints as a terminal table, CSV or JSON, and the report renders as HTML. Leaf module.

use chrono::NaiveDate;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Date(NaiveDate),
    Bool(bool),
}

impl Value {
    pub fn text(s: impl Into<String>) -> Value {
        Value::Text(s.into())
    }
    pub fn opt_int(v: Option<i64>) -> Value {
        v.map(Value::Int).unwrap_or(Value::Null)
    }
    pub fn opt_count(v: Option<u64>) -> Value {
        Value::opt_int(v.map(|n| n as i64))
    }
    pub fn opt_text_owned(v: Option<String>) -> Value {
        v.map(Value::Text).unwrap_or(Value::Null)
    }
    pub fn opt_text(v: Option<&str>) -> Value {
        v.map(|s| Value::Text(s.to_string())).unwrap_or(Value::Null)
    }
    pub fn opt_float(v: Option<f64>) -> Value {
        v.map(Value::Float).unwrap_or(Value::Null)
    }
    /// The cell as CSV/terminal text (empty for null, ISO dates, floats to 4 decimals).
    pub fn render(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => {
                let s = format!("{f:.4}");
                let s = s.trim_end_matches('0').trim_end_matches('.');
                if s.is_empty() || s == "-" {
                    "0".into()
                } else {
                    s.to_string()
                }
            }
            Value::Text(s) => s.clone(),
            Value::Date(d) => d.to_string(),
            Value::Bool(b) => b.to_string(),
        }
    }
    pub fn json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Int(i) => (*i).into(),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Text(s) => s.clone().into(),
            Value::Date(d) => d.to_string().into(),
            Value::Bool(b) => (*b).into(),
        }
    }
}

/// A column's declared type: what typed exports (Parquet) write, empty or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    /// Not declared: inferred from the cells (integers, else text).
    Auto,
    Int,
    Float,
    Text,
    Date,
    Bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    /// One per column.
    pub types: Vec<ColType>,
    /// The columns a terminal table shows unless `--columns` says otherwise (None: all):
    /// the fewest useful ones; CSV and JSON keep every column.
    pub default_columns: Option<Vec<String>>,
}

impl Table {
    /// A table whose column types are inferred when exported.
    pub fn new(columns: &[&str]) -> Table {
        Table {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
            types: vec![ColType::Auto; columns.len()],
            default_columns: None,
        }
    }

    /// A table with a fixed schema (a documented export).
    pub fn typed(columns: &[(&str, ColType)]) -> Table {
        Table {
            columns: columns.iter().map(|(c, _)| c.to_string()).collect(),
            rows: Vec::new(),
            types: columns.iter().map(|(_, t)| *t).collect(),
            default_columns: None,
        }
    }

    /// Insert a column at `at` with one value per row.
    pub fn insert_column(&mut self, at: usize, name: &str, ty: ColType, values: Vec<Value>) {
        debug_assert_eq!(values.len(), self.rows.len());
        self.columns.insert(at, name.to_string());
        self.types.insert(at, ty);
        for (row, v) in self.rows.iter_mut().zip(values) {
            row.insert(at, v);
        }
    }

    /// Remove a column by name (no-op when absent).
    pub fn remove_column(&mut self, name: &str) {
        if let Some(i) = self.col(name) {
            self.columns.remove(i);
            self.types.remove(i);
            for r in &mut self.rows {
                r.remove(i);
            }
        }
    }

    pub fn push(&mut self, row: Vec<Value>) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.rows.push(row);
    }

    pub fn col(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// Write as CSV (header row, one row per fact).
    pub fn write_csv<W: std::io::Write>(&self, w: W) -> csv::Result<()> {
        let mut wr = csv::Writer::from_writer(w);
        wr.write_record(&self.columns)?;
        for r in &self.rows {
            wr.write_record(r.iter().map(Value::render))?;
        }
        wr.flush()?;
        Ok(())
    }

    /// An array of objects keyed by column name.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Array(
            self.rows
                .iter()
                .map(|r| {
                    serde_json::Value::Object(
                        self.columns
                            .iter()
                            .cloned()
                            .zip(r.iter().map(Value::json))
                            .collect(),
                    )
                })
                .collect(),
        )
    }

    /// The columns a terminal shows by default (see [`Table::default_columns`]).
    pub fn show_by_default(mut self, columns: &[&str]) -> Table {
        self.default_columns = Some(columns.iter().map(|c| c.to_string()).collect());
        self
    }

    /// Keep only `names`, in that order; an unknown name is an error naming the columns.
    pub fn select(&self, names: &[String]) -> Result<Table, String> {
        let idx: Vec<usize> = names
            .iter()
            .map(|n| {
                self.col(n).ok_or_else(|| {
                    format!(
                        "no column '{n}': the columns are {}",
                        self.columns.join(", ")
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Table {
            columns: idx.iter().map(|&i| self.columns[i].clone()).collect(),
            rows: self
                .rows
                .iter()
                .map(|r| idx.iter().map(|&i| r[i].clone()).collect())
                .collect(),
            types: idx.iter().map(|&i| self.types[i]).collect(),
            default_columns: None,
        })
    }

    /// A terminal table: plain space-aligned columns (no box drawing, as ripgrep, xsv and gh
    /// print), the default columns; on a terminal, fitted to its width with long cells cut
    /// with `…`; piped, whole cells (another program reads them).
    pub fn to_terminal(&self) -> String {
        use std::io::IsTerminal;
        let width = std::io::stdout().is_terminal().then(terminal_width);
        self.render_plain(width)
    }

    /// [`Table::to_terminal`] for a given width (None: no limit).
    ///
    /// Fitting a row into `width`: numbers, dates and short codes (a week, a date written as
    /// text) are never cut; long text is cut with `…`, widest first, down to its header or 10
    /// characters, the first column (it names the row) last; when the row still does not fit,
    /// the last columns are left out and a last line names them (`--columns` picks others,
    /// CSV and JSON keep them all); only a row too wide even then cuts text down to 6
    /// characters.
    pub fn render_plain(&self, width: Option<usize>) -> String {
        // the default columns (all when unset or unknown), read in place: nothing is copied
        let idx: Vec<usize> = self
            .default_columns
            .as_ref()
            .and_then(|d| d.iter().map(|c| self.col(c)).collect::<Option<Vec<_>>>())
            .unwrap_or_else(|| (0..self.columns.len()).collect());
        let len = |s: &str| s.chars().count();
        // every shown cell rendered once; widths and cuts are read from these
        let mut header: Vec<String> = idx.iter().map(|&i| self.columns[i].clone()).collect();
        let mut cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| idx.iter().map(|&i| one_line(&r[i].render())).collect())
            .collect();
        let mut widths: Vec<usize> = (0..idx.len())
            .map(|k| {
                cells
                    .iter()
                    .map(|r| len(&r[k]))
                    .chain([len(&header[k])])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut hidden: Vec<String> = Vec::new();
        if let Some(w) = width {
            let total = |ws: &[usize]| ws.iter().sum::<usize>() + 2 * ws.len().saturating_sub(1);
            // how far a column may be cut: not at all for numbers, dates and text of one width
            let can_cut: Vec<bool> = idx
                .iter()
                .map(|&i| {
                    let mut lens = self.rows.iter().filter_map(|r| match &r[i] {
                        Value::Text(t) => Some(len(t)),
                        _ => None,
                    });
                    match lens.next() {
                        None => false,
                        Some(first) => !(first <= 12 && lens.all(|l| l == first)),
                    }
                })
                .collect();
            let head: Vec<usize> = header.iter().map(|h| len(h)).collect();
            // shrink the widest cuttable column, one character at a time, down to `floor`; the
            // first column names the row: cut only when nothing else helps
            let shrink = |widths: &mut [usize], floor: usize, first_too: bool| {
                while total(widths) > w {
                    let Some((k, _)) = widths
                        .iter()
                        .enumerate()
                        .filter(|(k, wk)| {
                            can_cut[*k] && (*k > 0 || first_too) && **wk > head[*k].max(floor)
                        })
                        .max_by_key(|(_, wk)| **wk)
                    else {
                        break;
                    };
                    widths[k] -= 1;
                }
            };
            let natural = widths.clone();
            shrink(&mut widths, 10, false);
            // still too wide with every long text cut to 10: leave out the last columns, then
            // cut the rest afresh from their natural widths
            let mut keep = widths.len();
            while keep > 1 && total(&widths[..keep]) > w {
                keep -= 1;
            }
            if keep < widths.len() {
                hidden = header.split_off(keep);
                for r in &mut cells {
                    r.truncate(keep);
                }
                widths = natural[..keep].to_vec();
                shrink(&mut widths, 10, false);
            }
            shrink(&mut widths, 6, true);
        }
        let fit = |s: &str, w: usize| -> String {
            if len(s) <= w {
                format!("{s:<w$}")
            } else {
                let cut: String = s.chars().take(w.saturating_sub(1)).collect();
                format!("{cut}…")
            }
        };
        let line = |row: &[String]| -> String {
            row.iter()
                .enumerate()
                .map(|(i, c)| fit(c, widths[i]))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        };
        let mut out = vec![line(&header)];
        out.extend(cells.iter().map(|r| line(r)));
        if !hidden.is_empty() {
            out.push(format!(
                "({} more column(s) at this width: {}; pick with --columns, or --format csv|json)",
                hidden.len(),
                hidden.join(", ")
            ));
        }
        out.join("\n")
    }
}

/// A cell on one line: line breaks and tabs as spaces, control characters escaped.
fn one_line(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| {
            if c == '\n' || c == '\r' || c == '\t' {
                ' '
            } else {
                c
            }
        })
        .collect();
    crate::hl7::printable(&flat).into_owned()
}

/// The terminal's width in columns (COLUMNS, else the terminal's own size, else 100).
pub fn terminal_width() -> usize {
    if let Some(n) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return n;
    }
    // SAFETY: TIOCGWINSZ fills a winsize on a terminal file descriptor; nothing else is read.
    unsafe {
        let mut ws: libc::winsize = std::mem::zeroed();
        if libc::ioctl(1, libc::TIOCGWINSZ, &mut ws) == 0 && ws.ws_col > 0 {
            return ws.ws_col as usize;
        }
    }
    100
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A terminal table fits the width, one line per row, long cells cut with `…`, the
    /// default columns only; without a width (piped) cells stay whole; no box drawing.
    #[test]
    fn plain_tables_fit_the_width() {
        let mut t = Table::new(&["id", "codes", "fix", "status"])
            .show_by_default(&["id", "codes", "status"]);
        t.push(vec![
            Value::Int(1),
            Value::text("IMR-111 (E), IEE-519 (W), IEE-413 (W), IEE-526 (W), CLR-105 (E)"),
            Value::text("a long fix text that no terminal table shows by default"),
            Value::text("open"),
        ]);
        let out = t.render_plain(Some(40));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert!(lines.iter().all(|l| l.chars().count() <= 40), "{out}");
        assert!(
            lines[1].contains('…') && lines[1].ends_with("open"),
            "{out}"
        );
        assert!(
            !out.contains("fix") && !out.contains('│') && !out.contains('─'),
            "{out}"
        );
        let whole = t.render_plain(None);
        assert!(
            whole.contains("CLR-105 (E)") && !whole.contains('…'),
            "{whole}"
        );
        assert_eq!(
            t.select(&["status".into(), "id".into()]).unwrap().columns,
            ["status", "id"]
        );
        assert!(
            t.select(&["nope".into()])
                .unwrap_err()
                .contains("the columns are id, codes")
        );
    }

    /// At 100 columns a wide table keeps its names, weeks and numbers whole, leaves its last
    /// columns out and names them on a last line; piped, every column stays (issue 2: tables
    /// readable at 100 columns, the scorecard's and completeness's included).
    #[test]
    fn a_wide_table_keeps_names_weeks_and_numbers_whole_and_names_what_it_leaves_out() {
        let mut cols = vec!["week".to_string(), "site".to_string()];
        cols.extend((0..12).map(|i| format!("field_number_{i}")));
        let names: Vec<&str> = cols.iter().map(String::as_str).collect();
        let mut t = Table::new(&names);
        let mut row = vec![Value::text("2026-W50"), Value::text("NORTH CLINIC")];
        row.extend((0..12).map(|i| Value::Float(50.25 + i as f64)));
        t.push(row);
        let out = t.render_plain(Some(100));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{out}");
        assert!(lines[..2].iter().all(|l| l.chars().count() <= 100), "{out}");
        assert!(
            lines[1].starts_with("2026-W50  NORTH CLINIC  50.25"),
            "{out}"
        );
        assert!(!lines[1].contains('…'), "numbers are never cut: {out}");
        assert!(
            lines[2].contains("more column(s) at this width")
                && lines[2].contains("field_number_11")
                && lines[2].contains("--columns"),
            "{out}"
        );
        let shown = lines[0].split_whitespace().count();
        assert!((3..14).contains(&shown), "{out}");
        assert!(
            lines[2].starts_with(&format!("({} more", 14 - shown)),
            "{out}"
        );
        let whole = t.render_plain(None);
        assert!(
            whole.contains("field_number_11") && !whole.contains("more column"),
            "{whole}"
        );
    }

    /// The first column names the row: long text after it is cut first.
    #[test]
    fn the_first_column_is_cut_last() {
        let mut t = Table::new(&["file", "state"]);
        t.push(vec![
            Value::text("DEMOCLIN26167.hl7"),
            Value::text("report received, 3 rejected, answer linked to its batch"),
        ]);
        let out = t.render_plain(Some(40));
        let row = out.lines().nth(1).unwrap();
        assert!(row.starts_with("DEMOCLIN26167.hl7  report"), "{out}");
        assert!(row.ends_with('…') && row.chars().count() <= 40, "{out}");
    }

    #[test]
    fn renders_csv_and_json() {
        let mut t = Table::new(&["week", "n", "rate", "note"]);
        t.push(vec![
            Value::Date(NaiveDate::from_ymd_opt(2025, 10, 27).unwrap()),
            Value::Int(3),
            Value::Float(0.925),
            Value::Null,
        ]);
        let mut out = Vec::new();
        t.write_csv(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "week,n,rate,note\n2025-10-27,3,0.925,\n"
        );
        assert_eq!(
            t.to_json(),
            serde_json::json!([{"week": "2025-10-27", "n": 3, "rate": 0.925, "note": null}])
        );
        assert_eq!(Value::Float(1.0).render(), "1");
        let plain = t.render_plain(None);
        assert!(!plain.contains('│') && !plain.contains('─'), "{plain}");
        assert!(plain.contains("2025-10-27") && plain.contains("0.925"));
        assert_eq!(Value::Float(0.0).render(), "0");
    }
}
