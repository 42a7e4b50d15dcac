//! Large reports stream through in bounded memory: the peak RSS of the `immdqa` process
//! (its own VmHWM, printed with IMMDQA_REPORT_PEAK_RSS=1) stays far below the file sizes, for
//! both `inspect` and `import`.

use std::fs;
use std::io::Write;
use std::process::Output;

use crate::util::*;

fn peak_mib(o: &Output) -> f64 {
    let err = stderr(o);
    let kib: f64 = err
        .lines()
        .find_map(|l| l.strip_prefix("peak_rss_kib="))
        .unwrap_or_else(|| panic!("no peak reported: {err}"))
        .parse()
        .unwrap();
    kib / 1024.0
}

fn big_ack(path: &std::path::Path, messages: usize) -> u64 {
    let mut f = std::io::BufWriter::new(fs::File::create(path).unwrap());
    write!(f, "FHS|^~\\&|ImmTrac|TEXIIS||ACME|20251028||BIG25301.hl7.ack\rBHS|^~\\&|ImmTrac|TEXIIS||ACME\r").unwrap();
    for i in 0..messages {
        write!(
            f,
            "MSH|^~\\&|ImmTrac24.16|TEXIIS||ACME|20251028||ACK^V04^ACK|{i}|P|2.5.1\rMSA|AE|BIG25301{i:08}\rERR||PID^1^{}|101^Required field missing^HL70357|W|4^Invalid value^HL70533|||IEE-413::Warning. Phone number appears to be a placeholder.\r",
            i % 30 + 1
        )
        .unwrap();
    }
    write!(f, "BTS|{messages}\rFTS|1\r").unwrap();
    f.flush().unwrap();
    fs::metadata(path).unwrap().len()
}

#[test]
fn large_reports_stream_with_bounded_memory() {
    let ws = Workspace::new();
    ws.local_config();
    let csv_path = ws.path().join("BIG25301_DQA.csv");
    fs::write(&csv_path, csv_report(1, 24 * 1024 * 1024)).unwrap();
    let ack_path = ws.path().join("BIG25301.hl7.ack");
    let ack_size = big_ack(&ack_path, 100_000);
    assert!(ack_size > 20 * 1024 * 1024);

    // The baseline: the same command on a tiny report (binary, allocator and thread pools).
    let tiny = ws.path().join("tiny.csv");
    fs::write(&tiny, csv_report(2, 2_000)).unwrap();
    let run_inspect = |files: &[&std::path::Path]| {
        immdqa()
            .env("IMMDQA_REPORT_PEAK_RSS", "1")
            .args(["--config", "/dev/null", "inspect", "--json"])
            .args(files)
            .output()
            .unwrap()
    };
    let base = peak_mib(&run_inspect(&[&tiny]));
    let o = run_inspect(&[&csv_path, &ack_path]);
    assert_code(&o, 0);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v[0]["findings"].as_u64().unwrap() > 250_000, "{}", v[0]);
    assert_eq!(v[1]["findings"], 100_000);
    assert_eq!(v[1]["messages"], 100_000);
    let rss = peak_mib(&o);
    eprintln!(
        "inspect of 24 MiB CSV + {} MiB ACK: peak RSS {rss:.1} MiB (baseline {base:.1} MiB)",
        ack_size >> 20
    );
    assert!(
        rss - base < 12.0,
        "inspect grew {:.1} MiB over the baseline: not streaming",
        rss - base
    );

    let o = ws.run_env(
        &[
            "import",
            csv_path.to_str().unwrap(),
            ack_path.to_str().unwrap(),
        ],
        &[("IMMDQA_REPORT_PEAK_RSS", "1")],
    );
    assert_code(&o, 0);
    assert!(stdout(&o).contains("import: 2 parsed"), "{}", stdout(&o));
    let rss = peak_mib(&o);
    eprintln!("import of the same: peak RSS {rss:.1} MiB (baseline {base:.1} MiB)");
    // Streaming, the import grows 18–20 MiB over the baseline (SQLite's page cache and the
    // parser's read-ahead; measured 2026-12-07 at the session's first commit and at main), up
    // to 24 MiB on a loaded machine; holding either file whole would add its 22–24 MiB on top.
    assert!(
        rss - base < 30.0,
        "import grew {:.1} MiB over the baseline: not streaming",
        rss - base
    );
    assert_eq!(
        count(
            &db(&ws.store()),
            "SELECT COUNT(*) FROM finding WHERE code='IEE-413'"
        ),
        100_000
    );
}
