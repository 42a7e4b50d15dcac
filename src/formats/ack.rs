//! HL7 acknowledgements (`*.ack`, or any file whose first segment is FHS/BHS/MSH with MSA/ERR).
//!
//! Streams segment by segment. Per message: MSA-1 (AA accepted, AE accepted with errors or
//! warnings, AR rejected) and MSA-2 (the submitted message's MSH-10); per ERR: ERR-2 location
//! (`RXR^1^2` → `RXR-2`, `NK1^^0` → `NK1`; ERR-1 for v2.3-style acks), ERR-4 severity, ERR-8
//! user message `CODE-NNN::text` (several codes in one ERR-8 become several findings).
//! Encoding characters come from each MSH/FHS/BHS; escapes are decoded.

use std::io::BufRead;

use super::codes::{self, catalogue};
use super::{Finding, ParseFailure, Tally};
use crate::batch_name;
use crate::hl7::{Segment, SegmentReader, Separators, decode_text, unescape};

pub(crate) fn parse<R: BufRead>(
    input: R,
    name: &str,
    out: &mut Tally<'_>,
) -> Result<(), ParseFailure> {
    let mut reader = SegmentReader::new(input);
    let mut buf = Vec::new();
    let mut sep = Separators::default();
    let mut message_index: u64 = 0;
    let mut control_id: Option<String> = None;
    let (mut aa, mut ae, mut ar) = (0u64, 0u64, 0u64);
    let mut saw_msa = false;
    let mut file_name: Option<String> = None;
    let mut first = true;
    while reader.next_into(&mut buf)? {
        let line = decode_text(&buf).into_owned();
        let seg = Segment::parse(&line, &mut sep);
        if first {
            first = false;
            if !matches!(seg.id, "FHS" | "BHS" | "MSH") {
                return Err(ParseFailure::Invalid(format!(
                    "first segment is '{}', expected FHS, BHS or MSH",
                    truncate(seg.id, 10)
                )));
            }
        }
        match seg.id {
            "FHS" => {
                let f = seg.text(9);
                if !f.is_empty() {
                    file_name = Some(f);
                }
            }
            "MSH" => {
                message_index += 1;
                control_id = None;
            }
            "MSA" => {
                saw_msa = true;
                match seg.field(1) {
                    "AA" | "CA" => aa += 1,
                    "AE" | "CE" => ae += 1,
                    "AR" | "CR" => ar += 1,
                    _ => {}
                }
                let id = seg.text(2);
                control_id = (!id.is_empty()).then_some(id);
            }
            "ERR" => emit_err(&seg, &line, message_index, &control_id, out)?,
            _ => {}
        }
    }
    if !saw_msa && out.summary.findings == 0 {
        return Err(ParseFailure::Invalid(
            "no MSA or ERR segment: not an acknowledgement".into(),
        ));
    }
    let s = &mut out.summary;
    s.counts.messages = Some(aa + ae + ar);
    s.counts.accepted = Some(aa);
    s.counts.accepted_with_warnings = Some(ae);
    s.counts.rejected = Some(ar);
    s.submission_file = file_name
        .as_deref()
        .and_then(batch_name::parse)
        .or_else(|| batch_name::parse(name))
        .map(|b| b.file_name);
    Ok(())
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn emit_err(
    seg: &Segment<'_>,
    raw: &str,
    message_index: u64,
    control_id: &Option<String>,
    out: &mut Tally<'_>,
) -> Result<(), ParseFailure> {
    // ERR-2 (v2.5) location, else ERR-1 (v2.3: location^code...)
    let mut loc = codes::err_location(
        seg.component(2, 1),
        seg.component(2, 3),
        seg.component(2, 5),
    );
    if loc.is_none() {
        loc = codes::err_location(
            seg.component(1, 1),
            seg.component(1, 3),
            seg.component(1, 5),
        );
    }
    let severity = codes::severity_of_word(seg.field(4));
    let mut message = seg.text(8);
    if message.is_empty() {
        message = unescape(seg.component(3, 2), &seg.sep);
    }
    if message.is_empty() {
        message = unescape(seg.component(1, 4), &seg.sep);
    }
    let (_, parts) = codes::split_codes(&message);
    let parts = if parts.is_empty() {
        vec![codes::CodedText {
            code: None,
            text: String::new(),
        }]
    } else {
        parts
    };
    for part in parts {
        let code = part
            .code
            .clone()
            .or_else(|| catalogue().code_for_text(&part.text).map(str::to_string));
        let sev = severity.or_else(|| {
            code.as_deref()
                .map(|c| codes::severity_of_code(c, &part.text))
        });
        let loc = loc.clone().or_else(|| codes::field_in_text(&part.text));
        out.finding(Finding {
            message_control_id: control_id.clone(),
            message_index: (message_index > 0).then_some(message_index),
            patient_ref: None,
            segment: loc.as_ref().map(|l| l.segment.clone()),
            field: loc.map(|l| l.field),
            code,
            severity: sev.or(Some(codes::severity_of_text(&part.text))),
            text: part.text,
            raw: raw.to_string(),
            count: 1,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{Collect, ParseOptions, Severity, parse_bytes};

    fn run(data: &[u8]) -> (super::super::Summary, Collect) {
        let mut c = Collect::all();
        let s = parse_bytes(data, "x.ack", &ParseOptions::default(), &mut c).unwrap();
        (s, c)
    }

    #[test]
    fn specimen_counts() {
        let data = crate::formats::specimen("ack/ACMECLIN25301.hl7.ack");
        let (s, c) = run(&data);
        assert_eq!(s.findings, 41);
        assert_eq!(s.by_severity, [11, 26, 4]);
        assert_eq!(s.counts.messages, Some(40));
        assert_eq!(s.counts.accepted, Some(17));
        assert_eq!(s.counts.accepted_with_warnings, Some(15));
        assert_eq!(s.counts.rejected, Some(8));
        assert_eq!(s.submission_file.as_deref(), Some("ACMECLIN25301.hl7"));
        let f = &c.findings[0];
        assert_eq!(f.message_control_id.as_deref(), Some("ACMECLIN253010001"));
        assert_eq!(f.field.as_deref(), Some("RXR-2"));
        assert_eq!(f.segment.as_deref(), Some("RXR"));
        assert_eq!(f.code.as_deref(), Some("IEE-571"));
        assert_eq!(f.severity, Some(Severity::Warning));
        assert_eq!(f.text, "Warning. Invalid body site.");
        assert!(f.raw.starts_with("ERR||RXR^1^2|"));
        assert_eq!(f.message_index, Some(1));
    }

    #[test]
    fn newline_endings_no_wrappers_escapes_and_segment_locations() {
        let data = b"MSH|^~\\&|X|TEXIIS||B|20250101||ACK^V04^ACK|1|P|2.5.1\n\
MSA|AE|CTRL1\n\
ERR||NK1^^0|101|W||||IEE-519::Warning. NK1 Segment/Responsible person, missing.\n\
ERR||PID^1^11^^3|101|W||||Warning. Address \\T\\ city \\F\\ missing IEE-998\n\
MSH|^~\\&|X|TEXIIS||B|20250101||ACK^V04^ACK|2|P|2.5.1\n\
MSA|AR|CTRL2\n\
ERR||PD1^1^12|101|E||||CLR-101::Client rejected. consent flag not valid for client age IMR-132::Immunization Rejected. Standard consent required.\n";
        let (s, c) = run(data);
        assert_eq!(s.findings, 4);
        assert_eq!(s.counts.rejected, Some(1));
        assert_eq!(s.counts.accepted_with_warnings, Some(1));
        assert_eq!(c.findings[0].field.as_deref(), Some("NK1"));
        assert_eq!(c.findings[1].field.as_deref(), Some("PID-11.3"));
        assert_eq!(
            c.findings[1].text,
            "Warning. Address & city | missing IEE-998"
        );
        assert_eq!(c.findings[1].code.as_deref(), Some("IEE-998"));
        assert_eq!(c.findings[2].code.as_deref(), Some("CLR-101"));
        assert_eq!(c.findings[3].code.as_deref(), Some("IMR-132"));
        assert_eq!(c.findings[3].message_control_id.as_deref(), Some("CTRL2"));
        assert_eq!(c.findings[3].message_index, Some(2));
    }

    #[test]
    fn v23_err1_and_custom_delimiters() {
        let data = b"MSH#:*!@#X#TEXIIS##B#1##ACK:V04#9#P#2.3\r\
MSA#AE#C9\r\
ERR#RXA:1:5:101!F!x\r";
        let (s, c) = run(data);
        assert_eq!(s.findings, 1);
        assert_eq!(c.findings[0].field.as_deref(), Some("RXA-5"));
        assert_eq!(c.findings[0].text, "101#x");
    }
}
