//! Readers of the code-set files in the shapes CDC publishes them (what a user downloads
//! from CDC's "IIS code sets" pages), and of the community's enriched CVX and lot-pattern
//! sets:
//! - `cvx.xml` (`<CVXCodes><CVXInfo>` with named elements; ISO-8859-1, codes padded);
//! - `mvx.xml`, `tradename.xml`, `vac2vg.xml` (`<Name>`/`<Value>` pairs per record);
//! - `NDC_Unit_use.txt`, `NDC_Unit_sale.txt` (pipe-delimited, CRLF, no header; the two
//!   files order their columns differently, so the NDC and the CVX are found by shape);
//! - the enriched `<codeset>` files (licensed window and ages per CVX; lot patterns).
//!
//! A file is recognised by its content (root element, or NDC rows), not its name.

use std::borrow::Cow;

use chrono::NaiveDate;

use super::{CodeSet, Cvx, CvxStatus, Enriched, Mvx, Ndc, Product, normalize_cvx, normalize_ndc};

/// A code-set file that cannot be read. Names the file and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct CodeSetError {
    pub file: String,
    pub message: String,
}

/// The files of the embedded default set.
pub fn embedded_files() -> Vec<(String, Cow<'static, [u8]>)> {
    macro_rules! f {
        ($p:literal) => {
            (
                $p.to_string(),
                Cow::Borrowed(&include_bytes!(concat!("../../codesets/", $p))[..]),
            )
        };
    }
    vec![
        f!("cdc/cvx.xml"),
        f!("cdc/mvx.xml"),
        f!("cdc/tradename.xml"),
        f!("cdc/vac2vg.xml"),
        f!("cdc/NDC_Unit_use.txt"),
        f!("cdc/NDC_Unit_sale.txt"),
        f!("aira/cvx-enriched.xml"),
        f!("aira/lot-patterns.xml"),
    ]
}

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Cvx,
    Mvx,
    TradeNames,
    VaccineGroups,
    Ndc,
    EnrichedCvx,
    LotPatterns,
}

/// The text of a file: UTF-8 when it is, else ISO-8859-1 (CDC's XML files).
fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.trim_start_matches('\u{feff}').to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned(),
    }
}

/// Recognise a file by its content.
pub fn shape(bytes: &[u8]) -> Option<Shape> {
    let head = text(&bytes[..bytes.len().min(4096)]);
    let t = head.trim_start();
    if t.starts_with('<') {
        let has = |s: &str| head.contains(s);
        return if has("<CVXCodes") {
            Some(Shape::Cvx)
        } else if has("<MVXCodes") {
            Some(Shape::Mvx)
        } else if has("<productnames") {
            Some(Shape::TradeNames)
        } else if has("<VGCodes") {
            Some(Shape::VaccineGroups)
        } else if has("VACCINATION_CVX_CODE</type>") {
            Some(Shape::EnrichedCvx)
        } else if has("VACCINATION_LOT_NUMBER_PATTERN</type>") {
            Some(Shape::LotPatterns)
        } else {
            None
        };
    }
    let first = t.lines().next().unwrap_or("");
    (first.split('|').count() >= 12
        && first
            .split('|')
            .any(|f| normalize_ndc(f).is_some() && f.contains('-')))
    .then_some(Shape::Ndc)
}

