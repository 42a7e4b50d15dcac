//! Hardening (issue 13): faults that must not stop a weekly run or lose data, and the
//! command-line conventions cron and scripts rely on.

use std::fs;

use crate::util::*;
use crate::xlsx::xlsx_stored;

/// A spreadsheet whose second column's cell reference is corrupted (16 letters): calamine
/// overflows computing the column (a panic in debug builds, which `cargo run` uses).
fn corrupt_xlsx() -> Vec<u8> {
    fn col(i: usize) -> String {
        if i == 1 {
            "A".repeat(16)
        } else {
            ((b'A' + i as u8) as char).to_string()
        }
    }
    xlsx_stored(
        &[
            vec!["Field", "Severity", "Code", "Message"],
            vec!["PID-11", "Warning", "IEE-998", "Warning. Invalid address."],
        ],
        col,
    )
}

#[test]
fn a_spreadsheet_that_panics_its_parser_is_quarantined_and_the_run_goes_on() {
    let ws = Workspace::new().with_specimens();
    ws.write("DQA-Reports/DQA_Report_2025-11-04.xlsx", corrupt_xlsx());
    ws.local_config();
    let o = ws.run(&["fetch"]);
    // the other reports are parsed; the bad one is quarantined with a reason: exit 4, not 101
    assert_code(&o, 4);
    let err = stderr(&o);
    assert!(
        err.contains("DQA_Report_2025-11-04.xlsx: the parser failed on this file's content"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "no panic output: {err}");
    let conn = db(&ws.store());
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM remote_file WHERE parse_status='quarantined'"
        ),
        1
    );
    assert!(count(&conn, "SELECT COUNT(*) FROM report") >= 6);
    // every later run goes on: fetch (nothing new), reparse (retries, quarantines again)
    ws.cmd(&["fetch"]).code(0);
    ws.cmd(&["reparse"]).code(4).out_has("1 quarantined");
    // import of a folder holding it too
    let dir = ws.path().join("incoming");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("bad.xlsx"), corrupt_xlsx()).unwrap();
    fs::copy(
        std::path::Path::new(SPECIMENS).join("tabular/ACMECLIN25301_DQA.csv"),
        dir.join("good.csv"),
    )
    .unwrap();
    ws.cmd(&["import", dir.to_str().unwrap()])
        .code(4)
        .err_has("bad.xlsx: the parser failed");
    // inspect says why, too
    let p = dir.join("bad.xlsx");
    let o = ws.cmd(&["inspect", p.to_str().unwrap()]);
    assert_ne!(o.0.status.code(), Some(101));
}

fn findings_total(ws: &Workspace) -> i64 {
    count(
        &db(&ws.store()),
        "SELECT COALESCE(SUM(count), 0) FROM finding",
    )
}

#[test]
fn a_lost_history_beside_a_full_archive_is_refused_then_rebuilt() {
    let ws = Workspace::fetched();
    let before = findings_total(&ws);
    assert!(before > 0);
    let trends_before = ws.cmd(&["trends", "--format", "csv"]).out();
    // the index sits next to the archive, one line per archived version, no contents
    let idx = fs::read_to_string(ws.store().join("archive.index.jsonl")).unwrap();
    assert_eq!(idx.lines().count(), 6, "{idx}");
    assert!(idx.contains("\"name\":\"ACMECLIN25301.hl7.ack\""), "{idx}");
    // a 0-byte history.sqlite beside the archive
    for f in ["history.sqlite-wal", "history.sqlite-shm"] {
        let _ = fs::remove_file(ws.store().join(f));
    }
    fs::write(ws.store().join("history.sqlite"), b"").unwrap();
    for cmd in [&["fetch"][..], &["trends"], &["status"]] {
        let o = ws.cmd(cmd).code(3);
        assert!(
            o.err().contains("the history was lost") && o.err().contains("immdqa rebuild"),
            "{cmd:?}: {}",
            o.err()
        );
    }
    assert_eq!(
        fs::metadata(ws.store().join("history.sqlite"))
            .unwrap()
            .len(),
        0,
        "untouched"
    );
    ws.cmd(&["rebuild"])
        .code(0)
        .out_has("rebuild: 6 file version(s) from the archive index");
    assert_eq!(findings_total(&ws), before);
    assert_eq!(ws.cmd(&["trends", "--format", "csv"]).out(), trends_before);
    // the manifest is back: the next fetch downloads nothing
    ws.cmd(&["fetch"])
        .code(0)
        .out_has("nothing new (6 unchanged");
    // a sound history is not replaced without --force
    let r = ws.cmd(&["rebuild"]).code(3).err_has("is sound");
    assert!(r.out().is_empty() && !r.err().is_empty());
}

