//! The per-site scorecard (`immdqa score`, the formula of the README) and the volume and
//! product alerts of `check`, from sent batches and their answers.

use std::collections::HashMap;
use std::fs;

use crate::util::*;

/// A message at `site`, given on `given`, sent on `sent`: `full` carries every field a
/// registry relies on, else only the required ones.
fn message(cid: &str, site: &str, given: &str, sent: &str, full: bool, cvx: &str) -> String {
    if full {
        format!(
            "MSH|^~\\&|EHR|ACME|TXImmTrac|TxDSHS|{sent}||VXU^V04^VXU_V04|{cid}|P|2.5.1\r\
PID|1||MRN{cid}^^^ACME^MR||DOE^ANA||20150508|F|||1 MAIN ST^^AUSTIN^TX^78701||^PRN^PH^^^512^5551234\r\
PD1||||||||||||TXY|20250101\r\
NK1|1|DOE^PARENT|MTH\r\
ORC|RE||{cid}|||||||||1234567^DOC\r\
RXA|0|1|{given}|{given}|{cvx}^X^CVX|0.5|mL||00|PRV1^DOC^A|^^^{site}||||U12345A|20261231|PMC^^MVX|||CP|A\r\
RXR|C28161^IM^NCIT|LD^Left Deltoid^HL70163\r\
OBX|1|CE|64994-7^Eligibility^LN|1|V02^VFC^HL70064||||||F|||{given}\r\
OBX|2|CE|30963-3^Funding^LN|2|VXC50^Public^CDCPHINVS||||||F|||{given}\r"
        )
    } else {
        format!(
            "MSH|^~\\&|EHR|ACME|TXImmTrac|TxDSHS|{sent}||VXU^V04^VXU_V04|{cid}|P|2.5.1\r\
PID|1||MRN{cid}^^^ACME^MR||ROE^BO||20150508|M\r\
ORC|RE||{cid}\r\
RXA|0|1|{given}|{given}|{cvx}^X^CVX|0.5|mL||00||^^^{site}\r"
        )
    }
}

fn batch(messages: &[String]) -> String {
    format!(
        "FHS|^~\\&|EHR\rBHS|^~\\&|EHR\r{}BTS|{}\rFTS|1\r",
        messages.concat(),
        messages.len()
    )
}

fn json(o: &std::process::Output) -> Vec<serde_json::Value> {
    serde_json::from_slice::<serde_json::Value>(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(o), stderr(o)))
        .as_array()
        .unwrap()
        .clone()
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The README's field weights (the legacy DQA's tiers).
fn field_weight(name: &str) -> f64 {
    match name {
        "lot" | "mvx" => 10.0,
        "expiry"
        | "route"
        | "body_site"
        | "administering_provider"
        | "vfc_eligibility"
        | "funding_source" => 6.0,
        _ => 4.0,
    }
}

const FIELDS: [&str; 14] = [
    "lot",
    "expiry",
    "mvx",
    "ndc",
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
];

