//! Batch file names: `<ImportCode><YY><DDD>[.<n>].hl7` (two-digit year, day of the year
//! zero-padded to three digits, optional same-day sequence). Parsing them links a report to
//! the submission it is about; formatting them names uploads. Leaf module.

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use regex::Regex;

static FULL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:^|[^A-Za-z0-9])([A-Za-z0-9]+?)(\d{2})(\d{3})(?:\.(\d{1,4}))?\.hl7\b")
        .unwrap()
});
static TOKEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([A-Za-z][A-Za-z0-9]*?)(\d{2})(\d{3})(?:[_\-. ]|$)").unwrap());

/// A parsed batch file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchName {
    /// The canonical file name, e.g. `ACMECLIN25301.hl7` or `ACMECLIN25301.2.hl7`.
    pub file_name: String,
    pub import_code: String,
    pub date: NaiveDate,
    pub seq: Option<u32>,
}

fn build(code: &str, yy: &str, ddd: &str, seq: Option<&str>) -> Option<BatchName> {
    let year = 2000 + yy.parse::<i32>().ok()?;
    let day = ddd.parse::<u32>().ok()?;
    let date = NaiveDate::from_yo_opt(year, day)?;
    let seq = match seq {
        Some(s) => Some(s.parse().ok()?),
        None => None,
    };
    Some(BatchName {
        file_name: format(code, date, seq),
        import_code: code.to_string(),
        date,
        seq,
    })
}

/// Find a batch name inside any file name (`ACMECLIN25301.hl7.ack`, `x/ACMECLIN25301.1.hl7`),
/// or a leading `<code><YYDDD>` token (`ACMECLIN25301_DQA.csv`).
pub fn parse(name: &str) -> Option<BatchName> {
    if let Some(c) = FULL.captures(name)
        && let Some(b) = build(&c[1], &c[2], &c[3], c.get(4).map(|m| m.as_str()))
    {
        return Some(b);
    }
    let base = name.rsplit('/').next().unwrap_or(name);
    let c = TOKEN.captures(base)?;
    build(&c[1], &c[2], &c[3], None)
}

/// Format the registry's batch name for a date (and optional sequence).
pub fn format(import_code: &str, date: NaiveDate, seq: Option<u32>) -> String {
    let yy = date.year().rem_euclid(100);
    let ddd = date.ordinal();
    match seq {
        Some(n) => format!("{import_code}{yy:02}{ddd:03}.{n}.hl7"),
        None => format!("{import_code}{yy:02}{ddd:03}.hl7"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_forms() {
        let b = parse("ACMECLIN25301.hl7.ack").unwrap();
        assert_eq!(b.file_name, "ACMECLIN25301.hl7");
        assert_eq!(b.import_code, "ACMECLIN");
        assert_eq!(b.date, NaiveDate::from_ymd_opt(2025, 10, 28).unwrap());
        assert_eq!(parse("ACMECLIN25301.2.hl7").unwrap().seq, Some(2));
        assert_eq!(
            parse("NOMIHEALTV22298.0.hl7").unwrap().import_code,
            "NOMIHEALTV"
        );
        assert_eq!(
            parse("ACMECLIN25301_DQA.csv").unwrap().file_name,
            "ACMECLIN25301.hl7"
        );
        assert_eq!(
            parse("ACMECLIN25301.hl7.report.html").unwrap().file_name,
            "ACMECLIN25301.hl7"
        );
        assert_eq!(parse("DQA_Report_2025-10-28.xlsx"), None);
        assert_eq!(parse("X25000.hl7"), None, "day 000");
        assert_eq!(parse("X25366.hl7"), None, "2025 has 365 days");
        assert_eq!(
            parse("X24366.hl7").unwrap().date,
            NaiveDate::from_ymd_opt(2024, 12, 31).unwrap()
        );
    }

    #[test]
    fn format_pads() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        assert_eq!(format("ACME", d, None), "ACME26001.hl7");
        assert_eq!(format("ACME", d, Some(3)), "ACME26001.3.hl7");
    }
}

/// A second upload on the same day: how its name is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SameDay {
    /// `CODE25301.1.hl7`, `CODE25301.2.hl7`, …
    #[default]
    Sequence,
    /// Refuse a second upload on the same day.
    Refuse,
}
