//! `immdqa explain CODE`: what a registry code means and how to fix it.

use crate::cli::Exit;
use crate::formats::codes::catalogue;

/// Explain a registry message code: its meaning, the HL7 field, how to fix it in the EHR, and
/// the lint rules that catch it before upload. A lint rule's id (`lint` prints them) or a
/// vaccine code (CVX, MVX, NDC of the code set in use) is explained too, by name.
///
/// Codes come from a catalogue of the codes seen in ImmTrac2 data exchange (IMR = immunization
/// rejected, CLR = client rejected, IEE = warning or information). Unknown codes are reported
/// as unknown; they are still kept verbatim in the history.
///
/// Example: immdqa explain IEE-519 IMR-111 cvx-mvx 20 PMC
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The code, e.g. IEE-519 (several allowed)
    #[arg(required = true)]
    pub codes: Vec<String>,
}

pub fn run(args: &Args, owner_overrides: &crate::config::OwnersConfig) -> anyhow::Result<Exit> {
    let cat = catalogue();
    let owners = crate::ledger::owners::Owners::new(owner_overrides);
    let mut unknown = 0;
    for (i, code) in args.codes.iter().enumerate() {
        if i > 0 {
            crate::cli::out!();
        }
        match cat.get(code) {
            Some(c) => {
                crate::cli::out!("{} ({})", c.code, c.class);
                if let Some(f) = &c.field {
                    crate::cli::out!("  HL7 field: {f}");
                }
                crate::cli::out!(
                    "  owner: {} (from {})",
                    owners.of(&c.code, c.field.as_deref().unwrap_or("")),
                    owners.source(&c.code)
                );
                if let Some(t) = &c.text {
                    crate::cli::out!("  registry text: {t}");
                }
                crate::cli::out!("  meaning: {}", c.meaning);
                crate::cli::out!("  how to fix: {}", c.fix);
                let rules: Vec<&str> = crate::hl7::lint::RULES
                    .iter()
                    .filter(|r| r.predicts == Some(c.code.as_str()))
                    .map(|r| r.id)
                    .collect();
                if !rules.is_empty() {
                    crate::cli::out!(
                        "  caught before upload by: {} (`immdqa lint`)",
                        rules.join(", ")
                    );
                }
                crate::cli::out!("  source: {}", c.source);
            }
            None if explain_other(code) => {}
            None => {
                unknown += 1;
                let prefix = code.trim().to_ascii_uppercase();
                let class = match prefix.get(..3) {
                    Some("IMR") => "an immunization rejection",
                    Some("CLR") => "a client rejection",
                    Some("IEE") => "a warning or information message",
                    Some("FIR") | Some("MER") => "a file- or message-level error",
                    _ if prefix.chars().next().is_some_and(|c| c.is_ascii_digit()) => {
                        "a local code of the answering registry (such as ERR-5's 101.1118), not ImmTrac2's IMR/CLR/IEE/FIR/MER-nnn form: immdqa does not know what it means"
                    }
                    _ => "not a registry code form (IMR/CLR/IEE/FIR/MER-nnn)",
                };
                crate::cli::out!(
                    "{prefix}: unknown code ({class}); not in the catalogue of {} codes. It is kept verbatim in the history with the registry's text.",
                    cat.len()
                );
            }
        }
    }
    // not knowing a code is an "unknown", not a failed run
    Ok(if unknown > 0 { Exit::Warn } else { Exit::Ok })
}

/// A lint rule or a vaccine code, explained; false when `code` is neither.
fn explain_other(code: &str) -> bool {
    let t = code.trim();
    if let Some(r) = crate::hl7::lint::RULES.iter().find(|r| r.id == t) {
        crate::cli::out!("{} (lint rule, {:?}, {})", r.id, r.level, r.scope.as_str());
        crate::cli::out!("  checks: {}", r.description);
        if let Some(p) = r.predicts {
            crate::cli::out!("  predicts the registry's {p} (`immdqa explain {p}`)");
        }
        return true;
    }
    let set = crate::vaccines::current();
    let label = |kind: &str, name: String| {
        crate::cli::out!(
            "{kind} {t}: {name} (CDC code set dated {})",
            set.date.map_or("?".into(), |d| d.to_string())
        );
        crate::cli::out!("  everything about it: immdqa codes show {t}");
    };
    if t.bytes().all(|b| b.is_ascii_digit()) && (1..=3).contains(&t.len()) {
        if let Some(c) = set.cvx(t) {
            label("CVX", format!("{} — {}", c.short, c.full));
            crate::cli::out!("  status: {}", c.status.as_str());
            let groups = set.groups_of(t);
            if !groups.is_empty() {
                crate::cli::out!("  vaccine groups: {}", groups.join(", "));
            }
            return true;
        }
    } else if let Some(m) = set.mvx.get(&t.to_ascii_uppercase()) {
        label("MVX", m.name.clone());
        return true;
    } else if let Some(n) = crate::vaccines::normalize_ndc(t)
        .filter(|_| t.contains('-') || t.len() == 11)
        .and_then(|n| set.ndc.get(&n))
    {
        label(
            "NDC",
            format!("{} (CVX {})", n.product, set.vaccine_label(&n.cvx)),
        );
        return true;
    }
    false
}
