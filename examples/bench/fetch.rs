//! B4 (fetch 2,000 report files of 1 KB – 1 MB from OpenSSH's sshd on 127.0.0.1, against
//! OpenSSH's `sftp -b` getting the same files), B5 (fetch again with nothing new, against
//! B4's full fetch), and B10 (the same files over implicit FTPS from vsftpd on 127.0.0.1,
//! against `lftp mirror`; its no-op re-fetch against B10).

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{Series, config, measure, show_run};
use crate::ingest::{batch_of, write_report};
use crate::{Bench, Row};

#[allow(dead_code)]
#[path = "../../tests/sshd.rs"]
mod sshd;

#[allow(dead_code)]
#[path = "../../tests/vsftpd.rs"]
mod vsftpd;

/// `files` DQA reports whose sizes spread log-uniformly over 1 KB – 1 MB.
fn mailbox(dir: &Path, files: u64) -> anyhow::Result<(u64, u64)> {
    let dqa = dir.join("DQA-Reports");
    let done = dir.join("generated.ok");
    if !done.exists() {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(&dqa)?;
        std::fs::create_dir_all(dir.join("Receive"))?;
        let mut x: u64 = 0x9E3779B97F4A7C15;
        let mut first = 0;
        for k in 0..files {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let u = (x >> 11) as f64 / (1u64 << 53) as f64;
            let target = 1024.0 * 1000f64.powf(u); // 1 KiB .. 1000 KiB
            let rows = ((target - 70.0) / 90.0).max(1.0) as u64; // ~90 bytes a row
            let (batch, stem) = batch_of(k);
            write_report(
                &dqa.join(format!("{stem}_{k:05}_DQA.csv")),
                &batch,
                first,
                rows,
            )?;
            first += rows;
        }
        std::fs::write(&done, "")?;
    }
    let (mut n, mut bytes) = (0, 0);
    for e in std::fs::read_dir(&dqa)? {
        n += 1;
        bytes += e?.metadata()?.len();
    }
    Ok((n, bytes))
}

pub fn b4_b5(b: &Bench, files: u64) -> anyhow::Result<Vec<Row>> {
    let dir = b.root.join(format!("mailbox-{files}"));
    let (n, bytes) = mailbox(&dir, files)?;
    let server = sshd::start().ok_or_else(|| anyhow::anyhow!("sshd did not start"))?;
    let work = b.root.join("fetch-work");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let kh = work.join("known_hosts");
    std::fs::write(&kh, sshd::known_hosts_line(server.port, &server.host_pub()))?;
    let store = work.join("store");
    let profile = format!(
        "[profiles.bench]\nhost = \"127.0.0.1\"\nport = {}\nuser = {:?}\nkey_file = {:?}\nknown_hosts = {:?}\ndqa_dir = {:?}\nreceive_dir = {:?}\nretries = 0\ntimeout_secs = 60\n",
        server.port,
        server.user,
        server.client_key(),
        kh,
        dir.join("DQA-Reports"),
        dir.join("Receive"),
    );
    let cfg = config(&work, "bench.toml", &store, &profile)?;
    let batch = work.join("sftp.batch");
    let local = work.join("sftp-local");
    std::fs::write(
        &batch,
        format!(
            "lcd {}\nget {}/*\n",
            local.display(),
            dir.join("DQA-Reports").display()
        ),
    )?;
    let fetch = |extra: &[&str]| {
        let mut c = b.immdqa();
        c.arg("--config")
            .arg(&cfg)
            .args(["fetch", "-q"])
            .args(extra);
        c
    };
    let mut transfer = Series::default();
    let (mut full, mut noop, mut sftp) = (transfer.clone(), transfer.clone(), transfer.clone());
    let log = work.join("immdqa.log");
    for r in 0..b.runs {
        let _ = std::fs::remove_dir_all(&store);
        transfer.push(measure(&mut fetch(&["--no-parse"]), &log)?);
        let _ = std::fs::remove_dir_all(&store);
        // exit 0 expected: every file parses
        full.push(measure(&mut fetch(&[]), &log)?);
        noop.push(measure(&mut fetch(&[]), &log)?);
        let _ = std::fs::remove_dir_all(&local);
        std::fs::create_dir_all(&local)?;
        sftp.push(measure(
            Command::new(&b.tools.sftp)
                .arg("-q")
                .arg("-b")
                .arg(&batch)
                .arg("-i")
                .arg(server.client_key())
                .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"])
                .arg("-o")
                .arg(format!("UserKnownHostsFile={}", kh.display()))
                .arg("-P")
                .arg(server.port.to_string())
                .arg(format!("{}@127.0.0.1", server.user))
                .stdout(Stdio::null()),
            &work.join("sftp.log"),
        )?);
        let got = std::fs::read_dir(&local)?.count() as u64;
        anyhow::ensure!(got == n, "sftp fetched {got} of {n} files");
        show_run(
            "B4/B5",
            r,
            &[
                ("immdqa fetch --no-parse", &transfer),
                ("fetch", &full),
                ("again", &noop),
                ("sftp -b", &sftp),
            ],
        );
    }
    let _ = std::fs::remove_dir_all(&work);
    let size = crate::common::mib(bytes);
    let mut b4 = Row::ratio(
        "B4",
        format!("fetch --no-parse: {n} reports of 1 KB – 1 MB ({size}) from sshd on 127.0.0.1"),
        transfer.clone(),
        "OpenSSH sftp -b getting the same files",
        sftp.clone(),
        Some(1.2),
    );
    b4.note = "both download every file; immdqa also hashes (SHA-256), fsyncs and archives each file and records it in the history".into();
    let mut b4p = Row::ratio(
        "B4+",
        format!("fetch (download and parse {n} reports into the history)"),
        full.clone(),
        "OpenSSH sftp -b getting the same files",
        sftp.clone(),
        None,
    );
    b4p.note =
        "the parse is work sftp does not do; parsed on a helper thread one file ahead of storing"
            .into();
    let mut b5 = Row::ratio(
        "B5",
        "fetch again with nothing new (after a full fetch)".into(),
        noop.clone(),
        "B4's full fetch (immdqa fetch --no-parse)",
        transfer.clone(),
        Some(0.05),
    );
    b5.reference_is_immdqa = true;
    Ok(vec![b4, b4p, b5])
}

