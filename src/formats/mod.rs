//! Formats: every known shape of registry answer, parsed into one normalised model.
//!
//! Detection is by content first (first bytes), the file name second. One module per shape:
//! [`ack`] (HL7 acknowledgements), [`legacy_errors`] (legacy DQA `*.errors.txt`),
//! [`legacy_html`] (legacy DQA `*.report.html`), [`tabular`] (CSV/TSV/pipe/XLSX/XLS listings of
//! findings or consent notices, header-driven through [`tabular::Aliases`]). Parsers are pure:
//! they push [`Finding`]s and [`ConsentNotice`]s into a [`Sink`] as they read (bounded memory
//! for text formats) and return a [`Summary`]. A file no parser can read yields a
//! [`ParseError`] naming the file and what failed: it is quarantined, never dropped.

pub mod ack;
pub mod codes;
pub mod consent;
pub mod legacy_errors;
pub mod legacy_html;
pub mod sent;
mod threaded;
pub use threaded::{RecordSender, Records, parse_threaded, records_channel};
pub mod tabular;

use std::fmt;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};

use chrono::NaiveDate;

/// Severity of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn letter(self) -> &'static str {
        match self {
            Severity::Error => "E",
            Severity::Warning => "W",
            Severity::Info => "I",
        }
    }
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What a report is about (the same type as a fetched file's expected kind).
pub use crate::domain::Kind;

/// The concrete file shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Ack,
    LegacyErrors,
    LegacyHtml,
    Csv,
    Tsv,
    Pipe,
    Semicolon,
    Xlsx,
    Xls,
    /// A VXU batch the clinic sent (read into the message ledger, never a report).
    SentBatch,
}

impl Format {
    pub const ALL: [Format; 10] = [
        Format::Ack,
        Format::LegacyErrors,
        Format::LegacyHtml,
        Format::Csv,
        Format::Tsv,
        Format::Pipe,
        Format::Semicolon,
        Format::Xlsx,
        Format::Xls,
        Format::SentBatch,
    ];

    pub fn parse(s: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// Which report counts for a submission described by several (lower wins): the most
    /// detailed shape, per message, first. Exhaustive: a new format must be ranked here.
    pub fn rank(self) -> u8 {
        match self {
            Format::Ack => 0,
            Format::Csv | Format::Tsv | Format::Pipe | Format::Semicolon => 1,
            Format::LegacyErrors => 2,
            Format::Xlsx | Format::Xls => 3,
            Format::LegacyHtml => 4,
            Format::SentBatch => 5,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Ack => "hl7-ack",
            Format::LegacyErrors => "legacy-errors-txt",
            Format::LegacyHtml => "legacy-report-html",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Pipe => "pipe-delimited",
            Format::Semicolon => "semicolon-delimited",
            Format::Xlsx => "xlsx",
            Format::Xls => "xls",
            Format::SentBatch => "hl7-batch",
        }
    }
    fn delimiter(self) -> Option<u8> {
        match self {
            Format::Csv => Some(b','),
            Format::Tsv => Some(b'\t'),
            Format::Pipe => Some(b'|'),
            Format::Semicolon => Some(b';'),
            _ => None,
        }
    }
}

/// Message counts, when the file carries them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub messages: Option<u64>,
    pub accepted: Option<u64>,
    pub accepted_with_warnings: Option<u64>,
    pub rejected: Option<u64>,
    pub skipped: Option<u64>,
    /// Query responses and other messages that are not acknowledgements of a VXU (`RSP^K11`,
    /// `ACK^Q21`): counted apart, never as accepted or rejected.
    pub queries: Option<u64>,
}

pub use crate::domain::Short;

