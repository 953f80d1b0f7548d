//! Tools end to end through the daemon, with a scripted model behind the
//! real OpenAI provider: the same script gives the same answer over the
//! WebSocket protocol and over IRC (through a real ngircd), tool activity
//! streams as events while the chat gets only the answer, and a shell
//! command under the `ask` policy runs after an operator approves it with
//! `hearth approvals`, and is refused when nobody answers.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::tool_model::ToolModel;
use crate::common::{Daemon, TestDir, hearth_bin};
use hearth_testkit::servers::ngircd::{Ngircd, Person};

const REPLY: Duration = Duration::from_secs(20);

async fn ask(daemon: &Daemon, session: &str, text: &str) -> (Value, Vec<Value>) {
    let mut client = daemon.client().await;
    let params = json!({
        "message": text,
        "agentId": "main",
        "sessionKey": session,
        "idempotencyKey": uuid::Uuid::new_v4().to_string(),
    });
    let answer = tokio::time::timeout(
        Duration::from_secs(60),
        client.request_final("agent", params),
    )
    .await
    .expect("an answer in time")
    .expect("agent");
    let mut tool_events = Vec::new();
    while let Ok(event) = client.next_event(Duration::from_millis(300)).await {
        if event.name == "agent" && event.payload["stream"] == "tool" {
            tool_events.push(event.payload["data"].clone());
        }
    }
    client.close().await;
    (answer, tool_events)
}

