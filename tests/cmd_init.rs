//! First run of a real user: `init`, completions, man page, and errors a person can act on.

use std::fs;
use std::os::unix::fs::MetadataExt;

use crate::util::*;

#[test]
fn init_writes_an_owner_only_valid_config_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("conf/immdqa.toml");
    immdqa()
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "--profile",
            "clinic",
            "init",
            "--host",
            "sftp.example.org",
            "--user",
            "ACME",
            "--import-code",
            "ACMECLIN",
            "--password-env",
            "IMMDQA_PW",
        ])
        .stdin(std::process::Stdio::null())
        .exec()
        .code(0)
        .out_has("trust-host");
    assert_eq!(fs::metadata(&cfg).unwrap().mode() & 0o777, 0o600);
    let text = fs::read_to_string(&cfg).unwrap();
    assert!(
        text.contains("[profiles.clinic]") && text.contains("password_env = \"IMMDQA_PW\""),
        "{text}"
    );
    // the written config is understood by config check (which reports the unset variable)
    immdqa()
        .args(["--config", cfg.to_str().unwrap(), "config", "check"])
        .exec()
        .out_has("password from $IMMDQA_PW (NOT SET)");
    // not overwritten without --force; missing answers without a terminal are an error
    immdqa()
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "init",
            "--host",
            "h",
            "--user",
            "u",
        ])
        .stdin(std::process::Stdio::null())
        .exec()
        .code(3)
        .err_has("already exists");
    let other = dir.path().join("other.toml");
    immdqa()
        .args(["--config", other.to_str().unwrap(), "init", "--host", "h"])
        .stdin(std::process::Stdio::null())
        .exec()
        .code(3)
        .err_has("user (account) is required: pass it as a flag");
    assert!(!other.exists());
    // a local-folder profile: the folder must exist
    let local = dir.path().join("local.toml");
    let mailbox = dir.path().join("mailbox");
    let init_local = |folder: &std::path::Path, code: &str| {
        immdqa()
            .args([
                "--config",
                local.to_str().unwrap(),
                "init",
                "--local-dir",
                folder.to_str().unwrap(),
                "--import-code",
                code,
            ])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let o = init_local(&mailbox, "X");
    assert_code(&o, 64);
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
    fs::create_dir(&mailbox).unwrap();
    // an empty import code or user is refused
    let o = init_local(&mailbox, " ");
    assert_code(&o, 64);
    assert!(
        stderr(&o).contains("the import code cannot be empty"),
        "{}",
        stderr(&o)
    );
    assert!(!local.exists());
    immdqa()
        .args([
            "--config",
            other.to_str().unwrap(),
            "init",
            "--host",
            "h",
            "--user",
            "",
            "--import-code",
            "X",
            "--password-env",
            "P",
        ])
        .stdin(std::process::Stdio::null())
        .exec()
        .code(64)
        .err_has("the user (account) cannot be empty");
    let o = init_local(&mailbox, "X");
    assert_code(&o, 0);
    assert!(fs::read_to_string(&local).unwrap().contains(&format!(
        "local_dir = {:?}",
        mailbox.canonicalize().unwrap().display().to_string()
    )));
    // with no config at all, errors point to `immdqa init`
    immdqa()
        .args([
            "--config",
            dir.path().join("none.toml").to_str().unwrap(),
            "fetch",
        ])
        .exec()
        .code(3)
        .err_has("immdqa init");
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        let o = immdqa().args(["completions", shell]).exec().code(0);
        assert!(
            o.out().contains("fetch") && o.out().contains("report"),
            "{shell}"
        );
    }
    immdqa().arg("man").exec().code(0).out_has(".TH immdqa 1");
    // every subcommand's help has an example
    use clap::CommandFactory;
    let cmds: Vec<String> = immdqa::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .filter(|c| c != "help")
        .collect();
    assert!(cmds.len() >= 20, "{cmds:?}");
    for c in cmds {
        let o = immdqa().args([c.as_str(), "--help"]).exec();
        let h = o.out();
        let has_example = h.contains("Example: immdqa")
            || h.contains("Examples:\n  immdqa")
            || (c == "config" && h.contains("check"));
        assert!(has_example, "`immdqa {c} --help` has no example:\n{h}");
    }
}

#[test]
fn errors_a_person_can_act_on() {
    // no files yet: an empty mailbox
    let ws = Workspace::new();
    ws.local_config();
    ws.cmd(&["fetch"])
        .code(0)
        .out_has("fetch: nothing new (0 unchanged, 0 skipped)");
    // empty history
    ws.cmd(&["trends"]).code(0).out_has(
        "no findings in the history for that range: run `immdqa fetch` or `immdqa import` first",
    );
    ws.cmd(&["changes"]).out_has("the history is empty");
    // an empty history is no reason for an OK: it warns (a cron job with a broken fetch)
    ws.cmd(&["check"]).code(1).out_has("WARN: data: no data");
    // no config at all
    let o = immdqa()
        .args(["--config", "/nonexistent/x.toml", "fetch"])
        .exec()
        .code(3);
    let e = o.err();
    assert!(
        !e.contains("panicked") && !e.contains("stack backtrace"),
        "{e}"
    );
}
