//! The worklist: one item per sent record to fix, from the ledger's rows.
//!
//! An item is a rejected message, or an accepted one with a finding whose owner the user
//! follows (`[worklist] follow`, or `--owner`). Codes in `[worklist] ignore_codes` are dropped
//! first (an item left with no code and not rejected is no item). Status: `open`; `resolved`
//! when a later accepted message re-sent the same record (same patient reference, vaccine
//! and administration date); `closed` or `ignored` by hand (`worklist close|ignore ID`).
//! Items are named by patient reference only; the table is a file with patient references.

use chrono::NaiveDate;

use super::owners::Owners;
use crate::config::WorklistConfig;
use crate::domain::{AnswerStatus, Owner};
use crate::formats::codes::catalogue;
use crate::store::ledger::WorklistRow;
use crate::table::{ColType, Table, Value};

/// Where an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ItemStatus {
    Open,
    /// A later accepted message re-sent the same record.
    Resolved,
    /// Closed by hand.
    Closed,
    /// Ignored by hand.
    Ignored,
}

impl ItemStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemStatus::Open => "open",
            ItemStatus::Resolved => "resolved",
            ItemStatus::Closed => "closed",
            ItemStatus::Ignored => "ignored",
        }
    }
}

/// One code of an item, with its owner and the catalogue's one-line fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemCode {
    /// The registry code, else the field, else `(text)`.
    pub code: String,
    pub severity: String,
    pub field: String,
    pub owner: Owner,
    pub fix: Option<String>,
    /// The registry's own words for it (as the answer gave them).
    pub text: String,
}

/// One record to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: i64,
    pub profile: String,
    pub batch: String,
    pub message_index: i64,
    pub patient_ref: Option<String>,
    pub administered_on: Option<String>,
    pub vaccines: Option<String>,
    pub site: String,
    pub provider: Option<String>,
    pub message_status: AnswerStatus,
    /// Worst first (E, then W, then I).
    pub codes: Vec<ItemCode>,
    /// The owner of the worst code; with `--owner`, that owner (who the list is for).
    pub owner: Owner,
    pub opened: Option<NaiveDate>,
    pub age_days: Option<i64>,
    pub status: ItemStatus,
    pub note: Option<String>,
    /// Who works it: assigned by hand, else `[owners.people]`'s person for its site or owner.
    pub assignee: Option<String>,
}

impl Item {
    /// The item's owner's worst code, else its worst code: what the item is about.
    pub fn own_code(&self) -> Option<&ItemCode> {
        self.codes
            .iter()
            .find(|c| c.owner == self.owner)
            .or(self.codes.first())
    }

    /// The fix of the item's owner's worst code that has one, else of any code.
    pub fn fix(&self) -> Option<&str> {
        self.codes
            .iter()
            .filter(|c| c.owner == self.owner)
            .chain(&self.codes)
            .find_map(|c| c.fix.as_deref())
    }
}

/// Which items to show.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub owner: Option<Owner>,
    pub site: Option<String>,
    pub code: Option<String>,
    pub since: Option<NaiveDate>,
    /// Every status, not only open items.
    pub all: bool,
    /// Only items this person works (assigned, or by default).
    pub assignee: Option<String>,
}

/// One event of an item's history in a line: "2025-11-03 14:02  assigned to ana by lee: note".
pub fn event_line(e: &crate::store::worklist::WorklistEvent) -> String {
    let to = match (e.action.as_str(), e.assignee.as_deref()) {
        ("assigned", Some("") | None) => " (unassigned)".to_string(),
        ("assigned", Some(who)) => format!(" to {who}"),
        _ => String::new(),
    };
    format!(
        "{}  {}{to}{}{}",
        e.at.get(..16).unwrap_or(&e.at).replace('T', " "),
        e.action,
        e.by.as_ref()
            .map(|b| format!(" by {b}"))
            .unwrap_or_default(),
        e.note
            .as_ref()
            .map(|n| format!(": {}", crate::hl7::printable(n)))
            .unwrap_or_default()
    )
}

/// The first sentence of a catalogue fix.
fn one_line(fix: &str) -> String {
    match fix.find(". ") {
        Some(i) => fix[..=i].to_string(),
        None => fix.to_string(),
    }
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "E" => 0,
        "W" => 1,
        _ => 2,
    }
}

