//! The content filter hook: listed words (whole words, case-insensitive)
//! and regex patterns, compiled once; a match blocks the text or is
//! reported as a flag.

use std::fmt;

use regex::{Regex, RegexBuilder};

use super::config::{DEFAULT_BLOCK_MESSAGE, FilterAction, FilterConfig};
use super::error::HookProblem;
use super::words::WordList;

/// Most patterns one filter may hold.
const MAX_PATTERNS: usize = 256;
/// Cap on one compiled pattern. The regex crate's default (10 MiB) lets a
/// single `\w{1000}` through; 2 MiB still fits any sensible pattern and
/// bounds what a config can make the daemon allocate.
const PATTERN_SIZE_LIMIT: usize = 2 << 20;
/// Longest blocked message, in characters.
const MAX_MESSAGE_CHARS: usize = 2_000;
/// How much of a match a report quotes, in characters.
const QUOTE_CHARS: usize = 100;

/// Which rule of a filter matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterRule {
    /// One of the filter's `words`.
    Word,
    /// The filter's pattern with this source.
    Pattern(String),
}

impl fmt::Display for FilterRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterRule::Word => f.write_str("a listed word"),
            FilterRule::Pattern(p) => write!(f, "pattern {p:?}"),
        }
    }
}

/// One rule that matched: the first match (quoted, cut to 100 characters)
/// and how many there were.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Hit {
    pub rule: FilterRule,
    pub matched: String,
    pub count: usize,
}

/// A compiled `kind = "filter"` hook.
#[derive(Debug, Clone)]
pub(super) struct Filter {
    words: Option<WordList>,
    patterns: Vec<(String, Regex)>,
    pub(super) action: FilterAction,
    pub(super) message: String,
}

impl Filter {
    pub(super) fn build(config: &FilterConfig) -> Result<Self, HookProblem> {
        if config.words.is_empty() && config.patterns.is_empty() {
            return Err(HookProblem::NothingToFilter);
        }
        let words = WordList::build(&config.words, "words")?;
        if config.patterns.len() > MAX_PATTERNS {
            return Err(HookProblem::TooMany {
                field: "patterns",
                count: config.patterns.len(),
                max: MAX_PATTERNS,
            });
        }
        let mut patterns = Vec::with_capacity(config.patterns.len());
        for source in &config.patterns {
            let invalid = |error: String| HookProblem::InvalidPattern {
                pattern: source.clone(),
                error,
            };
            let regex = RegexBuilder::new(source)
                .size_limit(PATTERN_SIZE_LIMIT)
                .build()
                .map_err(|e| invalid(e.to_string()))?;
            if regex.is_match("") {
                return Err(invalid(
                    "it matches the empty string, so it would match every text".into(),
                ));
            }
            patterns.push((source.clone(), regex));
        }
        let message = match (&config.message, config.action) {
            (Some(_), FilterAction::Flag) => return Err(HookProblem::MessageWithoutBlock),
            (Some(m), FilterAction::Block) if m.trim().is_empty() => {
                return Err(HookProblem::EmptyMessage);
            }
            (Some(m), FilterAction::Block) => m.trim().to_owned(),
            (None, _) => DEFAULT_BLOCK_MESSAGE.to_owned(),
        };
        let len = message.chars().count();
        if len > MAX_MESSAGE_CHARS {
            return Err(HookProblem::TooLong {
                field: "message",
                len,
                max: MAX_MESSAGE_CHARS,
            });
        }
        Ok(Filter {
            words,
            patterns,
            action: config.action,
            message,
        })
    }

    /// The rules that match `text`, words first, then patterns in config
    /// order; with `first_only`, stops at the first.
    pub(super) fn hits(&self, text: &str, first_only: bool) -> Vec<Hit> {
        let mut hits = Vec::new();
        if let Some(words) = &self.words {
            let found = words.find_all(text);
            if let Some(first) = found.first() {
                hits.push(Hit {
                    rule: FilterRule::Word,
                    matched: quote(&text[first.clone()]),
                    count: found.len(),
                });
            }
        }
        for (source, regex) in &self.patterns {
            if first_only && !hits.is_empty() {
                break;
            }
            let mut matches = regex.find_iter(text).filter(|m| !m.is_empty());
            if let Some(first) = matches.next() {
                hits.push(Hit {
                    rule: FilterRule::Pattern(source.clone()),
                    matched: quote(first.as_str()),
                    count: 1 + if first_only { 0 } else { matches.count() },
                });
            }
        }
        hits
    }
}

/// `s`, cut to [`QUOTE_CHARS`] characters with an ellipsis.
fn quote(s: &str) -> String {
    match s.char_indices().nth(QUOTE_CHARS) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}
