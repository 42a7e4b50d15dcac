//! `immdqa serve` (issue 22): real HTTP and HTTPS on 127.0.0.1, and real headless Chromium
//! through ChromeDriver. Every test serves its own copy of the demo's history.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use crate::util::{Exec, assert_code, db_file, immdqa};
use crate::web::{Browser, Server, throwaway_cert};

pub const PW: &str = "correct horse battery";

/// The demo's history (8 weeks) with four users: ana (dqo), lee (analyst), cy (compliance),
/// root1 (admin).
pub struct Team {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl Team {
    pub fn new() -> Team {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("demo");
        immdqa()
            .current_dir(dir.path())
            .args(["demo", "--weeks", "8", "--out"])
            .arg(&out)
            .exec()
            .code(0);
        let t = Team {
            config: out.join("immdqa-demo.toml"),
            dir,
        };
        for (u, r) in [
            ("ana", "dqo"),
            ("lee", "analyst"),
            ("cy", "compliance"),
            ("root1", "admin"),
        ] {
            t.add_user(u, r);
        }
        t
    }

    pub fn add_user(&self, user: &str, role: &str) {
        let mut c = immdqa()
            .arg("--config")
            .arg(&self.config)
            .args(["user", "add", user, "--role", role, "--password-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(c.stdin.take().unwrap(), "{PW}").unwrap();
        assert_code(&c.wait_with_output().unwrap(), 0);
    }

    /// Run a command and return it for chained assertions.
    pub fn cmd(&self, args: &[&str]) -> crate::util::Run {
        crate::util::Run(self.run(args))
    }
    pub fn run(&self, args: &[&str]) -> Output {
        immdqa()
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .output()
            .unwrap()
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let o = self.cmd(args);
        assert!(
            o.0.status.code().is_some_and(|c| c <= 2),
            "{args:?}: {}",
            o.err()
        );
        serde_json::from_str(&o.out()).unwrap()
    }

    pub fn store(&self) -> PathBuf {
        self.dir.path().join("demo/store")
    }

    pub fn mailbox(&self) -> PathBuf {
        self.dir.path().join("demo/mailbox")
    }

    /// Append to the configuration.
    pub fn configure(&self, extra: &str) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.config)
            .unwrap();
        writeln!(f, "\n{extra}").unwrap();
    }

    pub fn serve(&self) -> Server {
        Server::start(&self.config, &[], &[])
    }

    /// Every patient reference the history holds (worklist and consent follow-ups).
    pub fn patient_refs(&self) -> Vec<String> {
        let mut refs: Vec<String> = self
            .json(&["worklist", "--all", "--format", "json"])
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| i["patient_ref"].as_str().map(str::to_string))
            .collect();
        refs.sort();
        refs.dedup();
        assert!(refs.len() > 20, "the demo plants patient references");
        refs
    }
}

