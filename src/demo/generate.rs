//! A synthetic registry mailbox for one invented organisation over N weeks, deterministic per
//! seed, with the patterns a data quality officer looks for planted in it:
//!
//! - PD1-13 consent date errors (CLR-105) climb week after week (strictly: the error rate
//!   rises every week until the rejected week interrupts it), then the EHR is fixed and they
//!   fall to zero (at 70% of the period);
//! - in the last five weeks a manufacturer (RXA-17) left empty (IMR-111) climbs from 4% to
//!   20% of messages: the rising-error-rate rule fires on the latest week, and its acceptance
//!   rate falls below 90%;
//! - a new code, IEE-575 (RXR-2), appears half-way;
//! - one week's batch is largely rejected (duplicates, IMR-109);
//! - NK1 warnings (IEE-519) run at a steady rate throughout;
//! - consent notices every other week; about half of those patients are resubmitted later
//!   and appear without a consent problem (their follow-up closes), the rest stay open;
//! - three sites (RXA-11.4) and four providers (RXA-10): at EAST CLINIC the responsible-party
//!   warnings (IEE-519) rise from 5% to 45% of messages while the other sites stay near 10%;
//!   every empty manufacturer comes from one provider (PRV1004);
//! - about half of the records rejected for a fixable fault (PD1-13, RXA-17) are re-sent,
//!   corrected, in the next week's batch and accepted (their worklist items resolve); the
//!   others never are (they stay open).
//!
//! The registry's answers come in a mix of shapes: HL7 acknowledgements most weeks, a tabular
//! listing with patient ids every third week, a legacy errors.txt every fifth week, and
//! consent notification CSV files in Receive. Each week's VXU batch is in Accepted and
//! carries the faults its answer reports (an empty NK1, a PD1-13 date in the wrong format, an
//! empty RXA-17), so `immdqa lint` predicts what the registry answered. All patients are
//! invented.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use chrono::{Duration, NaiveDate};

use crate::batch_name;

#[derive(Debug, Clone)]
pub struct Options {
    pub weeks: u32,
    pub seed: u64,
    /// Monday of the first week.
    pub start: NaiveDate,
    pub import_code: String,
    /// No batch is dated after this day (today): a demo run on a Monday sends that week's
    /// batch on the Monday, never tomorrow.
    pub not_after: NaiveDate,
}

impl Options {
    /// `weeks` weeks ending with the current week.
    pub fn ending_this_week(weeks: u32, seed: u64, today: NaiveDate) -> Options {
        let this_monday = crate::analytics::week_start(today);
        Options {
            weeks,
            seed,
            start: this_monday - Duration::weeks(weeks.saturating_sub(1) as i64),
            import_code: "DEMOCLIN".into(),
            not_after: today,
        }
    }
    /// The day week `w`'s batch is sent (and its doses given): the Tuesday, or today when
    /// that Tuesday is still to come.
    pub fn batch_day(&self, w: u32) -> NaiveDate {
        (self.start + Duration::days(7 * w as i64 + 1)).min(self.not_after)
    }
    /// The week (0-based) from which PD1-13 errors are fixed.
    pub fn fix_week(&self) -> u32 {
        (self.weeks * 7 / 10).max(1)
    }
    /// The week the new code IEE-575 first appears.
    pub fn new_code_week(&self) -> u32 {
        self.weeks / 2
    }
    /// The week whose batch is largely rejected.
    pub fn rejected_week(&self) -> u32 {
        (self.weeks / 3).max(1)
    }
    /// The first of the last five weeks, in which empty manufacturers (IMR-111) climb.
    pub fn mvx_week(&self) -> u32 {
        self.weeks.saturating_sub(5).max(self.fix_week())
    }
}

/// What was generated (for the demo's output and the tests).
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub batches: u32,
    pub messages: u64,
    pub report_files: u32,
    pub consent_files: u32,
    /// Patients whose consent follow-up is resolved by a later clean appearance.
    pub resolved_patients: Vec<String>,
    /// Patients whose follow-up stays open.
    pub open_patients: Vec<String>,
    /// Rejected records re-sent corrected the week after (patient reference).
    pub resent_patients: Vec<String>,
}

