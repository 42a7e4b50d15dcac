//! The shared base of every check (the report thresholds and the ledger rules): a check's
//! level, what it found and on what basis. Both rule files build on it; neither imports the
//! other's rules.

/// A check's outcome. `Unknown` (the data cannot tell) exits like a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Unknown,
    Warn,
    Fail,
}

impl Level {
    /// Warn when `found`, else OK (a rule whose finding is a warning).
    pub fn warn_if(found: bool) -> Level {
        if found { Level::Warn } else { Level::Ok }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Unknown => "unknown",
            Level::Warn => "warn",
            Level::Fail => "fail",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Breach {
    pub level: Level,
    pub check: &'static str,
    pub message: String,
}

/// One evaluated check: its outcome, what it found, and what that was based on.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub name: &'static str,
    pub level: Level,
    pub message: String,
    pub basis: String,
}

/// A rate as the checks word it: `87.5%`.
pub fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}
