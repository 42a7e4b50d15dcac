//! Answers a data quality officer can trust (issue 11): verdicts that say `unknown` or warn
//! when the data cannot tell, per-profile analysis, message status from the whole ACK, and a
//! lint that agrees with the registry in the demo.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use immdqa::analytics::week_label;
use immdqa::demo::{self, DemoOptions, generate};

use crate::util::*;

const TODAY: (i32, u32, u32) = (2026, 11, 25);
const WEEKS: u32 = 26;
const SEED: u64 = 2025;

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(TODAY.0, TODAY.1, TODAY.2).unwrap()
}

/// The default demo (26 weeks), built once for the tests that only read it.
fn demo_dir() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("demo");
        demo::run(
            &DemoOptions {
                weeks: WEEKS,
                seed: SEED,
                out: out.clone(),
                today: today(),
            },
            &mut |_| {},
        )
        .unwrap();
        (dir, out)
    })
    .1
}

fn demo_run(args: &[&str]) -> Run {
    immdqa()
        .arg("--config")
        .arg(demo_dir().join("immdqa-demo.toml"))
        .args(args)
        .exec()
}

fn demo_week(w: u32) -> chrono::NaiveDate {
    let g = generate::Options::ending_this_week(WEEKS, SEED, today());
    g.start + chrono::Duration::weeks(w as i64)
}

#[test]
fn a_week_answered_only_by_a_listing_without_counts_is_unknown_with_its_rejections() {
    // demo weeks 2, 5, 8, … are answered by a tabular listing (no message counts); week 8 is
    // the largely rejected week (IMR-109 duplicates)
    let g = generate::Options::ending_this_week(WEEKS, SEED, today());
    let w = g.rejected_week();
    assert_eq!(w % 3, 2, "the rejected week is a tabular week");
    let label = week_label(demo_week(w));
    // the sent batch (the accepted folder's copy, in the ledger) gives the batch size, so the
    // listing's rejections bound the rate: a proven failure, never OK
    let out = demo_run(&["check", "--week", &label]).code(2).out();
    assert!(
        out.contains(&format!(
            "FAIL: acceptance_rate: acceptance rate in {label}: at most"
        )),
        "{out}"
    );
    assert!(out.contains("messages without counts rejected"), "{out}");
    assert!(
        out.contains("counted from the error findings of DEMOCLIN"),
        "{out}"
    );
    assert!(!out.contains("OK: acceptance_rate"), "{out}");
    // every tabular week says unknown, none OK
    for w in (2..WEEKS).step_by(3) {
        let o = demo_run(&["check", "--week", &week_label(demo_week(w))]);
        let out = o.out();
        assert!(
            out.contains("UNKNOWN: acceptance_rate")
                || out.contains("acceptance rate in 2026-W") && out.contains(": at most"),
            "week {w}: {out}"
        );
        assert_ne!(o.0.status.code(), Some(0), "week {w}");
    }
}

#[test]
fn a_week_before_the_history_warns_no_data() {
    let before = week_label(demo_week(0) - chrono::Duration::weeks(10));
    let o = demo_run(&["check", "--week", &before]).code(1);
    assert!(
        o.out()
            .contains(&format!("WARN: data: no data for {before}")),
        "{}",
        o.out()
    );
    assert!(o.out().contains("the history starts in"), "{}", o.out());
}

#[test]
fn rising_errors_fire_in_the_demo_even_when_acceptance_fails() {
    // the last weeks: empty manufacturers climb 4% → 20%: acceptance fails and the rise warns
    let out = demo_run(&["check"]).code(2).out();
    assert!(out.contains("FAIL: acceptance_rate"), "{out}");
    assert!(
        out.contains("WARN: rising_error_rate: error rate rose 3 weeks in a row"),
        "{out}"
    );
    // the tabular week inside the streak is skipped and named, not a reset
    let skipped = week_label(demo_week(23));
    assert!(
        out.contains(&format!(
            "skipped (no message counts or no report): {skipped}"
        )),
        "{out}"
    );
    // and during the PD1-13 climb too
    demo_run(&["check", "--week", &week_label(demo_week(7))])
        .out_has("WARN: rising_error_rate: error rate rose 3 weeks in a row");
}

#[test]
fn the_demo_report_shows_every_batch_and_the_weeks_it_covers() {
    let html = fs::read_to_string(demo_dir().join("report/index.html")).unwrap();
    // 12 weeks shown, 4 of them answered by a listing without counts: the ledger knows
    // their batch sizes, so the chart draws each up to the most it allows (as `check` bounds
    // the week) instead of a grey "no counts" bar
    assert!(
        html.contains("at most, from the batch size (4 of 12)"),
        "acceptance chart bounds them"
    );
    assert!(!html.contains("no counts ("), "none left unknown");
    assert!(
        html.contains("12 of 12 weeks with reports"),
        "coverage stated"
    );
    assert!(!html.contains("all checks pass"));
    assert!(html.contains("basis"), "each check's basis on the page");
}

