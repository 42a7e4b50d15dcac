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

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Read, Seek};

use super::codes::{self, catalogue};
use super::consent;
use super::{
    ConsentNotice, Finding, Format, Kind, ParseError, ParseFailure, ParseOptions, Short, Sink,
    Summary, Tally,
};
use crate::batch_name;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    File,
    ControlId,
    MessageIndex,
    PatientRef,
    LastName,
    FirstName,
    MiddleName,
    PatientName,
    Dob,
    Field,
    Severity,
    Code,
    Message,
    ConsentCode,
    ConsentDate,
    ReasonCode,
    ReasonText,
    Processed,
}

const ROLE_COUNT: usize = Role::Processed as usize + 1;

/// A value per [`Role`]: an array indexed by the role (looked up for every cell of every
/// row, so no hashing).
#[derive(Debug, Clone)]
struct RoleMap<T>([Option<T>; ROLE_COUNT]);

impl<T> RoleMap<T> {
    fn new() -> Self {
        RoleMap(std::array::from_fn(|_| None))
    }
    fn get(&self, r: &Role) -> Option<&T> {
        self.0[*r as usize].as_ref()
    }
    fn contains_key(&self, r: &Role) -> bool {
        self.0[*r as usize].is_some()
    }
    fn insert(&mut self, r: Role, v: T) {
        self.0[r as usize] = Some(v);
    }
    fn insert_if_absent(&mut self, r: Role, v: T) {
        self.0[r as usize].get_or_insert(v);
    }
    fn remove(&mut self, r: &Role) {
        self.0[*r as usize] = None;
    }
    fn clear(&mut self) {
        self.0.iter_mut().for_each(|v| *v = None);
    }
    fn len(&self) -> usize {
        self.0.iter().filter(|v| v.is_some()).count()
    }
}

/// The column roles by their configuration name (`[aliases]`); their header names are in
/// `tabular-aliases.toml`.
const ROLES: &[(Role, &str)] = &[
    (Role::File, "file"),
    (Role::ControlId, "control_id"),
    (Role::MessageIndex, "message_index"),
    (Role::PatientRef, "patient_id"),
    (Role::LastName, "last_name"),
    (Role::FirstName, "first_name"),
    (Role::MiddleName, "middle_name"),
    (Role::PatientName, "patient_name"),
    (Role::Dob, "dob"),
    (Role::Field, "field"),
    (Role::Severity, "severity"),
    (Role::Code, "code"),
    (Role::Message, "message"),
    (Role::ConsentCode, "consent_code"),
    (Role::ConsentDate, "consent_date"),
    (Role::ReasonCode, "reason_code"),
    (Role::ReasonText, "reason"),
    (Role::Processed, "processed"),
];

/// The built-in header names per role (a data file: adding a name touches no code).
const ALIASES_FILE: &str = include_str!("tabular-aliases.toml");

/// Lowercase alphanumerics only: `HL7 Field` → `hl7field`, `MSH-10` → `msh10`.
pub fn header_key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Header names → column roles.
#[derive(Debug, Clone)]
pub struct Aliases {
    map: HashMap<String, Role>,
}

#[derive(serde::Deserialize)]
struct AliasFile {
    role: Vec<AliasEntry>,
}

#[derive(serde::Deserialize)]
struct AliasEntry {
    name: String,
    headers: Vec<String>,
}

fn role_named(name: &str) -> Option<Role> {
    ROLES.iter().find(|(_, n)| *n == name).map(|(r, _)| *r)
}

impl Default for Aliases {
    fn default() -> Self {
        static DEFAULT: std::sync::OnceLock<HashMap<String, Role>> = std::sync::OnceLock::new();
        let map = DEFAULT.get_or_init(|| {
            let file: AliasFile = toml::from_str(ALIASES_FILE)
                .expect("tabular-aliases.toml is valid (a unit test reads it)");
            let mut map = HashMap::new();
            for e in file.role {
                let role =
                    role_named(&e.name).expect("every role in tabular-aliases.toml is known");
                for n in e.headers {
                    map.insert(header_key(&n), role);
                }
            }
            map
        });
        Aliases { map: map.clone() }
    }
}

