//! The lint rules that need the vaccine code sets ([`crate::vaccines`]): is the CVX a CDC code
//! fit for a dose given today, is the manufacturer known and a maker of that vaccine, does an
//! NDC exist and agree with the CVX, is the lot a lot, is the dose inside the vaccine's
//! licensed window and ages. Each is a row of [`super::RULES`]; each message names the field,
//! the vaccine by name and the fix. A code the set does not know is the `cvx-known` or
//! `mvx-known` finding only: the rules that need the code's facts then say nothing.

use chrono::NaiveDate;

use super::{Hit, MessageView, administered, date8};
use crate::hl7::Segment;
use crate::vaccines::{CvxStatus, normalize_cvx, normalize_ndc};

/// One RXA as the vaccine rules read it: its fields split once per message, not once per
/// rule (the rules ran `component` on the same fields a dozen times: benchmark B12).
pub(super) struct Dose<'a> {
    pub(super) line: usize,
    pub(super) rxa: &'a Segment<'a>,
    pub(super) cvx: Option<String>,
    pub(super) administered: bool,
    /// RXA-17, trimmed and upper-cased.
    pub(super) mvx: String,
    /// RXA-15, trimmed.
    pub(super) lot: &'a str,
    /// RXA-3.
    pub(super) given: Option<NaiveDate>,
}