#[test]
fn an_empty_history_is_not_green() {
    let ws = Workspace::new();
    ws.local_config();
    let out = ws.path().join("rep");
    ws.cmd(&["report", "--out", out.to_str().unwrap()]).code(1);
    let html = fs::read_to_string(out.join("index.html")).unwrap();
    assert!(!html.contains("all checks pass"), "{html}");
    assert!(!html.contains("weeks of history"), "{html}");
    assert!(html.contains("no reports in the 12 weeks shown"), "{html}");
    assert!(html.contains("class=\"verdict warn\""), "{html}");
}

#[test]
fn changes_match_a_coded_issue_with_its_text_only_form() {
    // week 19 is answered by a legacy errors.txt (text only), week 18 by an ACK (codes)
    let g = generate::Options::ending_this_week(WEEKS, SEED, today());
    let w = 19;
    assert!(w % 5 == 4 && w % 3 != 2 && w > g.new_code_week());
    let o = demo_run(&[
        "changes",
        "--as-of",
        &demo_week(w).to_string(),
        "--format",
        "csv",
    ])
    .code(0);
    let out = o.out();
    let rxr: Vec<&str> = out.lines().filter(|l| l.contains("RXR-2")).collect();
    assert_eq!(rxr.len(), 1, "{out}");
    assert!(rxr[0].starts_with("persisting,RXR-2,IEE-575"), "{out}");
}

/// Two profiles in one store: every analysis is scoped to the selected one.
#[test]
fn analysis_is_scoped_to_the_selected_profile() {
    let ws = Workspace::new();
    let acme = ws.path().join("acme");
    let beta = ws.path().join("beta");
    for (dir, code, doy, rejected) in [(&acme, "ACME", 288, 1), (&beta, "BETA", 302, 5)] {
        fs::create_dir_all(dir.join("DQA-Reports")).unwrap();
        fs::create_dir_all(dir.join("Receive")).unwrap();
        let mut ack = String::new();
        for i in 0..10 {
            let status = if i < rejected { "AR" } else { "AA" };
            ack.push_str(&format!(
                "MSH|^~\\&|ImmTrac|TEXIIS||X|20251015||ACK^V04^ACK|{i}|P|2.5.1\rMSA|{status}|{code}{i}\r"
            ));
            if i < rejected {
                ack.push_str("ERR||RXA^1^5||E||||IMR-109::Immunization rejected. Duplicate immunization Identified.\r");
            }
        }
        fs::write(dir.join(format!("DQA-Reports/{code}25{doy}.hl7.ack")), ack).unwrap();
    }
    ws.write_config(&format!(
        "store = {:?}\n[profiles.acme]\nlocal_dir = {:?}\n[profiles.beta]\nlocal_dir = {:?}\n",
        ws.store(),
        acme,
        beta
    ));
    ws.cmd(&["--profile", "acme", "fetch"]).code(0);
    ws.cmd(&["--profile", "beta", "fetch"]).code(0);

    let o = ws
        .cmd(&["--profile", "acme", "submissions", "--format", "csv"])
        .code(0);
    assert!(
        o.out().contains("ACME25288.hl7") && !o.out().contains("BETA"),
        "{}",
        o.out()
    );
    // no profile selected, two profiles: both, with the profile as a column
    let o = ws.cmd(&["submissions", "--format", "csv"]);
    let out = o.out();
    let header: Vec<&str> = out.lines().next().unwrap().split(',').collect();
    let at = header
        .iter()
        .position(|c| *c == "profile")
        .expect("a profile column");
    let profiles: Vec<&str> = out
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(at).unwrap())
        .collect();
    assert_eq!(profiles, ["acme", "beta"], "{out}");
    let o = ws.cmd(&["trends", "--by", "code", "--format", "csv"]);
    let out = o.out();
    assert!(
        out.starts_with("week,") && out.lines().next().unwrap().contains(",profile,"),
        "{out}"
    );
    // per 1,000 messages of each profile: acme 1 of 10, beta 5 of 10
    assert!(
        out.contains(",1,10,100,acme,ACME") && out.contains(",5,10,500,beta,BETA"),
        "{out}"
    );
    let o = ws.cmd(&["--profile", "beta", "trends", "--format", "csv"]);
    assert!(
        !o.out().contains("acme") && o.out().contains(",beta,BETA"),
        "{}",
        o.out()
    );
    // check evaluates the selected profile's latest week: acme 90% passes, beta 50% fails
    ws.cmd(&["--profile", "acme", "check"])
        .code(0)
        .out_has("9 of 10 messages");
    ws.cmd(&["--profile", "beta", "check"]).code(2);
    // findings export of one profile
    let f = ws.path().join("f.csv");
    ws.cmd(&[
        "--profile",
        "acme",
        "export",
        "findings",
        "--out",
        f.to_str().unwrap(),
    ])
    .code(0);
    let csv = fs::read_to_string(&f).unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.lines().nth(1).unwrap().contains(",acme,ACME,"), "{csv}");
    // an unknown profile is an error everywhere
    for cmd in [
        &["trends"][..],
        &["submissions"],
        &["check"],
        &["changes"],
        &["consent"],
        &["chart", "trend", "--out", "x.png"],
        &["export", "findings", "--out", "x.csv"],
    ] {
        let mut args = vec!["--profile", "nosuch"];
        args.extend_from_slice(cmd);
        let o = ws.cmd(&args).code(3);
        assert!(o.err().contains("nosuch"), "{cmd:?}: {}", o.err());
    }
}

