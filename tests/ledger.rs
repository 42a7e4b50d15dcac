//! The message ledger and the worklist, end to end: upload → the registry's answer with
//! rejections → fetch → worklist open → corrected resubmission → accepted → resolved; over a
//! local mailbox and over OpenSSH. Plus `import --sent`, tabular answers and breakdowns.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::util::*;

/// One VXU message: (control id, MRN, site, provider, CVX, administration date, faults).
/// Faults: "mvx" leaves RXA-17 empty, "pd113" writes PD1-13 with dashes, "nk1" drops NK1.
fn vxu(
    cid: &str,
    mrn: &str,
    site: &str,
    provider: &str,
    cvx: &str,
    given: &str,
    faults: &[&str],
) -> String {
    vxu_sent(given, cid, mrn, site, provider, cvx, given, faults)
}

/// [`vxu`] with its own message date (MSH-7).
#[allow(clippy::too_many_arguments)]
fn vxu_sent(
    sent: &str,
    cid: &str,
    mrn: &str,
    site: &str,
    provider: &str,
    cvx: &str,
    given: &str,
    faults: &[&str],
) -> String {
    let pd113 = if faults.contains(&"pd113") {
        "2025-01-01"
    } else {
        "20250101"
    };
    let nk1 = if faults.contains(&"nk1") {
        String::new()
    } else {
        "NK1|1|DOE^PARENT|MTH\r".into()
    };
    let mvx = if faults.contains(&"mvx") {
        ""
    } else {
        "PMC^^MVX"
    };
    format!(
        "MSH|^~\\&|EHR|ACME CLINIC|TXImmTrac|TxDSHS|{sent}0900||VXU^V04^VXU_V04|{cid}|P|2.5.1\r\
PID|1||{mrn}^^^ACME^MR||SECRETNAME^ANNA||20150301|F|||1 MAIN ST^^AUSTIN^TX^78701\r\
PD1||||||||||||TXY|{pd113}\r{nk1}ORC|RE||{cid}|||||||||1234567^DOC\r\
RXA|0|1|{given}|{given}|{cvx}^Vaccine^CVX|0.5|mL||00|{provider}^DOC^A|^^^{site}||||LOT1||{mvx}|||CP|A\r"
    )
}

fn batch(msgs: &[String]) -> String {
    format!(
        "FHS|^~\\&|EHR|ACME\rBHS|^~\\&|EHR|ACME\r{}BTS|{}\rFTS|1\r",
        msgs.concat(),
        msgs.len()
    )
}

