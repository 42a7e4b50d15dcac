//! Golden tests: a small hand-built history (three weekly batches in three report shapes, a
//! consent file) whose trend, submission, change, consent and threshold tables are known.

use std::fs;

use crate::util::*;

/// Week 41: ACK for GOLD25280.hl7 (10 messages: 8 AA, 1 AE, 1 AR).
/// Week 42: CSV listing + summary HTML for GOLD25287.hl7 (HTML carries counts 7/1/2).
/// Week 43: CSV listing for GOLD25294.hl7 with patient ids (P1 seen again without a consent
/// problem), and a new code IEE-575.
/// CNF (week 41): P1 CLR-100, P2 CLR-101.
pub fn golden_mailbox(ws: &Workspace) {
    let mut ack = String::from("FHS|^~\\&|ImmTrac|TEXIIS||GOLD|20251007||GOLD25280.hl7.ack\r");
    for i in 1..=10 {
        let code = match i {
            3 => "AE",
            7 => "AR",
            _ => "AA",
        };
        ack.push_str(&format!("MSH|^~\\&|ImmTrac|TEXIIS||GOLD|20251007||ACK^V04^ACK|{i}|P|2.5.1\rMSA|{code}|GOLD25280{i:04}\r"));
        if i == 3 {
            ack.push_str(
                "ERR||NK1^^0|101|W||||IEE-519::Warning. NK1 Segment/Responsible person, missing.\r",
            );
        }
        if i == 7 {
            ack.push_str(
                "ERR||PID^1^7|101|E||||IMR-100::Immunization rejected. Birth date invalid.\r",
            );
        }
    }
    ack.push_str("FTS|1\r");
    ws.write("DQA-Reports/GOLD25280.hl7.ack", ack);
    ws.write(
        "DQA-Reports/GOLD25287_DQA.csv",
        "File Name,Message Control ID,HL7 Field,Severity,Code,Message\n\
GOLD25287.hl7,GOLD252870002,PID-7,Error,IMR-100,Immunization rejected. Birth date invalid.\n\
GOLD25287.hl7,GOLD252870005,PID-7,Error,IMR-100,Immunization rejected. Birth date invalid.\n\
GOLD25287.hl7,GOLD252870006,NK1,Warning,IEE-519,NK1 Segment/Responsible person missing.\n",
    );
    ws.write(
        "DQA-Reports/GOLD25287.hl7.report.html",
        "<html><body><table><tr><th>File Name</th><td>GOLD25287.hl7</td></tr></table>\
<h2>Processing Status</h2><table><tr><th>Status</th><th>Count</th></tr>\
<tr><td>Accepted</td><td>7</td></tr><tr><td>Accepted with Warnings</td><td>1</td></tr>\
<tr><td>Rejected with Errors</td><td>2</td></tr><tr><td>Skipped</td><td>0</td></tr></table>\
<h3>Errors</h3><table><tr><th>Description</th><th>HL7</th><th>Count</th></tr>\
<tr><td>Immunization rejected. Birth date invalid.</td><td>PID-7</td><td>2</td></tr></table></body></html>",
    );
    ws.write(
        "DQA-Reports/GOLD25294_DQA.csv",
        "File Name,Message Control ID,Patient ID,HL7 Field,Severity,Code,Message\n\
GOLD25294.hl7,GOLD252940001,P1,NK1,Warning,IEE-519,NK1 Segment/Responsible person missing.\n\
GOLD25294.hl7,GOLD252940004,P9,RXR-2,Warning,IEE-575,Two doses with the same body site.\n",
    );
    ws.write(
        "Receive/GOLD_CNF_20251007.csv",
        "Source File,Date Processed,Patient ID,Last Name,First Name,Date of Birth,Consent Code Sent,Consent Date Sent,Reason Code,Reason\n\
GOLD25280.hl7,2025-10-07,P1,DOE,JANE,1980-01-01,,20250101,CLR-100,No existing consent on file\n\
GOLD25280.hl7,2025-10-07,P2,ROE,RICK,2010-05-05,TXA,20250101,CLR-101,Consent flag not valid for client age\n",
    );
}

