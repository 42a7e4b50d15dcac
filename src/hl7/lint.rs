//! Pre-flight checks of a VXU batch before upload: structure (errors that make the file
//! unsendable) and lint rules that predict the registry's own rejections and warnings, each
//! with the registry code it predicts.
//!
//! Structure: segment terminators, FHS/BHS/BTS/FTS wrappers consistent when present (BTS
//! count = messages), every message starts with MSH, MSH-9 `VXU^V04`, MSH-12 `2.5.1`, MSH-10
//! unique in the file. Lint (per message): consent code PD1-12 valid and fitting the age on the
//! vaccination date (CLR-101), PD1-13 a valid date not in the future (CLR-105/106), NK1
//! present (IEE-519), PID-11 address with city (PID-11.3, IEE-998), PID-7 valid and not in the
//! future, RXA-5 CVX present, RXA-17 manufacturer present for administered doses (IMR-111),
//! OBX-14 present, ORC-12 present (IEE-526), the same immunization twice in the file (IMR-110).
//! Messages name the line, segment and message control id, never patient data.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::{Segment, Separators, decode_text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Level {
    /// The registry would reject the message (or the file is malformed).
    Error,
    Warning,
}

/// One problem found before upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub level: Level,
    /// The rule that fired (`structure`, `consent-code`, …).
    pub rule: &'static str,
    /// The registry code it predicts, when known.
    pub predicts: Option<&'static str>,
    /// 1-based line (segment) number.
    pub line: usize,
    pub segment: String,
    /// MSH-10 of the message, when inside one.
    pub control_id: Option<String>,
    pub message: String,
}

/// The result of checking a batch.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LintReport {
    pub messages: usize,
    /// Structural problems: the file is not sent while there are any.
    pub structure: Vec<Issue>,
    /// Predicted registry findings.
    pub lint: Vec<Issue>,
}

impl LintReport {
    pub fn errors(&self) -> usize {
        self.lint.iter().filter(|i| i.level == Level::Error).count()
    }
    pub fn warnings(&self) -> usize {
        self.lint
            .iter()
            .filter(|i| i.level == Level::Warning)
            .count()
    }
    pub fn structure_ok(&self) -> bool {
        self.structure.is_empty()
    }
}

struct Msg<'a> {
    line: usize,
    control_id: String,
    segs: Vec<(usize, Segment<'a>)>,
}

fn date8(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if s.len() < 8 || !s.as_bytes()[..8].iter().all(u8::is_ascii_digit) {
        return None;
    }
    NaiveDate::parse_from_str(&s[..8], "%Y%m%d").ok()
}

fn age_on(dob: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - dob.year();
    if (on.month(), on.day()) < (dob.month(), dob.day()) {
        age -= 1;
    }
    age
}