#[test]
fn a_damaged_history_is_refused_before_writing_then_rebuilt() {
    let ws = Workspace::fetched();
    let before = findings_total(&ws);
    // overwrite pages in the middle of the database (the WAL was checkpointed at exit)
    let p = ws.store().join("history.sqlite");
    let mut data = fs::read(&p).unwrap();
    let len = data.len();
    assert!(len > 64 * 1024, "{len}");
    for (i, b) in data[len / 2..len / 2 + 32 * 1024].iter_mut().enumerate() {
        *b = (i * 7 + 13) as u8;
    }
    fs::write(&p, &data).unwrap();
    let f = ws.path().join("more.csv");
    fs::write(&f, "Field,Message\nPID-7,Birth date missing\n").unwrap();
    let report = ws.path().join("rep");
    // every command refuses it, reads as well as writes (trends and report once answered
    // from what they could still read)
    for args in [
        vec!["import", f.to_str().unwrap()],
        vec!["trends"],
        vec!["report", "--out", report.to_str().unwrap()],
        vec!["worklist"],
        vec!["status"],
        vec!["status", "--check"],
        vec!["check"],
    ] {
        let o = ws.cmd(&args).code(3);
        assert!(
            o.err().contains("is damaged") && o.err().contains("immdqa rebuild"),
            "{args:?}: {}",
            o.err()
        );
        assert!(o.out().is_empty(), "{args:?}: {}", o.out());
    }
    ws.cmd(&["rebuild"]).code(0);
    let kept: Vec<String> = tree(&ws.store())
        .into_iter()
        .filter(|f| f.starts_with("history.sqlite.before-rebuild-"))
        .collect();
    assert!(!kept.is_empty(), "the damaged file is kept");
    assert_eq!(findings_total(&ws), before);
    ws.cmd(&["import", f.to_str().unwrap()]).code(0);
}

#[test]
fn a_sub_folder_in_a_mailbox_folder_is_reported_as_skipped() {
    let ws = Workspace::local();
    ws.write("DQA-Reports/2024/old.csv", "Field,Message\nPID-7,x\n");
    ws.cmd(&["fetch"])
        .code(0)
        .out_has("6 new, 0 changed, 0 unchanged, 1 skipped")
        .err_has("a sub-folder");
    ws.cmd(&["status"]).out_has("a sub-folder");
}

#[test]
fn reports_and_exports_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let ws = Workspace::fetched();
    let out = ws.path().join("rep");
    fs::create_dir(&out).unwrap();
    fs::set_permissions(&out, fs::Permissions::from_mode(0o755)).unwrap();
    ws.run(&["report", "--out", out.to_str().unwrap()]);
    let mode = |p: &std::path::Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&out), 0o700);
    for f in fs::read_dir(&out).unwrap() {
        let p = f.unwrap().path();
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
    for (what, file) in [
        ("findings", "f.csv"),
        ("consent", "c.parquet"),
        ("submissions", "s.csv"),
    ] {
        let p = ws.path().join(file);
        ws.cmd(&["export", what, "--out", p.to_str().unwrap()])
            .code(0);
        assert_eq!(mode(&p), 0o600, "{file}");
    }
}

