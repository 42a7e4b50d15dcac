//! Registry message codes (`IEE-519`, `CLR-101`, …), HL7 locations and severities: finding
//! them in text, splitting cells that carry several, normalising field names, and the code
//! catalogue behind `immdqa explain`.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

use super::Severity;

/// A code followed by `::` starts an issue text (`IEE-519::Warning. NK1 …`).
static CODE_START: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(IMR|CLR|FIR|IEE|MER)-(\d{3})::").unwrap());
/// A code anywhere.
static CODE_ANY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(IMR|CLR|FIR|IEE|MER)-(\d{3})\b").unwrap());
/// An HL7 location inside free text: `PID-11-3`, `ORC-12.1`, `(RXR-2)`.
static FIELD_IN_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(MSH|PID|PD1|NK1|PV1|ORC|RXA|RXR|OBX|EVN|MSA|ERR|FHS|BHS|BTS|FTS|IN1|GT1)-(\d+)(?:[.\-](\d+))?\b").unwrap()
});
/// A whole cell that is an HL7 location: `PID-7`, `pid.7`, `ORC-12.1`, `PID-11-3`, `NK1`.
static FIELD_CELL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*([A-Z][A-Z0-9]{2})(?:\s*[-._ ]\s*(\d{1,3})(?:\s*[-._]\s*(\d{1,3}))?)?\s*$")
        .unwrap()
});

/// One issue found in a text cell: its code (if any) and its own text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodedText {
    pub code: Option<super::Short>,
    pub text: String,
}

/// Split a cell carrying several issues run together (`IEE-519::… IMR-109::…`) into one
/// piece per code. Text before the first code (a status prefix like `Message Rejected - `) is
/// returned separately. A cell with no `CODE::` marker is one piece without a code (a bare
/// code inside it is still picked up).
pub fn split_codes(cell: &str) -> (String, Vec<CodedText>) {
    let starts: Vec<_> = if cell.contains("::") {
        CODE_START.find_iter(cell).collect()
    } else {
        Vec::new() // no `CODE::` marker: skip the regex (the common case, once per row)
    };
    if starts.is_empty() {
        let t = cell.trim();
        if t.is_empty() {
            return (String::new(), vec![]);
        }
        let code = CODE_ANY.find(t).map(|m| m.as_str().into());
        return (
            String::new(),
            vec![CodedText {
                code,
                text: t.to_string(),
            }],
        );
    }
    let prefix = cell[..starts[0].start()].trim().to_string();
    let mut out = Vec::with_capacity(starts.len());
    for (i, m) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map(|n| n.start()).unwrap_or(cell.len());
        let code = m.as_str().trim_end_matches("::").into();
        let text = cell[m.end()..end]
            .trim()
            .trim_end_matches(';')
            .trim()
            .to_string();
        out.push(CodedText {
            code: Some(code),
            text,
        });
    }
    (prefix, out)
}

/// The first code mentioned anywhere in a text.
pub fn find_code(text: &str) -> Option<super::Short> {
    CODE_ANY.find(text).map(|m| m.as_str().into())
}

/// Severity implied by a code: IMR/CLR/FIR/MER reject (E); IEE is a warning (W), or
/// information (I) when its text says so.
pub fn severity_of_code(code: &str, text: &str) -> Severity {
    if code.starts_with("IEE") {
        if text
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("informational")
        {
            Severity::Info
        } else {
            Severity::Warning
        }
    } else {
        Severity::Error
    }
}

/// Severity from a word or letter (`Error`, `W`, `Informational`, `Rejected`, …).
pub fn severity_of_word(word: &str) -> Option<Severity> {
    let w = word.trim().to_ascii_lowercase();
    match w.as_str() {
        "e" | "error" | "errors" | "err" | "fatal" | "reject" | "rejected" | "rejection" | "f" => {
            Some(Severity::Error)
        }
        "w" | "warning" | "warnings" | "warn" => Some(Severity::Warning),
        "i" | "info" | "information" | "informational" | "notice" | "skip" | "skipped" => {
            Some(Severity::Info)
        }
        _ if w.starts_with("error") || w.contains("reject") => Some(Severity::Error),
        _ if w.starts_with("warn") => Some(Severity::Warning),
        _ if w.starts_with("info") => Some(Severity::Info),
        _ => None,
    }
}

