//! The Matrix channel end to end through the daemon and a real Synapse:
//! alice invites the bot to a direct chat, gets a pairing code, is
//! approved, is answered (HTML and markdown body, quoting her message),
//! is answered in a group room only when she mentions the bot, gets a
//! reply longer than one event in pieces, and the homeserver is killed
//! and restarted mid-turn with the reply arriving exactly once.

use std::time::Duration;

use hearth_testkit::servers::synapse::{MatrixUser, RoomMessage, Synapse};
use serde_json::json;

use crate::common::slow_model::{Pace, SlowModel};
use crate::common::{Daemon, TestDir};

const BOT: &str = "@hearth:localhost";
const WAIT: Duration = Duration::from_secs(20);

/// The bot's messages, waiting up to `limit` for the first and taking
/// what follows within a second.
async fn hear(alice: &mut MatrixUser, limit: Duration) -> Vec<RoomMessage> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut got = Vec::new();
    loop {
        let new: Vec<_> = alice
            .sync(1000)
            .await
            .into_iter()
            .filter(|m| m.sender == BOT)
            .collect();
        let quiet = new.is_empty();
        got.extend(new);
        if (quiet && !got.is_empty()) || tokio::time::Instant::now() >= deadline {
            return got;
        }
    }
}

fn bodies(messages: &[RoomMessage]) -> Vec<String> {
    messages
        .iter()
        .map(|m| m.content["body"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matrix_pairing_rooms_long_replies_and_server_restart() {
    let dir = TestDir::new("matrix");
    let mut server = Synapse::start(&dir.path().join("synapse")).await;
    server.register("hearth", "hearthpass");
    server.register("alice", "alicepass");
    let model = SlowModel::start(Pace::Chunks {
        chunks: 3,
        min_ms: 400,
        max_ms: 600,
    })
    .await;
    let config = format!(
        "{}\n[channels.matrix]\ntype = \"matrix\"\nhomeserver = \"{}\"\nuser_id = \"{BOT}\"\n\
         password = \"hearthpass\"\nsync_timeout_secs = 2\n",
        model.config("slow"),
        server.url()
    );
    let daemon = Daemon::start(&dir.path().join("hearth"), &config).await;
    let mut client = daemon.client().await;
    let mut alice = MatrixUser::login(&server, "alice", "alicepass").await;

    // Pairing, in a direct chat alice opens.
    let dm = alice.create_room("alice and hearth", &[BOT], true).await;
    alice.wait_joined(&dm, BOT).await;
    alice.send_text(&dm, "hello bot").await;
    let prompt = bodies(&hear(&mut alice, WAIT).await).join("\n");
    let code = prompt
        .split_whitespace()
        .skip_while(|w| *w != "matrix")
        .nth(1)
        .unwrap_or_else(|| panic!("no code in {prompt:?}\n{}", daemon.log()))
        .to_owned();
    client
        .request(
            "pairing.approve",
            json!({ "channel": "matrix", "code": code }),
        )
        .await
        .expect("approve");
    let welcome = bodies(&hear(&mut alice, WAIT).await).join("\n");
    assert!(welcome.contains("approved"), "{welcome}");

    // An answer: markdown body, HTML beside it, quoting the question.
    let question = alice.send_text(&dm, "is *this* <ok>?").await;
    let answer = hear(&mut alice, WAIT).await;
    assert_eq!(bodies(&answer), ["is *this* <ok>?"]);
    let content = &answer[0].content;
    assert_eq!(
        content["formatted_body"],
        "<p>is <em>this</em> &lt;ok&gt;?</p>"
    );
    assert_eq!(
        content["m.relates_to"]["m.in_reply_to"]["event_id"],
        question.as_str()
    );

    // A group room: only a mention is answered.
    let team = alice.create_room("team", &[BOT], false).await;
    alice.wait_joined(&team, BOT).await;
    alice.send_text(&team, "random chatter").await;
    alice
        .send(
            &team,
            json!({ "msgtype": "m.text", "body": "hearth: room question",
                    "m.mentions": { "user_ids": [BOT] } }),
        )
        .await;
    let answer = hear(&mut alice, WAIT).await;
    assert_eq!(bodies(&answer), ["room question"]);
    assert_eq!(answer[0].room, team);
    assert_eq!(model.requests().get("random chatter"), None);

    // Longer than one event (16 000 bytes): pieces, every word in order.
    let long: Vec<String> = (1..=3000).map(|i| format!("w{i}")).collect();
    alice.send_text(&dm, &long.join(" ")).await;
    let mut words = Vec::new();
    let mut pieces = 0;
    while words.len() < long.len() {
        let got = hear(&mut alice, WAIT).await;
        assert!(!got.is_empty(), "reply incomplete: {} words", words.len());
        for body in bodies(&got) {
            assert!(body.len() <= 16_000, "{} bytes", body.len());
            pieces += 1;
            words.extend(body.split_whitespace().map(str::to_owned));
        }
    }
    assert!(pieces > 1, "one piece of {} words", words.len());
    assert_eq!(words, long);

    // The homeserver dies mid-turn and comes back: one answer, one call.
    alice.send_text(&dm, "survive the restart").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.restart().await;
    alice.reconnect(&server);
    let mut answers = Vec::new();
    loop {
        let got = hear(&mut alice, Duration::from_secs(8)).await;
        if got.is_empty() {
            break;
        }
        answers.extend(bodies(&got));
    }
    let count = answers
        .iter()
        .filter(|t| t.contains("survive the restart"))
        .count();
    assert_eq!(count, 1, "{answers:?}\n{}", daemon.log());
    assert_eq!(model.requests().get("survive the restart"), Some(&1));
    client.close().await;
}
