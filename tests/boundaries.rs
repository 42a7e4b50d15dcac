//! The house's boundaries, read from the source (issue 21): each kind of code stays in its
//! layer, so a change has one obvious place.
//!
//! - clap only in `cli/` (value enums included: the CLI maps its choices to domain values);
//! - rusqlite only in `store/`; polars only in `analytics/`;
//! - `store/` never imports `ledger`, `analytics`, `report`, `serve`, `cli` or `ingest` (the data
//!   flows one way: the store is below them); `formats/` never imports `store` or `ingest`;
//! - a module doc's "Uses:" line names exactly the crate modules the file imports.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// (path relative to src/, code without comments and without its `#[cfg(test)]` module).
fn files() -> Vec<(String, String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    sources(&root, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let body = match text.find("#[cfg(test)]\nmod tests") {
                Some(i) => &text[..i],
                None => &text[..],
            };
            let code: String = body
                .lines()
                .map(|l| match l.find("//") {
                    // a `//` inside a string literal is rare in this code base; the rules
                    // below look for paths, which no string here holds
                    Some(i) => &l[..i],
                    None => l,
                })
                .collect::<Vec<_>>()
                .join("\n");
            (rel, code, text)
        })
        .collect()
}

/// The crate's top-level modules a file refers to (`crate::x`, `super::` excluded).
fn crate_modules(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + 7..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        } else if after.starts_with('{') {
            // crate::{a, b::c}
            let inner = &after[1..after.find('}').unwrap_or(after.len())];
            for part in inner.split(',') {
                let n: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !n.is_empty() {
                    out.insert(n);
                }
            }
        }
        rest = after;
    }
    out
}

fn layer(rel: &str) -> &str {
    rel.split('/').next().unwrap().trim_end_matches(".rs")
}

#[test]
fn each_library_stays_in_its_layer() {
    let mut wrong = Vec::new();
    for (rel, code, _) in files() {
        let l = layer(&rel);
        let uses = |what: &str| {
            code.contains(&format!("{what}::")) || code.contains(&format!("use {what}"))
        };
        if l != "cli" && uses("clap") {
            wrong.push(format!("{rel}: clap outside cli/ (map the choice in cli/)"));
        }
        if l != "store" && uses("rusqlite") {
            wrong.push(format!("{rel}: rusqlite outside store/"));
        }
        if l != "analytics" && uses("polars") {
            wrong.push(format!("{rel}: polars outside analytics/"));
        }
        let mods = crate_modules(&code);
        let against = |banned: &[&str]| -> Vec<String> {
            banned
                .iter()
                .filter(|b| mods.contains(**b))
                .map(|b| b.to_string())
                .collect()
        };
        if l == "store" {
            for m in against(&[
                "ledger",
                "analytics",
                "report",
                "serve",
                "cli",
                "ingest",
                "charts",
            ]) {
                wrong.push(format!("{rel}: the store imports {m} (against the flow)"));
            }
        }
        if l == "formats" {
            for m in against(&["store", "ingest", "analytics", "report", "serve", "cli"]) {
                wrong.push(format!("{rel}: formats imports {m} (against the flow)"));
            }
        }
    }
    assert!(wrong.is_empty(), "layers crossed:\n{}", wrong.join("\n"));
}

/// The modules named by a module doc's "Uses:" sentence ("Uses: store (users), ledger and
/// report."), or None when the doc has none (or says "every library module").
fn uses_line(text: &str) -> Option<BTreeSet<String>> {
    let doc: Vec<&str> = text
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .map(|l| l.trim_start_matches("//!").trim())
        .collect();
    // the paragraph that holds "Uses:" (a blank doc line ends it)
    let doc = doc
        .split(|l| l.is_empty())
        .map(|p| p.join(" "))
        .find(|p| p.contains("Uses:"))?;
    let at = doc.find("Uses:")?;
    let mut s = doc[at + 5..].to_string();
    // to the end of the sentence: ". " followed by a capital, or the end
    if let Some(end) = s.char_indices().find(|(i, c)| {
        *c == '.'
            && s[i + 1..].starts_with(' ')
            && s[i + 2..].chars().next().is_some_and(char::is_uppercase)
    }) {
        s.truncate(end.0);
    }
    if s.contains("every library module") {
        return None;
    }
    // drop parentheticals
    let mut plain = String::new();
    let mut depth = 0;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    Some(
        plain
            .replace(" and ", ",")
            .split(',')
            .map(|w| w.trim().trim_end_matches('.').trim().to_string())
            .filter(|w| !w.is_empty())
            .collect(),
    )
}

/// Modules every layer may use without naming them: typed domain values and the crash
/// points of the tests.
const LEAVES: [&str; 2] = ["domain", "failpoint"];

#[test]
fn every_uses_line_names_the_modules_the_file_imports() {
    let all = files();
    let mut wrong = Vec::new();
    for (rel, code, text) in &all {
        let Some(said) = uses_line(text) else {
            continue;
        };
        let own = layer(rel).to_string();
        // a folder's mod.rs speaks for the whole folder
        let mut used = if rel.ends_with("/mod.rs") {
            all.iter()
                .filter(|(r, _, _)| layer(r) == own)
                .flat_map(|(_, c, _)| crate_modules(c))
                .collect()
        } else {
            crate_modules(code)
        };
        used.remove(&own);
        for l in LEAVES {
            used.remove(l);
        }
        if said != used {
            wrong.push(format!("{rel}: Uses: {said:?}, imports {used:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "Uses: lines that disagree with the imports:\n{}",
        wrong.join("\n")
    );
}

/// Within a folder, files do not import each other in a circle (analytics: the checks build on
/// `verdict`, the breakdowns on `trends`, never both ways).
#[test]
fn no_file_circles_inside_a_folder() {
    let all = files();
    let mut wrong = Vec::new();
    for folder in ["analytics", "store", "serve", "ledger", "formats", "report"] {
        let in_folder: Vec<(String, String)> = all
            .iter()
            .filter(|(r, _, _)| layer(r) == folder && !r.ends_with("/mod.rs"))
            .map(|(r, c, _)| {
                let stem = r
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .trim_end_matches(".rs")
                    .to_string();
                (stem, c.clone())
            })
            .collect();
        let names: Vec<&str> = in_folder.iter().map(|(n, _)| n.as_str()).collect();
        let refers = |code: &str, other: &str| {
            code.contains(&format!("super::{other}::"))
                || code.contains(&format!("super::{other};"))
                || code.contains(&format!("super::{{{other}"))
                || code.contains(&format!("crate::{folder}::{other}::"))
                || code.contains(&format!("use super::{other}"))
        };
        for (a, ca) in &in_folder {
            for b in &names {
                if a.as_str() >= *b {
                    continue;
                }
                let cb = &in_folder.iter().find(|(n, _)| n == b).unwrap().1;
                if refers(ca, b) && refers(cb, a) {
                    wrong.push(format!("{folder}/{a}.rs ⇄ {folder}/{b}.rs"));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "files that import each other:\n{}",
        wrong.join("\n")
    );
}
