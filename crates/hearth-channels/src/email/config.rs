//! `[channels.<name>]` with `type = "email"`: the mailbox read over IMAP,
//! the SMTP server replies leave through, and who may write.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::access::{AccessConfig, DmPolicy};

/// How a mail connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailSecurity {
    /// TLS from the first byte (IMAP 993, SMTP 465).
    Tls,
    /// STARTTLS on a plain port (SMTP 587). SMTP only.
    Starttls,
    /// No TLS: only for a server on this machine (loopback).
    Plain,
}

/// A mailbox the assistant answers from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// The address replies come from, e.g. `assistant@example.org`.
    pub address: String,
    /// IMAP `host:port`, e.g. `imap.example.org:993`.
    pub imap_server: String,
    /// `tls` (default) or `plain` (loopback only).
    #[serde(default = "default_imap_security")]
    pub imap_security: MailSecurity,
    /// SMTP `host:port`, e.g. `smtp.example.org:587`.
    pub smtp_server: String,
    /// `starttls` (default), `tls` or `plain` (loopback only).
    #[serde(default = "default_smtp_security")]
    pub smtp_security: MailSecurity,
    /// The IMAP login (and the SMTP one unless `smtp_username` is set).
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub smtp_username: Option<String>,
    #[serde(default)]
    pub smtp_password: Option<String>,
    /// Log in to SMTP at all. Default true.
    #[serde(default = "default_true")]
    pub smtp_auth: bool,
    /// The folder read. Default `INBOX`.
    #[serde(default = "default_mailbox")]
    pub mailbox: String,
    /// A PEM file of extra CA certificates for the IMAP server.
    #[serde(default)]
    pub tls_ca_file: Option<PathBuf>,
    /// Seconds an IMAP IDLE lasts before it is renewed (servers drop idle
    /// connections after 30 minutes). Default 300.
    #[serde(default = "default_idle")]
    pub idle_secs: u64,
    /// The agent that answers on this channel; default the default agent.
    #[serde(default)]
    pub agent: Option<String>,
    /// Who may write: `dm` must be `allowlist` and `allow_from` lists the
    /// sender addresses (e-mail is the easiest channel to spoof and spam).
    #[serde(default)]
    pub access: AccessConfig,
}

fn default_imap_security() -> MailSecurity {
    MailSecurity::Tls
}
fn default_smtp_security() -> MailSecurity {
    MailSecurity::Starttls
}
fn default_true() -> bool {
    true
}
fn default_mailbox() -> String {
    "INBOX".into()
}
fn default_idle() -> u64 {
    300
}

/// `host` and `port` of a `host:port`.
pub(super) fn split_server(server: &str) -> Option<(&str, u16)> {
    let (host, port) = server.rsplit_once(':')?;
    let port = port.parse().ok()?;
    (!host.is_empty()).then_some((host, port))
}

fn is_loopback(server: &str) -> bool {
    split_server(server).is_some_and(|(host, _)| {
        host == "localhost"
            || host
                .trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    })
}

impl EmailConfig {
    pub fn validate(&self) -> Result<(), String> {
        let address_ok = self.address.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') || domain == "localhost"
        });
        if !address_ok {
            return Err(format!(
                "address {:?} is not an e-mail address",
                self.address
            ));
        }
        for (field, server, security) in [
            ("imap_server", &self.imap_server, self.imap_security),
            ("smtp_server", &self.smtp_server, self.smtp_security),
        ] {
            if split_server(server).is_none() {
                return Err(format!("{field} {server:?} must be host:port"));
            }
            if security == MailSecurity::Plain && !is_loopback(server) {
                return Err(format!(
                    "{field}: plain (unencrypted) is only allowed for a server on this machine"
                ));
            }
        }
        if self.imap_security == MailSecurity::Starttls {
            return Err("imap_security: use \"tls\" (port 993); STARTTLS is for SMTP here".into());
        }
        if self.username.is_empty() || self.password.is_empty() {
            return Err("username and password are required".into());
        }
        if !(30..=1740).contains(&self.idle_secs) {
            return Err("idle_secs must be between 30 and 1740".into());
        }
        if self.access.dm != DmPolicy::Allowlist || self.access.allow_from.is_empty() {
            return Err(
                "e-mail answers only listed senders: set access.dm = \"allowlist\" and access.allow_from = [\"you@example.org\"]"
                    .into(),
            );
        }
        self.access.validate()
    }
}
