//! `immdqa demo`: end to end on a small history, and the planted patterns are there.

use std::collections::HashSet;

use immdqa::analytics::trends::{TrendBy, TrendOptions, trends};
use immdqa::analytics::{History, consent, submissions};
use immdqa::demo::{self, DemoOptions, generate};

use crate::util::*;

#[test]
fn demo_end_to_end_with_planted_patterns() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let today = chrono::NaiveDate::from_ymd_opt(2025, 11, 26).unwrap();
    let weeks = 12;
    let mut lines = Vec::new();
    let r = demo::run(
        &DemoOptions {
            weeks,
            seed: 7,
            out: out.clone(),
            today,
        },
        &mut |l| lines.push(l),
    )
    .unwrap();
    assert_eq!(lines.len(), 6, "{lines:?}");
    assert!(lines[5].starts_with("6. worklist: "), "{lines:?}");
    assert!(
        lines[1].contains("serving it over SFTP on 127.0.0.1:"),
        "{lines:?}"
    );
    assert_eq!(r.fetch.counts.failed, 0);
    assert_eq!(
        r.fetch.counts.new as u32,
        r.generated.report_files + r.generated.consent_files + r.generated.batches
    );
    // the sent batches from Accepted fill the ledger; re-sent corrected records resolve items
    assert!(!r.generated.resent_patients.is_empty());
    assert!(r.worklist_open > 0);
    assert_eq!(r.parsed.quarantined, 0);
    assert!(r.report.index.exists());

    let g = generate::Options::ending_this_week(weeks, 7, today);
    let store = immdqa::store::Store::open(&r.store, &keys(&r.store)).unwrap();
    let h = History::load(&store).unwrap();
    let t = trends(
        &h,
        &TrendOptions {
            by: TrendBy::Field,
            ..Default::default()
        },
    )
    .unwrap();
    let week = |w: u32| g.start + chrono::Duration::weeks(w as i64);
    let by_week = |w: u32, field: &str| -> i64 {
        t.iter()
            .filter(|r| r.week == week(w) && r.key == field)
            .map(|r| r.findings)
            .sum()
    };
    // the climbing field: rising before the fix, the top field in its peak week, zero after
    let peak = g.fix_week() - 1;
    let top_in_peak = t
        .iter()
        .filter(|r| r.week == week(peak))
        .max_by_key(|r| r.findings)
        .unwrap();
    assert_eq!(top_in_peak.key, "PD1-13", "{t:?}");
    assert!(by_week(peak, "PD1-13") > by_week(0, "PD1-13"));
    for w in g.fix_week()..weeks {
        assert_eq!(by_week(w, "PD1-13"), 0, "week {w} after the fix");
    }
    // the code that appears mid-way
    let code_t = trends(
        &h,
        &TrendOptions {
            by: TrendBy::Code,
            ..Default::default()
        },
    )
    .unwrap();
    let first_575 = code_t
        .iter()
        .filter(|r| r.key == "IEE-575")
        .map(|r| r.week)
        .min()
        .unwrap();
    assert!(
        first_575 >= week(g.new_code_week()),
        "IEE-575 before mid-way"
    );
    // the rejected week
    let subs = submissions::submissions(&h, None).unwrap();
    let rejected = subs
        .iter()
        .find(|s| s.date.map(immdqa::analytics::week_start) == Some(week(g.rejected_week())))
        .unwrap();
    if let Some(rate) = rejected.acceptance_rate {
        assert!(rate < 0.9, "the rejected week's batch: {rate}");
    } else {
        assert!(
            rejected.errors > 10,
            "the rejected week's batch: {rejected:?}"
        );
    }
    // consent: the unresolved follow-ups are listed, the resolved ones are not
    let v = consent::consent(&store, &h, today).unwrap();
    let open: HashSet<&str> = v.open.iter().map(|f| f.patient_ref.as_str()).collect();
    for p in &r.generated.open_patients {
        assert!(open.contains(p.as_str()), "{p} should be open");
    }
    for p in &r.generated.resolved_patients {
        assert!(!open.contains(p.as_str()), "{p} should be resolved");
    }
    assert!(!r.generated.resolved_patients.is_empty() && !r.generated.open_patients.is_empty());
}