fn ids_of(v: &serde_json::Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

#[test]
fn plain_http_beyond_loopback_is_refused_and_bad_listen_is_a_usage_error() {
    let t = Team::new();
    for addr in ["0.0.0.0:8470", "[::]:8470", "192.0.2.10:8470"] {
        let o = t.cmd(&["serve", "--listen", addr]).code(64);
        let e = o.err();
        assert!(
            e.contains("refusing to serve plain HTTP") && e.contains("--tls-cert"),
            "{e}"
        );
    }
    t.cmd(&["serve", "--listen", "nonsense"]).code(64);
    t.cmd(&["serve", "--tls-cert", "x.pem"]).code(64);
}

#[test]
fn pages_need_a_session_the_api_a_token_and_the_host_must_be_ours() {
    let t = Team::new();
    let s = t.serve();
    let mut c = s.client();
    let r = c.get("/healthz");
    assert_eq!((r.status, r.text().as_str()), (200, "ok\n"));
    for page in [
        "/",
        "/worklist",
        "/worklist/1",
        "/consent",
        "/submissions",
        "/users",
        "/audit",
        "/worklist.csv",
    ] {
        let r = c.get(page);
        assert_eq!(r.status, 303, "{page}");
        assert!(
            r.header("location").unwrap().starts_with("/login?next="),
            "{page}"
        );
    }
    let r = c.get("/api/worklist");
    assert_eq!(r.status, 401);
    assert!(!r.text().contains("MRN"));
    let r = c.request(
        "GET",
        "/api/worklist",
        &[("Authorization", "Bearer not-a-token")],
        None,
    );
    assert_eq!(r.status, 401);
    // DNS rebinding: another name pointing at 127.0.0.1 gets nothing
    for host in ["evil.example.com", "evil.example.com:8470", "127.0.0.2"] {
        let r = c.request("GET", "/login", &[("Host", host)], None);
        assert_eq!(r.status, 421, "{host}");
    }
    let r = c.request(
        "GET",
        "/login",
        &[("Host", &format!("localhost:{}", s.port()))],
        None,
    );
    assert_eq!(r.status, 200);
    // security headers on every answer
    assert!(
        r.header("content-security-policy")
            .unwrap()
            .contains("default-src 'none'")
    );
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    // a configured name is answered
    drop(s);
    t.configure("[serve]\nhosts = [\"dq.clinic.example\"]");
    let s = t.serve();
    let mut c = s.client();
    assert_eq!(
        c.request("GET", "/login", &[("Host", "dq.clinic.example")], None)
            .status,
        200
    );
}

#[test]
fn csrf_guards_the_sign_in_and_every_form() {
    let t = Team::new();
    let s = t.serve();
    let mut c = s.client();
    c.get("/login");
    // no token, a wrong token: 403, no session
    for token in ["", "forged"] {
        let r = c.post(
            "/login",
            &[("csrf", token), ("username", "ana"), ("password", PW)],
        );
        assert_eq!(r.status, 403, "{token:?}");
        assert!(!c.cookies.contains_key("immdqa_session"));
    }
    let r = c.login("ana", PW);
    assert_eq!(r.status, 303);
    let cookie = c
        .raw_cookies
        .iter()
        .find(|h| h.starts_with("immdqa_session="))
        .unwrap();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP on loopback: {cookie}"
    );
    let open = ids_of(&t.json(&["worklist", "--format", "json"]));
    let id = open[0].to_string();
    // an action without the session's token changes nothing
    for token in [None, Some("forged")] {
        let mut form = vec![("action", "close"), ("id", id.as_str()), ("note", "x")];
        if let Some(tk) = token {
            form.push(("csrf", tk));
        }
        let r = c.post("/worklist/actions", &form);
        assert_eq!(r.status, 403, "{token:?}");
    }
    assert_eq!(ids_of(&t.json(&["worklist", "--format", "json"])), open);
    // the session's token from another session is not this one's
    let mut other = s.signed_in("ana", PW);
    let foreign = other.csrf();
    let r = c.post(
        "/worklist/actions",
        &[("action", "close"), ("id", &id), ("csrf", &foreign)],
    );
    assert_eq!(r.status, 403);
    // logout needs it too, and ends the session
    assert_eq!(c.post("/logout", &[("csrf", "forged")]).status, 403);
    let token = c.csrf();
    assert_eq!(c.post("/logout", &[("csrf", &token)]).status, 303);
    assert_eq!(c.get("/worklist").status, 303);
}

