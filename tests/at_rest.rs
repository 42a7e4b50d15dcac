//! Encryption at rest: no patient data readable anywhere under an encrypted store, a missing
//! or wrong key refused with nothing written, and `store encrypt` / `store rekey` crash-safe.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};

use sha2::Digest;

use crate::cmd_upload::vxu_batch;
use crate::util::*;

/// Every file under `dir` (recursively), with its bytes.
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push((e.path(), fs::read(e.path()).unwrap()));
            }
        }
    }
    out
}

/// Which of `needles` occur in some file under `dir` (with the first file holding each).
fn found(dir: &Path, needles: &[String]) -> Vec<(String, PathBuf)> {
    let files = files_under(dir);
    needles
        .iter()
        .filter_map(|n| {
            files
                .iter()
                .find(|(_, data)| data.windows(n.len()).any(|w| w == n.as_bytes()))
                .map(|(p, _)| (n.clone(), p.clone()))
        })
        .collect()
}

/// The patient data planted in HL7 batches and consent files: MRNs, family names (5+
/// letters: a shorter one can occur by chance in 2 MB of ciphertext), birth dates as HL7 and
/// as the notices write them.
fn planted(files: &[PathBuf]) -> Vec<String> {
    let mut out = std::collections::BTreeSet::new();
    let mrn = regex::Regex::new(r"\b(MRN\d{8}|ZZ[A-Z0-9]{6,})\b").unwrap();
    for f in files {
        let text = String::from_utf8_lossy(&fs::read(f).unwrap()).into_owned();
        out.extend(mrn.find_iter(&text).map(|m| m.as_str().to_string()));
        for seg in text.split(['\r', '\n']) {
            let fields: Vec<&str> = seg.split('|').collect();
            if fields[0] == "PID" && fields.len() > 7 {
                let family = fields[5].split('^').next().unwrap_or("");
                if family.len() >= 5 {
                    out.insert(family.to_string());
                }
                if fields[7].len() == 8 {
                    out.insert(fields[7].to_string());
                    let d = fields[7];
                    out.insert(format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..]));
                }
            }
        }
    }
    assert!(out.len() > 20, "too few planted values: {out:?}");
    out.into_iter().collect()
}

/// A batch whose patient data no demo file holds.
fn planted_batch(tag: &str) -> Vec<u8> {
    String::from_utf8(vxu_batch(3, tag))
        .unwrap()
        .replace("DOE^ANA", &format!("ZZFAMILY{tag}^ZZGIVEN{tag}"))
        .replace("20100508", "20111213")
        .replace(&format!("M{tag}"), &format!("ZZMRN{tag}"))
        .into_bytes()
}

struct Demo {
    dir: tempfile::TempDir,
}

impl Demo {
    fn new(weeks: &str) -> Demo {
        let dir = tempfile::tempdir().unwrap();
        immdqa()
            .args(["demo", "--weeks", weeks, "--out"])
            .arg(dir.path().join("d"))
            .exec()
            .code(0);
        Demo { dir }
    }
    fn out(&self) -> PathBuf {
        self.dir.path().join("d")
    }
    fn store(&self) -> PathBuf {
        self.out().join("store")
    }
    fn cmd(&self, args: &[&str]) -> Run {
        Run(self.run(args))
    }
    fn run(&self, args: &[&str]) -> std::process::Output {
        immdqa()
            .arg("--config")
            .arg(self.out().join("immdqa-demo.toml"))
            .args(args)
            .output()
            .unwrap()
    }
}

