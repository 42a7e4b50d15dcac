//! Knowing vaccines: completeness of what was sent (the fields a registry relies on, kept
//! per dose as present or not), and vaccine names beside codes.

use std::fs;

use crate::util::*;

/// Two administered doses at one site — one carrying every field, one carrying none of the
/// optional ones — plus a historical dose and a refusal (neither counts).
fn batch() -> String {
    let full = "MSH|^~\\&|EHR|ACME|TXImmTrac|TxDSHS|20251028||VXU^V04^VXU_V04|F1|P|2.5.1\r\
PID|1||MRN1^^^ACME^MR||DOE^ANA||20150508|F|||1 MAIN ST^^AUSTIN^TX^78701||^PRN^PH^^^512^5551234\r\
PD1||||||||||||TXY|20250101\r\
NK1|1|DOE^PARENT|MTH\r\
ORC|RE||F1|||||||||1234567^DOC\r\
RXA|0|1|20251027|20251027|115^Tdap^CVX|0.5|mL||00|PRV1^DOC^A|^^^NORTH||||U12345A|20261231|PMC^^MVX|||CP|A\r\
RXR|C28161^IM^NCIT|LD^Left Deltoid^HL70163\r\
OBX|1|CE|64994-7^Eligibility^LN|1|V02^VFC^HL70064||||||F|||20251027\r\
OBX|2|CE|30963-3^Funding^LN|2|VXC50^Public^CDCPHINVS||||||F|||20251027\r";
    let bare = "MSH|^~\\&|EHR|ACME|TXImmTrac|TxDSHS|20251028||VXU^V04^VXU_V04|B1|P|2.5.1\r\
PID|1||MRN2^^^ACME^MR||ROE^BO||20150508|M\r\
ORC|RE||B1\r\
RXA|0|1|20251027|20251027|115^Tdap^CVX|0.5|mL||00||^^^NORTH\r";
    let historical = "MSH|^~\\&|EHR|ACME|TXImmTrac|TxDSHS|20251028||VXU^V04^VXU_V04|H1|P|2.5.1\r\
PID|1||MRN3^^^ACME^MR||ROE^CY||20150508|M\r\
RXA|0|1|20200101|20200101|20^DTaP^CVX|999|||01^Historical^NIP001||^^^NORTH\r";
    let refused = "MSH|^~\\&|EHR|ACME|TXImmTrac|TxDSHS|20251028||VXU^V04^VXU_V04|R1|P|2.5.1\r\
PID|1||MRN4^^^ACME^MR||ROE^DI||20150508|M\r\
RXA|0|1|20251027|20251027|115^Tdap^CVX|999|||00||^^^NORTH|||||||||RE|A\r";
    format!("FHS|^~\\&|EHR\rBHS|^~\\&|EHR\r{full}{bare}{historical}{refused}BTS|4\rFTS|1\r")
}

