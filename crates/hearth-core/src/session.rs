//! Session keys and agent ids: validated newtypes so a malformed key is
//! rejected at the edge instead of reaching SQL or a log line.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest accepted session key, in bytes. Generous for
/// `agent:<id>:<channel>:<peer>:<thread>` but bounded so keys cannot be used
/// to bloat the store or the lane table.
pub const MAX_SESSION_KEY_LEN: usize = 256;
/// Longest accepted agent id, in bytes.
pub const MAX_AGENT_ID_LEN: usize = 64;

/// Why an id or key was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {value:?}: {reason}")]
pub struct InvalidId {
    pub what: &'static str,
    pub value: String,
    pub reason: &'static str,
}

/// An agent's id: lowercase ASCII letters, digits, `-` and `_`, 1–64 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AgentId(String);

impl AgentId {
    pub fn new(value: impl Into<String>) -> Result<Self, InvalidId> {
        let value = value.into();
        let bad = |reason| InvalidId {
            what: "agent id",
            value: value.clone(),
            reason,
        };
        if value.is_empty() || value.len() > MAX_AGENT_ID_LEN {
            return Err(bad("must be 1 to 64 characters"));
        }
        if !value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(bad("use only a-z, 0-9, '-' and '_'"));
        }
        Ok(Self(value))
    }

    /// The agent every install has; `hearth init` creates its workspace.
    pub fn main() -> Self {
        Self("main".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AgentId {
    type Error = InvalidId;
    fn try_from(value: String) -> Result<Self, InvalidId> {
        Self::new(value)
    }
}

impl From<AgentId> for String {
    fn from(id: AgentId) -> String {
        id.0
    }
}

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The key of one conversation. The OpenClaw convention is
/// `agent:<agentId>:<rest>`, where `<rest>` names the channel and peer; a key
/// without that prefix belongs to the default agent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SessionKey(String);

impl SessionKey {
    pub fn new(value: impl Into<String>) -> Result<Self, InvalidId> {
        let value = value.into();
        let bad = |reason| InvalidId {
            what: "session key",
            value: value.clone(),
            reason,
        };
        if value.trim().is_empty() {
            return Err(bad("must not be empty"));
        }
        if value.len() > MAX_SESSION_KEY_LEN {
            return Err(bad("longer than 256 bytes"));
        }
        if value.chars().any(char::is_control) {
            return Err(bad("contains control characters"));
        }
        Ok(Self(value))
    }

    /// `agent:<agent>:<rest>`.
    pub fn for_agent(agent: &AgentId, rest: &str) -> Result<Self, InvalidId> {
        Self::new(format!("agent:{agent}:{rest}"))
    }

    /// The agent named in the key, if it follows the `agent:<id>:` convention.
    pub fn agent_id(&self) -> Option<AgentId> {
        let rest = self.0.strip_prefix("agent:")?;
        let (id, _) = rest.split_once(':').unwrap_or((rest, ""));
        AgentId::new(id).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SessionKey {
    type Error = InvalidId;
    fn try_from(value: String) -> Result<Self, InvalidId> {
        Self::new(value)
    }
}

impl From<SessionKey> for String {
    fn from(key: SessionKey) -> String {
        key.0
    }
}

impl fmt::Display for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_key_names_its_agent() {
        let key = SessionKey::new("agent:ops:telegram:42").unwrap();
        assert_eq!(key.agent_id().unwrap().as_str(), "ops");
        assert_eq!(SessionKey::new("plain").unwrap().agent_id(), None);
        assert_eq!(SessionKey::new("agent:Bad Id:x").unwrap().agent_id(), None);
    }

    #[test]
    fn bad_keys_and_ids_are_rejected_with_a_reason() {
        assert!(SessionKey::new("").is_err());
        assert!(SessionKey::new("a\nb").is_err());
        assert!(SessionKey::new("x".repeat(257)).is_err());
        let err = AgentId::new("Main").unwrap_err();
        assert!(err.to_string().contains("a-z"), "{err}");
        assert!(serde_json::from_str::<AgentId>("\"\"").is_err());
    }
}