/// The worklist of a profile (None: every profile) read from the store, row by row.
pub fn load(
    store: &crate::store::Store,
    profile: Option<&str>,
    config: &WorklistConfig,
    owners: &Owners<'_>,
    filter: &Filter,
    today: NaiveDate,
) -> Result<Vec<Item>, crate::store::StoreError> {
    let mut out = Vec::new();
    store.for_each_worklist_row(profile, filter.all, |r| {
        out.extend(item(r, config, owners, filter, today));
    })?;
    Ok(out)
}

/// One row as an item, if it is one and the filter keeps it.
pub fn item(
    r: WorklistRow,
    config: &WorklistConfig,
    owners: &Owners<'_>,
    filter: &Filter,
    today: NaiveDate,
) -> Option<Item> {
    let ignored = |code: &str| {
        config
            .ignore_codes
            .iter()
            .any(|c| c.trim().eq_ignore_ascii_case(code))
    };
    let mut codes: Vec<ItemCode> = r
        .findings
        .iter()
        .filter(|(code, ..)| code.is_empty() || !ignored(code))
        .map(|(code, severity, field, text)| {
            let info = catalogue().get(code);
            let shown = if !code.is_empty() {
                code.clone()
            } else if !field.is_empty() {
                field.clone()
            } else {
                text.chars().take(40).collect()
            };
            ItemCode {
                code: shown,
                severity: severity.clone(),
                field: field.clone(),
                owner: owners.of(code, field),
                fix: info.map(|i| one_line(&i.fix)),
                text: text.clone(),
            }
        })
        .collect();
    codes.sort_by(|a, b| {
        severity_rank(&a.severity)
            .cmp(&severity_rank(&b.severity))
            .then_with(|| a.code.cmp(&b.code))
    });
    codes.dedup_by(|a, b| a.code == b.code && a.severity == b.severity);
    let rejected = r.status == AnswerStatus::Rejected;
    let followed = |o: Owner| config.follow.contains(&o) || filter.owner == Some(o);
    if !rejected && !codes.iter().any(|c| followed(c.owner)) {
        return None;
    }
    // the list is for `--owner` when given (a clinical user sees the clinical part of a
    // record whose worst code is consent's), else for the owner of the worst code
    let owner = filter
        .owner
        .filter(|o| codes.iter().any(|c| c.owner == *o))
        .or_else(|| codes.first().map(|c| c.owner))
        .unwrap_or(Owner::Interface);
    // an accepted resubmission is the fact: a record closed by hand afterwards (or before)
    // stays "resolved"
    let status = match r.action.as_deref() {
        _ if r.resolved => ItemStatus::Resolved,
        Some("closed") => ItemStatus::Closed,
        Some("ignored") => ItemStatus::Ignored,
        _ => ItemStatus::Open,
    };
    let opened = r
        .opened
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d.get(..10).unwrap_or(d), "%Y-%m-%d").ok());
    let r_site = r.site.clone();
    let item = Item {
        id: r.id,
        profile: r.profile,
        batch: r.batch,
        message_index: r.message_index,
        patient_ref: r.patient_ref,
        administered_on: r.administered_on,
        vaccines: r.vaccines,
        site: r.site,
        provider: r.provider,
        message_status: r.status,
        owner,
        age_days: opened.map(|o| (today - o).num_days()),
        opened,
        codes,
        status,
        note: r.note,
        assignee: r
            .assignee
            .or_else(|| owners.person_for(&r_site, owner).map(str::to_string)),
    };
    keep(&item, filter).then_some(item)
}

fn keep(item: &Item, f: &Filter) -> bool {
    (f.all || item.status == ItemStatus::Open)
        && f.owner
            .is_none_or(|o| item.codes.iter().any(|c| c.owner == o))
        && f.site
            .as_deref()
            .is_none_or(|s| item.site.eq_ignore_ascii_case(s))
        && f.code
            .as_deref()
            .is_none_or(|c| item.codes.iter().any(|x| x.code.eq_ignore_ascii_case(c)))
        && f.since.is_none_or(|s| item.opened.is_some_and(|o| o >= s))
        && f.assignee.as_deref().is_none_or(|a| {
            item.assignee
                .as_deref()
                .is_some_and(|x| x.eq_ignore_ascii_case(a))
        })
}

