//! What a run of the pipeline reports: the outcome of one stage, its
//! blocks and flags, and the [`HookRef`] naming the hook behind each.

use std::fmt;

use super::config::HookKind;
use super::filter::FilterRule;

/// Where a hook of a layered pipeline was configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    /// `[[agents.<id>.hooks]]`.
    Agent,
    /// `[[channels.<name>.hooks]]`.
    Channel,
}

/// Names one configured hook: its place in its list, and its layer when
/// the pipeline was built from two lists. Displays as
/// `channel hooks[1] (filter "profanity")`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookRef {
    pub layer: Option<Layer>,
    /// Position in its list, from 0.
    pub index: usize,
    pub kind: HookKind,
    pub name: Option<String>,
}

impl fmt::Display for HookRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.layer {
            Some(Layer::Agent) => f.write_str("agent ")?,
            Some(Layer::Channel) => f.write_str("channel ")?,
            None => {}
        }
        write!(f, "hooks[{}] ({}", self.index, self.kind.as_str())?;
        if let Some(name) = &self.name {
            write!(f, " {name:?}")?;
        }
        f.write_str(")")
    }
}

/// What a stage of the pipeline did to one text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct HookOutcome {
    /// The text after the hooks that ran (redacted, disclaimer appended).
    /// When blocked, the text as the blocking filter saw it: for the
    /// record, not to be sent.
    pub text: String,
    /// Set when a filter with `action = "block"` matched; later hooks did
    /// not run.
    pub blocked: Option<Blocked>,
    /// Matches of filters with `action = "flag"`, in the order found.
    pub flags: Vec<Flag>,
    /// How many spans were redacted, over all redact hooks.
    pub redactions: usize,
}

impl HookOutcome {
    pub fn is_blocked(&self) -> bool {
        self.blocked.is_some()
    }
}

/// A block by a content filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    /// The filter that blocked.
    pub hook: HookRef,
    /// The rule that matched.
    pub rule: FilterRule,
    /// The first text it matched (at most 100 characters).
    pub matched: String,
    /// For logs: `channel hooks[1] (filter): pattern "…" matched "…"`.
    pub reason: String,
    /// What to show instead of the blocked text.
    pub message: String,
}

/// A match of a flagging content filter; the text was kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// The filter that flagged.
    pub hook: HookRef,
    /// The rule that matched.
    pub rule: FilterRule,
    /// The first text it matched (at most 100 characters).
    pub matched: String,
    /// How many times the rule matched.
    pub count: usize,
}