/// The demo's sites (RXA-11.4) and providers (RXA-10 ID^family^given).
pub const SITES: [&str; 3] = ["NORTH CLINIC", "SOUTH CLINIC", "EAST CLINIC"];
pub const PROVIDERS: [&str; 4] = [
    "PRV1001^LEE^ANA",
    "PRV1002^ORTIZ^BEN",
    "PRV1003^WU^CARA",
    "PRV1004^HILL^DAN",
];
/// The site whose responsible-party warnings rise, and the provider who leaves RXA-17 empty.
pub const RISING_SITE: &str = "EAST CLINIC";
pub const NO_MVX_PROVIDER: &str = "PRV1004";

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() % 1_000_000) as f64 / 1_000_000.0 < p
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const LAST: [&str; 10] = [
    "GARCIA", "NGUYEN", "SMITH", "LOPEZ", "PATEL", "JOHNSON", "KIM", "BROWN", "DAVIS", "MARTIN",
];
const FIRST: [&str; 10] = [
    "ANA", "LIAM", "SOFIA", "NOAH", "EMMA", "MATEO", "MIA", "LUCAS", "ZOE", "ELI",
];

/// A planted issue: (field, ERR-2 location, code, severity, text).
type Issue = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);
const NK1: Issue = (
    "NK1",
    "NK1^^0",
    "IEE-519",
    "W",
    "Warning. NK1 Segment/Responsible person, missing.",
);
const PD113: Issue = (
    "PD1-13",
    "PD1^1^13",
    "CLR-105",
    "E",
    "Client rejected. Invalid Affirmation date format.",
);
const RXR2_NEW: Issue = (
    "RXR-2",
    "RXR^1^2",
    "IEE-575",
    "W",
    "Warning. Two doses reported have the same body site.",
);
const DUP: Issue = (
    "RXA-5",
    "RXA^1^5",
    "IMR-109",
    "E",
    "Immunization rejected. Duplicate immunization Identified.",
);
const PHONE: Issue = (
    "PID-13",
    "PID^1^13",
    "IEE-413",
    "W",
    "Warning. Phone number appears to be a placeholder.",
);
const ORC12: Issue = (
    "ORC-12.1",
    "ORC^1^12^^1",
    "IEE-526",
    "W",
    "Warning. The license number (or NPI number) provided in ORC-12.1 is not associated to the prescribing authority in ImmTrac2.",
);
const MVX: Issue = (
    "RXA-17",
    "RXA^1^17",
    "IMR-111",
    "E",
    "Immunization rejected. Manufacturer Code invalid.",
);
const SSN: Issue = (
    "PID-19",
    "PID^1^19",
    "IEE-251",
    "I",
    "Informational Message. Duplicate SSN. No value stored.",
);

