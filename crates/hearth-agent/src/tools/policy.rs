//! Which tools an agent may use on a channel: a profile (a named starting
//! set), then the agent's allow and deny lists, then the channel's.
//!
//! Entries are tool names, `group:<name>` for a built-in group, or
//! patterns with `*` (`github__*` for every tool of the MCP server
//! `github`). Deny always wins over allow, and a channel can only narrow
//! what the agent has, never widen it: a public chat room must not get a
//! tool the agent's owner did not give.

use serde::{Deserialize, Serialize};

/// The built-in groups, by name. MCP tools are `<server>__<tool>`, and
/// `group:mcp` matches every one of them.
pub const GROUPS: &[(&str, &[&str])] = &[
    (
        "memory",
        &[
            "memory_search",
            "memory_remember",
            "memory_forget",
            "graph_upsert",
            "graph_query",
        ],
    ),
    (
        "fs",
        &["read_file", "write_file", "edit_file", "list_files"],
    ),
    ("web", &["web_fetch"]),
    ("runtime", &["exec"]),
    (
        "schedule",
        &["schedule_add", "schedule_list", "schedule_remove"],
    ),
    ("messaging", &["send_message"]),
    (
        "sessions",
        &["sessions_list", "sessions_history", "sessions_send"],
    ),
    ("skills", &["read_skill"]),
];

/// A named starting set of tools.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ToolProfile {
    /// No tools: the model only talks.
    None,
    /// Memory and skills: the agent remembers and follows instructions,
    /// but cannot reach outside.
    Minimal,
    /// Minimal, plus web fetch, messages to other chats, sessions and the
    /// scheduler.
    Messaging,
    /// Messaging, plus files in the workspace and shell commands (behind
    /// the exec approval policy).
    Coding,
    /// Every tool, MCP servers' included.
    #[default]
    Full,
}

impl ToolProfile {
    fn groups(self) -> &'static [&'static str] {
        match self {
            ToolProfile::None => &[],
            ToolProfile::Minimal => &["memory", "skills"],
            ToolProfile::Messaging => &[
                "memory",
                "skills",
                "web",
                "messaging",
                "sessions",
                "schedule",
            ],
            ToolProfile::Coding => &[
                "memory",
                "skills",
                "web",
                "messaging",
                "sessions",
                "schedule",
                "fs",
                "runtime",
            ],
            ToolProfile::Full => &[],
        }
    }

    fn includes(self, name: &str) -> bool {
        match self {
            ToolProfile::Full => true,
            profile => profile.groups().iter().any(|group| in_group(group, name)),
        }
    }
}

/// An agent's tool policy (`[agents.<id>.tools]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ToolPolicy {
    /// The starting set: `none`, `minimal`, `messaging`, `coding` or
    /// `full` (the default).
    #[serde(default)]
    pub profile: ToolProfile,
    /// Tools added to the profile's set (names, `group:<name>`, patterns).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// Tools removed; wins over `allow`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<String>,
}

/// A channel's narrowing of every agent's tools (`[channels.<name>.tools]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ChannelToolPolicy {
    /// When not empty, only these tools are offered on this channel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// Tools never offered on this channel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<String>,
    /// A short status sent to the chat once per turn, when the agent
    /// starts using tools (e.g. "Working on it…"), so a person knows a slow
    /// answer is coming. None by default: only the answer is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_message: Option<String>,
}

impl ToolPolicy {
    pub fn permits(&self, name: &str) -> bool {
        if matches_any(&self.deny, name) {
            return false;
        }
        self.profile.includes(name) || matches_any(&self.allow, name)
    }

    pub fn validate(&self) -> Result<(), String> {
        validate_entries(&self.allow).and_then(|()| validate_entries(&self.deny))
    }
}

impl ChannelToolPolicy {
    pub fn permits(&self, name: &str) -> bool {
        if matches_any(&self.deny, name) {
            return false;
        }
        self.allow.is_empty() || matches_any(&self.allow, name)
    }

    pub fn validate(&self) -> Result<(), String> {
        if let Some(text) = &self.working_message
            && (text.trim().is_empty() || text.chars().count() > 200)
        {
            return Err("working_message must be 1 to 200 characters".into());
        }
        validate_entries(&self.allow).and_then(|()| validate_entries(&self.deny))
    }
}