#[test]
fn demo_cli_prints_steps_and_refuses_foreign_folders() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("d");
    let o = immdqa()
        .args(["demo", "--weeks", "4", "--out", out.to_str().unwrap()])
        .exec()
        .code(0);
    let text = o.out();
    for step in [
        "1. generated",
        "2. serving",
        "3. fetch:",
        "4. parsed",
        "5. weekly report",
    ] {
        assert!(text.contains(step), "{step} missing:\n{text}");
    }
    // the demo's config works with the other commands
    let cfg = out.join("immdqa-demo.toml");
    immdqa()
        .args(["--config", cfg.to_str().unwrap(), "status"])
        .exec()
        .code(0);
    // rerun replaces its own folder; a foreign non-empty folder is refused
    immdqa()
        .args(["demo", "--weeks", "2", "--out", out.to_str().unwrap()])
        .exec()
        .code(0);
    let foreign = dir.path().join("mine");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("precious.txt"), "x").unwrap();
    immdqa()
        .args(["demo", "--out", foreign.to_str().unwrap()])
        .exec()
        .code(3)
        .err_has("is not an earlier demo folder");
    assert!(foreign.join("precious.txt").exists());
}

/// The commands `immdqa demo` prints work as printed, from the folder it ran in: they read
/// the demo's history (not a new, empty one in `immdqa-demo/immdqa-demo/store`), and the
/// step lines do not read as if the demo failed.
#[test]
fn the_commands_the_demo_prints_work_as_printed() {
    let dir = tempfile::tempdir().unwrap();
    let o = immdqa()
        .current_dir(dir.path())
        .args(["demo", "--weeks", "4"])
        .exec()
        .code(0);
    let out = o.out();
    assert!(!out.contains("(thresholds: fail)"), "{out}");
    let commands: Vec<Vec<String>> = out
        .lines()
        .filter(|l| l.starts_with("  ") && l.contains("--config"))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect();
    assert_eq!(commands.len(), 4, "{out}");
    for c in &commands {
        // not on the PATH and not in a source tree: the binary's full path
        assert_eq!(c[0], env!("CARGO_BIN_EXE_immdqa"), "{c:?}");
        let o = std::process::Command::new(&c[0])
            .args(&c[1..])
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(
            o.status.code().is_some_and(|x| x < 3),
            "{c:?}: {}",
            stderr(&o)
        );
        if c.contains(&"trends".to_string()) {
            assert!(
                stdout(&o).lines().count() > 3,
                "{c:?} read an empty history:\n{}",
                stdout(&o)
            );
        }
    }
    assert!(!dir.path().join("immdqa-demo/immdqa-demo").exists());
}

/// A demo run on a Monday dates that week's batch on the Monday, not on the coming Tuesday:
/// no batch, dose or answer of the demo lies in the future (lint of the last batch, as of
/// that day, finds no future administration date); on a Wednesday the batch is Tuesday's.
#[test]
fn a_demo_run_on_a_monday_sends_nothing_dated_tomorrow() {
    let monday = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let g = generate::Options::ending_this_week(4, 7, monday);
    assert_eq!(g.batch_day(3), monday);
    assert_eq!(g.batch_day(2), monday - chrono::Duration::days(6));
    generate::generate(dir.path(), &g).unwrap();
    let accepted = dir.path().join("Accepted");
    let mut names: Vec<String> = std::fs::read_dir(&accepted)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 4, "{names:?}");
    for n in &names {
        let b = immdqa::batch_name::parse(n).unwrap();
        assert!(b.date <= monday, "{n} is dated after {monday}");
    }
    let last = std::fs::read(accepted.join(names.last().unwrap())).unwrap();
    let lint = immdqa::hl7::lint::check(&last, monday, immdqa::config::Registry::Texas);
    assert!(lint.messages > 0);
    assert!(
        !lint
            .lint
            .iter()
            .any(|i| i.message.contains("in the future")),
        "{:?}",
        lint.lint
            .iter()
            .filter(|i| i.message.contains("in the future"))
            .take(3)
            .map(|i| &i.message)
            .collect::<Vec<_>>()
    );
    let wednesday = monday + chrono::Duration::days(2);
    let g = generate::Options::ending_this_week(4, 7, wednesday);
    assert_eq!(g.batch_day(3), monday + chrono::Duration::days(1));
}