#[test]
fn the_scorecard_follows_the_readme_formula_per_site() {
    let ws = Workspace::local();
    let sent = "20251028";
    let msgs = [
        message("N1", "NORTH", "20251027", sent, true, "115"),
        message("N2", "NORTH", "20251020", sent, false, "115"),
        message("S1", "SOUTH", "20251027", sent, true, "115"),
        message("S2", "SOUTH", "20250901", sent, true, "115"),
    ];
    let p = ws.path().join("ACME25301.hl7");
    fs::write(&p, batch(&msgs)).unwrap();
    ws.cmd(&["import", "--sent", p.to_str().unwrap()]).code(0);
    let score = |ws: &Workspace| ws.run(&["score", "--week", "2025-W44", "--format", "json"]);

    // no answer yet: acceptance is unknown, and so is the score (exit 1), with the reason
    let o = score(&ws);
    assert_code(&o, 1);
    let rows = json(&o);
    assert_eq!(rows.len(), 2, "{rows:?}");
    for r in &rows {
        assert!(r["score"].is_null(), "{r}");
        assert_eq!(r["band"], "unknown");
        assert!(
            r["note"].as_str().unwrap().contains("unknown: acceptance"),
            "{r}"
        );
    }
    // a part weighed 0 is left out: the score is known without answers
    let cfg = fs::read_to_string(ws.config()).unwrap();
    fs::write(ws.config(), format!("{cfg}\n[score]\nacceptance = 0\n")).unwrap();
    let rows = json(&score(&ws));
    assert!(rows.iter().all(|r| r["score"].is_f64()), "{rows:?}");
    // a negative weight is refused, naming the file and the weight
    fs::write(ws.config(), format!("{cfg}\n[score]\nvalidity = -1\n")).unwrap();
    let o = score(&ws);
    assert!(o.status.code() != Some(0), "{}", stdout(&o));
    assert!(stderr(&o).contains("[score] validity"), "{}", stderr(&o));
    assert!(stderr(&o).contains("config.toml"), "{}", stderr(&o));
    fs::write(ws.config(), &cfg).unwrap();

    // the answer: N2 rejected, the others accepted
    let ack = ws.path().join("ACME25301.hl7.ack");
    let a = |cid: &str, status: &str| {
        format!(
            "MSH|^~\\&|ImmTrac|TEXIIS||ACME|{sent}||ACK^V04^ACK|A{cid}|P|2.5.1\rMSA|{status}|{cid}\r"
        )
    };
    fs::write(
        &ack,
        format!(
            "FHS|^~\\&|ImmTrac|TEXIIS||ACME|{sent}||ACME25301.hl7.ack\r{}{}{}{}FTS|1\r",
            a("N1", "AA"),
            a("N2", "AR"),
            a("S1", "AA"),
            a("S2", "AA")
        ),
    )
    .unwrap();
    ws.cmd(&["import", ack.to_str().unwrap()]).code(0);

    // what lint finds, per site (by control id, as the test wrote them)
    let o = ws.run(&["lint", p.to_str().unwrap(), "--format", "json"]);
    let lint = json(&o);
    let mut found: HashMap<&str, (f64, f64)> = HashMap::new();
    for i in lint[0]["report"]["lint"].as_array().unwrap() {
        let site = if i["control_id"].as_str().unwrap().starts_with('N') {
            "NORTH"
        } else {
            "SOUTH"
        };
        let e = found.entry(site).or_default();
        match i["level"].as_str().unwrap() {
            "Error" => e.0 += 1.0,
            _ => e.1 += 1.0,
        }
    }
    assert!(
        found["NORTH"].0 + found["NORTH"].1 > 0.0,
        "the bare message has findings"
    );
    // completeness per site, as `immdqa completeness` shows it
    let comp = json(&ws.run(&["completeness", "--week", "2025-W44", "--format", "json"]));

    let o = score(&ws);
    let rows = json(&o);
    assert_eq!(rows.len(), 2);
    for r in &rows {
        let site = r["site"].as_str().unwrap();
        assert_eq!(r["messages"], 2, "{r}");
        assert_eq!(r["doses"], 2, "{r}");
        let (acceptance, timeliness) = match site {
            // N1 the next day (1.0), N2 8 days later (0.7); one of two rejected
            "NORTH" => (50.0, 85.0),
            // S1 the next day, S2 57 days later (0); both accepted
            _ => (100.0, 50.0),
        };
        assert_eq!(f(&r["acceptance"]), acceptance, "{r}");
        assert_eq!(f(&r["timeliness"]), timeliness, "{r}");
        let c = comp.iter().find(|c| c["site"] == site).unwrap();
        let (mut sum, mut weight) = (0.0, 0.0);
        for name in FIELDS {
            if let Some(share) = c[name].as_f64() {
                sum += field_weight(name) * share;
                weight += field_weight(name);
            }
        }
        assert!(
            (f(&r["completeness"]) - sum / weight).abs() < 0.051,
            "{r} {c}"
        );
        let (e, w) = found.get(site).copied().unwrap_or_default();
        let (e, w) = (e * 1000.0 / 2.0, w * 1000.0 / 2.0);
        assert_eq!(f(&r["lint_errors_per_1000"]), e, "{r}");
        assert_eq!(f(&r["lint_warnings_per_1000"]), w, "{r}");
        let validity = (100.0 - e / 10.0 - w / 40.0).max(0.0);
        assert!((f(&r["validity"]) - validity).abs() < 0.051, "{r}");
        let want =
            (28.0 * acceptance + 50.0 * sum / weight + 10.0 * timeliness + 12.0 * validity) / 100.0;
        assert!(
            (f(&r["score"]) - want).abs() < 0.051,
            "{site}: {r}, want {want}"
        );
        let band = match want {
            s if s >= 90.0 => "Excellent",
            s if s >= 80.0 => "Good",
            s if s >= 70.0 => "Okay",
            s if s >= 60.0 => "Poor",
            _ => "Problem",
        };
        assert_eq!(r["band"], band, "{r}");
    }
    let north = rows.iter().find(|r| r["site"] == "NORTH").unwrap();
    let south = rows.iter().find(|r| r["site"] == "SOUTH").unwrap();
    assert!(f(&north["score"]) < f(&south["score"]), "{north} {south}");
    // --site keeps one; the export writes the same rows
    let o = ws.run(&[
        "score", "--week", "2025-W44", "--site", "SOUTH", "--format", "json",
    ]);
    assert_eq!(json(&o).len(), 1);
    let out = ws.path().join("score.csv");
    ws.cmd(&[
        "export",
        "score",
        "--since",
        "2025-W44",
        "--until",
        "2025-W44",
        "--out",
        out.to_str().unwrap(),
    ])
    .code(0);
    let csv = fs::read_to_string(&out).unwrap();
    assert!(
        csv.starts_with("week,week_start,site,messages,doses,acceptance"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 3, "{csv}");
    // the chart draws it
    let svg = ws.path().join("score.svg");
    ws.cmd(&[
        "chart",
        "score",
        "--since",
        "2025-W40",
        "--until",
        "2025-W44",
        "--out",
        svg.to_str().unwrap(),
    ])
    .code(0);
    let svg = fs::read_to_string(&svg).unwrap();
    assert!(svg.contains("NORTH") && svg.contains("SOUTH"), "{svg:.300}");
}

/// Four steady weeks, then a week where NORTH sends nothing, SOUTH a quarter of its usual
/// volume, and a vaccine no earlier batch held.
#[test]
fn check_alerts_on_a_silent_site_a_volume_drop_and_a_new_product() {
    let ws = Workspace::local();
    let cfg = fs::read_to_string(ws.config()).unwrap();
    fs::write(
        ws.config(),
        format!("{cfg}\n[thresholds]\nmin_usual_messages = 2\n"),
    )
    .unwrap();
    // 2025 days 273, 280, …: Tuesdays of weeks 40 to 45
    for (k, day) in [273, 280, 287, 294, 301, 308].into_iter().enumerate() {
        let date = chrono::NaiveDate::from_yo_opt(2025, day).unwrap();
        let d = date.format("%Y%m%d").to_string();
        let msgs: Vec<String> = if k < 5 {
            (0..4)
                .flat_map(|i| {
                    [
                        message(&format!("N{k}{i}"), "NORTH", &d, &d, true, "115"),
                        message(&format!("S{k}{i}"), "SOUTH", &d, &d, true, "115"),
                    ]
                })
                .collect()
        } else {
            vec![message("S50", "SOUTH", &d, &d, true, "03")]
        };
        let p = ws.path().join(format!("ACME25{day}.hl7"));
        fs::write(&p, batch(&msgs)).unwrap();
        ws.cmd(&["import", "--sent", p.to_str().unwrap()]).code(0);
    }
    // a steady week: nothing to say
    let o = ws.cmd(&["check", "--week", "2025-W44"]);
    let out = o.out();
    for ok in ["OK: site_silent", "OK: volume_drop", "OK: new_product"] {
        assert!(out.contains(ok), "{ok}: {out}");
    }
    // the week that changed
    let o = ws.cmd(&["check", "--week", "2025-W45"]);
    let out = o.out();
    assert!(o.0.status.code().unwrap() >= 1, "{out}");
    let line = |name: &str| {
        out.lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name}: {out}"))
            .to_string()
    };
    let silent = line("site_silent:");
    assert!(
        silent.starts_with("WARN") && silent.contains("NORTH (usually 4)"),
        "{silent}"
    );
    assert!(!silent.contains("SOUTH"), "{silent}");
    let drop = line("volume_drop:");
    assert!(
        drop.starts_with("WARN") && drop.contains("SOUTH 1 messages (usually 4)"),
        "{drop}"
    );
    let new = line("new_product:");
    assert!(new.starts_with("WARN") && new.contains("03 (MMR)"), "{new}");
    assert!(!new.contains("115"), "{new}");
    // no site sends enough to be judged: unknown, never OK
    fs::write(
        ws.config(),
        format!("{cfg}\n[thresholds]\nmin_usual_messages = 100\n"),
    )
    .unwrap();
    let out = ws.cmd(&["check", "--week", "2025-W45"]).out();
    assert!(
        out.contains("UNKNOWN: site_silent: no site sent a median of 100"),
        "{out}"
    );
    assert!(out.contains("UNKNOWN: volume_drop"), "{out}");
    // usual_weeks = 0 turns the volume alerts off
    fs::write(
        ws.config(),
        format!("{cfg}\n[thresholds]\nmin_usual_messages = 2\nusual_weeks = 0\nwarn_new_products = false\n"),
    )
    .unwrap();
    let out = ws.cmd(&["check", "--week", "2025-W45"]).out();
    assert!(
        !out.contains("site_silent")
            && !out.contains("volume_drop")
            && !out.contains("new_product"),
        "{out}"
    );
}
