//! `read_skill`: the tool the model calls to read a skill's instructions,
//! or one of the files in its folder, when a task calls for it.

use std::sync::Arc;

use async_trait::async_trait;
use hearth_core::{ToolContext, ToolError, ToolResult, TypedTool};
use schemars::JsonSchema;
use serde::Deserialize;

use super::catalog::{SkillCatalog, SkillError};

/// Reads skills from a catalog. Wrap with [`hearth_core::typed`].
#[derive(Debug, Clone)]
pub struct ReadSkill {
    pub catalog: Arc<SkillCatalog>,
}

impl ReadSkill {
    pub fn new(catalog: Arc<SkillCatalog>) -> Self {
        ReadSkill { catalog }
    }
}

/// Arguments of `read_skill`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadSkillArgs {
    /// The skill's name, as listed under "Skills" in the system prompt.
    pub name: String,
    /// A file in the skill's folder to read instead of its instructions,
    /// relative to that folder (for example `references/api.md`). Leave it
    /// out to read the instructions.
    #[serde(default)]
    pub path: Option<String>,
}

#[async_trait]
impl TypedTool for ReadSkill {
    type Args = ReadSkillArgs;
    const NAME: &'static str = "read_skill";

    fn description(&self) -> String {
        "Read a skill's instructions by its name, before doing a task the skill \
         covers. With `path`, read a file from the skill's folder that the \
         instructions mention."
            .to_owned()
    }

    async fn run(&self, _context: &ToolContext, args: Self::Args) -> ToolResult {
        let catalog = Arc::clone(&self.catalog);
        // Files are small (capped at 64 KiB) but still blocking IO: keep it
        // off the async workers.
        let read = tokio::task::spawn_blocking(move || match args.path.as_deref() {
            Some(path) if !path.trim().is_empty() => catalog.read_file(&args.name, path),
            _ => catalog.read(&args.name),
        })
        .await
        .map_err(|e| ToolError::Failed(format!("reading the skill failed: {e}")))?;
        read.map_err(to_tool_error)
    }
}

fn to_tool_error(error: SkillError) -> ToolError {
    let message = error.to_string();
    match error {
        SkillError::Unknown { .. } | SkillError::InvalidPath { .. } => {
            ToolError::InvalidArguments(message)
        }
        SkillError::Unavailable { .. } | SkillError::OutsideSkill { .. } => {
            ToolError::Denied(message)
        }
        SkillError::NotFound { .. } | SkillError::Load { .. } => ToolError::Failed(message),
    }
}
