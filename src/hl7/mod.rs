//! HL7 v2 (ER7) reading: segments, fields, components, escape sequences, batch wrappers.
//!
//! Pure and streaming: [`SegmentReader`] yields one segment at a time from any `BufRead`,
//! accepting `\r`, `\n` or `\r\n` as terminators, so a file of any size is read in bounded
//! memory. The encoding characters come from each MSH/FHS/BHS header (MSH-1, MSH-2).
//! Used by the acknowledgement and legacy DQA parsers, and by the upload lint.

pub mod lint;

use std::io::{self, BufRead};

/// The five HL7 delimiters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Separators {
    pub field: u8,
    pub component: u8,
    pub repetition: u8,
    pub escape: u8,
    pub subcomponent: u8,
}

impl Default for Separators {
    fn default() -> Self {
        Separators {
            field: b'|',
            component: b'^',
            repetition: b'~',
            escape: b'\\',
            subcomponent: b'&',
        }
    }
}

impl Separators {
    /// Read the delimiters from a header segment (`MSH|^~\&|…`, also FHS/BHS).
    /// Missing encoding characters keep their defaults.
    pub fn from_header(seg: &[u8]) -> Option<Separators> {
        if seg.len() < 4 || !is_header_id(&seg[..3]) {
            return None;
        }
        let mut s = Separators {
            field: seg[3],
            ..Separators::default()
        };
        let enc = &seg[4..];
        let enc = &enc[..enc.iter().position(|&b| b == s.field).unwrap_or(enc.len())];
        if let Some(&c) = enc.first() {
            s.component = c;
        }
        if let Some(&c) = enc.get(1) {
            s.repetition = c;
        }
        if let Some(&c) = enc.get(2) {
            s.escape = c;
        }
        if let Some(&c) = enc.get(3) {
            s.subcomponent = c;
        }
        Some(s)
    }
}

/// Whether a segment id is one that carries the encoding characters.
/// Text safe to print: control characters (a NUL in MSH-10, an escape sequence in a field)
/// shown as `\x00`-style escapes, never written raw to a terminal, a log or a file.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    // the control characters are C0 (below 0x20), DEL and C1 (U+0080–U+009F, in UTF-8 0xC2
    // then 0x80–0x9F): a byte scan finds them without decoding
    let b = s.as_bytes();
    // a branch-free pass over 32-byte chunks first (most texts hold none of these bytes)
    let suspect = b.chunks(32).any(|ch| {
        ch.iter()
            .fold(false, |a, &c| a | (c < 0x20) | (c == 0x7f) | (c == 0xc2))
    });
    let control = suspect
        && b.iter().enumerate().any(|(i, &c)| {
            (c < 0x20 && c != b'\t')
                || c == 0x7f
                || (c == 0xc2 && b.get(i + 1).is_some_and(|n| (0x80..=0x9f).contains(n)))
        });
    if !control {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() && c != '\t' {
            let n = c as u32;
            if n < 0x100 {
                out.push_str(&format!("\\x{n:02x}"));
            } else {
                out.push_str(&format!("\\u{{{n:04x}}}"));
            }
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// [`printable`] in place: only a text that held a control character is rewritten.
pub fn make_printable(t: &mut String) {
    if let std::borrow::Cow::Owned(p) = printable(t) {
        *t = p;
    }
}

/// MSH-10 of every message in a batch, in order (empty ids skipped).
pub fn control_ids(data: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(data);
    let mut sep = Separators::default();
    text.split(['\r', '\n'])
        .filter(|l| l.starts_with("MSH"))
        .map(|l| Segment::parse(l, &mut sep).text(10))
        .filter(|c| !c.is_empty())
        .collect()
}

pub fn is_header_id(id: &[u8]) -> bool {
    matches!(id, b"MSH" | b"FHS" | b"BHS")
}

/// Reads segments one at a time, in bounded memory (a segment longer than `max_len` is an
/// error rather than an unbounded allocation).
pub struct SegmentReader<R> {
    inner: R,
    max_len: usize,
    /// 1-based number of the segment last returned (lines, for error messages).
    pub line: u64,
}

impl<R: BufRead> SegmentReader<R> {
    pub fn new(inner: R) -> Self {
        SegmentReader {
            inner,
            max_len: 16 * 1024 * 1024,
            line: 0,
        }
    }

    /// Read the next non-empty segment into `buf` (without its terminator). Returns false at end.
    pub fn next_into(&mut self, buf: &mut Vec<u8>) -> io::Result<bool> {
        buf.clear();
        loop {
            let (done, used) = {
                let avail = self.inner.fill_buf()?;
                if avail.is_empty() {
                    break;
                }
                match memchr::memchr2(b'\r', b'\n', avail) {
                    Some(i) => {
                        buf.extend_from_slice(&avail[..i]);
                        (true, i + 1)
                    }
                    None => {
                        buf.extend_from_slice(avail);
                        (false, avail.len())
                    }
                }
            };
            self.inner.consume(used);
            if buf.len() > self.max_len {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("a line longer than {} bytes", self.max_len),
                ));
            }
            if done {
                if buf.iter().all(|b| b.is_ascii_whitespace()) {
                    buf.clear();
                    continue; // blank line, or the \n of a \r\n pair
                }
                break;
            }
        }
        if buf.is_empty() {
            return Ok(false);
        }
        self.line += 1;
        Ok(true)
    }
}

