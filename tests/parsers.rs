//! Parsers on the specimens and on variants written here: other column orders and aliases,
//! title rows, `\n` endings, no batch wrappers, other delimiters, a title row in a spreadsheet,
//! missing optional columns. Garbage never panics (property tests). Large reports stream.

use std::path::Path;

use immdqa::formats::{Collect, ConsentStatus, Discard, Format, Kind, ParseOptions, parse_bytes};
use proptest::prelude::*;

use crate::util::SPECIMENS;
use crate::xlsx::{xlsx, xlsx_stored};

fn spec(p: &str) -> Vec<u8> {
    std::fs::read(Path::new(SPECIMENS).join(p)).unwrap()
}

fn parse(data: &[u8], name: &str) -> (immdqa::formats::Summary, Collect) {
    let mut c = Collect::all();
    let s =
        parse_bytes(data, name, &ParseOptions::default(), &mut c).unwrap_or_else(|e| panic!("{e}"));
    (s, c)
}

/// The exact counts given in tests/data/specimens/README.md.
#[test]
fn every_specimen_parses_with_its_documented_counts() {
    let (s, _) = parse(&spec("ack/ACMECLIN25301.hl7.ack"), "ACMECLIN25301.hl7.ack");
    assert_eq!(
        (s.format, s.findings, s.counts.messages),
        (Format::Ack, 41, Some(40))
    );
    let (s, _) = parse(
        &spec("legacy-dqa/ACMECLIN25301.hl7.errors.txt"),
        "ACMECLIN25301.hl7.errors.txt",
    );
    assert_eq!(
        (s.format, s.counts.messages),
        (Format::LegacyErrors, Some(40))
    );
    let (s, _) = parse(
        &spec("legacy-dqa/ACMECLIN25301.hl7.report.html"),
        "ACMECLIN25301.hl7.report.html",
    );
    assert_eq!(s.format, Format::LegacyHtml);
    assert_eq!(
        (
            s.counts.accepted,
            s.counts.accepted_with_warnings,
            s.counts.rejected,
            s.counts.skipped
        ),
        (Some(17), Some(13), Some(10), Some(0))
    );
    let (s, _) = parse(
        &spec("tabular/ACMECLIN25301_DQA.csv"),
        "ACMECLIN25301_DQA.csv",
    );
    assert_eq!((s.format, s.findings), (Format::Csv, 41));
    let (s, c) = parse(
        &spec("tabular/DQA_Report_2025-10-28.xlsx"),
        "DQA_Report_2025-10-28.xlsx",
    );
    assert_eq!((s.format, s.findings), (Format::Xlsx, 40));
    assert_eq!(c.findings.iter().filter(|f| f.code.is_some()).count(), 40);
    let (s, _) = parse(
        &spec("cnf/ACMECLIN_CNF_20251028.csv"),
        "ACMECLIN_CNF_20251028.csv",
    );
    assert_eq!((s.kind, s.consent_rows), (Kind::Cnf, 9));
}

#[test]
fn ack_with_lf_endings_and_no_batch_wrappers_gives_the_same_findings() {
    let orig = spec("ack/ACMECLIN25301.hl7.ack");
    let (a, ca) = parse(&orig, "a.ack");
    let text = String::from_utf8(orig).unwrap();
    let unwrapped: String = text
        .split('\r')
        .filter(|s| !s.is_empty() && !["FHS", "BHS", "BTS", "FTS"].contains(&&s[..3]))
        .map(|s| format!("{s}\n"))
        .collect();
    let (b, cb) = parse(unwrapped.as_bytes(), "b.ack");
    assert_eq!(a.findings, b.findings);
    assert_eq!(a.by_severity, b.by_severity);
    assert_eq!(ca.findings, cb.findings);
    let crlf = unwrapped.replace('\n', "\r\n");
    let (c, _) = parse(crlf.as_bytes(), "c.ack");
    assert_eq!(c.findings, 41);
}

