//! The Matrix adapter against a real Synapse: the channel conformance
//! suite with alice (a second account) in a direct chat and a group room,
//! then what it does not cover: the sync position kept across restarts,
//! the server's own dedupe of a repeated send, threads, an encrypted
//! message, and a refused login.

#![cfg(feature = "matrix")]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hearth_channels::files::FileStore;
use hearth_channels::matrix::{MatrixChannel, MatrixConfig};
use hearth_core::{Channel, ChannelError, ConversationKind, OutboundMessage, SessionKey};
use hearth_testkit::conformance::{self, Peer, RecordingSink};
use hearth_testkit::servers::synapse::{MatrixUser, RoomMessage, Synapse};
use serde_json::json;

const BOT: &str = "@hearth:localhost";
const STEP: Duration = Duration::from_secs(20);

fn config(server: &Synapse) -> MatrixConfig {
    serde_json::from_value(json!({
        "homeserver": server.url(), "user_id": BOT, "password": "hearthpass",
        "sync_timeout_secs": 2,
    }))
    .expect("config")
}

fn channel(server: &Synapse, dir: &std::path::Path) -> Arc<MatrixChannel> {
    channel_with(config(server), dir)
}

fn channel_with(config: MatrixConfig, dir: &std::path::Path) -> Arc<MatrixChannel> {
    Arc::new(MatrixChannel::new(
        "matrix",
        config,
        FileStore::new(dir.join("files"), 1024 * 1024),
        Some(dir.join("matrix-sync.json")),
    ))
}

/// A server with the bot's and alice's accounts, and alice logged in.
async fn setup(dir: &std::path::Path) -> (Synapse, MatrixUser) {
    let server = Synapse::start(&dir.join("synapse")).await;
    server.register("hearth", "hearthpass");
    server.register("alice", "alicepass");
    let alice = MatrixUser::login(&server, "alice", "alicepass").await;
    (server, alice)
}

/// The next messages from the bot, waiting up to `limit` for the first.
async fn from_bot(alice: &mut MatrixUser, limit: Duration) -> Vec<RoomMessage> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let got: Vec<_> = alice
            .sync(500)
            .await
            .into_iter()
            .filter(|m| m.sender == BOT)
            .collect();
        if !got.is_empty() || tokio::time::Instant::now() >= deadline {
            return got;
        }
    }
}

struct MatrixPeer {
    server: Synapse,
    alice: MatrixUser,
    dm: String,
    team: String,
    joined: bool,
    inbox: std::collections::VecDeque<String>,
}

impl MatrixPeer {
    async fn ensure_joined(&mut self) {
        if !self.joined {
            self.alice.wait_joined(&self.dm, BOT).await;
            self.alice.wait_joined(&self.team, BOT).await;
            self.joined = true;
        }
    }
}

#[async_trait]
impl Peer for MatrixPeer {
    fn sender_id(&self) -> String {
        "@alice:localhost".into()
    }

    fn group_id(&self) -> Option<String> {
        Some(self.team.clone())
    }

    async fn send_direct(&mut self, text: &str) {
        self.ensure_joined().await;
        let dm = self.dm.clone();
        self.alice.send_text(&dm, text).await;
    }

    async fn send_group(&mut self, text: &str, mention: bool) {
        self.ensure_joined().await;
        let content = if mention {
            // What Element sends for a pill: the name in the body, a link
            // in the HTML, and the intentional mention.
            json!({
                "msgtype": "m.text",
                "body": format!("hearth: {text}"),
                "format": "org.matrix.custom.html",
                "formatted_body": format!("<a href=\"https://matrix.to/#/{BOT}\">hearth</a>: {text}"),
                "m.mentions": { "user_ids": [BOT] },
            })
        } else {
            json!({ "msgtype": "m.text", "body": text, "m.mentions": {} })
        };
        let team = self.team.clone();
        self.alice.send(&team, content).await;
    }

    async fn received(&mut self, limit: Duration) -> Option<String> {
        if self.inbox.is_empty() {
            for message in from_bot(&mut self.alice, limit).await {
                let body = message.content["body"].as_str().unwrap_or_default();
                self.inbox.push_back(body.to_owned());
            }
        }
        self.inbox.pop_front()
    }

    async fn restart_server(&mut self) -> bool {
        self.server.kill();
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.server.restart().await;
        self.alice.reconnect(&self.server);
        true
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matrix_passes_the_channel_conformance_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, alice) = setup(dir.path()).await;
    let dm = alice.create_room("alice and hearth", &[BOT], true).await;
    let team = alice.create_room("team", &[BOT], false).await;
    let channel = channel(&server, dir.path());
    let mut peer = MatrixPeer {
        server,
        alice,
        dm,
        team,
        joined: false,
        inbox: Default::default(),
    };
    conformance::run(channel, &mut peer).await;
}