impl Aliases {
    /// Defaults plus the user's `[aliases]` (role name → header names); user entries win.
    pub fn with_user(extra: &BTreeMap<String, Vec<String>>) -> Result<Aliases, String> {
        let mut a = Aliases::default();
        for (role_name, headers) in extra {
            let role = role_named(role_name).ok_or_else(|| {
                format!(
                    "[aliases] has unknown column role '{role_name}' (known: {})",
                    ROLES.iter().map(|(_, n)| *n).collect::<Vec<_>>().join(", ")
                )
            })?;
            for h in headers {
                a.map.insert(header_key(h), role);
            }
        }
        Ok(a)
    }

    pub fn role(&self, header: &str) -> Option<Role> {
        self.map.get(&header_key(header)).copied()
    }
}

/// Guess the delimiter of a text table from its first lines.
pub fn sniff_delimiter(text: &str) -> Option<Format> {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(30)
        .collect();
    if lines.is_empty() {
        return None;
    }
    let mut best: Option<(usize, Format)> = None;
    for (d, f) in [
        (',', Format::Csv),
        ('\t', Format::Tsv),
        ('|', Format::Pipe),
        (';', Format::Semicolon),
    ] {
        let counts: Vec<usize> = lines.iter().map(|l| count_outside_quotes(l, d)).collect();
        let mut freq: HashMap<usize, usize> = HashMap::new();
        for &c in counts.iter().filter(|&&c| c > 0) {
            *freq.entry(c).or_default() += 1;
        }
        let Some((_, &agree)) = freq.iter().max_by_key(|(c, n)| (**n, **c)) else {
            continue;
        };
        if best.is_none_or(|(b, _)| agree > b) {
            best = Some((agree, f));
        }
    }
    best.map(|(_, f)| f)
}

fn count_outside_quotes(line: &str, d: char) -> usize {
    let mut inq = false;
    let mut n = 0;
    for c in line.chars() {
        if c == '"' {
            inq = !inq;
        } else if c == d && !inq {
            n += 1;
        }
    }
    n
}

const HEADER_SEARCH_ROWS: usize = 20;
const FIELD_SAMPLE_ROWS: usize = 50;

/// Column layout found in a header row.
#[derive(Debug, Clone)]
struct Layout {
    cols: RoleMap<usize>,
    kind: Kind,
}

impl Layout {
    fn get<'r>(&self, row: &'r [String], role: Role) -> Option<&'r str> {
        self.cols
            .get(&role)
            .and_then(|&i| row.get(i))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }
}

fn find_layout(row: &[String], aliases: &Aliases, hint: Option<Kind>) -> Option<Layout> {
    let mut cols = RoleMap::new();
    for (i, cell) in row.iter().enumerate() {
        if let Some(role) = aliases.role(cell) {
            cols.insert_if_absent(role, i);
        }
    }
    let has = |r: Role| cols.contains_key(&r);
    let patient = has(Role::PatientRef) || has(Role::LastName) || has(Role::PatientName);
    let cnf = (has(Role::ConsentCode) || has(Role::ReasonCode)) && patient;
    let dqa = (has(Role::Field) || has(Role::Code) || has(Role::Message)) && cols.len() >= 2;
    let kind = match (cnf, dqa) {
        (true, _) if hint == Some(Kind::Cnf) || !has(Role::Field) => Kind::Cnf,
        (_, true) => Kind::Dqa,
        (true, false) => Kind::Cnf,
        _ => return None,
    };
    Some(Layout { cols, kind })
}

fn no_header_reason(hint: Option<Kind>) -> String {
    match hint {
        Some(Kind::Cnf) => format!(
            "no header row with consent columns (a consent code or reason code, and a patient id or name) or a recognisable field, code or message column in the first {HEADER_SEARCH_ROWS} rows"
        ),
        _ => format!(
            "no header row with a recognisable field, code or message column in the first {HEADER_SEARCH_ROWS} rows"
        ),
    }
}

