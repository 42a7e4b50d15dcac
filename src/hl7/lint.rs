//! Pre-flight checks of a VXU batch before upload: structure (errors that make the file
//! unsendable) and lint rules that predict the registry's own rejections and warnings, each
//! with the registry code it predicts.
//!
//! Structure: segment terminators, FHS/BHS/BTS/FTS wrappers consistent when present (BTS
//! count = messages), every message starts with MSH, MSH-9 `VXU^V04`, MSH-12 `2.5.1`, MSH-10
//! unique in the file. Lint: one row per rule in [`RULES`] (id, registry scope, the code it
//! predicts, level, one-line description, and its check function), so a rule is one table row
//! and one small function. `generic` rules follow the CDC IG 1.5 and apply to every registry;
//! `texas` rules (PD1-12/13 consent, NK1, ORC-12, OBX-14, address) only under the profile's
//! `registry = "texas"` (the default). Messages name the line, segment and message control id,
//! never patient data.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::{Segment, decode_text};

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
    /// The segment's id: a rule's own (no copy per finding), or read from the file.
    pub segment: std::borrow::Cow<'static, str>,
    /// MSH-10 of the message, when inside one.
    pub control_id: Option<String>,
    /// The message's 1-based position in the batch (0: the file as a whole), as the
    /// ledger numbers them.
    pub message_no: u64,
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

mod consent;
mod structure;
mod vaccine;
use structure::{Found, STRUCTURE, file_view};

use crate::vaccines::CodeSet;

/// One message of the file: where it starts, its MSH-10, and its segments as a range of the
/// file's (never copied: a segment is a few hundred bytes).
struct Msg {
    line: usize,
    control_id: String,
    segs: std::ops::Range<usize>,
}

fn date8(s: &str) -> Option<NaiveDate> {
    let b = s.trim().as_bytes();
    if b.len() < 8 || !b[..8].iter().all(u8::is_ascii_digit) {
        return None;
    }
    // by hand: chrono's format parser was a twentieth of lint's time
    let n = |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0'));
    NaiveDate::from_ymd_opt(n(0..4) as i32, n(4..6), n(6..8))
}

/// Whole months from `dob` to `on`.
fn months_between(dob: NaiveDate, on: NaiveDate) -> i64 {
    let mut m =
        i64::from(on.year() - dob.year()) * 12 + i64::from(on.month()) - i64::from(dob.month());
    if on.day() < dob.day() {
        m -= 1;
    }
    m
}

fn age_on(dob: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - dob.year();
    if (on.month(), on.day()) < (dob.month(), dob.day()) {
        age -= 1;
    }
    age
}

/// Check a batch file's bytes under the selected registry's rules, with the embedded vaccine
/// code sets. `today` bounds "not in the future".
pub fn check(data: &[u8], today: NaiveDate, registry: Registry) -> LintReport {
    check_with(data, today, registry, CodeSet::embedded())
}

/// [`check`] with the vaccine code sets in use (`immdqa codes`).
pub fn check_with(
    data: &[u8],
    today: NaiveDate,
    registry: Registry,
    codes: &CodeSet,
) -> LintReport {
    check_against(data, today, registry, codes, Prior::default())
}

/// What the history says about a batch's doses before it is sent: which (message, dose)
/// the registry already accepted in an earlier batch (message 1-based, as the batch's MSH
/// segments count; dose 1-based among its RXAs).
#[derive(Debug, Clone, Default)]
pub struct Prior {
    pub accepted: HashSet<(u64, usize)>,
}

/// [`check_with`], with what the history knows of these doses (`upload`).
pub fn check_against(
    data: &[u8],
    today: NaiveDate,
    registry: Registry,
    codes: &CodeSet,
    prior: Prior,
) -> LintReport {
    let mut report = check_raw(data, today, registry, codes, prior);
    // what a batch holds is printed, logged and written to reason files: never a raw control
    // byte (a NUL in MSH-10) in any of them
    // (control ids are made printable once per message, when the file is split; a lint
    // finding's segment is the rule's own)
    for i in report.structure.iter_mut() {
        if let std::borrow::Cow::Owned(p) = crate::hl7::printable(&i.segment) {
            i.segment = p.into();
        }
        crate::hl7::make_printable(&mut i.message);
    }
    for i in report.lint.iter_mut() {
        crate::hl7::make_printable(&mut i.message);
    }
    report
}

