//! Parsing on another thread than storing (every shape, sent batches included): the parser
//! streams its records in batches over a
//! bounded channel while the receiving thread stores them, so parsing and SQLite work on two
//! cores at once. Memory stays bounded: at most `DEPTH` batches of `BATCH` records are in
//! flight per file. [`parse_threaded`] does this for one file; `import` keeps a parser
//! one file ahead with [`records_channel`].

use std::io::{Read, Seek};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::{
    Answer, ConsentNotice, Finding, ParseError, ParseOptions, SentMessage, Sink, SinkError,
    Summary, parse,
};

const BATCH: usize = 128;
const DEPTH: usize = 16;

enum Record {
    Finding(Finding),
    Consent(ConsentNotice),
    Answer(Answer),
    Sent(SentMessage),
}

enum Message {
    Batch(Vec<Record>),
    /// The parser's result, always the last message.
    Done(Result<Summary, ParseError>),
}

/// The parser's end of a records channel.
pub struct RecordSender {
    batch: Vec<Record>,
    tx: SyncSender<Message>,
}

/// The storing end of a records channel.
pub struct Records {
    rx: Receiver<Message>,
}

/// A bounded channel for one file's records.
pub fn records_channel() -> (RecordSender, Records) {
    let (tx, rx) = sync_channel(DEPTH);
    (
        RecordSender {
            batch: Vec::with_capacity(BATCH),
            tx,
        },
        Records { rx },
    )
}

#[derive(Debug, thiserror::Error)]
#[error("the store stopped taking rows")]
struct Stopped;

impl RecordSender {
    fn push(&mut self, r: Record) -> Result<(), SinkError> {
        self.batch.push(r);
        if self.batch.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let full = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        self.tx
            .send(Message::Batch(full))
            .map_err(|_| Box::new(Stopped) as SinkError)
    }

    /// Parse `input` on this thread into the channel, then send the result. Returns early
    /// (quietly) when the receiver is gone.
    pub fn parse<R: Read + Seek>(mut self, input: R, name: &str, opts: &ParseOptions) {
        let result = parse(input, name, opts, &mut self).and_then(|summary| {
            self.flush().map_err(|source| ParseError::Sink {
                file: name.to_string(),
                source,
            })?;
            Ok(summary)
        });
        let _ = self.tx.send(Message::Done(result)); // no receiver: nobody wants it
    }
}

impl Sink for RecordSender {
    fn finding(&mut self, f: Finding) -> Result<(), SinkError> {
        self.push(Record::Finding(f))
    }
    fn consent(&mut self, c: ConsentNotice) -> Result<(), SinkError> {
        self.push(Record::Consent(c))
    }
    fn answer(&mut self, a: Answer) -> Result<(), SinkError> {
        self.push(Record::Answer(a))
    }
    fn sent(&mut self, m: SentMessage) -> Result<(), SinkError> {
        self.push(Record::Sent(m))
    }
}

impl Records {
    /// Feed every record into `sink`, in order, and return the parser's result. If the sink
    /// fails, the channel is closed (the parser stops) and the sink's error is returned.
    pub fn drain_into(self, name: &str, sink: &mut dyn Sink) -> Result<Summary, ParseError> {
        let sink_error = |source| ParseError::Sink {
            file: name.to_string(),
            source,
        };
        for message in self.rx.iter() {
            match message {
                Message::Batch(batch) => {
                    for record in batch {
                        match record {
                            Record::Finding(f) => sink.finding(f),
                            Record::Consent(c) => sink.consent(c),
                            Record::Answer(a) => sink.answer(a),
                            Record::Sent(m) => sink.sent(m),
                        }
                        .map_err(sink_error)?;
                    }
                }
                Message::Done(result) => return result,
            }
        }
        Err(sink_error("the parser stopped without a result".into()))
    }
}

/// [`parse`] with the parser on its own thread and `sink` fed on this one (in order). If the
/// sink fails, the parser is stopped and the sink's error is returned; a parser panic is
/// resumed here.
pub fn parse_threaded<R: Read + Seek + Send>(
    input: R,
    name: &str,
    opts: &ParseOptions,
    sink: &mut dyn Sink,
) -> Result<Summary, ParseError> {
    let (sender, records) = records_channel();
    std::thread::scope(|s| {
        let parser = s.spawn(move || sender.parse(input, name, opts));
        let result = records.drain_into(name, sink); // closes the channel when done
        if let Err(panic) = parser.join() {
            std::panic::resume_unwind(panic);
        }
        result
    })
}

#[cfg(test)]
mod tests {
    use super::super::{Collect, Discard, ParseOptions, parse, specimen};
    use super::*;

    /// The threaded parse yields the same records in the same order as the plain one.
    #[test]
    fn same_records_in_the_same_order() {
        for path in [
            "ack/ACMECLIN25301.hl7.ack",
            "legacy-dqa/ACMECLIN25301.hl7.errors.txt",
            "tabular/ACMECLIN25301_DQA.csv",
            "tabular/DQA_Report_2025-10-28.xlsx",
            "cnf/ACMECLIN_CNF_20251028.csv",
        ] {
            let data = specimen(path);
            let name = path.rsplit('/').next().unwrap();
            let (mut a, mut b) = (Collect::all(), Collect::all());
            let opts = ParseOptions::default();
            let sa = parse(std::io::Cursor::new(&data), name, &opts, &mut a).unwrap();
            let sb = parse_threaded(std::io::Cursor::new(&data), name, &opts, &mut b).unwrap();
            assert_eq!(sa, sb, "{name}");
            assert_eq!(a.findings, b.findings, "{name}");
            assert_eq!(a.consent, b.consent, "{name}");
            assert!(!a.findings.is_empty() || !a.consent.is_empty(), "{name}");
        }
    }

    /// A failing sink stops the parser and its error comes back; nothing is lost silently.
    #[test]
    fn a_failing_sink_stops_the_parser() {
        struct FailAfter(usize);
        impl Sink for FailAfter {
            fn finding(&mut self, _: Finding) -> Result<(), SinkError> {
                self.0 = self.0.checked_sub(1).ok_or("disk full")?;
                Ok(())
            }
            fn consent(&mut self, _: ConsentNotice) -> Result<(), SinkError> {
                Ok(())
            }
        }
        let mut csv = String::from("File Name,HL7 Field,Severity,Code,Message\n");
        for i in 0..20_000 {
            csv.push_str(&format!("X25001.hl7,PID-7,Error,IMR-100,issue {i}\n"));
        }
        let err = parse_threaded(
            std::io::Cursor::new(csv.as_bytes()),
            "big.csv",
            &ParseOptions::default(),
            &mut FailAfter(5),
        )
        .unwrap_err();
        assert!(matches!(err, ParseError::Sink { .. }), "{err:?}");
        assert!(err.to_string().contains("disk full"), "{err}");
        // and a parse error still comes back as a parse error
        let err = parse_threaded(
            std::io::Cursor::new(b"\x00\x01garbage".as_slice()),
            "junk.bin",
            &ParseOptions::default(),
            &mut Discard,
        )
        .unwrap_err();
        assert!(err.is_quarantine(), "{err:?}");
    }
}
