//! Tabular listings: CSV, TSV, pipe- or semicolon-delimited text, XLSX and XLS (calamine).
//!
//! Header-driven, never positional: the header row is the first of the first 20 rows whose
//! cells name known columns (through [`Aliases`], which users extend with `[aliases]` in the
//! config), so title rows above it are fine and columns may come in any order; unknown columns
//! are ignored. A column named like an HL7 field (`Location`…) is only used as the field if its
//! values look like HL7 locations. Grouped cells are filled down; a cell carrying several codes
//! run together (`IEE-519::… IMR-109::…`) becomes one finding per code. Severity comes from a
//! severity word or letter, else the code prefix, else the wording. A table with consent columns
//! (or from the Receive folder) is read as consent notices. Delimited text is streamed.
//!
//! One concept per file: [`aliases`] (column roles and the header names meaning them),
//! [`sniff`] (which delimiter), [`layout`] (where the header is, what each column holds),
//! [`rows`] (a row into findings or a consent notice); here, the two readers (delimited text,
//! workbooks) and the pass that ties them together.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Read, Seek};

use super::codes::{self, catalogue};
use super::consent;
use super::{
    ConsentNotice, Finding, Format, Kind, ParseError, ParseFailure, ParseOptions, Short, Sink,
    Summary, Tally,
};
use crate::batch_name;

mod aliases;
mod layout;
mod rows;
mod sniff;

use aliases::*;
pub use aliases::{Aliases, Role, header_key};
use layout::*;
use rows::*;
pub use sniff::sniff_delimiter;

/// Find the header in the first rows, validate the field column on a sample, then process all
/// rows. `rows` yields rows lazily (delimited text streams; workbooks are in memory).
fn process(
    mut rows: impl Iterator<Item = Result<Vec<String>, ParseFailure>>,
    format: Format,
    delim: u8,
    name: &str,
    opts: &ParseOptions,
    sink: &mut dyn Sink,
) -> Result<Summary, ParseFailure> {
    let mut layout = None;
    for _ in 0..HEADER_SEARCH_ROWS {
        let Some(row) = rows.next() else { break };
        let row = row?;
        if let Some(l) = find_layout(&row, &opts.aliases, opts.kind_hint) {
            layout = Some(l);
            break;
        }
    }
    let Some(mut layout) = layout else {
        return Err(ParseFailure::Invalid(no_header_reason(opts.kind_hint)));
    };
    // Sample rows to check that the "field" column really holds HL7 locations.
    let mut sample = Vec::new();
    for _ in 0..FIELD_SAMPLE_ROWS {
        match rows.next() {
            Some(r) => sample.push(r?),
            None => break,
        }
    }
    if let Some(&i) = layout.cols.get(&Role::Field) {
        let values: Vec<&str> = sample
            .iter()
            .filter_map(|r| r.get(i))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect();
        let good = values
            .iter()
            .filter(|v| codes::normalize_field(v).is_some())
            .count();
        if !values.is_empty() && good * 2 < values.len() {
            layout.cols.remove(&Role::Field);
            if layout.kind == Kind::Dqa
                && !layout.cols.contains_key(&Role::Code)
                && !layout.cols.contains_key(&Role::Message)
            {
                return Err(ParseFailure::Invalid(format!(
                    "the field column holds no HL7 locations (e.g. '{}') and there is no code or message column",
                    values[0].chars().take(40).collect::<String>()
                )));
            }
        }
    }
    let kind = layout.kind;
    let mut p = RowProcessor {
        layout,
        delim,
        out: Tally {
            sink,
            summary: Summary::new(format, kind),
        },
        previous_identity: RoleMap::new(),
        field_cache: HashMap::new(),
        submission: None,
    };
    for row in sample {
        p.row(row)?;
    }
    for row in rows {
        p.row(row?)?;
    }
    let mut summary = p.out.summary;
    summary.submission_file = p
        .submission
        .or_else(|| batch_name::parse(name).map(|b| b.file_name));
    Ok(summary)
}

