//! The tools through their public `Tool` interface: the file tools on a
//! temporary workspace, exec with the real approval broker, web_fetch
//! against a local HTTP server.

mod exec;
mod files;
mod web_fetch;

use hearth_core::{AgentId, SessionKey, Tool, ToolContext, ToolResult};
use tokio_util::sync::CancellationToken;

pub fn context() -> ToolContext {
    let agent = AgentId::main();
    ToolContext {
        session_key: SessionKey::for_agent(&agent, "test").unwrap(),
        agent_id: agent,
        run_id: "run-1".into(),
        call_id: "call-1".into(),
        channel: "gateway".into(),
        origin: None,
        cancel: CancellationToken::new(),
    }
}

pub async fn call(tool: &dyn Tool, arguments: serde_json::Value) -> ToolResult {
    tool.call(&context(), arguments).await
}