/// Last resort: severity from the wording of the text.
pub fn severity_of_text(text: &str) -> Severity {
    let t = text.to_ascii_lowercase();
    if t.starts_with("informational") {
        Severity::Info
    } else if t.contains("reject") || t.starts_with("error") {
        Severity::Error
    } else {
        Severity::Warning
    }
}

/// A normalised HL7 location: segment and field (`SEG-n[.m]`; a bare segment is its own field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub segment: super::Short,
    pub field: super::Short,
}

fn location(seg: &str, field: Option<&str>, comp: Option<&str>) -> Location {
    let mut segment = super::Short::from(seg);
    segment.make_ascii_uppercase();
    let field = match (field.and_then(|f| f.parse::<u32>().ok()), comp) {
        (Some(0) | None, _) => segment.clone(),
        (Some(f), Some(c)) if !c.is_empty() && c != "0" => {
            compact_str::format_compact!("{segment}-{f}.{}", c.trim_start_matches('0'))
        }
        (Some(f), _) => compact_str::format_compact!("{segment}-{f}"),
    };
    Location { segment, field }
}

/// Normalise a cell holding an HL7 location (`PID-11-3` → `PID-11.3`, `pid.7` → `PID-7`).
pub fn normalize_field(cell: &str) -> Option<Location> {
    let c = FIELD_CELL.captures(cell)?;
    let seg = c.get(1)?.as_str();
    if !seg.chars().next()?.is_ascii_alphabetic() {
        return None;
    }
    Some(location(
        seg,
        c.get(2).map(|m| m.as_str()),
        c.get(3).map(|m| m.as_str()),
    ))
}

/// An HL7 location mentioned in free text (`… in ORC-12.1 …`, `… (RXR-2)`).
pub fn field_in_text(text: &str) -> Option<Location> {
    let c = FIELD_IN_TEXT.captures(text)?;
    Some(location(
        c.get(1)?.as_str(),
        c.get(2).map(|m| m.as_str()),
        c.get(3).map(|m| m.as_str()),
    ))
}

/// ERR-2 (or ERR-1) location `SEG^seq^field^rep^component^sub` → location. A field written
/// with its component in one piece (`RXA^1^11.4`) reads as `RXA-11.4`.
pub fn err_location(seg: &str, field: &str, component: &str) -> Option<Location> {
    let s = seg.trim();
    if s.len() != 3 || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let (field, component) = match field.trim().split_once('.') {
        Some((f, c)) if component.trim().is_empty() => (f, c),
        _ => (field.trim(), component.trim()),
    };
    Some(location(s, Some(field), Some(component)))
}

/// One entry of the code catalogue.
#[derive(Debug, Clone, Deserialize)]
pub struct CodeInfo {
    pub code: String,
    pub class: String,
    /// Who fixes it (README, "Owners"); `[owners]` in the config overrides.
    pub owner: crate::domain::Owner,
    pub field: Option<String>,
    pub text: Option<String>,
    pub meaning: String,
    pub fix: String,
    pub source: String,
}

#[derive(Deserialize)]
struct CatalogueFile {
    code: Vec<CodeInfo>,
}

/// The catalogue of known registry codes (src/formats/registry-codes.toml, embedded).
pub struct Catalogue {
    by_code: HashMap<String, CodeInfo>,
    by_text: Vec<(String, String)>,
}

fn text_key(t: &str) -> String {
    t.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

pub fn catalogue() -> &'static Catalogue {
    static C: LazyLock<Catalogue> = LazyLock::new(|| {
        let f: CatalogueFile = toml::from_str(include_str!("registry-codes.toml"))
            .expect("registry-codes.toml is valid");
        let by_text = f
            .code
            .iter()
            .filter_map(|c| c.text.as_ref().map(|t| (text_key(t), c.code.clone())))
            .filter(|(k, _)| k.len() > 20)
            .collect();
        Catalogue {
            by_code: f.code.into_iter().map(|c| (c.code.clone(), c)).collect(),
            by_text,
        }
    });
    &C
}

