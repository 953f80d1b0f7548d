//! The webhook's JSON and its signature. Private to the adapter.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// An inbound POST body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Inbound {
    /// The sender's id for this message; a retry with the same id is a
    /// duplicate.
    #[serde(default)]
    pub id: Option<String>,
    pub sender: String,
    #[serde(default)]
    pub sender_name: Option<String>,
    pub text: String,
    /// A group conversation id; absent for a direct conversation.
    #[serde(default)]
    pub group: Option<String>,
    /// In a group: the bot was addressed.
    #[serde(default)]
    pub mention: bool,
}

/// A reply, as the synchronous response or a callback body.
#[derive(Debug, Serialize)]
pub(super) struct Reply<'a> {
    pub id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<&'a str>,
    pub conversation: &'a str,
    pub part: usize,
    pub parts: usize,
    pub text: &'a str,
}

/// `sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>.<body>").
pub(super) fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let bytes = mac(secret, timestamp, body).finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn mac(secret: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Checks a `sha256=<hex>` signature in constant time.
pub(super) fn verify(secret: &str, timestamp: &str, body: &[u8], signature: &str) -> bool {
    let Some(hex) = signature.strip_prefix("sha256=") else {
        return false;
    };
    if hex.len() != 64 {
        return false;
    }
    let Some(expected) = (0..32)
        .map(|i| u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    mac(secret, timestamp, body).verify_slice(&expected).is_ok()
}
