//! The code set in use: the embedded default, or the files a user downloaded from CDC and
//! gave to `immdqa codes update`, kept (with their date) in `<store>/codesets/` — no patient
//! data, so not encrypted. An update may give some files only (a new cvx.xml): the others
//! stay as they were.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::CodeSet;
use super::cdc::{self, CodeSetError, Shape};

const META: &str = "codesets.json";

#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    date: NaiveDate,
    source: String,
    updated_at: String,
}

pub fn dir(store: &Path) -> PathBuf {
    store.join("codesets")
}

/// The file name a shape is kept under.
fn kept_name(shape: Shape, given: &str) -> &'static str {
    match shape {
        Shape::Cvx => "cvx.xml",
        Shape::Mvx => "mvx.xml",
        Shape::TradeNames => "tradename.xml",
        Shape::VaccineGroups => "vac2vg.xml",
        Shape::Ndc if given.to_ascii_lowercase().contains("sale") => "NDC_Unit_sale.txt",
        Shape::Ndc => "NDC_Unit_use.txt",
        Shape::EnrichedCvx => "cvx-enriched.xml",
        Shape::LotPatterns => "lot-patterns.xml",
    }
}

fn err(file: &Path, e: impl std::fmt::Display) -> CodeSetError {
    CodeSetError {
        file: file.display().to_string(),
        message: e.to_string(),
    }
}

/// The files of the set in use: the kept ones, else the embedded ones.
fn current_files(store: &Path) -> Result<Vec<(String, Cow<'static, [u8]>)>, CodeSetError> {
    let d = dir(store);
    if !d.join(META).exists() {
        return Ok(cdc::embedded_files());
    }
    let mut out = Vec::new();
    for e in std::fs::read_dir(&d).map_err(|e| err(&d, e))? {
        let p = e.map_err(|e| err(&d, e))?.path();
        if p.file_name().is_some_and(|n| n != META) {
            let bytes = std::fs::read(&p).map_err(|e| err(&p, e))?;
            out.push((p.display().to_string(), Cow::Owned(bytes)));
        }
    }
    Ok(out)
}

/// The set in use for the store in `store`.
pub fn load(store: &Path) -> Result<CodeSet, CodeSetError> {
    let d = dir(store);
    let Ok(meta) = std::fs::read(d.join(META)) else {
        return Ok(CodeSet::embedded().clone());
    };
    let meta: Meta = serde_json::from_slice(&meta).map_err(|e| err(&d.join(META), e))?;
    let mut set = cdc::read_files(&current_files(store)?)?;
    set.date = Some(meta.date);
    set.source = meta.source;
    Ok(set)
}

/// Files given to `update`: each file, or each file of a folder that has a known shape.
fn gather(from: &[PathBuf]) -> Result<Vec<(PathBuf, Vec<u8>, Shape)>, CodeSetError> {
    let mut out = Vec::new();
    for p in from {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| err(p, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect();
            entries.sort();
            for f in entries {
                let bytes = std::fs::read(&f).map_err(|e| err(&f, e))?;
                if let Some(s) = cdc::shape(&bytes) {
                    out.push((f, bytes, s));
                }
            }
        } else {
            let bytes = std::fs::read(p).map_err(|e| err(p, e))?;
            let s = cdc::shape(&bytes).ok_or_else(|| {
                err(p, "not a code-set file of a known shape (cvx.xml, mvx.xml, tradename.xml, vac2vg.xml, NDC_Unit_use.txt, NDC_Unit_sale.txt)")
            })?;
            out.push((p.clone(), bytes, s));
        }
    }
    if out.is_empty() {
        return Err(err(
            from.first().map(PathBuf::as_path).unwrap_or(Path::new(".")),
            "no code-set file found there",
        ));
    }
    Ok(out)
}

/// What `update` did.
pub struct Updated {
    pub old: CodeSet,
    pub new: CodeSet,
    pub files: Vec<String>,
}

/// Replace the kept files by the ones given (by shape; the others stay), dated `date` (else
/// the newest change in the new cvx.xml, else today). The new set is read whole before
/// anything is written; the folder is replaced by a rename.
pub fn update(
    store: &Path,
    from: &[PathBuf],
    date: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<Updated, CodeSetError> {
    let old = load(store)?;
    let given = gather(from)?;
    let mut files: Vec<(String, Cow<'static, [u8]>)> = Vec::new();
    let mut names = Vec::new();
    for (name, bytes) in current_files(store)? {
        let shape = cdc::shape(&bytes);
        let kept = shape.map(|s| kept_name(s, &name));
        if !given
            .iter()
            .any(|(p, _, s)| Some(kept_name(*s, &p.to_string_lossy())) == kept)
        {
            files.push((kept.unwrap_or("other").to_string(), bytes));
        }
    }
    for (p, bytes, s) in given {
        let kept = kept_name(s, &p.to_string_lossy());
        names.push(format!("{} → {kept}", p.display()));
        files.push((kept.to_string(), Cow::Owned(bytes)));
    }
    let mut new = cdc::read_files(&files)?;
    new.date = Some(date.or(new.latest_change).unwrap_or(today));
    new.source = format!(
        "updated {today} from {}",
        from.iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    // write the folder anew beside the old one, then swap
    let d = dir(store);
    let tmp = store.join("codesets.new");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| err(&tmp, e))?;
    for (name, bytes) in &files {
        std::fs::write(tmp.join(name), bytes).map_err(|e| err(&tmp, e))?;
    }
    let meta = Meta {
        date: new.date.unwrap_or(today),
        source: new.source.clone(),
        updated_at: chrono::Utc::now().to_rfc3339(),
    };
    std::fs::write(
        tmp.join(META),
        serde_json::to_vec_pretty(&meta).map_err(|e| err(&tmp, e))?,
    )
    .map_err(|e| err(&tmp, e))?;
    let old_dir = store.join("codesets.old");
    let _ = std::fs::remove_dir_all(&old_dir);
    if d.exists() {
        std::fs::rename(&d, &old_dir).map_err(|e| err(&d, e))?;
    }
    std::fs::rename(&tmp, &d).map_err(|e| err(&d, e))?;
    let _ = std::fs::remove_dir_all(&old_dir);
    Ok(Updated {
        old,
        new,
        files: names,
    })
}
