//! `immdqa config check|default|path` and configuration errors.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use crate::util::*;

#[test]
fn default_prints_the_example_which_parses() {
    let o = immdqa().args(["config", "default"]).exec().code(0);
    let text = o.out();
    assert!(text.contains("[profiles.registry]"));
    let ws = Workspace::new();
    ws.write_config(&text);
    // valid TOML with the documented keys: check runs (and reports the unset password var)
    let o = ws
        .cmd(&["config", "check", "--profile", "registry"])
        .code(3);
    let out = o.out();
    assert!(
        out.contains("password from $IMMDQA_PASSWORD (NOT SET)"),
        "{out}"
    );
    assert!(
        out.contains("known_hosts") && out.contains("trust-host"),
        "{out}"
    );
}

#[test]
fn check_masks_secrets_and_flags_problems() {
    let ws = Workspace::new();
    let key = ws.path().join("id_ed25519");
    fs::write(&key, "not really a key").unwrap();
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
    ws.write_config(&format!(
        "store = {:?}\n[profiles.a]\nhost='h'\nuser='u'\nkey_file={key:?}\nknown_hosts='/nonexistent/kh'\n[profiles.b]\nhost='h'\nuser='u'\npassword_env='IMMDQA_T_PW'\n[profiles.c]\nhost='h'\nuser='u'\npassword='hunter2-secret'\n",
        ws.store()
    ));
    // the file holds a password: make it world-readable to trigger the refusal
    fs::set_permissions(ws.config(), fs::Permissions::from_mode(0o644)).unwrap();
    let o = ws
        .cmd_env(&["config", "check"], &[("IMMDQA_T_PW", "pw-value-xyz")])
        .code(3);
    let out = o.out() + &o.err();
    assert!(
        !out.contains("pw-value-xyz"),
        "password value leaked: {out}"
    );
    assert!(!out.contains("hunter2-secret"), "password leaked: {out}");
    assert!(
        out.contains("password from $IMMDQA_T_PW (set, ********)"),
        "{out}"
    );
    assert!(
        out.contains("is readable by others (mode 644); run chmod 600"),
        "{out}"
    );
    assert!(
        out.contains("holds a password but is readable by others"),
        "{out}"
    );
    assert!(
        out.contains("known_hosts /nonexistent/kh does not exist yet"),
        "{out}"
    );
    // fetch refuses the world-readable config holding a password
    ws.cmd(&["fetch", "--profile", "c"])
        .code(3)
        .err_has("holds a password but is readable by others");
}

#[test]
fn bad_config_names_file_and_line() {
    let ws = Workspace::new();
    ws.write_config_plain("[profiles.a]\nlocal_dir = 'x'\nretires = 3\n");
    let o = ws.cmd(&["fetch"]).code(3);
    let err = o.err();
    assert!(
        err.contains("config.toml") && err.contains("retires") && err.contains("line 3"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn unknown_profile_lists_the_available_ones() {
    let ws = Workspace::new();
    ws.local_config();
    let o = ws.cmd(&["fetch", "--profile", "nope"]).code(3);
    assert!(
        o.err().contains("no profile named 'nope'") && o.err().contains("(profiles: t)"),
        "{}",
        o.err()
    );
}

#[test]
fn missing_explicit_config_is_an_error() {
    immdqa()
        .args(["--config", "/nonexistent/immdqa.toml", "status"])
        .exec()
        .code(3)
        .err_has("cannot read config file /nonexistent/immdqa.toml");
}

/// `config check` shows each transport as its options describe themselves, with what is
/// wrong before any connection (the lines and problems come from `transport::preflight`).
#[test]
fn config_check_describes_the_transport_and_its_problems() {
    let ws = Workspace::new();
    let kh = ws.path().join("known_hosts");
    let cfg = ws.write_config(&format!(
        "[profiles.reg]\nhost = \"sftp.example.org\"\nuser = \"clinic\"\npassword_env = \"IMMDQA_TEST_PASSWORD_UNSET\"\nknown_hosts = \"{}\"\n",
        kh.display()
    ));
    let o = immdqa()
        .arg("--config")
        .arg(&cfg)
        .args(["config", "check"])
        .env_remove("IMMDQA_TEST_PASSWORD_UNSET")
        .exec()
        .code(3);
    let out = o.out();
    for line in [
        "  transport:    sftp://clinic@sftp.example.org:22\n",
        "  auth:         password from $IMMDQA_TEST_PASSWORD_UNSET (NOT SET)\n",
        "  known_hosts:  ",
    ] {
        assert!(out.contains(line), "{line:?} in {out}");
    }
    for problem in [
        "environment variable IMMDQA_TEST_PASSWORD_UNSET (password) is not set",
        "does not exist yet: run `immdqa trust-host --profile reg`",
    ] {
        assert!(out.contains(problem), "{problem:?} in {out}");
    }
}
