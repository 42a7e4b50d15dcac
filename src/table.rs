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
}

impl Table {
    /// A table whose column types are inferred when exported.
    pub fn new(columns: &[&str]) -> Table {
        Table {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
            types: vec![ColType::Auto; columns.len()],
        }
    }

    /// A table with a fixed schema (a documented export).
    pub fn typed(columns: &[(&str, ColType)]) -> Table {
        Table {
            columns: columns.iter().map(|(c, _)| c.to_string()).collect(),
            rows: Vec::new(),
            types: columns.iter().map(|(_, t)| *t).collect(),
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

    /// A terminal table: boxed and wrapped to the terminal's width on a terminal, plain
    /// space-aligned columns (no box drawing, no wrapping) when piped.
    pub fn to_terminal(&self) -> String {
        use std::io::IsTerminal;
        self.render_table(std::io::stdout().is_terminal())
    }

    fn render_table(&self, terminal: bool) -> String {
        let mut t = comfy_table::Table::new();
        if terminal {
            t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
                .set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
        } else {
            t.load_preset(comfy_table::presets::NOTHING)
                .set_content_arrangement(comfy_table::ContentArrangement::Disabled);
        }
        t.set_header(self.columns.clone());
        for r in &self.rows {
            t.add_row(r.iter().map(Value::render).collect::<Vec<_>>());
        }
        t.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let plain = t.render_table(false);
        assert!(!plain.contains('│') && !plain.contains('─'), "{plain}");
        assert!(plain.contains("2025-10-27") && plain.contains("0.925"));
        assert!(t.render_table(true).contains('│'));
        assert_eq!(Value::Float(0.0).render(), "0");
    }
}
