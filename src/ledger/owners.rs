//! Who fixes a registry code: the catalogue's owner class, overridden by `[owners]` in the
//! config; a code the catalogue does not know is owned by where it points (PID/NK1 →
//! front_desk, PD1-12/13 → consent, RXA/RXR/OBX → clinical, anything else → interface).

use std::collections::BTreeMap;

use crate::domain::Owner;
use crate::formats::codes::catalogue;

/// Owner lookup for one config.
#[derive(Debug, Clone, Copy)]
pub struct Owners<'c> {
    overrides: &'c BTreeMap<String, Owner>,
    people: &'c BTreeMap<String, String>,
}

impl<'c> Owners<'c> {
    pub fn new(config: &'c crate::config::OwnersConfig) -> Owners<'c> {
        Owners {
            overrides: &config.codes,
            people: &config.people,
        }
    }

    /// Who works an item of this site and owner unless assigned by hand (`[owners.people]`:
    /// the site first, then the owner).
    pub fn person_for(&self, site: &str, owner: Owner) -> Option<&'c str> {
        let find = |key: &str| {
            self.people
                .iter()
                .find(|(k, _)| k.trim().eq_ignore_ascii_case(key.trim()))
                .map(|(_, v)| v.as_str())
        };
        find(site).or_else(|| find(owner.as_str()))
    }

    /// The owner of a finding: by its code (override, then catalogue), else by its field.
    pub fn of(&self, code: &str, field: &str) -> Owner {
        let code = code.trim().to_ascii_uppercase();
        if let Some(o) = self
            .overrides
            .iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(&code))
        {
            return *o.1;
        }
        if let Some(info) = catalogue().get(&code) {
            return info.owner;
        }
        by_field(field)
    }

    /// Where the owner of a code comes from, for `explain`.
    pub fn source(&self, code: &str) -> &'static str {
        if self
            .overrides
            .keys()
            .any(|k| k.trim().eq_ignore_ascii_case(code.trim()))
        {
            "[owners] in the config"
        } else if catalogue().get(code).is_some() {
            "the catalogue"
        } else {
            "the field it points to"
        }
    }
}

/// The owner of an unknown code, from the field it points to.
pub fn by_field(field: &str) -> Owner {
    let f = field.trim().to_ascii_uppercase();
    let seg = f.get(..3).unwrap_or("");
    if f.starts_with("PD1-12") || f.starts_with("PD1-13") {
        Owner::Consent
    } else if matches!(seg, "PID" | "NK1" | "PD1") {
        Owner::FrontDesk
    } else if matches!(seg, "RXA" | "RXR" | "OBX") {
        Owner::Clinical
    } else {
        Owner::Interface
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_then_override_then_field() {
        let none = crate::config::OwnersConfig::default();
        let o = Owners::new(&none);
        assert_eq!(o.of("IEE-519", "NK1"), Owner::FrontDesk);
        assert_eq!(o.of("imr-111", ""), Owner::Clinical);
        assert_eq!(o.of("CLR-105", ""), Owner::Consent);
        assert_eq!(o.of("IEE-201", ""), Owner::Registry);
        assert_eq!(o.of("IEE-526", ""), Owner::Interface);
        assert_eq!(o.of("XYZ-1", "PID-11"), Owner::FrontDesk);
        assert_eq!(o.of("", "RXA-17"), Owner::Clinical);
        assert_eq!(o.of("", "PD1-13"), Owner::Consent);
        assert_eq!(o.of("", "MSH-4"), Owner::Interface);
        let mut over = crate::config::OwnersConfig::default();
        over.codes.insert("IEE-519".to_string(), Owner::Interface);
        assert_eq!(Owners::new(&over).of("iee-519", "NK1"), Owner::Interface);
        assert_eq!(
            Owners::new(&over).source("IEE-519"),
            "[owners] in the config"
        );
    }

    #[test]
    fn people_by_site_first_then_by_owner() {
        let mut c = crate::config::OwnersConfig::default();
        c.people.insert("clinical".into(), "ana".into());
        c.people.insert("North Clinic".into(), "lee".into());
        let o = Owners::new(&c);
        assert_eq!(o.person_for("NORTH CLINIC", Owner::Clinical), Some("lee"));
        assert_eq!(o.person_for("SOUTH CLINIC", Owner::Clinical), Some("ana"));
        assert_eq!(o.person_for("SOUTH CLINIC", Owner::Consent), None);
    }

    #[test]
    fn every_catalogue_code_has_an_owner_that_fits_its_class() {
        for c in catalogue().all() {
            if c.class == "review" {
                assert_eq!(c.owner, Owner::Registry, "{} is held for review", c.code);
            }
            if c.field.as_deref().is_some_and(|f| f.starts_with("PD1-1")) {
                assert_eq!(c.owner, Owner::Consent, "{}", c.code);
            }
        }
    }
}