fn check_raw(
    data: &[u8],
    today: NaiveDate,
    registry: Registry,
    codes: &CodeSet,
    prior: Prior,
) -> LintReport {
    let text = decode_text(data);
    let mut report = LintReport::default();
    let issue = |(line, segment, control_id, message): Found| Issue {
        level: Level::Error,
        rule: "structure",
        predicts: None,
        line,
        segment: segment.into(),
        control_id,
        message_no: 0,
        message,
    };
    let view = file_view(&text);
    for (_, rule) in STRUCTURE {
        report.structure.extend(rule(&view).into_iter().map(issue));
    }
    report.messages = view.msgs.len();
    // lint
    let mut state = FileState {
        prior,
        ..FileState::default()
    };
    state.seen_imms.reserve(view.msgs.len());
    // one message's segments at a time, in a buffer reused from message to message
    let mut segs = Vec::new();
    for m in &view.msgs {
        state.message += 1;
        view.segments_into(m.segs.clone(), &mut segs);
        lint_message(
            m,
            &segs,
            today,
            registry,
            codes,
            &mut state,
            &mut report.lint,
        );
    }
    report
}

/// One message as the rules see it: its segments and what several rules need.
pub struct MessageView<'a> {
    segs: &'a [(usize, Segment<'a>)],
    line: usize,
    today: NaiveDate,
    /// MSH-7, else today: the date a consent date may not be after.
    message_date: NaiveDate,
    dob: Option<NaiveDate>,
    vacc_date: Option<NaiveDate>,
    codes: &'a CodeSet,
    /// Every RXA, read once for the rules.
    doses: Vec<vaccine::Dose<'a>>,
}

