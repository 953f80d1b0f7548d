//! [`Config::validate`]: every check that needs no file, socket or
//! environment, so `hearth config check` and a hot reload can reject a bad
//! file without side effects. All problems are reported at once, each
//! naming its `[table]` and key.

use super::error::ConfigError;
use super::schema::Config;
use hearth_core::AgentId;

/// Smallest `max_payload_bytes`: below this even a connect handshake with a
/// long token may not fit.
const MIN_PAYLOAD_BYTES: usize = 4 * 1024;
/// Largest `max_payload_bytes`: each connection may buffer one frame, so a
/// bigger cap lets a handful of clients exhaust a small machine's memory.
const MAX_PAYLOAD_BYTES: usize = 1024 * 1024 * 1024;
/// `tick_interval_ms` range: faster than a second is busywork, slower than
/// five minutes lets NAT and proxies drop idle connections.
const TICK_RANGE_MS: std::ops::RangeInclusive<u64> = 1_000..=300_000;

use std::path::Path;

impl Config {
    /// Checks the whole configuration without IO.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        self.check_gateway(&mut problems);
        self.check_state(&mut problems);
        self.check_pipeline(&mut problems);
        self.check_log(&mut problems);
        if let Err(e) = self.router.validate() {
            problems.push(format!("[router] {e}"));
        }
        for (name, model) in &self.models {
            if let Err(e) = model.validate() {
                problems.push(format!("[models.{name}] {e}"));
            } else if model.provider == hearth_models::ProviderKind::Embedded
                && let Err(e) = crate::embedded::engine_config(name, model, Path::new(""))
            {
                // Only the engine table is checked here; whether the file
                // exists is for `hearth doctor` and load time.
                problems.push(e);
            }
        }
        self.check_agents(&mut problems);
        self.memory.problems(&mut problems);
        self.check_channels(&mut problems);
        self.check_tools(&mut problems);
        if let Err(e) = self.mcp.validate() {
            problems.push(format!("[mcp] {e}"));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid {
                path: None,
                problems,
            })
        }
    }

    fn check_gateway(&self, problems: &mut Vec<String>) {
        let g = &self.gateway;
        // The security rule: anything beyond loopback is reachable from the
        // network, and an agent with tools is a remote shell for whoever
        // connects. `0.0.0.0` and `::` are "every interface".
        if !g.bind.ip().is_loopback() && g.token().is_none() {
            problems.push(format!(
                "[gateway] refusing to bind {} (reachable from other machines) without `token`: set gateway.token, or bind 127.0.0.1",
                g.bind
            ));
        }
        if let Some(token) = g.token()
            && !token.chars().all(|c| c.is_ascii_graphic())
        {
            // It travels in an HTTP header, where spaces and non-ASCII break.
            problems.push("[gateway] token must be printable ASCII without spaces".to_string());
        }
        if !(MIN_PAYLOAD_BYTES..=MAX_PAYLOAD_BYTES).contains(&g.max_payload_bytes) {
            problems.push(format!(
                "[gateway] max_payload_bytes = {} is outside {MIN_PAYLOAD_BYTES}..={MAX_PAYLOAD_BYTES}",
                g.max_payload_bytes
            ));
        }
        if !TICK_RANGE_MS.contains(&g.tick_interval_ms) {
            problems.push(format!(
                "[gateway] tick_interval_ms = {} is outside {}..={}",
                g.tick_interval_ms,
                TICK_RANGE_MS.start(),
                TICK_RANGE_MS.end()
            ));
        }
    }

    fn check_state(&self, problems: &mut Vec<String>) {
        if let Some(dir) = &self.state.dir
            && !(dir.is_absolute() || dir.starts_with("~"))
        {
            // A relative path would depend on the directory the daemon was
            // started from, which differs between a shell and a service.
            problems.push(format!(
                "[state] dir {:?} must be absolute (or start with ~/)",
                dir.display().to_string()
            ));
        }
    }

    fn check_pipeline(&self, problems: &mut Vec<String>) {
        let p = &self.pipeline;
        for (key, value) in [
            ("max_concurrent_turns", p.max_concurrent_turns),
            ("max_pending", p.max_pending),
            ("max_pending_per_session", p.max_pending_per_session),
        ] {
            if value == 0 {
                problems.push(format!("[pipeline] {key} must be at least 1"));
            }
        }
    }

    fn check_log(&self, problems: &mut Vec<String>) {
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            problems.push(format!(
                "[log] level {:?} is not a valid filter: {e}",
                self.log.level
            ));
        }
    }

    fn check_agents(&self, problems: &mut Vec<String>) {
        for (id, agent) in &self.agents {
            if let Err(e) = AgentId::new(id.as_str()) {
                problems.push(format!("[agents.{id}] {e}"));
            }
            if let Err(e) = agent.validate() {
                problems.push(format!("[agents.{id}] {e}"));
            }
            if !agent.model.trim().is_empty() && !self.models.contains_key(&agent.model) {
                problems.push(format!(
                    "[agents.{id}] model {:?} is not defined under [models]",
                    agent.model
                ));
            }
            for fallback in &agent.fallbacks {
                if !self.models.contains_key(fallback) {
                    problems.push(format!(
                        "[agents.{id}] fallback {fallback:?} is not defined under [models]"
                    ));
                }
            }
        }
        if !self.agents.contains_key(&self.default_agent) {
            problems.push(format!(
                "default_agent {:?} is not defined under [agents]",
                self.default_agent
            ));
        }
    }

    fn check_channels(&self, problems: &mut Vec<String>) {
        for (name, channel) in &self.channels {
            if let Err(e) = hearth_channels::config::validate_name(name) {
                problems.push(format!("[channels.{name}] {e}"));
            }
            if let Err(e) = channel.validate() {
                problems.push(format!("[channels.{name}] {e}"));
            }
            if let Some(agent) = channel.agent()
                && !self.agents.contains_key(agent)
            {
                problems.push(format!(
                    "[channels.{name}] agent {agent:?} is not defined under [agents]"
                ));
            }
        }
        match hearth_channels::identity::IdentityLinks::new(&self.identity_links) {
            Err(e) => problems.push(format!("[identity_links] {e}")),
            Ok(_) => {
                for (person, accounts) in &self.identity_links {
                    for account in accounts {
                        let channel = account.split_once(':').map_or("", |(c, _)| c);
                        if !self.channels.contains_key(channel) {
                            problems.push(format!(
                                "[identity_links] {person}: {account:?} names no channel under [channels]"
                            ));
                        }
                    }
                }
            }
        }
    }
}