/// One data quality issue as reported by the registry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Finding {
    pub message_control_id: Option<Short>,
    /// 1-based position of the message in the batch, when known.
    pub message_index: Option<u64>,
    /// The patient's identifier in the submitter's system (PID-3 / MRN / account).
    pub patient_ref: Option<Short>,
    pub segment: Option<Short>,
    /// Normalised `SEG-n[.m]` (a bare segment when the issue is about a whole segment).
    pub field: Option<Short>,
    /// Registry code (`IEE-519`), kept verbatim even when unknown.
    pub code: Option<Short>,
    pub severity: Option<Severity>,
    pub text: String,
    /// The issue exactly as received (ERR segment, list line, table row, cell fragment).
    pub raw: String,
    /// How many occurrences this row stands for (aggregated tables), 1 otherwise.
    pub count: u64,
    /// ERR-3: the HL7 error code (table 0357, e.g. `101` required field missing).
    pub hl7_error_code: Option<Short>,
    /// ERR-5: the application error code (table 0533 or the registry's own, e.g. `DQA0314`).
    pub app_error_code: Option<Short>,
}

impl Finding {
    pub fn severity(&self) -> Severity {
        self.severity.unwrap_or(Severity::Warning)
    }
}

/// Normalised consent status of a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentStatus {
    NotVerified,
    WrongTypeForAge,
    BadDate,
    FutureDate,
    StandardConsentRequired,
    DisasterOnly,
    Other,
}

impl ConsentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentStatus::NotVerified => "not_verified",
            ConsentStatus::WrongTypeForAge => "wrong_type_for_age",
            ConsentStatus::BadDate => "bad_date",
            ConsentStatus::FutureDate => "future_date",
            ConsentStatus::StandardConsentRequired => "standard_consent_required",
            ConsentStatus::DisasterOnly => "disaster_only",
            ConsentStatus::Other => "other",
        }
    }
}

/// One patient whose consent could not be verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentNotice {
    pub patient_ref: Option<String>,
    pub last_name: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub dob: Option<NaiveDate>,
    pub dob_raw: Option<String>,
    pub consent_code: Option<String>,
    pub consent_date: Option<NaiveDate>,
    pub consent_date_raw: Option<String>,
    pub reason_code: Option<String>,
    pub reason_text: Option<String>,
    pub status: ConsentStatus,
    /// The batch file the notice is about, when the row names it.
    pub source_file: Option<String>,
    pub processed_on: Option<NaiveDate>,
    pub raw: String,
}

/// What an acknowledgement says about one message (the ledger joins it to the sent message
/// on MSA-2, else on the message's position).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// MSA-2.
    pub message_control_id: Option<Short>,
    /// 1-based position of the message in the acknowledgement.
    pub message_index: u64,
    pub status: crate::domain::AnswerStatus,
}

/// Receives records as a parser reads them.
pub trait Sink {
    fn finding(&mut self, f: Finding) -> Result<(), SinkError>;
    fn consent(&mut self, c: ConsentNotice) -> Result<(), SinkError>;
    /// One acknowledged message (parsers whose reports answer each message).
    fn answer(&mut self, _a: Answer) -> Result<(), SinkError> {
        Ok(())
    }
    /// One message of a sent batch ([`sent`]: the batch the clinic sent, not an answer).
    fn sent(&mut self, _m: SentMessage) -> Result<(), SinkError> {
        Ok(())
    }
}

pub use crate::domain::SentMessage;

pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// What a parse found, besides the streamed records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub format: Format,
    pub kind: Kind,
    /// The batch file the report is about (from its content or its name).
    pub submission_file: Option<String>,
    /// The date the answer itself carries (an ACK's MSH-7, else FHS-7), for a report that
    /// names no batch: it dates the report instead of the file's own date.
    pub date: Option<chrono::NaiveDate>,
    pub counts: Counts,
    /// Finding rows (each may stand for `count` occurrences).
    pub findings: u64,
    /// Occurrences by severity E, W, I (rows × count).
    pub by_severity: [u64; 3],
    pub consent_rows: u64,
}

impl Summary {
    fn new(format: Format, kind: Kind) -> Summary {
        Summary {
            format,
            kind,
            submission_file: None,
            date: None,
            counts: Counts::default(),
            findings: 0,
            by_severity: [0; 3],
            consent_rows: 0,
        }
    }
}

/// Forwards to the real sink and keeps the summary's tallies.
pub(crate) struct Tally<'a> {
    pub sink: &'a mut dyn Sink,
    pub summary: Summary,
}