fn setup() -> Workspace {
    let ws = Workspace::new();
    golden_mailbox(&ws);
    ws.local_config();
    ws.cmd(&["fetch"]).code(0).out_has("parse: 5 parsed");
    ws
}

/// `trends` as CSV without its scope columns (profile, import code), after checking them.
fn trend_csv(ws: &Workspace, args: &[&str]) -> Vec<Vec<String>> {
    let mut t = csv(ws, args);
    let n = t[0].len();
    assert_eq!(t[0][n - 2..].to_vec(), s(&["profile", "import_code"]));
    for r in &t[1..] {
        assert_eq!(r[n - 2..].to_vec(), s(&["t", "GOLD"]), "{r:?}");
    }
    for r in &mut t {
        r.truncate(n - 2);
    }
    t
}

fn csv(ws: &Workspace, args: &[&str]) -> Vec<Vec<String>> {
    let mut a = args.to_vec();
    a.extend(["--format", "csv"]);
    let o = ws.cmd(&a).code(0);
    let mut r = csv::Reader::from_reader(o.0.stdout.as_slice());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let mut rows = vec![header];
    rows.extend(
        r.records()
            .map(|x| x.unwrap().iter().map(str::to_string).collect()),
    );
    rows
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn golden_trends_submissions_changes_consent_and_check() {
    let ws = setup();

    let t = trend_csv(&ws, &["trends"]);
    assert_eq!(
        t[0],
        s(&[
            "week",
            "week_start",
            "field",
            "severity",
            "findings",
            "messages",
            "per_1000_messages"
        ])
    );
    assert_eq!(
        t[1..].to_vec(),
        vec![
            s(&["2025-W41", "2025-10-06", "NK1", "W", "1", "10", "100"]),
            s(&["2025-W41", "2025-10-06", "PID-7", "E", "1", "10", "100"]),
            s(&["2025-W42", "2025-10-13", "PID-7", "E", "2", "10", "200"]),
            s(&["2025-W42", "2025-10-13", "NK1", "W", "1", "10", "100"]),
            s(&["2025-W43", "2025-10-20", "NK1", "W", "1", "", ""]),
            s(&["2025-W43", "2025-10-20", "RXR-2", "W", "1", "", ""]),
        ],
        "the HTML summary of GOLD25287 must not be counted twice"
    );
    let t = trend_csv(
        &ws,
        &["trends", "--by", "severity", "--since", "2025-10-13"],
    );
    assert_eq!(
        t[1..].to_vec(),
        vec![
            s(&["2025-W42", "2025-10-13", "E", "2", "10", "200"]),
            s(&["2025-W42", "2025-10-13", "W", "1", "10", "100"]),
            s(&["2025-W43", "2025-10-20", "W", "2", "", ""]),
        ]
    );
    let t = trend_csv(&ws, &["trends", "--by", "code", "--top", "1"]);
    assert!(t[1..].iter().all(|r| r[2] == "IEE-519"), "{t:?}");

    let t = csv(&ws, &["submissions"]);
    assert_eq!(
        t[1..].iter().map(|r| r[..11].to_vec()).collect::<Vec<_>>(),
        vec![
            s(&[
                "GOLD25280.hl7",
                "2025-10-07",
                "10",
                "8",
                "1",
                "1",
                "",
                "0.9",
                "1",
                "1",
                "0"
            ]),
            s(&[
                "GOLD25287.hl7",
                "2025-10-14",
                "10",
                "7",
                "1",
                "2",
                "0",
                "0.8",
                "2",
                "1",
                "0"
            ]),
            s(&[
                "GOLD25294.hl7",
                "2025-10-21",
                "",
                "",
                "",
                "",
                "",
                "",
                "0",
                "2",
                "0"
            ]),
        ]
    );
    assert_eq!(t[2][11], "IMR-100 (2); IEE-519 (1)");
    assert_eq!(t[2][12], "csv;legacy-report-html");

    let t = csv(&ws, &["changes"]);
    assert_eq!(
        t[1..].iter().map(|r| r[..6].to_vec()).collect::<Vec<_>>(),
        vec![
            s(&["new", "RXR-2", "IEE-575", "0", "1", "1"]),
            s(&["persisting", "NK1", "IEE-519", "1", "1", "0"]),
            s(&["resolved", "PID-7", "IMR-100", "2", "0", "-2"]),
        ]
    );
    let t = csv(&ws, &["changes", "--period", "month"]);
    assert!(
        t[1..].iter().all(|r| r[0] == "new"),
        "October against September: {t:?}"
    );

    let t = csv(&ws, &["consent", "--open", "--as-of", "2025-11-01"]);
    assert_eq!(
        t[1..].to_vec(),
        vec![s(&[
            "2",
            "P2",
            "",
            "",
            "2025-10-07",
            "2025-10-07",
            "wrong_type_for_age",
            "CLR-101",
            "1",
            "25",
            "GOLD25280.hl7",
            ""
        ])],
        "P1 appeared on 2025-10-21 without a consent problem: resolved; a notice with a patient id lists no name"
    );
    let t = csv(&ws, &["consent"]);
    assert_eq!(
        t[1..].to_vec(),
        vec![
            s(&["2025-W41", "2025-10-06", "not_verified", "CLR-100", "1"]),
            s(&[
                "2025-W41",
                "2025-10-06",
                "wrong_type_for_age",
                "CLR-101",
                "1"
            ]),
        ]
    );

    // thresholds: week 42's acceptance rate (80%) fails; week 41 (90%) passes
    ws.cmd(&["check", "--week", "2025-W42"]).code(2).out_has("FAIL: acceptance_rate: acceptance rate in 2025-W42: 80.0% (8 of 10 messages; threshold 90%)");
    ws.cmd(&["check", "--week", "2025-W41"]).code(0);
    // a stricter threshold in the config turns week 41 into a failure
    let cfg = fs::read_to_string(ws.config()).unwrap();
    ws.write_config(&format!(
        "{cfg}\n[thresholds]\nmin_acceptance_rate = 0.95\n"
    ));
    ws.cmd(&["check", "--week", "2025-W41"]).code(2);
}

#[test]
fn rising_error_rate_warns() {
    let ws = Workspace::new();
    // four weekly ACKs, 10 messages each, with 1, 2, 3, 4 rejected messages
    for (w, day) in [(0, 280), (1, 287), (2, 294), (3, 301)] {
        let mut ack = String::new();
        for i in 1..=10 {
            let rejected = i <= w + 1;
            ack.push_str(&format!(
                "MSH|^~\\&|I|T||G|2025||ACK^V04^ACK|{i}|P|2.5.1\rMSA|{}|C{day}{i}\r",
                if rejected { "AR" } else { "AA" }
            ));
            if rejected {
                ack.push_str("ERR||RXA^1^5|101|E||||IMR-109::Immunization rejected. Duplicate.\r");
            }
        }
        ws.write(&format!("DQA-Reports/RISE25{day}.hl7.ack"), ack);
    }
    ws.local_config();
    ws.cmd(&["fetch"]).code(0);
    ws.write_config(&format!(
        "{}\n[thresholds]\nmin_acceptance_rate = 0.5\nrising_error_weeks = 3\n",
        fs::read_to_string(ws.config()).unwrap()
    ));
    ws.cmd(&["check"]).code(1).out_has("WARN: rising_error_rate: error rate rose 3 weeks in a row: 2025-W41 100.0 → 2025-W42 200.0 → 2025-W43 300.0 → 2025-W44 400.0");
}

/// A Parquet file's columns and their types (`i64`, `f64`, `str`, `date`, `bool`).
fn parquet_schema(p: &std::path::Path) -> Vec<(&'static str, &'static str)> {
    use polars::prelude::*;
    let df = ParquetReader::new(fs::File::open(p).unwrap())
        .finish()
        .unwrap();
    df.columns()
        .iter()
        .map(|c| {
            let name: &'static str = Box::leak(c.name().to_string().into_boxed_str());
            let ty = match c.dtype() {
                DataType::Int64 => "i64",
                DataType::Float64 => "f64",
                DataType::String => "str",
                DataType::Date => "date",
                DataType::Boolean => "bool",
                other => Box::leak(format!("{other:?}").into_boxed_str()),
            };
            (name, ty)
        })
        .collect()
}

#[test]
fn exports_have_the_documented_columns() {
    let ws = setup();
    let dir = ws.path();
    // The documented schemas (docs/export-schemas.md): name and Parquet type, the same
    // for an empty history.
    let schemas: [(&str, &[(&str, &str)]); 4] = [
        (
            "findings",
            &[
                ("report_id", "i64"),
                ("report_date", "date"),
                ("week", "str"),
                ("submission", "str"),
                ("report_format", "str"),
                ("message_control_id", "str"),
                ("message_index", "i64"),
                ("patient_ref", "str"),
                ("segment", "str"),
                ("field", "str"),
                ("code", "str"),
                ("severity", "str"),
                ("count", "i64"),
                ("text", "str"),
                ("week_start", "date"),
                ("hl7_error_code", "str"),
                ("app_error_code", "str"),
                ("profile", "str"),
                ("import_code", "str"),
                ("report_hash", "str"),
                ("site", "str"),
            ],
        ),
        (
            "submissions",
            &[
                ("submission", "str"),
                ("submitted_on", "date"),
                ("messages", "i64"),
                ("accepted", "i64"),
                ("accepted_with_warnings", "i64"),
                ("rejected", "i64"),
                ("skipped", "i64"),
                ("acceptance_rate", "f64"),
                ("errors", "i64"),
                ("warnings", "i64"),
                ("info", "i64"),
                ("top_codes", "str"),
                ("report_formats", "str"),
                ("report_received", "bool"),
                ("uploaded_at", "str"),
                ("state", "str"),
                ("overdue", "bool"),
                ("profile", "str"),
                ("import_code", "str"),
                ("report_hash", "str"),
            ],
        ),
        (
            "trends",
            &[
                ("week", "str"),
                ("week_start", "date"),
                ("field", "str"),
                ("severity", "str"),
                ("findings", "i64"),
                ("messages", "i64"),
                ("per_1000_messages", "f64"),
                ("profile", "str"),
                ("import_code", "str"),
            ],
        ),
        (
            "consent",
            &[
                ("notice_id", "i64"),
                ("notice_date", "date"),
                ("week", "str"),
                ("patient_ref", "str"),
                ("status", "str"),
                ("reason_code", "str"),
                ("consent_code", "str"),
                ("source_file", "str"),
                ("follow_up_open", "bool"),
                ("follow_up_age_days", "i64"),
                ("profile", "str"),
                ("import_code", "str"),
                ("report_hash", "str"),
            ],
        ),
    ];
    let empty = Workspace::new();
    empty.local_config();
    for (what, schema) in schemas {
        let cols: Vec<&str> = schema.iter().map(|(c, _)| *c).collect();
        let out = dir.join(format!("{what}.csv"));
        ws.cmd(&["export", what, "--out", out.to_str().unwrap()])
            .code(0);
        let text = fs::read_to_string(&out).unwrap();
        assert_eq!(text.lines().next().unwrap(), cols.join(","), "{what}");
        for (w, label) in [(&ws, "with data"), (&empty, "empty")] {
            let pq = w.path().join(format!("{what}.parquet"));
            w.cmd(&["export", what, "--out", pq.to_str().unwrap()])
                .code(0);
            assert_eq!(parquet_schema(&pq), schema, "{what} {label}");
        }
    }
    let findings = fs::read_to_string(dir.join("findings.csv")).unwrap();
    // every finding of every report, including the non-primary HTML summary
    assert_eq!(findings.lines().count() - 1, 2 + 3 + 1 + 2);
    assert!(findings.contains("2025-10-07,2025-W41,GOLD25280.hl7,hl7-ack,GOLD252800007,7,,PID,PID-7,IMR-100,E,1,Immunization rejected. Birth date invalid.,2025-10-06"), "{findings}");
    // --since/--until keep the findings of reports dated in the range, both ends included
    let out = dir.join("w41.csv");
    ws.cmd(&[
        "export",
        "findings",
        "--since",
        "2025-10-06",
        "--until",
        "2025-10-12",
        "--out",
        out.to_str().unwrap(),
    ])
    .code(0);
    let w41 = fs::read_to_string(&out).unwrap();
    let expected: Vec<&str> = findings
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(2) == Some("2025-W41"))
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(w41.lines().skip(1).collect::<Vec<_>>(), expected);
    // ISO weeks everywhere: trends of weeks 41 to 42 (the whole of week 42)
    ws.cmd(&[
        "export",
        "trends",
        "--since",
        "2025-W41",
        "--until",
        "2025-W42",
        "--out",
        out.to_str().unwrap(),
    ])
    .code(0);
    let t = fs::read_to_string(&out).unwrap();
    assert!(
        t.contains("2025-W41") && t.contains("2025-W42") && !t.contains("2025-W43"),
        "{t}"
    );
    // a format contradicting the extension is refused
    let o = ws.cmd(&[
        "export",
        "trends",
        "--format",
        "parquet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_ne!(o.0.status.code(), Some(0));
    assert!(o.err().contains("contradicts the extension"), "{}", o.err());
}

#[test]
fn named_queries_run_and_refuse_writes() {
    let ws = setup();
    ws.cmd(&["query", "--list"]).out_has("top_errors_by_field");
    let t = csv(
        &ws,
        &["query", "rejections_by_code", "--param", "since=2025-10-01"],
    );
    assert_eq!(t[0], s(&["code", "field", "findings", "example_text"]));
    // ACK 1 + CSV 2 (the HTML summary's row has no code: too generic a text to map)
    assert_eq!(t[1][..3].to_vec(), s(&["IMR-100", "PID-7", "3"]));
    // an ISO week is its Monday; a parameter the query does not take is a usage error
    let by_week = csv(
        &ws,
        &["query", "rejections_by_code", "--param", "since=2025-W40"],
    );
    let by_day = csv(
        &ws,
        &["query", "rejections_by_code", "--param", "since=2025-09-29"],
    );
    assert_eq!(by_week, by_day);
    ws.cmd(&["query", "rejections_by_code", "--param", "sinse=2025-10-01"])
        .code(64)
        .err_has("--param sinse: query 'rejections_by_code' has no such parameter (it takes since");
    let qdir = ws.path().join("queries");
    fs::create_dir_all(&qdir).unwrap();
    fs::write(
        qdir.join("mine.sql"),
        "-- my count\nSELECT COUNT(*) AS n FROM submission",
    )
    .unwrap();
    let t = csv(&ws, &["query", "mine"]);
    assert_eq!(t[1], s(&["3"]));
    fs::write(qdir.join("evil.sql"), "DELETE FROM finding").unwrap();
    ws.cmd(&["query", "evil"])
        .code(3)
        .err_has("only read-only SELECT queries run");
    assert!(count(&db(&ws.store()), "SELECT COUNT(*) FROM finding") > 0);
}

#[test]
fn charts_are_valid_png_and_svg() {
    let ws = setup();
    for kind in ["trend", "top", "acceptance", "consent", "heatmap"] {
        for ext in ["png", "svg"] {
            let out = ws.path().join(format!("{kind}.{ext}"));
            ws.cmd(&["chart", kind, "--out", out.to_str().unwrap()])
                .code(0);
            let bytes = fs::read(&out).unwrap();
            if ext == "png" {
                assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{kind}.png");
                let (w, h) = (
                    u32::from_be_bytes(bytes[16..20].try_into().unwrap()),
                    u32::from_be_bytes(bytes[20..24].try_into().unwrap()),
                );
                assert_eq!((w, h), (1200, 700));
                assert!(bytes.len() > 10_000, "{kind}.png looks empty");
            } else {
                let text = String::from_utf8(bytes).unwrap();
                assert!(
                    text.starts_with("<svg") && text.trim_end().ends_with("</svg>"),
                    "{kind}.svg"
                );
                assert!(text.contains("<text"), "{kind}.svg has no text");
            }
        }
    }
    ws.cmd(&[
        "chart",
        "trend",
        "--out",
        ws.path().join("x.gif").to_str().unwrap(),
    ])
    .code(3)
    .err_has("use .png or .svg");
}