/// Write the mailbox (DQA-Reports, Receive, Accepted, HL7-Dropoff) under `root`.
pub fn generate(root: &Path, o: &Options) -> std::io::Result<Summary> {
    for d in ["DQA-Reports", "Receive", "Accepted", "HL7-Dropoff"] {
        fs::create_dir_all(root.join(d))?;
    }
    let mut rng = Rng(o.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut sum = Summary::default();
    // consent notices waiting to be resolved: (patient id, week of resolution)
    let mut to_resolve: Vec<(String, u32)> = Vec::new();
    // the previous week's share of messages with a PD1-13 error, so it rises strictly
    let mut pd113_rate = 0.0f64;
    // records rejected last week for a fixable fault, re-sent corrected this week:
    // (patient, administration date)
    let mut resend: Vec<(String, NaiveDate)> = Vec::new();
    for w in 0..o.weeks {
        let day = o.batch_day(w);
        let name = batch_name::format(&o.import_code, day, None);
        let n = 40 + rng.below(30) as usize;
        // how many messages carry a PD1-13 error (climbing strictly until the fix) and an
        // empty manufacturer (climbing in the last weeks)
        let (mut pd113, mut mvx) = (0usize, 0usize);
        if w < o.fix_week() {
            let target = 0.02 + 0.33 * w as f64 / o.fix_week() as f64;
            let k = ((target * n as f64).ceil() as usize)
                .max((pd113_rate * n as f64).floor() as usize + 1)
                .min(n / 2);
            pd113 = k;
            pd113_rate = k as f64 / n as f64;
        }
        if w >= o.mvx_week() && o.weeks >= 8 {
            let p = 0.04 * (w - o.mvx_week() + 1) as f64;
            mvx = (p * n as f64).ceil() as usize;
        }
        let mut vxu = format!(
            "FHS|^~\\&|DEMOEHR|1117823000|TXImmTrac|TxDSHS|{}||{name}\rBHS|^~\\&|DEMOEHR|1117823000|TXImmTrac|TxDSHS\r",
            day.format("%Y%m%d")
        );
        let mut ack = format!(
            "FHS|^~\\&|ImmTrac24.16|TEXIIS||DEMO|{}||{name}.ack\r",
            day.format("%Y%m%d")
        );
        let mut rows: Vec<(String, String, Issue)> = Vec::new(); // control id, patient, issue
        let mut errors_txt = String::new();
        let resolving: Vec<String> = to_resolve
            .iter()
            .filter(|(_, rw)| *rw == w)
            .map(|(p, _)| p.clone())
            .collect();
        let resending = std::mem::take(&mut resend);
        let total = n + resending.len();
        for i in 1..=total {
            // messages after the week's own n re-send last week's rejected records, fixed
            let resent = i.checked_sub(n + 1).map(|k| &resending[k]);
            let cid = format!(
                "{}{}{i:04}",
                o.import_code,
                &name[o.import_code.len()..name.len() - 4]
            );
            let patient = match resent {
                Some((p, _)) => p.clone(),
                None => resolving
                    .get(i - 1)
                    .cloned()
                    .unwrap_or_else(|| format!("MRN{:05}{i:03}", w)),
            };
            let site = SITES[i % 3];
            let given = resent.map_or(day, |(_, d)| *d);
            let (last, first) = (LAST[rng.below(10) as usize], FIRST[rng.below(10) as usize]);
            let (m, dd) = (1 + rng.below(12), 1 + rng.below(28));
            let mut issues: Vec<Issue> = Vec::new();
            let nk1_rate = if site == RISING_SITE {
                0.05 + 0.40 * w as f64 / o.weeks.max(1) as f64
            } else {
                0.10
            };
            if rng.chance(nk1_rate) || (i <= resolving.len()) {
                issues.push(NK1);
            }
            let resubmitted = i <= resolving.len(); // consent now fixed for these patients
            if !resubmitted && i - resolving.len() <= pd113 {
                issues.push(PD113);
            }
            if w >= o.new_code_week() && rng.chance(0.08) {
                issues.push(RXR2_NEW);
            }
            if w == o.rejected_week() && rng.chance(0.45) {
                issues.push(DUP);
            }
            if i > n - mvx && i <= n {
                issues.push(MVX);
            }
            for extra in [PHONE, ORC12, SSN] {
                if rng.chance(0.03) {
                    issues.push(extra);
                }
            }
            if resent.is_some() {
                issues.clear(); // corrected
                sum.resent_patients.push(patient.clone());
            }
            let provider = if issues.iter().any(|x| x.2 == MVX.2) {
                PROVIDERS[3]
            } else {
                PROVIDERS[i % 3]
            };
            // about half of the fixable rejections are re-sent next week
            let fixable = issues.iter().any(|x| x.2 == MVX.2 || x.2 == PD113.2)
                && !issues.iter().any(|x| x.2 == DUP.2);
            if fixable && w + 1 < o.weeks && rng.chance(0.5) {
                resend.push((patient.clone(), given));
            }
            let m = Message {
                i,
                cid: &cid,
                patient: &patient,
                name: (last, first),
                born: (m, dd),
                site,
                provider,
                day,
                given,
            };
            write_message(&m, &issues, &mut vxu, &mut ack, &mut errors_txt, &mut rows);
        }
        let n = total;
        vxu.push_str(&format!("BTS|{n}\rFTS|1\r"));
        ack.push_str("FTS|1\r");
        fs::write(root.join("Accepted").join(&name), vxu)?;
        write_answer(root, w, &name, &rows, errors_txt, ack)?;
        sum.report_files += 1;
        sum.batches += 1;
        sum.messages += n as u64;
        // consent notices every other week
        if w % 2 == 0 && w + 1 < o.weeks {
            consent_file(root, o, w, day, &name, &mut rng, &mut to_resolve, &mut sum)?;
        }
    }
    Ok(sum)
}

/// One message of a week, as the batch and the registry's answers carry it.
#[derive(Clone, Copy)]
struct Message<'a> {
    i: usize,
    cid: &'a str,
    patient: &'a str,
    name: (&'a str, &'a str),
    born: (u64, u64),
    site: &'a str,
    provider: &'a str,
    day: NaiveDate,
    given: NaiveDate,
}

