//! `immdqa inspect` and `immdqa explain`.

use std::path::Path;

use crate::util::*;

#[test]
fn inspect_json_has_exactly_the_documented_keys_and_specimen_counts() {
    let files = [
        "ack/ACMECLIN25301.hl7.ack",
        "legacy-dqa/ACMECLIN25301.hl7.errors.txt",
        "legacy-dqa/ACMECLIN25301.hl7.report.html",
        "tabular/ACMECLIN25301_DQA.csv",
        "tabular/DQA_Report_2025-10-28.xlsx",
        "cnf/ACMECLIN_CNF_20251028.csv",
        "hl7/ACMECLIN25301.hl7",
    ];
    let mut c = immdqa();
    c.args(["--config", "/dev/null", "inspect", "--json"]);
    for f in files {
        c.arg(Path::new(SPECIMENS).join(f));
    }
    let o = c.exec().code(4);
    let v: serde_json::Value = serde_json::from_slice(&o.0.stdout).unwrap();
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 7);
    for d in arr {
        for k in [
            "file",
            "kind",
            "format",
            "messages",
            "findings",
            "by_severity",
            "rows",
            "error",
        ] {
            assert!(d.get(k).is_some(), "missing {k} in {d}");
        }
    }
    let get = |i: usize, k: &str| arr[i][k].clone();
    assert_eq!(get(0, "kind"), "dqa");
    assert_eq!(get(0, "format"), "hl7-ack");
    assert_eq!(get(0, "messages"), 40);
    assert_eq!(get(0, "findings"), 41);
    assert_eq!(
        get(0, "by_severity"),
        serde_json::json!({"E": 11, "W": 26, "I": 4})
    );
    assert_eq!(get(1, "format"), "legacy-errors-txt");
    assert_eq!(
        get(1, "by_severity"),
        serde_json::json!({"E": 11, "W": 30, "I": 0})
    );
    assert_eq!(get(2, "messages"), 40);
    assert_eq!(get(2, "findings"), 41);
    assert_eq!(get(3, "findings"), 41);
    assert_eq!(get(4, "findings"), 40);
    assert_eq!(get(5, "kind"), "cnf");
    assert_eq!(get(5, "rows"), 9);
    assert_eq!(get(6, "kind"), "unknown");
    let err = get(6, "error");
    assert!(
        err.as_str()
            .unwrap()
            .contains("ACMECLIN25301.hl7: an HL7 file with no MSA or ERR segments"),
        "{err}"
    );
    for d in &arr[..6] {
        assert!(d["error"].is_null());
    }
}

#[test]
fn inspect_table_never_prints_patient_names() {
    let o = immdqa()
        .args(["--config", "/dev/null", "inspect"])
        .arg(Path::new(SPECIMENS).join("cnf/ACMECLIN_CNF_20251028.csv"))
        .arg(Path::new(SPECIMENS).join("tabular/ACMECLIN25301_DQA.csv"))
        .exec()
        .code(0);
    let out = o.out();
    assert!(
        out.contains("not_verified") && out.contains("IEE-571"),
        "{out}"
    );
    for name in ["LOPEZ", "OLIVIA", "WILSON", "1955-03-24", "05/08/2008"] {
        assert!(!out.contains(name), "patient data {name} printed:\n{out}");
    }
}

#[test]
fn explain_known_and_unknown_codes() {
    let o = immdqa().args(["explain", "clr-101"]).exec().code(0);
    let out = o.out();
    assert!(out.starts_with("CLR-101 (rejection)"), "{out}");
    assert!(
        out.contains("HL7 field: PD1-12") && out.contains("TXY"),
        "{out}"
    );
    // an unknown code is an "unknown" (1), not a failed run (3)
    immdqa()
        .args(["explain", "IEE-777"])
        .exec()
        .code(1)
        .out_has("IEE-777: unknown code (a warning or information message)");
    // another registry's local code (ERR-5): said to be one, and not known
    let o = immdqa().args(["explain", "101.1118"]).exec().code(1);
    assert!(
        o.out().contains("a local code of the answering registry")
            && o.out().contains("does not know what it means"),
        "{}",
        o.out()
    );
}
