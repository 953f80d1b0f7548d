//! Unit tests of mail parsing and config; the server tests are in
//! `tests/email.rs` (real Dovecot and an SMTP sink).

use super::config::EmailConfig;
use super::wire::{new_text, parse, reply_subject};

#[test]
fn received_mail_yields_sender_thread_and_new_text() {
    let raw = b"From: Alice Example <Alice@Example.org>\r\n\
To: bot@example.test\r\n\
Subject: Re: plans\r\n\
Message-ID: <m2@example.org>\r\n\
In-Reply-To: <m1@example.org>\r\n\
References: <m0@example.org> <m1@example.org>\r\n\
\r\n\
Sounds good, what time?\r\n\
\r\n\
On Monday, Bot wrote:\r\n\
> earlier text\r\n\
> more\r\n";
    let mail = parse(raw).expect("parses");
    assert_eq!(mail.from, "alice@example.org");
    assert_eq!(mail.from_name.as_deref(), Some("Alice Example"));
    assert_eq!(mail.message_id.as_deref(), Some("m2@example.org"));
    assert_eq!(mail.references, vec!["m0@example.org", "m1@example.org"]);
    assert_eq!(mail.text, "Sounds good, what time?");
    assert!(!mail.automatic);
}

#[test]
fn auto_replies_and_lists_are_marked_automatic() {
    let auto = parse(
        b"From: a@b.org\r\nAuto-Submitted: auto-replied\r\nSubject: away\r\n\r\nI am away\r\n",
    )
    .unwrap();
    assert!(auto.automatic);
    let list = parse(b"From: a@b.org\r\nList-Id: <x.b.org>\r\n\r\nhi\r\n").unwrap();
    assert!(list.automatic);
    assert_eq!(new_text("hello\n-- \nsignature"), "hello");
    assert_eq!(reply_subject("Re: x"), "Re: x");
    assert_eq!(reply_subject("plans"), "Re: plans");
}

#[test]
fn only_listed_senders_and_no_plain_text_to_remote_servers() {
    let base = serde_json::json!({
        "address": "bot@example.org", "imap_server": "imap.example.org:993",
        "smtp_server": "smtp.example.org:587", "username": "bot", "password": "pw",
        "access": { "dm": "allowlist", "allow_from": ["me@example.org"] },
    });
    let parse_config =
        |v: &serde_json::Value| serde_json::from_value::<EmailConfig>(v.clone()).unwrap();
    assert!(parse_config(&base).validate().is_ok());
    let mut open = base.clone();
    open["access"] = serde_json::json!({ "dm": "pairing" });
    assert!(
        parse_config(&open)
            .validate()
            .unwrap_err()
            .contains("allowlist")
    );
    let mut plain = base.clone();
    plain["smtp_security"] = serde_json::json!("plain");
    assert!(
        parse_config(&plain)
            .validate()
            .unwrap_err()
            .contains("plain")
    );
}
