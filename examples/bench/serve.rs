//! B11: the web workspace's worklist page (first 50 of the open items over B9's store of 1 M
//! messages) under 20 concurrent clients while a sync-sized import (a sent batch of 200,000
//! messages: a health system's week) runs. Two rows: the page's p95 latency against B9's CLI time (the page must not
//! be slower than asking the CLI), and the import's time under that load against the same
//! import alone.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{Run, Series, measure, show_run};
use crate::{Bench, Row};

const CLIENTS: usize = 20;
/// Between an answer and a client's next page: 20 people clicking 4 pages a second each
/// (far more than a team reads). Without a pause the clients saturate both cores of the
/// machine themselves; those figures are reported in the notes.
const PAUSE: Duration = Duration::from_millis(250);
const BATCH: u64 = 200_000;
const PW: &str = "bench password 11";

/// One GET or POST on a new connection: (status, Set-Cookie headers, body).
fn http(addr: SocketAddr, req: &str) -> std::io::Result<(u16, Vec<String>, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(120)))?;
    s.write_all(req.as_bytes())?;
    let mut out = Vec::new();
    s.read_to_end(&mut out)?;
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let cookies = head
        .lines()
        .filter_map(|l| l.strip_prefix("set-cookie: "))
        .map(|c| c.split(';').next().unwrap_or("").to_string())
        .collect();
    Ok((status, cookies, body.to_string()))
}

fn get(addr: SocketAddr, path: &str, cookie: &str) -> std::io::Result<(u16, Vec<String>, String)> {
    http(
        addr,
        &format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nCookie: {cookie}\r\n\r\n"
        ),
    )
}

/// Sign in: the session cookie.
fn login(addr: SocketAddr, user: &str) -> anyhow::Result<String> {
    let (_, cookies, body) = get(addr, "/login", "")?;
    let csrf = body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .ok_or_else(|| anyhow::anyhow!("no sign-in form"))?;
    let form = format!(
        "csrf={csrf}&username={user}&password={}&next=%2F",
        PW.replace(' ', "+")
    );
    let (status, cookies2, _) = http(
        addr,
        &format!(
            "POST /login HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nCookie: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            cookies.join("; "),
            form.len()
        ),
    )?;
    anyhow::ensure!(status == 303, "sign-in answered {status}");
    cookies2
        .into_iter()
        .find(|c| c.starts_with("immdqa_session="))
        .ok_or_else(|| anyhow::anyhow!("no session cookie"))
}

/// A sent batch of `n` messages named `name` (a sync-sized import), every 20th rejected in
/// its ACK is not needed: the import alone is measured.
fn batch(dir: &Path, name: &str, n: u64, seed: u64) -> anyhow::Result<std::path::PathBuf> {
    let p = dir.join(name);
    if p.exists() {
        return Ok(p);
    }
    let mut b = std::io::BufWriter::new(std::fs::File::create(&p)?);
    write!(b, "FHS|^~\\&|EHR|BENCH\rBHS|^~\\&|EHR|BENCH\r")?;
    for i in 1..=n {
        let cid = format!("S{seed:03}{i:08}");
        write!(
            b,
            "MSH|^~\\&|EHR|BENCH CLINIC|TXImmTrac|TxDSHS|20250114090000||VXU^V04^VXU_V04|{cid}|P|2.5.1\r\
PID|1||MRN{:07}^^^BENCH^MR||DOE^ANN||20150301|F\rPD1||||||||||||TXY|20250101\r\
ORC|RE||{cid}|||||||||1234567^DOC\r\
RXA|0|1|20250113|20250113|20^DTaP^CVX|0.5|mL||00|PRV{}^DOC^A|^^^NORTH||||LOT1||PMC^^MVX|||CP|A\r",
            (seed * 7919 + i) % 999_983,
            i % 40
        )?;
    }
    write!(b, "BTS|{n}\rFTS|1\r")?;
    b.flush()?;
    Ok(p)
}

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(b: &Bench, cfg: &Path, dir: &Path) -> anyhow::Result<(Server, SocketAddr)> {
    let log = dir.join("serve.log");
    let mut child = b
        .cli(cfg, &["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let err = child.stderr.take().unwrap();
    let server = Server(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        let mut keep = std::fs::File::create(log).ok();
        for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("immdqa serve: http://") {
                let _ = tx.send(
                    rest.trim_end_matches(|c| c != '/')
                        .trim_end_matches('/')
                        .to_string(),
                );
            }
            if let Some(f) = keep.as_mut() {
                let _ = writeln!(f, "{line}");
            }
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(120))?;
    Ok((
        server,
        addr.split_whitespace().next().unwrap_or("").parse()?,
    ))
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1]
}

/// Import `batch` while `CLIENTS` clients load the worklist page (each pausing `pause` between
/// pages): the import's run, the page latencies, the failed pages.
fn under_load(
    b: &Bench,
    cfg: &Path,
    dir: &Path,
    addr: SocketAddr,
    cookie: &str,
    batch: &Path,
    pause: Duration,
) -> anyhow::Result<(Run, Vec<f64>, usize)> {
    let stop = Arc::new(AtomicBool::new(false));
    let lat = Arc::new(Mutex::new((Vec::<f64>::new(), 0usize)));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (stop, lat, cookie) = (stop.clone(), lat.clone(), cookie.to_string());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let ok = matches!(get(addr, "/worklist", &cookie), Ok((200, _, ref body)) if body.contains("id=\"count\""));
                    let secs = t.elapsed().as_secs_f64();
                    {
                        let mut g = lat.lock().unwrap();
                        if ok {
                            g.0.push(secs);
                        } else {
                            g.1 += 1;
                        }
                    }
                    std::thread::sleep(pause);
                }
            })
        })
        .collect();
    // the clients are loading pages before the import starts
    std::thread::sleep(Duration::from_millis(500));
    let run = measure(
        b.cli(cfg, &["import", "-q", "--sent"]).arg(batch),
        &dir.join("b11-loaded.log"),
    );
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        let _ = c.join();
    }
    let (v, errs) = std::mem::take(&mut *lat.lock().unwrap());
    anyhow::ensure!(!v.is_empty(), "no page loaded during the import");
    Ok((run?, v, errs))
}

