//! `immdqa import`, `immdqa reparse`, and the parse step of `immdqa fetch`.

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;

use crate::util::*;

#[test]
fn fetch_parses_what_it_downloads_into_the_normalised_model() {
    let ws = Workspace::local();
    ws.cmd(&["fetch"]).code(0).out_has(
        "parse: 6 parsed (204 findings, 9 consent notices), 0 already known, 0 quarantined",
    );
    let conn = db(&ws.store());
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM report"), 6);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM submission"), 1);
    let (file, code, day): (String, String, String) = conn
        .query_row(
            "SELECT file_name, import_code, submitted_on FROM submission",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (file.as_str(), code.as_str(), day.as_str()),
        ("ACMECLIN25301.hl7", "ACMECLIN", "2025-10-28")
    );
    // five reports name the submission; the EHR export (no file column) does not
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM report WHERE submission_id IS NOT NULL"
        ),
        5
    );
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM report WHERE report_date IS NULL"
        ),
        0
    );
    let ack: (i64, i64, i64, i64) = conn
        .query_row(
            "SELECT messages, accepted, accepted_with_warnings, rejected FROM report WHERE format='hl7-ack'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    // AE + an E-severity error is a rejection: 8 AR and 2 AE+E
    assert_eq!(ack, (40, 17, 13, 10));
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM finding f JOIN report r ON r.id=f.report_id WHERE r.format='hl7-ack'"
        ),
        41
    );
    assert_eq!(
        count(
            &conn,
            "SELECT COALESCE(SUM(count),0) FROM finding f JOIN report r ON r.id=f.report_id WHERE r.format='legacy-report-html'"
        ),
        41
    );
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM consent_notice WHERE status='standard_consent_required'"
        ),
        4
    );
    // raw text kept exactly
    let raw: String = conn
        .query_row(
            "SELECT raw FROM finding WHERE code='IEE-571' ORDER BY id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        raw.starts_with("ERR||RXR^1^2|101^Required field missing^HL70357|W|"),
        "{raw}"
    );
    // a second fetch parses nothing again
    ws.cmd(&["fetch"]).out_lacks("parse:");
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM finding"),
        41 + 41 + 15 + 41 + 40
    );
}

#[test]
fn import_folder_twice_adds_nothing_and_same_content_under_two_names_is_one_report() {
    let ws = Workspace::new();
    ws.local_config();
    let src = ws.path().join("downloads");
    fs::create_dir_all(src.join("sub")).unwrap();
    fs::copy(
        Path::new(SPECIMENS).join("tabular/ACMECLIN25301_DQA.csv"),
        src.join("a.csv"),
    )
    .unwrap();
    fs::copy(
        Path::new(SPECIMENS).join("tabular/ACMECLIN25301_DQA.csv"),
        src.join("sub/copy-of-a.csv"),
    )
    .unwrap();
    fs::copy(
        Path::new(SPECIMENS).join("cnf/ACMECLIN_CNF_20251028.csv"),
        src.join("sub/cnf.csv"),
    )
    .unwrap();
    ws.cmd(&["import", src.to_str().unwrap()]).code(0).out_has(
        "import: 2 parsed (41 findings, 9 consent notices), 1 already known, 0 quarantined",
    );
    let conn = db(&ws.store());
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM report"), 2);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM finding"), 41);
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM remote_file WHERE kind='cnf'"),
        1,
        "import records what the content is"
    );
    ws.cmd(&["import", src.to_str().unwrap()])
        .code(0)
        .out_has("import: nothing new (3 file(s) already in the history)");
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM finding"), 41);
    assert_store_consistent(&ws.store());
}

#[test]
fn unreadable_file_is_quarantined_then_reparsed_after_aliases_are_added() {
    let ws = Workspace::new();
    let f = ws.path().join("spanish.csv");
    fs::write(&f, "Elemento HL7,Mensaje,Codigo\nPID-7,Fecha de nacimiento invalida,IMR-100\nNK1,Falta responsable,IEE-519\n").unwrap();
    ws.local_config();
    let o = ws.cmd(&["import", f.to_str().unwrap()]).code(4);
    let err = o.err();
    assert!(err.contains("quarantined"), "{err}");
    assert!(err.contains("spanish.csv: csv file: no header row with a recognisable field, code or message column in the first 20 rows"), "{err}");
    ws.cmd(&["status"])
        .out_has("quarantined (1; kept in the archive");
    let conn = db(&ws.store());
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM report"),
        0,
        "no partial rows"
    );
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM remote_file WHERE parse_status='quarantined'"
        ),
        1
    );
    // the user teaches immdqa the headers, and reparse retries the quarantined file
    let cfg = fs::read_to_string(ws.config()).unwrap();
    ws.write_config(&format!("{cfg}\n[aliases]\nfield = [\"Elemento HL7\"]\nmessage = [\"Mensaje\"]\ncode = [\"Codigo\"]\n"));
    ws.cmd(&["reparse"])
        .code(0)
        .out_has("reparse: 1 parsed (2 findings");
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM finding WHERE field='PID-7' AND code='IMR-100' AND severity='E'"
        ),
        1
    );
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM remote_file WHERE parse_status='parsed'"
        ),
        1
    );
    // reparse by name replaces, never duplicates
    ws.cmd(&["reparse", "spanish.csv"]).code(0);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM finding"), 2);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM report"), 1);
    ws.cmd(&["reparse", "--all"]).code(0);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM finding"), 2);
    // a bad alias role is a clear configuration error
    ws.write_config(&format!("{cfg}\n[aliases]\nfeild = [\"X\"]\n"));
    ws.cmd(&["reparse"])
        .code(3)
        .err_has("unknown column role 'feild'");
}

#[test]
fn killed_during_ingest_leaves_no_partial_report_and_rerun_parses() {
    let ws = Workspace::local();
    let o = ws.cmd_env(&["fetch"], &[("IMMDQA_KILL_AT", "ingest_before_commit:3")]);
    assert_eq!(o.0.status.signal(), Some(9), "{}", o.err());
    let conn = db(&ws.store());
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM report"), 2);
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM remote_file WHERE parse_status='pending'"
        ),
        4
    );
    ws.cmd(&["fetch"]).code(0).out_has("parse: 4 parsed");
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM report"), 6);
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM finding"),
        41 + 41 + 15 + 41 + 40
    );
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM finding WHERE report_id NOT IN (SELECT id FROM report)"
        ),
        0
    );
    assert_store_consistent(&ws.store());
}

#[test]
fn import_of_missing_path_is_reported() {
    let ws = Workspace::new();
    ws.local_config();
    ws.cmd(&["import", "/nonexistent/file.csv"])
        .code(4)
        .err_has("cannot import /nonexistent/file.csv: No such file");
}
