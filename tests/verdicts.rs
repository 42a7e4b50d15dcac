//! Verdicts that cannot lie: answers that name no batch still count (and are dated by their
//! own MSH-7), a week with nothing to divide is "unknown", never "OK NaN%"; `check` says which
//! week it judges and whether it is still going on; `-q` prints only what is not OK.

use std::fs;

use crate::util::*;

/// Two real-shaped AE+E rejection ACKs named as another registry's tool names them (no
/// `<code><YYDDD>` batch name anywhere), dated 2025-10-28 in their MSH-7.
fn unnamed_rejections(ws: &Workspace) -> Vec<String> {
    let ack = |cids: &[&str]| {
        let mut s = String::new();
        for c in cids {
            s.push_str(&format!(
                "MSH|^~\\&|NMSIIS|NMDOH||ACME|20251028120000||ACK^V04^ACK|A{c}|P|2.5.1\rMSA|AE|{c}\r\
ERR||PID^1^7|101^Required field missing^HL70357|E||||Birth date missing\r"
            ));
        }
        s
    };
    let mut paths = Vec::new();
    for (name, cids) in [
        ("ack_response_1.txt", &["C1", "C2"][..]),
        ("ack_response_2.txt", &["C3"][..]),
    ] {
        let p = ws.path().join(name);
        fs::write(&p, ack(cids)).unwrap();
        paths.push(p.display().to_string());
    }
    paths
}

#[test]
fn answers_without_a_batch_name_count_and_never_give_ok_nan() {
    let ws = Workspace::new();
    ws.local_config();
    let files = unnamed_rejections(&ws);
    let mut args = vec!["import"];
    args.extend(files.iter().map(String::as_str));
    ws.cmd(&args).code(0);
    // counted from the answers themselves, dated by their MSH-7 (2025-W44), not the file date
    let r = ws
        .cmd(&["check"])
        .code(2)
        .out_has("week: 2025-W44")
        .out_has("FAIL: acceptance_rate: acceptance rate in 2025-W44: 0.0% (0 of 3 messages");
    assert!(!r.out().contains("NaN"), "{}", r.out());
    ws.cmd(&["submissions", "--format", "csv"])
        .code(0)
        .out_has("ack_response_1.txt,2025-10-28,2,0,0,2");
    // the report's banner says the same
    let out = ws.path().join("rep");
    ws.cmd(&["report", "--out", out.to_str().unwrap()]);
    let html = fs::read_to_string(out.join("index.html")).unwrap();
    assert!(!html.contains("NaN"), "NaN in the report");
    assert!(html.contains("0 of 3 messages"), "the report's verdict");
}

/// A week whose reports carry no message count to divide is "unknown", not "OK NaN%".
#[test]
fn a_week_with_nothing_to_divide_is_unknown() {
    let ws = Workspace::new();
    ws.local_config();
    // findings in a week, from a listing that names no batch and counts no message
    let f = ws.path().join("listing.csv");
    fs::write(
        &f,
        "Field,Message\nPID-7,Birth date missing\nPID-7,Birth date missing\n",
    )
    .unwrap();
    ws.cmd(&["import", f.to_str().unwrap()]).code(0);
    let r = ws
        .cmd(&["check"])
        .code(1)
        .out_has("UNKNOWN: acceptance_rate");
    assert!(!r.out().contains("NaN"), "{}", r.out());
    assert!(!r.out().contains("OK: acceptance_rate"), "{}", r.out());
}

/// `check` judges the latest week and says when it is the current, incomplete one; `-q`
/// prints only what is not OK.
#[test]
fn check_names_the_week_it_judges_and_quiet_means_only_problems() {
    let ws = Workspace::new();
    ws.local_config();
    let today = chrono::Local::now().date_naive();
    let name = immdqa::batch_name::format("ACMECLIN", today, None);
    let f = ws.path().join(format!("{name}.ack"));
    // this week: 10 messages, 1 rejected (90%: acceptance OK), the rising rule cannot tell
    let mut ack = String::new();
    for i in 0..10 {
        let msa = if i == 0 { "AR" } else { "AA" };
        ack.push_str(&format!(
            "MSH|^~\\&|ImmTrac|TEXIIS||ACME|20251028||ACK^V04^ACK|{i}|P|2.5.1\rMSA|{msa}|C{i}\r"
        ));
    }
    fs::write(&f, ack).unwrap();
    ws.cmd(&["import", f.to_str().unwrap()]).code(0);
    let week = immdqa::analytics::week_label(immdqa::analytics::week_start(today));
    let r = ws
        .cmd(&["check"])
        .out_has(&format!("week: {week} (incomplete week"))
        .out_has("OK: acceptance_rate");
    let q = ws.cmd(&["check", "-q"]);
    assert!(
        !q.out().contains("OK:"),
        "-q printed OK lines:\n{}",
        q.out()
    );
    assert_eq!(q.0.status.code(), r.0.status.code());
}