/// Delimited text (streamed).
pub(crate) fn parse_delimited<R: BufRead>(
    input: R,
    format: Format,
    delim: u8,
    name: &str,
    opts: &ParseOptions,
    sink: &mut dyn Sink,
) -> Result<Summary, ParseFailure> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delim)
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut rec = csv::ByteRecord::new();
    let rows = std::iter::from_fn(move || match reader.read_byte_record(&mut rec) {
        Ok(true) => Some(Ok(rec
            .iter()
            .map(|b| {
                crate::hl7::decode_text(b)
                    .trim_start_matches('\u{feff}')
                    .to_string()
            })
            .collect())),
        Ok(false) => None,
        Err(e) => Some(Err(ParseFailure::Invalid(format!(
            "malformed {} at {}: {e}",
            format.as_str(),
            e.position()
                .map(|p| format!("line {}", p.line()))
                .unwrap_or_default()
        )))),
    });
    process(rows, format, delim, name, opts, sink)
}

fn cell_text(d: &calamine::Data) -> String {
    use calamine::{Data, DataType};
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(_) | Data::DateTimeIso(_) => match d.as_datetime() {
            Some(dt) if dt.time() == chrono::NaiveTime::MIN => dt.date().to_string(),
            Some(dt) => dt.to_string(),
            None => d.to_string(),
        },
        other => other.to_string(),
    }
}

/// XLSX/XLS: the first sheet with a recognisable header.
pub(crate) fn parse_workbook<R: Read + Seek>(
    input: R,
    format: Format,
    name: &str,
    opts: &ParseOptions,
    sink: &mut dyn Sink,
) -> Result<Summary, ParseFailure> {
    use calamine::Reader;
    let mut bytes = Vec::new();
    let mut input = input;
    input.read_to_end(&mut bytes)?;
    let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| ParseFailure::Invalid(format!("cannot open the workbook: {e}")))?;
    let sheets = wb.sheet_names().to_vec();
    let mut last_err = ParseFailure::Invalid("the workbook has no sheets".into());
    for sheet in sheets {
        let range = match wb.worksheet_range(&sheet) {
            Ok(r) => r,
            Err(e) => {
                last_err = ParseFailure::Invalid(format!("cannot read sheet '{sheet}': {e}"));
                continue;
            }
        };
        let rows: Vec<Vec<String>> = range
            .rows()
            .map(|r| r.iter().map(cell_text).collect())
            .collect();
        let has_header = rows
            .iter()
            .take(HEADER_SEARCH_ROWS)
            .any(|r| find_layout(r, &opts.aliases, opts.kind_hint).is_some());
        if !has_header {
            last_err = ParseFailure::Invalid(format!(
                "sheet '{sheet}': {}",
                no_header_reason(opts.kind_hint)
            ));
            continue;
        }
        return process(rows.into_iter().map(Ok), format, b'\t', name, opts, sink);
    }
    Err(last_err)
}

/// Convenience for callers holding a whole table as strings (tests).
pub fn parse_rows(
    rows: Vec<Vec<String>>,
    name: &str,
    opts: &ParseOptions,
    sink: &mut dyn Sink,
) -> Result<Summary, ParseError> {
    process(
        rows.into_iter().map(Ok),
        Format::Csv,
        b',',
        name,
        opts,
        sink,
    )
    .map_err(|f| f.into_error(name))
}

#[cfg(test)]
mod tests {
    use super::super::{
        Collect, ConsentStatus, Format, Kind, ParseOptions, Severity, parse_bytes, specimen,
    };
    use super::*;