/// The registry's acknowledgement: (control id, MSA-1, [(ERR-2, severity, code::text)]).
/// ERRs of one answered message: (ERR-2, severity, code::text).
type Errs<'a> = &'a [(&'a str, &'a str, &'a str)];

fn ack(name: &str, answers: &[(&str, &str, Errs<'_>)]) -> String {
    let mut s = format!("FHS|^~\\&|ImmTrac|TEXIIS||ACME|20251028||{name}.ack\r");
    for (cid, msa, errs) in answers {
        s.push_str(&format!(
            "MSH|^~\\&|ImmTrac|TEXIIS||ACME|20251028||ACK^V04^ACK|A{cid}|P|2.5.1\rMSA|{msa}|{cid}\r"
        ));
        for (loc, sev, text) in *errs {
            s.push_str(&format!(
                "ERR||{loc}|101^Required field missing^HL70357|{sev}||||{text}\r"
            ));
        }
    }
    s.push_str("FTS|1\r");
    s
}

/// Where the registry's files go, on whatever transport the config points at.
struct Mailbox<'a> {
    root: &'a Path,
}

impl Mailbox<'_> {
    /// The registry processes what was dropped off: a copy to Accepted, the answer to DQA-Reports.
    fn answer(&self, name: &str, ack_text: &str) {
        let dropped = self.root.join("HL7-Dropoff").join(name);
        fs::copy(&dropped, self.root.join("Accepted").join(name)).unwrap();
        fs::remove_file(dropped).unwrap();
        fs::write(
            self.root.join("DQA-Reports").join(format!("{name}.ack")),
            ack_text,
        )
        .unwrap();
    }
}

fn today_name(days_back: i64) -> (String, String) {
    let d = chrono::Local::now().date_naive() - chrono::Duration::days(days_back);
    (
        immdqa::batch_name::format("ACME", d, None),
        d.format("%Y-%m-%d").to_string(),
    )
}

fn csv_rows(text: &str) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let h = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            h.iter()
                .map(str::to_string)
                .zip(rec.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

/// The whole loop, on a workspace whose config reaches `mailbox` (local or SFTP).
fn the_loop(ws: &Workspace, mailbox: &Path) {
    let m = Mailbox { root: mailbox };
    let (first, first_day) = today_name(1);
    let (second, second_day) = today_name(0);
    let given = "20251020";
    let b1 = batch(&[
        vxu("C1", "MRN1", "NORTH", "PRV1", "08", given, &[]),
        vxu("C2", "MRN2", "NORTH", "PRV2", "20", given, &["mvx"]),
        vxu("C3", "MRN3", "SOUTH", "PRV1", "08", given, &["pd113"]),
    ]);
    fs::write(ws.path().join("b1.hl7"), &b1).unwrap();
    ws.cmd(&[
        "upload",
        "--date",
        &first_day,
        ws.path().join("b1.hl7").to_str().unwrap(),
    ])
    .code(0) // lint errors predicted, sent anyway (not --strict)
    .out_has(&first);
    // before any answer: nothing to fix, three messages waiting
    ws.cmd(&["worklist"]).code(0).out_has("nothing to fix");
    m.answer(
        &first,
        &ack(
            &first,
            &[
                ("C1", "AA", &[]),
                (
                    "C2",
                    "AR",
                    &[(
                        "RXA^1^17",
                        "E",
                        "IMR-111::Immunization rejected. Manufacturer Code invalid.",
                    )],
                ),
                (
                    "C3",
                    "AE",
                    &[(
                        "PD1^1^13",
                        "E",
                        "CLR-105::Client rejected. Invalid Affirmation date format.",
                    )],
                ),
            ],
        ),
    );
    // the registry's copy in Accepted is the batch the upload already put in the ledger
    ws.cmd(&["fetch"])
        .out_has("1 parsed (2 findings, 0 consent notices), 1 already known");
    let open = ws.cmd(&["worklist", "--format", "csv"]).code(0).out();
    let rows = csv_rows(&open);
    assert_eq!(rows.len(), 2, "{open}");
    assert_eq!(rows[0]["patient_ref"], "MRN2");
    assert_eq!(rows[0]["codes"], "IMR-111 (E)");
    assert_eq!(rows[0]["owner"], "clinical");
    assert_eq!(rows[0]["site"], "NORTH");
    assert_eq!(rows[0]["provider"], "PRV2");
    assert_eq!(rows[0]["vaccine"], "20");
    assert_eq!(rows[0]["administered_on"], "2025-10-20");
    assert_eq!(rows[0]["status"], "open");
    assert_eq!(rows[0]["answer"], "rejected");
    assert!(rows[0]["fix"].contains("RXA-17"), "{}", rows[0]["fix"]);
    assert_eq!(rows[1]["patient_ref"], "MRN3");
    assert_eq!(rows[1]["owner"], "consent");
    assert!(
        !open.contains("SECRETNAME") && !open.contains("20150301"),
        "no names or birth dates"
    );
    // filters
    let clinical = ws
        .cmd(&["worklist", "--owner", "clinical", "--format", "csv"])
        .out();
    assert_eq!(csv_rows(&clinical).len(), 1);
    let south = ws
        .cmd(&["worklist", "--site", "south", "--format", "csv"])
        .out();
    assert_eq!(csv_rows(&south)[0]["patient_ref"], "MRN3");
    // the corrected record is re-sent and accepted
    let b2 = batch(&[vxu("D1", "MRN2", "NORTH", "PRV2", "20", given, &[])]);
    fs::write(ws.path().join("b2.hl7"), &b2).unwrap();
    ws.cmd(&[
        "upload",
        "--date",
        &second_day,
        ws.path().join("b2.hl7").to_str().unwrap(),
    ])
    .code(0);
    m.answer(&second, &ack(&second, &[("D1", "AA", &[])]));
    ws.cmd(&["fetch"]);
    let open = csv_rows(&ws.cmd(&["worklist", "--format", "csv"]).out());
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["patient_ref"], "MRN3");
    let all = csv_rows(&ws.cmd(&["worklist", "--all", "--format", "csv"]).out());
    let mrn2 = all.iter().find(|r| r["patient_ref"] == "MRN2").unwrap();
    assert_eq!(mrn2["status"], "resolved");
    // closed by hand
    let id = open[0]["id"].clone();
    ws.cmd(&[
        "worklist",
        "close",
        &id,
        "--note",
        "consent form filed on paper",
    ])
    .code(0)
    .out_has("closed");
    ws.cmd(&["worklist"]).code(0).out_has("nothing to fix");
    let all = csv_rows(&ws.cmd(&["worklist", "--all", "--format", "csv"]).out());
    let mrn3 = all.iter().find(|r| r["patient_ref"] == "MRN3").unwrap();
    assert_eq!(mrn3["status"], "closed");
    assert!(
        mrn3["note"].ends_with(": consent form filed on paper"),
        "{}",
        mrn3["note"]
    );
    // closing an item an accepted resubmission resolved keeps "resolved"
    let mrn2_id = mrn2["id"].clone();
    ws.cmd(&["worklist", "close", &mrn2_id, "--note", "done"])
        .code(0);
    let all = csv_rows(&ws.cmd(&["worklist", "--all", "--format", "csv"]).out());
    let mrn2 = all.iter().find(|r| r["patient_ref"] == "MRN2").unwrap();
    assert_eq!(mrn2["status"], "resolved");
    ws.cmd(&["worklist", "close", "999999"])
        .code(3)
        .err_has("no worklist item 999999");
    // the file holds patient references: owner-only
    let out = ws.path().join("wl.csv");
    ws.cmd(&[
        "worklist",
        "--all",
        "--format",
        "csv",
        "--out",
        out.to_str().unwrap(),
    ])
    .code(0);
    assert_eq!(fs::metadata(&out).unwrap().permissions().mode() & 0o077, 0);
}

/// A workspace whose profile `t` is a local mailbox with the registry's four folders
/// (`extra`: more profile keys).
fn local_mailbox(extra: &str) -> Workspace {
    let ws = Workspace::new();
    mailbox_folders(&ws.mailbox());
    ws.write_config(&format!(
        "store = {:?}\n[profiles.t]\nlocal_dir = {:?}\n{extra}retries = 0\n",
        ws.store(),
        ws.mailbox()
    ));
    ws
}

fn mailbox_folders(root: &Path) {
    for d in ["HL7-Dropoff", "Accepted", "DQA-Reports", "Receive"] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
}

#[test]
fn upload_answer_worklist_resubmission_over_a_local_mailbox() {
    let ws = local_mailbox("import_code = \"ACME\"\n");
    the_loop(&ws, &ws.mailbox());
}

#[test]
fn upload_answer_worklist_resubmission_over_openssh() {
    let Some(sshd) = crate::sshd::start() else {
        return;
    };
    let ws = Workspace::new();
    let m = ws.mailbox();
    mailbox_folders(&m);
    ws.openssh_config(&sshd, "import_code = \"ACME\"\nretries = 0\n");
    the_loop(&ws, &m);
}

/// A batch the EHR sent by itself, answered by a tabular listing that names control ids:
/// listed messages take the listing's severity, unlisted ones were accepted.
#[test]
fn import_sent_joins_a_tabular_answer_by_control_id() {
    let ws = Workspace::local();
    let (name, _) = today_name(3);
    let b = batch(&[
        vxu("T1", "MRN1", "NORTH", "PRV1", "08", "20251020", &[]),
        vxu("T2", "MRN2", "NORTH", "PRV1", "08", "20251020", &["nk1"]),
        vxu("T3", "MRN3", "SOUTH", "PRV2", "20", "20251020", &["mvx"]),
    ]);
    let sent = ws.path().join(&name);
    fs::write(&sent, b).unwrap();
    ws.cmd(&["import", "--sent", sent.to_str().unwrap()])
        .code(0)
        .out_has("1 sent batch(es) in the ledger (3 messages)");
    // the same batch again adds nothing
    ws.cmd(&["import", "--sent", sent.to_str().unwrap()])
        .code(0);
    let listing = format!(
        "File Name,Message Control ID,Patient ID,HL7 Field,Severity,Code,Message\n\
{name},T2,MRN2,NK1,Warning,IEE-519,\"Warning. NK1 Segment/Responsible person, missing.\"\n\
{name},T3,MRN3,RXA-17,Error,IMR-111,\"Immunization rejected. Manufacturer Code invalid.\"\n"
    );
    let report = ws
        .path()
        .join(format!("{}_DQA.csv", &name[..name.len() - 4]));
    fs::write(&report, listing).unwrap();
    ws.cmd(&["import", report.to_str().unwrap()]).code(0);
    let conn = db(&ws.store());
    let status = |cid: &str| -> String {
        conn.query_row(
            "SELECT status FROM ledger_message WHERE control_id = ?1",
            [cid],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(status("T1"), "accepted");
    assert_eq!(status("T2"), "accepted_with_warnings");
    assert_eq!(status("T3"), "rejected");
    assert_eq!(count(&conn, "SELECT count(*) FROM sent_batch"), 1);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM finding WHERE message_id IS NOT NULL"
        ),
        2
    );
    // no patient names or birth dates in the ledger
    let dump: String = conn
        .query_row(
            "SELECT group_concat(COALESCE(patient_ref,'') || site || COALESCE(facility,''), ' ') FROM ledger_message",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!dump.contains("SECRETNAME"));
    // following front_desk brings the NK1 warning in as an item
    let wl = ws
        .cmd(&["worklist", "--owner", "front_desk", "--format", "csv"])
        .out();
    let rows = csv_rows(&wl);
    assert_eq!(rows.len(), 1, "{wl}");
    assert_eq!(rows[0]["patient_ref"], "MRN2");
    // explain names the owner
    immdqa()
        .args(["explain", "IEE-519"])
        .output()
        .map(|o| {
            assert!(
                stdout(&o).contains("owner: front_desk (from the catalogue)"),
                "{}",
                stdout(&o)
            )
        })
        .unwrap();
}

/// An ACK that answers only some of the batch's messages: the others are "not_mentioned".
#[test]
fn messages_the_answer_does_not_mention_are_marked() {
    let ws = local_mailbox("import_code = \"ACME\"\n");
    let (name, _) = today_name(2);
    let b = batch(&[
        vxu("N1", "MRN1", "NORTH", "PRV1", "08", "20251020", &[]),
        vxu("N2", "MRN2", "NORTH", "PRV1", "08", "20251020", &[]),
    ]);
    fs::write(ws.mailbox().join("Accepted").join(&name), b).unwrap();
    fs::write(
        ws.mailbox().join("DQA-Reports").join(format!("{name}.ack")),
        ack(&name, &[("N1", "AA", &[])]),
    )
    .unwrap();
    ws.cmd(&["fetch"]).out_has("1 sent batch(es)");
    let conn = db(&ws.store());
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ledger_message WHERE status = 'not_mentioned'"
        ),
        1
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM ledger_message WHERE status = 'accepted'"
        ),
        1
    );
    ws.cmd(&["status"]).code(0).out_has(
        "ledger: 1 sent batch(es), 2 messages: 1 accepted, 0 with warnings, 0 rejected, 0 waiting for an answer, 1 not mentioned by theirs",
    );
    let json = ws.cmd(&["status", "--format", "json"]).code(0).out();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["ledger"]["messages"], 2);
    assert_eq!(v["ledger"]["by_status"]["not_mentioned"], 1);
}

