//! Unit tests of MQTT payloads and config; the broker tests are in
//! `tests/mqtt.rs` (a real Mosquitto).

use super::config::MqttConfig;
use super::wire::decode;

fn config(value: serde_json::Value) -> Result<MqttConfig, serde_json::Error> {
    serde_json::from_value(value)
}

#[test]
fn payloads_decode_as_text_or_json() {
    let plain = decode(b"turn the lights off").unwrap();
    assert_eq!(plain.text, "turn the lights off");
    assert_eq!(plain.id, None);
    let json =
        decode(br#"{"text":"status?","id":42,"sender":"kitchen","reply_to":"home/kitchen/reply"}"#)
            .unwrap();
    assert_eq!(json.text, "status?");
    assert_eq!(json.id.as_deref(), Some("42"));
    assert_eq!(json.sender.as_deref(), Some("kitchen"));
    assert_eq!(json.reply_to.as_deref(), Some("home/kitchen/reply"));
    assert!(decode(br#"{"no_text": true}"#).is_none());
    assert!(decode(&[0xff, 0xfe, 0x00]).is_none());
}

#[test]
fn config_defaults_and_validation() {
    let ok = config(serde_json::json!({})).unwrap();
    assert_eq!(ok.broker, "127.0.0.1:1883");
    assert_eq!(ok.inbound_topics, vec!["hearth/in/+"]);
    assert!(ok.validate().is_ok());
    let bad_filter = config(serde_json::json!({"inbound_topics": ["a/#/b"]})).unwrap();
    assert!(bad_filter.validate().unwrap_err().contains("topic filter"));
    let wildcard_reply = config(serde_json::json!({"reply_topic": "out/+"})).unwrap();
    assert!(wildcard_reply.validate().unwrap_err().contains("wildcards"));
    let no_user = config(serde_json::json!({"password": "x"})).unwrap();
    assert!(no_user.validate().is_err());
    assert!(config(serde_json::json!({"qos": 2})).is_err());
}