#[test]
fn exports_stack_across_sites_partition_and_pseudonymize() {
    let ws = Workspace::fetched();
    // Hive-partitioned by import code: import_code=ACMECLIN/data.parquet
    let dir = ws.path().join("findings");
    ws.cmd(&[
        "export",
        "findings",
        "--partition-by",
        "import-code",
        "--out",
        dir.to_str().unwrap(),
    ])
    .code(0);
    let parts: Vec<String> = tree(&dir);
    assert!(
        parts.contains(&"import_code=ACMECLIN/data.parquet".to_string()),
        "{parts:?}"
    );
    let bytes = fs::read(dir.join("import_code=ACMECLIN/data.parquet")).unwrap();
    assert!(bytes.starts_with(b"PAR1"));
    // an existing, non-empty folder is refused
    let o = ws.cmd(&[
        "export",
        "findings",
        "--partition-by",
        "import-code",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_ne!(o.0.status.code(), Some(0));
    assert!(o.err().contains("is not empty"), "{}", o.err());
    // pseudonymized: no patient reference left, the same reference maps to the same value
    let plain = ws.path().join("plain.csv");
    ws.cmd(&["export", "findings", "--out", plain.to_str().unwrap()])
        .code(0);
    let plain = fs::read_to_string(plain).unwrap();
    assert!(plain.contains("MRN"), "the specimen listing names patients");
    let out = ws.path().join("pseudo.csv");
    let o = ws.cmd(&[
        "export",
        "findings",
        "--pseudonymize",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_ne!(o.0.status.code(), Some(0), "no key: refused");
    assert!(o.err().contains("IMMDQA_PSEUDONYM_KEY"), "{}", o.err());
    let key = [("IMMDQA_PSEUDONYM_KEY", "a-long-test-key-0123456789")];
    let args = [
        "export",
        "findings",
        "--pseudonymize",
        "--out",
        out.to_str().unwrap(),
    ];
    ws.cmd_env(&args, &key).code(0);
    let a = fs::read_to_string(&out).unwrap();
    assert!(!a.contains("MRN"), "{a}");
    assert!(
        !a.contains("a-long-test-key"),
        "the key never lands in the file"
    );
    ws.cmd_env(&args, &key).code(0);
    assert_eq!(fs::read_to_string(&out).unwrap(), a, "stable pseudonyms");
    assert_eq!(a.lines().count(), plain.lines().count());
    let o = ws
        .cmd_env(&["export", "consent", "--pseudonymize", "--out", "-"], &key)
        .code(0);
    assert!(
        !o.out().contains("MRN") && o.out().lines().count() > 1,
        "{}",
        o.out()
    );
}

/// Command-line habits cron and scripts rely on.
#[test]
fn cli_conventions() {
    let ws = Workspace::local();
    // usage errors have their own exit code, apart from "thresholds fail" (2)
    for bad in [
        &["fetch", "--no-such-flag"][..],
        &["trends", "--since", "yesterday"],
        &["export", "nonsense", "--out", "x"],
    ] {
        ws.cmd(bad).code(64);
    }
    ws.cmd(&["--help"]).code(0);
    // -q prints nothing on success
    let o = ws.cmd(&["-q", "fetch"]).code(0);
    assert_eq!(o.out(), "", "fetch -q");
    assert_eq!(o.err(), "");
    let out = ws.path().join("rep");
    let o = ws.run(&[
        "-q",
        "report",
        "--week",
        "2025-W44",
        "--out",
        out.to_str().unwrap(),
    ]);
    // (this week fails: the breaches are what cron should mail, the summary line is not)
    assert_code(&o, 2);
    assert!(!stdout(&o).contains("written to"), "{}", stdout(&o));
    assert!(
        stdout(&o).starts_with("FAIL: acceptance_rate"),
        "{}",
        stdout(&o)
    );
    // -v explains the fetch's decisions; -vv each entry; never file contents
    let o = ws.cmd(&["-vv", "fetch"]);
    let err = o.err();
    assert!(err.contains("listed 3 folder(s)"), "{err}"); // DQA-Reports, Receive, Accepted
    assert!(
        err.contains("unchanged (size and mtime as in the manifest)"),
        "{err}"
    );
    assert!(
        !err.contains("IEE-519::"),
        "file contents in the log: {err}"
    );
    // no colour codes when not on a terminal, unless asked
    assert!(!err.contains('\x1b'));
    let o = ws.cmd(&["-v", "--color", "always", "fetch"]);
    assert!(o.err().contains('\x1b'), "{}", o.err());
    // `-` is standard input for inspect, import and lint
    let ack = fs::read(std::path::Path::new(SPECIMENS).join("ack/ACMECLIN25301.hl7.ack")).unwrap();
    let run_stdin = |args: &[&str], input: &[u8]| {
        use std::io::Write;
        let mut c = immdqa();
        c.arg("--config").arg(ws.config()).args(args);
        c.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    };
    let o = run_stdin(&["inspect", "--json", "-"], &ack);
    assert_code(&o, 0);
    assert!(
        stdout(&o).contains("\"finding_rows\": 41"),
        "{}",
        stdout(&o)
    );
    let batch = fs::read(std::path::Path::new(SPECIMENS).join("hl7/ACMECLIN25301.hl7")).unwrap();
    assert_code(&run_stdin(&["lint", "-"], &batch), 0);
    let csv = b"Field,Message,Code\nPID-7,Birth date invalid,IMR-100\n";
    let o = run_stdin(&["import", "-"], csv);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("1 parsed"), "{}", stdout(&o));
    // `--out -` is standard output
    let o = ws.cmd(&["trends", "--format", "csv", "--out", "-"]);
    assert!(o.out().starts_with("week,"), "{}", o.out());
    // status and check speak JSON
    let o = ws.cmd(&["status", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.0.stdout).unwrap();
    assert!(v["parsed"]["reports"].as_i64().unwrap() >= 6, "{v}");
    let o = ws.cmd(&["check", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.0.stdout).unwrap();
    assert_eq!(v["exit"].as_i64(), o.0.status.code().map(i64::from));
    assert!(v["checks"][0]["basis"].is_string(), "{v}");
    // man pages for every subcommand the main page refers to
    let dir = ws.path().join("man");
    ws.cmd(&["man", "--out", dir.to_str().unwrap()]).code(0);
    let main = fs::read_to_string(dir.join("immdqa.1")).unwrap();
    for r in main.split("immdqa\\-").skip(1) {
        let page = format!(
            "immdqa-{}.1",
            r.split('(').next().unwrap().replace("\\-", "-")
        );
        if r.split('(').nth(1).is_some_and(|x| x.starts_with("1)")) {
            assert!(dir.join(&page).exists(), "{page} referenced but missing");
        }
    }
}

/// `--version` names the commit and build date; `immdqa help <command>` works; the top-level
/// help groups every command, one line each, within 100 columns.
#[test]
fn version_help_subcommand_and_grouped_help() {
    let o = immdqa().arg("--version").exec().code(0);
    let v = o.out();
    assert!(v.contains("(commit ") && v.contains(", built 20"), "{v}");
    immdqa()
        .args(["help", "worklist"])
        .exec()
        .code(0)
        .out_has("Usage: immdqa worklist");
    let o = immdqa().arg("--help").exec().code(0);
    let help = o.out();
    for group in [
        "Exchange with the registry:",
        "Analysis:",
        "Worklist and follow-ups:",
        "Setup and maintenance:",
    ] {
        assert!(help.contains(group), "{group} in\n{help}");
    }
    use clap::CommandFactory;
    for sub in immdqa::cli::Cli::command().get_subcommands() {
        let name = sub.get_name();
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{name} "))),
            "{name} missing from the top-level help"
        );
    }
    let before_options = help.split("Options:").next().unwrap();
    for l in before_options.lines() {
        assert!(l.chars().count() <= 100, "{l:?} is wider than 100 columns");
    }
}

/// One output contract on the listing commands: `--columns` picks and orders columns (an
/// unknown one is a usage error naming the columns), `--limit` caps the rows, and piped
/// tables are plain columns (`status | cat` and `inspect` drew boxes).
#[test]
fn listing_output_contract() {
    let ws = Workspace::fetched();
    let r = ws
        .cmd(&["trends", "--columns", "week,field,findings", "--limit", "2"])
        .code(0);
    let lines: Vec<&str> =
        r.0.stdout
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| std::str::from_utf8(l).unwrap())
            .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["week", "field", "findings"]
    );
    let csv = ws
        .cmd(&[
            "trends",
            "--format",
            "csv",
            "--columns",
            "findings,week",
            "--limit",
            "1",
        ])
        .code(0)
        .out();
    assert_eq!(csv.lines().next(), Some("findings,week"));
    assert_eq!(csv.lines().count(), 2);
    ws.cmd(&["trends", "--columns", "week,nope"])
        .code(64)
        .err_has("no column 'nope': the columns are");
    for args in [
        vec!["status"],
        vec!["inspect", &format!("{SPECIMENS}/ack/ACMECLIN25301.hl7.ack")],
    ] {
        let out = ws.cmd(&args).code(0).out();
        assert!(
            !out.contains('│') && !out.contains('─') && !out.contains('┆'),
            "{args:?}:\n{out}"
        );
    }
}

/// A reader that went away (`immdqa explain … | head -0`) ends the process quietly, by
/// SIGPIPE as `cat` does: no panic, no message (the write's error kind says so, not a panic's
/// text), whichever command printed.
#[test]
fn a_closed_pipe_ends_quietly() {
    use std::os::unix::process::ExitStatusExt;
    for args in [
        vec!["explain", "IMR-111", "CLR-105"],
        vec!["config", "default"],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let o = immdqa()
            .args(&args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .exec();
        assert_eq!(
            o.0.status.signal(),
            Some(libc::SIGPIPE),
            "{args:?}: {:?}",
            o.0.status
        );
        let err = String::from_utf8_lossy(&o.0.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }
}
