//! Whole-word, case-insensitive matching of a configured word list, shared
//! by redaction and the content filter.
//!
//! All words compile into one regex alternation without `\b`; the word
//! boundaries are checked in code instead. That keeps the regex on its fast
//! (DFA) path for any text — Unicode `\b` would force the slow one on
//! non-ASCII text — and lets a boundary depend on the script: Chinese,
//! Japanese, Thai and similar scripts are written without spaces between
//! words, so a word in them matches inside a run of letters.

use std::ops::Range;

use regex::{Regex, RegexBuilder};

use super::error::{HookProblem, WordReason};

/// Most entries one list may hold.
pub(crate) const MAX_WORDS: usize = 5_000;
/// Longest entry, in characters.
const MAX_WORD_CHARS: usize = 200;
/// Cap on the compiled alternation. The regex crate's default (10 MiB) is
/// reached by a few thousand case-insensitive Unicode words; this stays
/// bounded while leaving room for the full `MAX_WORDS`.
const SIZE_LIMIT: usize = 64 << 20;

/// A compiled word list.
#[derive(Debug, Clone)]
pub(crate) struct WordList {
    regex: Regex,
}

impl WordList {
    /// Checks each entry and compiles the list; `None` for an empty list.
    pub(crate) fn build(
        words: &[String],
        field: &'static str,
    ) -> Result<Option<Self>, HookProblem> {
        if words.is_empty() {
            return Ok(None);
        }
        if words.len() > MAX_WORDS {
            return Err(HookProblem::TooMany {
                field,
                count: words.len(),
                max: MAX_WORDS,
            });
        }
        for word in words {
            check_word(word)?;
        }
        // Longest first, so that of "new york" and "new york city" the
        // longer wins where both match (the alternation is leftmost-first).
        let mut sorted: Vec<&String> = words.iter().collect();
        sorted.sort_by(|a, b| b.chars().count().cmp(&a.chars().count()).then(a.cmp(b)));
        sorted.dedup();
        let alternatives: Vec<String> = sorted
            .iter()
            .map(|w| {
                w.split_whitespace()
                    .map(regex::escape)
                    .collect::<Vec<_>>()
                    .join(r"\s+")
            })
            .collect();
        let pattern = format!("(?i:{})", alternatives.join("|"));
        let regex = RegexBuilder::new(&pattern)
            .size_limit(SIZE_LIMIT)
            .build()
            .map_err(|e| HookProblem::WordsTooLarge(e.to_string()))?;
        Ok(Some(WordList { regex }))
    }

    /// The byte ranges of whole-word matches, left to right, not
    /// overlapping.
    pub(crate) fn find_all(&self, text: &str) -> Vec<Range<usize>> {
        let mut found = Vec::new();
        let mut at = 0;
        // After a match that is not a whole word (`newer` for "new"), a
        // shorter entry may still be one at the same start ("new york"
        // failing in "new yorker" leaves "new"): search again with the
        // text cut before the failed match's last character.
        let mut retry: Option<(usize, usize)> = None; // (start, cut)
        while at <= text.len() {
            let haystack = retry.map_or(text, |(_, cut)| &text[..cut]);
            let m = self.regex.find_at(haystack, at);
            match (m, retry) {
                (Some(m), Some((start, _))) if m.start() != start => {
                    at = next_char(text, start);
                    retry = None;
                }
                (None, Some((start, _))) => {
                    at = next_char(text, start);
                    retry = None;
                }
                (None, None) => break,
                (Some(m), _) => {
                    if whole_word(text, m.range()) {
                        found.push(m.range());
                        at = m.end();
                        retry = None;
                    } else {
                        let cut = text[..m.end()]
                            .char_indices()
                            .next_back()
                            .map_or(0, |(i, _)| i);
                        if cut > m.start() {
                            retry = Some((m.start(), cut));
                            at = m.start();
                        } else {
                            at = next_char(text, m.start());
                            retry = None;
                        }
                    }
                }
            }
        }
        found
    }
}

/// The byte index just past the character at `i`.
fn next_char(text: &str, i: usize) -> usize {
    i + text[i..].chars().next().map_or(1, char::len_utf8)
}

fn check_word(word: &str) -> Result<(), HookProblem> {
    let bad = |reason| HookProblem::BadWord {
        word: word.to_owned(),
        reason,
    };
    if word.trim().is_empty() {
        return Err(bad(WordReason::Empty));
    }
    if word.trim() != word {
        return Err(bad(WordReason::SurroundingSpace));
    }
    if word.chars().any(char::is_control) {
        return Err(bad(WordReason::ControlCharacter));
    }
    if word.chars().count() > MAX_WORD_CHARS {
        return Err(bad(WordReason::TooLong));
    }
    Ok(())
}

/// Whether `range` of `text` stands as a whole word: at each end, if the
/// match's own character is a letter or digit of a script written with
/// spaces, the neighbour must not be a letter, digit or `_`. An end that
/// is punctuation (as in `C++`) needs no boundary.
fn whole_word(text: &str, range: Range<usize>) -> bool {
    let inner = &text[range.clone()];
    let (Some(first), Some(last)) = (inner.chars().next(), inner.chars().next_back()) else {
        return false;
    };
    let before = text[..range.start].chars().next_back();
    let after = text[range.end..].chars().next();
    let open = !needs_boundary(first) || !before.is_some_and(is_word_char);
    let close = !needs_boundary(last) || !after.is_some_and(is_word_char);
    open && close
}

/// Letters, digits and `_`, as `\w` counts them (minus combining marks).
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn needs_boundary(c: char) -> bool {
    is_word_char(c) && !unspaced_script(c)
}

/// Scripts that do not put spaces between words: Thai, Lao, Myanmar,
/// Khmer, Japanese kana, and CJK ideographs.
fn unspaced_script(c: char) -> bool {
    matches!(
        u32::from(c),
        0x0E00..=0x0EFF
            | 0x1000..=0x109F
            | 0x1780..=0x17FF
            | 0x3040..=0x30FF
            | 0x31F0..=0x31FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xF900..=0xFAFF
            | 0xFF66..=0xFF9F
            | 0x20000..=0x3134F
    )
}
