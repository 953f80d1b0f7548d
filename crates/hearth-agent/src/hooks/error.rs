//! Why a hook configuration was refused, naming the hook by its place in
//! the list (and its layer, for a layered pipeline).

use std::fmt;

use super::HookRef;

/// A hook that could not be built. Displays as e.g.
/// `channel hooks[1] (filter "profanity"): pattern "(": regex parse error: …`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{hook}: {problem}")]
pub struct HookConfigError {
    /// Which hook.
    pub hook: HookRef,
    /// What is wrong with it.
    #[source]
    pub problem: HookProblem,
}

/// What is wrong with one hook's settings.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HookProblem {
    #[error("stages is empty, so the hook would never run")]
    NoStages,
    #[error("name must not be empty (leave it out instead)")]
    EmptyName,
    #[error("nothing to match: every detector is off and `words` is empty")]
    NothingToRedact,
    #[error("nothing to match: `words` and `patterns` are both empty")]
    NothingToFilter,
    #[error("text must not be empty")]
    EmptyText,
    #[error("message must not be empty (leave it out for the default)")]
    EmptyMessage,
    #[error("{field} is {len} characters long, more than {max}")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("token must not be empty")]
    EmptyToken,
    #[error("word {word:?} {reason}")]
    BadWord { word: String, reason: WordReason },
    #[error("{count} entries in {field}, more than the limit of {max}")]
    TooMany {
        field: &'static str,
        count: usize,
        max: usize,
    },
    #[error("pattern {pattern:?}: {error}")]
    InvalidPattern {
        pattern: String,
        /// The regex crate's explanation, which points at the fault.
        error: String,
    },
    #[error("the word list does not compile: {0}")]
    WordsTooLarge(String),
    #[error("message is only shown by action = \"block\"; this filter has action = \"flag\"")]
    MessageWithoutBlock,
}

/// Why a word-list entry was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordReason {
    Empty,
    SurroundingSpace,
    ControlCharacter,
    TooLong,
}

impl fmt::Display for WordReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WordReason::Empty => "is empty",
            WordReason::SurroundingSpace => "starts or ends with white space",
            WordReason::ControlCharacter => "contains a control character",
            WordReason::TooLong => "is longer than 200 characters",
        })
    }
}
