//! Payment card numbers: 13–19 digits, bare or grouped the way cards are
//! printed, that pass the Luhn check. A number that fails Luhn stays.
//!
//! A number written without separators must also start with an issuer
//! digit (2–6): long bare ids and millisecond timestamps pass Luhn as
//! often as anything else.
//!
//! The text is cut into runs of digit groups joined by single spaces or
//! dashes; within a run, windows of whole groups are tried longest first,
//! so `4111 1111 1111 1111 123` still finds the card in its first four
//! groups. A grouped window must look printed: the first group 4 digits,
//! the middle ones 4–6, the last 3–6 (4-4-4-4, 4-6-5 Amex, 4-6-4 Diners,
//! 4-4-4-4-3), one kind of separator. That keeps a list of phone numbers
//! (`822 555 0134 912 555 7397`) from being read as a card because some
//! of its groups happen to pass Luhn, as one reading in ten does.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::checksum::{digits_of, luhn};
use super::edges::{char_before, glued};

static RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[0-9]+(?:[ \-][0-9]+)*").expect("built-in card pattern"));

const MIN_DIGITS: usize = 13;
const MAX_DIGITS: usize = 19;

/// The byte ranges of card numbers in `text`.
pub(super) fn find(text: &str) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    for run in RUN.find_iter(text) {
        // `+49 1512 …` is a phone number; `x4111…` part of a word.
        if glued(text, &run.range()) || char_before(text, run.start()) == Some('+') {
            continue;
        }
        let groups: Vec<Range<usize>> = group_ranges(run.as_str())
            .map(|g| g.start + run.start()..g.end + run.start())
            .collect();
        let total: usize = groups.iter().map(|g| g.len()).sum();
        if total < MIN_DIGITS {
            continue;
        }
        let mut i = 0;
        while i < groups.len() {
            match longest_card_from(text, &groups[i..]) {
                Some(n) => {
                    found.push(groups[i].start..groups[i + n - 1].end);
                    i += n;
                }
                None => i += 1,
            }
        }
    }
    found
}

/// The number of groups, from the first, that make the longest card.
fn longest_card_from(text: &str, groups: &[Range<usize>]) -> Option<usize> {
    // Every card starts with a group of 4 digits or is one long group:
    // skip the rest without trying windows.
    if groups[0].len() != 4 && groups[0].len() < MIN_DIGITS {
        return None;
    }
    let mut windows = Vec::new();
    let mut digits = 0;
    for (k, g) in groups.iter().enumerate() {
        digits += g.len();
        if digits > MAX_DIGITS {
            break;
        }
        if digits >= MIN_DIGITS {
            windows.push(k + 1);
        }
    }
    windows.into_iter().rev().find(|&n| {
        let window = &groups[..n];
        let span = &text[window[0].start..window[n - 1].end];
        printed_shape(text, window) && {
            let digits = digits_of(span);
            digits.iter().any(|&d| d != 0) && luhn(&digits)
        }
    })
}

/// One bare group, or groups shaped as cards are printed.
fn printed_shape(text: &str, window: &[Range<usize>]) -> bool {
    let [first, rest @ ..] = window else {
        return false;
    };
    if rest.is_empty() {
        return bare_card_prefix(&text[first.clone()]);
    }
    let [middle @ .., last] = rest else {
        return false;
    };
    let separator = |g: &Range<usize>| text.as_bytes()[g.end];
    first.len() == 4
        && middle.iter().all(|g| (4..=6).contains(&g.len()))
        && (3..=6).contains(&last.len())
        && middle.iter().all(|g| separator(g) == separator(first))
}

/// An ungrouped run is only a card if it starts the way payment cards do:
/// 2–6, the banking and payment industry digits (Mastercard 2-series,
/// Amex/Diners/JCB 3, Visa 4, Mastercard/Maestro 5, Discover/UnionPay 6);
/// 13 digits only for the old Visa numbers (4). Bare runs of this length
/// are often other things: a millisecond Unix time is 13 digits starting
/// with 1, and one in ten passes Luhn.
fn bare_card_prefix(digits: &str) -> bool {
    match digits.as_bytes() {
        [b'4', ..] => true,
        [b'2'..=b'6', ..] => digits.len() > MIN_DIGITS,
        _ => false,
    }
}

/// The digit groups of a run, as ranges within it.
fn group_ranges(run: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut start = 0;
    run.split([' ', '-']).map(move |g| {
        let range = start..start + g.len();
        start += g.len() + 1;
        range
    })
}
