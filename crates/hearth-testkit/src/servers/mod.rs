//! Real servers for channel tests, started per test on loopback ports
//! from the machine's packages (`scripts/start-services.sh` installs
//! them), with a minimal client of each for the "other person".
//!
//! - [`ngircd`]: an IRC server and an IRC client.
//! - [`mail`]: Dovecot (IMAP) and an SMTP sink (aiosmtpd).
//! - [`mosquitto`]: an MQTT broker (clients use rumqttc).
//! - [`prosody`]: an XMPP server with a MUC component (clients use
//!   tokio-xmpp).
//! - [`synapse`]: a Matrix homeserver and a Matrix client.
//! - [`telegram`]: a Bot API server replaying the documented payloads
//!   (Telegram has no server that runs offline).

pub mod mail;
pub mod mosquitto;
pub mod ngircd;
pub mod prosody;
pub mod synapse;
pub mod telegram;

/// A port that was free a moment ago: bind port 0, read it, release it.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    listener.local_addr().expect("local addr").port()
}
