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
    /// `chart KIND`
    ChartKind => crate::charts::Kind {
        /// Weekly findings for the top fields (lines)
        Trend,
        /// Top fields (or codes) over the period (bars)
        Top,
        /// Acceptance rate per submission, with the threshold
        Acceptance,
        /// Consent notices per week, stacked by status
        Consent,
        /// Findings per field and week (heat map)
        Heatmap,
        /// Share of administered doses reported within 7 days, per site and week
        Timeliness,
        /// The scorecard's score per site and week
        Score,
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

choice!(
    /// `export WHAT`
    Dataset => crate::analytics::export::Dataset {
        Findings,
        Submissions,
        Trends,
        Consent,
        /// The worklist, every item (open, resolved, closed, ignored)
        Worklist,
        /// Every sent message with its answer (site, provider, vaccine, status)
        Ledger,
        /// The scorecard per site and week
        Score,
        /// Completeness per site and week
        Completeness,
    }
);
