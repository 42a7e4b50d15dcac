//! `immdqa report`: the report folder, its exit code, and a real headless browser loading it.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::golden::golden_mailbox;
use crate::util::*;

fn history() -> Workspace {
    let ws = Workspace::new();
    golden_mailbox(&ws);
    ws.local_config();
    ws.cmd(&["fetch"]).code(0);
    ws
}

#[test]
fn weekly_report_folder_and_exit_codes() {
    let ws = history();
    let out = ws.path().join("rep-w42");
    ws.cmd(&[
        "report",
        "--week",
        "2025-W42",
        "--out",
        out.to_str().unwrap(),
    ])
    .code(2)
    .out_has("FAIL: acceptance_rate");
    let mut files: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "acceptance.png",
            "completeness.csv",
            "findings.csv",
            "heatmap.png",
            "index.html",
            "score.csv",
            "score.png",
            "submissions.csv",
            "timeliness.png",
            "top.png",
            "trend.png",
            "trends.csv",
            "worklist.csv"
        ]
    );
    let html = fs::read_to_string(out.join("index.html")).unwrap();
    // the specimens hold no sent batch: the ledger sections say so rather than show nothing
    assert!(html.contains("The message ledger is empty"), "{html:.300}");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        html.contains("week 2025-W42 (2025-10-13 to 2025-10-19)"),
        "{html}"
    );
    assert!(html.contains("class=\"verdict fail\""));
    assert_eq!(html.matches("<svg").count(), 6, "six inline charts");
    assert!(html.contains("<h2>Submissions</h2>") && html.contains("GOLD25287.hl7"));
    assert!(html.contains("<h2>Changes against the previous week"));
    assert!(html.contains("href=\"trend.png\"") && html.contains("href=\"findings.csv\""));
    assert!(!html.contains("<script"), "self-contained, no scripts");
    let subs = fs::read_to_string(out.join("submissions.csv")).unwrap();
    assert_eq!(
        subs.lines().count(),
        3,
        "header + the two batches up to week 42: {subs}"
    );
    // findings.csv holds the report week's findings only (the week column is 2025-W42)
    let findings = fs::read_to_string(out.join("findings.csv")).unwrap();
    let weeks: Vec<&str> = findings
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    assert!(!weeks.is_empty(), "{findings}");
    assert!(weeks.iter().all(|w| *w == "2025-W42"), "{findings}");

    let out = ws.path().join("rep-w41");
    ws.cmd(&[
        "report",
        "weekly",
        "--week",
        "2025-W41",
        "--out",
        out.to_str().unwrap(),
    ])
    .code(0);
    let out = ws.path().join("consent");
    let o = ws.run(&[
        "report",
        "consent",
        "--week",
        "2025-W43",
        "--out",
        out.to_str().unwrap(),
    ]);
    // open follow-ups: the consent report warns (1), with a consent verdict, not the
    // acceptance-rate thresholds
    assert_code(&o, 1);
    let html = fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        html.contains("Open consent follow-ups") && html.contains("P2") && !html.contains(">P1<"),
        "{html}"
    );
    assert!(
        html.contains("Consent: 1 open follow-up(s) as of 2025-10-26"),
        "{html}"
    );
    assert!(
        !html.contains("Thresholds:") && !html.contains("acceptance"),
        "{html}"
    );
    // one reference date for the ages on the page and in consent.csv, printed on the page
    assert!(html.contains("Consent follow-up ages are counted to 2025-10-26"));
    let csv = fs::read_to_string(out.join("consent.csv")).unwrap();
    let page_age = html
        .split("<td>P2</td>")
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .unwrap()
        .to_string();
    let csv_row = csv.lines().find(|l| l.contains("P2")).unwrap().to_string();
    assert!(
        page_age.contains(">19<") && csv_row.contains(",true,19,"),
        "page {page_age} / csv {csv_row}"
    );
    assert!(
        !html.contains("ROE") && !html.contains("2010-05-05"),
        "no names or birth dates in the report"
    );
    assert!(out.join("consent.png").exists() && out.join("consent.csv").exists());

    ws.cmd(&["report", "nonsense", "--out", out.to_str().unwrap()])
        .code(3)
        .err_has("no report named 'nonsense'");
}