/// After the demo, a fetch, an upload, an `import --sent`, a worklist note and a rebuild, no
/// MRN, family name or birth date of any of them is found in any file under the store —
/// while the same scan finds them in a plaintext store (the check can fail).
#[test]
fn an_encrypted_store_holds_no_readable_patient_data() {
    let d = Demo::new("4");
    assert!(d.out().join("immdqa-demo.key").exists());
    let head = fs::read(d.store().join("history.sqlite")).unwrap();
    assert_ne!(
        &head[..16],
        b"SQLite format 3\0",
        "the history is not encrypted"
    );
    // more of everything that writes patient data
    let sent = d.dir.path().join("sent.hl7");
    fs::write(&sent, planted_batch("SENTA")).unwrap();
    d.cmd(&["import", "--sent", sent.to_str().unwrap()]).code(0);
    let up = d.dir.path().join("up.hl7");
    fs::write(&up, planted_batch("UPLDB")).unwrap();
    let o = d.cmd(&["upload", up.to_str().unwrap()]);
    assert!(o.out().contains("uploaded"), "{}{}", o.out(), o.err());
    d.cmd(&["fetch"]).code(0);
    let items: serde_json::Value =
        serde_json::from_slice(&d.run(&["worklist", "--format", "json"]).stdout).unwrap();
    let id = items[0]["id"].to_string();
    d.cmd(&[
        "worklist",
        "close",
        &id,
        "--note",
        "called ZZNOTEJOHNSON's mother",
    ])
    .code(0);
    d.cmd(&["consent", "--open", "--format", "json"]).code(0);
    d.cmd(&["rebuild", "--force"]).code(0);
    // the data is all there, read through the key
    let n = count(
        &db(&d.store()),
        "SELECT COUNT(*) FROM ledger_message WHERE patient_ref = 'ZZMRNSENTA1'",
    );
    assert_eq!(n, 1, "the sent batch is in the ledger");
    let mut sources: Vec<PathBuf> = ["Accepted", "Receive", "HL7-Dropoff"]
        .iter()
        .flat_map(|f| fs::read_dir(d.out().join("mailbox").join(f)).unwrap())
        .map(|e| e.unwrap().path())
        .collect();
    sources.extend([sent.clone(), up.clone()]);
    let mut needles = planted(&sources);
    needles.extend(["ZZNOTEJOHNSON".to_string(), "ZZFAMILYSENTA".to_string()]);
    let leaks = found(&d.store(), &needles);
    assert!(
        leaks.is_empty(),
        "patient data readable in the store: {leaks:?}"
    );
    // the scan finds them in a plaintext store of the same files
    let ws = Workspace::new();
    ws.write_config_plain(&format!(
        "store = {:?}\n[profiles.t]\nlocal_dir = {:?}\nretries = 0\n",
        ws.store(),
        d.out().join("mailbox")
    ));
    ws.cmd(&["import", "--sent", sent.to_str().unwrap()])
        .code(0);
    let leaks = found(&ws.store(), &needles);
    assert!(
        leaks.iter().any(|(n, _)| n == "ZZMRNSENTA1"),
        "the scan misses a plaintext MRN: {leaks:?}"
    );
}

/// (path → hash, length, modification time) of every file under the store.
fn snapshot(store: &Path) -> BTreeMap<PathBuf, (String, usize, std::time::SystemTime)> {
    files_under(store)
        .into_iter()
        .map(|(p, data)| {
            let m = fs::metadata(&p).unwrap().modified().unwrap();
            (
                p,
                (format!("{:x}", sha2::Sha256::digest(&data)), data.len(), m),
            )
        })
        .collect()
}

