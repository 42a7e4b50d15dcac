//! The column roles of a tabular listing and the header names that mean them: the built-in
//! aliases (`tabular-aliases.toml`, beside this folder) and a user's `[aliases]`.

use super::*;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    File,
    ControlId,
    MessageIndex,
    PatientRef,
    LastName,
    FirstName,
    MiddleName,
    PatientName,
    Dob,
    Field,
    Severity,
    Code,
    Message,
    ConsentCode,
    ConsentDate,
    ReasonCode,
    ReasonText,
    Processed,
}

pub(super) const ROLE_COUNT: usize = Role::Processed as usize + 1;

/// A value per [`Role`]: an array indexed by the role (looked up for every cell of every
/// row, so no hashing).
#[derive(Debug, Clone)]
pub(super) struct RoleMap<T>(pub(super) [Option<T>; ROLE_COUNT]);

impl<T> RoleMap<T> {
    pub(super) fn new() -> Self {
        RoleMap(std::array::from_fn(|_| None))
    }
    pub(super) fn get(&self, r: &Role) -> Option<&T> {
        self.0[*r as usize].as_ref()
    }
    pub(super) fn contains_key(&self, r: &Role) -> bool {
        self.0[*r as usize].is_some()
    }
    pub(super) fn insert(&mut self, r: Role, v: T) {
        self.0[r as usize] = Some(v);
    }
    pub(super) fn insert_if_absent(&mut self, r: Role, v: T) {
        self.0[r as usize].get_or_insert(v);
    }
    pub(super) fn remove(&mut self, r: &Role) {
        self.0[*r as usize] = None;
    }
    pub(super) fn clear(&mut self) {
        self.0.iter_mut().for_each(|v| *v = None);
    }
    pub(super) fn len(&self) -> usize {
        self.0.iter().filter(|v| v.is_some()).count()
    }
}

/// The column roles by their configuration name (`[aliases]`); their header names are in
/// `tabular-aliases.toml`.
pub(super) const ROLES: &[(Role, &str)] = &[
    (Role::File, "file"),
    (Role::ControlId, "control_id"),
    (Role::MessageIndex, "message_index"),
    (Role::PatientRef, "patient_id"),
    (Role::LastName, "last_name"),
    (Role::FirstName, "first_name"),
    (Role::MiddleName, "middle_name"),
    (Role::PatientName, "patient_name"),
    (Role::Dob, "dob"),
    (Role::Field, "field"),
    (Role::Severity, "severity"),
    (Role::Code, "code"),
    (Role::Message, "message"),
    (Role::ConsentCode, "consent_code"),
    (Role::ConsentDate, "consent_date"),
    (Role::ReasonCode, "reason_code"),
    (Role::ReasonText, "reason"),
    (Role::Processed, "processed"),
];

/// The built-in header names per role (a data file: adding a name touches no code).
pub(super) const ALIASES_FILE: &str = include_str!("../tabular-aliases.toml");

/// Lowercase alphanumerics only: `HL7 Field` → `hl7field`, `MSH-10` → `msh10`.
pub fn header_key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Header names → column roles.
#[derive(Debug, Clone)]
pub struct Aliases {
    pub(super) map: HashMap<String, Role>,
}

#[derive(serde::Deserialize)]
pub(super) struct AliasFile {
    pub(super) role: Vec<AliasEntry>,
}

#[derive(serde::Deserialize)]
pub(super) struct AliasEntry {
    pub(super) name: String,
    pub(super) headers: Vec<String>,
}

pub(super) fn role_named(name: &str) -> Option<Role> {
    ROLES.iter().find(|(_, n)| *n == name).map(|(r, _)| *r)
}

impl Default for Aliases {
    fn default() -> Self {
        static DEFAULT: std::sync::OnceLock<HashMap<String, Role>> = std::sync::OnceLock::new();
        let map = DEFAULT.get_or_init(|| {
            let file: AliasFile = toml::from_str(ALIASES_FILE)
                .expect("tabular-aliases.toml is valid (a unit test reads it)");
            let mut map = HashMap::new();
            for e in file.role {
                let role =
                    role_named(&e.name).expect("every role in tabular-aliases.toml is known");
                for n in e.headers {
                    map.insert(header_key(&n), role);
                }
            }
            map
        });
        Aliases { map: map.clone() }
    }
}

impl Aliases {
    /// Defaults plus the user's `[aliases]` (role name → header names); user entries win.
    pub fn with_user(extra: &BTreeMap<String, Vec<String>>) -> Result<Aliases, String> {
        let mut a = Aliases::default();
        for (role_name, headers) in extra {
            let role = role_named(role_name).ok_or_else(|| {
                format!(
                    "[aliases] has unknown column role '{role_name}' (known: {})",
                    ROLES.iter().map(|(_, n)| *n).collect::<Vec<_>>().join(", ")
                )
            })?;
            for h in headers {
                a.map.insert(header_key(h), role);
            }
        }
        Ok(a)
    }

    pub fn role(&self, header: &str) -> Option<Role> {
        self.map.get(&header_key(header)).copied()
    }
}