/// The doses the demo gives (CVX, name, MVX, the patient's birth year), in turn: the
/// 11-year-olds' Tdap, HPV and flu, the HepB catch-up, and the 5-year-olds' DTaP and MMR
/// boosters.
const DOSES: [(&str, &str, &str, u32); 6] = [
    ("115", "Tdap", "PMC", 2015),
    ("165", "HPV9", "MSD", 2015),
    ("140", "Influenza", "PMC", 2015),
    ("20", "DTaP", "SKB", 2021),
    ("08", "HepB", "SKB", 2015),
    ("03", "MMR", "MSD", 2021),
];

/// Write one message into the week's batch (carrying the faults its answer reports), its ACK,
/// its errors.txt entry and the listing's rows.
fn write_message(
    msg: &Message<'_>,
    issues: &[Issue],
    vxu: &mut String,
    ack: &mut String,
    errors_txt: &mut String,
    rows: &mut Vec<(String, String, Issue)>,
) {
    // the batch carries the faults its answer reports
    let has = |x: &Issue| issues.iter().any(|y| y.2 == x.2);
    let Message {
        i,
        cid,
        patient,
        name: (last, first),
        born: (m, dd),
        site,
        provider,
        day,
        given,
    } = *msg;
    let d = day.format("%Y%m%d");
    let g = given.format("%Y%m%d");
    let consent_date = if has(&PD113) {
        "2025-01-01"
    } else {
        "20250101"
    };
    let nk1 = if has(&NK1) {
        String::new()
    } else {
        format!("NK1|1|{last}^PARENT|MTH\r")
    };
    // several vaccines, each from its maker with a lot of that maker's shape, each given at an
    // age it fits. EAST CLINIC leaves lot numbers empty (a field the registry does not
    // reject, which completeness shows).
    let (cvx, vaccine, mvx, year) = DOSES[i % DOSES.len()];
    let lot = match (site, mvx) {
        ("EAST CLINIC", _) => String::new(),
        (_, "PMC") if cvx == "140" => format!("UT{:03}AA", i % 1000),
        (_, "PMC") => format!("U{:05}A", i % 100_000),
        (_, "SKB") => format!("M{:05}", i % 100_000),
        _ => format!("Y{:06}", i % 1_000_000),
    };
    let mvx_code = if has(&MVX) {
        String::new()
    } else {
        format!("{mvx}^^MVX")
    };
    let rxr = if has(&RXR2_NEW) {
        "RXR|C28161^IM^NCIT|LT^Left Thigh^HL70163\r"
    } else {
        ""
    };
    let _ = write!(
        vxu,
        "MSH|^~\\&|DEMOEHR|1117823000|TXImmTrac|TxDSHS|{d}||VXU^V04^VXU_V04|{cid}|P|2.5.1\rPID|1||{patient}^^^DEMO^MR||{last}^{first}||{year}{m:02}{dd:02}|F|||1 MAIN ST^^AUSTIN^TX^78701\rPD1||||||||||||TXY|{consent_date}\r{nk1}ORC|RE||{cid}|||||||||1234567^DOC\rRXA|0|1|{g}|{g}|{cvx}^{vaccine}^CVX|0.5|mL||00|{provider}|^^^{site}||||{lot}||{mvx_code}|||CP|A\r{rxr}OBX|1|CE|64994-7^Eligibility^LN|1|V02||||||F|||{d}\r",
    );
    // Duplicates come back as AE with an E-severity error (as several registries send
    // rejections), other rejections as AR: both count as rejected.
    let status = if issues.iter().any(|x| x.3 == "E" && x.2 != DUP.2) {
        "AR"
    } else if issues.iter().any(|x| x.3 == "E") {
        "AE"
    } else if issues.is_empty() {
        "AA"
    } else {
        "AE"
    };
    let _ = write!(
        ack,
        "MSH|^~\\&|ImmTrac24.16|TEXIIS||DEMO|{}||ACK^V04^ACK|A{cid}|P|2.5.1\rMSA|{status}|{cid}\r",
        day.format("%Y%m%d")
    );
    let _ = writeln!(
        errors_txt,
        "Message {i}\nMSH|^~\\&|DEMOEHR|1117823000|TXImmTrac|TxDSHS|{}||VXU^V04^VXU_V04|{cid}|P|2.5.1\nPID|1||{patient}^^^DEMO^MR",
        day.format("%Y%m%d")
    );
    for sev in ["E", "W", "I"] {
        let list: Vec<&Issue> = issues.iter().filter(|x| x.3 == sev).collect();
        if !list.is_empty() {
            let _ = writeln!(
                errors_txt,
                "{}",
                match sev {
                    "E" => "Errors:",
                    "W" => "Warnings:",
                    _ => "Skip:",
                }
            );
            for x in list {
                let _ = writeln!(errors_txt, " + {} ({})", x.4, x.0);
            }
        }
    }
    errors_txt.push('\n');
    for x in issues {
        let _ = write!(
            ack,
            "ERR||{}|101^Required field missing^HL70357|{}|4^Invalid value^HL70533|||{}::{}\r",
            x.1, x.3, x.2, x.4
        );
        rows.push((cid.to_string(), patient.to_string(), *x));
    }
}

