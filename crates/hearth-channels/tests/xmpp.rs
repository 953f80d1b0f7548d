//! The XMPP adapter against a real Prosody: the channel conformance
//! suite, with a second account (alice) on tokio-xmpp as the other person,
//! a one-to-one chat and a MUC room.

#![cfg(feature = "xmpp")]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use hearth_channels::xmpp::{XmppChannel, XmppConfig};
use hearth_testkit::conformance::{self, Peer};
use hearth_testkit::servers::prosody::{MUC, Prosody};
use tokio_xmpp::connect::DnsConfig;
use tokio_xmpp::jid::{BareJid, Jid};
use tokio_xmpp::parsers::message::{Lang, Message, MessageType};
use tokio_xmpp::parsers::muc::Muc;
use tokio_xmpp::parsers::presence::Presence;
use tokio_xmpp::xmlstream::Timeouts;
use tokio_xmpp::{Client, Event, Stanza};

fn room() -> String {
    format!("team@{MUC}")
}

fn config(server: &Prosody) -> XmppConfig {
    serde_json::from_value(serde_json::json!({
        "jid": "bot@localhost", "password": "botpass", "server": server.server(),
        "security": "plain", "rooms": [room()], "max_text": 300, "nick": "hearth",
    }))
    .expect("config")
}

/// Alice, logged in and present.
async fn alice(server: &Prosody) -> Client {
    let jid = BareJid::new("alice@localhost").expect("jid");
    let mut client = Client::new_plaintext(
        jid,
        "alicepass",
        DnsConfig::addr(&server.server()),
        Timeouts::default(),
    );
    loop {
        match tokio::time::timeout(Duration::from_secs(20), client.next()).await {
            Ok(Some(Event::Online { .. })) => break,
            Ok(Some(Event::Disconnected(e))) => panic!("alice cannot log in: {e}"),
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => panic!("alice got no session"),
        }
    }
    client
        .send_stanza(Presence::available().into())
        .await
        .expect("presence");
    client
}

struct XmppPeer {
    server: Prosody,
    client: Client,
    in_room: bool,
}

impl XmppPeer {
    async fn join(&mut self) {
        let occupant: Jid = format!("{}/alice", room()).parse().expect("occupant");
        let join = Presence::available()
            .with_to(occupant)
            .with_payload(Muc::new());
        self.client.send_stanza(join.into()).await.expect("join");
        // Wait until the bot is in the room too (its presence comes first
        // if it joined before us, else later).
        let bot: Jid = format!("{}/hearth", room()).parse().expect("bot occupant");
        tokio::time::timeout(Duration::from_secs(20), async {
            while let Some(event) = self.client.next().await {
                if let Event::Stanza(Stanza::Presence(p)) = event
                    && p.from.as_ref() == Some(&bot)
                {
                    return;
                }
            }
        })
        .await
        .expect("the bot never showed up in the room");
        self.in_room = true;
    }
}

#[async_trait]
impl Peer for XmppPeer {
    fn sender_id(&self) -> String {
        "alice@localhost".into()
    }

    fn group_sender_id(&self) -> String {
        format!("{}/alice", room())
    }

    fn group_id(&self) -> Option<String> {
        Some(room())
    }

    async fn send_direct(&mut self, text: &str) {
        let to: Jid = "bot@localhost".parse().expect("jid");
        let message = Message::chat(to).with_body(Lang::new(), text.to_owned());
        self.client
            .send_stanza(message.into())
            .await
            .expect("send chat");
    }

    async fn send_group(&mut self, text: &str, mention: bool) {
        if !self.in_room {
            self.join().await;
        }
        let text = if mention {
            format!("hearth: {text}")
        } else {
            text.to_owned()
        };
        let to: Jid = room().parse().expect("room");
        let message = Message::groupchat(to).with_body(Lang::new(), text);
        self.client
            .send_stanza(message.into())
            .await
            .expect("send groupchat");
    }

    async fn received(&mut self, limit: Duration) -> Option<String> {
        tokio::time::timeout(limit, async {
            while let Some(event) = self.client.next().await {
                let Event::Stanza(Stanza::Message(message)) = event else {
                    continue;
                };
                let from_bot = match message.type_ {
                    MessageType::Chat => message
                        .from
                        .as_ref()
                        .is_some_and(|f| f.to_bare().to_string() == "bot@localhost"),
                    MessageType::Groupchat => message
                        .from
                        .as_ref()
                        .and_then(|f| f.resource())
                        .is_some_and(|r| r.as_str() == "hearth"),
                    _ => false,
                };
                if from_bot && let Some((_, body)) = message.get_best_body_cloned(vec![]) {
                    return Some(body);
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
    }

    async fn restart_server(&mut self) -> bool {
        self.server.kill();
        self.server.restart().await;
        self.client = alice(&self.server).await;
        self.in_room = false;
        true
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xmpp_passes_the_channel_conformance_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Prosody::start(dir.path()).await;
    let channel = Arc::new(XmppChannel::new("xmpp", config(&server)));
    let client = alice(&server).await;
    let mut peer = XmppPeer {
        server,
        client,
        in_room: false,
    };
    conformance::run(channel, &mut peer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_stops_the_channel_for_good() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Prosody::start(dir.path()).await;
    let mut wrong = config(&server);
    wrong.password = "not-the-password".into();
    let channel = XmppChannel::new("xmpp", wrong);
    let context = hearth_core::ChannelContext {
        inbound: Arc::new(hearth_testkit::conformance::RecordingSink::default()),
        shutdown: tokio_util::sync::CancellationToken::new(),
        health: hearth_core::HealthCell::default(),
    };
    let error = tokio::time::timeout(
        Duration::from_secs(20),
        hearth_core::Channel::start(&channel, context),
    )
    .await
    .expect("login should fail fast")
    .unwrap_err();
    assert!(
        matches!(error, hearth_core::ChannelError::Permanent(_)),
        "{error:?}"
    );
}
