//! Fuzz target: detection plus whichever parser it picks, on arbitrary bytes.
#![no_main]

use immdqa::formats::{Discard, ParseOptions, parse_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_bytes(data, "fuzz.bin", &ParseOptions::default(), &mut Discard);
});