impl Tally<'_> {
    pub fn finding(&mut self, f: Finding) -> Result<(), ParseFailure> {
        self.summary.findings += 1;
        self.summary.by_severity[f.severity().index()] += f.count;
        self.sink.finding(f).map_err(ParseFailure::Sink)
    }
    pub fn consent(&mut self, c: ConsentNotice) -> Result<(), ParseFailure> {
        self.summary.consent_rows += 1;
        self.sink.consent(c).map_err(ParseFailure::Sink)
    }
    pub fn answer(&mut self, a: Answer) -> Result<(), ParseFailure> {
        self.sink.answer(a).map_err(ParseFailure::Sink)
    }
}

/// Why a parser stopped (internal; becomes [`ParseError`] with the file name).
#[derive(Debug)]
pub enum ParseFailure {
    /// The content is not what the parser expected: quarantine with this reason.
    Invalid(String),
    Io(std::io::Error),
    /// The sink (the store) failed: not the file's fault.
    Sink(SinkError),
}

impl ParseFailure {
    /// The error of file `name`: an invalid content is unreadable (quarantined).
    pub(crate) fn into_error(self, name: &str) -> ParseError {
        match self {
            ParseFailure::Invalid(reason) => ParseError::Unreadable {
                file: name.to_string(),
                reason,
            },
            ParseFailure::Io(source) => ParseError::Io {
                file: name.to_string(),
                source,
            },
            ParseFailure::Sink(source) => ParseError::Sink {
                file: name.to_string(),
                source,
            },
        }
    }
}

impl From<std::io::Error> for ParseFailure {
    fn from(e: std::io::Error) -> Self {
        ParseFailure::Io(e)
    }
}

/// A file that could not be parsed; the message names the file and what failed.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("{file}: {reason}")]
    Unreadable { file: String, reason: String },
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}: storing its rows failed: {source}")]
    Sink { file: String, source: SinkError },
}

impl ParseError {
    /// Whether the file itself is at fault (quarantine it) rather than the machine.
    pub fn is_quarantine(&self) -> bool {
        matches!(self, ParseError::Unreadable { .. })
    }
    /// The reason without the file name.
    pub fn reason(&self) -> String {
        match self {
            ParseError::Unreadable { reason, .. } => reason.clone(),
            ParseError::Io { source, .. } => format!("cannot read: {source}"),
            ParseError::Sink { source, .. } => format!("storing its rows failed: {source}"),
        }
    }
}

/// Options common to all parsers.
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// What the folder the file came from suggests (Receive → CNF).
    pub kind_hint: Option<Kind>,
    /// Header aliases (defaults plus the user's `[aliases]`).
    pub aliases: tabular::Aliases,
}

const SNIFF: usize = 64 * 1024;

/// Decide the shape of a file from its first bytes and its name.
pub fn detect(name: &str, head: &[u8]) -> Result<Format, String> {
    let lower = name.to_ascii_lowercase();
    if head.is_empty() {
        return Err("the file is empty".into());
    }
    if head.starts_with(b"PK\x03\x04") {
        return Ok(Format::Xlsx);
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Ok(Format::Xls);
    }
    if head.starts_with(b"%PDF") {
        return Err("a PDF document: no parser reads PDF reports yet".into());
    }
    let text = hl7::decode_text(head);
    let body = text.trim_start_matches('\u{feff}').trim_start();
    let first_line = body.lines().next().unwrap_or("").trim();
    if (body.starts_with('{') || body.starts_with('['))
        && serde_json::from_str::<serde::de::IgnoredAny>(prefix(body, SNIFF)).is_ok()
        || body.starts_with("{\"")
        || body.starts_with("[{")
    {
        return Err(
            "a JSON document: no parser reads JSON reports (expected an HL7 acknowledgement, a legacy DQA file or a delimited/spreadsheet listing)".into(),
        );
    }
    if body.len() >= 4 && body.as_bytes().get(..3).is_some_and(hl7::is_header_id) {
        let has_msa = body.contains("\rMSA") || body.contains("\nMSA");
        let has_err = body.contains("\rERR") || body.contains("\nERR");
        if has_msa || has_err {
            return Ok(Format::Ack);
        }
        if body.len() < SNIFF {
            return Err(format!(
                "an HL7 file with no MSA or ERR segments (a {} batch, not an acknowledgement)",
                if body.contains("VXU^V04") {
                    "VXU"
                } else {
                    "message"
                }
            ));
        }
        // A very long first message: trust the name.
        if lower.ends_with(".ack") || lower.contains(".ack.") {
            return Ok(Format::Ack);
        }
    }
    if first_line.starts_with("Message ")
        && first_line[8..].trim().chars().all(|c| c.is_ascii_digit())
        && first_line.len() > 8
    {
        return Ok(Format::LegacyErrors);
    }
    let lower_head = prefix(body, 4096).to_ascii_lowercase();
    if lower_head.starts_with("<!doctype html")
        || lower_head.starts_with("<html")
        || (lower_head.starts_with('<') && lower_head.contains("<table"))
    {
        return Ok(Format::LegacyHtml);
    }
    if head.iter().take(SNIFF).filter(|&&b| b == 0).count() > 0 {
        return Err("binary content of an unknown type".into());
    }
    tabular::sniff_delimiter(body).ok_or_else(|| {
        "not a recognised shape: no HL7 segments, no legacy DQA layout, no delimited table".into()
    })
}

