//! The e-mail adapter against real servers: Dovecot for IMAP (IDLE) and an
//! aiosmtpd sink for SMTP. The conformance suite, then threading headers,
//! the allowlist-only rule's companion (automatic mail never answered) and
//! mail flagged seen only once recorded.

#![cfg(feature = "email")]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hearth_channels::email::{EmailChannel, EmailConfig};
use hearth_core::{Channel, Conversation, HealthState, OutboundMessage, SessionKey};
use hearth_testkit::conformance::{self, Peer, RecordingSink};
use hearth_testkit::servers::mail::{ADDRESS, Dovecot, PASSWORD, SmtpSink};

const ALICE: &str = "alice@example.org";

fn config(imap: &Dovecot, smtp: &SmtpSink) -> EmailConfig {
    serde_json::from_value(serde_json::json!({
        "address": ADDRESS, "imap_server": imap.server(), "imap_security": "plain",
        "smtp_server": smtp.server(), "smtp_security": "plain", "smtp_auth": false,
        "username": ADDRESS, "password": PASSWORD, "idle_secs": 30,
        "access": { "dm": "allowlist", "allow_from": [ALICE] },
    }))
    .expect("config")
}

fn mail(id: &str, subject: &str, text: &str, extra: &str) -> String {
    format!(
        "From: Alice <{ALICE}>\nTo: {ADDRESS}\nSubject: {subject}\nMessage-ID: <{id}@example.org>\n{extra}\
         Content-Type: text/plain; charset=utf-8\n\n{text}\n"
    )
}

/// The text of a sent mail, decoded (quoted-printable soft breaks and all).
fn body(raw: &str) -> String {
    let message = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .expect("parse sent mail");
    message.body_text(0).unwrap_or_default().into_owned()
}

struct MailPeer {
    imap: Dovecot,
    smtp: SmtpSink,
    read: usize,
    sequence: u32,
    last: Option<String>,
}

#[async_trait]
impl Peer for MailPeer {
    fn sender_id(&self) -> String {
        ALICE.into()
    }

    fn group_id(&self) -> Option<String> {
        None
    }

    async fn send_direct(&mut self, text: &str) {
        self.sequence += 1;
        let raw = mail(&format!("m{}", self.sequence), "conformance", text, "");
        self.imap.deliver(&raw);
        self.last = Some(raw);
    }

    async fn send_group(&mut self, _text: &str, _mention: bool) {
        unreachable!("e-mail has no groups")
    }

    async fn received(&mut self, limit: Duration) -> Option<String> {
        let messages = self.smtp.wait_for(self.read + 1, limit).await;
        let raw = messages.get(self.read)?;
        self.read += 1;
        Some(body(raw))
    }

    async fn restart_server(&mut self) -> bool {
        self.imap.kill();
        self.imap.restart().await;
        true
    }

    async fn redeliver_last(&mut self) -> bool {
        let raw = self.last.clone().expect("a mail was sent");
        self.imap.deliver(&raw);
        true
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_passes_the_channel_conformance_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let imap = Dovecot::start(&dir.path().join("imap")).await;
    let smtp = SmtpSink::start(&dir.path().join("smtp")).await;
    let channel = Arc::new(EmailChannel::new("mail", config(&imap, &smtp)));
    let mut peer = MailPeer {
        imap,
        smtp,
        read: 0,
        sequence: 0,
        last: None,
    };
    conformance::run(channel, &mut peer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_thread_and_automatic_mail_is_never_answered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let imap = Dovecot::start(&dir.path().join("imap")).await;
    let smtp = SmtpSink::start(&dir.path().join("smtp")).await;
    let channel = Arc::new(EmailChannel::new("mail", config(&imap, &smtp)));
    let sink = Arc::new(RecordingSink::default());
    let (shutdown, health) = conformance::run_channel(channel.clone(), sink.clone());
    while health.get().state != HealthState::Up {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    imap.deliver(&mail(
        "away",
        "Out of office",
        "I am away",
        "Auto-Submitted: auto-replied\n",
    ));
    imap.deliver(&mail(
        "t2",
        "Re: plans",
        "Friday works.\n\nOn Monday, bot wrote:\n> when?\n",
        "In-Reply-To: <t1@example.org>\nReferences: <t0@example.org> <t1@example.org>\n",
    ));
    let got = sink.wait_for(1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let message = &got[0];
    assert_eq!(message.text, "Friday works.");
    assert_eq!(
        message.origin.conversation.thread.as_deref(),
        Some("t0@example.org")
    );
    // Both mails are flagged seen: the automatic one is dropped on purpose.
    for _ in 0..100 {
        if imap.seen() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(imap.seen(), 2);

    channel
        .send(&OutboundMessage {
            idempotency_key: "reply-1".into(),
            session_key: SessionKey::new("s").unwrap(),
            channel: "mail".into(),
            text: "**Friday** it is.".into(),
            to: Some(Conversation::direct(ALICE)),
            reply_to: message.origin.message_id.clone(),
        })
        .await
        .expect("send");
    let sent = smtp.wait_for(1, Duration::from_secs(10)).await;
    let raw = &sent[0];
    assert!(raw.contains("Subject: Re: plans"), "{raw}");
    assert!(raw.contains("In-Reply-To: <t2@example.org>"), "{raw}");
    assert!(
        raw.contains("<t0@example.org> <t1@example.org> <t2@example.org>"),
        "{raw}"
    );
    assert!(raw.contains("Message-ID: <reply-1@hearth>"), "{raw}");
    assert_eq!(body(raw).trim(), "Friday it is.");
    shutdown.cancel();
}