#[test]
fn roles_are_enforced_on_the_server_and_analysts_never_see_a_patient() {
    let t = Team::new();
    let refs = t.patient_refs();
    let s = t.serve();
    let mut lee = s.signed_in("lee", PW);
    let mut cy = s.signed_in("cy", PW);
    let mut ana = s.signed_in("ana", PW);
    let mut root = s.signed_in("root1", PW);
    let some_id = ids_of(&t.json(&["worklist", "--format", "json"]))[0];
    let batch = t.json(&["worklist", "--format", "json"])[0]["batch"]
        .as_str()
        .unwrap()
        .to_string();
    // the analyst reads every aggregate page and the worklist, never a patient reference
    let mut seen = String::new();
    for page in [
        "/".to_string(),
        "/worklist?status=all".into(),
        "/worklist?status=all&page=2".into(),
        format!("/worklist/{some_id}"),
        "/api/worklist?status=all".into(),
        "/worklist.csv?status=all".into(),
        "/submissions".into(),
        format!("/submissions/{batch}"),
        "/codes/CLR-105".into(),
    ] {
        let r = lee.get(&page);
        assert_eq!(r.status, 200, "analyst {page}: {}", r.text());
        seen.push_str(&r.text());
    }
    for p in &refs {
        assert!(!seen.contains(p.as_str()), "{p} shown to an analyst");
    }
    assert!(!seen.contains("patient_ref"));
    // the DQO sees them (the same pages)
    let r = ana.get(&format!("/worklist/{some_id}"));
    assert!(refs.iter().any(|p| r.text().contains(p.as_str())));
    // outside the role: 403, whatever the links show
    let csrf = lee.csrf();
    for (role, page) in [
        ("analyst", "/consent"),
        ("analyst", "/users"),
        ("compliance", "/worklist"),
        ("compliance", "/api/worklist"),
        ("dqo", "/consent"),
        ("dqo", "/audit"),
    ] {
        let c = match role {
            "analyst" => &mut lee,
            "compliance" => &mut cy,
            _ => &mut ana,
        };
        assert_eq!(c.get(page).status, 403, "{role} {page}");
    }
    let r = lee.post(
        "/worklist/actions",
        &[
            ("action", "close"),
            ("id", &some_id.to_string()),
            ("csrf", &csrf),
        ],
    );
    assert_eq!(r.status, 403, "an analyst cannot close");
    assert_eq!(
        ids_of(&t.json(&["worklist", "--format", "json"]))[0],
        some_id
    );
    // compliance reads consent follow-ups with names; admin manages users
    let r = cy.get("/consent");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("MRN"));
    let r = root.get("/users");
    assert_eq!(r.status, 200);
    assert!(r.text().contains("cy") && r.text().contains("compliance"));
    // the denials are in the audit trail
    let audit = t.json(&["audit", "--format", "json"]);
    let denied = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["event"] == "denied")
        .count();
    assert!(denied >= 6, "{audit}");
}

#[test]
fn failed_sign_ins_are_slowed_down_per_user_and_address() {
    let t = Team::new();
    let s = t.serve();
    let mut c = s.client();
    for i in 0..5 {
        let r = c.login("ana", "wrong password!");
        assert_eq!(r.status, 401, "attempt {i}");
        assert!(r.text().contains("Wrong user name or password"));
    }
    // now even the right password waits
    let r = c.login("ana", PW);
    assert_eq!(r.status, 429, "{}", r.text());
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    // the address is slowed down too (another user from the same address)
    assert_eq!(c.login("lee", PW).status, 429);
    // an unknown user fails the same way (no user enumeration)
    drop(s);
    let s = t.serve();
    let mut c = s.client();
    let r = c.login("nobody", PW);
    assert_eq!(r.status, 401);
    assert!(r.text().contains("Wrong user name or password"));
    let audit = t.json(&["audit", "--format", "json"]);
    let events: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["event"].as_str().unwrap())
        .collect();
    assert!(
        events.iter().filter(|e| **e == "login_failed").count() >= 6,
        "{events:?}"
    );
    assert!(events.contains(&"login_refused"), "{events:?}");
}

#[test]
fn sessions_end_after_idle_time() {
    let t = Team::new();
    t.configure("[serve]\nidle_minutes = 0.02");
    let s = t.serve();
    let mut c = s.signed_in("ana", PW);
    assert_eq!(c.get("/worklist").status, 200);
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(c.get("/worklist").status, 200, "activity keeps it alive");
    std::thread::sleep(Duration::from_millis(1600));
    let r = c.get("/worklist");
    assert_eq!(r.status, 303, "idle for longer than 1.2 s");
}