/// Golden breakdowns: one hand-built week (GOLD25280.hl7, 2025-W41, four messages over two
/// sites, two vaccines, two providers) answered by an ACK, with known tables.
#[test]
fn breakdowns_by_site_vaccine_provider_owner_and_timeliness_are_golden() {
    let ws = Workspace::new();
    let config = |extra: &str| {
        format!(
            "store = {:?}\n{extra}[profiles.t]\nlocal_dir = {:?}\nretries = 0\n",
            ws.store(),
            ws.mailbox()
        )
    };
    ws.write_config(&config(""));
    let name = "GOLD25280.hl7";
    let sent = "20251007";
    let b = batch(&[
        vxu_sent(sent, "A1", "MRN1", "NORTH", "PRV1", "08", "20251006", &[]),
        vxu_sent(
            sent,
            "A2",
            "MRN2",
            "NORTH",
            "PRV2",
            "20",
            "20251001",
            &["mvx"],
        ),
        vxu_sent(
            sent,
            "A3",
            "MRN3",
            "SOUTH",
            "PRV1",
            "08",
            "20251007",
            &["nk1"],
        ),
        vxu_sent(sent, "A4", "MRN4", "SOUTH", "PRV2", "20", "20250901", &[]),
    ]);
    let batch_path = ws.path().join(name);
    fs::write(&batch_path, b).unwrap();
    let ack_path = ws.path().join(format!("{name}.ack"));
    fs::write(
        &ack_path,
        ack(
            name,
            &[
                ("A1", "AA", &[]),
                (
                    "A2",
                    "AR",
                    &[(
                        "RXA^1^17",
                        "E",
                        "IMR-111::Immunization rejected. Manufacturer Code invalid.",
                    )],
                ),
                (
                    "A3",
                    "AE",
                    &[(
                        "NK1^^0",
                        "W",
                        "IEE-519::Warning. NK1 Segment/Responsible person, missing.",
                    )],
                ),
                ("A4", "AA", &[]),
            ],
        ),
    )
    .unwrap();
    // the answer first, the batch after: linking works in either order
    ws.cmd(&["import", ack_path.to_str().unwrap()]).code(0);
    ws.cmd(&["import", "--sent", batch_path.to_str().unwrap()])
        .code(0);
    let csv = |args: &[&str]| {
        let mut a = args.to_vec();
        a.extend(["--format", "csv"]);
        ws.cmd(&a).code(0).out()
    };
    assert_eq!(
        csv(&["trends", "--by", "site"]),
        "week,week_start,site,severity,findings,messages,per_1000_messages,profile,import_code\n\
2025-W41,2025-10-06,NORTH,E,1,2,500,t,\n\
2025-W41,2025-10-06,SOUTH,W,1,2,500,t,\n"
    );
    assert_eq!(
        csv(&["trends", "--by", "vaccine"]),
        "week,week_start,vaccine,vaccine_name,severity,findings,messages,per_1000_messages,profile,import_code\n\
2025-W41,2025-10-06,08,\"Hep B, adolescent or pediatric\",W,1,2,500,t,\n\
2025-W41,2025-10-06,20,DTaP,E,1,2,500,t,\n"
    );
    assert_eq!(
        csv(&["trends", "--by", "provider"]),
        "week,week_start,provider,severity,findings,messages,per_1000_messages,profile,import_code\n\
2025-W41,2025-10-06,PRV1,W,1,2,500,t,\n\
2025-W41,2025-10-06,PRV2,E,1,2,500,t,\n"
    );
    assert_eq!(
        csv(&["trends", "--by", "owner"]),
        "week,week_start,owner,severity,findings,messages,per_1000_messages,profile,import_code\n\
2025-W41,2025-10-06,clinical,E,1,4,250,t,\n\
2025-W41,2025-10-06,front_desk,W,1,4,250,t,\n"
    );
    assert_eq!(
        csv(&["submissions", "--by", "site"]),
        "file,date,week,site,messages,accepted,accepted_with_warnings,rejected,no_answer,not_mentioned,acceptance_rate,profile\n\
GOLD25280.hl7,2025-10-07,2025-W41,NORTH,2,1,0,1,0,0,0.5,t\n\
GOLD25280.hl7,2025-10-07,2025-W41,SOUTH,2,1,1,0,0,0,1,t\n"
    );
    assert_eq!(
        csv(&["trends", "--timeliness"]),
        "week,week_start,site,doses,within_1_day,within_7_days,within_30_days,mean_days,profile\n\
2025-W41,2025-10-06,NORTH,2,0.5,1,1,3.5,t\n\
2025-W41,2025-10-06,SOUTH,2,0.5,0.5,0.5,18,t\n"
    );
    // check names the failing site (NORTH: 1 of 2 rejected) once sites of 2 are judged
    ws.cmd(&["check"])
        .out_has("UNKNOWN: site_acceptance: no site had 10 answered messages");
    ws.write_config(&config("[thresholds]\nmin_site_messages = 2\n"));
    ws.cmd(&["check"]).code(2).out_has(
        "FAIL: site_acceptance: site acceptance below 90.0% in 2025-W41: NORTH 50.0% (1 of 2 answered messages rejected)",
    );
}

