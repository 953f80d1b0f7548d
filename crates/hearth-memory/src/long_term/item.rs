//! What long-term memory stores and answers: items, the filters that scope
//! a search, the knobs of ranking, and validation of what comes in.

use serde::{Deserialize, Serialize};

use super::MemoryError;

/// Longest text of one item; longer text goes through
/// [`super::LongTermMemory::add_document`], which chunks it.
pub const MAX_ITEM_BYTES: usize = 16 * 1024;
pub const MAX_TAGS: usize = 16;
pub const MAX_TAG_BYTES: usize = 64;
/// Results one search may ask for.
pub const MAX_LIMIT: usize = 100;

/// A memory to store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewMemory {
    pub text: String,
    /// `fact` (default), `note`, `conversation`, `document`, or any short
    /// lowercase word.
    pub kind: String,
    pub agent: String,
    pub user: Option<String>,
    pub channel: Option<String>,
    pub session: Option<String>,
    /// Where it came from: a file path, `remember`, `flush`...
    pub source: Option<String>,
    pub tags: Vec<String>,
    /// 0.0..=1.0; default 0.5.
    pub importance: Option<f32>,
    /// When it happened (ms since the epoch); default now. Imports and
    /// tests set it.
    pub created_ms: Option<i64>,
}

impl NewMemory {
    pub fn new(agent: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            agent: agent.into(),
            text: text.into(),
            ..Self::default()
        }
    }

    /// Checks and normalises in place (trims, defaults the kind, dedups
    /// tags); the error names the field.
    pub fn validate(&mut self, max_bytes: usize) -> Result<(), MemoryError> {
        self.text = self.text.trim().to_owned();
        if self.text.is_empty() {
            return Err(invalid("text", "must not be empty"));
        }
        if self.text.len() > max_bytes {
            return Err(invalid(
                "text",
                &format!(
                    "is {} bytes, over the limit of {max_bytes}",
                    self.text.len()
                ),
            ));
        }
        check_name("agent", &self.agent)?;
        if self.kind.is_empty() {
            self.kind = "fact".into();
        }
        let kind_ok = self.kind.len() <= 32
            && self
                .kind
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c == '-');
        if !kind_ok {
            return Err(invalid("kind", "must be a short lowercase word"));
        }
        for (field, value) in [
            ("user", &self.user),
            ("channel", &self.channel),
            ("session", &self.session),
            ("source", &self.source),
        ] {
            if let Some(value) = value {
                check_text(field, value, 1024)?;
            }
        }
        self.tags.iter_mut().for_each(|t| *t = t.trim().to_owned());
        self.tags.sort();
        self.tags.dedup();
        if self.tags.len() > MAX_TAGS {
            return Err(invalid("tags", &format!("more than {MAX_TAGS} tags")));
        }
        for tag in &self.tags {
            check_text("tags", tag, MAX_TAG_BYTES)?;
        }
        match self.importance {
            Some(i) if !(0.0..=1.0).contains(&i) => {
                return Err(invalid("importance", &format!("{i} is outside 0.0..=1.0")));
            }
            None => self.importance = Some(0.5),
            _ => {}
        }
        Ok(())
    }
}

fn check_name(field: &str, value: &str) -> Result<(), MemoryError> {
    check_text(field, value, 128)
}

fn check_text(field: &str, value: &str, max: usize) -> Result<(), MemoryError> {
    if value.trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if value.len() > max {
        return Err(invalid(field, &format!("is longer than {max} bytes")));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(field, "must not contain control characters"));
    }
    Ok(())
}

fn invalid(field: &str, message: &str) -> MemoryError {
    MemoryError::Invalid(format!("{field} {message}"))
}

/// A stored memory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemoryItem {
    pub id: i64,
    pub agent: String,
    pub kind: String,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Position of this chunk in its source document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunk: Option<i64>,
    pub tags: Vec<String>,
    pub importance: f32,
    pub created_ms: i64,
    pub accessed_ms: i64,
    /// How often it was recalled into a turn's context.
    pub recalls: i64,
}

/// Which memories a search or listing may return. `agent` is required:
/// each agent's memory is its own.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Filter {
    pub agent: String,
    pub user: Option<String>,
    pub channel: Option<String>,
    pub session: Option<String>,
    /// Every tag listed must be on the item.
    pub tags: Vec<String>,
    /// Any of these kinds (empty: all).
    pub kinds: Vec<String>,
    /// Created at or after (ms since the epoch).
    pub since_ms: Option<i64>,
    /// Created before (ms since the epoch).
    pub until_ms: Option<i64>,
}

impl Filter {
    pub fn agent(agent: impl Into<String>) -> Self {
        Self {
            agent: agent.into(),
            ..Self::default()
        }
    }

    /// Whether anything beyond the agent narrows the search.
    pub fn is_narrow(&self) -> bool {
        self.user.is_some()
            || self.channel.is_some()
            || self.session.is_some()
            || !self.tags.is_empty()
            || !self.kinds.is_empty()
            || self.since_ms.is_some()
            || self.until_ms.is_some()
    }
}

/// Which signals rank a search.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchMode {
    /// Vector similarity and BM25, fused (default).
    #[default]
    Hybrid,
    Vector,
    Text,
}

/// The knobs of ranking. Defaults suit recall into a chat turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchOptions {
    pub limit: usize,
    pub mode: SearchMode,
    /// Results scoring below this are dropped (0.0..=1.0).
    pub min_score: f32,
    /// Share of the vector score in the hybrid score; the rest is BM25.
    pub vector_weight: f32,
    /// How much age lowers a score (0: not at all, 1: fully).
    pub recency_weight: f32,
    /// Age at which the recency factor halves.
    pub recency_half_life_days: f32,
    /// How much importance raises a score (0: not at all).
    pub importance_weight: f32,
    /// MMR trade-off: 1.0 ranks by score only, lower values prefer results
    /// that differ from those already picked.
    pub mmr_lambda: f32,
}

impl Default for SearchOptions {
    fn default() -> Self {
        Self {
            limit: 10,
            mode: SearchMode::Hybrid,
            min_score: 0.0,
            vector_weight: 0.8,
            recency_weight: 0.1,
            recency_half_life_days: 30.0,
            importance_weight: 0.1,
            mmr_lambda: 0.8,
        }
    }
}

impl SearchOptions {
    pub fn validate(&self) -> Result<(), MemoryError> {
        if self.limit == 0 || self.limit > MAX_LIMIT {
            return Err(invalid("limit", &format!("must be 1..={MAX_LIMIT}")));
        }
        for (field, value) in [
            ("min_score", self.min_score),
            ("vector_weight", self.vector_weight),
            ("recency_weight", self.recency_weight),
            ("importance_weight", self.importance_weight),
            ("mmr_lambda", self.mmr_lambda),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(invalid(field, &format!("{value} is outside 0.0..=1.0")));
            }
        }
        if self.recency_half_life_days.is_nan() || self.recency_half_life_days <= 0.0 {
            return Err(invalid("recency_half_life_days", "must be above 0"));
        }
        Ok(())
    }
}

/// One search result with the parts of its score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    pub item: MemoryItem,
    /// Final score: hybrid relevance adjusted by recency and importance.
    pub score: f32,
    /// Cosine similarity to the query (0 when not computed).
    pub vector_score: f32,
    /// BM25 normalised to the best text match of this search (0..=1).
    pub text_score: f32,
}