#[test]
fn every_number_equals_the_clis() {
    let t = Team::new();
    let s = t.serve();
    let mut ana = s.signed_in("ana", PW);
    // the API returns what `worklist --format json` prints, filter for filter
    for (query, args) in [
        ("", vec![]),
        ("?site=NORTH+CLINIC", vec!["--site", "NORTH CLINIC"]),
        ("?owner=clinical", vec!["--owner", "clinical"]),
        ("?status=all", vec!["--all"]),
    ] {
        let mut cli = vec!["worklist", "--format", "json"];
        cli.extend(args);
        let want = t.json(&cli);
        let got = ana.get(&format!("/api/worklist{query}")).json();
        assert_eq!(got, want, "{query}");
        // the page's count is the same
        let page = ana.get(&format!(
            "/worklist{}",
            if query.is_empty() {
                "?status=open"
            } else {
                query
            }
        ));
        let n = want.as_array().unwrap().len();
        assert!(
            page.text()
                .contains(&format!("<p id=\"count\">{n} item(s)")),
            "{query}: {n}"
        );
    }
    // a bearer token reads the same
    let o = t.cmd(&["user", "token", "ana"]).code(0);
    let token = o.out().trim().to_string();
    let mut anon = s.client();
    let r = anon.request(
        "GET",
        "/api/worklist",
        &[("Authorization", &format!("Bearer {token}"))],
        None,
    );
    assert_eq!(r.json(), t.json(&["worklist", "--format", "json"]));
    // only the token's hash is stored
    let db = crate::util::db(&t.store());
    let stored: String = db
        .query_row("SELECT token_hash FROM api_token", [], |r| r.get(0))
        .unwrap();
    assert_ne!(stored, token);
    assert_eq!(stored.len(), 64);
    // this week: computed once per state of the history, then shared
    let home = ana.get("/").text();
    assert_eq!(
        ana.get("/").text(),
        home,
        "the second view is the first one's page"
    );
    // the scorecard per site, as the report shows it
    assert!(home.contains("Scorecard per site this week"), "{home:.300}");
    let week = home
        .split("· week ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    let check = t.json(&["check", "--week", &week, "--format", "json"]);
    let level = check["level"].as_str().unwrap();
    assert!(
        home.contains(&format!("class=\"verdict {level}\"")),
        "check says {level}"
    );
    // the CSV download is the CLI's CSV of the same view
    let csv = ana.get("/worklist.csv?site=NORTH+CLINIC&sort=id&dir=asc");
    assert!(
        csv.header("content-disposition")
            .unwrap()
            .contains("worklist-NORTH_CLINIC.csv")
    );
    let o = t.cmd(&["worklist", "--site", "NORTH CLINIC", "--format", "csv"]);
    let want_text = o.out();
    let mut want: Vec<&str> = want_text.lines().collect::<Vec<_>>();
    let mut got_text = csv.text();
    got_text = got_text.replace("\r\n", "\n");
    let mut got: Vec<&str> = got_text.lines().collect();
    want[1..].sort();
    got[1..].sort();
    assert_eq!(got, want);
    // and the workbook holds the same rows
    let x = ana.get("/worklist.xlsx?site=NORTH+CLINIC");
    assert!(x.body.starts_with(b"PK"));
    let path = t.dir.path().join("w.xlsx");
    std::fs::write(&path, &x.body).unwrap();
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&path).unwrap();
    let range = wb.worksheet_range("worklist").unwrap();
    assert_eq!(range.height(), want.len());
    // a change made on the command line shows on the next view (the open backlog shrinks)
    let first = t.json(&["worklist", "--format", "json"])[0]["id"].to_string();
    t.cmd(&["worklist", "close", &first, "--note", "done"])
        .code(0);
    let after = ana.get("/").text();
    assert_ne!(after, home, "this week after a close");
}

