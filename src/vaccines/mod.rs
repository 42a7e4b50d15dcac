//! What a vaccine is: CDC's code sets for immunization information systems (CVX vaccines,
//! MVX manufacturers, product names pairing them, vaccine groups, NDCs), with the community's
//! enriched facts per CVX (licensed window, valid ages) and lot-number shapes per
//! manufacturer.
//!
//! A dated default set is embedded (codesets/ in the repository: CDC's files as published,
//! December 2025, via immregistries/codebase); `immdqa codes update --from` reads newer files
//! in the same shapes ([`cdc`]) and keeps them beside the store ([`saved`]). Reading is
//! header-driven and tolerant: a file that cannot be read is an error naming it; unknown
//! elements are ignored. It imports no other module of immdqa.

pub mod cdc;
pub mod saved;

use std::collections::BTreeMap;

use chrono::NaiveDate;

/// CDC's status of a CVX code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CvxStatus {
    Active,
    Inactive,
    NonUs,
    NeverActive,
    Pending,
    Other,
}

impl CvxStatus {
    pub fn parse(s: &str) -> CvxStatus {
        match s.trim().to_ascii_lowercase().as_str() {
            "active" => CvxStatus::Active,
            "inactive" => CvxStatus::Inactive,
            "non-us" => CvxStatus::NonUs,
            "never active" => CvxStatus::NeverActive,
            "pending" => CvxStatus::Pending,
            _ => CvxStatus::Other,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            CvxStatus::Active => "Active",
            CvxStatus::Inactive => "Inactive",
            CvxStatus::NonUs => "Non-US",
            CvxStatus::NeverActive => "Never Active",
            CvxStatus::Pending => "Pending",
            CvxStatus::Other => "Other",
        }
    }
}

/// One CVX code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cvx {
    pub code: String,
    pub short: String,
    pub full: String,
    pub status: CvxStatus,
    pub notes: String,
    /// "unspecified formulation": for historical doses only.
    pub unspecified: bool,
}

/// One MVX manufacturer code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mvx {
    pub code: String,
    pub name: String,
    pub active: bool,
}

/// A product (trade name): which CVX it is and who makes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub name: String,
    pub cvx: String,
    pub mvx: String,
    pub active: bool,
}

/// An NDC package (unit of use or of sale).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ndc {
    /// 11 digits (5-4-2), the form used for lookups.
    pub ndc11: String,
    /// As CDC writes it (with hyphens).
    pub written: String,
    pub cvx: String,
    pub product: String,
    pub labeler: String,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    pub use_of: &'static str,
}

/// The community's enriched facts about a CVX (none of them in CDC's files).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enriched {
    /// Licensed window: not before, not after.
    pub not_before: Option<NaiveDate>,
    pub not_after: Option<NaiveDate>,
    /// Valid ages, in months.
    pub min_age_months: Option<u32>,
    pub max_age_months: Option<u32>,
}

/// A whole code set, as of a date.
#[derive(Debug, Clone, Default)]
pub struct CodeSet {
    /// When the set was published (ISO date), and where it came from.
    pub date: Option<NaiveDate>,
    pub source: String,
    /// The newest "last updated" date of a CVX code in the files (a set's date when the
    /// user gives none).
    pub latest_change: Option<NaiveDate>,
    pub cvx: BTreeMap<String, Cvx>,
    pub mvx: BTreeMap<String, Mvx>,
    pub products: Vec<Product>,
    /// CVX → its vaccine groups (e.g. DTAP, HepB, FLU).
    pub groups: BTreeMap<String, Vec<String>>,
    /// 11-digit NDC → package.
    pub ndc: BTreeMap<String, Ndc>,
    pub enriched: BTreeMap<String, Enriched>,
    /// MVX → lot-number patterns (regular expressions, as written).
    pub lot_patterns: BTreeMap<String, Vec<String>>,
    /// The same, compiled once ([`CodeSet::lot_patterns_of`]).
    pub(crate) lot_regexes: BTreeMap<String, Vec<regex::Regex>>,
    /// CVX → the MVX codes of its products, sorted (lint asks per dose).
    pub(crate) makers: BTreeMap<String, Vec<String>>,
}

static CURRENT: std::sync::OnceLock<CodeSet> = std::sync::OnceLock::new();

/// Make `set` the one [`current`] gives (the CLI does, once, when `immdqa codes update` kept
/// a set beside the store). Later calls change nothing.
pub fn install(set: CodeSet) {
    let _ = CURRENT.set(set);
}

/// The code set that names vaccines in outputs: the installed one, else the embedded one.
pub fn current() -> &'static CodeSet {
    CURRENT.get().unwrap_or_else(|| CodeSet::embedded())
}