/// A segment's fields as (start, end) byte offsets into its line: the first 24 inline (every
/// field the parsers read, and the whole of most segments), the rest on the heap; no
/// allocation for a usual segment, and a `Segment` small enough to move cheaply (string
/// slices made it 430 bytes, and lint moves millions: benchmark B12). (A plain array rather
/// than `SmallVec`, which would make `Segment` invariant in its lifetime.)
#[derive(Debug, Clone)]
struct Fields<'a> {
    line: &'a str,
    inline: [(u32, u32); 24],
    len: usize,
    spill: Vec<(u32, u32)>,
}

impl<'a> Fields<'a> {
    fn new(line: &'a str) -> Fields<'a> {
        Fields {
            line,
            inline: [(0, 0); 24],
            len: 0,
            spill: Vec::new(),
        }
    }

    /// Add `f`, a slice of the line.
    fn push(&mut self, f: &'a str) {
        let start = f.as_ptr() as usize - self.line.as_ptr() as usize;
        self.push_at(start, start + f.len());
    }

    /// Add the field at bytes `start..end` of the line.
    fn push_at(&mut self, start: usize, end: usize) {
        let at = (start as u32, end as u32);
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = at,
            None => self.spill.push(at),
        }
        self.len += 1;
    }

    /// The 0-based field `i`, "" past the end.
    fn get(&self, i: usize) -> &'a str {
        if i >= self.len {
            return "";
        }
        let at = match self.inline.get(i) {
            Some(at) => Some(*at),
            None => self.spill.get(i - self.inline.len()).copied(),
        };
        at.and_then(|(a, b)| self.line.get(a as usize..b as usize))
            .unwrap_or("")
    }
}

/// One segment split into fields (borrowed from the line).
#[derive(Debug, Clone)]
pub struct Segment<'a> {
    pub id: &'a str,
    fields: Fields<'a>,
    pub sep: Separators,
}

impl<'a> Segment<'a> {
    /// Split a segment line. `sep` is updated when the segment is a header (MSH/FHS/BHS).
    pub fn parse(line: &'a str, sep: &mut Separators) -> Segment<'a> {
        if let Some(s) = Separators::from_header(line.as_bytes()) {
            *sep = s;
        }
        // offsets are u32: a segment line is far shorter (SegmentReader caps it at 16 MiB)
        let mut fields = Fields::new(line);
        let id = if sep.field.is_ascii() {
            // one pass over the bytes (a search per field cost more on short fields)
            let (b, fs) = (line.as_bytes(), sep.field);
            let mut id = None;
            let mut start = 0;
            for (i, &c) in b.iter().enumerate() {
                if c == fs {
                    match id {
                        None => id = Some(&line[..i]),
                        Some(_) => fields.push_at(start, i),
                    }
                    start = i + 1;
                }
            }
            match id {
                None => line,
                Some(id) => {
                    fields.push_at(start, b.len());
                    id
                }
            }
        } else {
            let mut it = Parts::new(line, sep.field);
            let id = it.next().unwrap_or("");
            for f in it {
                fields.push(f);
            }
            id
        };
        let id = id.trim_start_matches('\u{feff}');
        Segment {
            id,
            fields,
            sep: *sep,
        }
    }

    /// Field `n` in HL7 numbering (`MSH-10` is `field(10)` on an MSH segment, where MSH-1 is
    /// the field separator itself).
    pub fn field(&self, n: usize) -> &'a str {
        if n == 0 {
            return "";
        }
        if is_header_id(self.id.as_bytes()) {
            if n == 1 {
                return "";
            }
            self.fields.get(n - 2)
        } else {
            self.fields.get(n - 1)
        }
    }

