//! The IRC adapter against a real ngircd: the channel conformance suite,
//! and registration details (a taken nick) the suite does not cover.

#![cfg(feature = "irc")]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hearth_channels::irc::{IrcChannel, IrcConfig};
use hearth_testkit::conformance::{self, Peer, RecordingSink};
use hearth_testkit::servers::ngircd::{Ngircd, Person};

const BOT: &str = "hearthbot";
const ROOM: &str = "#conf";

fn config(port: u16) -> IrcConfig {
    serde_json::from_value(serde_json::json!({
        "server": format!("127.0.0.1:{port}"),
        "nick": BOT,
        "channels": [ROOM],
        "flood_interval_ms": 20,
        "max_line_bytes": 120,
    }))
    .expect("config")
}

/// Carol, on the same server.
struct IrcPeer {
    server: Ngircd,
    person: Person,
    in_room: bool,
}

impl IrcPeer {
    async fn join(&mut self) {
        // Join, then poll NAMES until the bot is listed too.
        self.person.send(&format!("JOIN {ROOM}")).await;
        for _ in 0..200 {
            self.person.send(&format!("NAMES {ROOM}")).await;
            let names = self
                .person
                .wait_for(|l| l.contains(" 353 ") || l.contains(" 366 "))
                .await;
            if names.contains(" 353 ") && names.contains(BOT) {
                self.person.wait_for(|l| l.contains(" 366 ")).await;
                self.in_room = true;
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the bot never joined {ROOM}");
    }
}

#[async_trait]
impl Peer for IrcPeer {
    fn sender_id(&self) -> String {
        self.person.nick.clone()
    }

    fn group_id(&self) -> Option<String> {
        Some(ROOM.into())
    }

    async fn send_direct(&mut self, text: &str) {
        self.person.say(BOT, text).await;
    }

    async fn send_group(&mut self, text: &str, mention: bool) {
        if !self.in_room {
            self.join().await;
        }
        let text = if mention {
            format!("{BOT}: {text}")
        } else {
            text.to_owned()
        };
        self.person.say(ROOM, &text).await;
    }

    async fn received(&mut self, limit: Duration) -> Option<String> {
        self.person.heard(limit).await.map(|said| said.text)
    }

    async fn restart_server(&mut self) -> bool {
        self.server.kill();
        self.server.restart().await;
        self.person = Person::connect(self.server.port, "carol").await;
        self.in_room = false;
        true
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn irc_passes_the_channel_conformance_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Ngircd::start(dir.path()).await;
    let channel = Arc::new(IrcChannel::new("irc", config(server.port)));
    let person = Person::connect(server.port, "carol").await;
    let mut peer = IrcPeer {
        server,
        person,
        in_room: false,
    };
    conformance::run(channel, &mut peer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_nick_gets_an_underscore() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Ngircd::start(dir.path()).await;
    let _squatter = Person::connect(server.port, BOT).await;
    let channel: Arc<IrcChannel> = Arc::new(IrcChannel::new("irc", config(server.port)));
    let sink = Arc::new(RecordingSink::default());
    let (shutdown, health) = conformance::run_channel(channel, sink.clone());
    let mut carol = Person::connect(server.port, "carol").await;
    // The bot registers as hearthbot_ and answers to that name.
    for _ in 0..200 {
        if health.get().state == hearth_core::HealthState::Up {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    carol.say(&format!("{BOT}_"), "are you the bot?").await;
    let got = sink.wait_for(1).await;
    assert_eq!(got[0].origin.sender.id, "carol");
    shutdown.cancel();
}
