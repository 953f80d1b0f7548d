//! The Telegram channel end to end through the daemon, against the local
//! Bot API server that replays the documented payloads: pairing, typing
//! while the (slow) model answers, a group mention, a reply longer than
//! Telegram's 4096 limit, and an API outage mid-turn with the reply
//! delivered exactly once.

use std::time::Duration;

use hearth_testkit::servers::telegram::BotApi;
use serde_json::{Value, json};

use crate::common::slow_model::{Pace, SlowModel};
use crate::common::{Daemon, TestDir};

const TOKEN: &str = "424242:hearth-e2e-token";
const ALICE: i64 = 1001;
const TEAM: i64 = -100_500;
const WAIT: Duration = Duration::from_secs(20);

/// The texts sent to `chat` after the first `skip` messages.
fn texts_to(sent: &[Value], chat: i64) -> Vec<String> {
    sent.iter()
        .filter(|m| m["chat_id"] == json!(chat))
        .filter_map(|m| m["text"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_pairing_typing_groups_long_replies_and_outage() {
    let dir = TestDir::new("telegram");
    let mut api = BotApi::start(TOKEN).await;
    let model = SlowModel::start(Pace::Chunks {
        chunks: 3,
        min_ms: 400,
        max_ms: 600,
    })
    .await;
    let config = format!(
        "{}\n[channels.telegram]\ntype = \"telegram\"\ntoken = \"{TOKEN}\"\napi_url = \"{}\"\npoll_timeout_secs = 2\n",
        model.config("slow"),
        api.url()
    );
    let daemon = Daemon::start(dir.path(), &config).await;

    // Pairing: the code arrives in the private chat.
    api.private_message(ALICE, "Alice", "hi there");
    let sent = api.wait_sent(1, WAIT).await;
    let prompt = texts_to(&sent, ALICE).join("\n");
    let code = prompt
        .split_whitespace()
        .skip_while(|w| *w != "telegram")
        .nth(1)
        .unwrap_or_else(|| panic!("no code in {prompt:?}"))
        .to_owned();
    let mut client = daemon.client().await;
    client
        .request(
            "pairing.approve",
            json!({ "channel": "telegram", "code": code }),
        )
        .await
        .expect("pairing.approve");
    let sent = api.wait_sent(2, WAIT).await;
    assert!(texts_to(&sent, ALICE)[1].contains("approved"), "{sent:?}");

    // The answer, with "typing…" shown while the model works.
    api.private_message(ALICE, "Alice", "what is <b>bold</b> & why");
    let sent = api.wait_sent(3, WAIT).await;
    let answer = &sent[2];
    assert_eq!(answer["parse_mode"], "HTML");
    assert_eq!(
        answer["text"], "what is &lt;b&gt;bold&lt;/b&gt; &amp; why",
        "{answer}"
    );
    assert!(
        answer["reply_parameters"]["message_id"].is_number(),
        "{answer}"
    );
    let typing = api.chat_actions();
    assert!(
        typing
            .iter()
            .any(|a| a["action"] == "typing" && a["chat_id"] == json!(ALICE.to_string())),
        "{typing:?}"
    );

    // Groups: only the mention is answered.
    api.group_message(TEAM, ALICE, "Alice", "lunch anyone?", false);
    api.group_message(TEAM, ALICE, "Alice", "summarize please", true);
    let sent = api.wait_sent(4, WAIT).await;
    assert_eq!(texts_to(&sent, TEAM), vec!["summarize please"]);
    assert_eq!(model.requests().get("lunch anyone?"), None);

    // Over 4096 UTF-16 units: two messages, every word kept.
    let long: Vec<String> = (1..=900).map(|i| format!("w{i}")).collect();
    api.private_message(ALICE, "Alice", &long.join(" "));
    let sent = api.wait_sent(6, WAIT).await;
    let pieces: Vec<&Value> = sent[4..].iter().collect();
    assert_eq!(pieces.len(), 2, "{}", pieces.len());
    let words: Vec<String> = pieces
        .iter()
        .flat_map(|m| {
            m["text"]
                .as_str()
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(words, long);

    // The Bot API goes down while a turn runs: one reply once it is back.
    api.private_message(ALICE, "Alice", "survive the outage");
    tokio::time::sleep(Duration::from_millis(200)).await;
    api.restart(Duration::from_secs(2)).await;
    let sent = api.wait_sent(7, WAIT).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let replies: Vec<String> = texts_to(&api.sent(), ALICE)
        .into_iter()
        .filter(|t| t.contains("survive the outage"))
        .collect();
    assert_eq!(replies.len(), 1, "{sent:?}\n{}", daemon.log());
    assert_eq!(model.requests().get("survive the outage"), Some(&1));
    let status = client
        .request("channels.status", json!({}))
        .await
        .expect("status");
    assert_eq!(status["channels"][0]["health"]["state"], "up", "{status}");
    assert!(
        status["channels"][0]["health"]["reconnects"].as_u64() >= Some(1),
        "{status}"
    );
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_streams_a_preview_that_becomes_the_reply() {
    let dir = TestDir::new("telegram-previews");
    let api = BotApi::start(TOKEN).await;
    let model = SlowModel::start(Pace::Chunks {
        chunks: 4,
        min_ms: 800,
        max_ms: 900,
    })
    .await;
    let config = format!(
        "{}\n[channels.telegram]\ntype = \"telegram\"\ntoken = \"{TOKEN}\"\napi_url = \"{}\"\n\
         poll_timeout_secs = 2\nstream_previews = true\n\n[channels.telegram.access]\ndm = \"open\"\n",
        model.config("slow"),
        api.url()
    );
    let daemon = Daemon::start(dir.path(), &config).await;
    let question = "stream this answer while the model writes it";
    api.private_message(ALICE, "Alice", question);
    let deadline = tokio::time::Instant::now() + WAIT;
    // The bot's first message is the preview; edits grow it into the reply.
    let final_edit = || {
        api.edits()
            .last()
            .filter(|e| e["text"] == question)
            .and_then(|e| e["message_id"].as_i64())
    };
    while final_edit().is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no final reply: {:?} {:?}\n{}",
            api.sent(),
            api.edits(),
            daemon.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sent = api.sent();
    assert_eq!(
        texts_to(&sent, ALICE).len(),
        1,
        "one message, edited: {sent:?}"
    );
    let first = sent[0]["text"].as_str().unwrap_or_default();
    assert!(first.ends_with(" …"), "it started as a preview: {first:?}");
    let edits = api.edits();
    assert!(!edits.is_empty(), "{edits:?}");
    assert_eq!(edits.last().expect("an edit")["text"], question);
    let id = final_edit().expect("the final edit");
    assert_eq!(
        api.text_of(id).as_deref(),
        Some(question),
        "no late preview edit"
    );
    assert_eq!(model.requests().get(question), Some(&1));
}
