//! HL7 acknowledgements (`*.ack`, or any file whose first segment is FHS/BHS/MSH with MSA/ERR).
//!
//! Streams message by message (a message is everything from one MSH to the next, so memory is
//! bounded by the largest message). The status of each message comes from the whole
//! acknowledgement, not MSA-1 alone (README, "Message status"):
//!
//! - AR (or CR) is a rejected message;
//! - any finding of severity E rejects the message, whatever MSA-1 says (CDC table 0516:
//!   E = "transaction was unsuccessful"; registries send AE + E, and some AA + "Record
//!   Rejected" in MSA-3);
//! - AE, or any W finding, with no E is accepted with warnings; AA with at most I findings is
//!   accepted.
//!
//! Messages are counted by MSH, not by MSA (some registries repeat `MSA|AA|id|text` + ERR per
//! issue under one MSH). Per ERR: location from ERR-2 (`RXR^1^2` → `RXR-2`, `RXA^1^11.4` →
//! `RXA-11.4`, `NK1^^0` → `NK1`), else from each repetition of the v2.3.1 ERR-1 (ELD:
//! `SEG^seq^field^code&text&table`, one finding per repetition); ERR-3 (HL7 table 0357) and
//! ERR-5 (application error code, e.g. `DQA0314`) are kept; the text is ERR-8 (`CODE-NNN::text`,
//! several codes become several findings), else MSA-3, else ERR-5's or ERR-3's text, else the
//! ELD text; the severity is ERR-4, else the MSA-3 wording (Warning / Informational /
//! Rejected / validation failed), else the registry code's class, else the message status.
//! Without a registry code, ERR-5 groups the findings (it becomes the code).
//!
//! Query traffic in the same folder (`RSP^K11`, `ACK^Q21`, any message with QAK) is counted
//! apart (`queries`) and never as accepted or rejected VXU messages; its ERRs are not data
//! quality findings. Encoding characters come from each MSH/FHS/BHS; escapes are decoded.

use std::io::BufRead;

use super::codes::{self, catalogue};
use super::{Finding, ParseFailure, Severity, Short, Tally};
use crate::batch_name;
use crate::hl7::{Segment, SegmentReader, Separators, decode_text, unescape, unescape_cow};

/// MSA-1, worst last: a message with several MSAs takes the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum AckCode {
    Accept,
    Error,
    Reject,
}

/// What a message's acknowledgement says about it, from MSA-1 and every ERR together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageStatus {
    Accepted,
    AcceptedWithWarnings,
    Rejected,
}

/// The status rule (README, "Message status"): AR, or any E finding, rejects; AE or any W
/// finding (no E) is accepted with warnings; otherwise accepted.
pub fn message_status(msa: Option<&str>, worst: Option<Severity>) -> MessageStatus {
    let code = msa.map(ack_code);
    if code == Some(Some(AckCode::Reject)) || worst == Some(Severity::Error) {
        MessageStatus::Rejected
    } else if code == Some(Some(AckCode::Error)) || worst == Some(Severity::Warning) {
        MessageStatus::AcceptedWithWarnings
    } else {
        MessageStatus::Accepted
    }
}

impl From<MessageStatus> for crate::domain::AnswerStatus {
    fn from(s: MessageStatus) -> Self {
        match s {
            MessageStatus::Accepted => crate::domain::AnswerStatus::Accepted,
            MessageStatus::AcceptedWithWarnings => {
                crate::domain::AnswerStatus::AcceptedWithWarnings
            }
            MessageStatus::Rejected => crate::domain::AnswerStatus::Rejected,
        }
    }
}

fn ack_code(s: &str) -> Option<AckCode> {
    match s.trim().to_ascii_uppercase().as_str() {
        "AA" | "CA" => Some(AckCode::Accept),
        "AE" | "CE" => Some(AckCode::Error),
        "AR" | "CR" => Some(AckCode::Reject),
        _ => None,
    }
}

/// Severity from words in a text (MSA-3 or the issue's own text), when they say it clearly.
fn severity_in_words(text: &str) -> Option<Severity> {
    let t = text.trim_start().to_ascii_lowercase();
    if t.is_empty() {
        None
    } else if t.starts_with("warn") {
        Some(Severity::Warning)
    } else if t.starts_with("info") {
        Some(Severity::Info)
    } else if t.contains("reject") || t.contains("validation failed") || t.starts_with("error") {
        Some(Severity::Error)
    } else {
        None
    }
}