/// The worklist is kept current as answers arrive in any order: the corrected record's
/// acceptance arriving before the rejection still resolves the item; a later rejection of the
/// same record is a new open item.
#[test]
fn the_worklist_stays_current_whatever_order_the_answers_arrive_in() {
    let ws = local_mailbox("");
    let put = |name: &str, text: String| {
        let p = ws.path().join(name);
        fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let first = put(
        "ORDR25280.hl7",
        batch(&[vxu_sent(
            "20251007",
            "R1",
            "MRN1",
            "NORTH",
            "PRV1",
            "08",
            "20251006",
            &["mvx"],
        )]),
    );
    let second = put(
        "ORDR25287.hl7",
        batch(&[vxu_sent(
            "20251014",
            "R2",
            "MRN1",
            "NORTH",
            "PRV1",
            "08",
            "20251006",
            &[],
        )]),
    );
    let ack1 = put(
        "ORDR25280.hl7.ack",
        ack(
            "ORDR25280.hl7",
            &[(
                "R1",
                "AR",
                &[(
                    "RXA^1^17",
                    "E",
                    "IMR-111::Immunization rejected. Manufacturer Code invalid.",
                )],
            )],
        ),
    );
    let ack2 = put(
        "ORDR25287.hl7.ack",
        ack("ORDR25287.hl7", &[("R2", "AA", &[])]),
    );
    ws.cmd(&["import", "--sent", &first, &second]).code(0);
    // the acceptance of the corrected record first
    ws.cmd(&["import", &ack2]).code(0);
    ws.cmd(&["worklist"]).code(0).out_has("nothing to fix");
    ws.cmd(&["import", &ack1]).code(0);
    let all = csv_rows(&ws.cmd(&["worklist", "--all", "--format", "csv"]).out());
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["status"], "resolved");
    ws.cmd(&["worklist"]).code(0).out_has("nothing to fix");
    // the same record rejected again later is a new open item
    let third = put(
        "ORDR25294.hl7",
        batch(&[vxu_sent(
            "20251021",
            "R3",
            "MRN1",
            "NORTH",
            "PRV1",
            "08",
            "20251006",
            &["mvx"],
        )]),
    );
    let ack3 = put(
        "ORDR25294.hl7.ack",
        ack(
            "ORDR25294.hl7",
            &[(
                "R3",
                "AR",
                &[(
                    "RXA^1^17",
                    "E",
                    "IMR-111::Immunization rejected. Manufacturer Code invalid.",
                )],
            )],
        ),
    );
    ws.cmd(&["import", "--sent", &third]).code(0);
    ws.cmd(&["import", &ack3]).code(0);
    let open = csv_rows(&ws.cmd(&["worklist", "--format", "csv"]).out());
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["batch"], "ORDR25294.hl7");
}

