//! The outbox of unattended exchange (`immdqa sync`): the folder the EHR writes batches to.
//!
//! Only `*.hl7` files directly in it are batches (a name written elsewhere and renamed in is
//! how an EHR publishes one safely; hidden files, `NAME.done` markers and folders are left
//! alone, and said so). A batch is sent only when it is complete:
//! - a wrapped batch whose trailers agree with it (BTS-1 = its messages, FTS-1 = its batches);
//! - or a marker `NAME.done` beside it (the common EHR convention);
//! - or, with `outbox_ready = "settle"`, any file unchanged for `--settle` seconds (the
//!   legacy registry processor's rule, for EHRs that write unwrapped batches and no marker).
//!
//! An unwrapped batch without a marker waits, with a line saying why. A file that is not HL7
//! at all is handed on once settled, so lint holds it with its reason. Ready files go through
//! `upload` (lint, registry name, a snapshot sent atomically); each is moved as soon as its
//! own upload is recorded: sent → `outbox/sent/` (its marker with it), refused (structure
//! errors, `--strict` lint errors) → `outbox/held/` with `<name>.reason.txt` beside it, sent
//! but changed meanwhile → `outbox/held/` with what went; a failed transfer stays in the
//! outbox for the next run. Content already uploaded and recorded counts as sent (a run killed
//! before it moved the file). Nothing is deleted. Uses: config, hl7, upload.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::config::OutboxReady;
use crate::upload::{FileResult, Outcome};

pub const SENT: &str = "sent";
pub const HELD: &str = "held";
/// The suffix of the marker an EHR writes beside a finished batch.
pub const MARKER: &str = ".done";

/// What the outbox holds now.
#[derive(Debug, Default)]
pub struct Scan {
    /// Files to send, oldest first.
    pub ready: Vec<PathBuf>,
    /// Files left for a later run, and why.
    pub waiting: Vec<(PathBuf, String)>,
    /// Entries that are not batches (folders, other names), and why they are left alone.
    pub ignored: Vec<(PathBuf, String)>,
}

/// Whether a batch's own content says it is whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completeness {
    /// Wrapped, and the trailers agree with the content.
    Complete { messages: usize },
    /// HL7, but not (yet) whole, or not something a trailer can vouch for; the reason says why.
    Unknown(String),
    /// Not an HL7 batch at all (lint says what is wrong).
    NotHl7,
}

/// Read a batch's wrappers: FHS…FTS and BHS…BTS with counts that match what they wrap.
pub fn completeness(data: &[u8]) -> Completeness {
    use crate::hl7::{Segment, Separators};
    let text = crate::hl7::decode_text(data);
    let mut sep = Separators::default();
    let segs: Vec<Segment<'_>> = text
        .trim_start_matches('\u{feff}')
        .split(['\r', '\n'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| Segment::parse(l, &mut sep))
        .collect();
    let Some(first) = segs.first().map(|s| s.id) else {
        return Completeness::Unknown("empty: may still be being written".into());
    };
    if !matches!(first, "FHS" | "BHS" | "MSH") {
        return Completeness::NotHl7;
    }
    if first == "MSH" {
        return Completeness::Unknown(
            "an unwrapped batch (no BHS/BTS counts) and no marker: cannot tell it is complete"
                .into(),
        );
    }
    let count = |id: &str| segs.iter().filter(|s| s.id == id).count();
    let (messages, batches) = (count("MSH"), count("BHS"));
    let bts: Vec<&Segment<'_>> = segs.iter().filter(|s| s.id == "BTS").collect();
    if batches == 0 || bts.len() < batches {
        return Completeness::Unknown(format!(
            "{messages} message(s) so far and no BTS trailer yet: still being written"
        ));
    }
    let counted: Option<usize> = bts
        .iter()
        .map(|s| s.field(1).trim().parse::<usize>().ok())
        .sum();
    match counted {
        Some(n) if n == messages => {}
        Some(n) => {
            return Completeness::Unknown(format!(
                "BTS says {n} message(s) but the file holds {messages}: still being written, or a wrong count"
            ));
        }
        None => {
            return Completeness::Unknown(
                "BTS-1 (the message count) is empty: cannot tell the batch is complete".into(),
            );
        }
    }
    if first == "FHS" {
        let Some(fts) = segs.last().filter(|s| s.id == "FTS") else {
            return Completeness::Unknown("no FTS trailer yet: still being written".into());
        };
        let n = fts.field(1).trim();
        if !n.is_empty() && n.parse::<usize>().ok() != Some(batches) {
            return Completeness::Unknown(format!(
                "FTS says {n} batch(es) but the file holds {batches}"
            ));
        }
    }
    Completeness::Complete { messages }
}

fn marker_of(path: &Path) -> PathBuf {
    PathBuf::from(format!("{}{MARKER}", path.display()))
}

fn is_batch_name(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".hl7")
}

