//! Legacy ImmTrac DQA per-message detail (`<batch>.errors.txt`).
//!
//! ```text
//! Message 7
//! MSH|^~\&|…            (the raw message as submitted)
//! PID|…
//! Errors:
//!  + Client rejected. consent flag not valid for client age (PD1-12)
//! Warnings:
//!  + Warning. NK1 Segment/Responsible person, missing. (NK1)
//! Skip:
//!  + …
//! Message Data: …        (ends the lists)
//! ```
//! Read line by line. MSH-10 and the first component of PID-3 of each message give the
//! control id and patient reference; the HL7 location comes from the trailing `(FIELD)` or the
//! text; the code from the text or, failing that, from the catalogue's known texts.

use std::io::BufRead;

use super::codes::{self, catalogue};
use super::{Finding, ParseFailure, Severity, Short, Tally, read_line_bounded};
use crate::batch_name;
use crate::hl7::{Segment, Separators};

#[derive(Clone, Copy, PartialEq)]
enum Section {
    Message,
    List(Severity, bool),
    Other,
}

#[derive(Default)]
struct MessageState {
    errors: bool,
    warnings: bool,
    skipped: bool,
}

pub(crate) fn parse<R: BufRead>(
    mut input: R,
    name: &str,
    out: &mut Tally<'_>,
) -> Result<(), ParseFailure> {
    let mut buf = Vec::new();
    let mut section = Section::Other;
    let mut index: u64 = 0;
    let mut control_id: Option<Short> = None;
    let mut patient: Option<Short> = None;
    let mut sep = Separators::default();
    let mut state = MessageState::default();
    let (mut accepted, mut warned, mut rejected, mut skipped) = (0u64, 0u64, 0u64, 0u64);
    let mut close = |s: &MessageState, index: u64| {
        if index == 0 {
            return;
        }
        if s.skipped {
            skipped += 1;
        } else if s.errors {
            rejected += 1;
        } else if s.warnings {
            warned += 1;
        } else {
            accepted += 1;
        }
    };
    while let Some(line) = read_line_bounded(&mut input, &mut buf, 16 * 1024 * 1024)? {
        let trimmed = line.trim();
        if let Some(n) = trimmed.strip_prefix("Message ")
            && let Ok(n) = n.trim().parse::<u64>()
        {
            close(&state, index);
            state = MessageState::default();
            index = n;
            control_id = None;
            patient = None;
            section = Section::Message;
            continue;
        }
        if index == 0 {
            if trimmed.is_empty() {
                continue;
            }
            return Err(ParseFailure::Invalid(
                "expected the file to start with 'Message 1'".into(),
            ));
        }
        match trimmed {
            "Errors:" => {
                section = Section::List(Severity::Error, false);
                continue;
            }
            "Warnings:" => {
                section = Section::List(Severity::Warning, false);
                continue;
            }
            "Skip:" | "Skipped:" => {
                section = Section::List(Severity::Info, true);
                continue;
            }
            _ => {}
        }
        if trimmed.starts_with("Message Data:") {
            section = Section::Other;
            continue;
        }
        match section {
            Section::Message => {
                if trimmed.len() > 3 && trimmed.is_char_boundary(3) {
                    let seg = Segment::parse(trimmed, &mut sep);
                    match seg.id {
                        "MSH" => {
                            let id = seg.text(10);
                            control_id = (!id.is_empty()).then(|| Short::from(id));
                        }
                        "PID" => {
                            let p = seg.component(3, 1);
                            patient = (!p.is_empty()).then(|| Short::from(p));
                        }
                        _ => {}
                    }
                }
            }
            Section::List(sev, is_skip) => {
                let Some(item) = trimmed.strip_prefix('+') else {
                    continue;
                };
                let item = item.trim();
                match (sev, is_skip) {
                    (_, true) => state.skipped = true,
                    (Severity::Error, _) => state.errors = true,
                    (Severity::Warning, _) => state.warnings = true,
                    _ => {}
                }
                let (text, loc) = split_trailing_field(item);
                let code = codes::find_code(text)
                    .or_else(|| catalogue().code_for_text(text).map(Short::from));
                let loc = loc.or_else(|| codes::field_in_text(text)).or_else(|| {
                    code.as_deref()
                        .and_then(|c| catalogue().get(c))
                        .and_then(|i| i.field.as_deref())
                        .and_then(codes::normalize_field)
                });
                out.finding(Finding {
                    message_control_id: control_id.clone(),
                    message_index: Some(index),
                    patient_ref: patient.clone(),
                    segment: loc.as_ref().map(|l| l.segment.clone()),
                    field: loc.map(|l| l.field),
                    code,
                    severity: Some(sev),
                    text: text.to_string(),
                    raw: line.clone(),
                    count: 1,
                    ..Finding::default()
                })?;
            }
            Section::Other => {}
        }
    }
    close(&state, index);
    if index == 0 {
        return Err(ParseFailure::Invalid("no 'Message n' blocks".into()));
    }
    let s = &mut out.summary;
    s.counts.messages = Some(accepted + warned + rejected + skipped);
    s.counts.accepted = Some(accepted);
    s.counts.accepted_with_warnings = Some(warned);
    s.counts.rejected = Some(rejected);
    s.counts.skipped = Some(skipped);
    s.submission_file = batch_name::parse(name).map(|b| b.file_name);
    Ok(())
}