/// `immdqa rebuild` recreates the ledger from the archive (sent batches are archived like
/// reports) and replays the worklist's hand actions from their journal.
/// A local mailbox whose batch of two records (MRN1: no manufacturer, MRN2: a bad consent
/// date) was rejected, fetched: two open worklist items.
fn two_rejected_records() -> Workspace {
    let ws = local_mailbox("");
    let (name, _) = today_name(2);
    let b = batch(&[
        vxu("K1", "MRN1", "NORTH", "PRV1", "08", "20251020", &["mvx"]),
        vxu("K2", "MRN2", "NORTH", "PRV1", "08", "20251020", &["pd113"]),
    ]);
    fs::write(ws.mailbox().join("Accepted").join(&name), b).unwrap();
    fs::write(
        ws.mailbox().join("DQA-Reports").join(format!("{name}.ack")),
        ack(
            &name,
            &[
                (
                    "K1",
                    "AR",
                    &[(
                        "RXA^1^17",
                        "E",
                        "IMR-111::Immunization rejected. Manufacturer Code invalid.",
                    )],
                ),
                (
                    "K2",
                    "AR",
                    &[(
                        "PD1^1^13",
                        "E",
                        "CLR-105::Client rejected. Invalid Affirmation date format.",
                    )],
                ),
            ],
        ),
    )
    .unwrap();
    ws.cmd(&["fetch"]).code(0);
    ws
}