#[test]
fn inspect_classifies_every_ack_shape_and_always_carries_every_key() {
    let ws = Workspace::new();
    let dir = ws.path().join("acks");
    fs::create_dir_all(&dir).unwrap();
    let files = [
        (
            "ae_e.ack",
            "MSH|^~\\&|CAIR|CAIR||X|20250101||ACK^V04^ACK|1|P|2.5.1\rMSA|AE|M1\rERR||RXA^1^5|103^Table value not found^HL70357|E|5^Table value not found^HL70533|||Message rejected\r",
        ),
        (
            "rsp.hl7",
            "MSH|^~\\&|IIS|IIS||X|20250101||RSP^K11^RSP_K11|1|P|2.5.1\rMSA|AA|Q1\rQAK|Q1|OK\r",
        ),
        ("answer.json", "{\"messages\": [{\"status\": \"AA\"}]}"),
    ];
    let mut paths = Vec::new();
    for (name, body) in files {
        let p = dir.join(name);
        fs::write(&p, body).unwrap();
        paths.push(p.to_string_lossy().into_owned());
    }
    let mut args = vec!["inspect", "--json"];
    args.extend(paths.iter().map(String::as_str));
    ws.local_config();
    let o = ws.cmd(&args);
    let v: serde_json::Value = serde_json::from_slice(&o.0.stdout).unwrap();
    for doc in v.as_array().unwrap() {
        let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
        for k in immdqa::cli::commands::inspect::JSON_KEYS {
            assert!(keys.iter().any(|x| *x == k), "{k} missing in {doc}");
        }
    }
    assert_eq!(v[0]["rejected"], 1, "AE + E is a rejection");
    assert_eq!(v[0]["accepted_with_warnings"], 0);
    assert_eq!(v[1]["queries"], 1);
    assert_eq!(v[1]["messages"], 0, "a query response is no VXU answer");
    assert!(
        v[2]["error"].as_str().unwrap().contains("a JSON document"),
        "{}",
        v[2]
    );
    assert_eq!(v[2]["messages"], serde_json::Value::Null);
}

#[test]
fn lint_rules_are_listed_and_scoped_by_registry() {
    let ws = Workspace::new();
    ws.local_config();
    let o = ws.cmd(&["lint", "--list-rules"]).code(0);
    assert!(o.out().contains("nk1") && o.out().contains("IEE-519"));
    let o = ws.cmd(&["lint", "--list-rules", "--registry", "generic"]);
    assert!(!o.out().contains("nk1") && o.out().contains("manufacturer"));
    // a batch without NK1: a Texas warning, nothing under generic
    let batch = fs::read_to_string(Path::new(SPECIMENS).join("hl7/ACMECLIN25301.hl7"))
        .unwrap()
        .replace("NK1|", "ZNK|");
    let p = ws.path().join("b.hl7");
    fs::write(&p, batch).unwrap();
    ws.cmd(&["lint", p.to_str().unwrap()]).code(1);
    ws.cmd(&["lint", p.to_str().unwrap(), "--registry", "generic"])
        .code(0);
    // the profile's registry key selects the rules too
    ws.write_config(&format!(
        "store = {:?}\n[profiles.t]\nlocal_dir = {:?}\nregistry = \"generic\"\n",
        ws.store(),
        ws.mailbox()
    ));
    ws.cmd(&["lint", p.to_str().unwrap()]).code(0);
}

