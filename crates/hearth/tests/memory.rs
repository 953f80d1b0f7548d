//! The daemon's memory end to end, with the real embedding model: the
//! `memory.*` methods and `hearth memory`, recall into a turn, flushing of
//! turns that leave a small context window, Markdown import, and the
//! schema-validated knowledge graph.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Daemon, TestDir, hearth_bin};

async fn call(daemon: &Daemon, method: &str, params: Value) -> Value {
    let mut client = daemon.client().await;
    client
        .request(method, params)
        .await
        .unwrap_or_else(|e| panic!("{method}: {e}\n{}", daemon.log()))
}

async fn call_err(daemon: &Daemon, method: &str, params: Value) -> String {
    let mut client = daemon.client().await;
    match client.request(method, params).await {
        Ok(answer) => panic!("{method} should fail, answered {answer}"),
        Err(e) => e.to_string(),
    }
}

async fn ask(daemon: &Daemon, session: &str, text: &str) {
    let mut client = daemon.client().await;
    let params = json!({
        "message": text,
        "agentId": "main",
        "sessionKey": session,
        "idempotencyKey": uuid::Uuid::new_v4().to_string(),
    });
    tokio::time::timeout(
        Duration::from_secs(60),
        client.request_final("agent", params),
    )
    .await
    .expect("an answer in time")
    .expect("agent");
}

