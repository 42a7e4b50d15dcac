//! Domain values that travel between layers, as types rather than strings: what a file is
//! (DQA report or consent notification), where its parsing stands, what happened to an entry
//! in a fetch. Each has one spelling in the store (`as_str`/`parse`). Leaf module.

/// A short text value (ids, codes, fields, sites, providers, dates): inline up to 24 bytes,
/// so a parsed finding or ledger message does not allocate for each. Records are made on a
/// parsing thread and dropped on the storing one, where every heap string was a cross-thread
/// free (a tenth of import time at 1 M findings, benchmarks B1 and B8).
pub type Short = compact_str::CompactString;

/// What a registry file is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A data quality assessment report (the DQA-Reports folder).
    Dqa,
    /// A consent notification file (the Receive folder).
    Cnf,
    /// A batch the organisation sent (the Accepted folder, `upload`, `import --sent`): read
    /// into the message ledger, not by the report parsers.
    Sent,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Dqa => "dqa",
            Kind::Cnf => "cnf",
            Kind::Sent => "sent",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "dqa" => Some(Kind::Dqa),
            "cnf" => Some(Kind::Cnf),
            "sent" => Some(Kind::Sent),
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

/// Who fixes a registry code (README, "Owners"): each catalogue code has one, `[owners]` in the
/// config overrides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Owner {
    /// Demographics, address, responsible party, phone: corrected at registration.
    FrontDesk,
    /// Vaccine, lot, manufacturer, dose, route, site: corrected by who gave the dose.
    Clinical,
    /// Structure, codes and mappings: the EHR interface or its vendor.
    Interface,
    /// Held for the registry's own review (client matching): nothing to send.
    Registry,
    /// Consent (PD1-12/13): compliance staff.
    Consent,
}

impl Owner {
    pub const ALL: [Owner; 5] = [
        Owner::FrontDesk,
        Owner::Clinical,
        Owner::Interface,
        Owner::Registry,
        Owner::Consent,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Owner::FrontDesk => "front_desk",
            Owner::Clinical => "clinical",
            Owner::Interface => "interface",
            Owner::Registry => "registry",
            Owner::Consent => "consent",
        }
    }
    pub fn parse(s: &str) -> Option<Owner> {
        Owner::ALL.into_iter().find(|o| {
            o.as_str().eq_ignore_ascii_case(s.trim()) || o.as_str().replace('_', "-") == s.trim()
        })
    }
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the registry's answer says about one sent message (the ledger).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AnswerStatus {
    /// No answer for its batch yet.
    Pending,
    Accepted,
    AcceptedWithWarnings,
    Rejected,
    /// The batch's acknowledgement does not mention this message (an ACK answers every one).
    NotMentioned,
}

impl AnswerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerStatus::Pending => "pending",
            AnswerStatus::Accepted => "accepted",
            AnswerStatus::AcceptedWithWarnings => "accepted_with_warnings",
            AnswerStatus::Rejected => "rejected",
            AnswerStatus::NotMentioned => "not_mentioned",
        }
    }
    pub fn parse(s: &str) -> Option<AnswerStatus> {
        [
            AnswerStatus::Pending,
            AnswerStatus::Accepted,
            AnswerStatus::AcceptedWithWarnings,
            AnswerStatus::Rejected,
            AnswerStatus::NotMentioned,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for k in [Kind::Dqa, Kind::Cnf, Kind::Sent] {
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
        for o in Owner::ALL {
            assert_eq!(Owner::parse(o.as_str()), Some(o));
        }
        assert_eq!(Owner::parse("front-desk"), Some(Owner::FrontDesk));
        for a in [
            AnswerStatus::Pending,
            AnswerStatus::Rejected,
            AnswerStatus::NotMentioned,
        ] {
            assert_eq!(AnswerStatus::parse(a.as_str()), Some(a));
        }
    }
}

/// What a person signed in to `immdqa serve` may see and do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Data quality officer: the worklist with patient references, and works it.
    Dqo,
    /// Compliance staff: consent follow-ups with the names the notices carry; closes them.
    Compliance,
    /// Every aggregate page, the worklist without patient references; changes nothing.
    Analyst,
    /// Manages users; sees what an analyst sees.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Dqo, Role::Compliance, Role::Analyst, Role::Admin];
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Dqo => "dqo",
            Role::Compliance => "compliance",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
    }
    /// May see patient references (MRNs) on the worklist and its items.
    pub fn sees_patients(self) -> bool {
        self == Role::Dqo
    }
    /// May close, ignore, reopen and assign worklist items.
    pub fn works_worklist(self) -> bool {
        self == Role::Dqo
    }
    /// May see and close consent follow-ups (names and birth dates of the notices).
    pub fn works_consent(self) -> bool {
        self == Role::Compliance
    }
}

// ---- the sent message model (what the ledger keeps of a sent HL7 message) -----------------
// Read by `formats::sent`, stored by `store::ledger`: a domain value both layers share, so the
// store never imports the reader.

/// Placeholder for a breakdown key the message does not give (no site, no provider).
pub const NONE: &str = "(none)";

/// One sent message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SentMessage {
    /// 1-based position in the batch.
    pub index: u64,
    /// MSH-10.
    pub control_id: Option<Short>,
    /// MSH-7.
    pub time: Option<chrono::NaiveDateTime>,
    /// MSH-4 (first component).
    pub facility: Option<Short>,
    /// PID-3, first repetition, ID component.
    pub patient_ref: Option<Short>,
    /// Inline for the usual one vaccination per message.
    pub vaccinations: smallvec::SmallVec<[Vaccination; 1]>,
}

