//! `hearth channels` (status through the daemon, templates to add one) and
//! `hearth pairing` (approve unknown senders through the daemon).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::cli::{ChannelsAction, PairingAction};
use crate::config::{self, Config};

pub async fn run(
    config_flag: Option<&Path>,
    action: Option<ChannelsAction>,
    json_out: bool,
) -> Result<ExitCode> {
    match action.unwrap_or(ChannelsAction::Status) {
        ChannelsAction::Status => {
            let config = super::load_config(config_flag)?;
            let mut client = super::connect(&config).await?;
            let result = client.request("channels.status", json!({})).await?;
            client.close().await;
            if json_out {
                super::print_json(&result);
                return Ok(ExitCode::SUCCESS);
            }
            let rows = result["channels"].as_array().cloned().unwrap_or_default();
            if rows.is_empty() {
                println!("no channels configured; add one with `hearth channels add irc`");
            }
            for row in &rows {
                println!("{}", status_line(row));
            }
            Ok(ExitCode::SUCCESS)
        }
        ChannelsAction::Add { kind, name, write } => add(config_flag, &kind, name, write, json_out),
    }
}

/// `irc  irc  up (since 12:00:01) reconnects 0  agent main`
pub fn status_line(row: &Value) -> String {
    let health = &row["health"];
    let mut line = format!(
        "{:<12} {:<8} {:<13} reconnects {}  agent {}",
        row["name"].as_str().unwrap_or("?"),
        row["kind"].as_str().unwrap_or("?"),
        health["state"].as_str().unwrap_or("?"),
        health["reconnects"].as_u64().unwrap_or(0),
        row["agent"].as_str().unwrap_or("?"),
    );
    if let Some(detail) = health["detail"].as_str() {
        line.push_str(&format!("  ({detail})"));
    }
    line
}

/// A commented table for `kind`, valid as written.
fn template(kind: &str, name: &str) -> Result<String> {
    Ok(match kind {
        "irc" => format!(
            r##"
# An IRC network (docs/channels/irc.md). Unknown senders get a pairing
# code in a query; in channels the bot answers when addressed by nick.
[channels.{name}]
type = "irc"
server = "irc.libera.chat:6697"   # host:port
tls = true
nick = "hearth-bot"               # `_` is appended while it is taken
channels = []                     # e.g. ["#my-room"]
# sasl = {{ username = "hearth-bot", password = "..." }}

[channels.{name}.access]
dm = "pairing"                    # pairing | allowlist | open | disabled
allow_from = []                   # nicks always allowed
groups = "mention"                # mention | open | disabled
"##
        ),
        "xmpp" => format!(
            r##"
# An XMPP account (docs/channels/xmpp.md).
[channels.{name}]
type = "xmpp"
jid = "hearth@example.org"
password = "change me"
rooms = []                        # e.g. ["team@conference.example.org"]

[channels.{name}.access]
dm = "pairing"
"##
        ),
        "telegram" => format!(
            r##"
# A Telegram bot (docs/channels/telegram.md): get the token from @BotFather.
[channels.{name}]
type = "telegram"
token = "123456789:replace-with-the-token"
# stream_previews = true          # show the answer while it is written

[channels.{name}.access]
dm = "pairing"                    # senders are numeric Telegram user ids
"##
        ),
        "mqtt" => format!(
            r##"
# Devices on an MQTT broker (docs/channels/mqtt.md).
[channels.{name}]
type = "mqtt"
broker = "127.0.0.1:1883"
inbound_topics = ["hearth/in/+"]  # the last level names the device
reply_topic = "hearth/out/{{sender}}"

[channels.{name}.access]
dm = "allowlist"
allow_from = ["my-device"]
"##
        ),
        "webhook" => format!(
            r##"
# Signed HTTP POSTs to /hooks/{name} (docs/channels/webhook.md).
[channels.{name}]
type = "webhook"
secret = "{secret}"

[channels.{name}.access]
dm = "allowlist"
allow_from = ["my-system"]
"##,
            secret = random_secret()
        ),
        "email" => format!(
            r##"
# A mailbox over IMAP and SMTP (docs/channels/email.md).
[channels.{name}]
type = "email"
address = "assistant@example.org"
imap_server = "imap.example.org:993"
smtp_server = "smtp.example.org:587"
username = "assistant@example.org"
password = "change me"

[channels.{name}.access]
dm = "allowlist"                  # e-mail answers listed senders only
allow_from = ["you@example.org"]
"##
        ),
        "matrix" => format!(
            r##"
# A Matrix account (docs/channels/matrix.md). Invite it to an unencrypted
# direct chat; in rooms it answers mentions and replies to its messages.
[channels.{name}]
type = "matrix"
homeserver = "https://matrix.example.org"
user_id = "@hearth:example.org"
password = "change me"            # or access_token = "..."
# stream_previews = true          # show the answer while it is written

[channels.{name}.access]
dm = "pairing"                    # senders are Matrix user ids
groups = "mention"
"##
        ),
        other => bail!(
            "unknown channel type {other:?}; this build has: irc, xmpp, telegram, matrix, mqtt, webhook, email"
        ),
    })
}