fn answer_text(answer: &Value) -> String {
    answer["result"]["payloads"][0]["text"]
        .as_str()
        .or_else(|| answer["text"].as_str())
        .unwrap_or_else(|| panic!("no text in {answer}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_script_gives_the_same_answer_on_websocket_and_irc() {
    let dir = TestDir::new("tools-channels");
    let server = Ngircd::start(&dir.path().join("ngircd")).await;
    let model = ToolModel::start().await;
    let config = format!(
        "{}\n[channels.irc]\ntype = \"irc\"\nserver = \"127.0.0.1:{}\"\nnick = \"hearth\"\n\
         flood_interval_ms = 50\n[channels.irc.access]\ndm = \"allowlist\"\nallow_from = [\"alice\"]\n",
        model.config("script"),
        server.port
    );
    let daemon = Daemon::start(&dir.path().join("hearth"), &config).await;
    let workspace = daemon.data_dir().join("agents").join("main");
    std::fs::create_dir_all(&workspace).unwrap();
    std::fs::write(workspace.join("notes.txt"), "The code word is heron.").unwrap();

    let (answer, events) = ask(&daemon, "agent:main:ws", "read notes.txt").await;
    let over_ws = answer_text(&answer);
    assert_eq!(over_ws, "The tool said: The code word is heron.");
    let phases: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                e["phase"].as_str().unwrap_or("").to_owned(),
                e["name"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        phases,
        [
            ("start".to_owned(), "read_file".to_owned()),
            ("result".to_owned(), "read_file".to_owned())
        ],
        "{events:?}"
    );
    assert_eq!(events[0]["args"], json!({ "path": "notes.txt" }));
    assert_eq!(events[1]["isError"], false);

    let mut alice = Person::connect(server.port, "alice").await;
    alice.say("hearth", "read notes.txt").await;
    let reply = alice.heard(REPLY).await.expect("a reply over IRC");
    assert_eq!(reply.text, over_ws, "{}", daemon.log());
    // Only the answer reaches the chat: no call, no raw JSON.
    assert_eq!(alice.heard(Duration::from_secs(2)).await, None);
    // Both turns were offered the same tools, read_file among them.
    let offered = model.offered();
    assert_eq!(offered.len(), 4, "{offered:?}");
    assert!(offered[0].contains(&"read_file".to_owned()), "{offered:?}");
    assert_eq!(offered[0], offered[2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_runs_after_an_operator_approves_it_and_not_when_nobody_answers() {
    let dir = TestDir::new("tools-approvals");
    let model = ToolModel::start().await;
    let config = format!(
        "{}\n[tools]\napproval_timeout_secs = 5\n[tools.exec]\npolicy = \"ask\"\n",
        model.config("script")
    );
    let daemon = Daemon::start(&dir.path().join("hearth"), &config).await;
    let workspace = daemon.data_dir().join("agents").join("main");

    // An operator connection sees the request as an event.
    let mut operator = daemon.client().await;
    let mut client = daemon.client().await;
    let asking = tokio::spawn({
        let session = "agent:main:ops".to_owned();
        async move {
            let params = json!({
                "message": "run touch approved.txt",
                "agentId": "main",
                "sessionKey": session,
                "idempotencyKey": "approve-1",
            });
            client.request_final("agent", params).await.expect("agent")
        }
    });
    let request = loop {
        let event = operator
            .next_event(REPLY)
            .await
            .expect("an approval request");
        if event.name == "exec.approval.requested" {
            break event.payload;
        }
    };
    assert_eq!(request["command"], "touch approved.txt");
    assert_eq!(request["tool"], "exec");
    assert!(
        !workspace.join("approved.txt").exists(),
        "nothing runs before approval"
    );
    let listed = std::process::Command::new(hearth_bin())
        .arg("--config")
        .arg(&daemon.config_path)
        .args(["approvals", "list"])
        .output()
        .expect("hearth approvals list");
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    let id = request["id"].as_str().unwrap();
    assert!(
        listed.contains(id) && listed.contains("touch approved.txt"),
        "{listed}"
    );
    let out = std::process::Command::new(hearth_bin())
        .arg("--config")
        .arg(&daemon.config_path)
        .args(["approvals", "approve", id])
        .output()
        .expect("hearth approvals approve");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer = tokio::time::timeout(Duration::from_secs(30), asking)
        .await
        .expect("answer in time")
        .unwrap();
    assert!(
        answer_text(&answer).starts_with("The tool said: exit code: 0"),
        "{answer}"
    );
    assert!(workspace.join("approved.txt").exists());
    let resolved = loop {
        let event = operator.next_event(REPLY).await.expect("the resolution");
        if event.name == "exec.approval.resolved" {
            break event.payload;
        }
    };
    assert_eq!(resolved["decision"]["decision"], "approved");

    // Nobody answers within 5 s: refused, and the model is told so.
    let (answer, _) = ask(&daemon, "agent:main:ops", "run touch expired.txt").await;
    let text = answer_text(&answer);
    assert!(
        text.contains("refused: no operator approved this command within 5 s"),
        "{text}"
    );
    assert!(!workspace.join("expired.txt").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_tools_remember_and_find_with_the_real_embedder() {
    let dir = TestDir::new("tools-memory");
    let model = ToolModel::start().await;
    let daemon = Daemon::start(&dir.path().join("hearth"), &model.config("script")).await;
    let (answer, _) = ask(
        &daemon,
        "agent:main:mem",
        r#"call memory_remember {"text":"The spare key is under the blue flower pot.","tags":["house"]}"#,
    )
    .await;
    let text = answer_text(&answer);
    assert!(text.starts_with("The tool said: Remembered as #"), "{text}");
    let (answer, _) = ask(
        &daemon,
        "agent:main:mem",
        r#"call memory_search {"query":"where did I hide the key"}"#,
    )
    .await;
    let text = answer_text(&answer);
    assert!(text.contains("under the blue flower pot"), "{text}");
    // Stored with who asked and where, like any memory.
    let mut client = daemon.client().await;
    let listed = client
        .request("memory.list", json!({}))
        .await
        .expect("memory.list");
    let item = listed["items"]
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .find(|i| i["text"] == "The spare key is under the blue flower pot.")
        })
        .unwrap_or_else(|| panic!("not listed: {listed}"))
        .clone();
    assert_eq!(item["channel"], "gateway", "{item}");
    assert_eq!(item["session"], "agent:main:mem", "{item}");
    // A bad id is the model's mistake, reported to it.
    let (answer, _) = ask(
        &daemon,
        "agent:main:mem",
        r#"call memory_forget {"id":999999}"#,
    )
    .await;
    assert!(
        answer_text(&answer).contains("error: invalid arguments: no memory 999999"),
        "{answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_servers_tools_reach_the_agent_with_the_server_prefix() {
    let dir = TestDir::new("tools-mcp");
    let model = ToolModel::start().await;
    let mcp_dir = std::env::var_os("HEARTH_MCP_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/hearth/mcp")
        });
    let server = mcp_dir.join("bin/mcp-server-everything");
    assert!(
        server.exists(),
        "{} is missing: run scripts/install-mcp-servers.sh",
        server.display()
    );
    let config = format!(
        "{}\n[mcp.servers.everything]\ncommand = {:?}\nallow = [\"echo\", \"get-sum\"]\n",
        model.config("script"),
        server.display().to_string()
    );
    let daemon = Daemon::start(&dir.path().join("hearth"), &config).await;
    // The server connects in the background: ask until its tool is there.
    let mut text = String::new();
    for _ in 0..60 {
        let (answer, _) = ask(
            &daemon,
            "agent:main:mcp",
            r#"call everything__echo {"message":"hello there"}"#,
        )
        .await;
        text = answer_text(&answer);
        if text.starts_with("The tool said:") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(text, "The tool said: Echo: hello there", "{}", daemon.log());
    let offered = model.offered();
    let last = offered.last().unwrap();
    assert!(last.contains(&"everything__echo".to_owned()), "{last:?}");
    // The allowlist hides the server's other tools.
    assert!(last.contains(&"everything__get-sum".to_owned()), "{last:?}");
    assert!(
        !last.contains(&"everything__get-tiny-image".to_owned()),
        "{last:?}"
    );
}