/// Every RXA of a message.
pub(super) fn doses_of<'a>(segs: &'a [(usize, Segment<'a>)]) -> Vec<Dose<'a>> {
    segs.iter()
        .filter(|(_, s)| s.id == "RXA")
        .map(|(n, rxa)| Dose {
            line: *n,
            rxa,
            cvx: cvx_of(rxa),
            administered: administered(rxa),
            mvx: rxa.component(17, 1).trim().to_ascii_uppercase(),
            lot: rxa.component(15, 1).trim(),
            given: date8(rxa.field(3)),
        })
        .collect()
}

/// RXA-5's CVX: the first component when its coding system is CVX (or not given and it is a
/// number), else the alternate identifier when that one is CVX.
fn cvx_of(rxa: &Segment<'_>) -> Option<String> {
    let (code, system) = (rxa.component(5, 1).trim(), rxa.component(5, 3).trim());
    let (alt, alt_system) = (rxa.component(5, 4).trim(), rxa.component(5, 6).trim());
    let numeric = |c: &str| !c.is_empty() && c.len() <= 3 && c.bytes().all(|b| b.is_ascii_digit());
    if system.eq_ignore_ascii_case("CVX") || (system.is_empty() && numeric(code)) {
        Some(normalize_cvx(code)).filter(|c| !c.is_empty())
    } else if alt_system.eq_ignore_ascii_case("CVX") {
        Some(normalize_cvx(alt)).filter(|c| !c.is_empty())
    } else {
        None
    }
}

/// RXA-5's NDC (first or alternate identifier coded NDC), as sent.
fn ndc_of(rxa: &Segment<'_>) -> Option<String> {
    for (code, system) in [(1, 3), (4, 6)] {
        if rxa.component(5, system).trim().eq_ignore_ascii_case("NDC") {
            return Some(rxa.component(5, code).trim().to_string()).filter(|c| !c.is_empty());
        }
    }
    None
}

/// "CVX 20 (DTaP)".
fn named(v: &MessageView<'_>, cvx: &str) -> String {
    match v.codes.cvx(cvx) {
        Some(c) => format!("CVX {} ({})", c.code, c.short),
        None => format!("CVX {cvx}"),
    }
}

/// Administered doses.
fn doses<'v>(v: &'v MessageView<'_>) -> impl Iterator<Item = &'v Dose<'v>> + 'v {
    v.doses.iter().filter(|d| d.administered)
}

pub(super) fn rule_already_accepted(
    v: &MessageView<'_>,
    state: &mut super::FileState,
    out: &mut Vec<Hit>,
) {
    for (seq, d) in v.doses.iter().enumerate() {
        if state.prior.accepted.contains(&(state.message, seq + 1)) {
            let what = d.cvx.as_deref().map_or("this dose".into(), |c| named(v, c));
            out.push((
                d.line,
                "RXA",
                format!(
                    "{what} for this patient on this date was already accepted by the registry in an earlier batch: sending it again draws a duplicate code (send an update only if something changed)"
                ),
            ));
        }
    }
}

pub(super) fn rule_cvx_known(v: &MessageView<'_>, _: &mut super::FileState, out: &mut Vec<Hit>) {
    for d in &v.doses {
        if let Some(cvx) = &d.cvx
            && v.codes.cvx(cvx).is_none()
        {
            out.push((
                d.line,
                "RXA",
                format!(
                    "RXA-5 CVX {cvx} is not a CDC vaccine code (code set of {}): check the vaccine's CVX (`immdqa codes show`) or update the code set",
                    v.codes_date()
                ),
            ));
        }
    }
}

pub(super) fn rule_cvx_not_us(v: &MessageView<'_>, _: &mut super::FileState, out: &mut Vec<Hit>) {
    for d in doses(v) {
        if let Some(c) = d.cvx.as_deref().and_then(|c| v.codes.cvx(c))
            && matches!(c.status, CvxStatus::NonUs | CvxStatus::NeverActive)
        {
            out.push((
                d.line,
                "RXA",
                format!(
                    "RXA-5 {} is {} in the US: a dose given here needs the CVX of the product given (a dose given abroad is historical: RXA-9 01)",
                    named(v, &c.code),
                    c.status.as_str()
                ),
            ));
        }
    }
}

pub(super) fn rule_cvx_inactive(v: &MessageView<'_>, _: &mut super::FileState, out: &mut Vec<Hit>) {
    for d in doses(v) {
        if let Some(c) = d.cvx.as_deref().and_then(|c| v.codes.cvx(c))
            && c.status == CvxStatus::Inactive
            && !c.unspecified
        {
            out.push((
                d.line,
                "RXA",
                format!(
                    "RXA-5 {} is Inactive (no longer given): for a dose given now use the CVX of the product given, or send it as historical (RXA-9 01)",
                    named(v, &c.code)
                ),
            ));
        }
    }
}

pub(super) fn rule_cvx_unspecified(
    v: &MessageView<'_>,
    _: &mut super::FileState,
    out: &mut Vec<Hit>,
) {
    for d in doses(v) {
        if let Some(c) = d.cvx.as_deref().and_then(|c| v.codes.cvx(c))
            && c.unspecified
        {
            out.push((
                d.line,
                "RXA",
                format!(
                    "RXA-5 {} is an \"unspecified formulation\" code, for historical doses only: send the CVX of the product given",
                    named(v, &c.code)
                ),
            ));
        }
    }
}

pub(super) fn rule_mvx_known(v: &MessageView<'_>, _: &mut super::FileState, out: &mut Vec<Hit>) {
    for d in &v.doses {
        if !d.mvx.is_empty() && !v.codes.mvx.contains_key(&d.mvx) {
            let mvx = d.rxa.component(17, 1).trim();
            out.push((
                d.line,
                "RXA",
                format!("RXA-17 manufacturer {mvx} is not a CDC MVX code: check the manufacturer's code (`immdqa codes show`)"),
            ));
        }
    }
}

pub(super) fn rule_cvx_mvx(v: &MessageView<'_>, _: &mut super::FileState, out: &mut Vec<Hit>) {
    for d in doses(v) {
        let (n, mvx) = (d.line, &d.mvx);
        let Some(cvx) = d.cvx.as_deref().filter(|c| v.codes.cvx(c).is_some()) else {
            continue;
        };
        let makers = v.codes.makers_of(cvx);
        if mvx.is_empty()
            || makers.is_empty()
            || !v.codes.mvx.contains_key(mvx)
            || makers.contains(mvx)
        {
            continue;
        }
        out.push((
            n,
            "RXA",
            format!(
                "RXA-17 {mvx} makes no product of {} (CDC's product names: {}): check the vaccine or the manufacturer",
                named(v, cvx),
                makers.join(", ")
            ),
        ));
    }
}

pub(super) fn rule_ndc(v: &MessageView<'_>, _: &mut super::FileState, out: &mut Vec<Hit>) {
    for d in &v.doses {
        let (n, rxa) = (&d.line, d.rxa);
        let Some(sent) = ndc_of(rxa) else {
            continue;
        };
        match normalize_ndc(&sent).and_then(|k| v.codes.ndc.get(&k)) {
            None => out.push((
                *n,
                "RXA",
                format!("RXA-5 NDC {sent} is not in CDC's NDC lists: check the package's NDC (11 digits or 5-4-2)"),
            )),
            Some(ndc) => {
                if let Some(cvx) = &d.cvx
                    && *cvx != ndc.cvx
                {
                    out.push((
                        *n,
                        "RXA",
                        format!(
                            "RXA-5 NDC {sent} is {} ({}), but the CVX sent with it is {}: one of them is wrong",
                            named(v, &ndc.cvx),
                            ndc.product,
                            named(v, cvx)
                        ),
                    ));
                }
            }
        }
    }
}

/// Lot numbers that are not lots.
const PLACEHOLDER_LOTS: [&str; 14] = [
    "NA", "N/A", "UNK", "UNKNOWN", "NONE", "0", "00", "000", "1234", "12345", "123456", "TEST",
    "LOT", "X",
];

pub(super) fn rule_lot(v: &MessageView<'_>, _: &mut super::FileState, out: &mut Vec<Hit>) {
    for d in doses(v) {
        let (n, lot) = (d.line, d.lot);
        let what = d
            .cvx
            .as_deref()
            .map_or("the vaccine".into(), |c| named(v, c));
        if lot.is_empty() {
            out.push((
                n,
                "RXA",
                format!("RXA-15 lot number is missing for {what}: send the lot on the vial"),
            ));
        } else if PLACEHOLDER_LOTS.iter().any(|p| p.eq_ignore_ascii_case(lot)) {
            out.push((n, "RXA", format!("RXA-15 lot number '{lot}' is a placeholder, not a lot ({what}): send the lot on the vial")));
        }
    }
}

pub(super) fn rule_lot_pattern(v: &MessageView<'_>, _: &mut super::FileState, out: &mut Vec<Hit>) {
    for d in doses(v) {
        let (n, lot, mvx) = (d.line, d.lot, &d.mvx);
        if lot.is_empty() || PLACEHOLDER_LOTS.iter().any(|p| p.eq_ignore_ascii_case(lot)) {
            continue;
        }
        let patterns = v.codes.lot_patterns_of(mvx);
        if !patterns.is_empty() && !patterns.iter().any(|p| p.is_match(lot)) {
            out.push((
                n,
                "RXA",
                format!("RXA-15 lot number '{lot}' does not have the shape of {mvx}'s lots: check it against the vial"),
            ));
        }
    }
}

pub(super) fn rule_expiry(v: &MessageView<'_>, _: &mut super::FileState, out: &mut Vec<Hit>) {
    for d in doses(v) {
        if let (Some(exp), Some(given)) = (date8(d.rxa.field(16)), d.given)
            && exp < given
        {
            out.push((
                d.line,
                "RXA",
                format!(
                    "RXA-16 lot expiration date is before the administration date (RXA-3) for {}: check both dates",
                    d.cvx.as_deref().map_or("the vaccine".into(), |c| named(v, c))
                ),
            ));
        }
    }
}

pub(super) fn rule_licensed(v: &MessageView<'_>, _: &mut super::FileState, out: &mut Vec<Hit>) {
    for d in doses(v) {
        let n = d.line;
        let (Some(cvx), Some(given)) = (d.cvx.as_deref(), d.given) else {
            continue;
        };
        let (Some(c), Some(e)) = (v.codes.cvx(cvx), v.codes.enriched.get(cvx)) else {
            continue;
        };
        // an Active code in CDC's file outranks an older "not after" in the enriched set
        let after = e.not_after.filter(|_| c.status != CvxStatus::Active);
        let bad = match (e.not_before, after) {
            (Some(b), _) if given < b => Some(format!("before it was licensed ({b})")),
            (_, Some(a)) if given > a => Some(format!("after its last licensed date ({a})")),
            _ => None,
        };
        if let Some(why) = bad {
            out.push((
                n,
                "RXA",
                format!(
                    "RXA-3 administration date is {why} of {}: check the date or the vaccine",
                    named(v, cvx)
                ),
            ));
        }
    }
}

pub(super) fn rule_age(v: &MessageView<'_>, _: &mut super::FileState, out: &mut Vec<Hit>) {
    let Some(dob) = v.dob else {
        return;
    };
    for d in doses(v) {
        let n = d.line;
        let (Some(cvx), Some(given)) = (d.cvx.as_deref(), d.given) else {
            continue;
        };
        let Some(e) = v.codes.enriched.get(cvx) else {
            continue;
        };
        if dob > given {
            continue; // the birth-date rule says the birth date is wrong
        }
        let months = super::months_between(dob, given);
        let young = e.min_age_months.is_some_and(|m| months < i64::from(m));
        let old = e.max_age_months.is_some_and(|m| months > i64::from(m));
        if young || old {
            let range = |m: Option<u32>| m.map_or("any age".into(), |m| format!("{m} months"));
            out.push((
                n,
                "RXA",
                format!(
                    "the patient is {months} months old on the administration date, outside the ages of {} ({} to {}): check the vaccine, the date or the birth date",
                    named(v, cvx),
                    range(e.min_age_months),
                    range(e.max_age_months)
                ),
            ));
        }
    }
}