/// The names of a list of CVX codes as the ledger keeps them ("20,08" → "DTaP; Hep B,
/// adolescent or pediatric"); a code the set does not know is kept as it is.
pub fn names_of(codes: &str) -> String {
    let set = current();
    codes
        .split([',', ';', ' '])
        .filter(|c| !c.trim().is_empty())
        .map(|c| set.cvx(c).map_or(c.trim().to_string(), |x| x.short.clone()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The date of the embedded set (immregistries/codebase commit 641f2ea, "codebase updates
/// for December 12, 2025").
pub const EMBEDDED_DATE: &str = "2025-12-12";

/// A Java regular expression as Rust's `regex` reads it: `\Q…\E` becomes an escaped literal,
/// `'-'` a hyphen.
fn java_regex(p: &str) -> String {
    let mut out = String::new();
    let mut rest = p;
    while let Some(i) = rest.find("\\Q") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after.find("\\E").unwrap_or(after.len());
        out.push_str(&regex::escape(&after[..end]));
        rest = after.get(end + 2..).unwrap_or("");
    }
    out.push_str(rest);
    out.replace("'-'", "-")
}

/// A CVX as the registry and the EHR send it (leading zeros optional: "08" = "8").
pub fn normalize_cvx(code: &str) -> String {
    cvx_key(code).to_string()
}

/// [`normalize_cvx`] without a copy: the key the code set's maps are keyed by.
fn cvx_key(code: &str) -> &str {
    let t = code.trim();
    let n = t.trim_start_matches('0');
    if n.is_empty() && !t.is_empty() {
        "0"
    } else {
        n
    }
}

/// An NDC in its 11-digit form (5-4-2): from 11 digits, or from a hyphenated 4-4-2, 5-3-2 or
/// 5-4-1 form. None: not an NDC.
pub fn normalize_ndc(ndc: &str) -> Option<String> {
    let t = ndc.trim();
    if t.len() == 11 && t.bytes().all(|b| b.is_ascii_digit()) {
        return Some(t.to_string());
    }
    let parts: Vec<&str> = t.split('-').collect();
    if parts.len() != 3
        || !parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let (a, b, c) = (parts[0], parts[1], parts[2]);
    if a.len() > 5 || b.len() > 4 || c.len() > 2 {
        return None;
    }
    Some(format!("{a:0>5}{b:0>4}{c:0>2}"))
}

impl CodeSet {
    /// The embedded default set (read once per process).
    pub fn embedded() -> &'static CodeSet {
        static SET: std::sync::OnceLock<CodeSet> = std::sync::OnceLock::new();
        SET.get_or_init(|| {
            let mut set = cdc::read_files(&cdc::embedded_files())
                .expect("the embedded code sets are readable (a test reads them)");
            set.date = NaiveDate::parse_from_str(EMBEDDED_DATE, "%Y-%m-%d").ok();
            set.source = "embedded: CDC's IIS code sets via immregistries/codebase".into();
            set
        })
    }

    /// The lot-number patterns of a manufacturer, as regular expressions (CDC's community
    /// writes them in Java's syntax: `\Q…\E` quoting and `'-'` are translated).
    pub fn lot_patterns_of(&self, mvx: &str) -> &[regex::Regex] {
        self.lot_regexes
            .get(mvx.trim())
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The manufacturers (MVX) of a CVX's products, sorted; empty when none is coded.
    pub fn makers_of(&self, cvx: &str) -> &[String] {
        self.makers.get(cvx).map(Vec::as_slice).unwrap_or(&[])
    }

    /// What lint looks up per dose, built once after reading: compiled lot patterns (one that
    /// does not compile is skipped), the makers of each CVX.
    pub(crate) fn compile(&mut self) {
        self.makers.clear();
        for p in self.products.iter().filter(|p| !p.mvx.is_empty()) {
            let m = self.makers.entry(p.cvx.clone()).or_default();
            if !m.contains(&p.mvx) {
                m.push(p.mvx.clone());
            }
        }
        self.makers.values_mut().for_each(|m| m.sort());
        self.lot_regexes = self
            .lot_patterns
            .iter()
            .map(|(m, ps)| {
                let rs = ps
                    .iter()
                    .filter_map(|p| regex::Regex::new(&java_regex(p)).ok())
                    .collect();
                (m.clone(), rs)
            })
            .collect();
    }

    /// A CVX code (leading zeros ignored).
    pub fn cvx(&self, code: &str) -> Option<&Cvx> {
        self.cvx.get(cvx_key(code))
    }

    /// "20 DTaP": the code with its short name, for people (the code alone when unknown).
    pub fn vaccine_label(&self, code: &str) -> String {
        match self.cvx(code) {
            Some(c) => format!("{} {}", c.code, c.short),
            None => code.trim().to_string(),
        }
    }

    /// The vaccine groups of a CVX ("DTAP", "HepB"…), empty when unknown.
    pub fn groups_of(&self, code: &str) -> &[String] {
        self.groups
            .get(cvx_key(code))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The products pairing a CVX with manufacturers.
    pub fn products_of(&self, cvx: &str) -> Vec<&Product> {
        let c = normalize_cvx(cvx);
        self.products.iter().filter(|p| p.cvx == c).collect()
    }

    /// The NDCs of a CVX.
    pub fn ndcs_of(&self, cvx: &str) -> Vec<&Ndc> {
        let c = normalize_cvx(cvx);
        self.ndc.values().filter(|n| n.cvx == c).collect()
    }

    /// Counts of CVX codes per status, in status order.
    pub fn status_counts(&self) -> Vec<(CvxStatus, usize)> {
        let mut m: BTreeMap<CvxStatus, usize> = BTreeMap::new();
        for c in self.cvx.values() {
            *m.entry(c.status).or_default() += 1;
        }
        m.into_iter().collect()
    }

    /// How old the set is on `today`, in days (None: undated).
    pub fn age_days(&self, today: NaiveDate) -> Option<i64> {
        self.date.map(|d| (today - d).num_days())
    }

    /// What changed from `old` to this set: CVX codes added, retired (active before, not
    /// now), and removed.
    pub fn changes_from(&self, old: &CodeSet) -> Changes {
        let mut ch = Changes::default();
        for (code, c) in &self.cvx {
            match old.cvx.get(code) {
                None => ch.new.push(code.clone()),
                Some(o) if o.status == CvxStatus::Active && c.status != CvxStatus::Active => {
                    ch.retired.push(code.clone())
                }
                Some(o) if o.status != c.status => ch.status_changed.push(code.clone()),
                _ => {}
            }
        }
        ch.removed = old
            .cvx
            .keys()
            .filter(|k| !self.cvx.contains_key(*k))
            .cloned()
            .collect();
        ch.ndc_new = self
            .ndc
            .keys()
            .filter(|k| !old.ndc.contains_key(*k))
            .count();
        ch
    }
}

/// What an update changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub new: Vec<String>,
    pub retired: Vec<String>,
    pub status_changed: Vec<String>,
    pub removed: Vec<String>,
    pub ndc_new: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_normalize_as_registries_send_them() {
        assert_eq!(normalize_cvx("08"), "8");
        assert_eq!(normalize_cvx(" 20  "), "20");
        assert_eq!(normalize_cvx("00"), "0");
        assert_eq!(
            normalize_ndc("49281-0521-00").as_deref(),
            Some("49281052100")
        );
        assert_eq!(
            normalize_ndc("0006-4047-20").as_deref(),
            Some("00006404720")
        );
        assert_eq!(
            normalize_ndc("58160-842-11").as_deref(),
            Some("58160084211")
        );
        assert_eq!(normalize_ndc("49281052100").as_deref(), Some("49281052100"));
        assert_eq!(normalize_ndc("20"), None);
        assert_eq!(normalize_ndc("4928-10521-00"), None);
    }

    #[test]
    fn the_embedded_set_knows_dtap_and_its_group_products_and_window() {
        let set = CodeSet::embedded();
        assert_eq!(set.vaccine_label("20"), "20 DTaP");
        assert_eq!(set.cvx("20").unwrap().status, CvxStatus::Active);
        assert!(
            set.groups_of("20").iter().any(|g| g == "DTAP"),
            "{:?}",
            set.groups_of("20")
        );
        assert!(set.products_of("20").iter().any(|p| p.mvx == "PMC"));
        assert!(set.cvx("82").unwrap().unspecified);
        let e = &set.enriched["143"];
        assert_eq!(e.min_age_months, Some(203));
        assert!(!set.ndcs_of("140").is_empty());
        assert!(set.lot_patterns.contains_key("PMC"));
        assert_eq!(set.vaccine_label("9999"), "9999");
        let pmc = set.lot_patterns_of("PMC");
        assert!(pmc.iter().any(|r| r.is_match("U12345A")));
        assert!(pmc.iter().any(|r| r.is_match("A12345")));
        assert!(!pmc.iter().any(|r| r.is_match("LOT1")));
        assert!(set.lot_patterns_of("MSD").is_empty());
        assert_eq!(names_of("20,08"), "DTaP; Hep B, adolescent or pediatric");
        assert_eq!(names_of("9999"), "9999");
    }
}
