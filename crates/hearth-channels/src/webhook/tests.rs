//! Unit tests of webhook signatures and config; the HTTP tests are in
//! `tests/webhook.rs`.

use super::config::WebhookConfig;
use super::wire::{sign, verify};

#[test]
fn signatures_verify_and_any_change_breaks_them() {
    let signature = sign("0123456789abcdef", "1700000000", b"{\"text\":\"hi\"}");
    assert!(signature.starts_with("sha256=") && signature.len() == 71);
    assert!(verify(
        "0123456789abcdef",
        "1700000000",
        b"{\"text\":\"hi\"}",
        &signature
    ));
    assert!(!verify(
        "0123456789abcdeX",
        "1700000000",
        b"{\"text\":\"hi\"}",
        &signature
    ));
    assert!(!verify(
        "0123456789abcdef",
        "1700000001",
        b"{\"text\":\"hi\"}",
        &signature
    ));
    assert!(!verify(
        "0123456789abcdef",
        "1700000000",
        b"{\"text\":\"ho\"}",
        &signature
    ));
    assert!(!verify(
        "0123456789abcdef",
        "1700000000",
        b"{}",
        "sha256=zz"
    ));
    assert!(!verify("0123456789abcdef", "1700000000", b"{}", "md5=00"));
}

#[test]
fn config_needs_a_real_secret_and_an_http_callback() {
    let parse = |v: serde_json::Value| serde_json::from_value::<WebhookConfig>(v).unwrap();
    assert!(
        parse(serde_json::json!({"secret": "short"}))
            .validate()
            .is_err()
    );
    assert!(
        parse(serde_json::json!({"secret": "0123456789abcdef"}))
            .validate()
            .is_ok()
    );
    let ftp = parse(serde_json::json!({"secret": "0123456789abcdef", "callback_url": "ftp://x"}));
    assert!(ftp.validate().unwrap_err().contains("http"));
}
