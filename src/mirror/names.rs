//! Remote file names: validated before anything is done with them.
//!
//! Archive files are named by their hash, so a remote name never becomes a local path; these
//! checks are the second wall. A name is refused (and reported, escaped) if it is not UTF-8,
//! contains `/`, `\`, `..`, NUL or any control character, is empty, or longer than 255 bytes.

/// Longest accepted remote file name, in bytes.
pub const MAX_NAME_BYTES: usize = 255;

/// Why a remote name was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameProblem {
    NotUtf8,
    Empty,
    TooLong(usize),
    Separator(char),
    DotDot,
    Control,
}

impl std::fmt::Display for NameProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NameProblem::NotUtf8 => write!(f, "name is not valid UTF-8"),
            NameProblem::Empty => write!(f, "name is empty"),
            NameProblem::TooLong(n) => {
                write!(f, "name is {n} bytes long (limit {MAX_NAME_BYTES})")
            }
            NameProblem::Separator(c) => write!(f, "name contains a path separator {c:?}"),
            NameProblem::DotDot => write!(f, "name contains '..'"),
            NameProblem::Control => write!(f, "name contains NUL or a control character"),
        }
    }
}

/// Validate a raw remote name; returns it as a string if safe.
pub fn validate(raw: &[u8]) -> Result<&str, NameProblem> {
    let name = std::str::from_utf8(raw).map_err(|_| NameProblem::NotUtf8)?;
    if name.is_empty() {
        return Err(NameProblem::Empty);
    }
    if raw.len() > MAX_NAME_BYTES {
        return Err(NameProblem::TooLong(raw.len()));
    }
    if let Some(c) = name.chars().find(|c| *c == '/' || *c == '\\') {
        return Err(NameProblem::Separator(c));
    }
    if name.contains("..") {
        return Err(NameProblem::DotDot);
    }
    if name.chars().any(char::is_control) {
        return Err(NameProblem::Control);
    }
    Ok(name)
}

/// A printable, escaped form of any raw name, safe for terminals and logs.
pub fn display(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    let escaped: String = s.escape_debug().collect();
    let mut out = escaped;
    if out.len() > 120 {
        let mut cut = 117;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for n in [
            "ACMECLIN25301.hl7.ack",
            "DQA_Report_2025-10-28.xlsx",
            "a b (1).csv",
            "ünïcode.txt",
            ".hidden",
        ] {
            assert_eq!(validate(n.as_bytes()), Ok(n));
        }
    }

    #[test]
    fn refuses_hostile_names() {
        let cases: &[(&[u8], NameProblem)] = &[
            (b"../x", NameProblem::Separator('/')),
            (b"a/b", NameProblem::Separator('/')),
            (b"a\\b", NameProblem::Separator('\\')),
            (b"..", NameProblem::DotDot),
            (b"x..y", NameProblem::DotDot),
            (b"a\0b", NameProblem::Control),
            (b"a\nb", NameProblem::Control),
            (b"a\x1b[31mred", NameProblem::Control),
            (b"", NameProblem::Empty),
            (b"\xff\xfe", NameProblem::NotUtf8),
        ];
        for (raw, want) in cases {
            assert_eq!(validate(raw), Err(want.clone()), "{:?}", display(raw));
        }
        let long = vec![b'a'; 256];
        assert_eq!(validate(&long), Err(NameProblem::TooLong(256)));
    }

    #[test]
    fn display_escapes_control_characters() {
        assert_eq!(display(b"a\nb\0"), "a\\nb\\0");
        assert!(display(&[b'x'; 500]).len() <= 120);
    }
}