/// One message of the acknowledgement, from its MSH to the next.
#[derive(Default)]
struct Message {
    index: u64,
    /// Not an acknowledgement of a VXU: a query response (RSP, ACK^Qnn, QAK) or another type.
    query: bool,
    control_id: Option<Short>,
    msa: Option<AckCode>,
    msa_raw: Option<String>,
    /// MSA-3 not yet given to an ERR (one MSA per error: the text belongs to the next ERR).
    msa_text: Option<String>,
    /// MSA-3 wording, kept for the severity of later ERRs.
    msa_severity: Option<Severity>,
    seen: bool,
    findings: Vec<Finding>,
}

#[derive(Default)]
struct Tallies {
    accepted: u64,
    warned: u64,
    rejected: u64,
    queries: u64,
}

impl Message {
    fn start(index: u64, msh: &Segment<'_>) -> Message {
        let kind = msh.component(9, 1).trim().to_ascii_uppercase();
        let trigger = msh.component(9, 2).trim().to_ascii_uppercase();
        let ack = kind.is_empty() || (kind == "ACK" && !trigger.starts_with('Q'));
        Message {
            index,
            query: !ack,
            ..Message::default()
        }
    }

    /// Count the message and stream its findings (query traffic: counted apart, no findings).
    fn finish(self, t: &mut Tallies, out: &mut Tally<'_>) -> Result<(), ParseFailure> {
        if self.query {
            t.queries += 1;
            return Ok(());
        }
        if !self.seen {
            return Ok(()); // an MSH with neither MSA nor ERR
        }
        let worst = self.findings.iter().map(Finding::severity).min();
        let msa = self.msa_raw.as_deref();
        let status = message_status(msa, worst);
        match status {
            MessageStatus::Accepted => t.accepted += 1,
            MessageStatus::AcceptedWithWarnings => t.warned += 1,
            MessageStatus::Rejected => t.rejected += 1,
        }
        out.answer(super::Answer {
            message_control_id: self.control_id.clone(),
            message_index: self.index,
            status: status.into(),
        })?;
        for f in self.findings {
            out.finding(f)?;
        }
        Ok(())
    }

    /// Severity when neither ERR-4, the MSA-3 wording, the code nor the text says: from the
    /// message status so far.
    /// An ERR under AA with no severity of its own is a warning: the registry took the record
    /// but says something about it (New Mexico's "INACCURATE OR MISSING OBSERVATION VALUE. NO
    /// VALUE STORED." drops a value), which is not merely informational.
    fn status_severity(&self) -> Severity {
        match self.msa {
            Some(AckCode::Reject) => Severity::Error,
            _ => Severity::Warning,
        }
    }
}

pub(crate) fn parse<R: BufRead>(
    input: R,
    name: &str,
    out: &mut Tally<'_>,
) -> Result<(), ParseFailure> {
    let mut reader = SegmentReader::new(input);
    let mut buf = Vec::new();
    let mut sep = Separators::default();
    let mut index: u64 = 0;
    let mut msg: Option<Message> = None;
    let mut t = Tallies::default();
    let mut saw_msa = false;
    let mut file_name: Option<String> = None;
    let mut header_date: Option<chrono::NaiveDate> = None;
    let mut message_date: Option<chrono::NaiveDate> = None;
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
                header_date = header_date.or_else(|| hl7_date(seg.field(7)));
            }
            "MSH" => {
                message_date = message_date.or_else(|| hl7_date(seg.field(7)));
                if let Some(m) = msg.take() {
                    m.finish(&mut t, out)?;
                }
                index += 1;
                msg = Some(Message::start(index, &seg));
            }
            "QAK" | "QPD" => {
                if let Some(m) = msg.as_mut() {
                    m.query = true;
                }
            }
            "MSA" => {
                saw_msa = true;
                let m = msg.get_or_insert_with(Message::default);
                m.seen = true;
                let code = ack_code(seg.field(1));
                if code > m.msa {
                    m.msa = code;
                    m.msa_raw = Some(seg.field(1).trim().to_string());
                }
                let id = unescape_cow(seg.field(2), &seg.sep);
                if m.control_id.is_none() && !id.is_empty() {
                    m.control_id = Some(Short::from(id.as_ref()));
                }
                let text = seg.text(3);
                m.msa_severity = severity_in_words(&text);
                m.msa_text = (!text.trim().is_empty()).then(|| text.trim().to_string());
            }
            "ERR" => {
                let m = msg.get_or_insert_with(Message::default);
                m.seen = true;
                read_err(&seg, &line, m)?;
            }
            _ => {}
        }
    }
    if let Some(m) = msg.take() {
        m.finish(&mut t, out)?;
    }
    if !saw_msa && out.summary.findings == 0 && t.queries == 0 {
        return Err(ParseFailure::Invalid(
            "no MSA or ERR segment: not an acknowledgement".into(),
        ));
    }
    // query traffic alone answers no batch, whatever the file is called
    let answers_vxu = t.accepted + t.warned + t.rejected > 0 || out.summary.findings > 0;
    let s = &mut out.summary;
    s.counts.messages = Some(t.accepted + t.warned + t.rejected);
    s.counts.accepted = Some(t.accepted);
    s.counts.accepted_with_warnings = Some(t.warned);
    s.counts.rejected = Some(t.rejected);
    s.counts.queries = Some(t.queries);
    s.date = message_date.or(header_date);
    s.submission_file = file_name
        .as_deref()
        .and_then(batch_name::parse)
        .or_else(|| batch_name::parse(name))
        .map(|b| b.file_name)
        .filter(|_| answers_vxu || t.queries == 0);
    Ok(())
}

