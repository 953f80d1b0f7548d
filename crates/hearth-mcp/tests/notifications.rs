//! A server whose tool list changes (a small server on the official
//! TypeScript SDK, `fixtures/changing_tools.mjs`): the client hears
//! `notifications/tools/list_changed` and offers the new tool.

use std::time::Duration;

use hearth_mcp::{McpServerConfig, Transport};
use serde_json::json;

use crate::support::{bin, call, eventually, mcp_dir, start, tool_names};

#[tokio::test]
async fn a_changed_tool_list_is_listed_again() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/changing_tools.mjs"
    );
    let mut config = McpServerConfig::stdio("changing", bin("node"), &[fixture]);
    let sdk = mcp_dir().join("node_modules/@modelcontextprotocol/sdk");
    assert!(
        sdk.exists(),
        "{} missing: run scripts/install-mcp-servers.sh",
        sdk.display()
    );
    if let Transport::Stdio { env, .. } = &mut config.transport {
        env.insert("HEARTH_MCP_SDK".into(), sdk.to_string_lossy().into_owned());
    }
    let manager = start(vec![config]).await;
    assert_eq!(tool_names(&manager), ["changing__add_tool"]);

    assert_eq!(
        call(&manager, "changing__add_tool", json!({})).await,
        Ok("added".into())
    );
    eventually("the new tool", Duration::from_secs(10), || {
        tool_names(&manager).contains(&"changing__second".to_owned())
    })
    .await;
    assert_eq!(
        call(&manager, "changing__second", json!({})).await,
        Ok("second here".into())
    );
    manager.shutdown().await;
}