/// Check a batch file's bytes. `today` bounds "not in the future".
pub fn check(data: &[u8], today: NaiveDate) -> LintReport {
    let text = decode_text(data);
    let mut report = LintReport::default();
    let structure = |line: usize, seg: &str, cid: Option<&str>, message: String| Issue {
        level: Level::Error,
        rule: "structure",
        predicts: None,
        line,
        segment: seg.to_string(),
        control_id: cid.map(str::to_string),
        message,
    };
    // terminators
    let cr = text.matches('\r').count();
    let lf = text.matches('\n').count();
    let crlf = text.matches("\r\n").count();
    if cr == 0 && lf == 0 {
        report.structure.push(structure(
            1,
            "",
            None,
            "no segment terminators: expected segments ended by carriage returns".into(),
        ));
    } else if crlf == 0 && cr > 0 && lf > 0 {
        report.structure.push(structure(
            1,
            "",
            None,
            format!("mixed segment terminators ({cr} CR and {lf} LF): use one kind, preferably CR"),
        ));
    }
    let lines: Vec<(usize, &str)> = text
        .split(['\r', '\n'])
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .collect();
    if lines.is_empty() {
        report
            .structure
            .push(structure(1, "", None, "the file is empty".into()));
        return report;
    }
    let mut sep = Separators::default();
    let segs: Vec<(usize, Segment<'_>)> = lines
        .iter()
        .map(|(n, l)| (*n, Segment::parse(l, &mut sep)))
        .collect();
    // wrappers
    let ids: Vec<&str> = segs.iter().map(|(_, s)| s.id).collect();
    let first = ids[0];
    if !matches!(first, "FHS" | "BHS" | "MSH") {
        report.structure.push(structure(
            1,
            first,
            None,
            format!("the file starts with '{first}', expected FHS, BHS or MSH"),
        ));
    }
    let has = |id: &str| ids.contains(&id);
    if has("FHS") != has("FTS") {
        report.structure.push(structure(
            1,
            "FHS",
            None,
            "FHS and FTS must both be present or both absent".into(),
        ));
    }
    if has("FHS") && first != "FHS" {
        report.structure.push(structure(
            1,
            first,
            None,
            "FHS must be the first segment".into(),
        ));
    }
    if has("FTS") && *ids.last().unwrap() != "FTS" {
        let (n, s) = &segs[segs.len() - 1];
        report.structure.push(structure(
            *n,
            s.id,
            None,
            "FTS must be the last segment".into(),
        ));
    }
    if has("BHS") != has("BTS") {
        report.structure.push(structure(
            1,
            "BHS",
            None,
            "BHS and BTS must both be present or both absent".into(),
        ));
    }
    // messages
    let mut msgs: Vec<Msg<'_>> = Vec::new();
    for (n, s) in &segs {
        match s.id {
            "FHS" | "BHS" | "BTS" | "FTS" => {}
            "MSH" => msgs.push(Msg {
                line: *n,
                control_id: s.text(10),
                segs: vec![(*n, s.clone())],
            }),
            other => match msgs.last_mut() {
                Some(m) => m.segs.push((*n, s.clone())),
                None => report.structure.push(structure(
                    *n,
                    other,
                    None,
                    format!(
                        "segment {other} before the first MSH: every message must start with MSH"
                    ),
                )),
            },
        }
    }
    report.messages = msgs.len();
    if msgs.is_empty() {
        report.structure.push(structure(
            1,
            "",
            None,
            "no MSH segment: the file holds no message".into(),
        ));
    }
    if let Some((n, bts)) = segs.iter().find(|(_, s)| s.id == "BTS") {
        let count = bts.field(1).trim();
        if count.parse::<usize>().ok() != Some(msgs.len()) {
            report.structure.push(structure(
                *n,
                "BTS",
                None,
                format!(
                    "BTS-1 says {} messages but the batch holds {}",
                    if count.is_empty() { "(empty)" } else { count },
                    msgs.len()
                ),
            ));
        }
    }
    let mut seen_ids: HashMap<String, usize> = HashMap::new();
    for m in &msgs {
        let msh = &m.segs[0].1;
        let cid = Some(m.control_id.as_str()).filter(|c| !c.is_empty());
        let t9 = format!("{}^{}", msh.component(9, 1), msh.component(9, 2));
        if t9 != "VXU^V04" {
            report.structure.push(structure(
                m.line,
                "MSH",
                cid,
                format!("MSH-9 is '{}', expected VXU^V04", msh.field(9)),
            ));
        }
        if msh.field(12).trim() != "2.5.1" {
            report.structure.push(structure(
                m.line,
                "MSH",
                cid,
                format!("MSH-12 is '{}', expected 2.5.1", msh.field(12)),
            ));
        }
        if m.control_id.is_empty() {
            report.structure.push(structure(
                m.line,
                "MSH",
                None,
                "MSH-10 (message control id) is empty".into(),
            ));
        } else if let Some(prev) = seen_ids.insert(m.control_id.clone(), m.line) {
            report.structure.push(structure(
                m.line,
                "MSH",
                cid,
                format!(
                    "MSH-10 '{}' repeats the message at line {prev}",
                    m.control_id
                ),
            ));
        }
    }
    // lint
    let mut seen_imms: HashSet<(String, String, String)> = HashSet::new();
    for m in &msgs {
        lint_message(m, today, &mut seen_imms, &mut report.lint);
    }
    report
}

fn lint_message(
    m: &Msg<'_>,
    today: NaiveDate,
    seen: &mut HashSet<(String, String, String)>,
    out: &mut Vec<Issue>,
) {
    let cid = Some(m.control_id.clone()).filter(|c| !c.is_empty());
    let mut push = |level, rule, predicts, line: usize, segment: &str, message: String| {
        out.push(Issue {
            level,
            rule,
            predicts,
            line,
            segment: segment.to_string(),
            control_id: cid.clone(),
            message,
        });
    };
    let find = |id: &str| m.segs.iter().find(|(_, s)| s.id == id);
    let all = |id: &'static str| m.segs.iter().filter(move |(_, s)| s.id == id);
    let msh_line = m.line;
    let dob = find("PID").and_then(|(_, p)| date8(p.field(7)));
    let vacc_date = find("RXA").and_then(|(_, r)| date8(r.field(3)));
    // PID-7
    match find("PID") {
        None => push(
            Level::Error,
            "pid",
            None,
            msh_line,
            "PID",
            "no PID segment".into(),
        ),
        Some((n, pid)) => {
            match dob {
                None => push(
                    Level::Error,
                    "birth-date",
                    None,
                    *n,
                    "PID",
                    format!(
                        "PID-7 birth date is missing or not a valid date (got {} characters)",
                        pid.field(7).len()
                    ),
                ),
                Some(d) if d > today => push(
                    Level::Error,
                    "birth-date",
                    None,
                    *n,
                    "PID",
                    "PID-7 birth date is in the future".into(),
                ),
                _ => {}
            }
            if pid.component(11, 1).trim().is_empty() && pid.field(11).trim().is_empty() {
                push(
                    Level::Warning,
                    "address",
                    Some("IEE-998"),
                    *n,
                    "PID",
                    "PID-11 address is missing".into(),
                );
            } else if pid.component(11, 3).trim().is_empty() {
                push(
                    Level::Warning,
                    "address-city",
                    Some("IEE-998"),
                    *n,
                    "PID",
                    "PID-11.3 city is missing from the address".into(),
                );
            }
        }
    }
    // PD1-12 / PD1-13
    match find("PD1") {
        None => push(
            Level::Error,
            "consent-code",
            Some("CLR-100"),
            msh_line,
            "PD1",
            "no PD1 segment: the consent code (PD1-12) and date (PD1-13) are missing".into(),
        ),
        Some((n, pd1)) => {
            let code = pd1.component(12, 1).trim().to_ascii_uppercase();
            let age = match (dob, vacc_date.or(Some(today))) {
                (Some(b), Some(on)) => Some(age_on(b, on)),
                _ => None,
            };
            match code.as_str() {
                "" => push(
                    Level::Error,
                    "consent-code",
                    Some("CLR-100"),
                    *n,
                    "PD1",
                    "PD1-12 consent code is empty (TXY under 18, TXA 18 and over)".into(),
                ),
                "TXA" | "TXF" if age.is_some_and(|a| a < 18) => push(
                    Level::Error,
                    "consent-age",
                    Some("CLR-101"),
                    *n,
                    "PD1",
                    format!(
                        "PD1-12 is {code} (adult) but the patient is under 18 on the vaccination date: use TXY"
                    ),
                ),
                "TXY" | "TXM" if age.is_some_and(|a| a >= 18) => push(
                    Level::Error,
                    "consent-age",
                    Some("CLR-101"),
                    *n,
                    "PD1",
                    format!(
                        "PD1-12 is {code} (child) but the patient is 18 or over on the vaccination date: use TXA"
                    ),
                ),
                "TXA" | "TXY" | "TXF" | "TXM" | "TXD" => {}
                other => push(
                    Level::Error,
                    "consent-code",
                    Some("CLR-101"),
                    *n,
                    "PD1",
                    format!("PD1-12 '{other}' is not a consent code (TXA, TXY, TXF, TXM, TXD)"),
                ),
            }
            let raw = pd1.field(13).trim();
            if raw.is_empty() {
                if code != "TXD" {
                    push(
                        Level::Error,
                        "consent-date",
                        Some("CLR-105"),
                        *n,
                        "PD1",
                        "PD1-13 consent date is empty".into(),
                    );
                }
            } else if raw.len() != 8 || date8(raw).is_none() {
                push(
                    Level::Error,
                    "consent-date",
                    Some("CLR-105"),
                    *n,
                    "PD1",
                    format!(
                        "PD1-13 consent date is not YYYYMMDD ({} characters)",
                        raw.len()
                    ),
                );
            } else if let Some(d) = date8(raw)
                && (d > today || vacc_date.is_some_and(|v| d > v))
            {
                push(
                    Level::Error,
                    "consent-date-future",
                    Some("CLR-106"),
                    *n,
                    "PD1",
                    "PD1-13 consent date is in the future".into(),
                );
            }
        }
    }
    if find("NK1").is_none() {
        push(
            Level::Warning,
            "nk1",
            Some("IEE-519"),
            msh_line,
            "NK1",
            "no NK1 segment (responsible person)".into(),
        );
    }
    match find("ORC") {
        None => push(
            Level::Warning,
            "orc-12",
            Some("IEE-526"),
            msh_line,
            "ORC",
            "no ORC segment: ORC-12 ordering provider missing".into(),
        ),
        Some((n, orc)) if orc.component(12, 1).trim().is_empty() => push(
            Level::Warning,
            "orc-12",
            Some("IEE-526"),
            *n,
            "ORC",
            "ORC-12 ordering provider (license or NPI) is empty".into(),
        ),
        _ => {}
    }
    let pid3 = find("PID")
        .map(|(_, p)| p.component(3, 1).to_string())
        .unwrap_or_default();
    let mut any_rxa = false;
    for (n, rxa) in all("RXA") {
        any_rxa = true;
        let cvx = rxa.component(5, 1).trim();
        if cvx.is_empty() {
            push(
                Level::Error,
                "cvx",
                Some("IMR-100"),
                *n,
                "RXA",
                "RXA-5 vaccine code (CVX) is empty".into(),
            );
        }
        let administered = rxa.component(9, 1).trim() == "00" || rxa.field(9).trim().is_empty();
        if administered && rxa.component(17, 1).trim().is_empty() {
            push(
                Level::Error,
                "manufacturer",
                Some("IMR-111"),
                *n,
                "RXA",
                "RXA-17 manufacturer (MVX) is empty for an administered dose".into(),
            );
        }
        match date8(rxa.field(3)) {
            None => push(
                Level::Error,
                "admin-date",
                None,
                *n,
                "RXA",
                "RXA-3 administration date is missing or invalid".into(),
            ),
            Some(d) if d > today => push(
                Level::Error,
                "admin-date",
                None,
                *n,
                "RXA",
                "RXA-3 administration date is in the future".into(),
            ),
            _ => {}
        }
        if !cvx.is_empty()
            && !seen.insert((
                pid3.clone(),
                cvx.to_string(),
                rxa.field(3).chars().take(8).collect(),
            ))
        {
            push(
                Level::Error,
                "duplicate",
                Some("IMR-110"),
                *n,
                "RXA",
                format!(
                    "the same immunization (patient, CVX {cvx}, date) appears twice in the file"
                ),
            );
        }
    }
    if !any_rxa {
        push(
            Level::Error,
            "cvx",
            Some("IMR-100"),
            msh_line,
            "RXA",
            "no RXA segment (immunization)".into(),
        );
    }
    for (n, obx) in all("OBX") {
        if obx.field(14).trim().is_empty() {
            push(
                Level::Warning,
                "obx-14",
                None,
                *n,
                "OBX",
                "OBX-14 observation date is empty (\"Required field OBX-14 missing\")".into(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 10, 28).unwrap()
    }

    /// A clean message; `edit` replaces segments by id (an empty replacement drops it).
    fn msg(i: usize, edit: &[(&str, &str)]) -> String {
        let segs = [
            (
                "MSH",
                format!(
                    "MSH|^~\\&|EHR|1117823000|TXImmTrac|TxDSHS|20251028||VXU^V04^VXU_V04|CTRL{i:04}|P|2.5.1"
                ),
            ),
            (
                "PID",
                format!(
                    "PID|1||MRN{i}^^^ACME^MR||DOE^ANA||20100508|F|||1 MAIN ST^^AUSTIN^TX^78701"
                ),
            ),
            ("PD1", "PD1||||||||||||TXY|20250101".to_string()),
            ("NK1", "NK1|1|DOE^PARENT|MTH^Mother^HL70063".to_string()),
            (
                "ORC",
                "ORC|RE||X^ACME|||||||||1234567^DOC^ALICE".to_string(),
            ),
            (
                "RXA",
                format!(
                    "RXA|0|1|20251027|20251027|{}^vaccine^CVX|0.5|mL^mL^UCUM||00^New Record^NIP001||||||LOT1||MSD^^MVX|||CP|A",
                    20 + i
                ),
            ),
            (
                "OBX",
                "OBX|1|CE|64994-7^Eligibility^LN|1|V02^VFC^HL70064||||||F|||20251027".to_string(),
            ),
        ];
        segs.iter()
            .filter_map(|(id, s)| match edit.iter().find(|(e, _)| e == id) {
                Some((_, "")) => None,
                Some((_, r)) => Some(r.to_string()),
                None => Some(s.clone()),
            })
            .map(|s| s + "\r")
            .collect()
    }

    fn batch(msgs: &[String]) -> Vec<u8> {
        format!(
            "FHS|^~\\&|EHR\rBHS|^~\\&|EHR\r{}BTS|{}\rFTS|1\r",
            msgs.concat(),
            msgs.len()
        )
        .into_bytes()
    }

    fn rules(r: &LintReport) -> Vec<(&'static str, Option<&'static str>)> {
        r.lint.iter().map(|i| (i.rule, i.predicts)).collect()
    }

    #[test]
    fn clean_batch_has_no_findings() {
        let r = check(&batch(&[msg(1, &[]), msg(2, &[])]), today());
        assert!(r.structure.is_empty(), "{:?}", r.structure);
        assert!(r.lint.is_empty(), "{:?}", r.lint);
        assert_eq!(r.messages, 2);
    }

    #[test]
    fn each_seeded_problem_is_found_with_its_code() {
        type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, Option<&'a str>, Level);
        let cases: Vec<Case> = vec![
            (
                vec![("PD1", "PD1||||||||||||TXA|20250101")],
                "consent-age",
                Some("CLR-101"),
                Level::Error,
            ),
            (
                vec![("PD1", "PD1||||||||||||XYZ|20250101")],
                "consent-code",
                Some("CLR-101"),
                Level::Error,
            ),
            (
                vec![("PD1", "PD1||||||||||||TXY|2025-01-01")],
                "consent-date",
                Some("CLR-105"),
                Level::Error,
            ),
            (
                vec![("PD1", "PD1||||||||||||TXY|20260101")],
                "consent-date-future",
                Some("CLR-106"),
                Level::Error,
            ),
            (vec![("NK1", "")], "nk1", Some("IEE-519"), Level::Warning),
            (
                vec![(
                    "PID",
                    "PID|1||MRN9^^^ACME^MR||DOE^ANA||20100508|F|||1 MAIN ST^^^TX^78701",
                )],
                "address-city",
                Some("IEE-998"),
                Level::Warning,
            ),
            (
                vec![(
                    "PID",
                    "PID|1||MRN9^^^ACME^MR||DOE^ANA||20300508|F|||1 MAIN ST^^AUSTIN^TX^78701",
                )],
                "birth-date",
                None,
                Level::Error,
            ),
            (
                vec![(
                    "PID",
                    "PID|1||MRN9^^^ACME^MR||DOE^ANA||2010|F|||1 MAIN ST^^AUSTIN^TX^78701",
                )],
                "birth-date",
                None,
                Level::Error,
            ),
            (
                vec![(
                    "RXA",
                    "RXA|0|1|20251027|20251027|^^CVX|0.5|mL||00||||||LOT1||MSD^^MVX|||CP|A",
                )],
                "cvx",
                Some("IMR-100"),
                Level::Error,
            ),
            (
                vec![(
                    "RXA",
                    "RXA|0|1|20251027|20251027|20^DTaP^CVX|0.5|mL||00||||||LOT1||||CP|A",
                )],
                "manufacturer",
                Some("IMR-111"),
                Level::Error,
            ),
            (
                vec![(
                    "OBX",
                    "OBX|1|CE|64994-7^Eligibility^LN|1|V02^VFC^HL70064||||||F",
                )],
                "obx-14",
                None,
                Level::Warning,
            ),
            (
                vec![("ORC", "ORC|RE||X^ACME")],
                "orc-12",
                Some("IEE-526"),
                Level::Warning,
            ),
        ];
        for (edit, rule, code, level) in cases {
            let r = check(&batch(&[msg(1, &edit)]), today());
            assert!(r.structure.is_empty(), "{rule}: {:?}", r.structure);
            assert_eq!(rules(&r), vec![(rule, code)], "{edit:?}");
            assert_eq!(r.lint[0].level, level);
            assert_eq!(r.lint[0].control_id.as_deref(), Some("CTRL0001"));
            assert!(
                !r.lint[0].message.contains("DOE") && !r.lint[0].message.contains("2010"),
                "patient data in {}",
                r.lint[0].message
            );
        }
        // the adult consent for an 18-year-old on the vaccination date is right
        let r = check(
            &batch(&[msg(
                1,
                &[
                    ("PID", "PID|1||M^^^A^MR||X^Y||20071027|F|||1 A^^AUSTIN^TX"),
                    ("PD1", "PD1||||||||||||TXA|20250101"),
                ],
            )]),
            today(),
        );
        assert!(r.lint.is_empty(), "{:?}", r.lint);
    }

    #[test]
    fn duplicate_immunization_in_the_file() {
        let a = msg(1, &[]);
        let b = msg(
            2,
            &[
                (
                    "PID",
                    "PID|1||MRN1^^^ACME^MR||DOE^ANA||20100508|F|||1 MAIN ST^^AUSTIN^TX^78701",
                ),
                (
                    "RXA",
                    "RXA|0|1|20251027|20251027|21^vaccine^CVX|0.5|mL^mL^UCUM||00^New Record^NIP001||||||LOT1||MSD^^MVX|||CP|A",
                ),
            ],
        );
        let r = check(&batch(&[a, b]), today());
        assert_eq!(rules(&r), vec![("duplicate", Some("IMR-110"))]);
        assert_eq!(r.lint[0].control_id.as_deref(), Some("CTRL0002"));
    }

    #[test]
    fn structure_errors_name_line_and_segment() {
        let bad = msg(
            1,
            &[("MSH", "MSH|^~\\&|EHR|1|TX|TX|2025||ADT^A01|CTRL0001|P|2.3")],
        );
        let r = check(&batch(&[bad, msg(1, &[])]), today());
        let msgs: Vec<String> = r
            .structure
            .iter()
            .map(|i| format!("line {} ({}): {}", i.line, i.segment, i.message))
            .collect();
        assert!(
            msgs.contains(&"line 3 (MSH): MSH-9 is 'ADT^A01', expected VXU^V04".to_string()),
            "{msgs:?}"
        );
        assert!(
            msgs.contains(&"line 3 (MSH): MSH-12 is '2.3', expected 2.5.1".to_string()),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m
                    .starts_with("line 10 (MSH): MSH-10 'CTRL0001' repeats the message at line 3")),
            "{msgs:?}"
        );
        let wrong_count = format!("FHS|^~\\&|E\rBHS|^~\\&|E\r{}BTS|5\rFTS|1\r", msg(1, &[]));
        let r = check(wrong_count.as_bytes(), today());
        assert_eq!(r.structure.len(), 1);
        assert_eq!(
            r.structure[0].message,
            "BTS-1 says 5 messages but the batch holds 1"
        );
        let r = check(format!("PID|1\r{}", msg(1, &[])).as_bytes(), today());
        assert!(
            r.structure
                .iter()
                .any(|i| i.message.contains("before the first MSH")),
            "{:?}",
            r.structure
        );
        let r = check(format!("FHS|^~\\&|E\r{}", msg(1, &[])).as_bytes(), today());
        assert!(
            r.structure
                .iter()
                .any(|i| i.message.contains("FHS and FTS")),
            "{:?}",
            r.structure
        );
        let mixed = msg(1, &[]).replacen('\r', "\n", 2);
        assert!(
            check(mixed.as_bytes(), today())
                .structure
                .iter()
                .any(|i| i.message.contains("mixed segment terminators"))
        );
        // no wrappers, LF endings: fine
        let lf = msg(1, &[]).replace('\r', "\n");
        let r = check(lf.as_bytes(), today());
        assert!(
            r.structure.is_empty() && r.lint.is_empty(),
            "{:?} {:?}",
            r.structure,
            r.lint
        );
    }

    #[test]
    fn specimen_batch_is_structurally_sound_but_shifted_by_one_in_pd1_and_rxa() {
        let data = crate::formats::specimen("hl7/ACMECLIN25301.hl7");
        let r = check(&data, today());
        assert!(r.structure.is_empty(), "{:?}", r.structure);
        assert_eq!(r.messages, 40);
        // The specimen puts the consent code in PD1-11 and the MVX in RXA-18 (one pipe too
        // many); HL7 2.5.1 and the registry's guides put them in PD1-12 and RXA-17. The lint
        // says so for every message.
        assert_eq!(
            r.lint.iter().filter(|i| i.rule == "consent-code").count(),
            40
        );
        assert_eq!(
            r.lint.iter().filter(|i| i.rule == "manufacturer").count(),
            40
        );
        assert!(
            r.lint[0]
                .message
                .contains("PD1-12 '20250101' is not a consent code"),
            "{}",
            r.lint[0].message
        );
    }
}