/// The week's answer in one of the registry's shapes: a listing with patient ids every third
/// week, the legacy errors.txt every fifth, else the ACK.
fn write_answer(
    root: &Path,
    w: u32,
    name: &str,
    rows: &[(String, String, Issue)],
    errors_txt: String,
    ack: String,
) -> std::io::Result<()> {
    let has_patients = w % 3 == 2;
    if has_patients {
        // a tabular listing with patient ids (the shape that names patients)
        let mut csv = String::from(
            "File Name,Message Control ID,Patient ID,HL7 Field,Severity,Code,Message\n",
        );
        for (cid, p, x) in rows {
            let sev = match x.3 {
                "E" => "Error",
                "W" => "Warning",
                _ => "Informational",
            };
            let _ = writeln!(
                csv,
                "{name},{cid},{p},{},{sev},{},\"{}\"",
                x.0,
                x.2,
                x.4.replace('"', "'")
            );
        }
        fs::write(
            root.join("DQA-Reports")
                .join(format!("{}_DQA.csv", &name[..name.len() - 4])),
            csv,
        )?;
    } else if w % 5 == 4 {
        fs::write(
            root.join("DQA-Reports").join(format!("{name}.errors.txt")),
            errors_txt,
        )?;
    } else {
        fs::write(root.join("DQA-Reports").join(format!("{name}.ack")), ack)?;
    }
    Ok(())
}

/// The consent notices of week `w`: every other patient is resubmitted with consent later
/// (and resolves), the others stay open.
#[allow(clippy::too_many_arguments)]
fn consent_file(
    root: &Path,
    o: &Options,
    w: u32,
    day: NaiveDate,
    name: &str,
    rng: &mut Rng,
    to_resolve: &mut Vec<(String, u32)>,
    sum: &mut Summary,
) -> std::io::Result<()> {
    let mut cnf = String::from(
        "Import Code,Source File,Date Processed,Patient ID,Last Name,First Name,Date of Birth,Consent Code Sent,Consent Date Sent,Reason Code,Reason\n",
    );
    let k = 2 + rng.below(3);
    for j in 0..k {
        let p = format!("MRN{w:05}9{j:02}");
        let (code, reason, sent, date) = match rng.below(4) {
            0 => ("CLR-100", "No existing consent on file", "", "20250101"),
            1 => (
                "CLR-101",
                "Consent flag not valid for client age",
                "TXA",
                "20250101",
            ),
            2 => (
                "CLR-105",
                "Invalid affirmation date format",
                "TXY",
                "2025-01-01",
            ),
            _ => (
                "IMR-132",
                "Standard consent required for retaining non-disaster immunizations",
                "TXD",
                "20250101",
            ),
        };
        let _ = writeln!(
            cnf,
            "{},{name},{},{p},{},{},2015-03-0{},{sent},{date},{code},{reason}",
            o.import_code,
            day,
            LAST[j as usize],
            FIRST[j as usize],
            1 + j
        );
        // every other patient is resubmitted with consent and shows up in the next
        // tabular listing (every third week) at least two weeks later
        let resolve_week = (w + 2..).find(|x| x % 3 == 2).unwrap();
        if j % 2 == 0 && resolve_week < o.weeks {
            to_resolve.push((p.clone(), resolve_week));
            sum.resolved_patients.push(p);
        } else {
            sum.open_patients.push(p);
        }
    }
    fs::write(
        root.join("Receive").join(format!(
            "{}_CNF_{}.csv",
            o.import_code,
            day.format("%Y%m%d")
        )),
        cnf,
    )?;
    sum.consent_files += 1;
    Ok(())
}
