//! `write_file`: creates or replaces a file in the workspace, atomically
//! (see [`Workspace::write_atomic`](crate::workspace::Workspace::write_atomic)).

use std::sync::Arc;

use async_trait::async_trait;
use hearth_core::{ToolContext, ToolError, ToolResult, TypedTool};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{Shared, WRITE_MAX_BYTES, human_size, run_to_end};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteArgs {
    /// The file, relative to the workspace root. Replaced if it exists.
    pub path: String,
    /// The whole new content of the file (at most 1 MiB).
    pub content: String,
    /// Create missing parent directories. Default false.
    #[serde(default)]
    pub create_dirs: Option<bool>,
}

#[derive(Debug)]
pub struct WriteFile(pub(crate) Arc<Shared>);

#[async_trait]
impl TypedTool for WriteFile {
    type Args = WriteArgs;
    const NAME: &'static str = "write_file";

    fn description(&self) -> String {
        "Create a file in the workspace, or replace all of its content. To change part of \
         an existing file, use edit_file instead."
            .into()
    }

    async fn run(&self, context: &ToolContext, args: WriteArgs) -> ToolResult {
        if args.content.len() > WRITE_MAX_BYTES {
            return Err(ToolError::InvalidArguments(format!(
                "content is {}; write_file writes at most {}",
                human_size(args.content.len() as u64),
                human_size(WRITE_MAX_BYTES as u64)
            )));
        }
        let shared = self.0.clone();
        let _writing = shared.writes.lock().await;
        let work = shared.clone();
        run_to_end(context, move || {
            let resolved = work.workspace.resolve(&args.path)?;
            let created = work.workspace.write_atomic(
                &resolved,
                args.content.as_bytes(),
                args.create_dirs.unwrap_or(false),
            )?;
            Ok(format!(
                "{} `{}` ({})",
                if created { "created" } else { "replaced" },
                resolved.display(),
                human_size(args.content.len() as u64)
            ))
        })
        .await
    }
}
