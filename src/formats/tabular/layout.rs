//! Where a listing's header is and what each column holds: the layout found in a header row.

use super::*;

pub(super) const HEADER_SEARCH_ROWS: usize = 20;
pub(super) const FIELD_SAMPLE_ROWS: usize = 50;

/// Column layout found in a header row.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    pub(super) cols: RoleMap<usize>,
    pub(super) kind: Kind,
}

impl Layout {
    pub(super) fn get<'r>(&self, row: &'r [String], role: Role) -> Option<&'r str> {
        self.cols
            .get(&role)
            .and_then(|&i| row.get(i))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
    }
}

pub(super) fn find_layout(row: &[String], aliases: &Aliases, hint: Option<Kind>) -> Option<Layout> {
    let mut cols = RoleMap::new();
    for (i, cell) in row.iter().enumerate() {
        if let Some(role) = aliases.role(cell) {
            cols.insert_if_absent(role, i);
        }
    }
    let has = |r: Role| cols.contains_key(&r);
    let patient = has(Role::PatientRef) || has(Role::LastName) || has(Role::PatientName);
    let cnf = (has(Role::ConsentCode) || has(Role::ReasonCode)) && patient;
    let dqa = (has(Role::Field) || has(Role::Code) || has(Role::Message)) && cols.len() >= 2;
    let kind = match (cnf, dqa) {
        (true, _) if hint == Some(Kind::Cnf) || !has(Role::Field) => Kind::Cnf,
        (_, true) => Kind::Dqa,
        (true, false) => Kind::Cnf,
        _ => return None,
    };
    Some(Layout { cols, kind })
}

pub(super) fn no_header_reason(hint: Option<Kind>) -> String {
    match hint {
        Some(Kind::Cnf) => format!(
            "no header row with consent columns (a consent code or reason code, and a patient id or name) or a recognisable field, code or message column in the first {HEADER_SEARCH_ROWS} rows"
        ),
        _ => format!(
            "no header row with a recognisable field, code or message column in the first {HEADER_SEARCH_ROWS} rows"
        ),
    }
}

/// [`codes::normalize_field`] through a bounded cache.
pub(super) fn cached_field(
    cache: &mut HashMap<String, Option<codes::Location>>,
    cell: &str,
) -> Option<codes::Location> {
    if let Some(hit) = cache.get(cell) {
        return hit.clone();
    }
    let loc = codes::normalize_field(cell);
    if cache.len() < 4096 {
        cache.insert(cell.to_string(), loc.clone());
    }
    loc
}

/// Re-join cells as a delimited line (quoting where needed): the row as received.
pub(super) fn raw_row(row: &[String], delim: u8) -> String {
    let d = delim as char;
    let mut out = String::with_capacity(row.iter().map(|c| c.len() + 1).sum());
    for (i, c) in row.iter().enumerate() {
        if i > 0 {
            out.push(d);
        }
        if c.contains(d) || c.contains('"') || c.contains('\n') {
            out.push('"');
            out.push_str(&c.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(c);
        }
    }
    out
}
