//! The daemon with embedded models: a corrupt GGUF is reported and the
//! other models keep serving; a real GGUF answers; `models unload/load`
//! and SIGHUP reload it while the daemon runs.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{Daemon, TestDir, hearth_bin, send_signal, toml_string};

use hearth_testkit::model::smollm2_path as real_model;

async fn ask(daemon: &Daemon, agent: &str, text: &str) -> Value {
    let mut client = daemon.client().await;
    let params = json!({
        "message": text,
        "agentId": agent,
        "sessionKey": format!("agent:{agent}:main"),
        "idempotencyKey": uuid::Uuid::new_v4().to_string(),
    });
    tokio::time::timeout(
        Duration::from_secs(120),
        client.request_final("agent", params),
    )
    .await
    .expect("an answer in time")
    .expect("agent")
}

async fn embedded_status(daemon: &Daemon, name: &str) -> Value {
    let mut client = daemon.client().await;
    let list = client
        .request("models.list", json!({}))
        .await
        .expect("models.list");
    list["models"]
        .as_array()
        .and_then(|models| models.iter().find(|m| m["id"] == name))
        .map(|m| m["embedded"].clone())
        .unwrap_or(Value::Null)
}

fn models_cli(daemon: &Daemon, args: &[&str]) -> std::process::Output {
    let config = daemon.config_path.to_str().expect("utf-8");
    let mut all = vec!["--config", config, "models"];
    all.extend_from_slice(args);
    std::process::Command::new(hearth_bin())
        .args(all)
        .env_remove("RUST_LOG")
        .output()
        .expect("run hearth")
}

fn config(dir: &std::path::Path, slots: u32) -> String {
    format!(
        "[models.broken]\nprovider = \"embedded\"\nmodel = {broken}\n\n\
         [models.local]\nprovider = \"embedded\"\nmodel = {real}\n\
         [models.local.engine]\nslots = {slots}\ncontext = 1024\nthreads = 1\n\n\
         [agents.small]\nmodel = \"local\"\n",
        broken = toml_string(&dir.join("broken.gguf")),
        real = toml_string(&real_model()),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_gguf_is_reported_while_other_models_serve_and_reload_works() {
    let dir = TestDir::new("embedded");
    std::fs::write(dir.path().join("broken.gguf"), b"GGUF\x03\0\0\0garbage").expect("write");
    let mut daemon = Daemon::start(dir.path(), &config(dir.path(), 2)).await;

    let broken = embedded_status(&daemon, "broken").await;
    assert_eq!(broken["loaded"], false, "{broken}");
    assert!(
        broken["error"]
            .as_str()
            .unwrap_or("")
            .contains("broken.gguf"),
        "{broken}"
    );
    assert_eq!(embedded_status(&daemon, "local").await["loaded"], true);

    // The echo agent and the real model both answer.
    let echo = ask(&daemon, "main", "hello echo").await;
    assert_eq!(
        echo["result"]["payloads"][0]["text"], "hello echo",
        "{echo}"
    );
    let real = ask(&daemon, "small", "Say hello.").await;
    assert_eq!(real["status"], "ok", "{real}");
    assert!(
        !real["result"]["payloads"][0]["text"]
            .as_str()
            .unwrap_or("")
            .is_empty(),
        "{real}"
    );

    // Unload and load through the control protocol (the CLI's path).
    let out = models_cli(&daemon, &["unload", "local"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(embedded_status(&daemon, "local").await["loaded"], false);
    let out = models_cli(&daemon, &["load", "local"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(embedded_status(&daemon, "local").await["loaded"], true);
    let out = models_cli(&daemon, &["load", "broken"]);
    assert!(!out.status.success(), "loading a corrupt file must fail");

    // Edit the config and send SIGHUP: the model reloads with 3 slots.
    daemon.write_config(&config(dir.path(), 3));
    send_signal(daemon.pid(), libc::SIGHUP);
    let mut slots = Value::Null;
    for _ in 0..100 {
        slots = embedded_status(&daemon, "local").await["slots"].clone();
        if slots == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(slots, 3, "SIGHUP did not reload the model");
    let again = ask(&daemon, "small", "Say hi.").await;
    assert_eq!(again["status"], "ok", "{again}");
    daemon.kill9();
}