/// B10: fetch --no-parse of the same mailbox over implicit FTPS from vsftpd (TLS session
/// reuse required, as the registry's server does), against lftp mirroring the folder.
pub fn b10(b: &Bench, files: u64) -> anyhow::Result<Vec<Row>> {
    anyhow::ensure!(
        Command::new("lftp")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok(),
        "B10 needs lftp as its reference: apt-get install -y lftp"
    );
    let dir = b.root.join(format!("mailbox-{files}"));
    let (n, bytes) = mailbox(&dir, files)?;
    let server = vsftpd::start_with(true, None).ok_or_else(|| {
        anyhow::anyhow!("vsftpd did not start (apt-get install vsftpd; run as root)")
    })?;
    for e in std::fs::read_dir(dir.join("DQA-Reports"))? {
        let e = e?;
        std::fs::copy(
            e.path(),
            server.root().join("DQA-Reports").join(e.file_name()),
        )?;
    }
    let _ = Command::new("chown")
        .args(["-R", vsftpd::USER])
        .arg(server.root())
        .status();
    let work = b.root.join("ftps-work");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    let store = work.join("store");
    let fingerprint = server.openssl_fingerprint();
    let profile = format!(
        "[profiles.bench]\nprotocol = \"ftps\"\nhost = \"127.0.0.1\"\nport = {}\nuser = \"{}\"\npassword_env = \"IMMDQA_BENCH_FTP_PW\"\ntls_fingerprint = {:?}\nretries = 0\ntimeout_secs = 60\n",
        server.port,
        vsftpd::USER,
        fingerprint
            .split_once('=')
            .map(|(_, f)| f)
            .unwrap_or(&fingerprint),
    );
    let cfg = config(&work, "bench.toml", &store, &profile)?;
    let fetch = |extra: &[&str]| {
        let mut c = b.immdqa();
        c.arg("--config")
            .arg(&cfg)
            .args(["fetch", "-q"])
            .args(extra)
            .env("IMMDQA_BENCH_FTP_PW", server.password());
        c
    };
    let local = work.join("lftp-local");
    let log = work.join("immdqa.log");
    let (mut ours, mut noop, mut lftp) = (Series::default(), Series::default(), Series::default());
    for r in 0..b.runs {
        let _ = std::fs::remove_dir_all(&store);
        ours.push(measure(&mut fetch(&["--no-parse"]), &log)?);
        noop.push(measure(&mut fetch(&["--no-parse"]), &log)?);
        let _ = std::fs::remove_dir_all(&local);
        std::fs::create_dir_all(&local)?;
        lftp.push(measure(
            Command::new("lftp")
                .arg("-c")
                .arg(format!(
                    "set ssl:verify-certificate no; set ftp:ssl-force true; set ftp:ssl-protect-data true; open -u {},{} ftps://127.0.0.1:{}; mirror DQA-Reports {}",
                    vsftpd::USER,
                    server.password(),
                    server.port,
                    local.display()
                ))
                .stdout(Stdio::null()),
            &work.join("lftp.log"),
        )?);
        let got = std::fs::read_dir(&local)?.count() as u64;
        anyhow::ensure!(got == n, "lftp fetched {got} of {n} files");
        show_run(
            "B10",
            r,
            &[
                ("immdqa fetch --no-parse (FTPS)", &ours),
                ("again", &noop),
                ("lftp mirror", &lftp),
            ],
        );
    }
    let _ = std::fs::remove_dir_all(&work);
    let size = crate::common::mib(bytes);
    let mut b10 = Row::ratio(
        "B10",
        format!(
            "fetch --no-parse over implicit FTPS: {n} reports of 1 KB – 1 MB ({size}) from vsftpd on 127.0.0.1"
        ),
        ours.clone(),
        "lftp mirror of the same folder (one connection)",
        lftp,
        Some(1.2),
    );
    b10.note = "both download every file over TLS with session reuse; immdqa also hashes, fsyncs, archives and records each file. The reference spends about 47 ms per file against vsftpd (curl in one process was slower still: about 200 ms per file), so the ratio mostly measures its per-file wait".into();
    let mut b5f = Row::ratio(
        "B5f",
        "FTPS fetch again with nothing new".into(),
        noop,
        "B10's full fetch",
        ours,
        Some(0.05),
    );
    b5f.reference_is_immdqa = true;
    Ok(vec![b10, b5f])
}
