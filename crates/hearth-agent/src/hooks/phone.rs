//! Phone numbers in the shapes people write them, and not the numbers that
//! merely look similar (years, dates, times, versions, amounts, card and
//! account numbers).
//!
//! Three shapes, each with its own length rule (digits counted, not
//! separators):
//! - international: `+` or `00`, a country code, then groups, e.g.
//!   `+1 415 555 2671`, `+44 (0)20 7946 0958`, `+4915112345678`,
//!   `0049 30 1234567`: 8–15 digits (E.164 allows at most 15), exactly 11
//!   for country code 1;
//! - national with a trunk 0: `030 1234567`, `(030) 1234567`, `030/1234567`,
//!   `020 7946 0958`, `06 12 34 56 78`: 9–12 digits, or 10–11 when written
//!   without any separator;
//! - North American: `(415) 555-2671`, `415-555-2671`, `415.555.2671`,
//!   `1-800-555-0199`, the area code starting 2–9.
//!
//! Times (`12:30`) use a colon, which never joins groups. A date has at
//! most 8 digits, too few for any shape; one followed by more digits
//! (`01.02.2026 14:00`) is recognised by its day, month and year groups.
//! A candidate next to more digits (`4000 0123 4567 8901`) is part of a
//! longer number and skipped.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::edges::{glued, is_number_separator, number_after, number_before};

static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        # international
          (?: \+ | 00 \x20? ) [1-9][0-9]{0,2}
          (?: [\x20.\-]? \(0\) )?
          (?: [\x20.\-/]? (?: \([0-9]{1,4}\) | [0-9]{1,5} ) ){1,7}
        # national, with a trunk 0
        | (?: \(0[1-9][0-9]{0,4}\) \x20? | 0[1-9][0-9]{0,4} [\x20.\-/]? )
          [0-9]{2,8} (?: [\x20.\-] [0-9]{2,8} ){0,4}
        # North American
        | (?: 1 [\x20.\-] )? (?: \([2-9][0-9]{2}\) \x20? | [2-9][0-9]{2} [\x20.\-] )
          [0-9]{3} [\x20.\-] [0-9]{4}
        ",
    )
    .expect("built-in phone pattern")
});

/// The byte ranges of phone numbers in `text`.
pub(super) fn find(text: &str) -> Vec<Range<usize>> {
    let mut found: Vec<Range<usize>> = Vec::new();
    let mut at = 0;
    while let Some(m) = PHONE.find_at(text, at) {
        at = m.end();
        let span = m.range();
        // Right after another phone number, with only a separator between,
        // is a list of numbers, not one long number.
        let after_phone = found
            .last()
            .is_some_and(|prev| text[prev.end..span.start].chars().all(is_number_separator));
        if glued(text, &span)
            || (!after_phone && number_before(text, span.start))
            || starts_with_date(m.as_str())
        {
            continue;
        }
        let (min, max) = digit_bounds(m.as_str());
        let mut end = span.end;
        let mut trimmed = false;
        while count_digits(&text[span.start..end]) > max {
            match drop_last_group(text, span.start, end) {
                Some(shorter) => {
                    end = shorter;
                    trimmed = true;
                }
                None => break,
            }
        }
        let digits = count_digits(&text[span.start..end]);
        let runs_on = !trimmed && number_after(text, end) && !phone_follows(text, end);
        if digits < min || digits > max || runs_on {
            continue;
        }
        found.push(span.start..end);
        at = end;
    }
    found
}

/// True when another phone-shaped candidate starts right after the
/// separator at `end`, as in `822 555 0134 912 555 7397`: a list of
/// numbers, not one long number.
fn phone_follows(text: &str, end: usize) -> bool {
    let next = end + text[end..].chars().next().map_or(0, char::len_utf8);
    PHONE.find_at(text, next).is_some_and(|m| m.start() == next)
}

/// The digits a candidate may have, by its shape.
fn digit_bounds(candidate: &str) -> (usize, usize) {
    let international = candidate
        .strip_prefix('+')
        .or_else(|| candidate.strip_prefix("00").map(str::trim_start));
    if let Some(number) = international {
        // Country code 1 is the North American plan: always 1 + 10 digits.
        if number.starts_with('1') {
            (11, 11)
        } else {
            (8, 15)
        }
    } else if candidate.starts_with('0') || candidate.starts_with("(0") {
        if candidate.bytes().all(|b| b.is_ascii_digit()) {
            (10, 11)
        } else {
            (9, 12)
        }
    } else {
        (10, 11)
    }
}

/// Digits, not counting an international `00` prefix or the optional
/// trunk `(0)` of `+44 (0)20 …`.
fn count_digits(s: &str) -> usize {
    let mut n = s.bytes().filter(u8::is_ascii_digit).count();
    if s.starts_with("00") {
        n -= 2;
    }
    if s.contains("(0)") {
        n -= 1;
    }
    n
}

/// A date at the start of a candidate: `01.02.2026 14` (then a time) has
/// the digits of a national number, but its first groups are a day, a
/// month and a year (or a year, a month and a day).
fn starts_with_date(candidate: &str) -> bool {
    let groups: Vec<&str> = candidate
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .take(3)
        .collect();
    let [a, b, c] = groups[..] else {
        return false;
    };
    let day_or_month = |g: &str| g.len() <= 2 && matches!(g.parse::<u32>(), Ok(1..=31));
    (c.len() == 4 && day_or_month(a) && day_or_month(b))
        || (a.len() == 4 && day_or_month(b) && day_or_month(c))
}

/// The end of the candidate without its last digit group (and the
/// separator before it), or `None` when only one group is left.
fn drop_last_group(text: &str, start: usize, end: usize) -> Option<usize> {
    let s = &text[start..end];
    let last_group = s.trim_end_matches(|c: char| !c.is_ascii_digit());
    let before = last_group.trim_end_matches(|c: char| c.is_ascii_digit());
    let kept = before.trim_end_matches(|c: char| !c.is_ascii_digit() && c != ')');
    if kept.bytes().any(|b| b.is_ascii_digit()) {
        Some(start + kept.len())
    } else {
        None
    }
}