impl Catalogue {
    pub fn get(&self, code: &str) -> Option<&CodeInfo> {
        self.by_code.get(&code.trim().to_ascii_uppercase())
    }
    pub fn len(&self) -> usize {
        self.by_code.len()
    }
    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }
    pub fn all(&self) -> impl Iterator<Item = &CodeInfo> {
        self.by_code.values()
    }
    /// The code whose known registry text matches this text (ignoring case and punctuation).
    pub fn code_for_text(&self, text: &str) -> Option<&str> {
        let k = text_key(text);
        if k.len() < 15 {
            return None;
        }
        self.by_text
            .iter()
            .find(|(t, _)| *t == k || (k.len() >= t.len() && k.starts_with(t.as_str())))
            .map(|(_, c)| c.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_run_together_codes_with_prefix() {
        let (prefix, parts) = split_codes(
            "Message Rejected - IEE-519::Warning. NK1 Segment/Responsible person, missing. IMR-109::Immunization rejected. Duplicate immunization Identified.",
        );
        assert_eq!(prefix, "Message Rejected -");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].code.as_deref(), Some("IEE-519"));
        assert_eq!(
            parts[0].text,
            "Warning. NK1 Segment/Responsible person, missing."
        );
        assert_eq!(parts[1].code.as_deref(), Some("IMR-109"));
        let (p, none) = split_codes("Sent Successfully - ");
        assert!(p.is_empty() && none.len() == 1 && none[0].code.is_none());
        let (_, bare) = split_codes("Required field OBX-14 missing");
        assert_eq!(bare[0].code, None);
        assert_eq!(split_codes("  ").1.len(), 0);
    }

    #[test]
    fn fields_normalise() {
        let f = |s| normalize_field(s).map(|l| l.field);
        assert_eq!(f("PID-7").as_deref(), Some("PID-7"));
        assert_eq!(f("pid.7").as_deref(), Some("PID-7"));
        assert_eq!(f("PID-11-3").as_deref(), Some("PID-11.3"));
        assert_eq!(f("ORC-12.1").as_deref(), Some("ORC-12.1"));
        assert_eq!(f("NK1").as_deref(), Some("NK1"));
        assert_eq!(f("PD1 12").as_deref(), Some("PD1-12"));
        assert_eq!(f("LA"), None);
        assert_eq!(f("Left Arm"), None);
        assert_eq!(f("123"), None);
        assert_eq!(err_location("RXR", "2", "").unwrap().field, "RXR-2");
        assert_eq!(err_location("NK1", "0", "").unwrap().field, "NK1");
        assert_eq!(err_location("ORC", "12", "1").unwrap().field, "ORC-12.1");
        assert_eq!(err_location("RXA", "11.4", "").unwrap().field, "RXA-11.4");
        assert_eq!(
            field_in_text("provided in ORC-12.1 is not").unwrap().field,
            "ORC-12.1"
        );
        assert_eq!(
            field_in_text("Required field PID-11-3 missing")
                .unwrap()
                .field,
            "PID-11.3"
        );
    }

    #[test]
    fn severities() {
        assert_eq!(severity_of_code("IMR-109", "x"), Severity::Error);
        assert_eq!(severity_of_code("IEE-519", "Warning."), Severity::Warning);
        assert_eq!(
            severity_of_code("IEE-251", "Informational Message."),
            Severity::Info
        );
        assert_eq!(severity_of_word("Warning"), Some(Severity::Warning));
        assert_eq!(severity_of_word("E"), Some(Severity::Error));
        assert_eq!(severity_of_word("Message Rejected"), Some(Severity::Error));
        assert_eq!(severity_of_word("banana"), None);
    }

    #[test]
    fn catalogue_loads_and_matches_texts() {
        let c = catalogue();
        assert!(c.len() >= 40);
        assert_eq!(c.get("iee-519").unwrap().field.as_deref(), Some("NK1"));
        assert_eq!(
            c.code_for_text("Client rejected. consent flag not valid for client age"),
            Some("CLR-101")
        );
        assert_eq!(
            c.code_for_text("WARNING. NK1 segment/responsible person, missing."),
            Some("IEE-519")
        );
        assert_eq!(
            c.code_for_text("Something else entirely happened here"),
            None
        );
        for info in c.all() {
            assert!(CODE_ANY.is_match(&info.code), "{}", info.code);
            assert!(
                ["rejection", "warning", "information", "review"].contains(&info.class.as_str())
            );
        }
    }
}