/// Look at the outbox: `*.hl7` files directly in it (not `sent/`, `held/`), each ready or
/// waiting by the profile's rule (see the module doc).
pub fn scan(dir: &Path, rule: OutboxReady, settle: Duration, now: SystemTime) -> io::Result<Scan> {
    let mut out = Scan::default();
    let mut ready: Vec<(SystemTime, PathBuf)> = Vec::new();
    let mut names = std::collections::HashSet::new();
    let mut entries = Vec::new();
    for e in fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        names.insert(name.clone());
        entries.push((name, e));
    }
    for (name, e) in entries {
        let meta = e.metadata()?;
        if name.starts_with('.') {
            continue;
        }
        if meta.is_dir() {
            if name != SENT && name != HELD {
                out.ignored.push((
                    e.path(),
                    "a folder: only *.hl7 files directly in the outbox are sent".into(),
                ));
            }
            continue;
        }
        if !meta.is_file() {
            out.ignored
                .push((e.path(), "not a regular file: left alone".into()));
            continue;
        }
        if let Some(batch) = name.strip_suffix(MARKER)
            && names.contains(batch)
        {
            continue; // a batch's marker
        }
        if !is_batch_name(&name) {
            out.ignored.push((
                e.path(),
                "not named *.hl7: left alone (an EHR writing under another name and renaming to .hl7 when done is fine)".into(),
            ));
            continue;
        }
        let modified = meta.modified()?;
        let age = now.duration_since(modified).unwrap_or_default();
        let settled = age >= settle;
        let unsettled = || {
            format!(
                "modified {}s ago: may still be being written (sent once unchanged for {}s)",
                age.as_secs(),
                settle.as_secs()
            )
        };
        if marker_of(&e.path()).is_file() {
            ready.push((modified, e.path()));
            continue;
        }
        let data = fs::read(e.path())?;
        match completeness(&data) {
            Completeness::Complete { .. } => ready.push((modified, e.path())),
            Completeness::NotHl7 if settled => ready.push((modified, e.path())),
            Completeness::NotHl7 => out.waiting.push((e.path(), unsettled())),
            Completeness::Unknown(why) => match rule {
                OutboxReady::Settle if settled => ready.push((modified, e.path())),
                OutboxReady::Settle => out.waiting.push((e.path(), unsettled())),
                OutboxReady::Complete => out.waiting.push((
                    e.path(),
                    format!(
                        "{why}; write {name}{MARKER} beside it when it is complete (or set outbox_ready = \"settle\")"
                    ),
                )),
            },
        }
    }
    ready.sort();
    out.ready = ready.into_iter().map(|(_, p)| p).collect();
    out.waiting.sort();
    out.ignored.sort();
    Ok(out)
}

/// Where a file went after the upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    Sent(PathBuf),
    Held {
        to: PathBuf,
        reason: String,
    },
    /// Left in the outbox (a failed transfer, or a dry run).
    Kept(String),
}

/// A free path in `dir` for `name` (`name`, then `name.1`, …): never overwrite.
fn free_path(dir: &Path, name: &str) -> PathBuf {
    let mut p = dir.join(name);
    let mut n = 1;
    while p.exists() {
        p = dir.join(format!("{name}.{n}"));
        n += 1;
    }
    p
}

