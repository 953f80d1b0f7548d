//! Chat-platform adapters and the framework every adapter shares.
//!
//! ```text
//! platform ─▶ adapter (normalize) ─PlatformMessage─▶ Gate ─InboundMessage─▶ Pipeline
//!   Gate: access policy, pairing, sender rate limit, session key, run id
//! outbox ─OutboundMessage─▶ adapter.send ─ deliver::prepare (render + chunk) ─▶ platform
//! ChannelHost: one supervised task per channel, reconnect with backoff, health
//! ```
//!
//! - [`config`]: `[channels.<name>]` tables and their validation.
//! - [`access`]: the `[channels.<name>.access]` settings and the policy
//!   decision for one message.
//! - [`gate`]: the [`hearth_core::InboundSink`] every adapter feeds:
//!   policy, pairing codes, rate limits, session keys, dedupe ids.
//! - [`identity`]: identity links that merge one person's accounts.
//! - [`host`]: [`host::ChannelHost`], which runs and restarts channels.
//! - [`files`]: the attachment store (size limits, safe names).
//! - [`deliver`]: a reply's markdown as platform messages that fit.
//! - [`limits`]: token buckets for inbound and outbound rates.
//! - [`text`]: chunking and markup rendering.
//! - [`typing`]: typing indicators and streaming previews while a turn
//!   runs.
//! - [`previews`]: the provisional message a preview edits, per run.
//! - [`reconnect`]: jittered backoff and a liveness watchdog.
//!
//! Adapters, one folder and one cargo feature each, their wire types
//! private to that folder; two adapters never import each other:
//!
//! - [`irc`] (feature `irc`): IRC over TCP or TLS, SASL PLAIN, channels and
//!   queries, flood control.
//! - [`mqtt`] (feature `mqtt`): devices on an MQTT broker, QoS 1 both ways.
//! - [`webhook`] (feature `webhook`): HMAC-signed POSTs, replies in the
//!   response or by signed callback.
//! - [`telegram`] (feature `telegram`): a bot through the Bot API, long
//!   polling or webhook.
//! - [`xmpp`] (feature `xmpp`): an XMPP account, chats and MUC rooms.
//! - [`email`] (feature `email`): IMAP IDLE in, SMTP out, in threads.
//! - [`matrix`] (feature `matrix`): a Matrix account through the
//!   client-server API, direct chats, rooms and threads.

pub mod access;
pub mod config;
pub mod deliver;
pub mod files;
pub mod gate;
pub mod host;
pub mod identity;
pub mod limits;
#[cfg(any(feature = "telegram", feature = "matrix"))]
pub mod previews;
#[cfg(feature = "matrix")]
mod recent;
pub mod reconnect;
pub mod text;
#[cfg(any(feature = "irc", feature = "email"))]
mod tls;
pub mod typing;

#[cfg(feature = "email")]
pub mod email;
#[cfg(feature = "irc")]
pub mod irc;
#[cfg(feature = "matrix")]
pub mod matrix;
#[cfg(feature = "mqtt")]
pub mod mqtt;
#[cfg(feature = "telegram")]
pub mod telegram;
#[cfg(feature = "webhook")]
pub mod webhook;
#[cfg(feature = "xmpp")]
pub mod xmpp;