#[test]
fn csv_with_columns_reordered_renamed_and_title_rows() {
    let orig = String::from_utf8(spec("tabular/ACMECLIN25301_DQA.csv")).unwrap();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(orig.as_bytes());
    let rows: Vec<Vec<String>> = rdr
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    // reorder: Message, Code, Severity, HL7 Field, Message Control ID, Patient ID; rename headers
    let order = [9, 8, 7, 6, 1, 2];
    let names = [
        "Error Description",
        "Error Code",
        "Level",
        "Segment-Field",
        "MSH-10",
        "MRN",
    ];
    let mut out = String::from("Texas Immunization Registry\tDQA listing\n\n");
    out.push_str(&names.join("\t"));
    out.push('\n');
    for r in &rows[1..] {
        let cells: Vec<&str> = order.iter().map(|&i| r[i].as_str()).collect();
        out.push_str(&cells.join("\t"));
        out.push('\n');
    }
    let (s, c) = parse(out.as_bytes(), "renamed.tsv");
    assert_eq!(s.format, Format::Tsv);
    assert_eq!(s.findings, 41);
    assert_eq!(s.by_severity, [11, 26, 4]);
    let (_, orig_c) = parse(orig.as_bytes(), "ACMECLIN25301_DQA.csv");
    for (a, b) in c.findings.iter().zip(&orig_c.findings) {
        assert_eq!(
            (
                &a.field,
                &a.code,
                &a.severity,
                &a.message_control_id,
                &a.patient_ref
            ),
            (
                &b.field,
                &b.code,
                &b.severity,
                &b.message_control_id,
                &b.patient_ref
            )
        );
    }
    // pipe-delimited with only the optional-free core columns
    let pipe: String = std::iter::once("Field|Message".to_string())
        .chain(rows[1..].iter().map(|r| format!("{}|{}", r[6], r[9])))
        .collect::<Vec<_>>()
        .join("\n");
    let (s, c) = parse(pipe.as_bytes(), "p.txt");
    assert_eq!((s.format, s.findings), (Format::Pipe, 41));
    assert!(
        c.findings
            .iter()
            .all(|f| f.message_control_id.is_none() && f.field.is_some())
    );
}

#[test]
fn spreadsheet_with_title_row_fill_down_and_run_together_codes() {
    let data = xlsx(&[
        vec!["ACME Pediatrics - ImmTrac2 submissions"],
        vec![],
        vec!["Acct", "Patname", "Desc", "Location", "Senton"],
        vec![
            "9001",
            "DOE, JANE",
            "Message Rejected - CLR-101::Client rejected. consent flag not valid for client age IEE-519::Warning. NK1 Segment/Responsible person, missing.",
            "RA",
            "10/28/2025",
        ],
        vec![
            "",
            "",
            "Message Rejected - IMR-110::Immunization rejected. This immunization matches another immunization in incoming file.",
            "RA",
            "",
        ],
        vec![
            "9002",
            "ROE, RICHARD",
            "Sent Successfully - ",
            "LA",
            "10/28/2025",
        ],
    ]);
    let (s, c) = parse(&data, "export.xlsx");
    assert_eq!((s.format, s.kind), (Format::Xlsx, Kind::Dqa));
    assert_eq!(s.findings, 3);
    assert_eq!(s.by_severity, [2, 1, 0]);
    assert_eq!(
        c.findings[2].patient_ref.as_deref(),
        Some("9001"),
        "filled down"
    );
    assert_eq!(c.findings[0].field.as_deref(), Some("PD1-12"));
    assert_eq!(c.findings[1].field.as_deref(), Some("NK1"));
    assert_eq!(c.findings[2].code.as_deref(), Some("IMR-110"));
}

