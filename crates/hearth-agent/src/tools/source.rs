//! [`ToolSource`]: where a turn's tools come from, before policy narrows
//! them. The binary implements it over the built-in tools, the agent's
//! workspace and skills, and the MCP servers; tests use [`StaticTools`].

use std::collections::HashMap;
use std::sync::Arc;

use hearth_core::Tool;

use super::{ChannelToolPolicy, ToolSet};
use crate::registry::Agent;

pub trait ToolSource: Send + Sync + std::fmt::Debug {
    /// Every tool `agent` could have. Called once per turn, so it may
    /// reflect changes (an MCP server that reconnected with new tools).
    fn tools(&self, agent: &Agent) -> Vec<Arc<dyn Tool>>;

    /// Text for the system prompt about these tools (the skills list),
    /// empty when there is nothing to say.
    fn prompt_section(&self, agent: &Agent) -> String {
        let _ = agent;
        String::new()
    }
}

/// The same tools for every agent.
#[derive(Debug, Clone, Default)]
pub struct StaticTools(pub Vec<Arc<dyn Tool>>);

impl ToolSource for StaticTools {
    fn tools(&self, _agent: &Agent) -> Vec<Arc<dyn Tool>> {
        self.0.clone()
    }
}

/// The tool source and each channel's narrowing, as the runtime holds them.
#[derive(Debug, Clone)]
pub struct RuntimeTools {
    pub source: Arc<dyn ToolSource>,
    /// By channel name; a channel without an entry narrows nothing.
    pub channels: HashMap<String, ChannelToolPolicy>,
}

impl RuntimeTools {
    /// The tools `agent` may use for a message that came through `channel`.
    pub fn for_turn(&self, agent: &Agent, channel: &str) -> ToolSet {
        let channel_policy = self.channels.get(channel);
        let tools = self
            .source
            .tools(agent)
            .into_iter()
            .map(|tool| {
                let spec = tool.spec();
                (tool, spec)
            })
            .filter(|(_, spec)| {
                agent.settings.tools.permits(&spec.name)
                    && channel_policy.is_none_or(|policy| policy.permits(&spec.name))
            });
        ToolSet::with_specs(tools)
    }
}
