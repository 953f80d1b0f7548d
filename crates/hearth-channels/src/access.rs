//! Who may talk to the assistant on a channel: the access settings every
//! adapter's config embeds, and the pure decision made for each message.
//!
//! Direct messages follow [`DmPolicy`] (pairing by default: an unknown
//! sender gets a code the operator approves). Group messages follow
//! [`GroupPolicy`] (a mention of the bot by default), so the assistant
//! does not answer every line of a busy room.

use serde::{Deserialize, Serialize};

use hearth_core::Origin;

/// How direct messages from senders not on `allow_from` are treated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DmPolicy {
    /// An unknown sender gets an 8-character code, valid 1 hour, that the
    /// operator approves with `hearth pairing approve <channel> <code>`.
    #[default]
    Pairing,
    /// Only `allow_from` (and senders approved earlier) are answered.
    Allowlist,
    /// Everyone is answered. Only for channels nobody else can reach.
    Open,
    /// Direct messages are ignored.
    Disabled,
}

/// How group messages are treated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupPolicy {
    /// Answer only messages that mention the bot.
    #[default]
    Mention,
    /// Answer every message.
    Open,
    /// Ignore groups.
    Disabled,
}

/// The `[channels.<name>.access]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessConfig {
    /// Direct messages: "pairing" (default), "allowlist", "open",
    /// "disabled".
    pub dm: DmPolicy,
    /// Sender ids always allowed in direct messages, as the platform names
    /// them (IRC nick, XMPP bare JID, Matrix user id, Telegram numeric user
    /// id, e-mail address).
    pub allow_from: Vec<String>,
    /// Groups: "mention" (default), "open", "disabled".
    pub groups: GroupPolicy,
    /// Only these groups (channel, room, chat ids); empty means any group
    /// the bot is in.
    pub group_allow: Vec<String>,
}

impl AccessConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.dm == DmPolicy::Allowlist && self.allow_from.is_empty() {
            return Err(
                "access.dm = \"allowlist\" with an empty access.allow_from answers nobody; \
                 list senders or use \"pairing\""
                    .into(),
            );
        }
        if let Some(blank) = self.allow_from.iter().find(|s| s.trim().is_empty()) {
            return Err(format!("access.allow_from has a blank entry {blank:?}"));
        }
        Ok(())
    }
}

/// What to do with one message, before any store lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Hand it to the agent.
    Admit,
    /// Drop it silently, for this reason.
    Ignore(&'static str),
    /// Admit if the store has approved the sender, else (pairing policy)
    /// offer a code or (allowlist policy) ignore.
    CheckApproval { offer_code: bool },
}

/// The policy decision for `origin` under `access`.
pub fn decide(access: &AccessConfig, origin: &Origin) -> Decision {
    let conversation = &origin.conversation;
    if conversation.is_group() {
        if !access.group_allow.is_empty() && !access.group_allow.contains(&conversation.id) {
            return Decision::Ignore("group not on access.group_allow");
        }
        return match access.groups {
            GroupPolicy::Disabled => Decision::Ignore("groups are disabled"),
            GroupPolicy::Mention if !origin.mentioned => Decision::Ignore("no mention"),
            _ => Decision::Admit,
        };
    }
    if access.allow_from.contains(&origin.sender.id) {
        return Decision::Admit;
    }
    match access.dm {
        DmPolicy::Open => Decision::Admit,
        DmPolicy::Disabled => Decision::Ignore("direct messages are disabled"),
        DmPolicy::Allowlist => Decision::CheckApproval { offer_code: false },
        DmPolicy::Pairing => Decision::CheckApproval { offer_code: true },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_core::{Conversation, Sender};

    fn origin(conversation: Conversation, sender: &str, mentioned: bool) -> Origin {
        Origin {
            conversation,
            sender: Sender {
                id: sender.into(),
                name: None,
            },
            message_id: None,
            reply_to: None,
            mentioned,
            attachments: Vec::new(),
        }
    }

    #[test]
    fn direct_messages_follow_the_dm_policy() {
        let dm = |who: &str| origin(Conversation::direct(who), who, true);
        let mut access = AccessConfig {
            allow_from: vec!["alice".into()],
            ..AccessConfig::default()
        };
        assert_eq!(decide(&access, &dm("alice")), Decision::Admit);
        assert_eq!(
            decide(&access, &dm("bob")),
            Decision::CheckApproval { offer_code: true }
        );
        access.dm = DmPolicy::Allowlist;
        assert_eq!(
            decide(&access, &dm("bob")),
            Decision::CheckApproval { offer_code: false }
        );
        access.dm = DmPolicy::Open;
        assert_eq!(decide(&access, &dm("bob")), Decision::Admit);
        access.dm = DmPolicy::Disabled;
        assert!(matches!(decide(&access, &dm("bob")), Decision::Ignore(_)));
        assert_eq!(decide(&access, &dm("alice")), Decision::Admit);
    }

    #[test]
    fn groups_need_a_mention_by_default() {
        let mut access = AccessConfig::default();
        let said = origin(Conversation::group("#room"), "bob", false);
        let called = origin(Conversation::group("#room"), "bob", true);
        assert_eq!(decide(&access, &said), Decision::Ignore("no mention"));
        assert_eq!(decide(&access, &called), Decision::Admit);
        access.groups = GroupPolicy::Open;
        assert_eq!(decide(&access, &said), Decision::Admit);
        access.group_allow = vec!["#other".into()];
        assert!(matches!(decide(&access, &called), Decision::Ignore(_)));
        access.groups = GroupPolicy::Disabled;
        access.group_allow.clear();
        assert!(matches!(decide(&access, &called), Decision::Ignore(_)));
    }

    #[test]
    fn an_allowlist_without_entries_is_refused() {
        let access = AccessConfig {
            dm: DmPolicy::Allowlist,
            ..AccessConfig::default()
        };
        assert!(access.validate().unwrap_err().contains("allow_from"));
        let parsed: Result<AccessConfig, _> = serde_json::from_str(r#"{"dm":"sometimes"}"#);
        assert!(parsed.is_err());
    }
}
