//! The structure rules of `lint`: terminators, the batch and file wrappers, segments outside a
//! message, the BTS-1 count and the MSH fields every message needs. A table ([`STRUCTURE`])
//! of one function per rule, run in order over a [`FileView`] of the file.

use std::collections::HashMap;

use super::Msg;
use crate::hl7::{Segment, Separators};

/// What the structure rules read: the file's terminators, its segments (numbered lines) and
/// their messages. Segments are split on demand ([`FileView::segment`]), a message at a time
/// by lint: a whole file's split segments weighed tens of megabytes (benchmark B12).
pub(super) struct FileView<'a> {
    /// Carriage returns, line feeds, and CR LF pairs.
    pub(super) cr: usize,
    pub(super) lf: usize,
    pub(super) crlf: usize,
    /// The non-empty lines: (line number, text), and the separators in force on each.
    pub(super) lines: Vec<(usize, &'a str)>,
    seps: Vec<Separators>,
    pub(super) ids: Vec<&'a str>,
    pub(super) msgs: Vec<Msg>,
    /// Segments before the first MSH: (line, id).
    pub(super) orphans: Vec<(usize, &'a str)>,
}

/// One structure finding: (line, segment, control id, message).
pub(super) type Found = (usize, String, Option<String>, String);

/// A structure rule: what it finds in the file.
pub(super) type StructureRule = fn(&FileView<'_>) -> Vec<Found>;

/// The structure rules, in the order their findings are listed (each one a function below).
pub(super) const STRUCTURE: &[(&str, StructureRule)] = &[
    ("segment terminators", terminators),
    ("an empty file", empty),
    ("batch and file wrappers", wrappers),
    ("segments before the first MSH", orphans),
    ("a file without a message", no_message),
    ("BTS-1 message count", bts_count),
    ("MSH-9, MSH-10, MSH-12", msh_fields),
];

pub(super) fn found(line: usize, seg: &str, cid: Option<&str>, message: String) -> Found {
    (line, seg.to_string(), cid.map(str::to_string), message)
}

fn terminators(f: &FileView<'_>) -> Vec<Found> {
    let (cr, lf) = (f.cr, f.lf);
    if cr == 0 && lf == 0 {
        vec![found(
            1,
            "",
            None,
            "no segment terminators: expected segments ended by carriage returns".into(),
        )]
    } else if f.crlf == 0 && cr > 0 && lf > 0 {
        vec![found(
            1,
            "",
            None,
            format!("mixed segment terminators ({cr} CR and {lf} LF): use one kind, preferably CR"),
        )]
    } else {
        vec![]
    }
}

fn empty(f: &FileView<'_>) -> Vec<Found> {
    if f.lines.is_empty() {
        vec![found(1, "", None, "the file is empty".into())]
    } else {
        vec![]
    }
}

fn wrappers(f: &FileView<'_>) -> Vec<Found> {
    let mut out = Vec::new();
    if f.ids.is_empty() {
        return out;
    }
    let ids = &f.ids;
    let first = ids[0];
    if !matches!(first, "FHS" | "BHS" | "MSH") {
        out.push(found(
            1,
            first,
            None,
            format!("the file starts with '{first}', expected FHS, BHS or MSH"),
        ));
    }
    let has = |id: &str| ids.contains(&id);
    if has("FHS") != has("FTS") {
        out.push(found(
            1,
            "FHS",
            None,
            "FHS and FTS must both be present or both absent".into(),
        ));
    }
    if has("FHS") && first != "FHS" {
        out.push(found(
            1,
            first,
            None,
            "FHS must be the first segment".into(),
        ));
    }
    if has("FTS") && *ids.last().unwrap() != "FTS" {
        let (n, s) = f.segment(f.lines.len() - 1);
        out.push(found(n, s.id, None, "FTS must be the last segment".into()));
    }
    if has("BHS") != has("BTS") {
        out.push(found(
            1,
            "BHS",
            None,
            "BHS and BTS must both be present or both absent".into(),
        ));
    }
    out
}

fn orphans(f: &FileView<'_>) -> Vec<Found> {
    f.orphans
        .iter()
        .map(|(n, id)| {
            found(
                *n,
                id,
                None,
                format!("segment {id} before the first MSH: every message must start with MSH"),
            )
        })
        .collect()
}

fn no_message(f: &FileView<'_>) -> Vec<Found> {
    if f.msgs.is_empty() && !f.lines.is_empty() {
        vec![found(
            1,
            "",
            None,
            "no MSH segment: the file holds no message".into(),
        )]
    } else {
        vec![]
    }
}

fn bts_count(f: &FileView<'_>) -> Vec<Found> {
    let Some((n, bts)) = f
        .ids
        .iter()
        .position(|id| *id == "BTS")
        .map(|i| f.segment(i))
    else {
        return vec![];
    };
    let count = bts.field(1).trim();
    if count.parse::<usize>().ok() == Some(f.msgs.len()) {
        return vec![];
    }
    vec![found(
        n,
        "BTS",
        None,
        format!(
            "BTS-1 says {} messages but the batch holds {}",
            if count.is_empty() { "(empty)" } else { count },
            f.msgs.len()
        ),
    )]
}

fn msh_fields(f: &FileView<'_>) -> Vec<Found> {
    let mut out = Vec::new();
    let mut seen_ids: HashMap<&str, usize> = HashMap::new();
    for m in &f.msgs {
        let (_, msh) = f.segment(m.segs.start);
        let msh = &msh;
        let cid = Some(m.control_id.as_str()).filter(|c| !c.is_empty());
        let t9 = format!("{}^{}", msh.component(9, 1), msh.component(9, 2));
        if t9 != "VXU^V04" {
            out.push(found(
                m.line,
                "MSH",
                cid,
                format!("MSH-9 is '{}', expected VXU^V04", msh.field(9)),
            ));
        }
        if msh.field(12).trim() != "2.5.1" {
            out.push(found(
                m.line,
                "MSH",
                cid,
                format!("MSH-12 is '{}', expected 2.5.1", msh.field(12)),
            ));
        }
        if m.control_id.is_empty() {
            out.push(found(
                m.line,
                "MSH",
                None,
                "MSH-10 (message control id) is empty".into(),
            ));
        } else if let Some(prev) = seen_ids.insert(m.control_id.as_str(), m.line) {
            out.push(found(
                m.line,
                "MSH",
                cid,
                format!(
                    "MSH-10 '{}' repeats the message at line {prev}",
                    m.control_id
                ),
            ));
        }
    }
    out
}

impl<'a> FileView<'a> {
    /// Line `i` (0-based among the non-empty lines) split into fields: (line number, segment).
    pub(super) fn segment(&self, i: usize) -> (usize, Segment<'a>) {
        let (n, line) = self.lines[i];
        (n, Segment::parse(line, &mut self.seps[i].clone()))
    }

    /// The segments of lines `range` into `out` (emptied first): a message, split once.
    pub(super) fn segments_into(
        &self,
        range: std::ops::Range<usize>,
        out: &mut Vec<(usize, Segment<'a>)>,
    ) {
        out.clear();
        out.extend(range.map(|i| self.segment(i)));
    }
}

/// The file's lines (their ids and separators), grouped into messages.
pub(super) fn file_view(text: &str) -> FileView<'_> {
    let lines: Vec<(usize, &str)> = text
        .split(['\r', '\n'])
        // a line starting with a letter is not blank (the usual case, without trimming it)
        .filter(|l| l.as_bytes().first().is_some_and(u8::is_ascii_graphic) || !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .collect();
    let mut sep = Separators::default();
    let mut seps = Vec::with_capacity(lines.len());
    let mut ids = Vec::with_capacity(lines.len());
    for (_, l) in &lines {
        if let Some(s) = Separators::from_header(l.as_bytes()) {
            sep = s;
        }
        seps.push(sep);
        ids.push(segment_id(l, sep.field));
    }
    let (mut msgs, mut orphans): (Vec<Msg>, Vec<(usize, &str)>) = (Vec::new(), Vec::new());
    for (i, (n, id)) in lines
        .iter()
        .map(|(n, _)| *n)
        .zip(ids.iter().copied())
        .enumerate()
    {
        match id {
            "FHS" | "BHS" | "BTS" | "FTS" => {}
            "MSH" => msgs.push(Msg {
                line: n,
                control_id: crate::hl7::printable(
                    &Segment::parse(lines[i].1, &mut seps[i].clone()).text(10),
                )
                .into_owned(),
                segs: i..i + 1,
            }),
            other => match msgs.last_mut() {
                // up to its last segment (a wrapper in between is no rule's business)
                Some(m) => m.segs.end = i + 1,
                None => orphans.push((n, other)),
            },
        }
    }
    let b = text.as_bytes();
    let crlf = memchr::memchr_iter(b'\r', b)
        .filter(|i| b.get(i + 1) == Some(&b'\n'))
        .count();
    FileView {
        cr: memchr::memchr_iter(b'\r', b).count(),
        lf: memchr::memchr_iter(b'\n', b).count(),
        crlf,
        lines,
        seps,
        ids,
        msgs,
        orphans,
    }
}

/// A segment's id as [`Segment::parse`] reads it: up to the field separator, without a BOM.
fn segment_id(line: &str, field: u8) -> &str {
    crate::hl7::Parts::new(line, field)
        .next()
        .unwrap_or("")
        .trim_start_matches('\u{feff}')
}
