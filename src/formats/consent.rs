//! Consent notification rows: dates in any common form, names, and the normalised status.

use chrono::NaiveDate;

use super::ConsentStatus;

/// Parse a date written as YYYYMMDD, YYYY-MM-DD, MM/DD/YYYY (also M/D/YYYY, MM-DD-YYYY,
/// YYYY/MM/DD), optionally followed by a time.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let date_part = s
        .split(|c: char| c == 'T' || c.is_whitespace())
        .next()
        .unwrap_or(s);
    for fmt in [
        "%Y%m%d", "%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y", "%Y/%m/%d", "%m/%d/%y",
    ] {
        if let Ok(d) = NaiveDate::parse_from_str(date_part, fmt) {
            if fmt == "%Y%m%d" && date_part.len() != 8 {
                continue;
            }
            return Some(d);
        }
    }
    // HL7 timestamps: YYYYMMDDHHMM[SS][+ZZZZ]
    if date_part.len() > 8 && date_part.as_bytes()[..8].iter().all(u8::is_ascii_digit) {
        return NaiveDate::parse_from_str(&date_part[..8], "%Y%m%d").ok();
    }
    None
}

/// Split `LAST, FIRST MIDDLE` (or `FIRST LAST`) into parts.
pub fn split_name(full: &str) -> (Option<String>, Option<String>, Option<String>) {
    let full = full.trim();
    if full.is_empty() {
        return (None, None, None);
    }
    let some = |s: &str| {
        let t = s.trim();
        (!t.is_empty()).then(|| t.to_string())
    };
    if let Some((last, rest)) = full.split_once(',') {
        let mut it = rest.split_whitespace();
        let first = it.next().map(str::to_string);
        let middle = some(&it.collect::<Vec<_>>().join(" "));
        return (some(last), first, middle);
    }
    let parts: Vec<&str> = full.split_whitespace().collect();
    match parts.len() {
        1 => (some(parts[0]), None, None),
        2 => (some(parts[1]), some(parts[0]), None),
        _ => (
            some(parts[parts.len() - 1]),
            some(parts[0]),
            some(&parts[1..parts.len() - 1].join(" ")),
        ),
    }
}

/// The normalised status of a notice, from its reason code, else its wording, else the
/// consent code that was sent.
pub fn status(
    reason_code: Option<&str>,
    reason_text: Option<&str>,
    consent_code: Option<&str>,
) -> ConsentStatus {
    match reason_code
        .map(|c| c.trim().to_ascii_uppercase())
        .as_deref()
    {
        Some("CLR-100") => return ConsentStatus::NotVerified,
        Some("CLR-101") => return ConsentStatus::WrongTypeForAge,
        Some("CLR-105") => return ConsentStatus::BadDate,
        Some("CLR-106") => return ConsentStatus::FutureDate,
        Some("IMR-132") => return ConsentStatus::StandardConsentRequired,
        Some("IMR-133") => return ConsentStatus::DisasterOnly,
        _ => {}
    }
    let t = reason_text.unwrap_or("").to_ascii_lowercase();
    if t.contains("no existing consent") || t.contains("not verified") || t.contains("no consent") {
        ConsentStatus::NotVerified
    } else if t.contains("age") && (t.contains("consent") || t.contains("flag")) {
        ConsentStatus::WrongTypeForAge
    } else if t.contains("future") {
        ConsentStatus::FutureDate
    } else if t.contains("date") {
        ConsentStatus::BadDate
    } else if t.contains("standard consent") || t.contains("non-disaster") {
        ConsentStatus::StandardConsentRequired
    } else if t.contains("disaster")
        || consent_code.is_some_and(|c| c.trim().eq_ignore_ascii_case("TXD"))
    {
        ConsentStatus::DisasterOnly
    } else {
        ConsentStatus::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let d = NaiveDate::from_ymd_opt(2025, 1, 2).unwrap();
        for s in [
            "20250102",
            "2025-01-02",
            "01/02/2025",
            "1/2/2025",
            "01-02-2025",
            "2025/01/02",
            "2025-01-02 00:00:00",
            "202501021530-0500",
        ] {
            assert_eq!(parse_date(s), Some(d), "{s}");
        }
        for s in ["", "2025-13-01", "20250230", "hello", "2025010"] {
            assert_eq!(parse_date(s), None, "{s}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(
            split_name("PATIENT0, TEST Q"),
            (
                Some("PATIENT0".into()),
                Some("TEST".into()),
                Some("Q".into())
            )
        );
        assert_eq!(
            split_name("Ana Wilson"),
            (Some("Wilson".into()), Some("Ana".into()), None)
        );
    }

    #[test]
    fn statuses() {
        assert_eq!(
            status(Some("CLR-100"), None, None),
            ConsentStatus::NotVerified
        );
        assert_eq!(
            status(Some("clr-101"), None, None),
            ConsentStatus::WrongTypeForAge
        );
        assert_eq!(
            status(None, Some("Invalid affirmation date format"), None),
            ConsentStatus::BadDate
        );
        assert_eq!(
            status(None, Some("Consent date is in the future"), None),
            ConsentStatus::FutureDate
        );
        assert_eq!(
            status(None, Some("x"), Some("TXD")),
            ConsentStatus::DisasterOnly
        );
        assert_eq!(status(Some("ZZZ-1"), Some("x"), None), ConsentStatus::Other);
    }
}
