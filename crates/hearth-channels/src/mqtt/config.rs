//! `[channels.<name>]` with `type = "mqtt"`: the broker, the topics devices
//! write to, and where replies go.

use serde::{Deserialize, Serialize};

use crate::access::AccessConfig;

/// How replies are published.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplyFormat {
    /// `{"id", "part", "parts", "text", "in_reply_to"}`: devices can drop
    /// a repeated delivery by `id` + `part` (QoS 1 is at least once).
    #[default]
    Json,
    /// The text alone.
    Text,
}

/// An MQTT broker account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    /// `host:port` of the broker. Default `127.0.0.1:1883`.
    #[serde(default = "default_broker")]
    pub broker: String,
    /// The client id, unique on the broker; the broker keeps this
    /// session's subscriptions and queued messages while Hearth is away.
    /// Default `hearth-<channel name>`.
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// Topic filters to subscribe (QoS 1). The last level of a message's
    /// topic names the sender (the device). Default `["hearth/in/+"]`.
    #[serde(default = "default_inbound")]
    pub inbound_topics: Vec<String>,
    /// Where replies go; `{sender}` is replaced by the sender. A JSON
    /// message's `reply_to` overrides it. Default `hearth/out/{sender}`.
    #[serde(default = "default_reply_topic")]
    pub reply_topic: String,
    /// `json` (default) or `text`.
    #[serde(default)]
    pub reply_format: ReplyFormat,
    /// Longest reply text per published message, in bytes; longer replies
    /// are published in parts. Default 16384.
    #[serde(default = "default_max_payload")]
    pub max_payload_bytes: usize,
    /// MQTT keep-alive in seconds: a silent broker is noticed after 1.5×
    /// this. Default 30.
    #[serde(default = "default_keep_alive")]
    pub keep_alive_secs: u64,
    /// The agent that answers on this channel; default the default agent.
    #[serde(default)]
    pub agent: Option<String>,
    /// Who may talk to the assistant here (senders are device ids).
    #[serde(default)]
    pub access: AccessConfig,
}

fn default_broker() -> String {
    "127.0.0.1:1883".into()
}
fn default_inbound() -> Vec<String> {
    vec!["hearth/in/+".into()]
}
fn default_reply_topic() -> String {
    "hearth/out/{sender}".into()
}
fn default_max_payload() -> usize {
    16 * 1024
}
fn default_keep_alive() -> u64 {
    30
}

/// A topic we publish to: no wildcards, not empty, no NUL.
pub(super) fn valid_topic(topic: &str) -> bool {
    !topic.is_empty() && topic.len() <= 1024 && !topic.contains(['+', '#', '\0'])
}

impl MqttConfig {
    /// Checks that need no network.
    pub fn validate(&self) -> Result<(), String> {
        let (host, port) = self
            .broker
            .rsplit_once(':')
            .ok_or_else(|| format!("broker {:?} must be host:port", self.broker))?;
        if host.is_empty() || port.parse::<u16>().is_err() {
            return Err(format!("broker {:?} must be host:port", self.broker));
        }
        if self.inbound_topics.is_empty() {
            return Err("inbound_topics must name at least one topic filter".into());
        }
        for filter in &self.inbound_topics {
            let levels: Vec<&str> = filter.split('/').collect();
            let bad_hash = levels
                .iter()
                .enumerate()
                .any(|(i, l)| l.contains('#') && (*l != "#" || i + 1 != levels.len()));
            let bad_plus = levels.iter().any(|l| l.contains('+') && *l != "+");
            if filter.is_empty() || bad_hash || bad_plus {
                return Err(format!(
                    "inbound_topics: {filter:?} is not a valid topic filter"
                ));
            }
        }
        if !valid_topic(&self.reply_topic.replace("{sender}", "x")) {
            return Err(format!(
                "reply_topic {:?} must be a topic without wildcards",
                self.reply_topic
            ));
        }
        if !(64..=256 * 1024).contains(&self.max_payload_bytes) {
            return Err("max_payload_bytes must be between 64 and 262144".into());
        }
        if !(5..=3600).contains(&self.keep_alive_secs) {
            return Err("keep_alive_secs must be between 5 and 3600".into());
        }
        if self.password.is_some() && self.username.is_none() {
            return Err("password needs a username".into());
        }
        self.access.validate()
    }
}