#[test]
fn completeness_counts_each_field_of_administered_doses() {
    let ws = Workspace::local();
    let p = ws.path().join("ACME25301.hl7");
    fs::write(&p, batch()).unwrap();
    ws.cmd(&["import", "--sent", p.to_str().unwrap()]).code(0);
    let o = ws
        .cmd(&["completeness", "--week", "2025-W44", "--format", "json"])
        .code(0);
    let v: serde_json::Value = serde_json::from_slice(&o.0.stdout).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{v}");
    let r = &rows[0];
    assert_eq!(r["site"], "NORTH");
    assert_eq!(r["doses"], 2, "historical and refused doses do not count");
    for f in [
        "lot",
        "expiry",
        "mvx",
        "route",
        "body_site",
        "administering_provider",
        "ordering_provider",
        "vfc_eligibility",
        "funding_source",
        "consent",
        "address",
        "phone",
        "nk1_minors",
    ] {
        assert_eq!(r[f], 50.0, "{f}: {r}");
    }
    assert_eq!(r["ndc"], 0.0);
    // by vaccine: the code with its name
    ws.cmd(&[
        "completeness",
        "--week",
        "2025-W44",
        "--by",
        "vaccine",
        "--format",
        "csv",
    ])
    .out_has("115 Tdap");
    // by vaccine group: CDC's vac2vg groups, the doses of their vaccines summed
    let o = ws.cmd(&[
        "completeness",
        "--week",
        "2025-W44",
        "--by",
        "group",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.0.stdout).unwrap();
    let groups: Vec<(String, i64)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["vaccine_group"].as_str().unwrap().to_string(),
                r["doses"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(
        groups.iter().any(|(g, n)| g == "TDAP" && *n == 2),
        "{groups:?}"
    );
    // vaccine groups are a breakdown of their own: each group's messages are those of its
    // vaccines (here Tdap, CVX 115, in CDC's TDAP group)
    let rows = |args: &[&str]| -> Vec<serde_json::Value> {
        let o = ws.cmd(args).code(0);
        serde_json::from_slice::<serde_json::Value>(&o.0.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    };
    let by_vaccine = rows(&["submissions", "--by", "vaccine", "--format", "json"]);
    let by_group = rows(&["submissions", "--by", "vaccine-group", "--format", "json"]);
    let tdap = by_vaccine.iter().find(|r| r["vaccine"] == "115").unwrap();
    let group = by_group
        .iter()
        .find(|r| r["vaccine_group"] == "TDAP")
        .unwrap_or_else(|| panic!("{by_group:?}"));
    assert_eq!(group["messages"], tdap["messages"], "{group} {tdap}");
    // the worklist names the vaccine
    ws.cmd(&["worklist", "--all", "--format", "json"]).code(0);
}

/// The demo's EAST CLINIC leaves lot numbers empty: completeness shows 0 % there and 100 %
/// elsewhere, and lint names the vaccine in its fix.
#[test]
fn the_demo_shows_a_site_without_lots() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d");
    immdqa()
        .args(["demo", "--weeks", "4", "--out"])
        .arg(&out)
        .exec()
        .code(0);
    let cfg = out.join("immdqa-demo.toml");
    let o = immdqa()
        .arg("--config")
        .arg(&cfg)
        .args(["completeness", "--since", "2000-01-01", "--format", "json"])
        .exec();
    let v: serde_json::Value = serde_json::from_slice(&o.0.stdout).unwrap();
    let lot = |site: &str| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .filter(|r| r["site"] == site)
            .map(|r| r["lot"].as_f64().unwrap())
            .collect()
    };
    assert!(!lot("EAST CLINIC").is_empty() && lot("EAST CLINIC").iter().all(|x| *x == 0.0));
    assert!(lot("NORTH CLINIC").iter().all(|x| *x == 100.0), "{v}");
    // the scorecard: EAST CLINIC's missing lots cost it completeness and validity, every week
    let o = immdqa()
        .arg("--config")
        .arg(&cfg)
        .args(["score", "--since", "2000-01-01", "--format", "json"])
        .exec();
    let v: serde_json::Value = serde_json::from_slice(&o.0.stdout).unwrap();
    let part = |site: &str, week: &serde_json::Value, name: &str| -> f64 {
        v.as_array()
            .unwrap()
            .iter()
            .find(|r| r["site"] == site && &r["week"] == week)
            .and_then(|r| r[name].as_f64())
            .unwrap_or(f64::NAN)
    };
    let weeks: Vec<&serde_json::Value> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["site"] == "EAST CLINIC")
        .map(|r| &r["week"])
        .collect();
    assert!(weeks.len() >= 4, "{v}");
    for w in weeks {
        for name in ["completeness", "validity"] {
            assert!(
                part("EAST CLINIC", w, name) < part("NORTH CLINIC", w, name),
                "{name} in {w}: {v}"
            );
        }
    }
    // the report shows the scorecard and the completeness per site, with their CSVs
    let html = fs::read_to_string(out.join("report/index.html")).unwrap();
    assert!(html.contains("Scorecard per site this week"), "{html:.300}");
    assert!(html.contains("Completeness per site this week"));
    let at = html
        .find("Acceptance per vaccine this week")
        .expect("the vaccines table");
    let table = &html[at..at + html[at..].find("</table>").unwrap()];
    for name in ["Tdap", "HPV9", "DTaP", "MMR"] {
        assert!(table.contains(name), "{name}: {table}");
    }
    assert!(html.contains("id=\"chart-score\""));
    let csv = fs::read_to_string(out.join("report/score.csv")).unwrap();
    assert!(
        csv.contains("EAST CLINIC") && csv.contains("NORTH CLINIC"),
        "{csv}"
    );
    let batch = fs::read_dir(out.join("mailbox/Accepted"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .next()
        .unwrap();
    immdqa()
        .arg("--config")
        .arg(&cfg)
        .arg("lint")
        .arg(&batch)
        .exec()
        .out_has("RXA-15 lot number is missing for CVX");
}

/// A dose the registry already accepted (same patient, vaccine and date in the ledger) in an
/// earlier batch is a warning before it is sent again; a dose it has not is not.
#[test]
fn a_dose_already_accepted_is_flagged_before_it_is_sent_again() {
    let ws = Workspace::new();
    fs::create_dir_all(ws.mailbox().join("HL7-Dropoff")).unwrap();
    ws.write_config(&format!(
        "store = {:?}\n[profiles.t]\nlocal_dir = {:?}\nimport_code = \"ACME\"\nretries = 0\n",
        ws.store(),
        ws.mailbox()
    ));
    let sent = ws.path().join("ACME25301.hl7");
    fs::write(&sent, batch()).unwrap();
    ws.cmd(&["import", "--sent", sent.to_str().unwrap()])
        .code(0);
    let ack = ws.path().join("ACME25301.hl7.ack");
    fs::write(
        &ack,
        "FHS|^~\\&|ImmTrac|TEXIIS||ACME|20251028||ACME25301.hl7.ack\r\
MSH|^~\\&|ImmTrac|TEXIIS||ACME|20251028||ACK^V04^ACK|AF1|P|2.5.1\rMSA|AA|F1\r\
MSH|^~\\&|ImmTrac|TEXIIS||ACME|20251028||ACK^V04^ACK|AB1|P|2.5.1\rMSA|AR|B1\r\
ERR||RXA^1^17|101|E||||IMR-111::Manufacturer Code invalid.\rFTS|1\r",
    )
    .unwrap();
    ws.cmd(&["import", ack.to_str().unwrap()]).code(0);
    // the rejection's finding, by vaccine group: Tdap's (CVX 115) group
    let o = ws
        .cmd(&[
            "trends",
            "--by",
            "vaccine-group",
            "--since",
            "2025-W44",
            "--format",
            "csv",
        ])
        .code(0);
    assert!(
        o.out().lines().any(|l| l.contains(",TDAP,E,1,")),
        "{}",
        o.out()
    );
    // the same two doses again, in a new batch with new control ids
    let again = ws.path().join("again.hl7");
    fs::write(
        &again,
        batch().replace("|F1|", "|F2|").replace("|B1|", "|B2|"),
    )
    .unwrap();
    let o = ws.cmd(&[
        "upload",
        again.to_str().unwrap(),
        "--dry-run",
        "--date",
        "2025-10-29",
    ]);
    // the findings are listed on standard error, the summary on standard output
    let out = o.err();
    assert_eq!(
        out.matches("was already accepted by the registry in an earlier batch")
            .count(),
        1,
        "only the accepted dose (F1), not the rejected one (B1):\n{out}"
    );
    assert!(out.contains("CVX 115 (Tdap)"), "{out}");
}