/// Open items per owner (the report's and `demo`'s counts), owners in their fixed order.
pub fn open_by_owner(items: &[Item]) -> Vec<(Owner, usize)> {
    Owner::ALL
        .into_iter()
        .map(|o| {
            (
                o,
                items
                    .iter()
                    .filter(|i| i.status == ItemStatus::Open && i.owner == o)
                    .count(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// The worklist as a table (terminal, CSV, JSON, the report's worklist.csv).
pub fn table<'a>(items: impl IntoIterator<Item = &'a Item>) -> Table {
    let mut t = Table::typed(&[
        ("id", ColType::Int),
        ("patient_ref", ColType::Text),
        ("administered_on", ColType::Text),
        ("vaccine", ColType::Text),
        ("vaccine_name", ColType::Text),
        ("site", ColType::Text),
        ("provider", ColType::Text),
        ("codes", ColType::Text),
        ("fix", ColType::Text),
        ("owner", ColType::Text),
        ("opened", ColType::Date),
        ("age_days", ColType::Int),
        ("status", ColType::Text),
        ("answer", ColType::Text),
        ("batch", ColType::Text),
        ("message", ColType::Int),
        ("profile", ColType::Text),
        ("note", ColType::Text),
        ("assignee", ColType::Text),
    ]);
    for i in items {
        let codes: Vec<String> = i
            .codes
            .iter()
            .map(|c| format!("{} ({})", c.code, c.severity))
            .collect();
        t.push(vec![
            Value::Int(i.id),
            Value::opt_text(i.patient_ref.as_deref()),
            Value::opt_text(i.administered_on.as_deref()),
            Value::opt_text(i.vaccines.as_deref()),
            Value::opt_text(
                i.vaccines
                    .as_deref()
                    .map(crate::vaccines::names_of)
                    .as_deref(),
            ),
            Value::text(&i.site),
            Value::opt_text(i.provider.as_deref()),
            Value::text(codes.join(", ")),
            Value::opt_text(i.fix()),
            Value::text(i.owner.as_str()),
            i.opened.map(Value::Date).unwrap_or(Value::Null),
            Value::opt_int(i.age_days),
            Value::text(i.status.as_str()),
            Value::text(i.message_status.as_str()),
            Value::text(&i.batch),
            Value::Int(i.message_index),
            Value::text(&i.profile),
            Value::opt_text(i.note.as_deref()),
            Value::opt_text(i.assignee.as_deref()),
        ]);
    }
    // a terminal shows what a person acts on; CSV and JSON keep every column
    t.show_by_default(&[
        "id",
        "patient_ref",
        "administered_on",
        "vaccine_name",
        "site",
        "codes",
        "owner",
        "age_days",
        "status",
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(
        rows: Vec<WorklistRow>,
        config: &WorklistConfig,
        owners: &Owners<'_>,
        filter: &Filter,
        today: NaiveDate,
    ) -> Vec<Item> {
        rows.into_iter()
            .filter_map(|r| item(r, config, owners, filter, today))
            .collect()
    }

    fn row(id: i64, status: AnswerStatus, findings: &[(&str, &str, &str)]) -> WorklistRow {
        WorklistRow {
            id,
            profile: "p".into(),
            batch: "ACME25301.hl7".into(),
            message_index: id,
            patient_ref: Some(format!("MRN{id}")),
            site: "NORTH".into(),
            status,
            opened: Some("2025-10-28".into()),
            vaccines: Some("08".into()),
            administered_on: Some("2025-10-27".into()),
            provider: Some("DR1".into()),
            findings: findings
                .iter()
                .map(|(c, s, f)| (c.to_string(), s.to_string(), f.to_string(), "t".into()))
                .collect(),
            action: None,
            note: None,
            resolved: false,
            assignee: None,
        }
    }

    #[test]
    fn rejections_always_warnings_when_followed_ignored_codes_dropped() {
        let over = crate::config::OwnersConfig::default();
        let owners = Owners::new(&over);
        let today = NaiveDate::from_ymd_opt(2025, 11, 7).unwrap();
        let rows = || {
            vec![
                row(
                    1,
                    AnswerStatus::Rejected,
                    &[("IMR-111", "E", "RXA-17"), ("IEE-519", "W", "NK1")],
                ),
                row(
                    2,
                    AnswerStatus::AcceptedWithWarnings,
                    &[("IEE-519", "W", "NK1")],
                ),
                row(
                    3,
                    AnswerStatus::AcceptedWithWarnings,
                    &[("IEE-251", "I", "PID-19")],
                ),
            ]
        };
        let cfg = WorklistConfig::default();
        let got = items(rows(), &cfg, &owners, &Filter::default(), today);
        assert_eq!(got.iter().map(|i| i.id).collect::<Vec<_>>(), vec![1]);
        assert_eq!(got[0].owner, Owner::Clinical);
        assert_eq!(got[0].codes[0].code, "IMR-111");
        assert_eq!(got[0].age_days, Some(10));
        assert!(
            got[0].codes[0]
                .fix
                .as_deref()
                .is_some_and(|f| f.ends_with('.'))
        );

        let follow = WorklistConfig {
            follow: vec![Owner::FrontDesk],
            ..WorklistConfig::default()
        };
        let got = items(rows(), &follow, &owners, &Filter::default(), today);
        assert_eq!(got.iter().map(|i| i.id).collect::<Vec<_>>(), vec![1, 2, 3]);

        let ignore = WorklistConfig {
            follow: vec![Owner::FrontDesk],
            ignore_codes: vec!["iee-251".into(), "IEE-519".into()],
        };
        let got = items(rows(), &ignore, &owners, &Filter::default(), today);
        assert_eq!(got.iter().map(|i| i.id).collect::<Vec<_>>(), vec![1]);
        assert_eq!(
            got[0].codes.len(),
            1,
            "the ignored code is dropped from the item"
        );

        let by_owner = Filter {
            owner: Some(Owner::FrontDesk),
            ..Filter::default()
        };
        let got = items(rows(), &cfg, &owners, &by_owner, today);
        assert_eq!(got.iter().map(|i| i.id).collect::<Vec<_>>(), vec![1, 2, 3]);
        // the rejected record is listed for the front desk as theirs, with their fix
        assert_eq!(got[0].owner, Owner::FrontDesk);
        let t = table(&got[..1]);
        let shown = |col: &str| {
            let k = t.columns.iter().position(|c| c == col).unwrap();
            t.rows[0][k].render()
        };
        assert_eq!(shown("owner"), "front_desk");
        let nk1_fix = got[0].codes.iter().find(|c| c.code == "IEE-519").unwrap();
        assert_eq!(Some(shown("fix")), nk1_fix.fix.clone());
        let unfiltered = items(rows(), &cfg, &owners, &Filter::default(), today);
        assert_eq!(unfiltered[0].owner, Owner::Clinical);
    }

    #[test]
    fn resolved_and_closed_items_show_only_with_all() {
        let over = crate::config::OwnersConfig::default();
        let owners = Owners::new(&over);
        let today = NaiveDate::from_ymd_opt(2025, 11, 7).unwrap();
        let mut a = row(1, AnswerStatus::Rejected, &[("IMR-111", "E", "RXA-17")]);
        a.resolved = true;
        let mut b = row(2, AnswerStatus::Rejected, &[("CLR-105", "E", "PD1-13")]);
        b.action = Some("closed".into());
        let c = row(3, AnswerStatus::Rejected, &[("CLR-105", "E", "PD1-13")]);
        let cfg = WorklistConfig::default();
        let open = items(
            vec![a.clone(), b.clone(), c.clone()],
            &cfg,
            &owners,
            &Filter::default(),
            today,
        );
        assert_eq!(open.iter().map(|i| i.id).collect::<Vec<_>>(), vec![3]);
        let all = Filter {
            all: true,
            ..Filter::default()
        };
        let every = items(vec![a, b, c], &cfg, &owners, &all, today);
        let st: Vec<_> = every.iter().map(|i| i.status).collect();
        assert_eq!(
            st,
            vec![ItemStatus::Resolved, ItemStatus::Closed, ItemStatus::Open]
        );
        assert_eq!(open_by_owner(&every), vec![(Owner::Consent, 1)]);
    }
}
