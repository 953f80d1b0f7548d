//! Against `@modelcontextprotocol/server-memory`: entities created through
//! one tool are read back through another, and land in the file the
//! server was given.

use hearth_mcp::{McpServerConfig, Transport};
use serde_json::json;

use crate::support::{bin, call, start};

#[tokio::test]
async fn entities_created_are_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("memory.jsonl");
    let mut config = McpServerConfig::stdio("memory", bin("mcp-server-memory"), &[]);
    if let Transport::Stdio { env, .. } = &mut config.transport {
        env.insert(
            "MEMORY_FILE_PATH".into(),
            file.to_string_lossy().into_owned(),
        );
    }
    let manager = start(vec![config]).await;

    call(
        &manager,
        "memory__create_entities",
        json!({"entities": [{
            "name": "Hearth",
            "entityType": "project",
            "observations": ["written in Rust", "local-first"]
        }]}),
    )
    .await
    .unwrap();
    call(
        &manager,
        "memory__create_relations",
        json!({"relations": [{"from": "Hearth", "to": "Hearth", "relationType": "is"}]}),
    )
    .await
    .unwrap();

    let graph = call(&manager, "memory__read_graph", json!({}))
        .await
        .unwrap();
    assert!(graph.contains("Hearth"), "{graph}");
    assert!(graph.contains("written in Rust"), "{graph}");
    assert!(graph.contains("relationType"), "{graph}");
    let stored = std::fs::read_to_string(&file).unwrap();
    assert!(stored.contains("local-first"), "{stored}");
    manager.shutdown().await;
}