    #[test]
    fn the_alias_file_names_every_role_once_with_its_headers() {
        let file: AliasFile = toml::from_str(ALIASES_FILE).unwrap();
        let names: Vec<&str> = file.role.iter().map(|e| e.name.as_str()).collect();
        for (_, n) in ROLES {
            assert_eq!(names.iter().filter(|x| *x == n).count(), 1, "{n}");
        }
        assert_eq!(names.len(), ROLES.len());
        assert!(file.role.iter().all(|e| !e.headers.is_empty()));
        let a = Aliases::default();
        assert_eq!(a.role("Batch File Name"), Some(Role::File));
        assert_eq!(a.role("MSH-10"), Some(Role::ControlId));
    }

    fn run(data: &[u8], name: &str, hint: Option<Kind>) -> (Summary, Collect) {
        let mut c = Collect::all();
        let opts = ParseOptions {
            kind_hint: hint,
            ..ParseOptions::default()
        };
        let s = parse_bytes(data, name, &opts, &mut c).unwrap();
        (s, c)
    }

    #[test]
    fn csv_specimen() {
        let (s, c) = run(
            &specimen("tabular/ACMECLIN25301_DQA.csv"),
            "ACMECLIN25301_DQA.csv",
            None,
        );
        assert_eq!((s.format, s.kind), (Format::Csv, Kind::Dqa));
        assert_eq!(s.findings, 41);
        assert_eq!(s.by_severity, [11, 26, 4]);
        assert_eq!(s.submission_file.as_deref(), Some("ACMECLIN25301.hl7"));
        let f = &c.findings[0];
        assert_eq!(f.message_control_id.as_deref(), Some("ACMECLIN253010001"));
        assert_eq!(f.patient_ref.as_deref(), Some("MRN100000"));
        assert_eq!(f.field.as_deref(), Some("RXR-2"));
        assert_eq!(f.code.as_deref(), Some("IEE-571"));
        assert_eq!(
            f.raw,
            "ACMECLIN25301.hl7,ACMECLIN253010001,MRN100000,WILSON,ANA,05/08/2008,RXR-2,Warning,IEE-571,Invalid body site."
        );
    }

    #[test]
    fn xlsx_specimen_fill_down_and_split_codes() {
        let (s, c) = run(
            &specimen("tabular/DQA_Report_2025-10-28.xlsx"),
            "DQA_Report_2025-10-28.xlsx",
            None,
        );
        assert_eq!((s.format, s.kind), (Format::Xlsx, Kind::Dqa));
        assert_eq!(s.findings, 40);
        assert!(c.findings.iter().all(|f| f.code.is_some()));
        // "Location" holds body sites (LA), not HL7 fields: ignored as a field column
        assert!(c.findings.iter().all(|f| f.field.as_deref() != Some("LA")));
        let nk1 = &c.findings[0];
        assert_eq!(
            (nk1.code.as_deref(), nk1.field.as_deref()),
            (Some("IEE-519"), Some("NK1"))
        );
        assert_eq!(nk1.patient_ref.as_deref(), Some("5000"));
        // the fourth row has no patient cells: filled down from the second patient
        let filled = c
            .findings
            .iter()
            .filter(|f| f.patient_ref.as_deref() == Some("5001"))
            .count();
        assert_eq!(filled, 2);
    }

    #[test]
    fn cnf_specimen() {
        let (s, c) = run(
            &specimen("cnf/ACMECLIN_CNF_20251028.csv"),
            "ACMECLIN_CNF_20251028.csv",
            Some(Kind::Cnf),
        );
        assert_eq!(s.kind, Kind::Cnf);
        assert_eq!(s.consent_rows, 9);
        let first = &c.consent[0];
        assert_eq!(first.patient_ref.as_deref(), Some("MRN100005"));
        assert_eq!(first.last_name.as_deref(), Some("LOPEZ"));
        assert_eq!(first.dob, chrono::NaiveDate::from_ymd_opt(1955, 3, 24));
        assert_eq!(first.consent_code, None);
        assert_eq!(
            first.consent_date,
            chrono::NaiveDate::from_ymd_opt(2025, 1, 1)
        );
        assert_eq!(first.status, ConsentStatus::NotVerified);
        assert_eq!(first.source_file.as_deref(), Some("ACMECLIN25301.hl7"));
        let by = |st| c.consent.iter().filter(|n| n.status == st).count();
        assert_eq!(by(ConsentStatus::NotVerified), 2);
        assert_eq!(by(ConsentStatus::StandardConsentRequired), 4);
        assert_eq!(by(ConsentStatus::WrongTypeForAge), 1);
        assert_eq!(by(ConsentStatus::BadDate), 2);
        // the same consent notice read without the folder hint is still a CNF
        let (s2, _) = run(&specimen("cnf/ACMECLIN_CNF_20251028.csv"), "x.csv", None);
        assert_eq!(s2.kind, Kind::Cnf);
    }