#[test]
fn consent_file_variants() {
    // pipe-delimited, other names, full-name column, US dates, reason only as text
    let text = "Consent Notification File\nMRN|Patient Name|DOB|Consent|Affirmation Date|Reason\nA1|DOE, JANE Q|7/4/2010|TXA|2025-01-01|Client rejected. consent flag not valid for client age\nA2|ROE, RICK|1990-02-03|TXD|20250101|Standard consent required for retaining non-disaster immunizations IMR-132\n";
    let opts = ParseOptions {
        kind_hint: Some(Kind::Cnf),
        ..ParseOptions::default()
    };
    let mut c = Collect::all();
    let s = parse_bytes(text.as_bytes(), "cnf.txt", &opts, &mut c).unwrap();
    assert_eq!((s.kind, s.consent_rows), (Kind::Cnf, 2));
    let a = &c.consent[0];
    assert_eq!(
        (
            a.last_name.as_deref(),
            a.first_name.as_deref(),
            a.middle_name.as_deref()
        ),
        (Some("DOE"), Some("JANE"), Some("Q"))
    );
    assert_eq!(a.dob, chrono::NaiveDate::from_ymd_opt(2010, 7, 4));
    assert_eq!(a.status, ConsentStatus::WrongTypeForAge);
    assert_eq!(c.consent[1].reason_code.as_deref(), Some("IMR-132"));
    assert_eq!(c.consent[1].status, ConsentStatus::StandardConsentRequired);
    // as a spreadsheet with a title row
    let data = xlsx(&[
        vec!["Consent notices 2025-10-28"],
        vec![
            "Patient ID",
            "Last Name",
            "First Name",
            "Date of Birth",
            "Consent Code Sent",
            "Consent Date Sent",
            "Reason Code",
            "Reason",
        ],
        vec![
            "M9",
            "SMITH",
            "AL",
            "20150101",
            "TXY",
            "2025-13-40",
            "CLR-105",
            "Invalid affirmation date format",
        ],
    ]);
    let mut c = Collect::all();
    let s = parse_bytes(&data, "cnf.xlsx", &opts, &mut c).unwrap();
    assert_eq!(s.consent_rows, 1);
    assert_eq!(
        c.consent[0].consent_date, None,
        "invalid date kept raw only"
    );
    assert_eq!(c.consent[0].consent_date_raw.as_deref(), Some("2025-13-40"));
    assert_eq!(c.consent[0].status, ConsentStatus::BadDate);
}

#[test]
fn unreadable_files_say_why() {
    let cases: &[(&[u8], &str, &str)] = &[
        (b"", "empty.csv", "empty.csv: the file is empty"),
        (b"%PDF-1.7 ...", "r.pdf", "r.pdf: a PDF document"),
        (
            b"just some words\nwithout structure\n",
            "notes.txt",
            "notes.txt: not a recognised shape",
        ),
        (
            b"Name,Age\nAl,3\n",
            "people.csv",
            "people.csv: csv file: no header row with a recognisable field, code or message column in the first 20 rows",
        ),
        (
            b"PK\x03\x04garbage",
            "bad.xlsx",
            "bad.xlsx: xlsx file: cannot open the workbook",
        ),
        (b"Message 1\nhello\n", "x.errors.txt", ""),
    ];
    for (data, name, want) in cases {
        let r = parse_bytes(data, name, &ParseOptions::default(), &mut Discard);
        match r {
            Err(e) => {
                assert!(e.is_quarantine(), "{e}");
                assert!(e.to_string().starts_with(want), "{e} (want {want})");
            }
            Ok(s) => assert!(want.is_empty(), "{name} parsed: {s:?}"),
        }
    }
}

/// Byte strings shaped to reach each parser, then arbitrary.
fn shaped(prefix: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..2048).prop_map(move |tail| [prefix, &tail].concat())
}