impl<'a> MessageView<'a> {
    /// The vaccine code set's date, for messages.
    fn codes_date(&self) -> String {
        self.codes.date.map_or("no date".into(), |d| d.to_string())
    }
    fn find(&self, id: &str) -> Option<&'a (usize, Segment<'a>)> {
        self.segs.iter().find(|(_, s)| s.id == id)
    }
    fn all(&self, id: &'static str) -> impl Iterator<Item = &'a (usize, Segment<'a>)> + use<'a> {
        self.segs.iter().filter(move |(_, s)| s.id == id)
    }
}

/// State carried from message to message (the duplicate rule).
#[derive(Default)]
pub struct FileState {
    /// (patient, CVX, date) of every immunization so far, as one key.
    seen_imms: rustc_hash::FxHashSet<String>,
    /// What the history knows ([`Prior`]).
    prior: Prior,
    /// The message being checked, 1-based.
    message: u64,
}

/// What a rule found: line, segment, message (no patient data).
type Hit = (usize, &'static str, String);

/// Which registry's rules apply.
pub use crate::config::Registry;

/// One lint rule: a row of [`RULES`].
pub struct Rule {
    pub id: &'static str,
    /// `Generic`: the CDC IG 1.5 (every registry); `Texas`: ImmTrac2's own requirements.
    pub scope: Registry,
    /// The registry code it predicts, when known.
    pub predicts: Option<&'static str>,
    pub level: Level,
    pub description: &'static str,
    check: fn(&MessageView<'_>, &mut FileState, &mut Vec<Hit>),
}

impl Rule {
    /// Whether the rule applies under the selected registry.
    pub fn applies(&self, registry: Registry) -> bool {
        self.scope == Registry::Generic || self.scope == registry
    }
}

/// Every lint rule, in the order they run: `immdqa lint --list-rules` prints this table.
pub static RULES: &[Rule] = &[
    Rule {
        id: "pid",
        scope: Registry::Generic,
        predicts: None,
        level: Level::Error,
        description: "the message has a PID segment",
        check: rule_pid,
    },
    Rule {
        id: "birth-date",
        scope: Registry::Generic,
        predicts: None,
        level: Level::Error,
        description: "PID-7 birth date is a valid date, not in the future",
        check: rule_birth_date,
    },
    Rule {
        id: "address",
        scope: Registry::Texas,
        predicts: Some("IEE-998"),
        level: Level::Warning,
        description: "PID-11 address is present",
        check: rule_address,
    },
    Rule {
        id: "address-city",
        scope: Registry::Texas,
        predicts: Some("IEE-998"),
        level: Level::Warning,
        description: "PID-11.3 city is present in the address",
        check: rule_address_city,
    },
    Rule {
        id: "consent-missing",
        scope: Registry::Texas,
        predicts: Some("CLR-100"),
        level: Level::Error,
        description: "PD1-12 consent code is present",
        check: consent::rule_consent_missing,
    },
    Rule {
        id: "consent-code",
        scope: Registry::Texas,
        predicts: Some("CLR-101"),
        level: Level::Error,
        description: "PD1-12 is a consent code (TXA, TXY, TXF, TXM, TXD)",
        check: consent::rule_consent_code,
    },
    Rule {
        id: "consent-age",
        scope: Registry::Texas,
        predicts: Some("CLR-101"),
        level: Level::Error,
        description: "PD1-12 fits the age on the vaccination date (TXY under 18, TXA 18 and over)",
        check: consent::rule_consent_age,
    },
    Rule {
        id: "consent-date",
        scope: Registry::Texas,
        predicts: Some("CLR-105"),
        level: Level::Error,
        description: "PD1-13 consent date is YYYYMMDD (may be empty for TXD)",
        check: consent::rule_consent_date,
    },
    Rule {
        id: "consent-date-future",
        scope: Registry::Texas,
        predicts: Some("CLR-106"),
        level: Level::Error,
        description: "PD1-13 consent date is not after the message date (MSH-7, else today)",
        check: consent::rule_consent_date_future,
    },
    Rule {
        id: "nk1",
        scope: Registry::Texas,
        predicts: Some("IEE-519"),
        level: Level::Warning,
        description: "an NK1 segment (responsible person) is present",
        check: rule_nk1,
    },
    Rule {
        id: "orc-12",
        scope: Registry::Texas,
        predicts: Some("IEE-526"),
        level: Level::Warning,
        description: "ORC-12 ordering provider (license or NPI) is present",
        check: rule_orc12,
    },
    Rule {
        id: "cvx",
        scope: Registry::Generic,
        predicts: Some("IMR-100"),
        level: Level::Error,
        description: "every message has an RXA whose RXA-5 vaccine code (CVX) is present",
        check: rule_cvx,
    },
    Rule {
        id: "manufacturer",
        scope: Registry::Generic,
        predicts: Some("IMR-111"),
        level: Level::Error,
        description: "RXA-17 manufacturer (MVX) is present for administered doses (RXA-9 00 or empty, RXA-20 CP/PA or empty, CVX not 998)",
        check: rule_manufacturer,
    },
    Rule {
        id: "admin-date",
        scope: Registry::Generic,
        predicts: None,
        level: Level::Error,
        description: "RXA-3 administration date is a valid date, not in the future",
        check: rule_admin_date,
    },
    Rule {
        id: "duplicate",
        scope: Registry::Generic,
        predicts: Some("IMR-110"),
        level: Level::Error,
        description: "the same immunization (patient, CVX, date) appears once in the file",
        check: rule_duplicate,
    },
    Rule {
        id: "obx-14",
        scope: Registry::Texas,
        predicts: None,
        level: Level::Warning,
        description: "OBX-14 observation date is present (\"Required field OBX-14 missing\")",
        check: rule_obx14,
    },
    Rule {
        id: "already-accepted",
        scope: Registry::Generic,
        predicts: Some("IMR-110"),
        level: Level::Warning,
        description: "the dose was not already accepted by the registry in an earlier batch (same patient, vaccine and date in the ledger; upload only)",
        check: vaccine::rule_already_accepted,
    },
    Rule {
        id: "cvx-known",
        scope: Registry::Generic,
        predicts: None,
        level: Level::Error,
        description: "RXA-5 CVX is a CDC vaccine code (the code set in use)",
        check: vaccine::rule_cvx_known,
    },
    Rule {
        id: "cvx-not-us",
        scope: Registry::Generic,
        predicts: None,
        level: Level::Error,
        description: "an administered dose's CVX is not Non-US or Never Active",
        check: vaccine::rule_cvx_not_us,
    },
    Rule {
        id: "cvx-inactive",
        scope: Registry::Generic,
        predicts: None,
        level: Level::Warning,
        description: "an administered dose's CVX is not Inactive (historical doses may carry one)",
        check: vaccine::rule_cvx_inactive,
    },
    Rule {
        id: "cvx-unspecified",
        scope: Registry::Generic,
        predicts: None,
        level: Level::Error,
        description: "an administered dose's CVX is not an \"unspecified formulation\" code",
        check: vaccine::rule_cvx_unspecified,
    },
    Rule {
        id: "mvx-known",
        scope: Registry::Generic,
        predicts: Some("IMR-111"),
        level: Level::Error,
        description: "RXA-17 manufacturer is a CDC MVX code",
        check: vaccine::rule_mvx_known,
    },
    Rule {
        id: "cvx-mvx",
        scope: Registry::Generic,
        predicts: None,
        level: Level::Warning,
        description: "the manufacturer makes a product of the vaccine (CDC's product names)",
        check: vaccine::rule_cvx_mvx,
    },
    Rule {
        id: "ndc",
        scope: Registry::Generic,
        predicts: None,
        level: Level::Error,
        description: "an RXA-5 NDC is in CDC's NDC lists, and agrees with a CVX sent with it",
        check: vaccine::rule_ndc,
    },
    Rule {
        id: "lot",
        scope: Registry::Generic,
        predicts: None,
        level: Level::Warning,
        description: "RXA-15 lot number is present for an administered dose, and not a placeholder (N/A, UNK, 0, 1234…)",
        check: vaccine::rule_lot,
    },
    Rule {
        id: "lot-pattern",
        scope: Registry::Generic,
        predicts: None,
        level: Level::Warning,
        description: "RXA-15 lot number has the shape of the manufacturer's lots, where one is known",
        check: vaccine::rule_lot_pattern,
    },
    Rule {
        id: "expiry",
        scope: Registry::Generic,
        predicts: None,
        level: Level::Warning,
        description: "RXA-16 lot expiration date is not before the administration date",
        check: vaccine::rule_expiry,
    },
    Rule {
        id: "licensed",
        scope: Registry::Generic,
        predicts: None,
        level: Level::Warning,
        description: "the administration date is inside the vaccine's licensed window",
        check: vaccine::rule_licensed,
    },
    Rule {
        id: "age",
        scope: Registry::Generic,
        predicts: None,
        level: Level::Warning,
        description: "the patient's age on the administration date is inside the vaccine's ages",
        check: vaccine::rule_age,
    },
];

fn lint_message(
    m: &Msg,
    segs: &[(usize, Segment<'_>)],
    today: NaiveDate,
    registry: Registry,
    codes: &CodeSet,
    state: &mut FileState,
    out: &mut Vec<Issue>,
) {
    let cid = Some(m.control_id.clone()).filter(|c| !c.is_empty());
    let find = |id: &str| segs.iter().find(|(_, s)| s.id == id);
    let view = MessageView {
        segs,
        line: m.line,
        today,
        message_date: find("MSH")
            .and_then(|(_, s)| date8(s.field(7)))
            .unwrap_or(today),
        dob: find("PID").and_then(|(_, p)| date8(p.field(7))),
        vacc_date: find("RXA").and_then(|(_, r)| date8(r.field(3))),
        codes,
        doses: vaccine::doses_of(segs),
    };
    let mut hits = Vec::new();
    for rule in RULES.iter().filter(|r| r.applies(registry)) {
        (rule.check)(&view, state, &mut hits);
        for (line, segment, message) in hits.drain(..) {
            out.push(Issue {
                level: rule.level,
                rule: rule.id,
                predicts: rule.predicts,
                line,
                segment: segment.into(),
                control_id: cid.clone(),
                message_no: state.message,
                message,
            });
        }
    }
}

fn rule_pid(v: &MessageView<'_>, _: &mut FileState, out: &mut Vec<Hit>) {
    if v.find("PID").is_none() {
        out.push((v.line, "PID", "no PID segment".into()));
    }
}

fn rule_birth_date(v: &MessageView<'_>, _: &mut FileState, out: &mut Vec<Hit>) {
    let Some((n, pid)) = v.find("PID") else {
        return;
    };
    match v.dob {
        None => out.push((
            *n,
            "PID",
            format!(
                "PID-7 birth date is missing or not a valid date (got {} characters)",
                pid.field(7).len()
            ),
        )),
        Some(d) if d > v.today => out.push((*n, "PID", "PID-7 birth date is in the future".into())),
        _ => {}
    }
}

/// PID-11 holds nothing but separators (`^^^^^`, `~`): an empty address.
fn address_empty(pid: &Segment<'_>) -> bool {
    let sep = &pid.sep;
    pid.field(11).chars().all(|c| {
        c.is_whitespace() || [sep.component, sep.repetition, sep.subcomponent].contains(&(c as u8))
    })
}

fn rule_address(v: &MessageView<'_>, _: &mut FileState, out: &mut Vec<Hit>) {
    if let Some((n, pid)) = v.find("PID")
        && address_empty(pid)
    {
        out.push((*n, "PID", "PID-11 address is missing".into()));
    }
}

/// Only for an address that is there: an empty one is the `address` rule's one finding.
fn rule_address_city(v: &MessageView<'_>, _: &mut FileState, out: &mut Vec<Hit>) {
    if let Some((n, pid)) = v.find("PID")
        && !address_empty(pid)
        && pid.component(11, 3).trim().is_empty()
    {
        out.push((
            *n,
            "PID",
            "PID-11.3 city is missing from the address".into(),
        ));
    }
}

fn rule_nk1(v: &MessageView<'_>, _: &mut FileState, out: &mut Vec<Hit>) {
    if v.find("NK1").is_none() {
        out.push((v.line, "NK1", "no NK1 segment (responsible person)".into()));
    }
}

/// ORC-12 for every administered dose: each ORC/RXA group is checked (ORC, then its RXAs),
/// and only administered doses need an ordering provider (a historical or refused dose does
/// not; the registry only asks it of doses given here).
fn rule_orc12(v: &MessageView<'_>, _: &mut FileState, out: &mut Vec<Hit>) {
    let mut orc: Option<&(usize, Segment<'_>)> = None;
    let mut reported: Vec<usize> = Vec::new();
    for entry in v.segs {
        match entry.1.id {
            "ORC" => orc = Some(entry),
            "RXA" if administered(&entry.1) => match orc {
                None if reported.is_empty() => {
                    reported.push(entry.0);
                    out.push((
                        entry.0,
                        "ORC",
                        "no ORC segment before this administered dose: ORC-12 ordering provider missing"
                            .into(),
                    ));
                }
                Some((n, o)) if o.component(12, 1).trim().is_empty() && !reported.contains(n) => {
                    reported.push(*n);
                    out.push((
                        *n,
                        "ORC",
                        "ORC-12 ordering provider (license or NPI) is empty".into(),
                    ));
                }
                _ => {}
            },
            _ => {}
        }
    }
}

fn rule_cvx(v: &MessageView<'_>, _: &mut FileState, out: &mut Vec<Hit>) {
    let mut any = false;
    for (n, rxa) in v.all("RXA") {
        any = true;
        if rxa.component(5, 1).trim().is_empty() {
            out.push((*n, "RXA", "RXA-5 vaccine code (CVX) is empty".into()));
        }
    }
    if !any {
        out.push((v.line, "RXA", "no RXA segment (immunization)".into()));
    }
}

/// A dose actually given here: RXA-9 `00` (new record) or empty, RXA-20 CP/PA or empty
/// (HL7's default is CP), and not CVX 998 ("no vaccine administered").
fn administered(rxa: &Segment<'_>) -> bool {
    let source = rxa.component(9, 1).trim();
    let status = rxa.component(20, 1).trim();
    (source == "00" || source.is_empty())
        && (status.is_empty()
            || status.eq_ignore_ascii_case("CP")
            || status.eq_ignore_ascii_case("PA"))
        && rxa.component(5, 1).trim() != "998"
}

fn rule_manufacturer(v: &MessageView<'_>, _: &mut FileState, out: &mut Vec<Hit>) {
    for (n, rxa) in v.all("RXA") {
        if administered(rxa) && rxa.component(17, 1).trim().is_empty() {
            out.push((
                *n,
                "RXA",
                "RXA-17 manufacturer (MVX) is empty for an administered dose".into(),
            ));
        }
    }
}

fn rule_admin_date(v: &MessageView<'_>, _: &mut FileState, out: &mut Vec<Hit>) {
    for (n, rxa) in v.all("RXA") {
        match date8(rxa.field(3)) {
            None => out.push((
                *n,
                "RXA",
                "RXA-3 administration date is missing or invalid".into(),
            )),
            Some(d) if d > v.today => out.push((
                *n,
                "RXA",
                "RXA-3 administration date is in the future".into(),
            )),
            _ => {}
        }
    }
}

fn rule_duplicate(v: &MessageView<'_>, state: &mut FileState, out: &mut Vec<Hit>) {
    let pid3 = v.find("PID").map(|(_, p)| p.component(3, 1)).unwrap_or("");
    for (n, rxa) in v.all("RXA") {
        let cvx = rxa.component(5, 1).trim();
        let date: String = rxa.field(3).chars().take(8).collect();
        // the parts joined by a byte no HL7 field holds
        if !cvx.is_empty()
            && !state
                .seen_imms
                .insert(format!("{pid3}\u{0}{cvx}\u{0}{date}"))
        {
            out.push((
                *n,
                "RXA",
                format!(
                    "the same immunization (patient, CVX {cvx}, date) appears twice in the file"
                ),
            ));
        }
    }
}

fn rule_obx14(v: &MessageView<'_>, _: &mut FileState, out: &mut Vec<Hit>) {
    for (n, obx) in v.all("OBX") {
        if obx.field(14).trim().is_empty() {
            out.push((
                *n,
                "OBX",
                "OBX-14 observation date is empty (\"Required field OBX-14 missing\")".into(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Texas rules (the default registry).
    fn check(data: &[u8], today: NaiveDate) -> LintReport {
        super::check(data, today, Registry::Texas)
    }

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
                    "RXA|0|1|20251027|20251027|21^varicella^CVX|0.5|mL^mL^UCUM||00^New Record^NIP001||||||LOT{i}||MSD^^MVX|||CP|A"
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

    /// ORC-12 in every ORC/RXA group, for administered doses only: a second group with an
    /// empty ORC-12 is found (the first ORC alone was read before), a historical or refused
    /// dose without one is not.
    #[test]
    fn orc12_checks_every_group_and_only_administered_doses() {
        let second_group = |orc: &str, rxa_source: &str, status: &str| {
            let m = msg(1, &[]);
            format!(
                "{m}{orc}\rRXA|0|1|20150101|20150101|03^MMR^CVX|999|||{rxa_source}|||||||||||{status}|A\r"
            )
        };
        let hits = |m: String| -> usize {
            check(&batch(&[m]), today())
                .lint
                .iter()
                .filter(|i| i.rule == "orc-12")
                .count()
        };
        assert_eq!(hits(second_group("ORC|RE||Y^ACME", "00", "CP")), 1);
        assert_eq!(
            hits(second_group("ORC|RE||Y^ACME", "01^Historical^NIP001", "CP")),
            0
        );
        assert_eq!(hits(second_group("ORC|RE||Y^ACME", "00", "RE")), 0);
        assert_eq!(
            hits(second_group(
                "ORC|RE||Y^ACME|||||||||7654321^DOC",
                "00",
                "CP"
            )),
            0
        );
        // a historical dose alone, without an ORC-12: nothing to say
        let historical = msg(
            1,
            &[
                ("ORC", "ORC|RE||X^ACME"),
                (
                    "RXA",
                    "RXA|0|1|20150101|20150101|03^MMR^CVX|999|||01^Historical^NIP001||||||||||||CP|A",
                ),
            ],
        );
        assert_eq!(hits(historical), 0);
    }

    /// An empty address (`^^^^` as well as nothing) is one finding, not one per component.
    #[test]
    fn an_empty_address_is_one_finding() {
        for pid11 in ["", "^^^^^", "^^^^^~^^^^"] {
            let m = msg(
                1,
                &[(
                    "PID",
                    &format!("PID|1||M^^^A^MR||X^Y||20100508|F|||{pid11}"),
                )],
            );
            let r = check(&batch(&[m]), today());
            let address: Vec<_> = r
                .lint
                .iter()
                .filter(|i| i.rule.starts_with("address"))
                .map(|i| i.rule)
                .collect();
            assert_eq!(address, vec!["address"], "{pid11:?}");
        }
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
                    "RXA|0|1|20251027|20251027|21^VAR^CVX|0.5|mL||00||||||LOT1|||||CP|A",
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
        // an empty file, and one of blank lines: said once each, in the table's order
        let said = |data: &str| -> Vec<String> {
            check(data.as_bytes(), today())
                .structure
                .into_iter()
                .map(|i| i.message)
                .collect()
        };
        assert_eq!(
            said(""),
            [
                "no segment terminators: expected segments ended by carriage returns",
                "the file is empty"
            ]
        );
        assert_eq!(
            said(" \r \n"),
            [
                "mixed segment terminators (1 CR and 1 LF): use one kind, preferably CR",
                "the file is empty"
            ]
        );
        assert_eq!(said("\r\n"), ["the file is empty"]);
        // a file of wrappers only: no message, and BTS-1 counted
        assert_eq!(
            said("BHS|^~\\&\rBTS|1\r"),
            [
                "no MSH segment: the file holds no message",
                "BTS-1 says 1 messages but the batch holds 0"
            ]
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
    fn corrected_specimen_batch_is_clean_under_both_registries() {
        // The specimen (corrected 2026-11-25) puts the consent code in PD1-12 and the MVX in
        // RXA-17, as HL7 2.5.1 and the registry's guides do.
        let data = crate::formats::specimen("hl7/ACMECLIN25301.hl7");
        let r = check(&data, today());
        assert!(r.structure.is_empty(), "{:?}", r.structure);
        assert_eq!(r.messages, 40);
        assert!(
            !r.lint
                .iter()
                .any(|i| matches!(i.rule, "consent-code" | "consent-missing" | "manufacturer")),
            "{:?}",
            r.lint
        );
        let g = super::check(&data, today(), Registry::Generic);
        assert!(
            g.lint
                .iter()
                .all(|i| rule(i.rule).scope == Registry::Generic)
        );
    }

    fn rule(id: &str) -> &'static Rule {
        RULES.iter().find(|r| r.id == id).unwrap()
    }

    /// Every rule: one message that breaks it (and only it) and one that passes it.
    #[test]
    fn each_rule_fails_one_message_and_passes_another() {
        // (rule, edit that breaks it, edit that passes it)
        type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<(&'a str, &'a str)>);
        let clean = msg(1, &[]);
        let cases: Vec<Case> = vec![
            ("pid", vec![("PID", "")], vec![]),
            (
                "birth-date",
                vec![("PID", "PID|1||M^^^A^MR||X^Y||20300508|F|||1 A^^AUSTIN^TX")],
                vec![("PID", "PID|1||M^^^A^MR||X^Y||20100508|F|||1 A^^AUSTIN^TX")],
            ),
            (
                "address",
                vec![("PID", "PID|1||M^^^A^MR||X^Y||20100508|F")],
                vec![],
            ),
            (
                "address-city",
                vec![("PID", "PID|1||M^^^A^MR||X^Y||20100508|F|||1 A^^^TX")],
                vec![],
            ),
            (
                "consent-missing",
                vec![("PD1", "PD1||||||||||||^|20250101")],
                vec![("PD1", "PD1||||||||||||TXD|")],
            ),
            (
                "consent-code",
                vec![("PD1", "PD1||||||||||||XYZ|20250101")],
                vec![("PD1", "PD1||||||||||||TXM|20250101")],
            ),
            (
                "consent-age",
                vec![("PD1", "PD1||||||||||||TXA|20250101")],
                vec![
                    ("PID", "PID|1||M^^^A^MR||X^Y||20071027|F|||1 A^^AUSTIN^TX"),
                    ("PD1", "PD1||||||||||||TXA|20250101"),
                ],
            ),
            (
                "consent-date",
                vec![("PD1", "PD1||||||||||||TXY|2025-01-01")],
                vec![("PD1", "PD1||||||||||||TXY|20250101")],
            ),
            (
                "consent-date-future",
                vec![("PD1", "PD1||||||||||||TXY|20251029")],
                // recorded after an old historical dose, before the message: fine
                vec![
                    ("PD1", "PD1||||||||||||TXY|20251020"),
                    (
                        "RXA",
                        "RXA|0|1|20150101|20150101|20^DTaP^CVX|999|||01^Historical^NIP001|||||||||||CP|A",
                    ),
                ],
            ),
            ("nk1", vec![("NK1", "")], vec![]),
            (
                "orc-12",
                vec![("ORC", "ORC|RE||X^ACME")],
                vec![("ORC", "ORC|RE||X^ACME|||||||||9876543^DOC")],
            ),
            (
                "cvx",
                vec![(
                    "RXA",
                    "RXA|0|1|20251027|20251027|^^CVX|0.5|mL||00||||||LOT1||MSD^^MVX|||CP|A",
                )],
                vec![],
            ),
            (
                "manufacturer",
                vec![(
                    "RXA",
                    "RXA|0|1|20251027|20251027|20^DTaP^CVX|0.5|mL||00||||||LOT1|||||CP|A",
                )],
                // refused: no dose given, no manufacturer needed
                vec![(
                    "RXA",
                    "RXA|0|1|20251027|20251027|998^No vaccine administered^CVX|999|||00|||||||||||RE|A",
                )],
            ),
            (
                "admin-date",
                vec![(
                    "RXA",
                    "RXA|0|1|20301027|20301027|20^DTaP^CVX|0.5|mL||00||||||LOT1||MSD^^MVX|||CP|A",
                )],
                vec![],
            ),
            (
                "obx-14",
                vec![(
                    "OBX",
                    "OBX|1|CE|64994-7^Eligibility^LN|1|V02^VFC^HL70064||||||F",
                )],
                vec![],
            ),
            (
                "cvx-known",
                vec![(
                    "RXA",
                    "RXA|0|1|20251027|20251027|712^ZZ^CVX|0.5|mL||00||||||LOT1||MSD^^MVX|||CP|A",
                )],
                vec![],
            ),
            (
                "cvx-not-us",
                vec![(
                    "RXA",
                    "RXA|0|1|20251027|20251027|177^PCV10^CVX|0.5|mL||00||||||LOT1||MSD^^MVX|||CP|A",
                )],
                // given abroad: historical
                vec![(
                    "RXA",
                    "RXA|0|1|20251027|20251027|177^PCV10^CVX|0.5|mL||01||||||LOT1||MSD^^MVX|||CP|A",
                )],
            ),
            (
                "cvx-inactive",
                vec![(
                    "RXA",
                    "RXA|0|1|20251027|20251027|22^DTP-Hib^CVX|0.5|mL||00||||||LOT1||MSD^^MVX|||CP|A",
                )],
                vec![(
                    "RXA",
                    "RXA|0|1|20251027|20251027|22^DTP-Hib^CVX|0.5|mL||01||||||LOT1||MSD^^MVX|||CP|A",
                )],
            ),
            (
                "cvx-unspecified",
                vec![(
                    "RXA",
                    "RXA|0|1|20251027|20251027|45^HepB^CVX|0.5|mL||00||||||LOT1||MSD^^MVX|||CP|A",
                )],
                vec![(
                    "RXA",
                    "RXA|0|1|20251027|20251027|45^HepB^CVX|0.5|mL||01||||||LOT1||MSD^^MVX|||CP|A",
                )],
            ),
            (
                "mvx-known",
                vec![(
                    "RXA",
                    "RXA|0|1|20251027|20251027|21^VAR^CVX|0.5|mL||00||||||LOT1||ZZZ^^MVX|||CP|A",
                )],
                vec![],
            ),
            (
                "cvx-mvx",
                vec![(
                    "RXA",
                    "RXA|0|1|20251027|20251027|21^VAR^CVX|0.5|mL||00||||||LOT1||PMC^^MVX|||CP|A",
                )],
                vec![],
            ),
            (
                "ndc",
                vec![(
                    "RXA",
                    "RXA|0|1|20251027|20251027|00000-0000-00^X^NDC|0.5|mL||00||||||LOT1||MSD^^MVX|||CP|A",
                )],
                vec![(
                    "RXA",
                    "RXA|0|1|20251027|20251027|00006-4827-00^VARIVAX^NDC^21^VAR^CVX|0.5|mL||00||||||LOT1||MSD^^MVX|||CP|A",
                )],
            ),
            (
                "lot",
                vec![(
                    "RXA",
                    "RXA|0|1|20251027|20251027|21^VAR^CVX|0.5|mL||00||||||N/A||MSD^^MVX|||CP|A",
                )],
                vec![],
            ),
            (
                "lot-pattern",
                vec![(
                    "RXA",
                    "RXA|0|1|20251027|20251027|115^Tdap^CVX|0.5|mL||00||||||LOT1||PMC^^MVX|||CP|A",
                )],
                vec![(
                    "RXA",
                    "RXA|0|1|20251027|20251027|115^Tdap^CVX|0.5|mL||00||||||U12345A||PMC^^MVX|||CP|A",
                )],
            ),
            (
                "expiry",
                vec![(
                    "RXA",
                    "RXA|0|1|20251027|20251027|21^VAR^CVX|0.5|mL||00||||||LOT1|20250101|MSD^^MVX|||CP|A",
                )],
                vec![(
                    "RXA",
                    "RXA|0|1|20251027|20251027|21^VAR^CVX|0.5|mL||00||||||LOT1|20261231|MSD^^MVX|||CP|A",
                )],
            ),
            (
                "licensed",
                vec![(
                    "RXA",
                    "RXA|0|1|20140101|20140101|165^HPV9^CVX|0.5|mL||00||||||LOT1||MSD^^MVX|||CP|A",
                )],
                vec![],
            ),
            (
                "age",
                vec![(
                    "RXA",
                    "RXA|0|1|20251027|20251027|20^DTaP^CVX|0.5|mL||00||||||U12345A||PMC^^MVX|||CP|A",
                )],
                vec![],
            ),
        ];
        // their own tests: below, and in tests/vaccines.rs (it needs the ledger)
        let mut covered: Vec<&str> = vec!["duplicate", "already-accepted"];
        for (id, fail, pass) in &cases {
            let r = check(&batch(&[msg(1, fail)]), today());
            assert!(r.structure.is_empty(), "{id}: {:?}", r.structure);
            let fired: Vec<&str> = r.lint.iter().map(|i| i.rule).collect();
            assert!(fired.contains(id), "{id} did not fire: {fired:?}");
            let hit = r.lint.iter().find(|i| i.rule == *id).unwrap();
            assert_eq!(hit.predicts, rule(id).predicts);
            assert_eq!(hit.level, rule(id).level);
            assert_eq!(hit.control_id.as_deref(), Some("CTRL0001"));
            assert!(
                !hit.message.contains("DOE") && !hit.message.contains("2010"),
                "patient data in {}",
                hit.message
            );
            let passing = if pass.is_empty() {
                clean.clone()
            } else {
                msg(1, pass)
            };
            let r = check(&batch(&[passing]), today());
            assert!(
                !r.lint.iter().any(|i| i.rule == *id),
                "{id} fired on its passing message: {:?}",
                r.lint
            );
            covered.push(id);
        }
        for r in RULES {
            assert!(covered.contains(&r.id), "rule {} has no test case", r.id);
            assert!(!r.description.is_empty());
        }
    }

    #[test]
    fn texas_rules_do_not_fire_under_generic() {
        let broken = msg(
            1,
            &[
                ("PD1", "PD1||||||||||||XYZ|2025-01-01"),
                ("NK1", ""),
                ("ORC", "ORC|RE||X^ACME"),
                (
                    "OBX",
                    "OBX|1|CE|64994-7^Eligibility^LN|1|V02^VFC^HL70064||||||F",
                ),
                (
                    "RXA",
                    "RXA|0|1|20251027|20251027|21^VAR^CVX|0.5|mL||00||||||LOT1|||||CP|A",
                ),
            ],
        );
        let texas = check(&batch(std::slice::from_ref(&broken)), today());
        let generic = super::check(&batch(&[broken]), today(), Registry::Generic);
        assert!(texas.lint.iter().any(|i| i.rule == "nk1"));
        assert!(texas.lint.iter().any(|i| i.rule == "consent-code"));
        let fired: Vec<&str> = generic.lint.iter().map(|i| i.rule).collect();
        assert_eq!(fired, vec!["manufacturer"], "{:?}", generic.lint);
    }
}
