//! Against `@modelcontextprotocol/server-filesystem`, allowed one temporary
//! directory: reads inside it work, paths outside it are refused by the
//! server and come back as tool errors.

use hearth_core::ToolError;
use hearth_mcp::McpServerConfig;
use serde_json::json;

use crate::support::{bin, call, start, tool_names};

#[tokio::test]
async fn reads_inside_the_allowed_directory_and_is_refused_outside() {
    let allowed = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let allowed_dir = allowed.path().canonicalize().unwrap();
    std::fs::write(allowed_dir.join("notes.txt"), "hello from a file\n").unwrap();
    std::fs::write(outside.path().join("secret.txt"), "do not read").unwrap();
    let config = McpServerConfig::stdio(
        "files",
        bin("mcp-server-filesystem"),
        &[allowed_dir.to_str().unwrap()],
    );
    let manager = start(vec![config]).await;
    let names = tool_names(&manager);
    assert!(
        names.contains(&"files__read_text_file".to_owned()),
        "{names:?}"
    );

    let notes = allowed_dir.join("notes.txt");
    let text = call(&manager, "files__read_text_file", json!({"path": notes}))
        .await
        .unwrap();
    assert_eq!(text.trim_end(), "hello from a file");

    let written = allowed_dir.join("new.txt");
    call(
        &manager,
        "files__write_file",
        json!({"path": written, "content": "written through MCP"}),
    )
    .await
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(&written).unwrap(),
        "written through MCP"
    );

    let secret = outside.path().join("secret.txt");
    let refused = call(&manager, "files__read_text_file", json!({"path": secret})).await;
    match refused {
        Err(ToolError::Failed(message)) => {
            let lower = message.to_lowercase();
            assert!(
                lower.contains("access denied") || lower.contains("outside"),
                "{message}"
            );
        }
        other => panic!("expected the server's refusal, got {other:?}"),
    }
    manager.shutdown().await;
}