/// 32 random hex characters for a new webhook secret.
fn random_secret() -> String {
    use rand::Rng;
    let bits: u128 = rand::rng().random();
    format!("{bits:032x}")
}

fn add(
    config_flag: Option<&Path>,
    kind: &str,
    name: Option<String>,
    write: bool,
    json_out: bool,
) -> Result<ExitCode> {
    let name = name.unwrap_or_else(|| kind.to_owned());
    hearth_channels::config::validate_name(&name).map_err(crate::UsageError)?;
    let table = template(kind, &name).map_err(|e| crate::UsageError(format!("{e:#}")))?;
    if !write {
        if json_out {
            super::print_json(&json!({ "name": name, "type": kind, "toml": table }));
        } else {
            println!("{}", table.trim_start());
            eprintln!(
                "Paste this into your config (or run again with --write), edit it, then restart hearth."
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let path = super::config_path(config_flag)?;
    let old = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}; run `hearth init` first", path.display()))?;
    let current = Config::parse(&path, &old, std::iter::empty())?;
    if current.channels.contains_key(&name) {
        return Err(crate::UsageError(format!(
            "[channels.{name}] already exists in {}; pick another --name",
            path.display()
        ))
        .into());
    }
    let text = format!("{}\n{}", old.trim_end(), table);
    // The whole new file must be valid before it replaces the old one.
    Config::parse(&path, &text, std::iter::empty())
        .and_then(|c| c.validate())
        .context("the new table does not validate; nothing was changed")?;
    let backup = config::replace_config(&path, &text)?;
    if json_out {
        super::print_json(&json!({ "ok": true, "name": name, "path": path, "backup": backup }));
    } else {
        println!("added [channels.{name}] to {}", path.display());
        if let Some(backup) = backup {
            println!("the old file is kept as {}", backup.display());
        }
        println!(
            "edit its server and nick, then restart hearth; `hearth channels status` shows the connection"
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn pairing(
    config: &Config,
    action: Option<PairingAction>,
    json_out: bool,
) -> Result<ExitCode> {
    let action = action.unwrap_or(PairingAction::List { channel: None });
    let mut client = super::connect(config).await?;
    let result = match &action {
        PairingAction::List { channel } => {
            client
                .request("pairing.list", json!({ "channel": channel }))
                .await?
        }
        PairingAction::Approve { channel, code } => {
            client
                .request(
                    "pairing.approve",
                    json!({ "channel": channel, "code": code }),
                )
                .await?
        }
        PairingAction::Revoke { channel, sender } => {
            client
                .request(
                    "pairing.revoke",
                    json!({ "channel": channel, "sender": sender }),
                )
                .await?
        }
    };
    client.close().await;
    if json_out {
        super::print_json(&result);
        return Ok(ExitCode::SUCCESS);
    }
    match action {
        PairingAction::List { .. } => {
            let requests = result["requests"].as_array().cloned().unwrap_or_default();
            if requests.is_empty() {
                println!("no pending pairing codes");
            }
            for r in &requests {
                let left_min =
                    (r["expiresAtMs"].as_i64().unwrap_or(0) - hearth_core::now_ms()) / 60_000;
                println!(
                    "pending  {:<10} {:<10} {}  (expires in {left_min} min)",
                    r["channel"].as_str().unwrap_or("?"),
                    r["code"].as_str().unwrap_or("?"),
                    r["sender"]["id"].as_str().unwrap_or("?"),
                );
            }
            for a in result["approved"].as_array().into_iter().flatten() {
                println!(
                    "approved {:<10} {}",
                    a["channel"].as_str().unwrap_or("?"),
                    a["sender"]["id"].as_str().unwrap_or("?"),
                );
            }
        }
        PairingAction::Approve { channel, .. } => println!(
            "approved {} on {channel}",
            result["approved"]["sender"]["id"].as_str().unwrap_or("?")
        ),
        PairingAction::Revoke { channel, sender } => {
            if result["removed"] == true {
                println!("revoked {sender} on {channel}");
            } else {
                println!("{sender} was not approved on {channel}");
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
