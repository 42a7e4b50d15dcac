//! Fuzz target: the delimited-table parser (header search, aliases, fill-down, code splitting, consent rows).
#![no_main]

use immdqa::formats::{Discard, Kind, ParseOptions, parse_bytes};
use libfuzzer_sys::fuzz_target;

const PREFIX: &[u8] = b"Field,";

fuzz_target!(|data: &[u8]| {
    // Route the input to this parser: inputs that already carry the prefix are used as they
    // are (the seed corpus), others get it prepended.
    let input = if data.starts_with(PREFIX) { data.to_vec() } else { [PREFIX, data].concat() };
    for hint in [None, Some(Kind::Cnf)] {
        let opts = ParseOptions { kind_hint: hint, ..ParseOptions::default() };
        let _ = parse_bytes(&input, "fuzz.csv", &opts, &mut Discard);
    }
});
