//! The sent batch, one more shape of file: a VXU batch the clinic sent, read into ledger
//! messages — one [`SentMessage`] per MSH, one [`Vaccination`] per RXA — fed to the
//! [`Sink`] like every other shape's records, streamed (memory bounded by the largest
//! message). [`super::parse`] reads a file as this shape when its kind is `sent`.
//!
//! Copied: MSH-10, MSH-7, MSH-4, PID-3 (first identifier only), RXA-3/5/9/10/11.4/20,
//! ORC-10/12. PID-7 is read only to compute the age in whole years at vaccination; no name,
//! birth date or address leaves this module. Which of the fields a registry relies on were
//! present (lot, expiry, MVX, NDC, RXR route and site, providers, the VFC and funding OBX,
//! consent, address, phone, NK1) is kept per dose as bits ([`Field`]), never their values.

use std::io::BufRead;

use chrono::{NaiveDate, NaiveDateTime};

use super::{Format, Kind, ParseFailure, Sink, SinkError, Summary};

use crate::domain::{Field, Short};
use crate::hl7::{Segment, SegmentReader, Separators, decode_text, unescape_cow};

pub use crate::domain::{NONE, SentMessage, Vaccination};

fn nonempty(s: &str) -> Option<Short> {
    let t = s.trim();
    (!t.is_empty()).then(|| Short::from(t))
}

/// A component with escapes decoded, trimmed, None when empty.
fn decoded(seg: &Segment<'_>, n: usize, c: usize) -> Option<Short> {
    nonempty(&unescape_cow(seg.component(n, c), &seg.sep))
}

/// `YYYYMMDD…` → a date (digits read directly: chrono's format parser was a tenth of the
/// ledger's time at 1 M messages).
fn hl7_date(s: &str) -> Option<NaiveDate> {
    let d = s.trim().as_bytes().get(..8)?;
    if !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = |a: usize, b: usize| {
        d[a..b]
            .iter()
            .fold(0u32, |acc, c| acc * 10 + u32::from(c - b'0'))
    };
    NaiveDate::from_ymd_opt(n(0, 4) as i32, n(4, 6), n(6, 8))
}

fn hl7_time(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    let digits = &s[..s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len())];
    let date = hl7_date(digits)?;
    let n = |a: usize| {
        digits
            .get(a..a + 2)
            .and_then(|x| x.parse::<u32>().ok())
            .unwrap_or(0)
    };
    date.and_hms_opt(n(8), n(10), n(12))
}

fn whole_years(dob: NaiveDate, on: NaiveDate) -> Option<i32> {
    use chrono::Datelike;
    if on < dob {
        return None;
    }
    let mut y = on.year() - dob.year();
    if (on.month(), on.day()) < (dob.month(), dob.day()) {
        y -= 1;
    }
    Some(y)
}

/// A person (XCN): the ID, else "family, given".
fn person(seg: &Segment<'_>, n: usize) -> Option<Short> {
    if let Some(id) = decoded(seg, n, 1) {
        return Some(id);
    }
    match (decoded(seg, n, 2), decoded(seg, n, 3)) {
        (Some(f), Some(g)) => Some(compact_str::format_compact!("{f}, {g}")),
        (Some(f), None) => Some(f),
        (None, g) => g,
    }
}

/// The message being read.
#[derive(Default)]
struct Building {
    msg: SentMessage,
    dob: Option<NaiveDate>,
    entered_by: Option<Short>,
    ordering: Option<Short>,
    /// Message-level fields present (PID-11, PID-13, PD1-12/13, NK1), for every dose.
    fields: u16,
}

/// Whether a field holds anything but separators.
fn filled(seg: &Segment<'_>, n: usize) -> bool {
    let sep = &seg.sep;
    seg.field(n).bytes().any(|b| {
        !b.is_ascii_whitespace()
            && b != sep.component
            && b != sep.repetition
            && b != sep.subcomponent
    })
}