fn chromium() -> Option<&'static str> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

/// Load the report in headless Chromium: it must load (the DOM has the charts and tables),
/// log no console errors, and produce a screenshot.
#[test]
fn report_loads_in_headless_chromium() {
    let Some(browser) = chromium() else {
        if std::env::var("IMMDQA_REQUIRE_CHROMIUM").as_deref() == Ok("1") {
            panic!(
                "IMMDQA_REQUIRE_CHROMIUM=1 but chromium is missing: apt-get install -y chromium"
            );
        }
        eprintln!("skipping: chromium not installed");
        return;
    };
    let ws = history();
    let out = ws.path().join("rep");
    ws.run(&[
        "report",
        "--week",
        "2025-W42",
        "--out",
        out.to_str().unwrap(),
    ]);
    let url = format!("file://{}", out.join("index.html").display());
    let base = |profile: &str| {
        let mut c = Command::new(browser);
        c.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,2400",
        ])
        .arg(format!(
            "--user-data-dir={}",
            ws.path().join(profile).display()
        ));
        c
    };
    let shot = ws.path().join("shot.png");
    let o = base("p1")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(shot.exists(), "no screenshot: {err}");
    let png = fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 30_000,
        "screenshot too small ({} bytes)",
        png.len()
    );
    let o = base("p2").arg("--dump-dom").arg(&url).output().unwrap();
    let dom = String::from_utf8_lossy(&o.stdout);
    assert!(
        dom.contains("Weekly data quality report") && dom.matches("<svg").count() == 6,
        "{dom:.500}"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    for bad in ["Uncaught", "CONSOLE(", "Failed to load resource"] {
        assert!(!err.contains(bad), "browser reported {bad}: {err}");
    }
}

/// One list of datasets for `export` and a report's `exports`: a report can write the week's
/// ledger as `export ledger` writes it for the same week.
#[test]
fn a_report_exports_the_datasets_of_export() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let o = crate::util::immdqa()
        .args(["demo", "--weeks", "8", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_code(&o, 0);
    let cfg = out.join("immdqa-demo.toml");
    let def = dir.path().join("ledger.toml");
    fs::write(
        &def,
        "title = \"Ledger\"\naudience = \"analysts\"\nweeks = 1\ncharts = []\ntables = []\nexports = [\"ledger\", \"worklist\"]\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        crate::util::immdqa()
            .arg("--config")
            .arg(&cfg)
            .args(args)
            .output()
            .unwrap()
    };
    let week = "2026-W01";
    // the demo's last full week, whatever today is
    let status = stdout(&run(&["check", "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&status).unwrap();
    let week = v["week"]
        .as_str()
        .map(str::to_string)
        .unwrap_or(week.into());
    let rep = dir.path().join("rep");
    let o = run(&[
        "report",
        def.to_str().unwrap(),
        "--week",
        &week,
        "--out",
        rep.to_str().unwrap(),
    ]);
    assert!(o.status.code().is_some_and(|c| c <= 2), "{}", stderr(&o));
    let ledger = fs::read_to_string(rep.join("ledger.csv")).unwrap();
    assert!(
        ledger.starts_with("profile,batch,source,sent_on,message_index"),
        "{ledger:.200}"
    );
    let o = run(&[
        "export", "ledger", "--since", &week, "--until", &week, "--out", "-",
    ]);
    assert_code(&o, 0);
    let mut a: Vec<&str> = ledger.lines().collect();
    let exported = stdout(&o);
    let mut b: Vec<&str> = exported.lines().collect();
    a.sort();
    b.sort();
    assert!(a.len() > 10, "{} rows", a.len());
    assert_eq!(a, b);
    assert!(rep.join("worklist.csv").exists());
}
