//! An agent's settings: which model answers, where its persona files live,
//! how much context it may use. The same shape is read from the TOML config
//! (`[agents.<id>]`) and from agents created over the control protocol.

use serde::{Deserialize, Serialize};

use crate::hooks::{HookConfig, HookPipeline};
use crate::tools::ToolPolicy;
use std::path::PathBuf;

/// Default context budget in tokens: small enough for local models, and the
/// history beyond it is dropped oldest-first.
pub const DEFAULT_CONTEXT_TOKENS: u32 = 8192;
/// Default number of transcript rows loaded per turn, before the token
/// budget trims further. Bounds the work of one history read.
pub const DEFAULT_HISTORY_LIMIT: u32 = 200;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct AgentSettings {
    /// Display name; defaults to the agent id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The named model (a key of `[models]`) that answers first.
    pub model: String,
    /// Models tried in order when the primary fails with a retryable or
    /// provider-specific error.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallbacks: Vec<String>,
    /// Folder holding `AGENTS.md` (instructions) and `SOUL.md` (persona).
    /// Defaults to `<data dir>/agents/<id>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<PathBuf>,
    /// Token budget for the prompt (system + history + message).
    #[serde(default = "default_context_tokens")]
    pub context_tokens: u32,
    /// Transcript rows read per turn before budgeting.
    #[serde(default = "default_history_limit")]
    pub history_limit: u32,
    /// Cap on the answer's length in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Token budget for memories recalled into each turn (at most a
    /// quarter of `context_tokens`); 0 turns recall off.
    #[serde(default = "default_memory_tokens")]
    pub memory_tokens: u32,
    /// Hooks run over this agent's messages and replies
    /// (`[[agents.<id>.hooks]]`; see docs/hooks.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookConfig>,
    /// Which tools the agent may call (`[agents.<id>.tools]`).
    #[serde(default, skip_serializing_if = "is_default")]
    pub tools: ToolPolicy,
    /// Model calls per turn; the last one answers without tools.
    #[serde(default = "default_max_steps")]
    pub max_steps: u32,
    /// Wall-clock seconds a turn may spend, tools included, before its
    /// last model call.
    #[serde(default = "default_turn_budget_secs")]
    pub turn_budget_secs: u32,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

fn default_max_steps() -> u32 {
    crate::turn::DEFAULT_MAX_STEPS
}

fn default_turn_budget_secs() -> u32 {
    crate::turn::DEFAULT_TURN_BUDGET.as_secs() as u32
}

/// Default budget for recalled memories: a handful of short facts.
pub const DEFAULT_MEMORY_TOKENS: u32 = 512;

fn default_memory_tokens() -> u32 {
    DEFAULT_MEMORY_TOKENS
}

fn default_context_tokens() -> u32 {
    DEFAULT_CONTEXT_TOKENS
}

fn default_history_limit() -> u32 {
    DEFAULT_HISTORY_LIMIT
}

impl AgentSettings {
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            name: None,
            model: model.into(),
            fallbacks: Vec::new(),
            workspace: None,
            context_tokens: DEFAULT_CONTEXT_TOKENS,
            history_limit: DEFAULT_HISTORY_LIMIT,
            max_output_tokens: None,
            temperature: None,
            memory_tokens: DEFAULT_MEMORY_TOKENS,
            hooks: Vec::new(),
            tools: ToolPolicy::default(),
            max_steps: default_max_steps(),
            turn_budget_secs: default_turn_budget_secs(),
        }
    }

    /// Checks what can be checked without touching files or the network.
    pub fn validate(&self) -> Result<(), String> {
        if self.model.trim().is_empty() {
            return Err("model must name a configured model".into());
        }
        if self.context_tokens < 256 {
            return Err(format!(
                "context_tokens {} is below the minimum of 256",
                self.context_tokens
            ));
        }
        if self.history_limit == 0 {
            return Err("history_limit must be at least 1".into());
        }
        if let Some(t) = self.temperature
            && !(0.0..=2.0).contains(&t)
        {
            return Err(format!("temperature {t} is outside 0.0..=2.0"));
        }
        if !(1..=64).contains(&self.max_steps) {
            return Err(format!("max_steps {} is outside 1..=64", self.max_steps));
        }
        if !(5..=3600).contains(&self.turn_budget_secs) {
            return Err(format!(
                "turn_budget_secs {} is outside 5..=3600",
                self.turn_budget_secs
            ));
        }
        self.tools.validate().map_err(|e| format!("tools: {e}"))?;
        HookPipeline::build(&self.hooks).map_err(|e| format!("hooks: {e}"))?;
        Ok(())
    }
}
