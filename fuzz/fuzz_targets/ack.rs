//! Fuzz target: the HL7 acknowledgement parser (segments, delimiters, escapes, ERR locations).
#![no_main]

use immdqa::formats::{Discard, Kind, ParseOptions, parse_bytes};
use libfuzzer_sys::fuzz_target;

const PREFIX: &[u8] = b"MSH|";

fuzz_target!(|data: &[u8]| {
    // Route the input to this parser: inputs that already carry the prefix are used as they
    // are (the seed corpus), others get it prepended.
    let input = if data.starts_with(PREFIX) { data.to_vec() } else { [PREFIX, data].concat() };
    for hint in [None, Some(Kind::Cnf)] {
        let opts = ParseOptions { kind_hint: hint, ..ParseOptions::default() };
        let _ = parse_bytes(&input, "fuzz.hl7.ack", &opts, &mut Discard);
    }
});
