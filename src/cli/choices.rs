//! The command line's choices (`--by site`, `--period month`, `chart trend`…) as clap value
//! enums, each mapped to the domain value it names: clap stays in `cli/`, the library's enums
//! stay plain. One line per variant, with the help text `--help` shows.

/// A clap value enum mirroring a library enum variant for variant (the names are the same).
macro_rules! choice {
    ($(#[$m:meta])* $cli:ident => $dom:path { $($(#[$vm:meta])* $v:ident),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
        pub enum $cli {
            $($(#[$vm])* $v),+
        }

        impl From<$cli> for $dom {
            fn from(c: $cli) -> $dom {
                match c {
                    $($cli::$v => <$dom>::$v),+
                }
            }
        }
    };
}

choice!(
    /// `changes --period`
    Period => crate::analytics::changes::Period { Week, Month }
);

choice!(
    /// `submissions --by`
    By => crate::analytics::breakdown::By { Site, Vaccine, VaccineGroup, Provider }
);

choice!(
    /// `completeness --by`
    CompletenessBy => crate::analytics::completeness::By { Site, Provider, Vaccine, Group }
);

choice!(
    /// `export --format`
    ExportFormat => crate::analytics::export::ExportFormat { Csv, Parquet }
);

choice!(
    /// `trends --by`, `chart --by`
    TrendBy => crate::analytics::trends::TrendBy {
        Field,
        Code,
        Severity,
        /// RXA-11.4 (else MSH-4) of the sent message: needs the message ledger.
        Site,
        /// CVX (else NDC) of the sent message's administered doses: needs the ledger.
        Vaccine,
        /// CDC's vaccine groups (DTAP, HepB, FLU…) of those doses: needs the ledger.
        VaccineGroup,
        /// RXA-10 of the sent message's administered doses: needs the ledger.
        Provider,
        /// Who fixes the code (front_desk, clinical, interface, registry, consent).
        Owner,
    }
);

choice!(
    /// `lint --registry`
    Registry => crate::config::Registry {
        /// CDC HL7 2.5.1 Immunization IG release 1.5 rules only (every registry).
        Generic,
        /// ImmTrac2 (Texas): the generic rules plus consent, NK1, ORC-12, OBX-14 and address.
        Texas,
    }
);

/// A parser for a library enum listed by name (`charts::Kind::ALL`, `export::Dataset::ALL`):
/// the library's list is the only one, so a new chart or dataset needs no line here; each
/// value's one-line summary is its help.
pub fn named<T: Copy + Send + Sync + 'static>(
    all: &'static [T],
    name: fn(T) -> &'static str,
    summary: fn(T) -> &'static str,
) -> impl clap::builder::TypedValueParser<Value = T> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    let values: Vec<PossibleValue> = all
        .iter()
        .map(|v| PossibleValue::new(name(*v)).help(summary(*v)))
        .collect();
    // the parser only lets a listed name through
    PossibleValuesParser::new(values).map(move |s| {
        all.iter()
            .copied()
            .find(|v| name(*v) == s)
            .unwrap_or(all[0])
    })
}
