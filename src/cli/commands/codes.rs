//! `immdqa codes`: the vaccine code sets in use (CVX, MVX, products, NDC), what a code is,
//! and updating them from CDC's files.

use std::path::PathBuf;

use crate::cli::{Ctx, Exit};
use crate::vaccines::{CodeSet, normalize_cvx, normalize_ndc, saved};

/// The vaccine code sets: CDC's CVX (vaccines), MVX (manufacturers), product names and NDCs,
/// with the community's licensed windows and ages.
///
/// immdqa ships a dated set (December 2025). CDC changes them several times a year: download
/// the files from CDC's "IIS code sets" pages (cvx.xml, mvx.xml, tradename.xml, vac2vg.xml,
/// NDC_Unit_use.txt, NDC_Unit_sale.txt) and give them to `codes update`; they are kept beside
/// the store, with their date.
///
/// Examples:
///   immdqa codes status
///   immdqa codes show 20            (a CVX)   immdqa codes show PMC   (an MVX)
///   immdqa codes show 49281-0425-50 (an NDC)
///   immdqa codes update --from ~/Downloads/cdc-codesets/
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Which set is in use, its date, counts per status (exit 1 when older than 6 months)
    Status,
    /// What a CVX, MVX or NDC is: name, status, group, manufacturers, NDCs, window, ages
    Show(ShowArgs),
    /// Read newer files from CDC (a folder, or files) and say what changed
    Update(UpdateArgs),
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// A CVX (20), an MVX (PMC) or an NDC (49281-0425-50 or 11 digits)
    pub code: String,
}

#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// CDC's files, or a folder holding them (files of other kinds in it are skipped)
    #[arg(long, required = true, num_args = 1..)]
    pub from: Vec<PathBuf>,
    /// The set's date (default: the newest "last updated" of its CVX codes)
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<chrono::NaiveDate>,
}

/// A set older than this is flagged.
const STALE_DAYS: i64 = 183;

pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<Exit> {
    let store = ctx.store_path()?;
    let today = chrono::Local::now().date_naive();
    match args.action {
        Action::Status => status(&saved::load(&store)?, today),
        Action::Show(a) => show(&saved::load(&store)?, &a.code),
        Action::Update(a) => {
            crate::store::archive::mkdir_private(&store)?;
            let u = saved::update(&store, &a.from, a.date, today)?;
            for f in &u.files {
                crate::cli::say!("read {f}");
            }
            let ch = u.new.changes_from(&u.old);
            let list = |codes: &[String]| {
                codes
                    .iter()
                    .map(|c| {
                        u.new
                            .cvx(c)
                            .or(u.old.cvx(c))
                            .map_or(c.clone(), |x| format!("{} {}", x.code, x.short))
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            crate::cli::out!(
                "code set dated {} (was {}): {} new CVX code(s){}, {} retired{}, {} changed status{}, {} removed{}; {} new NDC(s)",
                date_text(&u.new),
                date_text(&u.old),
                ch.new.len(),
                paren(&list(&ch.new)),
                ch.retired.len(),
                paren(&list(&ch.retired)),
                ch.status_changed.len(),
                paren(&list(&ch.status_changed)),
                ch.removed.len(),
                paren(&list(&ch.removed)),
                ch.ndc_new
            );
            Ok(Exit::Ok)
        }
    }
}

fn paren(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(" ({s})")
    }
}

fn date_text(set: &CodeSet) -> String {
    set.date.map_or("undated".into(), |d| d.to_string())
}

fn status(set: &CodeSet, today: chrono::NaiveDate) -> anyhow::Result<Exit> {
    let age = set.age_days(today);
    crate::cli::out!(
        "code set: {}, dated {}{}",
        set.source,
        date_text(set),
        age.map_or(String::new(), |d| format!(" ({d} days old)"))
    );
    let counts = set
        .status_counts()
        .iter()
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    crate::cli::out!(
        "CVX: {} ({counts}); MVX: {}; products: {}; NDCs: {}; CVX with a vaccine group: {}; with a licensed window or ages: {}",
        set.cvx.len(),
        set.mvx.len(),
        set.products.len(),
        set.ndc.len(),
        set.groups.len(),
        set.enriched.len()
    );
    if age.is_none_or(|d| d > STALE_DAYS) {
        crate::cli::out!(
            "warning: the set is older than 6 months: CDC changes it several times a year. Download the files from CDC's IIS code sets pages and run `immdqa codes update --from DIR`"
        );
        return Ok(Exit::Warn);
    }
    Ok(Exit::Ok)
}

fn show(set: &CodeSet, code: &str) -> anyhow::Result<Exit> {
    let t = code.trim();
    if let Some(n) = normalize_ndc(t).filter(|_| t.contains('-') || t.len() == 11)
        && let Some(ndc) = set.ndc.get(&n)
    {
        crate::cli::out!("NDC {} ({}): {}", ndc.written, ndc.ndc11, ndc.product);
        crate::cli::out!("vaccine: CVX {}", set.vaccine_label(&ndc.cvx));
        crate::cli::out!("labeler: {}; unit of {}", ndc.labeler, ndc.use_of);
        crate::cli::out!(
            "marketed: {} to {}",
            ndc.start.map_or("?".into(), |d| d.to_string()),
            ndc.end.map_or("now".into(), |d| d.to_string())
        );
        return Ok(Exit::Ok);
    }
    if t.bytes().all(|b| b.is_ascii_digit()) && !t.is_empty() && t.len() <= 3 {
        let Some(c) = set.cvx(t) else {
            anyhow::bail!(
                "CVX {t} is not in the code set dated {} (`immdqa codes status`; a newer set: `immdqa codes update`)",
                date_text(set)
            );
        };
        crate::cli::out!("CVX {}: {}", c.code, c.short);
        crate::cli::out!("name: {}", c.full);
        crate::cli::out!(
            "status: {}{}",
            c.status.as_str(),
            if c.unspecified {
                " (unspecified formulation: for historical doses only)"
            } else {
                ""
            }
        );
        let groups = set.groups_of(t);
        crate::cli::out!(
            "groups: {}",
            if groups.is_empty() {
                "none".into()
            } else {
                groups.join(", ")
            }
        );
        let products = set.products_of(t);
        crate::cli::out!(
            "manufacturers: {}",
            products
                .iter()
                .map(|p| {
                    let maker = match set.mvx.get(&p.mvx) {
                        Some(m) => format!("{} ({})", m.code, m.name),
                        None if p.mvx.is_empty() => "maker not coded".into(),
                        None => p.mvx.clone(),
                    };
                    let inactive = if p.active { "" } else { ", product inactive" };
                    format!("{} by {maker}{inactive}", p.name)
                })
                .collect::<Vec<_>>()
                .join("; ")
        );
        let ndcs = set.ndcs_of(t);
        crate::cli::out!(
            "NDCs: {}",
            ndcs.iter()
                .map(|n| format!("{} ({}, unit of {})", n.written, n.product, n.use_of))
                .collect::<Vec<_>>()
                .join("; ")
        );
        if let Some(e) = set.enriched.get(&normalize_cvx(t)) {
            crate::cli::out!(
                "licensed: {} to {}",
                e.not_before.map_or("?".into(), |d| d.to_string()),
                e.not_after.map_or("now".into(), |d| d.to_string())
            );
            crate::cli::out!(
                "ages: {} to {}",
                e.min_age_months.map_or("any".into(), months),
                e.max_age_months.map_or("any".into(), months)
            );
        }
        if !c.notes.is_empty() {
            crate::cli::out!("notes: {}", c.notes);
        }
        return Ok(Exit::Ok);
    }
    let up = t.to_ascii_uppercase();
    if let Some(m) = set.mvx.get(&up) {
        crate::cli::out!("MVX {}: {}", m.code, m.name);
        crate::cli::out!("status: {}", if m.active { "Active" } else { "Inactive" });
        let products: Vec<String> = set
            .products
            .iter()
            .filter(|p| p.mvx == up)
            .map(|p| format!("{} (CVX {})", p.name, set.vaccine_label(&p.cvx)))
            .collect();
        crate::cli::out!("products: {}", products.join("; "));
        return Ok(Exit::Ok);
    }
    anyhow::bail!(
        "{t} is no CVX, MVX or NDC of the code set dated {} (a CVX is 1-3 digits, an MVX letters, an NDC 11 digits or hyphenated)",
        date_text(set)
    )
}

fn months(m: u32) -> String {
    match m {
        1 => "1 month".into(),
        _ if m % 12 == 0 && m >= 24 => format!("{} years", m / 12),
        _ => format!("{m} months"),
    }
}