/// The day of an HL7 DTM (`YYYYMMDD[HHMM[SS]][±ZZZZ]`).
fn hl7_date(s: &str) -> Option<chrono::NaiveDate> {
    let d = s.trim().get(..8)?;
    chrono::NaiveDate::parse_from_str(d, "%Y%m%d").ok()
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// The first non-empty of the components (identifier or alternate identifier of a CWE).
fn first_of<'a>(seg: &Segment<'a>, field: usize, comps: &[usize]) -> Option<&'a str> {
    comps
        .iter()
        .map(|&c| seg.component(field, c).trim())
        .find(|s| !s.is_empty())
}

/// HL7 table 0357's 2xx codes are rejections (200 unsupported message type … 207 application
/// internal error): the message was not processed, whatever MSA-1 says (AIRA's tools count
/// AE + 207 with no severity as rejected).
fn rejection_code(code: Option<&str>) -> bool {
    code.and_then(|c| c.trim().parse::<u32>().ok())
        .is_some_and(|n| (200..300).contains(&n))
}

/// One ERR segment → findings (one per `CODE-NNN::` in ERR-8, one per ERR-1 repetition).
fn read_err(seg: &Segment<'_>, raw: &str, m: &mut Message) -> Result<(), ParseFailure> {
    let sep = &seg.sep;
    let hl7_code = first_of(seg, 3, &[1, 4]).map(|s| Short::from(unescape_cow(s, sep).as_ref()));
    let app_code = first_of(seg, 5, &[1, 4]).map(|s| Short::from(unescape_cow(s, sep).as_ref()));
    let err4 = codes::severity_of_word(seg.component(4, 1));
    let mut text = seg.text(8);
    if text.trim().is_empty() {
        text = m.msa_text.take().unwrap_or_default();
    }
    if text.trim().is_empty() {
        text = first_of(seg, 5, &[2, 5])
            .or_else(|| first_of(seg, 3, &[2, 5]))
            .map(|s| unescape(s, sep))
            .unwrap_or_default();
    }
    // (location, the ELD's own code and text) per issue: ERR-2, else each ERR-1 repetition
    let mut places: Vec<(Option<codes::Location>, Option<Short>, String)> = Vec::new();
    let erl = codes::err_location(
        seg.component(2, 1),
        seg.component(2, 3),
        seg.component(2, 5),
    );
    if erl.is_some() || seg.field(1).trim().is_empty() {
        places.push((erl, None, String::new()));
    } else {
        for rep in seg.field(1).split(sep.repetition as char) {
            if rep.trim().is_empty() {
                continue;
            }
            let comp = |i: usize| rep.split(sep.component as char).nth(i - 1).unwrap_or("");
            let loc = codes::err_location(comp(1), comp(3), "");
            let ce = comp(4);
            let mut sub = ce.split(sep.subcomponent as char);
            let code = sub
                .next()
                .map(|s| Short::from(unescape_cow(s.trim(), sep).as_ref()));
            let eld_text = sub
                .next()
                .map(|s| unescape(s.trim(), sep))
                .unwrap_or_default();
            let eld_text = if eld_text.is_empty() {
                unescape(ce, sep)
            } else {
                eld_text
            };
            places.push((loc, code.filter(|c| !c.is_empty()), eld_text));
        }
    }
    for (loc, eld_code, eld_text) in places {
        let message = if text.trim().is_empty() || eld_code.is_some() {
            eld_text.clone()
        } else {
            text.clone()
        };
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
            let registry_code = part
                .code
                .clone()
                .or_else(|| catalogue().code_for_text(&part.text).map(Short::from));
            let severity = err4
                .or(m.msa_severity)
                .or_else(|| {
                    registry_code
                        .as_deref()
                        .map(|c| codes::severity_of_code(c, &part.text))
                })
                .or_else(|| severity_in_words(&part.text))
                .or_else(|| rejection_code(hl7_code.as_deref()).then_some(Severity::Error))
                .unwrap_or_else(|| m.status_severity());
            let loc = loc.clone().or_else(|| codes::field_in_text(&part.text));
            let hl7_error_code = eld_code.clone().or_else(|| hl7_code.clone());
            m.findings.push(Finding {
                message_control_id: m.control_id.clone(),
                message_index: (m.index > 0).then_some(m.index),
                patient_ref: None,
                segment: loc.as_ref().map(|l| l.segment.clone()),
                field: loc.map(|l| l.field),
                code: registry_code.or_else(|| app_code.clone()),
                severity: Some(severity),
                text: part.text,
                raw: raw.to_string(),
                count: 1,
                hl7_error_code,
                app_error_code: app_code.clone(),
            });
        }
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

    /// (messages, accepted, with warnings, rejected)
    fn status(s: &super::super::Summary) -> (u64, u64, u64, u64) {
        let c = s.counts;
        (
            c.messages.unwrap(),
            c.accepted.unwrap(),
            c.accepted_with_warnings.unwrap(),
            c.rejected.unwrap(),
        )
    }

    /// Edge cases from real answers of other registries.
    #[test]
    fn severity_edge_cases_and_query_answers() {
        // AA with an ERR that carries no severity: a warning (New Mexico), not information
        let (s, c) = run(b"MSH|^~\\&|NMSIIS|NMDOH||X|20250101||ACK^V04^ACK|1|P|2.5.1\rMSA|AA|M1\r\
ERR||OBX^1^5|102^Data type error^HL70357||||INACCURATE OR MISSING OBSERVATION VALUE. NO VALUE STORED.\r");
        assert_eq!(status(&s), (1, 0, 1, 0));
        assert_eq!(c.findings[0].severity, Some(Severity::Warning));
        // AE with 0357 code 207 and no severity: a rejection
        let (s, c) = run(
            b"MSH|^~\\&|IIS|IIS||X|20250101||ACK^V04^ACK|1|P|2.5.1\rMSA|AE|M1\r\
ERR||MSH^1^10|207^Application internal error^HL70357|||||Application internal error\r",
        );
        assert_eq!(status(&s), (1, 0, 0, 1));
        assert_eq!(c.findings[0].severity, Some(Severity::Error));
        // a local code in ERR-5 is the finding's code
        let (_, c) = run(b"MSH|^~\\&|IIS|IIS||X|20250101||ACK^V04^ACK|1|P|2.5.1\rMSA|AE|M1\r\
ERR||RXA^1^5|103^Table value not found^HL70357||101.1118^Vaccine code not recognized^L|||Vaccine code not recognized\r");
        assert_eq!(c.findings[0].code.as_deref(), Some("101.1118"));
        // query traffic named like a batch's answer answers no batch; no queries is 0
        let mut col = Collect::all();
        let s = parse_bytes(
            b"MSH|^~\\&|IIS|IIS||X|20250101||RSP^K11^RSP_K11|1|P|2.5.1\rMSA|AA|Q1\rQAK|Q1|OK\r",
            "ACMECLIN25301.hl7.ack",
            &ParseOptions::default(),
            &mut col,
        )
        .unwrap();
        assert_eq!(s.counts.queries, Some(1));
        assert_eq!(s.submission_file, None);
        let (s, _) =
            run(b"MSH|^~\\&|IIS|IIS||X|20251028120000||ACK^V04^ACK|1|P|2.5.1\rMSA|AA|M1\r");
        assert_eq!(s.counts.queries, Some(0));
        // the answer's own date (MSH-7) dates a report that names no batch
        assert_eq!(s.date, chrono::NaiveDate::from_ymd_opt(2025, 10, 28));
    }

    #[test]
    fn specimen_counts() {
        let data = crate::formats::specimen("ack/ACMECLIN25301.hl7.ack");
        let (s, c) = run(&data);
        assert_eq!(s.findings, 41);
        assert_eq!(s.by_severity, [11, 26, 4]);
        // 10 rejected: 8 AR, and 2 AE whose errors are E ("Immunization rejected",
        // IMR-109 and IMR-111): AE + E is a rejection (CDC table 0516), not a warning.
        assert_eq!(status(&s), (40, 17, 13, 10));
        assert_eq!(s.counts.queries, Some(0));
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
    fn the_real_immtrac2_ack_keeps_err3_and_err5() {
        let data = b"MSH|^~\\&|ImmTrac24.16|TEXIIS||BURL6343|20210415044526-0500||ACK^V04^ACK|7008167375|P|2.5.1|||NE|NE|||||Z23^CDCPHINVS|TEXIIS|BURL6343\r\
MSA|AE|7008167375\r\
ERR||NK1^^0|101^Required field missing^HL70357|W|4^Invalid value^HL70533|||IEE-519::Warning. NK1 Segment/Responsible person, missing.\r";
        let (s, c) = run(data);
        assert_eq!(status(&s), (1, 0, 1, 0));
        let f = &c.findings[0];
        assert_eq!(f.code.as_deref(), Some("IEE-519"));
        assert_eq!(f.field.as_deref(), Some("NK1"));
        assert_eq!(f.hl7_error_code.as_deref(), Some("101"));
        assert_eq!(f.app_error_code.as_deref(), Some("4"));
        assert_eq!(f.severity, Some(Severity::Warning));
    }

    #[test]
    fn ae_with_an_e_severity_error_is_a_rejection() {
        // California / NIST shape: AE + ERR-4 = E whose text says the message was rejected.
        let data = b"MSH|^~\\&|CAIR|CAIR||X|20250101||ACK^V04^ACK|1|P|2.5.1\r\
MSA|AE|M1\r\
ERR||RXA^1^5|103^Table value not found^HL70357|E|5^Table value not found^HL70533|||Message rejected: vaccine code not recognised\r\
ERR||PID^1^13|101^Required field missing^HL70357|W|7^Required data missing^HL70533|||Phone number missing\r\
MSH|^~\\&|CAIR|CAIR||X|20250101||ACK^V04^ACK|2|P|2.5.1\r\
MSA|AE|M2\r\
ERR||PID^1^13|101^Required field missing^HL70357|W|7^Required data missing^HL70533|||Phone number missing\r\
MSH|^~\\&|CAIR|CAIR||X|20250101||ACK^V04^ACK|3|P|2.5.1\r\
MSA|AE|M3\r\
ERR||PID^1^22|||||||\r\
ERR||PID^1^10||I||||Race not stored\r\
MSH|^~\\&|CAIR|CAIR||X|20250101||ACK^V04^ACK|4|P|2.5.1\r\
MSA|AA|M4\r\
ERR||PID^1^10||I||||Race not stored\r";
        let (s, c) = run(data);
        // M1 rejected (AE + E), M2 and M3 accepted with warnings (AE, W or no severity),
        // M4 accepted (AA with information only).
        assert_eq!(status(&s), (4, 1, 2, 1));
        assert_eq!(c.findings[0].severity, Some(Severity::Error));
        assert_eq!(c.findings[0].code.as_deref(), Some("5"));
        assert_eq!(c.findings[0].hl7_error_code.as_deref(), Some("103"));
    }

    #[test]
    fn one_msa_per_error_counts_messages_by_msh() {
        // New Mexico shape: one MSH, an MSA + ERR pair per issue, the text and its severity
        // word in MSA-3, ERR-4 and ERR-8 empty, MSA-1 AA even for a rejected record.
        let data = b"MSH|^~\\&|NMSIIS|NMDOH||X|20250101||ACK^V04^ACK|1|P|2.5.1\r\
MSA|AA|M1|WARNING: Patient phone number is missing\r\
ERR||PID^1^13\r\
MSA|AA|M1|Informational Message: Patient race not stored\r\
ERR||PID^1^10\r\
MSH|^~\\&|NMSIIS|NMDOH||X|20250101||ACK^V04^ACK|2|P|2.5.1\r\
MSA|AA|M2|Record Rejected: vaccination date is before birth\r\
ERR||RXA^1^3\r\
MSH|^~\\&|NMSIIS|NMDOH||X|20250101||ACK^V04^ACK|3|P|2.5.1\r\
MSA|AA|M3\r";
        let (s, c) = run(data);
        assert_eq!(status(&s), (3, 1, 1, 1));
        assert_eq!(c.findings.len(), 3);
        assert_eq!(
            c.findings[0].text,
            "WARNING: Patient phone number is missing"
        );
        assert_eq!(c.findings[0].severity, Some(Severity::Warning));
        assert_eq!(c.findings[0].field.as_deref(), Some("PID-13"));
        assert_eq!(c.findings[1].severity, Some(Severity::Info));
        assert_eq!(c.findings[2].severity, Some(Severity::Error));
        assert_eq!(c.findings[2].message_control_id.as_deref(), Some("M2"));
        assert_eq!(c.findings[2].message_index, Some(2));
    }

    #[test]
    fn v231_eld_repetitions_are_one_finding_each() {
        let data = b"MSH|^~\\&|IIS|IIS||X|20250101||ACK^V04|1|P|2.3.1\r\
MSA|AE|M1|Validation failed\r\
ERR|MSH^1^5^1006&Required field missing&HL70357~RXA^1^4^1006&Required field missing&HL70357\r\
MSH|^~\\&|IIS|IIS||X|20250101||ACK^V04|2|P|2.3.1\r\
MSA|AA|M2\r";
        let (s, c) = run(data);
        assert_eq!(status(&s), (2, 1, 0, 1));
        assert_eq!(c.findings.len(), 2);
        assert_eq!(c.findings[0].field.as_deref(), Some("MSH-5"));
        assert_eq!(c.findings[1].field.as_deref(), Some("RXA-4"));
        assert_eq!(c.findings[1].text, "Required field missing");
        assert_eq!(c.findings[1].hl7_error_code.as_deref(), Some("1006"));
        assert!(
            c.findings
                .iter()
                .all(|f| f.severity == Some(Severity::Error))
        );
    }

    #[test]
    fn err5_application_codes_group_findings_and_erl_components_read() {
        let data = b"MSH|^~\\&|WEBIZ|IIS||X|20250101||ACK^V04^ACK|1|P|2.5.1\r\
MSA|AE|M1\r\
ERR||RXA^1^11.4^1|101^Required field missing^HL70357|W|^^^DQA0314^Vaccination facility id is missing^HL70533|||\r\
ERR||ORC^1^12||W|WEBIZ-AUTH-609|||Ordering provider not authorised\r";
        let (s, c) = run(data);
        assert_eq!(status(&s), (1, 0, 1, 0));
        assert_eq!(c.findings[0].field.as_deref(), Some("RXA-11.4"));
        assert_eq!(c.findings[0].code.as_deref(), Some("DQA0314"));
        assert_eq!(c.findings[0].app_error_code.as_deref(), Some("DQA0314"));
        assert_eq!(c.findings[0].text, "Vaccination facility id is missing");
        assert_eq!(c.findings[1].code.as_deref(), Some("WEBIZ-AUTH-609"));
        assert_eq!(c.findings[1].text, "Ordering provider not authorised");
    }

    #[test]
    fn query_traffic_is_counted_apart() {
        let data = b"MSH|^~\\&|IIS|IIS||X|20250101||RSP^K11^RSP_K11|1|P|2.5.1\r\
MSA|AA|Q1\r\
ERR||QPD^1^3|101||||||No match\r\
QAK|Q1|NF\r\
MSH|^~\\&|IIS|IIS||X|20250101||ACK^Q21|2|P|2.5.1\r\
MSA|AE|Q2\r\
MSH|^~\\&|IIS|IIS||X|20250101||ACK^V04^ACK|3|P|2.5.1\r\
MSA|AR|M3\r\
ERR||MSH^1^9|200||E||||Unsupported message type\r";
        let (s, c) = run(data);
        assert_eq!(status(&s), (1, 0, 0, 1));
        assert_eq!(s.counts.queries, Some(2));
        assert_eq!(
            c.findings.len(),
            1,
            "query ERRs are not data quality findings"
        );
        let only_queries =
            b"MSH|^~\\&|IIS|IIS||X|20250101||RSP^K11^RSP_K11|1|P|2.5.1\rMSA|AA|Q1\rQAK|Q1|OK\r";
        let (s, _) = run(only_queries);
        assert_eq!(status(&s), (0, 0, 0, 0));
        assert_eq!(s.counts.queries, Some(1));
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