#[test]
fn bulk_actions_are_the_clis_rows_with_history_and_audit_and_survive_a_rebuild() {
    let t = Team::new();
    t.configure("[owners.people]\nclinical = \"ana\"\n\"EAST CLINIC\" = \"lee\"");
    // every request logged (method, path, status): still no patient in the log
    let s = Server::start(&t.config, &["-v"], &[("IMMDQA_LOG", "immdqa=debug")]);
    let mut ana = s.signed_in("ana", PW);
    let north = ids_of(&t.json(&["worklist", "--site", "NORTH CLINIC", "--format", "json"]));
    assert!(north.len() >= 3);
    let (a, b, c) = (
        north[0].to_string(),
        north[1].to_string(),
        north[2].to_string(),
    );
    let csrf = ana.csrf();
    let r = ana.post(
        "/worklist/actions",
        &[
            ("csrf", &csrf),
            ("action", "close"),
            ("id", &a),
            ("id", &b),
            ("note", "fixed in the EHR, resent"),
            ("back", "site=NORTH+CLINIC"),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(r.header("location").unwrap().contains("done=2+item"));
    let r = ana.post(
        "/worklist/actions",
        &[
            ("csrf", &csrf),
            ("action", "assign"),
            ("id", &c),
            ("assignee", "lee"),
            ("note", "lot numbers"),
        ],
    );
    assert_eq!(r.status, 303);
    // the CLI sees the same state
    let all = t.json(&["worklist", "--all", "--format", "json"]);
    let get = |id: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"].to_string() == id)
            .unwrap()
            .clone()
    };
    assert_eq!(get(&a)["status"], "closed");
    assert!(
        get(&a)["note"]
            .as_str()
            .unwrap()
            .contains("ana: fixed in the EHR, resent")
    );
    assert_eq!(get(&c)["assignee"], "lee");
    let mine = ids_of(&t.json(&["worklist", "--assignee", "lee", "--format", "json"]));
    assert!(mine.contains(&c.parse().unwrap()));
    let show = t.cmd(&["worklist", "show", &a]).out();
    assert!(
        show.contains("closed by ana: fixed in the EHR, resent"),
        "{show}"
    );
    // [owners.people]: the default assignee of an item nobody assigned
    let east = t.json(&["worklist", "--site", "EAST CLINIC", "--format", "json"]);
    assert!(
        east.as_array()
            .unwrap()
            .iter()
            .all(|i| i["assignee"] == "lee")
    );
    // a CLI action shows on the next page load
    t.cmd(&["worklist", "reopen", &b, "--as", "cli-user"])
        .code(0);
    let page = ana.get(&format!("/worklist/{b}")).text();
    assert!(page.contains("reopened by cli-user"), "{page:.3000}");
    // the lists catch up with a change made elsewhere within moments (computed again in the
    // background while the previous list is served, marked as being brought up to date)
    let t0 = Instant::now();
    loop {
        let all = ana.get("/api/worklist?status=all").json();
        let st = all
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"].to_string() == b)
            .unwrap()["status"]
            .clone();
        if st == "open" {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the web still says {st} for a reopened item"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // the audit trail: who, what, which items
    let log = s.stop();
    let audit = t.json(&["audit", "--user", "ana", "--format", "json"]);
    let rows = audit.as_array().unwrap();
    let action = rows
        .iter()
        .find(|r| r["event"] == "action" && r["detail"].as_str().unwrap().contains("closed"))
        .unwrap();
    assert_eq!(action["items"].as_str().unwrap(), format!("{a},{b}"));
    assert!(rows.iter().any(|r| r["event"] == "login"));
    assert!(rows.iter().any(|r| r["event"] == "view" && r["detail"].as_str().unwrap().starts_with("/worklist")));
    // nothing about patients in the server's log (which logged every request)
    assert!(log.contains("POST /worklist/actions 303"), "{log:.2000}");
    for p in t.patient_refs() {
        assert!(!log.contains(p.as_str()), "{p} in the log");
    }
    // audit rows cannot be changed or removed
    let db = db_file(&t.store(), "audit.sqlite");
    assert!(db.execute("UPDATE audit SET user_name = 'x'", []).is_err());
    assert!(db.execute("DELETE FROM audit", []).is_err());
    drop(db);
    // a rebuild keeps users, tokens, the audit trail and the assignments
    let before = rows.len();
    t.cmd(&["rebuild", "--force"]).code(0);
    let after = t.json(&["audit", "--user", "ana", "--format", "json"]);
    assert_eq!(after.as_array().unwrap().len(), before);
    let all = t.json(&["worklist", "--all", "--format", "json"]);
    let get = |id: &str| {
        all.as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"].to_string() == id)
            .map(|v| v["assignee"].clone())
    };
    // ids are the ledger's: the same after a rebuild of the same archive
    assert_eq!(get(&c), Some(serde_json::json!("lee")));
    let s = t.serve();
    s.signed_in("ana", PW);
}

#[test]
fn https_only_with_a_certificate_and_beyond_loopback() {
    let t = Team::new();
    let (cert, key, client) = throwaway_cert(t.dir.path());
    let args = [
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ];
    let mut s = Server::start(&t.config, &args, &[]);
    s.tls = Some(client.clone());
    let mut c = s.signed_in("ana", PW);
    let cookie = c
        .raw_cookies
        .iter()
        .find(|h| h.starts_with("immdqa_session="))
        .unwrap()
        .clone();
    assert!(cookie.contains("; Secure"), "{cookie}");
    let r = c.get("/worklist");
    assert_eq!(r.status, 200);
    assert!(r.header("strict-transport-security").is_some());
    // plain HTTP on the same port gets no page
    let mut plain = s.client();
    plain.tls = None;
    let got =
        plain.exchange(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    assert!(got.map(|b| !b.starts_with(b"HTTP/1.1 200")).unwrap_or(true));
    drop(s);
    // with TLS, beyond loopback is allowed (here: every address), answering its configured name
    let mut args = args.to_vec();
    args.extend(["--listen", "0.0.0.0:0", "--host", "localhost"]);
    let mut s = Server::start(&t.config, &args, &[]);
    s.tls = Some(client);
    let mut c = s.client();
    c.host = format!("localhost:{}", s.port());
    assert_eq!(c.get("/healthz").status, 200);
    c.host = format!("127.0.0.1:{}", s.port());
    assert_eq!(
        c.get("/healthz").status,
        421,
        "a wildcard listener answers its configured names only"
    );
}

/// A fetch holding the store (paused inside its ingest transaction) does not block page loads;
/// an action waits for the lock, says "busy" and changes nothing; afterwards it goes through.
#[test]
fn pages_load_while_a_fetch_writes_and_actions_wait_for_it() {
    let t = Team::new();
    let s = t.serve();
    let mut ana = s.signed_in("ana", PW);
    let before = ana.get("/worklist").text();
    assert!(before.contains("item(s)"));
    // a new report in the mailbox for the fetch to ingest
    let dqa = t.mailbox().join("DQA-Reports");
    let src = std::fs::read_dir(&dqa)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("_DQA.csv"))
        .unwrap();
    let mut text = std::fs::read_to_string(&src).unwrap();
    text.push_str("\n");
    std::fs::write(dqa.join("DEMOCLIN99001_DQA.csv"), text).unwrap();
    let (child, signal) = paused(&t, &["fetch"], "ingest_before_commit");
    for page in ["/", "/worklist", "/submissions", "/api/worklist"] {
        let t0 = Instant::now();
        let r = ana.get(page);
        assert_eq!(r.status, 200, "{page} during the fetch");
        assert!(
            t0.elapsed() < Duration::from_secs(3),
            "{page} took {:?}",
            t0.elapsed()
        );
    }
    let id = ids_of(&t.json(&["worklist", "--format", "json"]))[0].to_string();
    let csrf = ana.csrf();
    let r = ana.post(
        "/worklist/actions",
        &[("csrf", &csrf), ("action", "close"), ("id", &id)],
    );
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(r.text().contains("busy"));
    std::fs::remove_file(&signal).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_code(&o, 0);
    let r = ana.post(
        "/worklist/actions",
        &[("csrf", &csrf), ("action", "close"), ("id", &id)],
    );
    assert_eq!(r.status, 303);
    let closed = t.json(&["worklist", "--all", "--format", "json"]);
    assert!(
        closed
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"].to_string() == id && i["status"] == "closed")
    );
}

fn paused(t: &Team, args: &[&str], point: &str) -> (std::process::Child, PathBuf) {
    let signal = t.dir.path().join(format!("paused-{point}"));
    let child = immdqa()
        .arg("--config")
        .arg(&t.config)
        .args(args)
        .env("IMMDQA_PAUSE_AT", point)
        .env("IMMDQA_PAUSE_FILE", &signal)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !signal.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "{args:?} never reached {point}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    (child, signal)
}

#[test]
fn user_commands_manage_people_with_hashed_passwords() {
    let t = Team::new();
    let o = t.cmd(&["user", "list"]);
    let out = o.out();
    for u in ["ana", "lee", "cy", "root1"] {
        assert!(out.contains(u), "{out}");
    }
    let db = crate::util::db(&t.store());
    let hash: String = db
        .query_row(
            "SELECT password_hash FROM app_user WHERE name = 'ana'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains(PW));
    drop(db);
    // a short password, a bad role, a taken name: usage errors, nothing added
    let mut c = immdqa()
        .arg("--config")
        .arg(&t.config)
        .args(["user", "add", "short", "--role", "dqo", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(c.stdin.take().unwrap(), "tooshort").unwrap();
    let o = c.wait_with_output().unwrap();
    assert_code(&o, 64);
    t.cmd(&["user", "add", "x", "--role", "boss"]).code(64);
    let s = t.serve();
    // removal signs out at the next request and refuses the password
    let mut lee = s.signed_in("lee", PW);
    let mut ana = s.signed_in("ana", PW);
    assert_eq!(lee.get("/worklist").status, 200);
    t.cmd(&["user", "remove", "lee"]).code(0);
    let r = lee.get("/worklist");
    assert_eq!(
        r.status, 303,
        "a removed user's session ends at the next request"
    );
    assert_eq!(lee.login("lee", PW).status, 401);
    // a new password ends the sessions opened with the old one
    let mut c = immdqa()
        .arg("--config")
        .arg(&t.config)
        .args(["user", "passwd", "ana", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(c.stdin.take().unwrap(), "another long password").unwrap();
    assert_code(&c.wait_with_output().unwrap(), 0);
    assert_eq!(ana.get("/worklist").status, 303);
    assert_eq!(ana.login("ana", PW).status, 401);
    assert_eq!(ana.login("ana", "another long password").status, 303);
    t.cmd(&["user", "remove", "lee"]).code(3);
}

/// The weekly routine in a real browser: sign in, filter the worklist to one site, tick two
/// items and close them with a note; a compliance officer closes a consent follow-up.
#[test]
fn a_dqo_and_a_compliance_officer_work_in_headless_chromium() {
    let Some(mut b) = Browser::start() else {
        return;
    };
    let t = Team::new();
    let s = t.serve();
    let base = format!("http://127.0.0.1:{}", s.port());
    b.goto(&format!("{base}/worklist"));
    assert!(b.url().contains("/login?next=%2Fworklist"), "{}", b.url());
    let user = b.find("input[name=username]");
    b.type_into(&user, "ana");
    let pw = b.find("input[name=password]");
    b.type_into(&pw, PW);
    let submit = b.find("button[type=submit]");
    b.click(&submit);
    b.wait_url("/worklist");
    b.wait_for("#worklist");
    // this week: the verdict and the report's charts, from a browser
    b.goto(&format!("{base}/"));
    let verdict = b.wait_for(".verdict");
    assert!(b.text_of(&verdict).starts_with("Thresholds:"));
    assert!(b.find_all("figure svg").len() >= 4);
    b.screenshot(&t.dir.path().join("home.png"));
    b.goto(&format!("{base}/worklist"));
    b.wait_for("#worklist");
    // filter to one site
    b.select("select[name=site]", "NORTH CLINIC");
    let filter = b.find("form.filters button");
    b.click(&filter);
    b.wait_url("site=NORTH+CLINIC");
    b.wait_for("#count");
    let want = ids_of(&t.json(&["worklist", "--site", "NORTH CLINIC", "--format", "json"]));
    let count = b.find("#count");
    let text = b.text_of(&count);
    assert!(
        text.starts_with(&format!("{} item(s)", want.len())),
        "{text}"
    );
    // tick two rows, close them with a note
    let boxes = b.find_all("#worklist input[name=id]");
    assert!(boxes.len() >= 2);
    b.click(&boxes[0]);
    b.click(&boxes[1]);
    b.select("select[name=action]", "close");
    let note = b.find(".act input[name=note]");
    b.type_into(&note, "lot corrected, resent");
    let apply = b.find(".act button");
    b.click(&apply);
    b.wait_url("done=");
    let flash = b.wait_for(".flash");
    assert_eq!(b.text_of(&flash), "2 item(s) closed");
    b.screenshot(&t.dir.path().join("worklist.png"));
    let left = ids_of(&t.json(&["worklist", "--site", "NORTH CLINIC", "--format", "json"]));
    assert_eq!(left.len(), want.len() - 2);
    let all = t.json(&["worklist", "--all", "--format", "json"]);
    let closed: Vec<_> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] == "closed")
        .collect();
    assert_eq!(closed.len(), 2);
    assert!(closed.iter().all(|i| {
        i["note"]
            .as_str()
            .unwrap()
            .contains("ana: lot corrected, resent")
    }));
    // "select every row" works (the page's script)
    let all_box = b.find("#all");
    b.click(&all_box);
    let ticked = b.find_all("#worklist input[name=id]:checked");
    assert_eq!(ticked.len(), b.find_all("#worklist input[name=id]").len());
    // sign out, then the compliance officer closes a consent follow-up
    let out = b.find("header button");
    b.click(&out);
    b.wait_url("/login");
    b.wait_for("input[name=username]");
    let open_before = t
        .json(&["consent", "--open", "--format", "json"])
        .as_array()
        .unwrap()
        .len();
    b.goto(&format!("{base}/consent"));
    let user = b.find("input[name=username]");
    b.type_into(&user, "cy");
    let pw = b.find("input[name=password]");
    b.type_into(&pw, PW);
    let submit = b.find("button[type=submit]");
    b.click(&submit);
    b.wait_url("/consent");
    b.wait_for("#consent");
    let rows = b.find_all("#consent input[name=id]");
    assert_eq!(rows.len(), open_before);
    b.click(&rows[0]);
    let note = b.find(".act input[name=note]");
    b.type_into(&note, "called the family");
    let close = b.find(".act button");
    b.click(&close);
    b.wait_url("done=");
    let flash = b.wait_for(".flash");
    assert_eq!(b.text_of(&flash), "1 follow-up(s) closed");
    b.screenshot(&t.dir.path().join("consent.png"));
    let open_after = t
        .json(&["consent", "--open", "--format", "json"])
        .as_array()
        .unwrap()
        .len();
    assert_eq!(open_after, open_before - 1);
    if let Ok(dir) = std::env::var("IMMDQA_SCREENSHOTS") {
        for f in ["home.png", "worklist.png", "consent.png"] {
            let _ = std::fs::copy(t.dir.path().join(f), Path::new(&dir).join(f));
        }
    }
}