fn reply(key: &str, to: hearth_core::Conversation, text: &str) -> OutboundMessage {
    OutboundMessage {
        idempotency_key: key.into(),
        session_key: SessionKey::new("agent:main:matrix:x").expect("key"),
        channel: "matrix".into(),
        text: text.into(),
        to: Some(to),
        reply_to: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_position_survives_restarts_and_sends_are_deduplicated_by_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, mut alice) = setup(dir.path()).await;
    let dm = alice.create_room("dm", &[BOT], true).await;
    alice.send_text(&dm, "sent before the bot joined").await;

    // First run: joins, answers what came after the invitation.
    let first = channel(&server, dir.path());
    let sink = Arc::new(RecordingSink::default());
    let (stop, _) = conformance::run_channel(first.clone(), sink.clone());
    let got = sink.wait_for(1).await;
    assert_eq!(got[0].text, "sent before the bot joined");
    assert_eq!(got[0].origin.conversation.kind, ConversationKind::Direct);
    let conversation = got[0].origin.conversation.clone();

    // The same reply sent twice (a retry after a lost response): the
    // transaction id repeats, so the room shows it once.
    let answer = reply("run-1", conversation.clone(), "the **answer**");
    first.send(&answer).await.expect("send");
    first.send(&answer).await.expect("send again");
    let seen = from_bot(&mut alice, STEP).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let more = from_bot(&mut alice, Duration::from_millis(500)).await;
    assert_eq!(seen.len() + more.len(), 1, "{seen:?} {more:?}");
    assert_eq!(seen[0].content["body"], "the **answer**");
    assert_eq!(
        seen[0].content["formatted_body"],
        "<p>the <strong>answer</strong></p>"
    );
    first.typing(&conversation).await.expect("typing");
    // A message to the person (as pairing notices are addressed) goes to
    // their direct chat with the bot.
    let person = hearth_core::Conversation::direct("@alice:localhost");
    first
        .send(&reply("notice-1", person.clone(), "to alice herself"))
        .await
        .expect("send to a person");
    let seen = from_bot(&mut alice, STEP).await;
    assert_eq!(seen[0].room, dm, "{seen:?}");
    assert_eq!(seen[0].content["body"], "to alice herself");
    stop.cancel();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // While Hearth is away alice writes; the next run answers that only.
    alice.send_text(&dm, "written while hearth was down").await;
    let second = channel(&server, dir.path());
    let sink = Arc::new(RecordingSink::default());
    let (stop, _) = conformance::run_channel(second, sink.clone());
    let got = sink.wait_for(1).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let texts: Vec<String> = sink.messages().into_iter().map(|m| m.text).collect();
    assert_eq!(texts, ["written while hearth was down"], "{got:?}");
    assert_eq!(
        sink.messages()[0].origin.conversation.kind,
        ConversationKind::Direct,
        "the DM flag was kept"
    );
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn threads_replies_and_encrypted_rooms() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, mut alice) = setup(dir.path()).await;
    let team = alice.create_room("team", &[BOT], false).await;
    let channel = channel(&server, dir.path());
    let sink = Arc::new(RecordingSink::default());
    let (stop, health) = conformance::run_channel(channel.clone(), sink.clone());
    alice.wait_joined(&team, BOT).await;
    while health.get().state != hearth_core::HealthState::Up {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A question in a thread, addressed by name only.
    let root = alice.send_text(&team, "a topic").await;
    alice
        .send(
            &team,
            json!({
                "msgtype": "m.text", "body": "Hearth, what about this?",
                "m.relates_to": { "rel_type": "m.thread", "event_id": root },
            }),
        )
        .await;
    let got = sink.wait_for(2).await;
    assert!(!got[0].origin.mentioned, "{:?}", got[0]);
    let question = &got[1];
    assert!(question.origin.mentioned);
    assert_eq!(question.text, "what about this?");
    assert_eq!(
        question.origin.conversation.thread.as_deref(),
        Some(root.as_str())
    );

    // The answer goes into the thread, quoting the question.
    let mut answer = reply(
        "run-t",
        question.origin.conversation.clone(),
        "in the thread",
    );
    answer.reply_to = question.origin.message_id.clone();
    channel.send(&answer).await.expect("send");
    let seen = from_bot(&mut alice, STEP).await;
    let relation = &seen[0].content["m.relates_to"];
    assert_eq!(relation["rel_type"], "m.thread", "{seen:?}");
    assert_eq!(relation["event_id"], root.as_str());

    // A reply to the bot's message addresses it without its name.
    let bot_event = seen[0].event_id.clone();
    alice
        .send(
            &team,
            json!({
                "msgtype": "m.text", "body": "> <@hearth:localhost> in the thread\n\nand a follow-up",
                "m.relates_to": { "m.in_reply_to": { "event_id": bot_event } },
            }),
        )
        .await;
    let got = sink.wait_for(3).await;
    assert!(got[2].origin.mentioned, "{:?}", got[2]);
    assert_eq!(
        got[2].text, "and a follow-up",
        "the quoted fallback is dropped"
    );

    // To a person with no direct chat yet: one is made, with an invitation.
    channel
        .send(&reply(
            "notice-2",
            hearth_core::Conversation::direct("@alice:localhost"),
            "a new chat",
        ))
        .await
        .expect("send to a person");
    let deadline = tokio::time::Instant::now() + STEP;
    while alice.invites.is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "no invitation");
        alice.sync(500).await;
    }
    let new_room = alice.invites[0].clone();
    assert_ne!(new_room, team);
    alice.join(&new_room).await;
    let seen = from_bot(&mut alice, STEP).await;
    assert!(
        seen.iter()
            .any(|m| m.room == new_room && m.content["body"] == "a new chat"),
        "{seen:?}"
    );

    // An end-to-end encrypted message cannot be read: the room is told.
    alice
        .send_event(
            &team,
            "m.room.encrypted",
            json!({ "algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgA", "sender_key": "k", "session_id": "s", "device_id": "D" }),
        )
        .await;
    let notice = from_bot(&mut alice, STEP).await;
    assert_eq!(notice[0].content["msgtype"], "m.notice", "{notice:?}");
    let body = notice[0].content["body"].as_str().unwrap_or_default();
    assert!(body.contains("encrypted"), "{body}");
    assert_eq!(sink.messages().len(), 3, "nothing was recorded for it");
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streaming_previews_edit_one_message_into_the_reply() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, mut alice) = setup(dir.path()).await;
    let dm = alice.create_room("dm", &[BOT], true).await;
    let mut with_previews = config(&server);
    with_previews.stream_previews = true;
    let channel = channel_with(with_previews, dir.path());
    assert!(channel.previews());
    let sink = Arc::new(RecordingSink::default());
    let (stop, _) = conformance::run_channel(channel.clone(), sink.clone());
    alice.wait_joined(&dm, BOT).await;
    let room = hearth_core::Conversation::direct(dm.clone());

    channel
        .preview(&room, "run-p", "Hello")
        .await
        .expect("preview");
    channel
        .preview(&room, "run-p", "Hello there")
        .await
        .expect("edit");
    channel
        .send(&reply("run-p", room.clone(), "Hello there, **done**"))
        .await
        .expect("send");
    // A preview arriving after the reply is dropped, not posted.
    channel.preview(&room, "run-p", "late").await.expect("late");

    let mut events = from_bot(&mut alice, STEP).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    events.extend(from_bot(&mut alice, Duration::from_millis(500)).await);
    assert_eq!(events.len(), 3, "a preview and two edits: {events:?}");
    assert_eq!(events[0].content["body"], "Hello …");
    for edit in &events[1..] {
        assert_eq!(edit.content["m.relates_to"]["rel_type"], "m.replace");
        assert_eq!(
            edit.content["m.relates_to"]["event_id"],
            events[0].event_id.as_str()
        );
    }
    assert_eq!(events[1].content["m.new_content"]["body"], "Hello there …");
    let last = &events[2].content["m.new_content"];
    assert_eq!(last["body"], "Hello there, **done**");
    assert_eq!(
        last["formatted_body"],
        "<p>Hello there, <strong>done</strong></p>"
    );
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_stops_the_channel_for_good() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, _alice) = setup(dir.path()).await;
    let mut wrong = config(&server);
    wrong.password = Some("not-the-password".into());
    let channel = MatrixChannel::new("matrix", wrong, FileStore::new(dir.path(), 1), None);
    let context = hearth_core::ChannelContext {
        inbound: Arc::new(RecordingSink::default()),
        shutdown: tokio_util::sync::CancellationToken::new(),
        health: hearth_core::HealthCell::default(),
    };
    let error = tokio::time::timeout(STEP, channel.start(context))
        .await
        .expect("login should fail fast")
        .unwrap_err();
    assert!(matches!(error, ChannelError::Permanent(_)), "{error:?}");
}