#[test]
fn rebuild_recreates_the_ledger_and_keeps_hand_closed_items() {
    let ws = two_rejected_records();
    let open = csv_rows(&ws.cmd(&["worklist", "--format", "csv"]).out());
    assert_eq!(open.len(), 2);
    let k2 = open.iter().find(|r| r["patient_ref"] == "MRN2").unwrap()["id"].clone();
    ws.cmd(&["worklist", "close", &k2, "--note", "fixed in the registry"])
        .code(0);
    let journal = ws.store().join("worklist.actions.jsonl");
    assert_eq!(
        fs::metadata(&journal).unwrap().permissions().mode() & 0o077,
        0
    );
    // the history is lost
    for f in ["history.sqlite-wal", "history.sqlite-shm"] {
        let _ = fs::remove_file(ws.store().join(f));
    }
    fs::write(ws.store().join("history.sqlite"), b"").unwrap();
    ws.cmd(&["rebuild"])
        .code(0)
        .out_has("1 worklist action(s) (closed, ignored or reopened by hand) replayed");
    let all = csv_rows(&ws.cmd(&["worklist", "--all", "--format", "csv"]).out());
    assert_eq!(all.len(), 2);
    let mrn2 = all.iter().find(|r| r["patient_ref"] == "MRN2").unwrap();
    assert_eq!(mrn2["status"], "closed");
    assert!(
        mrn2["note"].ends_with(": fixed in the registry"),
        "{}",
        mrn2["note"]
    );
    let mrn1 = all.iter().find(|r| r["patient_ref"] == "MRN1").unwrap();
    assert_eq!(mrn1["status"], "open");
}

