//! Unit tests of the Matrix adapter's pure parts: config validation, what
//! counts as history, reply fallbacks, and the content of a sent piece.

use hearth_core::Conversation;
use serde_json::json;

use super::adapter::{MatrixChannel, after_own_arrival, strip_reply_fallback};
use super::config::MatrixConfig;
use super::wire::Event;
use crate::deliver::Piece;

fn config(extra: serde_json::Value) -> Result<MatrixConfig, String> {
    let mut value = json!({
        "homeserver": "https://matrix.example.org",
        "user_id": "@hearth:example.org",
        "password": "secret",
    });
    if let (Some(base), Some(extra)) = (value.as_object_mut(), extra.as_object()) {
        base.extend(extra.clone());
    }
    let config: MatrixConfig = serde_json::from_value(value).map_err(|e| e.to_string())?;
    config.validate().map(|()| config)
}

#[test]
fn config_refuses_cleartext_to_remote_servers_and_ambiguous_credentials() {
    assert!(config(json!({})).is_ok());
    assert!(config(json!({ "homeserver": "http://127.0.0.1:8008" })).is_ok());
    assert!(config(json!({ "homeserver": "http://[::1]:8008" })).is_ok());
    let remote = config(json!({ "homeserver": "http://matrix.example.org" })).unwrap_err();
    assert!(remote.contains("https"), "{remote}");
    let both = config(json!({ "access_token": "syt_x" })).unwrap_err();
    assert!(both.contains("not both"), "{both}");
    let bad_user = config(json!({ "user_id": "hearth" })).unwrap_err();
    assert!(bad_user.contains("@hearth:example.org"), "{bad_user}");
    assert!(config(json!({ "device_id": "a b" })).is_err());
    assert!(config(json!({ "sync_timeout_secs": 0 })).is_err());
    assert_eq!(config(json!({})).unwrap().localpart(), "hearth");
}

fn event(kind: &str, sender: &str, state_key: Option<&str>, content: serde_json::Value) -> Event {
    serde_json::from_value(json!({
        "type": kind, "event_id": format!("${sender}{}", content), "sender": sender,
        "state_key": state_key, "content": content,
    }))
    .unwrap()
}

#[test]
fn history_before_the_invitation_is_not_answered() {
    let me = "@bot:hs";
    let before = event(
        "m.room.message",
        "@a:hs",
        None,
        json!({"msgtype": "m.text", "body": "old"}),
    );
    let invite = event(
        "m.room.member",
        "@a:hs",
        Some(me),
        json!({"membership": "invite"}),
    );
    let early = event(
        "m.room.message",
        "@a:hs",
        None,
        json!({"msgtype": "m.text", "body": "hi"}),
    );
    let join = event("m.room.member", me, Some(me), json!({"membership": "join"}));
    let after = event(
        "m.room.message",
        "@a:hs",
        None,
        json!({"msgtype": "m.text", "body": "new"}),
    );
    let timeline = vec![before.clone(), invite, early, join.clone(), after.clone()];
    let bodies: Vec<&str> = after_own_arrival(&timeline, me)
        .iter()
        .map(|e| e.body())
        .collect();
    assert_eq!(
        bodies,
        ["hi", "", "new"],
        "a message sent before the join still counts"
    );
    let public = vec![before.clone(), join, after];
    let bodies: Vec<&str> = after_own_arrival(&public, me)
        .iter()
        .map(|e| e.body())
        .collect();
    assert_eq!(bodies, ["new"]);
    assert_eq!(
        after_own_arrival(&[before], me).len(),
        1,
        "a known room: all new"
    );
}

#[test]
fn reply_fallbacks_are_stripped() {
    assert_eq!(
        strip_reply_fallback("> <@bot:hs> the earlier answer\n> more\n\nand my question"),
        "and my question"
    );
    assert_eq!(strip_reply_fallback("no quote here"), "no quote here");
}

#[test]
fn pieces_carry_markdown_and_html_in_their_thread() {
    let piece = Piece {
        source: "**hi**".into(),
        rendered: "<strong>hi</strong>".into(),
    };
    let room = Conversation::group("!r:hs");
    let first = MatrixChannel::content(&piece, &room, Some("$q"), true);
    assert_eq!(first["body"], "**hi**");
    assert_eq!(first["format"], "org.matrix.custom.html");
    assert_eq!(first["formatted_body"], "<strong>hi</strong>");
    assert_eq!(first["m.relates_to"]["m.in_reply_to"]["event_id"], "$q");
    let second = MatrixChannel::content(&piece, &room, Some("$q"), false);
    assert!(
        second.get("m.relates_to").is_none(),
        "only the first piece quotes"
    );
    let mut threaded = room.clone();
    threaded.thread = Some("$root".into());
    let in_thread = MatrixChannel::content(&piece, &threaded, Some("$q"), false);
    assert_eq!(in_thread["m.relates_to"]["rel_type"], "m.thread");
    assert_eq!(in_thread["m.relates_to"]["event_id"], "$root");
    let plain = Piece {
        source: "a < b".into(),
        rendered: "a < b".into(),
    };
    let plain = MatrixChannel::content(&plain, &room, None, true);
    assert!(
        plain.get("formatted_body").is_none(),
        "no HTML for plain text"
    );
}