/// In the demo, lint predicts what the registry answered: the codes it can see in a batch
/// (CLR-105, IEE-519, IMR-111) come back in the batch's ACK as often as lint predicts them.
#[test]
fn demo_batches_carry_the_faults_their_answers_report() {
    let root = demo_dir().join("mailbox");
    let mut compared = 0;
    let g = generate::Options::ending_this_week(WEEKS, SEED, today());
    for w in 0..WEEKS {
        if w % 3 == 2 || w % 5 == 4 {
            continue; // answered by a listing or an errors.txt
        }
        let name = immdqa::batch_name::format("DEMOCLIN", g.batch_day(w), None);
        let batch = fs::read(root.join("Accepted").join(&name)).unwrap();
        let lint = immdqa::hl7::lint::check(&batch, today(), immdqa::config::Registry::Texas);
        let mut predicted: HashMap<&str, usize> = HashMap::new();
        for i in &lint.lint {
            *predicted.entry(i.predicts.unwrap_or("-")).or_default() += 1;
        }
        let ack = fs::read(root.join("DQA-Reports").join(format!("{name}.ack"))).unwrap();
        let mut c = immdqa::formats::Collect::all();
        immdqa::formats::parse_bytes(&ack, "x.ack", &Default::default(), &mut c).unwrap();
        for code in ["CLR-105", "IEE-519", "IMR-111"] {
            let answered = c
                .findings
                .iter()
                .filter(|f| f.code.as_deref() == Some(code))
                .count();
            assert_eq!(
                predicted.get(code).copied().unwrap_or(0),
                answered,
                "week {w} {code}"
            );
            compared += answered;
        }
        assert!(lint.structure.is_empty(), "week {w}: {:?}", lint.structure);
    }
    assert!(compared > 100, "the demo plants these faults: {compared}");
}

/// The demo's ledger patterns (issue 12): one provider leaves RXA-17 empty, EAST CLINIC's
/// responsible-party warnings rise, some rejected records are re-sent and resolve, others
/// stay open.
#[test]
fn demo_ledger_plants_provider_site_and_resubmission_patterns() {
    let rows = |args: &[&str]| -> Vec<HashMap<String, String>> {
        let mut a = args.to_vec();
        a.extend(["--format", "csv"]);
        let o = demo_run(&a).code(0);
        let mut r = csv::Reader::from_reader(o.0.stdout.as_slice());
        let h = r.headers().unwrap().clone();
        r.records()
            .map(|x| {
                let x = x.unwrap();
                h.iter()
                    .map(str::to_string)
                    .zip(x.iter().map(str::to_string))
                    .collect()
            })
            .collect()
    };
    let mvx = rows(&["worklist", "--all", "--code", "IMR-111"]);
    assert!(!mvx.is_empty());
    assert!(
        mvx.iter()
            .all(|r| r["provider"] == generate::NO_MVX_PROVIDER),
        "{mvx:?}"
    );
    let all = rows(&["worklist", "--all"]);
    let resolved = all.iter().filter(|r| r["status"] == "resolved").count();
    let open = all.iter().filter(|r| r["status"] == "open").count();
    assert!(resolved > 5 && open > 5, "resolved {resolved}, open {open}");
    // EAST CLINIC's NK1 warnings: the last quarter's rate well above the first quarter's
    let nk1 = rows(&["trends", "--by", "site"]);
    let rate = |site: &str, first: bool| {
        let mut weeks: Vec<&HashMap<String, String>> = nk1
            .iter()
            .filter(|r| r["site"] == site && r["severity"] == "W")
            .collect();
        weeks.sort_by(|a, b| a["week_start"].cmp(&b["week_start"]));
        let q = weeks.len() / 4;
        let part = if first {
            &weeks[..q]
        } else {
            &weeks[weeks.len() - q..]
        };
        part.iter()
            .map(|r| r["per_1000_messages"].parse::<f64>().unwrap())
            .sum::<f64>()
            / q as f64
    };
    assert!(
        rate(generate::RISING_SITE, false) > 2.0 * rate(generate::RISING_SITE, true),
        "EAST CLINIC warnings rise"
    );
    // the report answers "what do I fix first" before its charts, with each site
    let html = fs::read_to_string(demo_dir().join("report/index.html")).unwrap();
    let first = html
        .find("What to fix first")
        .expect("the top issues section");
    assert!(
        first < html.find("<figure").unwrap(),
        "top issues lead the page"
    );
    assert!(
        html.contains("<td>IMR-111</td><td>clinical</td>"),
        "owner beside the code"
    );
    for site in generate::SITES {
        assert!(
            html.contains(&format!("<td>{site}</td>")),
            "{site} in the sites table"
        );
    }
    assert!(html.contains("id=\"chart-timeliness\""));
    let wl = fs::read_to_string(demo_dir().join("report/worklist.csv")).unwrap();
    assert!(wl.starts_with("id,patient_ref,"), "{wl:.200}");
}
