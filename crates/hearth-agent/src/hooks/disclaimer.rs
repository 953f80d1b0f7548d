//! The disclaimer hook: appends a fixed text after a separator, once.

use super::config::DisclaimerConfig;
use super::error::HookProblem;

/// Longest disclaimer, in characters: a paragraph, not a document.
const MAX_TEXT_CHARS: usize = 4_000;
/// Longest separator, in characters.
const MAX_SEPARATOR_CHARS: usize = 16;

/// A compiled `kind = "disclaimer"` hook.
#[derive(Debug, Clone)]
pub(super) struct Disclaimer {
    text: String,
    /// `text` with white space collapsed, for the "already present" test.
    normalized: String,
    separator: String,
    skip_if_present: bool,
}

impl Disclaimer {
    pub(super) fn build(config: &DisclaimerConfig) -> Result<Self, HookProblem> {
        let text = config.text.trim();
        if text.is_empty() {
            return Err(HookProblem::EmptyText);
        }
        let len = text.chars().count();
        if len > MAX_TEXT_CHARS {
            return Err(HookProblem::TooLong {
                field: "text",
                len,
                max: MAX_TEXT_CHARS,
            });
        }
        let len = config.separator.chars().count();
        if len > MAX_SEPARATOR_CHARS {
            return Err(HookProblem::TooLong {
                field: "separator",
                len,
                max: MAX_SEPARATOR_CHARS,
            });
        }
        Ok(Disclaimer {
            text: text.to_owned(),
            normalized: collapse_space(text),
            separator: config.separator.clone(),
            skip_if_present: config.skip_if_present,
        })
    }

    /// Appends the disclaimer, unless `text` is blank (there is nothing to
    /// qualify, and a reply of only a disclaimer would look like an
    /// answer) or already contains it.
    pub(super) fn apply(&self, text: &mut String) {
        if text.trim().is_empty() {
            return;
        }
        if self.skip_if_present && collapse_space(text).contains(&self.normalized) {
            return;
        }
        text.truncate(text.trim_end().len());
        text.push_str(&self.separator);
        text.push_str(&self.text);
    }
}

/// `s` with each run of white space made one space, and trimmed.
fn collapse_space(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