    /// Component `c` (1-based) of field `n`, first repetition.
    pub fn component(&self, n: usize, c: usize) -> &'a str {
        let f = self.field(n);
        let (rep, comp) = (self.sep.repetition, self.sep.component);
        if rep.is_ascii() && comp.is_ascii() {
            // one pass over the (short) field's bytes
            let want = c.max(1);
            let (mut k, mut start) = (1, 0);
            for (i, &x) in f.as_bytes().iter().enumerate() {
                if x == rep {
                    return if k == want { &f[start..i] } else { "" };
                }
                if x == comp {
                    if k == want {
                        return &f[start..i];
                    }
                    k += 1;
                    start = i + 1;
                }
            }
            return if k == want { &f[start..] } else { "" };
        }
        let first = Parts::new(f, self.sep.repetition).next().unwrap_or("");
        Parts::new(first, self.sep.component)
            .nth(c.saturating_sub(1))
            .unwrap_or("")
    }

    /// Field `n` with escape sequences decoded.
    pub fn text(&self, n: usize) -> String {
        unescape(self.field(n), &self.sep)
    }
}

/// Decode HL7 escape sequences: `\F\ \S\ \T\ \R\ \E\`, `\Xhh…\` (hex bytes), `\.br\` (line
/// break); formatting escapes (`\H\`, `\N\`, `\.sp…\` …) are dropped. A malformed sequence is
/// kept literally.
pub fn unescape(s: &str, sep: &Separators) -> String {
    unescape_cow(s, sep).into_owned()
}

