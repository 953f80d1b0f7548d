//! `[channels.<name>]` with `type = "xmpp"`: the bot's account, the
//! server, and the group chat rooms (MUC) to join.

use serde::{Deserialize, Serialize};

use crate::access::AccessConfig;

/// How the connection is secured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum XmppSecurity {
    /// STARTTLS, required (the standard c2s port 5222).
    #[default]
    Starttls,
    /// No TLS: only for a server on this machine (`server` must be a
    /// loopback address), e.g. a local test server.
    Plain,
}

/// An XMPP account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XmppConfig {
    /// The bot's account, e.g. `hearth@example.org`.
    pub jid: String,
    pub password: String,
    /// `host:port` to connect to. Default: the DNS SRV record of the
    /// JID's domain, else its port 5222.
    #[serde(default)]
    pub server: Option<String>,
    /// `starttls` (default) or `plain` (loopback only).
    #[serde(default)]
    pub security: XmppSecurity,
    /// Group chat rooms to join, e.g. `["team@conference.example.org"]`.
    #[serde(default)]
    pub rooms: Vec<String>,
    /// The bot's nickname in rooms; default the JID's local part. In a
    /// room it answers messages that address this name.
    #[serde(default)]
    pub nick: Option<String>,
    /// Longest message, in characters; longer replies are sent as several.
    /// Default 4000.
    #[serde(default = "default_max_text")]
    pub max_text: usize,
    /// The agent that answers on this channel; default the default agent.
    #[serde(default)]
    pub agent: Option<String>,
    /// Who may talk to the assistant here (senders are bare JIDs).
    #[serde(default)]
    pub access: AccessConfig,
}

fn default_max_text() -> usize {
    4000
}

/// A bare JID `local@domain` with both parts present.
fn bare_jid_ok(jid: &str) -> bool {
    tokio_xmpp::jid::BareJid::new(jid).is_ok_and(|j| j.node().is_some())
}

impl XmppConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !bare_jid_ok(&self.jid) {
            return Err(format!(
                "jid {:?} must be an account like name@example.org",
                self.jid
            ));
        }
        if self.password.is_empty() {
            return Err("password is empty".into());
        }
        if let Some(server) = &self.server {
            let port_ok = server
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
            if !port_ok {
                return Err(format!("server {server:?} must be host:port"));
            }
        }
        if self.security == XmppSecurity::Plain {
            let host = self
                .server
                .as_deref()
                .and_then(|s| s.rsplit_once(':'))
                .map(|(h, _)| h.trim_matches(['[', ']']))
                .unwrap_or_default();
            let loopback = host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if !loopback {
                return Err(
                    "security = \"plain\" sends the password unencrypted: only with a loopback `server`"
                        .into(),
                );
            }
        }
        for room in &self.rooms {
            if !bare_jid_ok(room) {
                return Err(format!(
                    "rooms: {room:?} must be a room address like team@conference.example.org"
                ));
            }
        }
        if self.max_text < 100 {
            return Err("max_text must be at least 100".into());
        }
        self.access.validate()
    }

    /// The nickname used in rooms.
    pub fn room_nick(&self) -> String {
        self.nick
            .clone()
            .unwrap_or_else(|| self.jid.split('@').next().unwrap_or("hearth").to_owned())
    }
}