/// [`codes::normalize_field`] through a bounded cache.
fn cached_field(
    cache: &mut HashMap<String, Option<codes::Location>>,
    cell: &str,
) -> Option<codes::Location> {
    if let Some(hit) = cache.get(cell) {
        return hit.clone();
    }
    let loc = codes::normalize_field(cell);
    if cache.len() < 4096 {
        cache.insert(cell.to_string(), loc.clone());
    }
    loc
}

/// Re-join cells as a delimited line (quoting where needed): the row as received.
fn raw_row(row: &[String], delim: u8) -> String {
    let d = delim as char;
    let mut out = String::with_capacity(row.iter().map(|c| c.len() + 1).sum());
    for (i, c) in row.iter().enumerate() {
        if i > 0 {
            out.push(d);
        }
        if c.contains(d) || c.contains('"') || c.contains('\n') {
            out.push('"');
            out.push_str(&c.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(c);
        }
    }
    out
}

const IDENTITY: [Role; 8] = [
    Role::File,
    Role::ControlId,
    Role::MessageIndex,
    Role::PatientRef,
    Role::LastName,
    Role::FirstName,
    Role::PatientName,
    Role::Dob,
];

/// Turns rows into findings or consent notices.
struct RowProcessor<'a> {
    layout: Layout,
    delim: u8,
    out: Tally<'a>,
    previous_identity: RoleMap<String>,
    /// Normalised locations of the field cells seen so far (a report repeats a few dozen).
    field_cache: HashMap<String, Option<codes::Location>>,
    submission: Option<String>,
}

static SUCCESS_PREFIXES: &[&str] = &["sent successfully", "accepted", "success", "ok"];