/// `Warning. Invalid body site. (RXR-2)` → (`Warning. Invalid body site.`, RXR-2).
fn split_trailing_field(item: &str) -> (&str, Option<codes::Location>) {
    if let Some(open) = item.rfind('(')
        && item.ends_with(')')
        && let Some(loc) = codes::normalize_field(&item[open + 1..item.len() - 1])
    {
        return (item[..open].trim_end(), Some(loc));
    }
    (item, None)
}

#[cfg(test)]
mod tests {
    use super::super::{Collect, ParseOptions, Severity, parse_bytes};

    #[test]
    fn specimen_counts() {
        let data = crate::formats::specimen("legacy-dqa/ACMECLIN25301.hl7.errors.txt");
        let mut c = Collect::all();
        let s = parse_bytes(
            &data,
            "ACMECLIN25301.hl7.errors.txt",
            &ParseOptions::default(),
            &mut c,
        )
        .unwrap();
        assert_eq!(s.counts.messages, Some(40));
        assert_eq!(s.counts.rejected, Some(10));
        assert_eq!(s.counts.accepted_with_warnings, Some(13));
        assert_eq!(s.counts.accepted, Some(17));
        assert_eq!(s.findings, 41);
        assert_eq!(s.by_severity, [11, 30, 0]);
        assert_eq!(s.submission_file.as_deref(), Some("ACMECLIN25301.hl7"));
        let f = &c.findings[0];
        assert_eq!(f.message_index, Some(1));
        assert_eq!(f.message_control_id.as_deref(), Some("ACMECLIN253010001"));
        assert_eq!(f.patient_ref.as_deref(), Some("MRN100000"));
        assert_eq!(f.field.as_deref(), Some("RXR-2"));
        assert_eq!(f.code.as_deref(), Some("IEE-571"));
        assert_eq!(f.text, "Warning. Invalid body site.");
        assert_eq!(f.raw, " + Warning. Invalid body site. (RXR-2)");
    }

    #[test]
    fn skip_section_and_crlf() {
        let data = b"Message 1\r\nMSH|^~\\&|A|B|C|D|2025||VXU^V04|CID1|P|2.5.1\r\nSkip:\r\n + HL7 MSH processing id is valued as debug\r\nMessage 2\r\nMSH|^~\\&|A|B|C|D|2025||VXU^V04|CID2|P|2.5.1\r\nErrors:\r\n + Patient birth date is missing (PID-7)\r\nMessage Data: x\r\n";
        let mut c = Collect::all();
        let s = parse_bytes(data, "b.errors.txt", &ParseOptions::default(), &mut c).unwrap();
        assert_eq!(s.counts.skipped, Some(1));
        assert_eq!(s.counts.rejected, Some(1));
        assert_eq!(c.findings[0].severity, Some(Severity::Info));
        assert_eq!(c.findings[1].field.as_deref(), Some("PID-7"));
        assert_eq!(c.findings[1].message_control_id.as_deref(), Some("CID2"));
    }
}