impl SentMessage {
    /// The message's site: its first vaccination's RXA-11.4, else MSH-4.
    pub fn site(&self) -> Short {
        self.vaccinations
            .iter()
            .find_map(|v| v.site.clone())
            .or_else(|| self.facility.clone())
            .unwrap_or_else(|| Short::const_new(NONE))
    }
}

/// One RXA of a sent message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vaccination {
    /// RXA-5 when coded CVX (or uncoded), else None.
    pub cvx: Option<Short>,
    /// RXA-5 when coded NDC (first or alternate triplet).
    pub ndc: Option<Short>,
    /// RXA-3.
    pub administered_on: Option<chrono::NaiveDate>,
    /// RXA-9 says a historical record (anything but `00`).
    pub historical: bool,
    /// RXA-20 (CP, RE, NA, PA).
    pub completion: Option<Short>,
    /// RXA-10: the ID, else "family, given".
    pub provider: Option<Short>,
    /// ORC-10.
    pub entered_by: Option<Short>,
    /// ORC-12.
    pub ordering_provider: Option<Short>,
    /// RXA-11.4.
    pub site: Option<Short>,
    /// Whole years between PID-7 and RXA-3.
    pub age_years: Option<i32>,
    /// Which of the [`Field`]s a registry relies on were present for this dose (a bit per
    /// field; their values are not kept).
    pub fields: u16,
}

/// The fields a registry relies on, whose presence the ledger keeps per dose (completeness).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Lot,
    Expiry,
    Manufacturer,
    Ndc,
    Route,
    BodySite,
    AdministeringProvider,
    OrderingProvider,
    VfcEligibility,
    FundingSource,
    Consent,
    Address,
    Phone,
    /// NK1 (a responsible person): counted for minors only.
    ResponsiblePerson,
}

impl Field {
    pub const ALL: [Field; 14] = [
        Field::Lot,
        Field::Expiry,
        Field::Manufacturer,
        Field::Ndc,
        Field::Route,
        Field::BodySite,
        Field::AdministeringProvider,
        Field::OrderingProvider,
        Field::VfcEligibility,
        Field::FundingSource,
        Field::Consent,
        Field::Address,
        Field::Phone,
        Field::ResponsiblePerson,
    ];
    pub fn bit(self) -> u16 {
        1 << (self as u16)
    }
    /// The column name in completeness tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Lot => "lot",
            Field::Expiry => "expiry",
            Field::Manufacturer => "mvx",
            Field::Ndc => "ndc",
            Field::Route => "route",
            Field::BodySite => "body_site",
            Field::AdministeringProvider => "administering_provider",
            Field::OrderingProvider => "ordering_provider",
            Field::VfcEligibility => "vfc_eligibility",
            Field::FundingSource => "funding_source",
            Field::Consent => "consent",
            Field::Address => "address",
            Field::Phone => "phone",
            Field::ResponsiblePerson => "nk1_minors",
        }
    }
    /// Where it is in a VXU.
    pub fn hl7(self) -> &'static str {
        match self {
            Field::Lot => "RXA-15",
            Field::Expiry => "RXA-16",
            Field::Manufacturer => "RXA-17",
            Field::Ndc => "RXA-5 (NDC)",
            Field::Route => "RXR-1",
            Field::BodySite => "RXR-2",
            Field::AdministeringProvider => "RXA-10",
            Field::OrderingProvider => "ORC-12",
            Field::VfcEligibility => "OBX 64994-7",
            Field::FundingSource => "OBX 30963-3",
            Field::Consent => "PD1-12/13",
            Field::Address => "PID-11",
            Field::Phone => "PID-13",
            Field::ResponsiblePerson => "NK1 (minors)",
        }
    }
}

impl Vaccination {
    /// CVX, else NDC, else `(none)`.
    pub fn vaccine(&self) -> Short {
        self.cvx
            .clone()
            .or_else(|| self.ndc.clone())
            .unwrap_or_else(|| Short::const_new(NONE))
    }
}

/// `s` trimmed, None when empty.

// ---- weeks --------------------------------------------------------------------------------

/// Monday of `d`'s ISO week.
pub fn week_start(d: chrono::NaiveDate) -> chrono::NaiveDate {
    use chrono::Datelike;
    d - chrono::Duration::days(d.weekday().num_days_from_monday() as i64)
}

/// `2025-W44`
pub fn week_label(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    let w = d.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

/// Parse `2025-W44` (or a date) into the Monday of that ISO week.
pub fn parse_week(s: &str) -> Option<chrono::NaiveDate> {
    let s = s.trim();
    if let Some((y, w)) = s.split_once("-W").or_else(|| s.split_once("-w")) {
        let (y, w) = (y.parse().ok()?, w.parse().ok()?);
        return chrono::NaiveDate::from_isoywd_opt(y, w, chrono::Weekday::Mon);
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .map(week_start)
}

// ---- hand actions ------------------------------------------------------------------------

/// A hand action on a worklist item (the CLI's `worklist close|ignore|reopen`, the web
/// workspace's bulk actions and assignments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandAction {
    Close,
    Ignore,
    Reopen,
    /// To a person (an empty name unassigns).
    Assign(String),
}

impl HandAction {
    /// The word recorded in the history and the journal.
    pub fn verb(&self) -> &'static str {
        match self {
            HandAction::Close => "closed",
            HandAction::Ignore => "ignored",
            HandAction::Reopen => "reopened",
            HandAction::Assign(_) => "assigned",
        }
    }
}