/// Move a file where its upload's outcome says (its `.done` marker goes with it).
pub fn place(dir: &Path, r: &FileResult) -> io::Result<Disposition> {
    let name = r
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let move_to = |sub: &str| -> io::Result<PathBuf> {
        let folder = dir.join(sub);
        fs::create_dir_all(&folder)?;
        let to = free_path(&folder, &name);
        fs::rename(&r.path, &to)?;
        let marker = marker_of(&r.path);
        if marker.exists() {
            fs::rename(&marker, marker_of(&to))?;
        }
        Ok(to)
    };
    let hold = |reason: &str| -> io::Result<Disposition> {
        let to = move_to(HELD)?;
        let mut why = format!("{reason}\n");
        for i in r.lint.structure.iter().chain(r.lint.lint.iter()) {
            why.push_str(&format!(
                "line {} ({}): {:?} {}: {}\n",
                i.line,
                i.segment,
                i.level,
                i.predicts.unwrap_or("-"),
                crate::hl7::printable(&i.message)
            ));
        }
        fs::write(PathBuf::from(format!("{}.reason.txt", to.display())), why)?;
        Ok(Disposition::Held {
            to,
            reason: reason.to_string(),
        })
    };
    Ok(match &r.outcome {
        Outcome::Uploaded { remote_name } | Outcome::AlreadySent { remote_name, .. } => {
            crate::failpoint::hit("outbox_before_move");
            let to = move_to(SENT)?;
            tracing::info!("{name}: sent as {remote_name}, moved to {}", to.display());
            Disposition::Sent(to)
        }
        Outcome::SentButChanged { reason, .. } => hold(&format!("SENT, THEN CHANGED: {reason}"))?,
        Outcome::Refused { reason } => hold(reason)?,
        Outcome::Failed { reason, .. } => Disposition::Kept(reason.clone()),
        Outcome::Planned { remote_name } => {
            Disposition::Kept(format!("dry run: would be sent as {remote_name}"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_settled_regular_visible_files_are_ready() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(d.join("old.hl7"), "x").unwrap();
        fs::write(d.join("new.hl7"), "x").unwrap();
        fs::write(d.join(".hidden"), "x").unwrap();
        fs::create_dir(d.join(SENT)).unwrap();
        let past = SystemTime::now() - Duration::from_secs(600);
        fs::File::options()
            .write(true)
            .open(d.join("old.hl7"))
            .unwrap()
            .set_modified(past)
            .unwrap();
        let s = scan(
            d,
            OutboxReady::Settle,
            Duration::from_secs(60),
            SystemTime::now(),
        )
        .unwrap();
        assert_eq!(s.ready, vec![d.join("old.hl7")]);
        assert_eq!(s.waiting.len(), 1);
        assert!(s.waiting[0].1.contains("may still be being written"));
    }

    fn wrapped(messages: usize, bts: &str) -> String {
        let mut s = String::from("FHS|^~\\&|EHR\rBHS|^~\\&|EHR\r");
        for i in 0..messages {
            s.push_str(&format!(
                "MSH|^~\\&|EHR|X|||20251028||VXU^V04^VXU_V04|C{i}|P|2.5.1\rPID|1||{i}\r"
            ));
        }
        s.push_str(&format!("BTS|{bts}\rFTS|1\r"));
        s
    }

    #[test]
    fn a_batch_is_complete_when_its_trailers_agree_with_it() {
        assert_eq!(
            completeness(wrapped(3, "3").as_bytes()),
            Completeness::Complete { messages: 3 }
        );
        // a writer that stalled half way: no trailer yet, or a count that does not match
        let full = wrapped(4, "4");
        let half = &full[..full
            .find("MSH|^~\\&|EHR|X|||20251028||VXU^V04^VXU_V04|C2")
            .unwrap()];
        assert!(
            matches!(completeness(half.as_bytes()), Completeness::Unknown(w) if w.contains("no BTS"))
        );
        assert!(
            matches!(completeness(wrapped(3, "4").as_bytes()), Completeness::Unknown(w) if w.contains("BTS says 4"))
        );
        assert!(
            matches!(completeness(wrapped(3, "").as_bytes()), Completeness::Unknown(w) if w.contains("empty"))
        );
        let no_fts = wrapped(2, "2").replace("FTS|1\r", "");
        assert!(
            matches!(completeness(no_fts.as_bytes()), Completeness::Unknown(w) if w.contains("FTS"))
        );
        // unwrapped: no count to trust
        let bare = "MSH|^~\\&|EHR|X|||20251028||VXU^V04^VXU_V04|C1|P|2.5.1\r";
        assert!(
            matches!(completeness(bare.as_bytes()), Completeness::Unknown(w) if w.contains("unwrapped"))
        );
        assert_eq!(completeness(b"hello"), Completeness::NotHl7);
    }

    #[test]
    fn complete_batches_and_marked_ones_are_ready_the_rest_wait_or_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let bare = "MSH|^~\\&|EHR|X|||20251028||VXU^V04^VXU_V04|C1|P|2.5.1\r";
        fs::write(d.join("whole.hl7"), wrapped(2, "2")).unwrap();
        fs::write(
            d.join("half.hl7"),
            wrapped(2, "2").replace("BTS|2\rFTS|1\r", ""),
        )
        .unwrap();
        fs::write(d.join("bare.hl7"), bare).unwrap();
        fs::write(d.join("marked.hl7"), bare).unwrap();
        fs::write(d.join("marked.hl7.done"), "").unwrap();
        fs::write(d.join("writing.tmp"), bare).unwrap();
        fs::create_dir(d.join("archive2025")).unwrap();
        let past = SystemTime::now() + Duration::from_secs(3600);
        let s = scan(d, OutboxReady::Complete, Duration::from_secs(60), past).unwrap();
        assert_eq!(s.ready.len(), 2, "{:?}", s.ready);
        assert!(s.ready.contains(&d.join("whole.hl7")) && s.ready.contains(&d.join("marked.hl7")));
        let waits: Vec<_> = s.waiting.iter().map(|(p, _)| p.clone()).collect();
        assert_eq!(waits, vec![d.join("bare.hl7"), d.join("half.hl7")]);
        assert!(
            s.waiting[0].1.contains("bare.hl7.done"),
            "{}",
            s.waiting[0].1
        );
        let ignored: Vec<_> = s.ignored.iter().map(|(p, _)| p.clone()).collect();
        assert_eq!(ignored, vec![d.join("archive2025"), d.join("writing.tmp")]);
        assert!(s.ignored[0].1.contains("a folder"));
        // "settle": an unwrapped batch unchanged long enough goes; a half-written wrapped one too
        let s = scan(d, OutboxReady::Settle, Duration::from_secs(60), past).unwrap();
        assert_eq!(s.ready.len(), 4);
    }
}
