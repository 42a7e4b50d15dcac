//! `immdqa codes`: the vaccine code sets in use, what a code is, and an update from CDC's
//! files (the dated copy in ../shared/codesets, else the repository's embedded copy).

use std::fs;
use std::path::PathBuf;

use crate::util::*;

/// CDC's cvx.xml as published (ISO-8859-1).
fn cdc_dir() -> PathBuf {
    let shared = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/codesets/cdc"
    ));
    if shared.join("cvx.xml").exists() {
        shared
    } else {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/codesets/cdc"))
    }
}

#[test]
fn status_and_show_speak_cdcs_codes() {
    let ws = Workspace::local();
    let o = ws.run(&["codes", "status"]);
    let out = stdout(&o);
    assert!(out.contains("dated 2025-12-12"), "{out}");
    assert!(
        out.contains("CVX: 288 (113 Active, 118 Inactive, 39 Non-US, 18 Never Active)"),
        "{out}"
    );
    // older than 6 months (the embedded set is from December 2025): a warning, exit 1
    assert_code(&o, 1);
    assert!(out.contains("older than 6 months"), "{out}");
    let o = ws.cmd(&["codes", "show", "20"]).code(0);
    let out = o.out();
    for want in [
        "CVX 20: DTaP",
        "status: Active",
        "groups: DTAP",
        "INFANRIX by SKB (GlaxoSmithKline)",
        "58160-0810-11",
        "ages: 1 month to 7 years",
    ] {
        assert!(out.contains(want), "{want} in\n{out}");
    }
    ws.cmd(&["codes", "show", "49281-0425-50"])
        .out_has("CVX 140 Influenza");
    ws.cmd(&["codes", "show", "08"])
        .out_has("CVX 8: Hep B, adolescent or pediatric");
    ws.cmd(&["codes", "show", "PMC"])
        .out_has("MVX PMC: Sanofi Pasteur");
    ws.cmd(&["codes", "show", "ZZZZ"])
        .code(3)
        .err_has("is no CVX, MVX or NDC");
}

/// A newer cvx.xml (one code added, one retired, one removed) read from a download folder:
/// the change is told, kept beside the store with its date, and the other files stay.
#[test]
fn an_update_from_cdcs_files_says_what_changed_and_is_kept() {
    let ws = Workspace::local();
    let dl = ws.path().join("download");
    fs::create_dir_all(&dl).unwrap();
    let cvx = fs::read(cdc_dir().join("cvx.xml")).unwrap();
    let mut text = encoding_rs::WINDOWS_1252.decode(&cvx).0.into_owned();
    // retire DTaP (20)
    let at = text.find("<CVXCode>20        </CVXCode>").unwrap();
    let status = at + text[at..].find("<Status>Active</Status>").unwrap();
    text.replace_range(
        status..status + "<Status>Active</Status>".len(),
        "<Status>Inactive</Status>",
    );
    // remove 143
    let start = text[..text.find("<CVXCode>143 ").unwrap()]
        .rfind("<CVXInfo>")
        .unwrap();
    let end = start + text[start..].find("</CVXInfo>").unwrap() + "</CVXInfo>".len();
    text.replace_range(start..end, "");
    // add 712 (and a note in Latin-1, as CDC writes them)
    text = text.replace(
        "</CVXCodes>",
        "<CVXInfo><ShortDescription>ZZ new vaccine</ShortDescription><FullVaccinename>ZZ new vaccine, caf\u{e9}</FullVaccinename><CVXCode>712       </CVXCode><Notes/><Status>Active</Status><LastUpdated>1/15/2026</LastUpdated></CVXInfo></CVXCodes>",
    );
    fs::write(
        dl.join("cvx.xml"),
        encoding_rs::WINDOWS_1252.encode(&text).0,
    )
    .unwrap();
    fs::write(dl.join("readme.txt"), "not a code set").unwrap();
    let o = ws
        .cmd(&["codes", "update", "--from", dl.to_str().unwrap()])
        .code(0);
    let out = o.out();
    assert!(
        out.contains("code set dated 2026-01-15 (was 2025-12-12): 1 new CVX code(s) (712 ZZ new vaccine), 1 retired (20 DTaP)"),
        "{out}"
    );
    assert!(
        out.contains("1 removed (143 Adenovirus types 4 and 7)"),
        "{out}"
    );
    let o = ws.cmd(&["codes", "status"]);
    let out = o.out();
    assert!(out.contains("dated 2026-01-15"), "{out}");
    assert!(out.contains("CVX: 288") && out.contains("MVX: 89"), "{out}");
    ws.cmd(&["codes", "show", "712"])
        .out_has("name: ZZ new vaccine, caf\u{e9}");
    assert!(ws.store().join("codesets/cvx.xml").exists());
    // explain names a vaccine of the set in use, a lint rule, and which rules catch a
    // registry code before upload
    let o = ws.cmd(&["explain", "712", "cvx-mvx", "IMR-111"]).code(0);
    let out = o.out();
    assert!(out.contains("CVX 712: ZZ new vaccine"), "{out}");
    assert!(out.contains("cvx-mvx (lint rule"), "{out}");
    assert!(
        out.contains("caught before upload by: manufacturer, mvx-known"),
        "{out}"
    );
    // a file of no known shape, named
    ws.cmd(&[
        "codes",
        "update",
        "--from",
        dl.join("readme.txt").to_str().unwrap(),
    ])
    .code(3)
    .err_has("readme.txt: not a code-set file");
}
