//! Helpers for the web workspace's tests: `immdqa serve` started on 127.0.0.1 (a free port),
//! a small HTTP/1.1 client over a plain or TLS socket (every header under the test's control:
//! Host, cookies, no redirect followed), a throwaway certificate, and a WebDriver client for
//! ChromeDriver (headless Chromium).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::util::immdqa;

/// A running `immdqa serve`; killed when dropped. Its standard error is kept (`log`).
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub tls: Option<Arc<rustls::ClientConfig>>,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Start `immdqa --config CONFIG serve ARGS --listen 127.0.0.1:0` and wait for its address.
    pub fn start(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = immdqa();
        cmd.arg("--config").arg(config).arg("serve").args(args);
        if !args.contains(&"--listen") {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let err = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let keep = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("immdqa serve: ") {
                    let url = rest.split_whitespace().next().unwrap_or("").to_string();
                    let _ = tx.send(url);
                }
                keep.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(u) => u,
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().ok();
                panic!("serve did not start ({status:?}): {}", log.lock().unwrap());
            }
        };
        let addr = url
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap();
        Server {
            child,
            addr,
            tls: None,
            log,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// A client with its own cookies, sending `Host: 127.0.0.1:PORT`.
    pub fn client(&self) -> Http {
        Http {
            addr: SocketAddr::from(([127, 0, 0, 1], self.port())),
            host: format!("127.0.0.1:{}", self.port()),
            tls: self.tls.clone(),
            cookies: BTreeMap::new(),
            raw_cookies: Vec::new(),
        }
    }

    /// A client signed in as `user` (asserts the sign-in worked).
    pub fn signed_in(&self, user: &str, password: &str) -> Http {
        let mut c = self.client();
        let r = c.login(user, password);
        assert_eq!(r.status, 303, "sign-in of {user}: {}", r.text());
        c
    }

    /// What the server wrote on standard error so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Stop with SIGTERM (the audit writer flushes), then wait.
    pub fn stop(mut self) -> String {
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(100));
        self.log()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One answer.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    /// The value of the first hidden input named `name`.
    pub fn input(&self, name: &str) -> String {
        let t = self.text();
        let key = format!("name=\"{name}\" value=\"");
        let at = t
            .find(&key)
            .unwrap_or_else(|| panic!("no input {name} in {t:.2000}"));
        t[at + key.len()..].split('"').next().unwrap().to_string()
    }
}

/// A minimal HTTP/1.1 client: one connection per request, cookies kept, redirects not
/// followed, every header as the test sets it.
pub struct Http {
    pub addr: SocketAddr,
    pub host: String,
    pub tls: Option<Arc<rustls::ClientConfig>>,
    pub cookies: BTreeMap<String, String>,
    /// Every Set-Cookie header seen, as sent.
    pub raw_cookies: Vec<String>,
}

impl Http {
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Resp {
        let mut req = format!("{method} {path} HTTP/1.1\r\n");
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            req.push_str(&format!("Host: {}\r\n", self.host));
        }
        req.push_str("Connection: close\r\n");
        if !self.cookies.is_empty() {
            let c: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req.push_str(&format!("Cookie: {}\r\n", c.join("; ")));
        }
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(b) = body {
            req.push_str(&format!("Content-Length: {}\r\n", b.len()));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body.unwrap_or_default());
        let raw = self.exchange(&bytes).expect("a request on loopback");
        let resp = parse(&raw);
        for c in resp.headers_named("set-cookie") {
            self.raw_cookies.push(c.to_string());
            let first = c.split(';').next().unwrap_or("");
            if let Some((k, v)) = first.split_once('=') {
                if v.is_empty() || c.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_string(), v.to_string());
                }
            }
        }
        resp
    }

    /// Send raw bytes and read to the end (plain or TLS).
    pub fn exchange(&self, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut tcp = TcpStream::connect_timeout(&self.addr, Duration::from_secs(10))?;
        tcp.set_read_timeout(Some(Duration::from_secs(60)))?;
        match &self.tls {
            None => {
                tcp.write_all(bytes)?;
                read_answer(&mut tcp)
            }
            Some(cfg) => {
                let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
                let mut conn = rustls::ClientConnection::new(cfg.clone(), name)
                    .map_err(std::io::Error::other)?;
                let mut s = rustls::Stream::new(&mut conn, &mut tcp);
                s.write_all(bytes)?;
                read_answer(&mut s)
            }
        }
    }

    pub fn get(&mut self, path: &str) -> Resp {
        self.request("GET", path, &[], None)
    }

    pub fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Resp {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in form {
            s.append_pair(k, v);
        }
        let body = s.finish();
        self.request(
            "POST",
            path,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            Some(body.as_bytes()),
        )
    }

    /// The login form, then its POST.
    pub fn login(&mut self, user: &str, password: &str) -> Resp {
        let form = self.get("/login");
        assert_eq!(form.status, 200, "{}", form.text());
        let csrf = form.input("csrf");
        self.post(
            "/login",
            &[
                ("csrf", &csrf),
                ("username", user),
                ("password", password),
                ("next", "/"),
            ],
        )
    }

    /// The CSRF token of this session (from a page's sign-out form).
    pub fn csrf(&mut self) -> String {
        self.get("/submissions").input("csrf")
    }
}

