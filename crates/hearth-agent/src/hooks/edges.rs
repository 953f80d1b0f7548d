//! What surrounds a candidate span: the checks that keep a detector from
//! matching part of a longer word or number (the `regex` crate has no
//! look-around, so the detectors' patterns match freely and these decide).

use std::ops::Range;

use super::words::is_word_char;

/// Characters that join the groups of one number: `4111 1111`, `030-123`,
/// `2026.11`, `030/123`.
pub(super) fn is_number_separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '.' | '/')
}

/// The character just before byte `i`.
pub(super) fn char_before(text: &str, i: usize) -> Option<char> {
    text[..i].chars().next_back()
}

/// The character at byte `i`.
pub(super) fn char_after(text: &str, i: usize) -> Option<char> {
    text[i..].chars().next()
}

/// True when a letter, digit or `_` touches the span on either side
/// (`x4111…`, `AB123456Cx`).
pub(super) fn glued(text: &str, span: &Range<usize>) -> bool {
    char_before(text, span.start).is_some_and(is_word_char)
        || char_after(text, span.end).is_some_and(is_word_char)
}

/// True when the number before `start` runs on into the span: a digit, or
/// a separator with a digit before it (`4000 [0123 4567 8901]`).
pub(super) fn number_before(text: &str, start: usize) -> bool {
    match char_before(text, start) {
        Some(c) if c.is_ascii_digit() => true,
        Some(c) if is_number_separator(c) => {
            char_before(text, start - c.len_utf8()).is_some_and(|d| d.is_ascii_digit())
        }
        _ => false,
    }
}

/// True when the span's number runs on after `end`: a digit, or a
/// separator with a digit after it (`[123-45-6789]-0`).
pub(super) fn number_after(text: &str, end: usize) -> bool {
    match char_after(text, end) {
        Some(c) if c.is_ascii_digit() => true,
        Some(c) if is_number_separator(c) => {
            char_after(text, end + c.len_utf8()).is_some_and(|d| d.is_ascii_digit())
        }
        _ => false,
    }
}

/// A span standing alone: not glued to a word, not part of a longer
/// number on either side.
pub(super) fn standalone_number(text: &str, span: &Range<usize>) -> bool {
    !glued(text, span) && !number_before(text, span.start) && !number_after(text, span.end)
}
