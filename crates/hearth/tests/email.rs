//! The e-mail channel end to end through the daemon, Dovecot and an SMTP
//! sink: an allowed sender is answered in her thread, a stranger is not
//! (e-mail is allowlist only), and the IMAP server is killed and restarted
//! while a turn runs with the reply sent exactly once.

use std::time::Duration;

use hearth_testkit::servers::mail::{ADDRESS, Dovecot, PASSWORD, SmtpSink};

use crate::common::slow_model::{Pace, SlowModel};
use crate::common::{Daemon, TestDir};

fn mail(from: &str, id: &str, subject: &str, text: &str) -> String {
    format!(
        "From: {from}\nTo: {ADDRESS}\nSubject: {subject}\nMessage-ID: <{id}@example.org>\n\
         Content-Type: text/plain; charset=utf-8\n\n{text}\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_threads_replies_ignores_strangers_and_survives_imap_restart() {
    let dir = TestDir::new("email");
    let mut imap = Dovecot::start(&dir.path().join("imap")).await;
    let smtp = SmtpSink::start(&dir.path().join("smtp")).await;
    let model = SlowModel::start(Pace::Chunks {
        chunks: 3,
        min_ms: 400,
        max_ms: 600,
    })
    .await;
    let config = format!(
        "{}\n[channels.mail]\ntype = \"email\"\naddress = \"{ADDRESS}\"\n\
         imap_server = \"{}\"\nimap_security = \"plain\"\nsmtp_server = \"{}\"\nsmtp_security = \"plain\"\n\
         smtp_auth = false\nusername = \"{ADDRESS}\"\npassword = \"{PASSWORD}\"\n\
         [channels.mail.access]\ndm = \"allowlist\"\nallow_from = [\"alice@example.org\"]\n",
        model.config("slow"),
        imap.server(),
        smtp.server()
    );
    let _daemon = Daemon::start(&dir.path().join("hearth"), &config).await;

    // A stranger first: never answered, never computed.
    imap.deliver(&mail(
        "mallory@example.net",
        "x1",
        "hello",
        "are you a bot?",
    ));
    // Then Alice.
    imap.deliver(&mail(
        "Alice <alice@example.org>",
        "a1",
        "plans",
        "what about friday",
    ));
    let sent = smtp.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    let reply = &sent[0];
    assert!(reply.contains("To: alice@example.org"), "{reply}");
    assert!(reply.contains("Subject: Re: plans"), "{reply}");
    assert!(reply.contains("In-Reply-To: <a1@example.org>"), "{reply}");
    assert!(reply.contains("what about friday"), "{reply}");
    assert!(!model.requests().keys().any(|t| t.contains("are you a bot")));

    // The IMAP server dies while a turn runs: one reply, computed once.
    imap.deliver(&mail(
        "alice@example.org",
        "a2",
        "Re: plans",
        "survive the restart",
    ));
    // A first mail's subject leads its text: the model sees "Re: plans\n\n...".
    let computed = || -> u32 {
        model
            .requests()
            .iter()
            .filter(|(text, _)| text.contains("survive the restart"))
            .map(|(_, n)| *n)
            .sum()
    };
    for _ in 0..100 {
        if computed() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    imap.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    imap.restart().await;
    let sent = smtp.wait_for(2, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let all = smtp.messages();
    let replies = all
        .iter()
        .filter(|m| m.contains("survive the restart"))
        .count();
    assert_eq!(replies, 1, "{sent:?}");
    assert_eq!(computed(), 1);
}
