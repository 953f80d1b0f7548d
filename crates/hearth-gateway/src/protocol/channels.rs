//! Typed parameters of the `channels.*` and `pairing.*` methods. The
//! gateway routes them; the binary's channel service parses them with
//! these types, so the published schema and the parser are one definition.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `channels.status`: every channel's type, agent, capabilities and health.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChannelsStatus {}

/// `pairing.list`: pending codes and approved senders.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PairingList {
    /// Only this channel; default all.
    #[serde(default)]
    pub channel: Option<String>,
}

/// `pairing.approve`: allow the sender who received `code` on `channel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PairingApprove {
    pub channel: String,
    /// The 8-character code, any case.
    pub code: String,
}

/// `pairing.revoke`: withdraw a sender's approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PairingRevoke {
    pub channel: String,
    /// The sender id as the platform names it.
    pub sender: String,
}
