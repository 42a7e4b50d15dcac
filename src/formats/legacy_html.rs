//! Legacy ImmTrac DQA summary (`<batch>.report.html`), read with an HTML parser (scraper).
//!
//! Takes the heading table (`File Name`), the Processing Status table (Accepted, Accepted with
//! Warnings, Rejected with Errors, Skipped) and every issue table: a table whose header has a
//! description column and a count column. Each row becomes one aggregated finding
//! (`count` = the Count cell); severity from the heading or class the table sits under
//! (Errors / Warnings / Skip), the field from the HL7 column, the code from the text or the
//! catalogue. The file is small (a summary), so it is read whole.

use std::io::Read;

use scraper::{ElementRef, Html, Selector};

use super::codes::{self, catalogue};
use super::{Finding, ParseFailure, Severity, Short, Tally};
use crate::batch_name;

const MAX_HTML: u64 = 64 * 1024 * 1024;

fn text_of(e: ElementRef<'_>) -> String {
    e.text()
        .collect::<Vec<_>>()
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The nearest heading before this table (walking back through siblings and parents).
fn heading_before(table: ElementRef<'_>) -> Option<String> {
    let mut node = Some(*table);
    while let Some(n) = node {
        let mut sib = n.prev_sibling();
        while let Some(s) = sib {
            if let Some(e) = ElementRef::wrap(s) {
                let name = e.value().name();
                if matches!(
                    name,
                    "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "caption" | "b" | "strong" | "p"
                ) {
                    return Some(text_of(e));
                }
            }
            sib = s.prev_sibling();
        }
        node = n.parent();
    }
    None
}

fn severity_from_words(s: &str) -> Option<Severity> {
    let k = s.to_ascii_lowercase();
    if k.contains("error") || k.contains("reject") {
        Some(Severity::Error)
    } else if k.contains("warning") {
        Some(Severity::Warning)
    } else if k.contains("skip") || k.contains("info") {
        Some(Severity::Info)
    } else {
        None
    }
}

fn parse_count(s: &str) -> Option<u64> {
    let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.is_empty() || s.contains('%') {
        return None;
    }
    digits.parse().ok()
}

pub(crate) fn parse<R: Read>(
    input: R,
    name: &str,
    out: &mut Tally<'_>,
) -> Result<(), ParseFailure> {
    let mut bytes = Vec::new();
    input.take(MAX_HTML + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_HTML {
        return Err(ParseFailure::Invalid(
            "HTML report larger than 64 MiB".into(),
        ));
    }
    let text = crate::hl7::decode_text(&bytes).into_owned();
    let doc = Html::parse_document(&text);
    let table_sel = Selector::parse("table").expect("selector");
    let row_sel = Selector::parse("tr").expect("selector");
    let cell_sel = Selector::parse("th, td").expect("selector");

    let mut file_name: Option<String> = None;
    let mut status_counts: Vec<(String, u64)> = Vec::new();
    let mut issue_tables = 0;
    for table in doc.select(&table_sel) {
        let rows: Vec<Vec<String>> = table
            .select(&row_sel)
            .map(|r| r.select(&cell_sel).map(text_of).collect())
            .collect();
        if rows.is_empty() {
            continue;
        }
        // Heading table: two-cell rows label → value.
        for r in &rows {
            if r.len() == 2 && key(&r[0]) == "filename" && !r[1].is_empty() {
                file_name = Some(r[1].clone());
            }
        }
        let header: Vec<String> = rows[0].iter().map(|h| key(h)).collect();
        let col = |names: &[&str]| header.iter().position(|h| names.contains(&h.as_str()));
        // Processing status: Status | Count
        if let (Some(s), Some(c)) = (
            col(&["status", "processingstatus"]),
            col(&["count", "messages"]),
        ) {
            for r in &rows[1..] {
                if let (Some(label), Some(n)) = (r.get(s), r.get(c).and_then(|v| parse_count(v))) {
                    status_counts.push((key(label), n));
                }
            }
            continue;
        }
        let desc = col(&[
            "description",
            "issue",
            "message",
            "error",
            "warning",
            "text",
            "problem",
        ]);
        let count = col(&["count", "occurrences", "number", "n"]);
        let (Some(desc), Some(count)) = (desc, count) else {
            continue;
        };
        issue_tables += 1;
        let hl7 = col(&[
            "hl7",
            "hl7field",
            "field",
            "location",
            "hl7location",
            "element",
        ]);
        let sev_col = col(&["severity", "level", "type"]);
        let class = table.value().attr("class").unwrap_or("");
        let table_sev = severity_from_words(class).or_else(|| {
            heading_before(table)
                .as_deref()
                .and_then(severity_from_words)
        });
        for r in &rows[1..] {
            let Some(text) = r.get(desc).filter(|t| !t.is_empty()) else {
                continue;
            };
            let n = r.get(count).and_then(|v| parse_count(v)).unwrap_or(1);
            if n == 0 {
                continue;
            }
            let code =
                codes::find_code(text).or_else(|| catalogue().code_for_text(text).map(Short::from));
            let loc = hl7
                .and_then(|i| r.get(i))
                .and_then(|v| codes::normalize_field(v))
                .or_else(|| codes::field_in_text(text));
            let sev = sev_col
                .and_then(|i| r.get(i))
                .and_then(|v| codes::severity_of_word(v))
                .or(table_sev)
                .or_else(|| code.as_deref().map(|c| codes::severity_of_code(c, text)))
                .unwrap_or_else(|| codes::severity_of_text(text));
            out.finding(Finding {
                segment: loc.as_ref().map(|l| l.segment.clone()),
                field: loc.map(|l| l.field),
                code,
                severity: Some(sev),
                text: text.clone(),
                raw: r.join(" | "),
                count: n,
                ..Finding::default()
            })?;
        }
    }
    if issue_tables == 0 && status_counts.is_empty() {
        return Err(ParseFailure::Invalid(
            "no processing status table and no issue table (with description and count columns)"
                .into(),
        ));
    }
    let get = |labels: &[&str]| {
        status_counts
            .iter()
            .find(|(l, _)| labels.contains(&l.as_str()))
            .map(|(_, n)| *n)
    };
    let s = &mut out.summary;
    s.counts.accepted = get(&["accepted"]);
    s.counts.accepted_with_warnings = get(&["acceptedwithwarnings", "acceptedwithwarning"]);
    s.counts.rejected = get(&["rejectedwitherrors", "rejected", "rejectedwitherror"]);
    s.counts.skipped = get(&["skipped", "skip"]);
    if !status_counts.is_empty() {
        s.counts.messages = Some(
            [
                s.counts.accepted,
                s.counts.accepted_with_warnings,
                s.counts.rejected,
                s.counts.skipped,
            ]
            .iter()
            .flatten()
            .sum(),
        );
    }
    s.submission_file = file_name
        .as_deref()
        .and_then(batch_name::parse)
        .or_else(|| batch_name::parse(name))
        .map(|b| b.file_name);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{Collect, ParseOptions, Severity, parse_bytes};

    #[test]
    fn specimen_counts() {
        let data = crate::formats::specimen("legacy-dqa/ACMECLIN25301.hl7.report.html");
        let mut c = Collect::all();
        let s = parse_bytes(&data, "r.report.html", &ParseOptions::default(), &mut c).unwrap();
        assert_eq!(s.submission_file.as_deref(), Some("ACMECLIN25301.hl7"));
        assert_eq!(s.counts.accepted, Some(17));
        assert_eq!(s.counts.accepted_with_warnings, Some(13));
        assert_eq!(s.counts.rejected, Some(10));
        assert_eq!(s.counts.skipped, Some(0));
        assert_eq!(s.counts.messages, Some(40));
        assert_eq!(s.findings, 15);
        assert_eq!(s.by_severity, [11, 30, 0]);
        let f = &c.findings[0];
        assert_eq!(f.code.as_deref(), Some("CLR-101"));
        assert_eq!(f.field.as_deref(), Some("PD1-12"));
        assert_eq!(f.count, 4);
        assert_eq!(f.severity, Some(Severity::Error));
        let nk1 = c
            .findings
            .iter()
            .find(|f| f.field.as_deref() == Some("NK1"))
            .unwrap();
        assert_eq!((nk1.code.as_deref(), nk1.count), (Some("IEE-519"), 5));
    }

    #[test]
    fn tables_in_other_order_with_severity_column_and_no_headings() {
        let html = "<html><body><table><tr><th>Level</th><th>Count</th><th>Issue</th><th>Field</th></tr>\
<tr><td>Error</td><td>2</td><td>Patient birth date is missing</td><td>PID-7</td></tr>\
<tr><td>Warning</td><td>1,204</td><td>Vaccination lot number is missing</td><td>RXA-15</td></tr></table></body></html>";
        let mut c = Collect::all();
        let s = parse_bytes(html.as_bytes(), "x.html", &ParseOptions::default(), &mut c).unwrap();
        assert_eq!(s.by_severity, [2, 1204, 0]);
        assert_eq!(c.findings[1].field.as_deref(), Some("RXA-15"));
        assert_eq!(s.counts.messages, None);
    }

    #[test]
    fn html_without_tables_is_quarantined() {
        let err = parse_bytes(
            b"<html><body><p>hello</p></body></html>",
            "x.html",
            &ParseOptions::default(),
            &mut Collect::all(),
        )
        .unwrap_err();
        assert!(err.is_quarantine());
        assert!(
            err.to_string()
                .contains("x.html: legacy-report-html file: no processing status table"),
            "{err}"
        );
    }
}
