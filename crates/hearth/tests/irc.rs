//! The IRC channel end to end against a real ngircd: a second account
//! talks to the daemon through the server. Pairing of an unknown sender,
//! the reply through the (slow, streaming) model, group mention gating, a
//! long reply cut into lines, and an IRC server restart mid-turn with the
//! reply delivered exactly once.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::slow_model::{Pace, SlowModel};
use crate::common::{Daemon, TestDir, hearth_bin};
use hearth_testkit::servers::ngircd::{Ngircd, Person, Said};

/// Time for a whole turn with the slow model and flood pacing.
const REPLY: Duration = Duration::from_secs(20);

fn irc_config(port: u16) -> String {
    format!(
        "[channels.irc]\ntype = \"irc\"\nserver = \"127.0.0.1:{port}\"\nnick = \"hearth\"\n\
         channels = [\"#hearth\"]\nflood_interval_ms = 50\nmax_line_bytes = 64\n"
    )
}

/// The daemon's view of its channels.
async fn channel_health(daemon: &Daemon) -> Value {
    let mut client = daemon.client().await;
    let status = client
        .request("channels.status", json!({}))
        .await
        .expect("channels.status");
    client.close().await;
    status["channels"][0]["health"].clone()
}

/// Waits until the IRC channel reports `up`, with more than `reconnects`.
async fn wait_up(daemon: &Daemon, reconnects: u64) -> Value {
    for _ in 0..300 {
        let health = channel_health(daemon).await;
        if health["state"] == "up" && health["reconnects"].as_u64() >= Some(reconnects) {
            return health;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the IRC channel did not come up: {}",
        channel_health(daemon).await
    );
}

/// Everything `person` hears until `limit` passes with nothing new.
async fn drain(person: &mut Person, limit: Duration) -> Vec<Said> {
    let mut heard = Vec::new();
    while let Some(said) = person.heard(limit).await {
        heard.push(said);
    }
    heard
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn irc_pairing_replies_mentions_chunking_and_server_restart() {
    let dir = TestDir::new("irc");
    let mut server = Ngircd::start(&dir.path().join("ngircd")).await;
    let model = SlowModel::start(Pace::Chunks {
        chunks: 3,
        min_ms: 300,
        max_ms: 500,
    })
    .await;
    let config = format!("{}\n{}", model.config("slow"), irc_config(server.port));
    let daemon = Daemon::start(&dir.path().join("hearth"), &config).await;
    wait_up(&daemon, 0).await;

    // An unknown sender gets a pairing code, and nothing reaches the model.
    let mut alice = Person::connect(server.port, "alice").await;
    alice.say("hearth", "hello, who are you?").await;
    let prompt = alice.heard(REPLY).await.expect("a pairing prompt");
    assert_eq!(
        (prompt.from.as_str(), prompt.target.as_str()),
        ("hearth", "alice")
    );
    let mut lines = vec![prompt.text];
    lines.extend(
        drain(&mut alice, Duration::from_millis(500))
            .await
            .into_iter()
            .map(|s| s.text),
    );
    let command = lines
        .iter()
        .find(|l| l.contains("hearth pairing approve irc"))
        .unwrap_or_else(|| panic!("no approve command in {lines:?}"));
    let code = command.split_whitespace().last().unwrap().to_owned();
    assert_eq!(code.len(), 8, "{command}");
    // Writing again does not issue a second code.
    alice.say("hearth", "are you there?").await;
    assert_eq!(alice.heard(Duration::from_secs(2)).await, None);
    assert!(model.requests().is_empty(), "{:?}", model.requests());

    // The operator approves through the CLI, which talks to the daemon.
    let out = std::process::Command::new(hearth_bin())
        .args(["--config"])
        .arg(&daemon.config_path)
        .args(["pairing", "approve", "irc", &code.to_lowercase()])
        .output()
        .expect("run hearth pairing approve");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("approved alice"));
    let welcome = alice.heard(REPLY).await.expect("an approval notice");
    assert!(welcome.text.contains("approved"), "{welcome:?}");

    // Now the model answers her, in a query.
    alice.say("hearth", "what is a hearth").await;
    let reply = alice.heard(REPLY).await.expect("a reply");
    assert_eq!(reply.target, "alice");
    assert!(reply.text.contains("what is a hearth"), "{reply:?}");

    // In the channel, only a mention is answered.
    alice.send("JOIN #hearth").await;
    alice.wait_for(|l| l.contains(" 366 ")).await; // end of NAMES
    alice.say("#hearth", "just chatting among ourselves").await;
    alice.say("#hearth", "hearth: summarize the room").await;
    let answer = alice.heard(REPLY).await.expect("a group reply");
    assert_eq!(answer.target, "#hearth");
    assert!(answer.text.contains("summarize the room"), "{answer:?}");
    assert_eq!(model.requests().get("just chatting among ourselves"), None);

    // A reply longer than a line (64 bytes here) arrives as several lines,
    // in order, with every word.
    let long: Vec<String> = (1..=40).map(|i| format!("word{i}")).collect();
    alice.say("hearth", &long.join(" ")).await;
    let mut pieces = vec![alice.heard(REPLY).await.expect("a long reply").text];
    pieces.extend(
        drain(&mut alice, Duration::from_secs(2))
            .await
            .into_iter()
            .map(|s| s.text),
    );
    assert!(pieces.len() >= 5, "{pieces:?}");
    assert!(pieces.iter().all(|p| p.len() <= 64), "{pieces:?}");
    let words: Vec<String> = pieces
        .join(" ")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(words, long);

    // The IRC server restarts while a turn runs: the reply still arrives,
    // exactly once, and the message was computed once.
    alice.say("hearth", "survive the restart").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill();
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.restart().await;
    let mut alice = Person::connect(server.port, "alice").await;
    let health = wait_up(&daemon, 1).await;
    assert!(health["reconnects"].as_u64() >= Some(1), "{health}");
    let heard = drain(&mut alice, Duration::from_secs(6)).await;
    let replies: Vec<&Said> = heard
        .iter()
        .filter(|s| s.text.contains("survive the restart"))
        .collect();
    assert_eq!(replies.len(), 1, "{heard:?}\n{}", daemon.log());
    assert_eq!(model.requests().get("survive the restart"), Some(&1));

    // /metrics shows the channel up.
    let metrics = reqwest::get(format!("http://127.0.0.1:{}/metrics", daemon.port))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics body");
    assert!(
        metrics.contains("hearth_channel_up{channel=\"irc\",type=\"irc\"} 1"),
        "{metrics}"
    );
}