    #[test]
    fn title_rows_other_order_aliases_and_delimiters() {
        let text = "ACME Clinic data quality listing\nGenerated 2025-10-29\n\nSeverity\tHL7 Location\tError Code\tDescription\tMRN\nE\tPID-7\tIMR-100\tImmunization rejected. Birth date invalid\tM1\nW\tpid.11.3\t\tCity missing\tM2\n";
        let (s, c) = run(text.as_bytes(), "x.txt", None);
        assert_eq!(s.format, Format::Tsv);
        assert_eq!(s.findings, 2);
        assert_eq!(c.findings[1].field.as_deref(), Some("PID-11.3"));
        assert_eq!(c.findings[1].severity, Some(Severity::Warning));
        assert_eq!(c.findings[0].patient_ref.as_deref(), Some("M1"));
        let pipe = "Level|Field|Message\nError|RXA-5|CVX invalid\n";
        let (s, _) = run(pipe.as_bytes(), "x.txt", None);
        assert_eq!((s.format, s.findings), (Format::Pipe, 1));
        let semi = "Type;Field;Text\nW;RXA-17;Manufacturer missing\nI;PID-19;x\n";
        let (s, _) = run(semi.as_bytes(), "x.txt", None);
        assert_eq!((s.format, s.by_severity), (Format::Semicolon, [0, 1, 1]));
    }

    #[test]
    fn missing_optional_columns_and_quarantine_reason() {
        let (s, c) = run(b"Code,Message\nCLR-101,consent flag\n", "x.csv", None);
        assert_eq!(s.findings, 1);
        assert_eq!(
            c.findings[0].field.as_deref(),
            Some("PD1-12"),
            "from the catalogue"
        );
        assert_eq!(
            c.findings[0].severity,
            Some(Severity::Error),
            "from the code prefix"
        );
        let err = parse_bytes(
            b"a,b,c\n1,2,3\n",
            "weird.csv",
            &ParseOptions::default(),
            &mut Collect::all(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "weird.csv: csv file: no header row with a recognisable field, code or message column in the first 20 rows"
        );
    }

    #[test]
    fn user_aliases_extend_and_unknown_role_is_refused() {
        let mut extra = BTreeMap::new();
        extra.insert("field".to_string(), vec!["Elemento HL7".to_string()]);
        extra.insert("message".to_string(), vec!["Mensaje".to_string()]);
        let aliases = Aliases::with_user(&extra).unwrap();
        let opts = ParseOptions {
            kind_hint: None,
            aliases,
        };
        let mut c = Collect::all();
        let s = parse_bytes(
            "Elemento HL7,Mensaje\nPID-7,Fecha\n".as_bytes(),
            "x.csv",
            &opts,
            &mut c,
        )
        .unwrap();
        assert_eq!(s.findings, 1);
        assert_eq!(c.findings[0].field.as_deref(), Some("PID-7"));
        extra.insert("nonsense".to_string(), vec!["x".to_string()]);
        assert!(
            Aliases::with_user(&extra)
                .unwrap_err()
                .contains("unknown column role 'nonsense'")
        );
    }
}