/// Consent notices without a patient id (a CNF with names but no Patient ID column) do not
/// vanish: listed by name for compliance staff, counted, the consent verdict not green while
/// they are open; closed by hand with a note, which a rebuild keeps.
#[test]
fn consent_notices_without_a_patient_id_are_followed_up_by_name() {
    let ws = Workspace::new();
    ws.local_config();
    let f = ws.path().join("ACMECLIN_CNF_20251028.csv");
    fs::write(
        &f,
        "Import Code,Source File,Date Processed,Last Name,First Name,Middle Name,Date of Birth,Gender,Consent Code Sent,Consent Date Sent,Reason Code,Reason\n\
ACMECLIN,ACMECLIN25301.hl7,2025-10-28,LOPEZ,OLIVIA,,1955-03-24,F,,20250101,CLR-100,No existing consent on file\n\
ACMECLIN,ACMECLIN25301.hl7,2025-10-28,NGUYEN,MAI,T,2016-11-18,F,TXY,20250101,IMR-132,Standard consent required\n",
    )
    .unwrap();
    ws.cmd(&["import", f.to_str().unwrap()]).code(0);
    let r = ws
        .cmd(&["consent", "--open", "--format", "csv"])
        .code(0)
        .err_has("2 notice(s) carry no patient id");
    let rows: Vec<Vec<String>> = csv::Reader::from_reader(r.out().as_bytes())
        .records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(rows.len(), 2, "{}", r.out());
    assert!(
        r.out().contains("LOPEZ, OLIVIA") && r.out().contains("NGUYEN, MAI T"),
        "{}",
        r.out()
    );
    assert!(r.out().contains("1955-03-24"), "{}", r.out());
    // the consent report: not green while they are open
    let rep = ws.path().join("consent-report");
    ws.cmd(&["report", "consent", "--out", rep.to_str().unwrap()])
        .code(1);
    let html = fs::read_to_string(rep.join("index.html")).unwrap();
    assert!(
        html.contains("LOPEZ, OLIVIA"),
        "listed by name in the consent report"
    );
    assert!(
        html.contains("2 open follow-up(s)"),
        "the consent verdict counts them"
    );
    // closed by hand with a note; a rebuild keeps it closed
    let lopez = rows
        .iter()
        .find(|r| r.iter().any(|c| c == "LOPEZ, OLIVIA"))
        .unwrap()[0]
        .clone();
    ws.cmd(&[
        "consent",
        "close",
        &lopez,
        "--note",
        "consent form received",
        "--as",
        "cara",
    ])
    .code(0)
    .out_has("closed");
    let open = ws.cmd(&["consent", "--open", "--format", "csv"]).out();
    assert!(!open.contains("LOPEZ") && open.contains("NGUYEN"), "{open}");
    fs::write(ws.store().join("history.sqlite"), b"").unwrap();
    ws.cmd(&["rebuild"]).code(0);
    let open = ws.cmd(&["consent", "--open", "--format", "csv"]).out();
    assert!(
        !open.contains("LOPEZ") && open.contains("NGUYEN"),
        "after rebuild: {open}"
    );
    // the journal names no patient
    let journal = fs::read_to_string(ws.store().join("consent.actions.jsonl")).unwrap();
    assert!(
        !journal.contains("LOPEZ") && !journal.contains("1955"),
        "{journal}"
    );
    ws.cmd(&["consent", "close", "999999"])
        .code(3)
        .err_has("no open consent follow-up 999999");
}