/// The longest prefix of `s` of at most `n` bytes that ends on a character boundary.
fn prefix(s: &str, n: usize) -> &str {
    let mut end = n.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Parse a file (any shape) from a seekable reader.
///
/// A panic inside a parser (ours, or a library's such as calamine's on a corrupted
/// spreadsheet) does not end the run: it becomes an unreadable file, quarantined with the
/// reason, and the rows it had streamed are rolled back with the file's transaction. The
/// panic message is kept for the reason instead of being printed.
pub fn parse<R: Read + Seek>(
    input: R,
    name: &str,
    opts: &ParseOptions,
    sink: &mut dyn Sink,
) -> Result<Summary, ParseError> {
    contained(name, || parse_unguarded(input, name, opts, sink))
}

thread_local! {
    /// Set while this thread runs a parser: its panics are caught and reported as a reason.
    static IN_PARSER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static PANIC_MESSAGE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Run a parser, turning a panic into [`ParseError::Unreadable`].
fn contained(
    name: &str,
    f: impl FnOnce() -> Result<Summary, ParseError>,
) -> Result<Summary, ParseError> {
    // cargo fuzz builds with `--cfg fuzzing`: there a panic must stay a crash the fuzzer sees
    if cfg!(fuzzing) {
        return f();
    }
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_PARSER.with(|p| p.get()) {
                let msg = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                let place = info
                    .location()
                    .map(|l| format!(" at {}:{}", short_path(l.file()), l.line()))
                    .unwrap_or_default();
                PANIC_MESSAGE.with(|m| *m.borrow_mut() = Some(format!("{msg}{place}")));
            } else {
                previous(info);
            }
        }));
    });
    let was = IN_PARSER.with(|p| p.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    IN_PARSER.with(|p| p.set(was));
    match result {
        Ok(r) => r,
        Err(_) => {
            let what = PANIC_MESSAGE
                .with(|m| m.borrow_mut().take())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::warn!("{name}: the parser failed on this file ({what}); quarantined");
            Err(ParseError::Unreadable {
                file: name.to_string(),
                reason: format!(
                    "the parser failed on this file's content ({what}): the file is probably corrupted"
                ),
            })
        }
    }
}

/// `calamine-0.38.0/src/xlsx/mod.rs` (a library's crate folder and file) from a full
/// registry path, or `src/formats/x.rs` for our own.
fn short_path(p: &str) -> String {
    let parts: Vec<&str> = p.split('/').collect();
    let from = parts
        .iter()
        .rposition(|c| *c == "src")
        .map(|i| i.saturating_sub(if p.contains("/registry/") { 1 } else { 0 }))
        .unwrap_or(0);
    parts[from..].join("/")
}