/// Without its key, with another key, or with a key inside the store: exit 3, a message
/// naming where the key was looked for, and not one byte of the store changed.
#[test]
fn without_the_key_or_with_another_nothing_is_written() {
    let ws = Workspace::fetched();
    let body = format!(
        "store = {:?}\n[profiles.t]\nlocal_dir = {:?}\nretries = 0\n",
        ws.store(),
        ws.mailbox()
    );
    let before = snapshot(&ws.store());
    let other = ws.path().join("other.key");
    immdqa::store::StoreKey::generate("t")
        .unwrap()
        .write_new(&other)
        .unwrap();
    let report = ws.path().join("rep");
    let commands: [&[&str]; 6] = [
        &["status"],
        &["fetch"],
        &["worklist", "close", "1", "--note", "x"],
        &["report", "--out", report.to_str().unwrap()],
        &["rebuild", "--force"],
        &["user", "list"],
    ];
    // no key at all
    ws.write_config_plain(&body);
    for args in commands {
        let o = ws.cmd(args).code(3);
        let e = o.err();
        assert!(
            e.contains("is encrypted and no store key was found")
                && e.contains("IMMDQA_STORE_KEY_FILE (not set)")
                && e.contains("Nothing was written"),
            "{args:?}: {e}"
        );
        assert!(!e.contains("hmac") && !e.contains("panicked"), "{e}");
    }
    assert_eq!(
        snapshot(&ws.store()),
        before,
        "the store changed without its key"
    );
    // another key
    for args in commands {
        let o = ws
            .cmd_env(args, &[("IMMDQA_STORE_KEY_FILE", other.to_str().unwrap())])
            .code(3);
        let e = o.err();
        assert!(
            e.contains("does not open with the store key") && e.contains("other.key"),
            "{args:?}: {e}"
        );
    }
    assert_eq!(
        snapshot(&ws.store()),
        before,
        "the store changed under another key"
    );
    // a key file others can read, and a key inside the store
    fs::set_permissions(&other, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    ws.cmd_env(
        &["status"],
        &[("IMMDQA_STORE_KEY_FILE", other.to_str().unwrap())],
    )
    .code(3)
    .err_has("chmod 600");
    let inside = ws.store().join("k");
    fs::copy(ws.key_file(), &inside).unwrap();
    ws.cmd_env(
        &["status"],
        &[("IMMDQA_STORE_KEY_FILE", inside.to_str().unwrap())],
    )
    .code(3)
    .err_has("inside the store folder");
    fs::remove_file(&inside).unwrap();
    assert_eq!(snapshot(&ws.store()), before);
    // the right key, from the environment: every command works again
    ws.cmd_env(
        &["status"],
        &[("IMMDQA_STORE_KEY_FILE", ws.key_file().to_str().unwrap())],
    )
    .code(0)
    .out_has("encryption: on");
    // `config check` names the key it found, by its fingerprint
    ws.write_config(&body);
    let o = ws.cmd(&["config", "check"]);
    assert!(
        o.out().contains("store key: ") && o.out().contains("store.key (store_key_file in"),
        "{}",
        o.out()
    );
}

/// A plaintext store with what each kind of file holds: reports, consent notices, a sent
/// batch, a worklist note, an upload.
fn plaintext_store() -> Workspace {
    let ws = Workspace::new().with_specimens();
    fs::create_dir_all(ws.mailbox().join("HL7-Dropoff")).unwrap();
    ws.write_config_plain(&format!(
        "store = {:?}\n[profiles.t]\nlocal_dir = {:?}\nimport_code = \"ACME\"\nretries = 0\n",
        ws.store(),
        ws.mailbox()
    ));
    ws.cmd(&["fetch"]).code(0);
    let sent = ws.path().join("sent.hl7");
    fs::write(&sent, planted_batch("CONVA")).unwrap();
    ws.cmd(&["import", "--sent", sent.to_str().unwrap()])
        .code(0);
    let up = ws.path().join("up.hl7");
    fs::write(&up, planted_batch("CONVB")).unwrap();
    ws.cmd(&["upload", up.to_str().unwrap(), "--date", "2025-10-28"])
        .code(0);
    let items: serde_json::Value =
        serde_json::from_slice(&ws.run(&["consent", "--open", "--format", "json"]).stdout).unwrap();
    let id = items[0]["id"].to_string();
    ws.cmd(&["consent", "close", &id, "--note", "ZZNOTECONV"])
        .code(0);
    ws
}

/// What a user reads from the store: the same before and after a conversion.
fn readings(ws: &Workspace) -> Vec<String> {
    [
        &["worklist", "--all", "--format", "json"][..],
        &["submissions", "--format", "csv"],
        &["consent", "--format", "csv"],
        &["trends", "--format", "csv"],
    ]
    .iter()
    .map(|args| {
        let o = ws.cmd(args).code(0);
        o.out()
    })
    .collect()
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// A copy of `base` (store, key, mailbox) in a new workspace, its config pointing at the copy.
fn copy_of(base: &Workspace) -> Workspace {
    let ws = Workspace::new();
    copy_tree(base.path(), ws.path());
    let body = fs::read_to_string(base.config())
        .unwrap()
        .replace(base.path().to_str().unwrap(), ws.path().to_str().unwrap());
    ws.write_config_plain(&body);
    ws
}

/// The environment that kills the command at the crash point `spec` (none when empty).
fn kill_at(spec: &str) -> Vec<(&str, &str)> {
    if spec.is_empty() {
        vec![]
    } else {
        vec![("IMMDQA_KILL_AT", spec)]
    }
}

/// Whether the store is wholly plain (false) or wholly sealed (true); panics on a mix.
fn whole_state(store: &Path) -> bool {
    let head = fs::read(store.join("history.sqlite")).unwrap();
    let db_sealed = &head[..16] != b"SQLite format 3\0";
    for (p, data) in files_under(&store.join("archive")) {
        let sealed = data.starts_with(immdqa::store::crypt::SEALED_MAGIC);
        assert_eq!(sealed, db_sealed, "a mix: {} vs the database", p.display());
    }
    db_sealed
}

/// `store encrypt` killed at every step, then run again: the store is the old one or the new
/// one, never a mix; the rerun finishes; what the user reads is unchanged, and no planted
/// value is left readable.
#[test]
fn store_encrypt_is_crash_safe_and_loses_nothing() {
    let base = plaintext_store();
    let want = readings(&base);
    let needles: Vec<String> = ["ZZMRNCONVA1", "ZZFAMILYCONVB", "ZZNOTECONV", "ZZMRNCONVB2"]
        .map(String::from)
        .to_vec();
    assert_eq!(found(&base.store(), &needles).len(), needles.len());
    let points = [
        "convert_prepare:1",
        "convert_file:2",
        "convert_before_commit:1",
        "convert_committed:1",
        "convert_renamed:1",
        "convert_renamed:3",
        "",
    ];
    for spec in points {
        let ws = copy_of(&base);
        let env = kill_at(spec);
        let o = ws.run_env(&["store", "encrypt"], &env);
        if spec.is_empty() {
            assert_code(&o, 0);
            assert!(stdout(&o).contains("encrypted"), "{}", stdout(&o));
        } else {
            assert_eq!(o.status.signal(), Some(9), "{spec}: {}", stderr(&o));
            // the key was made and named first
            assert!(ws.path().join("store.key").exists(), "{spec}");
            assert!(
                fs::read_to_string(ws.config())
                    .unwrap()
                    .contains("store_key_file")
            );
            let committed =
                spec.starts_with("convert_committed") || spec.starts_with("convert_renamed");
            // the next command finishes or undoes it: never a mix
            let o = ws.run(&["status"]);
            let sealed = whole_state(&ws.store());
            assert_eq!(sealed, committed, "{spec}");
            if committed {
                assert_code(&o, 0);
            } else {
                assert_code(&o, 3);
                assert!(
                    stderr(&o).contains("immdqa store encrypt"),
                    "{}",
                    stderr(&o)
                );
                ws.cmd(&["store", "encrypt"]).code(0);
            }
        }
        assert!(whole_state(&ws.store()), "{spec}");
        assert!(!ws.store().join("convert.json").exists());
        assert_eq!(readings(&ws), want, "{spec}: the history changed");
        let leaks = found(&ws.store(), &needles);
        assert!(leaks.is_empty(), "{spec}: {leaks:?}");
        ws.cmd(&["status"]).out_has("encryption: on");
        // a second run has nothing to do
        ws.cmd(&["store", "encrypt"])
            .code(0)
            .out_has("already encrypted");
    }
}

/// `store rekey` killed at each step: afterwards the store opens with exactly one of the two
/// keys, the one in the key file; a rerun finishes; the old key no longer opens it.
#[test]
fn store_rekey_is_crash_safe_and_retires_the_old_key() {
    let base = Workspace::fetched();
    let want = readings(&base);
    for spec in [
        "convert_file:1",
        "convert_committed:1",
        "convert_renamed:2",
        "",
    ] {
        let ws = copy_of(&base);
        let old = fs::read(ws.key_file()).unwrap();
        let old_copy = ws.path().join("old.key");
        fs::copy(ws.key_file(), &old_copy).unwrap();
        let env = kill_at(spec);
        let o = ws.run_env(&["store", "rekey"], &env);
        if spec.is_empty() {
            assert_code(&o, 0);
        } else {
            assert_eq!(o.status.signal(), Some(9), "{spec}: {}", stderr(&o));
            ws.cmd(&["status"]).code(0);
            let changed = fs::read(ws.key_file()).unwrap() != old;
            assert_eq!(changed, spec != "convert_file:1", "{spec}");
            if !changed {
                ws.cmd(&["store", "rekey"]).code(0);
            }
        }
        assert_ne!(fs::read(ws.key_file()).unwrap(), old, "{spec}");
        assert!(!ws.path().join("store.key.next").exists());
        assert_eq!(readings(&ws), want, "{spec}");
        ws.cmd_env(
            &["status"],
            &[("IMMDQA_STORE_KEY_FILE", old_copy.to_str().unwrap())],
        )
        .code(3);
    }
}

/// `immdqa init` makes the key beside the config (never over an existing one), and a store
/// created through that config is encrypted.
#[test]
fn init_makes_a_key_outside_the_store_and_keeps_an_existing_one() {
    let dir = tempfile::tempdir().unwrap();
    let mailbox = dir.path().join("mailbox");
    fs::create_dir_all(mailbox.join("DQA-Reports")).unwrap();
    let config = dir.path().join("conf/config.toml");
    let init = || {
        immdqa()
            .arg("--config")
            .arg(&config)
            .args(["init", "--force", "--local-dir"])
            .arg(&mailbox)
            .args(["--import-code", "ACME"])
            .env("HOME", dir.path())
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .output()
            .unwrap()
    };
    let o = init();
    assert_code(&o, 0);
    let key = dir.path().join("conf/store.key");
    let first = fs::read(&key).unwrap();
    assert_eq!(
        fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        stdout(&o).contains("created the store key"),
        "{}",
        stdout(&o)
    );
    let o = init();
    assert_code(&o, 0);
    assert_eq!(
        fs::read(&key).unwrap(),
        first,
        "init replaced an existing key"
    );
    assert!(stdout(&o).contains("kept the store key"), "{}", stdout(&o));
    immdqa()
        .arg("--config")
        .arg(&config)
        .args(["status"])
        .env("HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .exec()
        .code(0)
        .out_has("encryption: on");
}

use std::os::unix::fs::PermissionsExt;

/// A command started while `store encrypt` runs is told the store is busy (exit 5): it does
/// not undo the conversion's half-written files; the conversion then finishes.
#[test]
fn a_command_during_a_conversion_is_busy_and_undoes_nothing() {
    let base = plaintext_store();
    let want = readings(&base);
    let (child, signal) = base.paused_at(&["store", "encrypt"], "convert_file");
    base.cmd(&["status"]).code(5);
    assert!(base.store().join("convert.json").exists());
    fs::remove_file(&signal).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_code(&out, 0);
    assert!(whole_state(&base.store()));
    assert_eq!(readings(&base), want);
}
