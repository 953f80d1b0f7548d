//! Unit tests of the IRC wire format and normalization; the end-to-end
//! tests against a real ngircd are in `crates/hearth/tests/irc.rs`.

use super::adapter::IrcChannel;
use super::config::IrcConfig;
use super::wire::{Line, sanitize};
use hearth_core::ConversationKind;

fn config(toml_like: serde_json::Value) -> IrcConfig {
    serde_json::from_value(toml_like).unwrap()
}

fn basic() -> IrcConfig {
    config(serde_json::json!({"server": "127.0.0.1:6667", "nick": "hearth", "channels": ["#room"]}))
}

#[test]
fn lines_parse_with_prefix_tags_and_trailing() {
    let line = Line::parse("@time=x :alice!a@host PRIVMSG #room :hello : there").unwrap();
    assert_eq!(line.nick(), Some("alice"));
    assert_eq!(line.command, "PRIVMSG");
    assert_eq!(line.params, vec!["#room", "hello : there"]);
    let ping = Line::parse("PING :irc.example").unwrap();
    assert_eq!((ping.prefix, ping.param(0)), (None, "irc.example"));
    let welcome = Line::parse(":server 001 hearth :Welcome").unwrap();
    assert_eq!(welcome.params, vec!["hearth", "Welcome"]);
    assert_eq!(Line::parse(""), None);
    assert_eq!(Line::parse(":only-prefix"), None);
}

#[test]
fn control_characters_cannot_break_out_of_a_line() {
    assert_eq!(sanitize("a\r\nPRIVMSG x :y\0"), "aPRIVMSG x :y");
}

#[test]
fn privmsgs_normalize_into_direct_and_group_messages() {
    let irc = IrcChannel::new("irc", basic());
    let dm = Line::parse(":bob!b@h PRIVMSG hearth :hi there").unwrap();
    let dm = irc.normalize(&dm, "hearth").unwrap();
    assert_eq!(dm.origin.conversation.kind, ConversationKind::Direct);
    assert_eq!(dm.origin.conversation.id, "bob");
    assert!(dm.origin.mentioned);

    let group = Line::parse(":bob!b@h PRIVMSG #room :hearth: summarize").unwrap();
    let group = irc.normalize(&group, "hearth").unwrap();
    assert_eq!(group.origin.conversation.id, "#room");
    assert_eq!(group.text, "summarize");
    assert!(group.origin.mentioned);

    let chatter = Line::parse(":bob!b@h PRIVMSG #room :lunch?").unwrap();
    assert!(!irc.normalize(&chatter, "hearth").unwrap().origin.mentioned);

    let ctcp = Line::parse(":bob!b@h PRIVMSG hearth :\u{1}VERSION\u{1}").unwrap();
    assert!(irc.normalize(&ctcp, "hearth").is_none());
    let own = Line::parse(":hearth!h@h PRIVMSG #room :echo").unwrap();
    assert!(irc.normalize(&own, "hearth").is_none());
}

#[test]
fn config_is_validated_without_connecting() {
    assert!(basic().validate().is_ok());
    let mut bad = basic();
    bad.server = "no-port".into();
    assert!(bad.validate().unwrap_err().contains("host:port"));
    let mut bad = basic();
    bad.nick = "9lives".into();
    assert!(bad.validate().unwrap_err().contains("nick"));
    let mut bad = basic();
    bad.channels = vec!["room".into()];
    assert!(bad.validate().unwrap_err().contains("#"));
    let unknown: Result<IrcConfig, _> =
        serde_json::from_value(serde_json::json!({"server": "h:1", "nick": "n", "chanels": []}));
    assert!(unknown.unwrap_err().to_string().contains("chanels"));
}