/// The accepted folder's batches are read one ahead of the one being stored: a file there
/// that is not HL7 is quarantined with its reason, in its place, and the batches around it are
/// all read into the ledger.
#[test]
fn a_file_in_accepted_that_is_not_hl7_is_quarantined_and_the_others_are_read() {
    let ws = local_mailbox("");
    let accepted = ws.mailbox().join("Accepted");
    for (k, days_back) in [3i64, 2, 1].into_iter().enumerate() {
        let (name, _) = today_name(days_back);
        let msgs: Vec<String> = (0..3)
            .map(|i| {
                vxu(
                    &format!("Q{k}{i}"),
                    &format!("MRN{k}{i}"),
                    "NORTH",
                    "PRV1",
                    "08",
                    "20251020",
                    &[],
                )
            })
            .collect();
        fs::write(accepted.join(&name), batch(&msgs)).unwrap();
    }
    fs::write(accepted.join("ACME25001.hl7"), "name,dob\nx,y\n").unwrap();
    ws.cmd(&["fetch"])
        .code(4)
        .out_has("1 quarantined, 3 sent batch(es) in the ledger (9 messages)")
        .err_has("ACME25001.hl7")
        .err_has("not a readable HL7 batch");
    ws.cmd(&["status"])
        .out_has("ledger: 3 sent batch(es), 9 messages");
}

/// Worklist actions keep history: several ids at once, a second note appended with its time
/// and who (never overwriting the first), reopen, and `worklist show` with the sent values
/// (no names, no birth date), the registry's words, the fix and the history.
#[test]
fn worklist_actions_keep_history_and_can_be_undone() {
    let ws = two_rejected_records();
    let open = csv_rows(&ws.cmd(&["worklist", "--format", "csv"]).out());
    let id = |mrn: &str| open.iter().find(|r| r["patient_ref"] == mrn).unwrap()["id"].clone();
    let (k1, k2) = (id("MRN1"), id("MRN2"));
    ws.cmd(&[
        "worklist",
        "close",
        &k1,
        &k2,
        "--note",
        "called the clinic",
        "--as",
        "ann",
    ])
    .code(0)
    .out_has(&format!("worklist item {k1} closed"))
    .out_has(&format!("worklist item {k2} closed"));
    ws.cmd(&["worklist", "--format", "csv"]).code(0);
    assert!(csv_rows(&ws.cmd(&["worklist", "--format", "csv"]).out()).is_empty());
    ws.cmd(&[
        "worklist",
        "reopen",
        &k1,
        "--note",
        "still wrong in the EHR",
        "--as",
        "bob",
    ])
    .code(0);
    let all = csv_rows(&ws.cmd(&["worklist", "--all", "--format", "csv"]).out());
    let row = |mrn: &str| {
        all.iter()
            .find(|r| r["patient_ref"] == mrn)
            .unwrap()
            .clone()
    };
    assert_eq!(row("MRN1")["status"], "open");
    assert_eq!(row("MRN2")["status"], "closed");
    let note = row("MRN1")["note"].clone();
    assert!(
        note.contains("ann: called the clinic") && note.contains("bob: still wrong in the EHR"),
        "both notes, in order: {note}"
    );
    assert!(
        note.find("ann:").unwrap() < note.find("bob:").unwrap(),
        "{note}"
    );
    // an unknown id among several is named
    ws.cmd(&["worklist", "ignore", &k1, "99999"])
        .code(3)
        .err_has("no worklist item 99999");
    let shown = ws.cmd(&["worklist", "show", &k1]).code(0);
    let out = shown.out();
    for want in [
        "worklist item",
        "patient       MRN1",
        "IMR-111 (E)",
        "Manufacturer Code invalid",
        "fix:",
        "closed by ann: called the clinic",
        "reopened by bob: still wrong in the EHR",
        "ignored",
    ] {
        assert!(out.contains(want), "{want:?} in\n{out}");
    }
    assert!(
        !out.contains("SECRETNAME") && !out.contains("20150301"),
        "no names, no birth date:\n{out}"
    );
}