/// [`unescape`], borrowing `s` when it holds no escape character (the common case: no
/// allocation).
pub fn unescape_cow<'a>(s: &'a str, sep: &Separators) -> std::borrow::Cow<'a, str> {
    let esc = sep.escape as char;
    let plain = if sep.escape.is_ascii() {
        memchr::memchr(sep.escape, s.as_bytes()).is_none()
    } else {
        !s.contains(esc)
    };
    if plain {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    // the escape character as text: one byte, or two for a byte above 0x7F (as `char`)
    let w = esc.len_utf8();
    while let Some(i) = rest.find(esc) {
        out.push_str(&rest[..i]);
        let after = &rest[i + w..];
        match after.find(esc) {
            Some(j) => {
                let code = &after[..j];
                match code {
                    "F" => out.push(sep.field as char),
                    "S" => out.push(sep.component as char),
                    "T" => out.push(sep.subcomponent as char),
                    "R" => out.push(sep.repetition as char),
                    "E" => out.push(esc),
                    ".br" => out.push('\n'),
                    c if c.starts_with('X') && c.is_ascii() && c.len() > 1 && c.len() % 2 == 1 => {
                        let bytes: Option<Vec<u8>> = (1..c.len())
                            .step_by(2)
                            .map(|k| u8::from_str_radix(&c[k..k + 2], 16).ok())
                            .collect();
                        match bytes {
                            Some(b) => out.push_str(&String::from_utf8_lossy(&b)),
                            None => {
                                out.push(esc);
                                out.push_str(code);
                                out.push(esc);
                            }
                        }
                    }
                    "H" | "N" => {}
                    c if c.starts_with(".sp") || c.starts_with(".in") || c.starts_with(".ti") => {}
                    _ => {
                        out.push(esc);
                        out.push_str(code);
                        out.push(esc);
                    }
                }
                rest = &after[j + w..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// The pieces of `s` between separators `sep`, as `s.split(sep as char)` gives them; by
/// memchr over the bytes when `sep` is ASCII (always a char boundary), the char search
/// otherwise. Field and component splitting was the largest cost of reading big batches.
pub struct Parts<'a> {
    rest: Option<&'a str>,
    sep: u8,
}

impl<'a> Parts<'a> {
    pub fn new(s: &'a str, sep: u8) -> Parts<'a> {
        Parts { rest: Some(s), sep }
    }
}

impl<'a> Iterator for Parts<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest?;
        let cut = if self.sep.is_ascii() {
            memchr::memchr(self.sep, s.as_bytes()).map(|i| (i, i + 1))
        } else {
            let c = self.sep as char;
            s.find(c).map(|i| (i, i + c.len_utf8()))
        };
        match cut {
            Some((end, next)) => {
                self.rest = Some(&s[next..]);
                Some(&s[..end])
            }
            None => {
                self.rest = None;
                Some(s)
            }
        }
    }
}

/// Decode bytes as UTF-8, falling back to Windows-1252 (registry and EHR exports are not
/// always UTF-8; Windows-1252 maps 0x80–0x9F to the curly quotes, dashes and € that Windows
/// programs write, where Latin-1 would give control characters). Never fails.
pub fn decode_text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => std::borrow::Cow::Owned(
            encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(bytes)
                .0
                .into_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass splitting of `Segment::parse` and `component` reads what splitting with
    /// [`Parts`] reads (the reference), for any line.
    #[test]
    fn fast_splitting_matches_the_reference() {
        fn reference_component(f: &str, c: usize, sep: Separators) -> &str {
            let first = Parts::new(f, sep.repetition).next().unwrap_or("");
            Parts::new(first, sep.component)
                .nth(c.saturating_sub(1))
                .unwrap_or("")
        }
        proptest::proptest!(|(line in "(MSH|BHS|PID)?[A-Z\u{feff}|^~&é]{0,40}")| {
            let mut sep = Separators::default();
            let seg = Segment::parse(&line, &mut sep);
            let mut parts = Parts::new(&line, sep.field);
            let id = parts.next().unwrap_or("").trim_start_matches('\u{feff}');
            proptest::prop_assert_eq!(seg.id, id);
            let rest: Vec<&str> = parts.collect();
            let header = is_header_id(seg.id.as_bytes());
            for (i, f) in rest.iter().enumerate() {
                let n = if header { i + 2 } else { i + 1 };
                if header && n == 2 { continue; }
                proptest::prop_assert_eq!(seg.field(n), *f);
                for c in 0..4 {
                    proptest::prop_assert_eq!(seg.component(n, c), reference_component(f, c, sep));
                }
            }
            proptest::prop_assert_eq!(seg.field(rest.len() + 3), "");
        });
    }

    fn segments(data: &[u8]) -> Vec<String> {
        let mut r = SegmentReader::new(io::BufReader::with_capacity(7, data));
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while r.next_into(&mut buf).unwrap() {
            out.push(String::from_utf8(buf.clone()).unwrap());
        }
        out
    }

    #[test]
    fn any_terminator_and_blank_lines() {
        let want = vec!["MSH|^~\\&|A", "PID|1", "ERR|x"];
        assert_eq!(segments(b"MSH|^~\\&|A\rPID|1\rERR|x\r"), want);
        assert_eq!(segments(b"MSH|^~\\&|A\nPID|1\nERR|x"), want);
        assert_eq!(segments(b"MSH|^~\\&|A\r\nPID|1\r\n\r\nERR|x\r\n"), want);
        assert_eq!(segments(b"\n\n  \r"), Vec::<String>::new());
    }

    #[test]
    fn msh_numbering_and_components() {
        let mut sep = Separators::default();
        let s = Segment::parse(
            "MSH|^~\\&|ImmTrac24.16|TEXIIS||ACME|20251028||ACK^V04^ACK|9000000|P|2.5.1",
            &mut sep,
        );
        assert_eq!(s.field(2), "^~\\&");
        assert_eq!(s.field(3), "ImmTrac24.16");
        assert_eq!(s.field(10), "9000000");
        assert_eq!(s.component(9, 2), "V04");
        assert_eq!(s.field(99), "");
        let e = Segment::parse("ERR||RXR^1^2|101^Required", &mut sep);
        assert_eq!(e.component(2, 1), "RXR");
        assert_eq!(e.component(2, 3), "2");
        assert_eq!(e.component(3, 2), "Required");
    }

    #[test]
    fn custom_delimiters_from_msh() {
        let mut sep = Separators::default();
        let m = Segment::parse("MSH#:*!@#x#y", &mut sep);
        assert_eq!(sep.field, b'#');
        assert_eq!(sep.component, b':');
        assert_eq!(sep.escape, b'!');
        assert_eq!(m.field(3), "x");
        let e = Segment::parse("ERR##PD1:1:12###W", &mut sep);
        assert_eq!(e.component(2, 3), "12");
        assert_eq!(unescape("a!F!b!S!c!E!", &sep), "a#b:c!");
    }

    #[test]
    fn fields_past_the_inline_ones_are_kept() {
        let line: String = (1..=30).map(|i| format!("|f{i}")).collect();
        let line = format!("OBX{line}");
        let seg = Segment::parse(&line, &mut Separators::default());
        assert_eq!(seg.field(1), "f1");
        assert_eq!(seg.field(24), "f24");
        assert_eq!(seg.field(25), "f25");
        assert_eq!(seg.field(30), "f30");
        assert_eq!(seg.field(31), "");
        let msh = "MSH|^~\\&|A|B";
        let seg = Segment::parse(msh, &mut Separators::default());
        assert_eq!(
            (seg.field(2), seg.field(4), seg.field(5)),
            ("^~\\&", "B", "")
        );
    }

    #[test]
    fn escapes() {
        let sep = Separators::default();
        assert_eq!(unescape(r"a\F\b\S\c\T\d\R\e\E\f", &sep), "a|b^c&d~e\\f");
        assert_eq!(unescape(r"line1\.br\line2", &sep), "line1\nline2");
        assert_eq!(unescape(r"\X41\\X4142\", &sep), "AAB");
        assert_eq!(unescape(r"\H\bold\N\", &sep), "bold");
        assert_eq!(unescape(r"back\to\back", &sep), r"back\to\back");
        assert_eq!(unescape(r"dangling\", &sep), r"dangling\");
        assert_eq!(unescape(r"\E\\E\", &sep), r"\\");
        assert_eq!(
            unescape("\\Xé\\", &sep),
            "\\Xé\\",
            "non-ASCII hex kept literally"
        );
    }

    #[test]
    fn latin1_fallback() {
        assert_eq!(decode_text(b"caf\xe9"), "café");
        // 0x93/0x94 are curly quotes and 0x80 the euro sign in Windows-1252, not controls
        assert_eq!(
            decode_text(b"\x93Smith\x94 \x80"),
            "\u{201c}Smith\u{201d} \u{20ac}"
        );
        assert_eq!(decode_text("café".as_bytes()), "café");
    }

    /// A header may declare a byte above 0x7F as the escape character (a damaged or
    /// Windows-1252 file): decoding must not cut that character in half (found by the
    /// mutated-specimen test).
    #[test]
    fn a_non_ascii_escape_character_is_decoded_whole() {
        let sep = Separators {
            escape: 0xA2,
            ..Separators::default()
        };
        assert_eq!(unescape("a\u{a2}F\u{a2}b", &sep), "a|b");
        assert_eq!(unescape("dangling\u{a2}", &sep), "dangling\u{a2}");
        assert_eq!(unescape("\u{a2}Q\u{a2}", &sep), "\u{a2}Q\u{a2}");
    }

    proptest::proptest! {
        /// Any escape byte, any text: decoding never panics.
        #[test]
        fn unescape_never_panics(s in "[a-c|^~\\&FSXH0-9\u{80}-\u{ff}]{0,40}", esc in 0u8..=255) {
            let sep = Separators { escape: esc, ..Separators::default() };
            let _ = unescape(&s, &sep);
        }

        /// The byte splitter gives exactly what `str::split` on the separator's char gives,
        /// for any separator byte (ASCII by memchr, the others by the char search).
        #[test]
        fn parts_split_like_str_split(s in "[a-c|^~\\&\u{80}-\u{ff}]{0,40}", sep in 0u8..=255) {
            let ours: Vec<&str> = Parts::new(&s, sep).collect();
            let std: Vec<&str> = s.split(sep as char).collect();
            proptest::prop_assert_eq!(ours, std);
        }
    }
}
