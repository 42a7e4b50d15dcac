//! Which delimiter a text listing uses, guessed from its first lines.

use super::*;

/// Guess the delimiter of a text table from its first lines.
pub fn sniff_delimiter(text: &str) -> Option<Format> {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(30)
        .collect();
    if lines.is_empty() {
        return None;
    }
    let mut best: Option<(usize, Format)> = None;
    for (d, f) in [
        (',', Format::Csv),
        ('\t', Format::Tsv),
        ('|', Format::Pipe),
        (';', Format::Semicolon),
    ] {
        let counts: Vec<usize> = lines.iter().map(|l| count_outside_quotes(l, d)).collect();
        let mut freq: HashMap<usize, usize> = HashMap::new();
        for &c in counts.iter().filter(|&&c| c > 0) {
            *freq.entry(c).or_default() += 1;
        }
        let Some((_, &agree)) = freq.iter().max_by_key(|(c, n)| (**n, **c)) else {
            continue;
        };
        if best.is_none_or(|(b, _)| agree > b) {
            best = Some((agree, f));
        }
    }
    best.map(|(_, f)| f)
}

pub(super) fn count_outside_quotes(line: &str, d: char) -> usize {
    let mut inq = false;
    let mut n = 0;
    for c in line.chars() {
        if c == '"' {
            inq = !inq;
        } else if c == d && !inq {
            n += 1;
        }
    }
    n
}
