//! Unit tests of the Telegram wire helpers and config; the Bot API tests
//! are in `tests/telegram.rs` (a local server replaying documented
//! payloads).

use super::config::TelegramConfig;
use super::wire::{utf16_remove, utf16_slice};

#[test]
fn entity_offsets_count_utf16_units() {
    // "😀" is two UTF-16 units: the mention starts at unit 3, not char 2.
    let text = "😀 @hearth_bot hi";
    assert_eq!(utf16_slice(text, 3, 11).as_deref(), Some("@hearth_bot"));
    assert_eq!(utf16_remove(text, 3, 11), "😀  hi");
    assert_eq!(utf16_slice(text, 30, 2), None);
}

#[test]
fn config_checks_the_token_and_webhook_settings() {
    let parse = |v: serde_json::Value| serde_json::from_value::<TelegramConfig>(v).unwrap();
    assert!(
        parse(serde_json::json!({"token": "123456:ABCDEFGHIJ"}))
            .validate()
            .is_ok()
    );
    assert!(
        parse(serde_json::json!({"token": "nonsense"}))
            .validate()
            .is_err()
    );
    let hook = parse(serde_json::json!({"token": "123456:ABCDEFGHIJ", "mode": "webhook"}));
    assert!(hook.validate().unwrap_err().contains("webhook_url"));
    let hook = parse(serde_json::json!({
        "token": "123456:ABCDEFGHIJ", "mode": "webhook",
        "webhook_url": "https://example.org/hooks/telegram", "webhook_secret": "bad secret!",
    }));
    assert!(hook.validate().unwrap_err().contains("webhook_secret"));
}