fn mutated(specimen: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let base = spec(specimen);
    let len = base.len();
    (
        proptest::collection::vec((0..len, any::<u8>()), 0..40),
        0..=len,
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(move |(flips, cut, insert)| {
            let mut b = base.clone();
            for (i, v) in flips {
                b[i] = v;
            }
            b.truncate(cut.max(1));
            let at = b.len() / 2;
            b.splice(at..at, insert);
            b
        })
}

/// A spreadsheet listing stored uncompressed, so mutations reach the cell XML.
fn listing_xlsx() -> Vec<u8> {
    fn col(i: usize) -> String {
        ((b'A' + i as u8) as char).to_string()
    }
    let mut rows = vec![vec!["Field", "Severity", "Code", "Message"]];
    for _ in 0..20 {
        rows.push(vec![
            "PID-11",
            "Warning",
            "IEE-998",
            "Warning. Invalid address.",
        ]);
    }
    xlsx_stored(&rows, col)
}

/// A corrupted cell reference (`AAAAAAAAAAAAAAAA1`) makes calamine overflow (a panic in debug
/// builds): the file is unreadable, with a reason, and the caller goes on.
#[test]
fn a_parser_panic_becomes_an_unreadable_file_with_a_reason() {
    fn long_col(i: usize) -> String {
        if i == 1 {
            "A".repeat(16)
        } else {
            ((b'A' + i as u8) as char).to_string()
        }
    }
    let data = xlsx_stored(
        &[
            vec!["Field", "Severity", "Code", "Message"],
            vec!["PID-11", "Warning", "IEE-998", "x"],
        ],
        long_col,
    );
    let err = parse_bytes(&data, "bad.xlsx", &ParseOptions::default(), &mut Discard).unwrap_err();
    assert!(err.is_quarantine(), "{err}");
    let reason = err.to_string();
    assert!(
        reason.starts_with("bad.xlsx: the parser failed on this file's content ("),
        "{reason}"
    );
    // the reason says where: in the library, by crate and file
    assert!(reason.contains("calamine-0.38.0/src/xlsx/"), "{reason}");
    // the next file parses normally on the same thread
    assert!(
        parse_bytes(
            &listing_xlsx(),
            "ok.xlsx",
            &ParseOptions::default(),
            &mut Discard
        )
        .is_ok()
    );
}

/// No input may panic our parsers: a panic is contained as an unreadable file, so the test
/// looks at the reason; only a library's (calamine's overflow on corrupted cell references)
/// is tolerated, as a quarantine.
fn no_panic(data: &[u8], name: &str) {
    for hint in [None, Some(Kind::Cnf)] {
        let opts = ParseOptions {
            kind_hint: hint,
            ..ParseOptions::default()
        };
        if let Err(e) = parse_bytes(data, name, &opts, &mut Discard) {
            let reason = e.to_string();
            assert!(
                !reason.contains("the parser failed") || reason.contains("calamine-"),
                "a parser of ours panicked: {reason}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        no_panic(&data, "x.bin");
    }

    #[test]
    fn shaped_garbage_never_panics(
        ack in shaped(b"MSH|^~\\&|A|B\rMSA|AE|1\rERR|"),
        errs in shaped(b"Message 1\nMSH|^~\\&|\nErrors:\n + "),
        html in shaped(b"<html><table><tr><th>Description</th><th>Count</th></tr><tr><td>"),
        csv in shaped(b"Field,Message,Code,Severity\n"),
        cnf in shaped(b"Patient ID,Reason Code,Consent Code,DOB\n"),
        zip in shaped(b"PK\x03\x04"),
    ) {
        no_panic(&ack, "x.ack");
        no_panic(&errs, "x.errors.txt");
        no_panic(&html, "x.html");
        no_panic(&csv, "x.csv");
        no_panic(&cnf, "x.csv");
        no_panic(&zip, "x.xlsx");
    }

    #[test]
    fn mutated_specimens_never_panic(
        a in mutated("ack/ACMECLIN25301.hl7.ack"),
        e in mutated("legacy-dqa/ACMECLIN25301.hl7.errors.txt"),
        h in mutated("legacy-dqa/ACMECLIN25301.hl7.report.html"),
        c in mutated("tabular/ACMECLIN25301_DQA.csv"),
        x in mutated("tabular/DQA_Report_2025-10-28.xlsx"),
        n in mutated("cnf/ACMECLIN_CNF_20251028.csv"),
        flips in proptest::collection::vec((0usize..1_000_000, any::<u8>()), 1..8),
    ) {
        let mut s = listing_xlsx();
        let len = s.len();
        for (i, v) in flips {
            s[i % len] = v;
        }
        no_panic(&s, "s.xlsx");
        no_panic(&a, "a.ack");
        no_panic(&e, "e.errors.txt");
        no_panic(&h, "h.report.html");
        no_panic(&c, "c.csv");
        no_panic(&x, "x.xlsx");
        no_panic(&n, "n.csv");
    }
}
