//! The redaction hook: runs the enabled detectors over the text, keeps the
//! spans that do not overlap a span of a detector that ran before, and
//! replaces each with its token.
//!
//! Every detector looks at the text as it reached the hook, never at
//! another detector's output, so a token (`[email]`) can never be matched
//! by a later detector or a listed word.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::config::{NationalId, RedactConfig, Replacement};
use super::error::HookProblem;
use super::words::WordList;
use super::{cards, national, phone};

/// Longest replacement token, in characters.
const MAX_TOKEN_CHARS: usize = 64;

/// `local@domain.tld`: a dot-separated local part of letters, digits and
/// `_ % + -`; a domain of labels and a letter TLD (or `xn--` punycode), or
/// an address literal in brackets. `user@localhost` is not matched.
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        [\p{L}\p{N}_%+\-]+ (?: \. [\p{L}\p{N}_%+\-]+ )*
        @
        (?:
            (?: [\p{L}\p{N}] (?: [\p{L}\p{N}\-]* [\p{L}\p{N}] )? \. )+
            (?: \p{L}{2,63} | xn--[a-z0-9\-]+ )
          | \[ [0-9A-Fa-f:.]+ \]
        )",
    )
    .expect("built-in e-mail pattern")
});

/// What a span is, for its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Email,
    Card,
    Id,
    Phone,
    Word,
}

/// A compiled `kind = "redact"` hook.
#[derive(Debug, Clone)]
pub(super) struct Redactor {
    emails: bool,
    cards: bool,
    ids: Vec<NationalId>,
    phones: bool,
    words: Option<WordList>,
    replacement: Replacement,
    token: String,
}

impl Redactor {
    pub(super) fn build(config: &RedactConfig) -> Result<Self, HookProblem> {
        let token = &config.token;
        if token.trim().is_empty() {
            return Err(HookProblem::EmptyToken);
        }
        let len = token.chars().count();
        if len > MAX_TOKEN_CHARS {
            return Err(HookProblem::TooLong {
                field: "token",
                len,
                max: MAX_TOKEN_CHARS,
            });
        }
        let words = WordList::build(&config.words, "words")?;
        if !config.emails
            && !config.cards
            && !config.phones
            && config.national_ids.is_empty()
            && words.is_none()
        {
            return Err(HookProblem::NothingToRedact);
        }
        let mut ids: Vec<NationalId> = Vec::new();
        for id in &config.national_ids {
            if !ids.contains(id) {
                ids.push(*id);
            }
        }
        Ok(Redactor {
            emails: config.emails,
            cards: config.cards,
            ids,
            phones: config.phones,
            words,
            replacement: config.replacement,
            token: token.clone(),
        })
    }

    /// The text with its spans replaced, and how many there were; `None`
    /// when nothing matched.
    pub(super) fn redact(&self, text: &str) -> Option<(String, usize)> {
        let spans = self.spans(text);
        if spans.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for (range, kind) in &spans {
            out.push_str(&text[last..range.start]);
            out.push_str(self.token_for(*kind));
            last = range.end;
        }
        out.push_str(&text[last..]);
        Some((out, spans.len()))
    }

    /// The spans to replace, in text order. Detectors run in priority
    /// order: e-mails first (their local part may hold digits or listed
    /// words), cards before ids and phones (a card's groups would
    /// otherwise read as phone numbers), words last.
    fn spans(&self, text: &str) -> Vec<(Range<usize>, Kind)> {
        let mut spans = Spans::default();
        if self.emails {
            spans.add_all(EMAIL.find_iter(text).map(|m| m.range()), Kind::Email);
        }
        if self.cards {
            spans.add_all(cards::find(text), Kind::Card);
        }
        for &id in &self.ids {
            spans.add_all(national::find(id, text), Kind::Id);
        }
        if self.phones {
            spans.add_all(phone::find(text), Kind::Phone);
        }
        if let Some(words) = &self.words {
            spans.add_all(words.find_all(text), Kind::Word);
        }
        spans.0
    }

    fn token_for(&self, kind: Kind) -> &str {
        match (self.replacement, kind) {
            (Replacement::Uniform, _) | (_, Kind::Word) => &self.token,
            (Replacement::Typed, Kind::Email) => "[email]",
            (Replacement::Typed, Kind::Card) => "[card]",
            (Replacement::Typed, Kind::Id) => "[id]",
            (Replacement::Typed, Kind::Phone) => "[phone]",
        }
    }
}

/// Accepted spans, sorted by start, never overlapping.
#[derive(Debug, Default)]
struct Spans(Vec<(Range<usize>, Kind)>);

impl Spans {
    fn add_all(&mut self, ranges: impl IntoIterator<Item = Range<usize>>, kind: Kind) {
        for range in ranges {
            self.add(range, kind);
        }
    }

    /// Keeps `range` unless it overlaps a span already kept.
    fn add(&mut self, range: Range<usize>, kind: Kind) {
        if range.is_empty() {
            return;
        }
        let at = self.0.partition_point(|(r, _)| r.start < range.start);
        let overlaps_prev = at > 0 && self.0[at - 1].0.end > range.start;
        let overlaps_next = self.0.get(at).is_some_and(|(r, _)| r.start < range.end);
        if !overlaps_prev && !overlaps_next {
            self.0.insert(at, (range, kind));
        }
    }
}