/// `export worklist` and `export ledger` (pseudonymizable like the others); the findings of an
/// acknowledgement carry the patient reference and site the ledger knows.
#[test]
fn worklist_and_ledger_exports_and_findings_carry_the_ledger_patient_and_site() {
    let ws = two_rejected_records();
    let out = ws.path().join("ledger.csv");
    ws.cmd(&["export", "ledger", "--out", out.to_str().unwrap()])
        .code(0)
        .out_has("exported 2 rows");
    let rows = csv_rows(&fs::read_to_string(&out).unwrap());
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["site"], "NORTH");
    assert_eq!(rows[0]["status"], "rejected");
    assert_eq!(rows[0]["patient_ref"], "MRN1");
    assert_eq!(rows[0]["vaccines"], "08");
    let out = ws.path().join("worklist.csv");
    ws.cmd(&["export", "worklist", "--out", out.to_str().unwrap()])
        .code(0);
    let rows = csv_rows(&fs::read_to_string(&out).unwrap());
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .any(|r| r["patient_ref"] == "MRN2" && r["codes"].contains("CLR-105"))
    );
    // pseudonymized: no MRN left
    let out = ws.path().join("p.csv");
    ws.cmd_env(
        &[
            "export",
            "ledger",
            "--pseudonymize",
            "--out",
            out.to_str().unwrap(),
        ],
        &[("IMMDQA_PSEUDONYM_KEY", "0123456789abcdef0123456789abcdef")],
    )
    .code(0);
    assert!(!fs::read_to_string(&out).unwrap().contains("MRN1"));
    // findings of the ACK (which names no patient) carry the ledger's patient and site
    let out = ws.path().join("f.csv");
    ws.cmd(&["export", "findings", "--out", out.to_str().unwrap()])
        .code(0);
    let rows = csv_rows(&fs::read_to_string(&out).unwrap());
    let imr = rows.iter().find(|r| r["code"] == "IMR-111").unwrap();
    assert_eq!(
        (imr["patient_ref"].as_str(), imr["site"].as_str()),
        ("MRN1", "NORTH")
    );
}

/// The report's "what to fix first" covers the open backlog by site × owner (not only this
/// week's codes), a "resolved this week" section shows the fixes the registry accepted, and
/// the worklist table links to worklist.csv.
#[test]
fn the_report_leads_with_the_backlog_and_shows_what_was_resolved() {
    let ws = two_rejected_records();
    // MRN1's record re-sent corrected, accepted
    let (name, day) = today_name(1);
    fs::write(
        ws.mailbox().join("Accepted").join(&name),
        batch(&[vxu("K3", "MRN1", "NORTH", "PRV1", "08", "20251020", &[])]),
    )
    .unwrap();
    fs::write(
        ws.mailbox().join("DQA-Reports").join(format!("{name}.ack")),
        ack(&name, &[("K3", "AA", &[])]),
    )
    .unwrap();
    ws.cmd(&["fetch"]).code(0);
    let d = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").unwrap();
    let week = immdqa::analytics::week_label(immdqa::analytics::week_start(d));
    let out = ws.path().join("rep");
    ws.cmd(&["report", "--week", &week, "--out", out.to_str().unwrap()]);
    let html = fs::read_to_string(out.join("index.html")).unwrap();
    let backlog = html
        .find("What to fix first: the open backlog by site and owner")
        .expect("the backlog section");
    let charts = html.find("<svg").unwrap_or(usize::MAX);
    assert!(backlog < charts, "the backlog leads the page");
    let resolved = html
        .find("Resolved this week")
        .expect("the resolved section");
    let section = &html[resolved
        ..html[resolved..]
            .find("</table>")
            .map(|e| resolved + e)
            .unwrap()];
    assert!(
        section.contains("MRN1") && !section.contains("MRN2"),
        "{section}"
    );
    assert!(html.contains("<a href=\"worklist.csv\">worklist.csv</a>"));
    // the backlog row: NORTH, consent's owner, one open record
    let b = &html[backlog
        ..html[backlog..]
            .find("</table>")
            .map(|e| backlog + e)
            .unwrap()];
    assert!(b.contains("NORTH") && b.contains("CLR-105"), "{b}");
}