impl RowProcessor<'_> {
    fn fill_down(&mut self, row: &mut Vec<String>) {
        let present = IDENTITY.iter().any(|r| self.layout.get(row, *r).is_some());
        if !present {
            for r in IDENTITY {
                if let (Some(&i), Some(v)) =
                    (self.layout.cols.get(&r), self.previous_identity.get(&r))
                {
                    if row.len() <= i {
                        row.resize(i + 1, String::new());
                    }
                    row[i] = v.clone();
                }
            }
        } else {
            self.previous_identity.clear();
            for r in IDENTITY {
                if let Some(v) = self.layout.get(row, r) {
                    self.previous_identity.insert(r, v.to_string());
                }
            }
        }
    }

    fn row(&mut self, mut row: Vec<String>) -> Result<(), ParseFailure> {
        if row.iter().all(|c| c.trim().is_empty()) {
            return Ok(());
        }
        let raw = raw_row(&row, self.delim);
        self.fill_down(&mut row);
        if self.submission.is_none()
            && let Some(f) = self.layout.get(&row, Role::File)
        {
            self.submission = batch_name::parse(f).map(|b| b.file_name);
        }
        match self.layout.kind {
            // a layout is decided as DQA or CNF; a sent batch never reaches a report parser
            Kind::Dqa | Kind::Sent => self.finding_row(&row, raw),
            Kind::Cnf => self.consent_row(&row, raw),
        }
    }

    fn finding_row(&mut self, row: &[String], mut raw: String) -> Result<(), ParseFailure> {
        let l = &self.layout;
        let message = l.get(row, Role::Message).unwrap_or("");
        let code_cell = l.get(row, Role::Code);
        let (prefix, mut parts) = codes::split_codes(message);
        let prefix_sev = codes::severity_of_word(prefix.trim_end_matches(['-', ':', ' ']));
        if parts.len() == 1 && parts[0].code.is_none() {
            let t = parts[0].text.to_ascii_lowercase();
            let t = t.trim_end_matches(['-', ':', ' ']);
            if SUCCESS_PREFIXES.contains(&t) && code_cell.is_none() {
                return Ok(()); // a success row with nothing to report
            }
        }
        if parts.is_empty() {
            if code_cell.is_none() {
                return Ok(()); // no issue in this row
            }
            parts.push(codes::CodedText {
                code: None,
                text: String::new(),
            });
        }
        let single = parts.len() == 1;
        let last = parts.len() - 1;
        for (i, part) in parts.into_iter().enumerate() {
            let code = part
                .code
                .clone()
                .or_else(|| {
                    code_cell
                        .filter(|_| single)
                        .map(|c| codes::find_code(c).unwrap_or_else(|| c.into()))
                })
                .or_else(|| catalogue().code_for_text(&part.text).map(Short::from));
            let cell = l.get(row, Role::Field).filter(|_| single);
            let loc = cell
                .and_then(|c| cached_field(&mut self.field_cache, c))
                .or_else(|| codes::field_in_text(&part.text))
                .or_else(|| {
                    code.as_deref()
                        .and_then(|c| catalogue().get(c))
                        .and_then(|i| i.field.as_deref())
                        .and_then(codes::normalize_field)
                });
            let sev = l
                .get(row, Role::Severity)
                .and_then(codes::severity_of_word)
                .or_else(|| {
                    code.as_deref()
                        .map(|c| codes::severity_of_code(c, &part.text))
                })
                .or(prefix_sev)
                .unwrap_or_else(|| codes::severity_of_text(&part.text));
            let f = Finding {
                message_control_id: l.get(row, Role::ControlId).map(Short::from),
                message_index: l.get(row, Role::MessageIndex).and_then(|v| v.parse().ok()),
                patient_ref: l.get(row, Role::PatientRef).map(Short::from),
                segment: loc.as_ref().map(|x| x.segment.clone()),
                field: loc.map(|x| x.field),
                code,
                severity: Some(sev),
                text: part.text,
                // the row's raw text: moved into its last finding, copied for the others
                raw: if i == last {
                    std::mem::take(&mut raw)
                } else {
                    raw.clone()
                },
                count: 1,
                ..Finding::default()
            };
            self.out.finding(f)?;
        }
        Ok(())
    }

    fn consent_row(&mut self, row: &[String], raw: String) -> Result<(), ParseFailure> {
        let l = &self.layout;
        let s = |r: Role| l.get(row, r).map(str::to_string);
        let (mut last, mut first, mut middle) =
            (s(Role::LastName), s(Role::FirstName), s(Role::MiddleName));
        if last.is_none()
            && first.is_none()
            && let Some(full) = l.get(row, Role::PatientName)
        {
            (last, first, middle) = consent::split_name(full);
        }
        let reason_text = s(Role::ReasonText);
        let reason_code = l
            .get(row, Role::ReasonCode)
            .map(|c| codes::find_code(c).unwrap_or_else(|| c.into()))
            .or_else(|| reason_text.as_deref().and_then(codes::find_code))
            .map(String::from);
        let consent_code = s(Role::ConsentCode).map(|c| c.to_ascii_uppercase());
        let dob_raw = s(Role::Dob);
        let consent_date_raw = s(Role::ConsentDate);
        let status = consent::status(
            reason_code.as_deref(),
            reason_text.as_deref(),
            consent_code.as_deref(),
        );
        let notice = ConsentNotice {
            patient_ref: s(Role::PatientRef),
            last_name: last,
            first_name: first,
            middle_name: middle,
            dob: dob_raw.as_deref().and_then(consent::parse_date),
            dob_raw,
            consent_code,
            consent_date: consent_date_raw.as_deref().and_then(consent::parse_date),
            consent_date_raw,
            reason_code,
            reason_text,
            status,
            source_file: l.get(row, Role::File).map(|f| {
                batch_name::parse(f)
                    .map(|b| b.file_name)
                    .unwrap_or_else(|| f.to_string())
            }),
            processed_on: l.get(row, Role::Processed).and_then(consent::parse_date),
            raw,
        };
        self.out.consent(notice)
    }
}

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
    .map_err(|f| match f {
        ParseFailure::Invalid(reason) => ParseError::Unreadable {
            file: name.into(),
            reason,
        },
        ParseFailure::Io(source) => ParseError::Io {
            file: name.into(),
            source,
        },
        ParseFailure::Sink(source) => ParseError::Sink {
            file: name.into(),
            source,
        },
    })
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
