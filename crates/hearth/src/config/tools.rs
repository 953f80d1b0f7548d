//! `[tools]`, `[hooks]` and `[mcp]`: what agents can do and how their
//! messages are screened, daemon-wide and per channel. Agents' own policies
//! and hooks live under `[agents.<id>]` (see `hearth_agent::AgentSettings`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use hearth_agent::hooks::{HookConfig, HookPipeline};
use hearth_agent::tools::ChannelToolPolicy;
use hearth_tools::{ExecConfig, WebFetchConfig};
use serde::{Deserialize, Serialize};

use super::Config;
use crate::paths;

/// `[tools]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ToolsConfig {
    /// Seconds a command under the `ask` policy waits for an operator
    /// before it counts as refused. Default 120.
    pub approval_timeout_secs: u64,
    /// `[tools.exec]`: the shell tool's policy and limits.
    pub exec: ExecConfig,
    /// `[tools.web_fetch]`: address policy and limits of web fetches.
    pub web_fetch: WebFetchConfig,
    /// `[tools.files]`.
    pub files: FilesConfig,
    /// Skills every agent sees (below its workspace's `skills/`). Default
    /// `<data dir>/skills`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skills_dir: Option<PathBuf>,
    /// `[tools.channels.<name>]`: tools never offered on a channel (`deny`),
    /// or the only ones offered (`allow`). `gateway` and `openai` name the
    /// WebSocket and HTTP clients.
    pub channels: BTreeMap<String, ChannelToolPolicy>,
}

impl Default for ToolsConfig {
    fn default() -> Self {
        Self {
            approval_timeout_secs: 120,
            exec: ExecConfig::default(),
            web_fetch: WebFetchConfig::default(),
            files: FilesConfig::default(),
            skills_dir: None,
            channels: BTreeMap::new(),
        }
    }
}

/// `[tools.files]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilesConfig {
    /// Offer only `read_file` and `list_files`. Default false.
    pub read_only: bool,
}

/// `[hooks]`: channel-wide hooks (an agent's own are `[[agents.<id>.hooks]]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HooksConfig {
    /// `[[hooks.channels.<name>]]`: run on every message arriving on, and
    /// every reply leaving through, that channel, around the agent's own.
    pub channels: BTreeMap<String, Vec<HookConfig>>,
}

/// Channel names that are not under `[channels]` but take policies.
const CLIENT_CHANNELS: &[&str] = &["gateway", "openai"];

impl Config {
    /// Where shared skills live.
    pub fn user_skills_dir(&self) -> anyhow::Result<PathBuf> {
        Ok(match &self.tools.skills_dir {
            Some(dir) => paths::expand_tilde(dir)?,
            None => self.data_dir()?.join("skills"),
        })
    }

    pub(super) fn check_tools(&self, problems: &mut Vec<String>) {
        let t = &self.tools;
        if !(5..=3600).contains(&t.approval_timeout_secs) {
            problems.push(format!(
                "[tools] approval_timeout_secs {} is outside 5..=3600",
                t.approval_timeout_secs
            ));
        }
        if let Err(e) = t.exec.validate() {
            problems.push(format!("[tools.exec] {e}"));
        }
        if let Err(e) = t.web_fetch.validate() {
            problems.push(format!("[tools.web_fetch] {e}"));
        }
        for (name, policy) in &t.channels {
            if !self.knows_channel(name) {
                problems.push(format!(
                    "[tools.channels.{name}] names no channel under [channels] (nor gateway, openai)"
                ));
            }
            if let Err(e) = policy.validate() {
                problems.push(format!("[tools.channels.{name}] {e}"));
            }
        }
        for (name, hooks) in &self.hooks.channels {
            if !self.knows_channel(name) {
                problems.push(format!(
                    "[hooks.channels.{name}] names no channel under [channels] (nor gateway, openai)"
                ));
            }
            if let Err(e) = HookPipeline::build(hooks) {
                problems.push(format!("[hooks.channels.{name}] {e}"));
            }
        }
    }

    fn knows_channel(&self, name: &str) -> bool {
        CLIENT_CHANNELS.contains(&name) || self.channels.contains_key(name)
    }

    /// The compiled channel hooks, by channel name. Call after `validate`.
    pub fn channel_hooks(&self) -> anyhow::Result<std::collections::HashMap<String, HookPipeline>> {
        self.hooks
            .channels
            .iter()
            .map(|(name, hooks)| {
                let pipeline = HookPipeline::build(hooks)
                    .map_err(|e| anyhow::anyhow!("[hooks.channels.{name}] {e}"))?;
                Ok((name.clone(), pipeline))
            })
            .collect()
    }
}