/// Read one answer: to its Content-Length, the end of its chunks, or the end of the stream
/// (a server may keep the connection open whatever the request asked).
fn read_answer(r: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 16384];
    loop {
        let n = match r.read(&mut buf) {
            Ok(n) => n,
            // a TLS peer closing without close_notify: what was read stands
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            Err(e) if !out.is_empty() && e.kind() == std::io::ErrorKind::ConnectionReset => 0,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
        if let Some(end) = out.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&out[..end]).to_ascii_lowercase();
            let body = out.len() - end - 4;
            if let Some(len) = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
            {
                if body >= len {
                    return Ok(out);
                }
            } else if head.contains("transfer-encoding: chunked") && out.ends_with(b"0\r\n\r\n") {
                return Ok(out);
            }
        }
    }
}

fn parse(raw: &[u8]) -> Resp {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no HTTP answer: {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
    {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(nl) = rest.windows(2).position(|w| w == b"\r\n") {
            let n =
                usize::from_str_radix(String::from_utf8_lossy(&rest[..nl]).trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[nl + 2..nl + 2 + n]);
            rest = &rest[nl + 2 + n + 2..];
        }
        body = out;
    }
    Resp {
        status,
        headers,
        body,
    }
}

/// A throwaway self-signed certificate for `localhost` and 127.0.0.1: (cert, key, a client
/// configuration that trusts only it).
pub fn throwaway_cert(dir: &Path) -> (PathBuf, PathBuf, Arc<rustls::ClientConfig>) {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let o = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl (apt-get install openssl)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pki_types::CertificateDer::pem_file_iter(&cert).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (cert, key, Arc::new(cfg))
}

/// ChromeDriver driving headless Chromium (one session); both stopped when dropped.
pub struct Browser {
    driver: Child,
    http: Http,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// None when Chromium or ChromeDriver is missing (a failure when IMMDQA_REQUIRE_CHROMIUM=1).
    pub fn start() -> Option<Browser> {
        let have =
            Path::new("/usr/bin/chromium").exists() && Path::new("/usr/bin/chromedriver").exists();
        if !have {
            if std::env::var("IMMDQA_REQUIRE_CHROMIUM").as_deref() == Ok("1") {
                panic!(
                    "IMMDQA_REQUIRE_CHROMIUM=1 but chromium or chromedriver is missing: apt-get install -y chromium chromium-driver"
                );
            }
            eprintln!("skipping: chromium or chromedriver not installed");
            return None;
        }
        let port = free_port();
        let profile = tempfile::tempdir().unwrap();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // whatever happens from here on (a panic included), the driver and the browser it
        // started go with the guard
        let mut guard = Reap {
            driver: Some(driver),
            profile: profile.path().to_path_buf(),
        };
        let mut http = Http {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            host: format!("127.0.0.1:{port}"),
            tls: None,
            cookies: BTreeMap::new(),
            raw_cookies: Vec::new(),
        };
        let t = Instant::now();
        while TcpStream::connect(http.addr).is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let caps = serde_json::json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
                    format!("--user-data-dir={}", profile.path().display())]
            }
        }}});
        let r = http.request(
            "POST",
            "/session",
            &[("Content-Type", "application/json")],
            Some(caps.to_string().as_bytes()),
        );
        let v = r.json();
        let session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {v}"))
            .to_string();
        Some(Browser {
            driver: guard.driver.take().unwrap(),
            http,
            session,
            _profile: profile,
        })
    }

    fn call(&mut self, method: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
        let path = format!("/session/{}{path}", self.session);
        let b = body.to_string();
        let r = self.http.request(
            method,
            &path,
            &[("Content-Type", "application/json")],
            (method == "POST").then_some(b.as_bytes()),
        );
        let v = r.json();
        assert!(
            r.status == 200,
            "WebDriver {method} {path}: {} {v}",
            r.status
        );
        v["value"].clone()
    }

    pub fn goto(&mut self, url: &str) {
        self.call("POST", "/url", serde_json::json!({ "url": url }));
    }

    pub fn url(&mut self) -> String {
        self.call("GET", "/url", serde_json::Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The element a CSS selector finds first.
    pub fn find(&mut self, css: &str) -> String {
        let v = self.call(
            "POST",
            "/element",
            serde_json::json!({"using": "css selector", "value": css}),
        );
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(|v| v.as_str())
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_string()
    }

    /// The first element of a CSS selector once the page shows it (a click's navigation may
    /// still be loading): tried for up to 15 seconds.
    pub fn wait_for(&mut self, css: &str) -> String {
        let t = Instant::now();
        loop {
            let found = self.find_all(css);
            if let Some(e) = found.into_iter().next() {
                return e;
            }
            assert!(
                t.elapsed() < Duration::from_secs(15),
                "no element {css} at {}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Wait (up to 15 seconds) until the address holds `part` (a click's navigation done).
    pub fn wait_url(&mut self, part: &str) -> String {
        let t = Instant::now();
        loop {
            let u = self.url();
            if u.contains(part) {
                return u;
            }
            assert!(
                t.elapsed() < Duration::from_secs(15),
                "still at {u}, waiting for {part}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn find_all(&mut self, css: &str) -> Vec<String> {
        let v = self.call(
            "POST",
            "/elements",
            serde_json::json!({"using": "css selector", "value": css}),
        );
        v.as_array()
            .unwrap()
            .iter()
            .filter_map(|e| {
                e.as_object()
                    .and_then(|o| o.values().next())
                    .and_then(|v| v.as_str())
            })
            .map(str::to_string)
            .collect()
    }

    pub fn click(&mut self, el: &str) {
        self.call(
            "POST",
            &format!("/element/{el}/click"),
            serde_json::json!({}),
        );
    }

    pub fn type_into(&mut self, el: &str, text: &str) {
        self.call(
            "POST",
            &format!("/element/{el}/value"),
            serde_json::json!({ "text": text }),
        );
    }

    pub fn text_of(&mut self, el: &str) -> String {
        self.call(
            "GET",
            &format!("/element/{el}/text"),
            serde_json::Value::Null,
        )
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// Choose the option of a select whose text is `text`.
    pub fn select(&mut self, select_css: &str, text: &str) {
        let opts = self.find_all(&format!("{select_css} option"));
        for o in opts {
            if self.text_of(&o) == text {
                self.click(&o);
                return;
            }
        }
        panic!("no option {text} in {select_css}");
    }

    /// Browser console errors (severe) so far.
    pub fn screenshot(&mut self, to: &Path) {
        use base64::Engine;
        let v = self.call("GET", "/screenshot", serde_json::Value::Null);
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap())
            .unwrap();
        std::fs::write(to, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let path = format!("/session/{}", self.session);
        let _ = self.http.request("DELETE", &path, &[], None);
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        reap_browsers(self._profile.path());
    }
}

/// Until a session is made: kills the driver and any browser of this profile when dropped.
struct Reap {
    driver: Option<Child>,
    profile: PathBuf,
}

impl Drop for Reap {
    fn drop(&mut self) {
        if let Some(mut d) = self.driver.take() {
            let _ = d.kill();
            let _ = d.wait();
            reap_browsers(&self.profile);
        }
    }
}

/// Chromium processes started with this profile (a driver killed mid-session leaves them).
fn reap_browsers(profile: &Path) {
    let _ = Command::new("pkill")
        .arg("-f")
        .arg(format!("user-data-dir={}", profile.display()))
        .status();
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