impl Building {
    /// What a PD1, NK1, RXR or OBX says of the fields present (RXR and OBX belong to the RXA
    /// before them).
    fn presence(&mut self, seg: &Segment<'_>) {
        match seg.id {
            "PD1" if filled(seg, 12) && filled(seg, 13) => self.fields |= Field::Consent.bit(),
            "NK1" => self.fields |= Field::ResponsiblePerson.bit(),
            "RXR" => {
                if let Some(v) = self.msg.vaccinations.last_mut() {
                    if filled(seg, 1) {
                        v.fields |= Field::Route.bit();
                    }
                    if filled(seg, 2) {
                        v.fields |= Field::BodySite.bit();
                    }
                }
            }
            "OBX" => {
                if let Some(v) = self.msg.vaccinations.last_mut()
                    && filled(seg, 5)
                {
                    match seg.component(3, 1).trim() {
                        "64994-7" => v.fields |= Field::VfcEligibility.bit(),
                        "30963-3" => v.fields |= Field::FundingSource.bit(),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    /// The fields of an RXA that are present.
    fn rxa_fields(seg: &Segment<'_>, ndc: bool) -> u16 {
        let mut fields = 0;
        for (n, f) in [
            (15, Field::Lot),
            (16, Field::Expiry),
            (17, Field::Manufacturer),
            (10, Field::AdministeringProvider),
        ] {
            if filled(seg, n) {
                fields |= f.bit();
            }
        }
        if ndc {
            fields |= Field::Ndc.bit();
        }
        fields
    }

    fn finish(mut self) -> SentMessage {
        for v in &mut self.msg.vaccinations {
            if v.entered_by.is_none() {
                v.entered_by = self.entered_by.clone();
            }
            if v.ordering_provider.is_none() {
                v.ordering_provider = self.ordering.clone();
            }
            v.age_years = match (self.dob, v.administered_on) {
                (Some(b), Some(a)) => whole_years(b, a),
                _ => None,
            };
            v.fields |= self.fields;
            if v.ordering_provider.is_some() {
                v.fields |= Field::OrderingProvider.bit();
            }
        }
        self.msg
    }
}

/// Why a batch could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("no MSH segment: not an HL7 v2 batch")]
    NoMessage,
    /// The sink (the store) failed: not the file's fault.
    #[error("{0}")]
    Sink(SinkError),
}

/// Read a sent batch into `sink` as this shape's summary: its messages counted, dated by its
/// first message. A file that is not a batch is invalid (quarantined with the reason).
pub(crate) fn parse<R: BufRead>(input: R, sink: &mut dyn Sink) -> Result<Summary, ParseFailure> {
    let mut summary = Summary::new(Format::SentBatch, Kind::Sent);
    let mut first_date = None;
    let mut dated = Dated {
        sink,
        first_date: &mut first_date,
    };
    match read_batch(input, &mut dated) {
        Ok(n) => {
            summary.counts.messages = Some(n);
            summary.date = first_date;
            Ok(summary)
        }
        Err(ReadError::Sink(e)) => Err(ParseFailure::Sink(e)),
        Err(e) => Err(ParseFailure::Invalid(format!(
            "not a readable HL7 batch: {e}"
        ))),
    }
}

/// Passes messages on, noting the first message's date.
struct Dated<'a> {
    sink: &'a mut dyn Sink,
    first_date: &'a mut Option<NaiveDate>,
}

impl Sink for Dated<'_> {
    fn finding(&mut self, f: super::Finding) -> Result<(), SinkError> {
        self.sink.finding(f)
    }
    fn consent(&mut self, c: super::ConsentNotice) -> Result<(), SinkError> {
        self.sink.consent(c)
    }
    fn sent(&mut self, m: SentMessage) -> Result<(), SinkError> {
        if self.first_date.is_none() {
            *self.first_date = m.time.map(|t| t.date());
        }
        self.sink.sent(m)
    }
}

/// Stream the messages of a batch to `sink` (which may stop the read with an error).
/// Returns how many messages were read.
pub fn read_batch<R: BufRead>(input: R, sink: &mut dyn Sink) -> Result<u64, ReadError> {
    let mut each = |m: SentMessage| sink.sent(m).map_err(ReadError::Sink);
    let mut reader = SegmentReader::new(input);
    let mut buf = Vec::new();
    let mut sep = Separators::default();
    let mut cur: Option<Building> = None;
    let mut count = 0u64;
    let mut first = true;
    while reader.next_into(&mut buf)? {
        // only MSH, PID, ORC and RXA are read (and the first segment checked): the others
        // (PD1, NK1, OBX, RXR, …) are skipped before decoding or splitting
        let id = buf.get(..3).unwrap_or(&buf[..]);
        if !first
            && !matches!(
                id,
                b"MSH"
                    | b"PID"
                    | b"ORC"
                    | b"RXA"
                    | b"FHS"
                    | b"BHS"
                    | b"PD1"
                    | b"NK1"
                    | b"RXR"
                    | b"OBX"
            )
        {
            continue;
        }
        let line = decode_text(&buf);
        let seg = Segment::parse(&line, &mut sep);
        if first {
            first = false;
            if !matches!(seg.id, "MSH" | "FHS" | "BHS") {
                return Err(ReadError::NoMessage);
            }
        }
        let text = |n: usize| nonempty(&unescape_cow(seg.field(n), &seg.sep));
        let comp = |n: usize, c: usize| decoded(&seg, n, c);
        match seg.id {
            "MSH" => {
                if let Some(b) = cur.take() {
                    each(b.finish())?;
                }
                count += 1;
                cur = Some(Building {
                    msg: SentMessage {
                        index: count,
                        control_id: text(10),
                        time: hl7_time(seg.field(7)),
                        facility: comp(4, 1),
                        ..SentMessage::default()
                    },
                    ..Building::default()
                });
            }
            "PID" => {
                if let Some(b) = cur.as_mut() {
                    b.msg.patient_ref = comp(3, 1);
                    b.dob = hl7_date(seg.field(7));
                    if filled(&seg, 11) {
                        b.fields |= Field::Address.bit();
                    }
                    if filled(&seg, 13) {
                        b.fields |= Field::Phone.bit();
                    }
                }
            }
            "ORC" => {
                if let Some(b) = cur.as_mut() {
                    b.entered_by = person(&seg, 10);
                    b.ordering = person(&seg, 12);
                }
            }
            "PD1" | "NK1" | "RXR" | "OBX" => {
                if let Some(b) = cur.as_mut() {
                    b.presence(&seg);
                }
            }
            "RXA" => {
                if let Some(b) = cur.as_mut() {
                    let is_ndc = |c: usize| seg.component(5, c).trim().eq_ignore_ascii_case("NDC");
                    let code = comp(5, 1);
                    let (cvx, mut ndc) = if is_ndc(3) {
                        (None, code)
                    } else {
                        (code, None)
                    };
                    if ndc.is_none() && is_ndc(6) {
                        ndc = comp(5, 4);
                    }
                    let source = seg.component(9, 1).trim();
                    let fields = Building::rxa_fields(&seg, ndc.is_some());
                    b.msg.vaccinations.push(Vaccination {
                        cvx,
                        ndc,
                        administered_on: hl7_date(seg.field(3)),
                        historical: !source.is_empty() && source != "00",
                        completion: comp(20, 1).map(|mut s| {
                            s.make_ascii_uppercase();
                            s
                        }),
                        provider: person(&seg, 10),
                        site: comp(11, 4),
                        // ORC before RXA in an order group: the last ORC applies
                        entered_by: b.entered_by.clone(),
                        ordering_provider: b.ordering.clone(),
                        age_years: None,
                        fields,
                    });
                }
            }
            _ => {}
        }
    }
    if let Some(b) = cur.take() {
        each(b.finish())?;
    }
    if count == 0 {
        return Err(ReadError::NoMessage);
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(data: &str) -> Vec<SentMessage> {
        let mut c = crate::formats::Collect::all();
        read_batch(data.as_bytes(), &mut c).unwrap();
        c.sent
    }

    #[test]
    fn reads_the_ledger_fields_and_no_patient_names() {
        let batch = "FHS|^~\\&|EHR|ACME\rBHS|^~\\&\r\
MSH|^~\\&|EHR|ACME CLINIC^1234^L|TXIIS|TXDSHS|20251028083000-0500||VXU^V04^VXU_V04|CTL001|P|2.5.1\r\
PID|1||MRN001^^^ACME^MR~SSN9^^^SSA^SS||DOE^JANE||20100315|F\r\
ORC|RE||ORD1|||||||NURSE1^Nurse^Nora||DRX^Smith^Al\r\
RXA|0|1|20251027||08^HepB^CVX^^^|0.5|mL||00^New^NIP001|^Jones^Pat|^^^NORTH CLINIC||||LOT1|20261231|MSD^Merck^MVX|||CP|A\r\
RXA|0|1|20240101||49680-0123-01^Flu^NDC|0.5|mL||01^Historical^NIP001||||||||||CP|A\r\
MSH|^~\\&|EHR|ACME CLINIC|TXIIS|TXDSHS|20251028090000||VXU^V04^VXU_V04|CTL002|P|2.5.1\r\
PID|1||MRN002^^^ACME^MR||ROE^RICHARD||19800101|M\r\
BTS|2\rFTS|1\r";
        let m = read(batch);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].control_id.as_deref(), Some("CTL001"));
        assert_eq!(m[0].facility.as_deref(), Some("ACME CLINIC"));
        assert_eq!(m[0].patient_ref.as_deref(), Some("MRN001"));
        assert_eq!(m[0].site(), "NORTH CLINIC");
        assert_eq!(m[0].time.unwrap().to_string(), "2025-10-28 08:30:00");
        let v = &m[0].vaccinations;
        assert_eq!(v.len(), 2);
        assert_eq!((v[0].cvx.as_deref(), v[0].historical), (Some("08"), false));
        assert_eq!(v[0].administered_on, NaiveDate::from_ymd_opt(2025, 10, 27));
        assert_eq!(v[0].provider.as_deref(), Some("Jones, Pat"));
        assert_eq!(v[0].entered_by.as_deref(), Some("NURSE1"));
        assert_eq!(v[0].ordering_provider.as_deref(), Some("DRX"));
        assert_eq!(v[0].completion.as_deref(), Some("CP"));
        assert_eq!(v[0].age_years, Some(15));
        assert_eq!(
            (v[1].cvx.as_deref(), v[1].ndc.as_deref()),
            (None, Some("49680-0123-01"))
        );
        assert!(v[1].historical);
        assert_eq!(v[1].vaccine(), "49680-0123-01");
        assert_eq!(m[1].site(), "ACME CLINIC");
        assert_eq!(hl7_date("2025-01-01"), None);
        assert_eq!(hl7_date("20250230"), None);
        assert_eq!(hl7_date("2025013"), None);
        assert!(m[1].vaccinations.is_empty());
        let debug = format!("{m:?}");
        for secret in ["DOE", "JANE", "20100315", "ROE", "SSN9"] {
            assert!(!debug.contains(secret), "{secret} leaked into the ledger");
        }
    }

    #[test]
    fn not_hl7_is_an_error() {
        assert!(matches!(
            read_batch("name,dob\n".as_bytes(), &mut crate::formats::Discard),
            Err(ReadError::NoMessage)
        ));
    }
}