/// Refuses an unknown `group:` so a typo does not silently allow or deny
/// nothing.
fn validate_entries(entries: &[String]) -> Result<(), String> {
    for entry in entries {
        if entry.trim().is_empty() {
            return Err("a tool entry is empty".into());
        }
        if let Some(group) = entry.strip_prefix("group:")
            && group != "mcp"
            && !GROUPS.iter().any(|(name, _)| *name == group)
        {
            let known: Vec<&str> = GROUPS.iter().map(|(name, _)| *name).collect();
            return Err(format!(
                "unknown tool group {entry:?}; the groups are {}, and mcp",
                known.join(", ")
            ));
        }
    }
    Ok(())
}

fn matches_any(entries: &[String], name: &str) -> bool {
    entries.iter().any(|entry| matches(entry, name))
}

fn matches(entry: &str, name: &str) -> bool {
    match entry.strip_prefix("group:") {
        Some(group) => in_group(group, name),
        None => wildcard(entry, name),
    }
}

fn in_group(group: &str, name: &str) -> bool {
    if group == "mcp" {
        return name.contains("__");
    }
    GROUPS
        .iter()
        .any(|(g, members)| *g == group && members.contains(&name))
}

/// `*` matches any run of characters; everything else is literal.
fn wildcard(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(entries: &[&str]) -> Vec<String> {
        entries.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn wildcards_match_literally_except_for_stars() {
        assert!(wildcard("github__*", "github__create_issue"));
        assert!(!wildcard("github__*", "gitlab__create_issue"));
        assert!(wildcard("*_file", "read_file"));
        assert!(wildcard("a*c*e", "abcde"));
        assert!(!wildcard("a*c*e", "abde"));
        assert!(wildcard("exec", "exec"));
        assert!(!wildcard("exec", "exec2"));
        assert!(wildcard("*", "anything"));
    }

    #[test]
    fn profiles_nest_and_full_includes_mcp() {
        let minimal = ToolPolicy {
            profile: ToolProfile::Minimal,
            ..Default::default()
        };
        assert!(minimal.permits("memory_search"));
        assert!(minimal.permits("read_skill"));
        assert!(!minimal.permits("web_fetch"));
        assert!(!minimal.permits("exec"));
        let coding = ToolPolicy {
            profile: ToolProfile::Coding,
            ..Default::default()
        };
        assert!(coding.permits("exec") && coding.permits("write_file"));
        assert!(!coding.permits("github__create_issue"));
        let full = ToolPolicy::default();
        assert!(full.permits("github__create_issue"));
        assert!(
            !ToolPolicy {
                profile: ToolProfile::None,
                ..Default::default()
            }
            .permits("memory_search")
        );
    }

    #[test]
    fn deny_wins_over_allow_and_profile() {
        let policy = ToolPolicy {
            profile: ToolProfile::Minimal,
            allow: names(&["group:fs", "github__*"]),
            deny: names(&["write_file", "memory_forget", "github__delete_*"]),
        };
        assert!(policy.permits("read_file"));
        assert!(!policy.permits("write_file"));
        assert!(!policy.permits("memory_forget"));
        assert!(policy.permits("github__create_issue"));
        assert!(!policy.permits("github__delete_repo"));
    }

    #[test]
    fn a_channel_only_narrows() {
        let open = ChannelToolPolicy::default();
        assert!(open.permits("exec"));
        let narrow = ChannelToolPolicy {
            allow: names(&["group:memory", "web_fetch"]),
            deny: names(&["memory_forget"]),
            working_message: None,
        };
        assert!(narrow.permits("memory_search"));
        assert!(narrow.permits("web_fetch"));
        assert!(!narrow.permits("memory_forget"));
        assert!(!narrow.permits("exec"));
    }

    #[test]
    fn unknown_groups_are_refused() {
        let policy = ToolPolicy {
            allow: names(&["group:filesystem"]),
            ..Default::default()
        };
        let error = policy.validate().unwrap_err();
        assert!(
            error.contains("group:filesystem") && error.contains("fs"),
            "{error}"
        );
        assert!(
            ChannelToolPolicy {
                deny: names(&["group:mcp", "group:runtime"]),
                ..Default::default()
            }
            .validate()
            .is_ok()
        );
    }
}