/// Read the files (any order, any subset) into one set. A file of no known shape is an
/// error naming it.
pub fn read_files(files: &[(String, Cow<'_, [u8]>)]) -> Result<CodeSet, CodeSetError> {
    let mut set = CodeSet::default();
    for (name, bytes) in files {
        let err = |message: String| CodeSetError {
            file: name.clone(),
            message,
        };
        let Some(shape) = shape(bytes) else {
            return Err(err(
                "not a code-set file of a known shape (cvx.xml, mvx.xml, tradename.xml, vac2vg.xml, NDC_Unit_use.txt, NDC_Unit_sale.txt)".into(),
            ));
        };
        let text = text(bytes);
        match shape {
            Shape::Ndc => read_ndc(&text, name, &mut set),
            _ => read_xml(shape, &text, &mut set).map_err(err)?,
        }
    }
    set.compile();
    if set.cvx.is_empty() {
        return Err(CodeSetError {
            file: files.first().map(|f| f.0.clone()).unwrap_or_default(),
            message: "no CVX codes: a code set needs cvx.xml".into(),
        });
    }
    Ok(set)
}

/// `<Name>`/`<Value>` pairs of a record, in order.
fn pairs(node: roxmltree::Node<'_, '_>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut name = None;
    for c in node.children().filter(|c| c.is_element()) {
        let v = c.text().unwrap_or("").trim().to_string();
        match c.tag_name().name() {
            "Name" => name = Some(v),
            "Value" => {
                if let Some(n) = name.take() {
                    out.push((n, v));
                }
            }
            _ => {}
        }
    }
    out
}

fn get<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

fn child<'a>(node: roxmltree::Node<'a, '_>, tag: &str) -> &'a str {
    node.children()
        .find(|c| c.has_tag_name(tag))
        .and_then(|c| c.text())
        .map(str::trim)
        .unwrap_or("")
}

fn ymd(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y%m%d").ok()
}

fn read_xml(shape: Shape, text: &str, set: &mut CodeSet) -> Result<(), String> {
    // roxmltree reads UTF-8 only: the declaration (ISO-8859-1) is dropped once decoded
    let body = match text.find("?>") {
        Some(i) if text.trim_start().starts_with("<?xml") => &text[i + 2..],
        _ => text,
    };
    let doc = roxmltree::Document::parse(body).map_err(|e| format!("not well-formed XML: {e}"))?;
    let records = doc.root_element().children().filter(|c| c.is_element());
    for r in records {
        match shape {
            Shape::Cvx if r.has_tag_name("CVXInfo") => {
                let code = normalize_cvx(child(r, "CVXCode"));
                if let Ok(d) = NaiveDate::parse_from_str(child(r, "LastUpdated"), "%m/%d/%Y") {
                    set.latest_change = set.latest_change.max(Some(d));
                }
                let short = child(r, "ShortDescription").to_string();
                let full = child(r, "FullVaccinename").to_string();
                let unspecified = short.contains("unspecified formulation")
                    || full.contains("unspecified formulation");
                set.cvx.insert(
                    code.clone(),
                    Cvx {
                        code,
                        short,
                        full,
                        status: CvxStatus::parse(child(r, "Status")),
                        notes: child(r, "Notes").to_string(),
                        unspecified,
                    },
                );
            }
            Shape::Mvx => {
                let p = pairs(r);
                let code = get(&p, "MVX_CODE").to_string();
                if !code.is_empty() {
                    set.mvx.insert(
                        code.clone(),
                        Mvx {
                            code,
                            name: get(&p, "Manufacturer Name").to_string(),
                            active: get(&p, "Status").eq_ignore_ascii_case("active"),
                        },
                    );
                }
            }
            Shape::TradeNames => {
                let p = pairs(r);
                set.products.push(Product {
                    name: get(&p, "CDC Product Name").to_string(),
                    cvx: normalize_cvx(get(&p, "CVXCode")),
                    mvx: get(&p, "MVX Code").trim().to_string(),
                    active: get(&p, "Product name Status").eq_ignore_ascii_case("active"),
                });
            }
            Shape::VaccineGroups => {
                let p = pairs(r);
                let cvx = normalize_cvx(get(&p, "CVXCode"));
                let group = get(&p, "Vaccine Group Name").to_string();
                if !cvx.is_empty() && !group.is_empty() {
                    let g = set.groups.entry(cvx).or_default();
                    if !g.contains(&group) {
                        g.push(group);
                    }
                }
            }
            Shape::EnrichedCvx if r.has_tag_name("code") => {
                let code = normalize_cvx(child(r, "value"));
                let date = r.children().find(|c| c.has_tag_name("use-date"));
                let age = r.children().find(|c| c.has_tag_name("use-age"));
                let e = Enriched {
                    not_before: date.and_then(|d| ymd(child(d, "not-before"))),
                    not_after: date.and_then(|d| ymd(child(d, "not-after"))),
                    min_age_months: age.and_then(|a| child(a, "not-before-month").parse().ok()),
                    max_age_months: age.and_then(|a| child(a, "not-after-month").parse().ok()),
                };
                if e != Enriched::default() {
                    set.enriched.insert(code, e);
                }
            }
            Shape::LotPatterns if r.has_tag_name("code") => {
                let pattern = child(r, "value").to_string();
                for l in r.descendants().filter(|c| c.has_tag_name("link-to")) {
                    if l.attribute("codeset") == Some("VACCINATION_MANUFACTURER_CODE")
                        && let Some(mvx) = l.text()
                    {
                        set.lot_patterns
                            .entry(mvx.trim().to_string())
                            .or_default()
                            .push(pattern.clone());
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// NDC rows: the hyphenated NDC and the CVX (a short number after the dates) are found by
/// their shape, the dates are columns 8 and 9 (YYYYMMDD), the product and labeler 5 and 7.
fn read_ndc(text: &str, name: &str, set: &mut CodeSet) {
    let use_of = if name.to_ascii_lowercase().contains("sale") {
        "sale"
    } else {
        "use"
    };
    for line in text.lines() {
        let f: Vec<&str> = line.split('|').map(str::trim).collect();
        if f.len() < 12 {
            continue;
        }
        let Some((written, ndc11)) = f.iter().rev().find_map(|x| {
            (x.contains('-'))
                .then(|| normalize_ndc(x).map(|n| (x.to_string(), n)))
                .flatten()
        }) else {
            continue;
        };
        let Some(cvx) = f[9..]
            .iter()
            .find(|x| !x.is_empty() && x.len() <= 3 && x.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        set.ndc.insert(
            ndc11.clone(),
            Ndc {
                ndc11,
                written,
                cvx: normalize_cvx(cvx),
                product: f[4].to_string(),
                labeler: f[6].to_string(),
                start: ymd(f[7]),
                end: ymd(f[8]),
                use_of,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The counts the code-set README gives for cvx.xml (December 2025).
    #[test]
    fn the_embedded_cvx_file_has_cdcs_counts() {
        let set = read_files(&embedded_files()).unwrap();
        assert_eq!(set.cvx.len(), 288);
        let n = |s| set.cvx.values().filter(|c| c.status == s).count();
        assert_eq!(n(CvxStatus::Active), 113);
        assert_eq!(n(CvxStatus::Inactive), 118);
        assert_eq!(n(CvxStatus::NonUs), 39);
        assert_eq!(n(CvxStatus::NeverActive), 18);
        assert_eq!(set.mvx.len(), 89);
        assert_eq!(set.products.len(), 223);
        assert!(set.ndc.len() > 900, "{}", set.ndc.len());
        let flu = &set.ndc["49281042550"];
        assert_eq!((flu.cvx.as_str(), flu.use_of), ("140", "sale"));
        assert_eq!(flu.start, NaiveDate::from_ymd_opt(2025, 7, 1));
    }

    #[test]
    fn a_file_of_no_known_shape_is_named() {
        let e = read_files(&[("notes.txt".into(), Cow::Borrowed(&b"hello"[..]))]).unwrap_err();
        assert!(
            e.to_string().starts_with("notes.txt: not a code-set file"),
            "{e}"
        );
    }
}