/// B11 over the B9 store (`cfg`), with `b9` the CLI worklist's runs.
pub fn b11(b: &Bench, cfg: &Path, dir: &Path, b9: &Series) -> anyhow::Result<Vec<Row>> {
    let mut add = b
        .cli(
            cfg,
            &["user", "add", "bench", "--role", "dqo", "--password-stdin"],
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    writeln!(add.stdin.take().unwrap(), "{PW}")?;
    add.wait()?;
    let (_server, addr) = start(b, cfg, dir)?;
    let cookie = login(addr, "bench")?;
    // the first load computes the worklist; the measurement is of a running server
    let (status, _, body) = get(addr, "/worklist", &cookie)?;
    anyhow::ensure!(status == 200, "the worklist page answered {status}");
    let open = body
        .split("<p id=\"count\">")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .unwrap_or("?")
        .to_string();
    let batches = dir.join(format!("b11-{BATCH}"));
    std::fs::create_dir_all(&batches)?;
    let (mut alone, mut loaded, mut p95s) =
        (Series::default(), Series::default(), Series::default());
    let (mut p50s, mut requests, mut errors) = (Vec::new(), 0usize, 0usize);
    let mut saturated = Vec::new();
    for r in 0..b.runs {
        let a = batch(
            &batches,
            &format!("BENCHA{r:02}25014.hl7"),
            BATCH,
            100 + r as u64,
        )?;
        alone.push(measure(
            b.cli(cfg, &["import", "-q", "--sent"]).arg(&a),
            &dir.join("b11-alone.log"),
        )?);
        let l = batch(
            &batches,
            &format!("BENCHL{r:02}25014.hl7"),
            BATCH,
            200 + r as u64,
        )?;
        let (run, mut v, errs) = under_load(b, cfg, dir, addr, &cookie, &l, PAUSE)?;
        loaded.push(run);
        requests += v.len();
        errors += errs;
        p95s.push(Run {
            secs: percentile(&mut v, 0.95),
            peak_kib: 0,
        });
        p50s.push(percentile(&mut v, 0.5));
        let s = batch(
            &batches,
            &format!("BENCHS{r:02}25014.hl7"),
            BATCH,
            300 + r as u64,
        )?;
        let (run, mut v, errs) = under_load(b, cfg, dir, addr, &cookie, &s, Duration::ZERO)?;
        errors += errs;
        saturated.push((run.secs, percentile(&mut v, 0.95), v.len()));
        show_run("B11", r, &[("p95", &p95s), ("B9 CLI", b9)]);
        show_run("B11i", r, &[("loaded", &loaded), ("alone", &alone)]);
    }
    let p50 = crate::common::median(&p50s);
    let mut page = Row::ratio(
        "B11",
        format!(
            "worklist page (first 50 of {open} open items over 1 M messages), p95 latency, {CLIENTS} concurrent clients during a {BATCH}-message import"
        ),
        p95s,
        "B9: the CLI's worklist on the same store, same run",
        b9.clone(),
        Some(1.0),
    );
    page.reference_is_immdqa = true;
    page.note = format!(
        "p50 {:.0} ms; {requests} pages, {errors} errors; clients pausing {} ms between pages",
        p50 * 1000.0,
        PAUSE.as_millis()
    );
    if errors > 0 {
        page.met = Some(false);
    }
    let alone_median = alone.median();
    let mut import = Row::ratio(
        "B11i",
        format!(
            "import --sent of a {BATCH}-message batch while {CLIENTS} clients load the worklist page"
        ),
        loaded,
        "the same import with no one on the web",
        alone,
        Some(1.2),
    );
    import.reference_is_immdqa = true;
    let sat = |f: fn(&(f64, f64, usize)) -> f64| {
        crate::common::median(&saturated.iter().map(f).collect::<Vec<_>>())
    };
    import.note = format!(
        "with clients that never pause (they and the server take both cores): import {:.3} s ({:.2}× alone), page p95 {:.0} ms, {:.0} pages per import",
        sat(|x| x.0),
        sat(|x| x.0) / alone_median,
        sat(|x| x.1) * 1000.0,
        sat(|x| x.2 as f64)
    );
    Ok(vec![page, import])
}
