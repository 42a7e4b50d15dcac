//! The Texas consent rules (PD1-12 consent code, PD1-13 consent date): rows of
//! [`super::RULES`].

use super::{FileState, Hit, MessageView, age_on, date8};
use crate::hl7::Segment;

/// PD1-12, upper-cased.
fn consent_code(pd1: &Segment<'_>) -> String {
    pd1.component(12, 1).trim().to_ascii_uppercase()
}

pub(super) fn rule_consent_missing(v: &MessageView<'_>, _: &mut FileState, out: &mut Vec<Hit>) {
    match v.find("PD1") {
        None => out.push((
            v.line,
            "PD1",
            "no PD1 segment: the consent code (PD1-12) and date (PD1-13) are missing".into(),
        )),
        Some((n, pd1)) if consent_code(pd1).is_empty() => out.push((
            *n,
            "PD1",
            "PD1-12 consent code is empty (TXY under 18, TXA 18 and over)".into(),
        )),
        _ => {}
    }
}

const CONSENT_CODES: [&str; 5] = ["TXA", "TXY", "TXF", "TXM", "TXD"];

pub(super) fn rule_consent_code(v: &MessageView<'_>, _: &mut FileState, out: &mut Vec<Hit>) {
    if let Some((n, pd1)) = v.find("PD1") {
        let code = consent_code(pd1);
        if !code.is_empty() && !CONSENT_CODES.contains(&code.as_str()) {
            out.push((
                *n,
                "PD1",
                format!("PD1-12 '{code}' is not a consent code (TXA, TXY, TXF, TXM, TXD)"),
            ));
        }
    }
}

pub(super) fn rule_consent_age(v: &MessageView<'_>, _: &mut FileState, out: &mut Vec<Hit>) {
    let Some((n, pd1)) = v.find("PD1") else {
        return;
    };
    let code = consent_code(pd1);
    let age = v.dob.map(|b| age_on(b, v.vacc_date.unwrap_or(v.today)));
    match code.as_str() {
        "TXA" | "TXF" if age.is_some_and(|a| a < 18) => out.push((
            *n,
            "PD1",
            format!(
                "PD1-12 is {code} (adult) but the patient is under 18 on the vaccination date: use TXY"
            ),
        )),
        "TXY" | "TXM" if age.is_some_and(|a| a >= 18) => out.push((
            *n,
            "PD1",
            format!(
                "PD1-12 is {code} (child) but the patient is 18 or over on the vaccination date: use TXA"
            ),
        )),
        _ => {}
    }
}

pub(super) fn rule_consent_date(v: &MessageView<'_>, _: &mut FileState, out: &mut Vec<Hit>) {
    let Some((n, pd1)) = v.find("PD1") else {
        return;
    };
    let raw = pd1.field(13).trim();
    if raw.is_empty() {
        if consent_code(pd1) != "TXD" {
            out.push((*n, "PD1", "PD1-13 consent date is empty".into()));
        }
    } else if raw.len() != 8 || date8(raw).is_none() {
        out.push((
            *n,
            "PD1",
            format!(
                "PD1-13 consent date is not YYYYMMDD ({} characters)",
                raw.len()
            ),
        ));
    }
}

pub(super) fn rule_consent_date_future(v: &MessageView<'_>, _: &mut FileState, out: &mut Vec<Hit>) {
    // The message date, not the vaccination date: a consent recorded after an old historical
    // dose is normal.
    if let Some((n, pd1)) = v.find("PD1")
        && let raw = pd1.field(13).trim()
        && raw.len() == 8
        && let Some(d) = date8(raw)
        && d > v.message_date
    {
        out.push((
            *n,
            "PD1",
            "PD1-13 consent date is after the message date (MSH-7)".into(),
        ));
    }
}
