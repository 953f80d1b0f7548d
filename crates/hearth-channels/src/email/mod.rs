//! E-mail: a mailbox read over IMAP (IDLE for new mail) and answered over
//! SMTP, in the sender's thread (In-Reply-To, References). Only listed
//! senders are answered; auto-replies, bounces and list mail never are.
//!
//! - `config.rs`: `[channels.<name>]` with `type = "email"`.
//! - `wire.rs`: parsing received mail, reply subjects (private).
//! - `adapter.rs`: IMAP fetch / flag / IDLE loop and SMTP send.

mod adapter;
mod config;
mod wire;

#[cfg(test)]
mod tests;

pub use adapter::EmailChannel;
pub use config::{EmailConfig, MailSecurity};
