//! B8 (read sent batches holding 1 M messages into the message ledger, against `sqlite3
//! .import` of the same extracted rows as CSV) and B9 (the open worklist over those messages
//! and their answers, against the same SQL run by the `sqlite3` CLI on the same database).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{Series, config, measure, show_run};
use crate::{Bench, Row};

const SITES: [&str; 3] = ["NORTH", "SOUTH", "EAST"];

/// `files` sent batches of `messages` messages in all, their ACKs (every 20th message rejected
/// with IMR-111, every 7th with an NK1 warning) and the ledger rows as one CSV.
pub fn generate(
    dir: &Path,
    messages: u64,
    files: u64,
) -> anyhow::Result<(PathBuf, PathBuf, PathBuf)> {
    let (sent, acks, all) = (dir.join("sent"), dir.join("acks"), dir.join("rows.csv"));
    if dir.join("generated.ok").exists() {
        return Ok((sent, acks, all));
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(&sent)?;
    std::fs::create_dir_all(&acks)?;
    let mut csv = std::io::BufWriter::new(std::fs::File::create(&all)?);
    csv.write_all(b"batch,message_index,control_id,message_time,week,facility,site,patient_ref,vaccine,administered_on,provider\n")?;
    let per = messages / files;
    for k in 0..files {
        let (batch, _) = crate::ingest::batch_of(k);
        let mut b = std::io::BufWriter::new(std::fs::File::create(sent.join(&batch))?);
        let mut a =
            std::io::BufWriter::new(std::fs::File::create(acks.join(format!("{batch}.ack")))?);
        write!(b, "FHS|^~\\&|EHR|BENCH\rBHS|^~\\&|EHR|BENCH\r")?;
        write!(a, "FHS|^~\\&|ImmTrac|TEXIIS||BENCH|20250107||{batch}.ack\r")?;
        for i in 1..=per {
            let n = k * per + i;
            let cid = format!("C{n:010}");
            let site = SITES[(n % 3) as usize];
            let mrn = format!("MRN{:07}", n % 999_983);
            let prv = format!("PRV{}", n % 40);
            write!(
                b,
                "MSH|^~\\&|EHR|BENCH CLINIC|TXImmTrac|TxDSHS|20250107090000||VXU^V04^VXU_V04|{cid}|P|2.5.1\r\
PID|1||{mrn}^^^BENCH^MR||DOE^ANN||20150301|F\rPD1||||||||||||TXY|20250101\r\
ORC|RE||{cid}|||||||||1234567^DOC\r\
RXA|0|1|20250106|20250106|20^DTaP^CVX|0.5|mL||00|{prv}^DOC^A|^^^{site}||||LOT1||PMC^^MVX|||CP|A\r"
            )?;
            writeln!(
                csv,
                "{batch},{i},{cid},2025-01-07T09:00:00,2025-01-06,BENCH CLINIC,{site},{mrn},20,2025-01-06,{prv}"
            )?;
            let (msa, err) = if n.is_multiple_of(20) {
                (
                    "AR",
                    "ERR||RXA^1^17|101|E||||IMR-111::Immunization rejected. Manufacturer Code invalid.\r",
                )
            } else if n.is_multiple_of(7) {
                (
                    "AE",
                    "ERR||NK1^^0|101|W||||IEE-519::Warning. NK1 Segment/Responsible person, missing.\r",
                )
            } else {
                ("AA", "")
            };
            write!(
                a,
                "MSH|^~\\&|ImmTrac|TEXIIS||BENCH|20250107||ACK^V04^ACK|A{cid}|P|2.5.1\rMSA|{msa}|{cid}\r{err}"
            )?;
        }
        write!(b, "BTS|{per}\rFTS|1\r")?;
        write!(a, "FTS|1\r")?;
        b.flush()?;
        a.flush()?;
    }
    csv.flush()?;
    std::fs::write(dir.join("generated.ok"), "")?;
    Ok((sent, acks, all))
}

/// B8L: one sent batch of `messages` messages (an HIE's daily batch) linked to its answer, in
/// the order the registry's files arrive (batch first, then the ACK naming every message);
/// against reading that batch into the ledger in the same run. It once failed from 22,000
/// messages on ("database or disk is full": a statement journal spilled in 4 MiB writes).
pub fn b8_link(b: &Bench, messages: u64) -> anyhow::Result<Row> {
    let dir = b.root.join(format!("ledger-link-{messages}"));
    let (sent, acks, _) = generate(&dir, messages, 1)?;
    let store = dir.join("store");
    let cfg = config(&dir, "bench.toml", &store, "")?;
    let (mut ours, mut theirs) = (Series::default(), Series::default());
    for r in 0..b.runs {
        let _ = std::fs::remove_dir_all(&store);
        theirs.push(measure(
            b.cli(&cfg, &["import", "-q", "--sent"]).arg(&sent),
            &dir.join("immdqa-read.log"),
        )?);
        ours.push(measure(
            b.cli(&cfg, &["import", "-q"]).arg(&acks),
            &dir.join("immdqa.log"),
        )?);
        show_run("B8L", r, &[("link", &ours), ("read", &theirs)]);
    }
    // linked for real: every message has its answer
    let out = Command::new(&b.tools.sqlite3)
        .arg("-readonly")
        .arg(store.join("history.sqlite"))
        .arg("SELECT COUNT(*) FROM ledger_message WHERE status = 'pending'")
        .output()?;
    let pending = String::from_utf8_lossy(&out.stdout).trim().to_string();
    anyhow::ensure!(pending == "0", "B8L: {pending} messages left pending");
    Ok(Row::ratio(
        "B8L",
        format!("link one sent batch of {messages} messages to its ACK (import the ACK)"),
        ours,
        "reading that batch into the ledger (import --sent), same run",
        theirs,
        // importing the answer parses a file as large as the batch (1 M answers) before it
        // updates every message and the worklist: at most twice the batch's own reading
        Some(2.0),
    ))
}

/// B8 and B9 over `messages` sent messages in `files` batches.
pub fn b8_b9(b: &Bench, messages: u64, files: u64, b11: bool) -> anyhow::Result<Vec<Row>> {
    let dir = b.root.join(format!("ledger-{messages}-{files}"));
    let (sent, acks, all) = generate(&dir, messages, files)?;
    let store = dir.join("store");
    let cfg = config(&dir, "bench.toml", &store, "")?;
    let (mut ours, mut theirs) = (Series::default(), Series::default());
    for r in 0..b.runs {
        let _ = std::fs::remove_dir_all(&store);
        ours.push(measure(
            b.cli(&cfg, &["import", "-q", "--sent"]).arg(&sent),
            &dir.join("immdqa.log"),
        )?);
        let db = dir.join("reference.db");
        let _ = std::fs::remove_file(&db);
        theirs.push(measure(
            Command::new(&b.tools.sqlite3)
                .arg(&db)
                .arg(format!(".import --csv {} ledger", all.display())),
            &dir.join("sqlite3.log"),
        )?);
        show_run("B8", r, &[("immdqa", &ours), ("sqlite3", &theirs)]);
    }
    let b8 = Row::ratio(
        "B8",
        format!("read {files} sent batches holding {messages} messages into the ledger"),
        ours,
        "sqlite3 .import of the same ledger rows as one CSV",
        theirs,
        Some(1.5),
    );
    // the answers, then the worklist against the same query in the sqlite3 CLI
    measure(
        b.cli(&cfg, &["import", "-q"]).arg(&acks),
        &dir.join("immdqa.log"),
    )?;
    let db = store.join("history.sqlite");
    let sql = include_str!("worklist_reference.sql")
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    let (mut ours, mut theirs) = (Series::default(), Series::default());
    for r in 0..b.runs {
        ours.push(measure(
            b.cli(&cfg, &["worklist", "--format", "csv", "--out"])
                .arg(dir.join("worklist.csv")),
            &dir.join("immdqa.log"),
        )?);
        theirs.push(measure(
            Command::new(&b.tools.sqlite3)
                .arg("-csv")
                .arg("-readonly")
                .arg(&db)
                .arg(format!(".once {}", dir.join("reference.csv").display()))
                .arg(format!("{sql};")),
            &dir.join("sqlite3.log"),
        )?);
        show_run("B9", r, &[("immdqa", &ours), ("sqlite3", &theirs)]);
    }
    let open = std::fs::read_to_string(dir.join("worklist.csv"))?
        .lines()
        .count()
        - 1;
    let mut b9 = Row::ratio(
        "B9",
        format!("open worklist ({open} items) over {messages} messages and their answers"),
        ours,
        "sqlite3 -csv running the worklist query on the same database",
        theirs,
        Some(0.5),
    );
    b9.note = format!("{open} open items");
    let mut rows = vec![b8];
    if b11 {
        rows.extend(crate::serve::b11(b, &cfg, &dir, &b9.ours)?);
    }
    rows.insert(1, b9);
    let _ = std::fs::remove_dir_all(&store);
    let _ = std::fs::remove_file(dir.join("reference.db"));
    Ok(rows)
}

/// B12: `immdqa lint` of B8's batches (every rule on, the embedded code sets) against B8's
/// `import --sent` of the same batches into a fresh store, alternating.
pub fn b12(b: &Bench, messages: u64, files: u64) -> anyhow::Result<Row> {
    let dir = b.root.join(format!("ledger-{messages}-{files}"));
    let (sent, _, _) = generate(&dir, messages, files)?;
    let store = dir.join("store");
    let cfg = config(&dir, "bench.toml", &store, "")?;
    let mut batches: Vec<PathBuf> = std::fs::read_dir(&sent)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    batches.sort();
    let (mut ours, mut theirs) = (Series::default(), Series::default());
    for r in 0..b.runs {
        ours.push(crate::common::measure_exit(
            b.cli(&cfg, &["lint"])
                .args(&batches)
                .stdout(std::process::Stdio::null()),
            &dir.join("lint.log"),
            &[0, 1, 2],
        )?);
        let _ = std::fs::remove_dir_all(&store);
        theirs.push(measure(
            b.cli(&cfg, &["import", "-q", "--sent"]).arg(&sent),
            &dir.join("immdqa.log"),
        )?);
        show_run("B12", r, &[("lint", &ours), ("import --sent", &theirs)]);
    }
    let _ = std::fs::remove_dir_all(&store);
    Ok(Row::ratio(
        "B12",
        format!("lint {messages} messages in {files} batches, every rule on (code sets included)"),
        ours,
        "B8: reading the same batches into the ledger (import --sent)",
        theirs,
        Some(1.0),
    ))
}