/// Polls `check` until it holds, or fails after 15 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn memories_are_added_searched_recalled_and_removed() {
    let dir = TestDir::new("memory-api");
    let daemon = Daemon::start(dir.path(), "").await;
    let added = call(
        &daemon,
        "memory.add",
        json!({ "text": "The user's dog is a beagle named Rex.", "tags": ["pets"] }),
    )
    .await;
    let id = added["ids"][0].as_i64().expect("an id");
    call(
        &daemon,
        "memory.add",
        json!({ "text": "The electricity meter is read in March." }),
    )
    .await;

    let hits = call(
        &daemon,
        "memory.search",
        json!({ "query": "what is my dog called" }),
    )
    .await;
    assert_eq!(hits["hits"][0]["item"]["id"], id, "{hits}");
    let tagged = call(
        &daemon,
        "memory.search",
        json!({ "query": "meter", "tags": ["pets"] }),
    )
    .await;
    assert!(
        tagged["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["item"]["id"] == id)
    );

    // A turn about the dog recalls the memory (and marks it recalled).
    ask(
        &daemon,
        "agent:main:recall",
        "Remind me, what is my dog's name?",
    )
    .await;
    let item = call(&daemon, "memory.get", json!({ "id": id })).await;
    assert_eq!(item["item"]["recalls"], 1, "{item}");

    // Bad input: a clear error, nothing written.
    let before = call(&daemon, "memory.stats", json!({})).await["longTerm"]["items"].clone();
    let error = call_err(
        &daemon,
        "memory.add",
        json!({ "text": "x", "importance": 3 }),
    )
    .await;
    assert!(error.contains("importance"), "{error}");
    let error = call_err(
        &daemon,
        "memory.add",
        json!({ "text": "x", "colour": "red" }),
    )
    .await;
    assert!(error.contains("unknown field"), "{error}");
    let error = call_err(
        &daemon,
        "memory.search",
        json!({ "query": "x", "agentId": "nobody" }),
    )
    .await;
    assert!(error.contains("unknown agent"), "{error}");
    assert_eq!(
        call(&daemon, "memory.stats", json!({})).await["longTerm"]["items"],
        before
    );

    call(&daemon, "memory.remove", json!({ "id": id })).await;
    let error = call_err(&daemon, "memory.get", json!({ "id": id })).await;
    assert!(error.contains("no memory"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn turns_leaving_a_small_window_are_flushed_to_memory() {
    let dir = TestDir::new("memory-flush");
    let daemon = Daemon::start(
        dir.path(),
        "[agents.main]\nmodel = \"echo\"\ncontext_tokens = 400\n",
    )
    .await;
    for n in 0..6 {
        let text = format!(
            "fact {n}: the locker code is {}{}",
            n * 1111,
            " and more".repeat(25)
        );
        ask(&daemon, "agent:main:flush", &text).await;
    }
    let listed = call(
        &daemon,
        "memory.list",
        json!({ "kinds": ["conversation"], "session": "agent:main:flush" }),
    )
    .await;
    let items = listed["items"].as_array().unwrap().clone();
    assert!(!items.is_empty(), "early turns were flushed: {listed}");
    let oldest = items.last().unwrap();
    assert!(
        oldest["text"].as_str().unwrap().starts_with("User: fact 0"),
        "{oldest}"
    );
    assert!(
        oldest["text"].as_str().unwrap().contains("Assistant:"),
        "{oldest}"
    );
    // Each turn is stored once, however many turns it stays out of the window.
    let mut texts: Vec<&str> = items.iter().map(|i| i["text"].as_str().unwrap()).collect();
    let count = texts.len();
    texts.dedup();
    assert_eq!(texts.len(), count, "no turn flushed twice");
}

#[tokio::test(flavor = "multi_thread")]
async fn workspace_markdown_is_imported_and_the_graph_validates_writes() {
    let dir = TestDir::new("memory-files");
    let workspace = dir.path().join("state/agents/main");
    std::fs::create_dir_all(workspace.join("schemas")).unwrap();
    std::fs::write(
        workspace.join("MEMORY.md"),
        "# Notes\n\nThe boat is moored at pier 7 in Kiel.\n",
    )
    .unwrap();
    std::fs::write(
        workspace.join("schemas/Person.json"),
        r#"{"title": "Person", "type": "object", "x-hearth": {"kind": "entity", "key": ["name"]},
            "required": ["name"], "additionalProperties": false,
            "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}}"#,
    )
    .unwrap();
    std::fs::write(
        workspace.join("schemas/Knows.json"),
        r#"{"title": "Knows", "type": "object", "x-hearth": {"kind": "relation", "from": "Person", "to": "Person"}}"#,
    )
    .unwrap();
    let daemon = Daemon::start(dir.path(), "").await;
    eventually("MEMORY.md to be imported", || async {
        let hits = call(
            &daemon,
            "memory.search",
            json!({ "query": "where is the boat" }),
        )
        .await;
        hits["hits"][0]["item"]["source"] == "file:MEMORY.md"
    })
    .await;
    // An edit is picked up by the watcher.
    std::fs::write(
        workspace.join("MEMORY.md"),
        "The boat moved to pier 9 in Flensburg.\n",
    )
    .unwrap();
    eventually("the edit to be re-imported", || async {
        let hits = call(
            &daemon,
            "memory.search",
            json!({ "query": "where is the boat" }),
        )
        .await;
        hits["hits"][0]["item"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("Flensburg"))
    })
    .await;

    call(
        &daemon,
        "memory.graph.upsert",
        json!({ "type": "Person", "props": { "name": "Ada", "age": 36 } }),
    )
    .await;
    call(
        &daemon,
        "memory.graph.upsert",
        json!({ "type": "Person", "props": { "name": "Bob" } }),
    )
    .await;
    let error = call_err(
        &daemon,
        "memory.graph.upsert",
        json!({ "type": "Person", "props": { "name": "Eve", "age": "old" } }),
    )
    .await;
    assert!(error.contains("/age"), "the error names the field: {error}");
    let listed = call(&daemon, "memory.graph.list", json!({ "type": "Person" })).await;
    assert_eq!(
        listed["entities"].as_array().unwrap().len(),
        2,
        "nothing written: {listed}"
    );
    call(
        &daemon,
        "memory.graph.relate",
        json!({ "type": "Knows", "from": { "type": "Person", "key": "Ada" }, "to": { "type": "Person", "key": "Bob" } }),
    )
    .await;
    let around = call(
        &daemon,
        "memory.graph.neighbours",
        json!({ "type": "Person", "key": "Ada" }),
    )
    .await;
    assert_eq!(around["neighbours"][0]["entity"]["key"], "Bob", "{around}");
    let history = call(
        &daemon,
        "memory.graph.history",
        json!({ "type": "Person", "key": "Ada" }),
    )
    .await;
    assert!(!history["changes"].as_array().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_adds_and_searches_through_the_daemon() {
    let dir = TestDir::new("memory-cli");
    let daemon = Daemon::start(dir.path(), "").await;
    let run = |args: &[&str]| {
        let output = std::process::Command::new(hearth_bin())
            .arg("--config")
            .arg(&daemon.config_path)
            .args(args)
            .output()
            .expect("run hearth");
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let added = run(&[
        "memory",
        "add",
        "Grandma's lasagna needs ricotta.",
        "--tag",
        "recipes",
    ]);
    assert!(added.contains("remembered"), "{added}");
    let found = run(&["memory", "search", "what cheese goes in the lasagna"]);
    assert!(found.contains("ricotta"), "{found}");
    let listed = run(&["--json", "memory", "list", "--tag", "recipes"]);
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
}
