//! Domain values that travel between layers, as types rather than strings: what a file is
//! (DQA report or consent notification), where its parsing stands, what happened to an entry
//! in a fetch. Each has one spelling in the store (`as_str`/`parse`). Leaf module.

/// What a registry file is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A data quality assessment report (the DQA-Reports folder).
    Dqa,
    /// A consent notification file (the Receive folder).
    Cnf,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Dqa => "dqa",
            Kind::Cnf => "cnf",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "dqa" => Some(Kind::Dqa),
            "cnf" => Some(Kind::Cnf),
            _ => None,
        }
    }
}

/// Where the parsing of a stored file stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParseStatus {
    /// Archived, not parsed yet (or interrupted).
    Pending,
    Parsed,
    /// No parser could read it: kept in the archive with the reason, retried by `reparse`.
    Quarantined,
}

impl ParseStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ParseStatus::Pending => "pending",
            ParseStatus::Parsed => "parsed",
            ParseStatus::Quarantined => "quarantined",
        }
    }
    pub fn parse(s: &str) -> Option<ParseStatus> {
        match s {
            "pending" => Some(ParseStatus::Pending),
            "parsed" => Some(ParseStatus::Parsed),
            "quarantined" => Some(ParseStatus::Quarantined),
            _ => None,
        }
    }
}

/// What happened to a remote entry that was not simply downloaded (`fetch_event`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventOutcome {
    Skipped,
    Failed,
}

impl EventOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            EventOutcome::Skipped => "skipped",
            EventOutcome::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<EventOutcome> {
        match s {
            "skipped" => Some(EventOutcome::Skipped),
            "failed" => Some(EventOutcome::Failed),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for k in [Kind::Dqa, Kind::Cnf] {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        for p in [
            ParseStatus::Pending,
            ParseStatus::Parsed,
            ParseStatus::Quarantined,
        ] {
            assert_eq!(ParseStatus::parse(p.as_str()), Some(p));
        }
        assert_eq!(Kind::parse("x"), None);
    }
}