fn parse_unguarded<R: Read + Seek>(
    mut input: R,
    name: &str,
    opts: &ParseOptions,
    sink: &mut dyn Sink,
) -> Result<Summary, ParseError> {
    let io = |source| ParseError::Io {
        file: name.to_string(),
        source,
    };
    if opts.kind_hint == Some(Kind::Sent) {
        // a batch the clinic sent: its own shape, whatever its name
        return sent::parse(BufReader::with_capacity(64 * 1024, input), sink)
            .map_err(|f| f.into_error(name));
    }
    let mut head = Vec::with_capacity(SNIFF);
    (&mut input)
        .take(SNIFF as u64)
        .read_to_end(&mut head)
        .map_err(io)?;
    input.seek(SeekFrom::Start(0)).map_err(io)?;
    let format = detect(name, &head).map_err(|reason| ParseError::Unreadable {
        file: name.to_string(),
        reason,
    })?;
    let result = match format {
        Format::Ack => {
            let mut t = Tally {
                sink,
                summary: Summary::new(format, Kind::Dqa),
            };
            ack::parse(BufReader::with_capacity(64 * 1024, input), name, &mut t).map(|_| t.summary)
        }
        Format::LegacyErrors => {
            let mut t = Tally {
                sink,
                summary: Summary::new(format, Kind::Dqa),
            };
            legacy_errors::parse(BufReader::with_capacity(64 * 1024, input), name, &mut t)
                .map(|_| t.summary)
        }
        Format::LegacyHtml => {
            let mut t = Tally {
                sink,
                summary: Summary::new(format, Kind::Dqa),
            };
            legacy_html::parse(input, name, &mut t).map(|_| t.summary)
        }
        Format::Xlsx | Format::Xls => tabular::parse_workbook(input, format, name, opts, sink),
        _ => {
            let delim = format.delimiter().expect("delimited format");
            tabular::parse_delimited(
                BufReader::with_capacity(64 * 1024, input),
                format,
                delim,
                name,
                opts,
                sink,
            )
        }
    };
    result.map_err(|f| match f {
        ParseFailure::Invalid(reason) => {
            ParseFailure::Invalid(format!("{} file: {reason}", format.as_str())).into_error(name)
        }
        other => other.into_error(name),
    })
}

/// Parse bytes in memory (inspect, tests, fuzzing).
pub fn parse_bytes(
    data: &[u8],
    name: &str,
    opts: &ParseOptions,
    sink: &mut dyn Sink,
) -> Result<Summary, ParseError> {
    parse(std::io::Cursor::new(data), name, opts, sink)
}

/// A sink that keeps nothing (counts come from the summary).
pub struct Discard;
impl Sink for Discard {
    fn finding(&mut self, _: Finding) -> Result<(), SinkError> {
        Ok(())
    }
    fn consent(&mut self, _: ConsentNotice) -> Result<(), SinkError> {
        Ok(())
    }
}

/// A sink that keeps the first `limit` records of each kind.
#[derive(Debug, Default)]
pub struct Collect {
    pub limit: usize,
    pub findings: Vec<Finding>,
    pub consent: Vec<ConsentNotice>,
    pub sent: Vec<SentMessage>,
}

impl Collect {
    pub fn all() -> Collect {
        Collect {
            limit: usize::MAX,
            ..Collect::default()
        }
    }
}

impl Sink for Collect {
    fn finding(&mut self, f: Finding) -> Result<(), SinkError> {
        if self.findings.len() < self.limit {
            self.findings.push(f);
        }
        Ok(())
    }
    fn consent(&mut self, c: ConsentNotice) -> Result<(), SinkError> {
        if self.consent.len() < self.limit {
            self.consent.push(c);
        }
        Ok(())
    }
    fn sent(&mut self, m: SentMessage) -> Result<(), SinkError> {
        if self.sent.len() < self.limit {
            self.sent.push(m);
        }
        Ok(())
    }
}

/// Read lines from a BufRead with a length bound, decoding each (UTF-8, else Latin-1).
pub(crate) fn read_line_bounded<R: BufRead>(
    r: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> Result<Option<String>, ParseFailure> {
    buf.clear();
    let n = r.by_ref().take(max as u64 + 1).read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.len() > max && !buf.ends_with(b"\n") {
        return Err(ParseFailure::Invalid(format!(
            "a line longer than {max} bytes"
        )));
    }
    while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        buf.pop();
    }
    Ok(Some(hl7::decode_text(buf).into_owned()))
}

/// A specimen file from tests/data/specimens (unit tests).
#[cfg(test)]
pub(crate) fn specimen(path: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/data/specimens/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.letter())
    }
}

use crate::hl7;
