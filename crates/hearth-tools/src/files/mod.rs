//! The file tools (`read_file`, `write_file`, `edit_file`, `list_files`):
//! one file each, sharing a [`Workspace`] and the limits below.
//!
//! Every tool runs its file-system work on tokio's blocking pool. Reads and
//! listings stop waiting when the call is cancelled (the blocking work is
//! bounded and finishes on its own); writes and edits run to the end once
//! started, so a cancelled call never leaves the model unsure whether the
//! file changed.

mod edit;
mod list;
mod read;
mod write;

use std::path::PathBuf;
use std::sync::Arc;

use hearth_core::{Tool, ToolContext, ToolError, typed};

use crate::workspace::Workspace;

pub use edit::{EditArgs, EditFile};
pub use list::{ListArgs, ListFiles};
pub use read::{ReadArgs, ReadFile};
pub use write::{WriteArgs, WriteFile};

/// Most text `read_file` returns in one call; the model reads on with
/// `offset`. About 64k tokens: more would crowd out the conversation.
pub const READ_MAX_BYTES: usize = 256 * 1024;
/// Largest `content` `write_file` accepts.
pub const WRITE_MAX_BYTES: usize = 1024 * 1024;
/// Largest file `edit_file` loads to edit.
pub const EDIT_MAX_BYTES: u64 = 4 * 1024 * 1024;
/// Entries `list_files` shows when the model names no `max_entries`, and
/// the most it may ask for.
pub const LIST_DEFAULT_ENTRIES: u32 = 200;
pub const LIST_MAX_ENTRIES: u32 = 2000;

/// The workspace and the lock its writers share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub workspace: Workspace,
    /// Serializes writes and edits within this process, so two concurrent
    /// edits of one file cannot both read the old text and lose one
    /// change. Held across an edit's read and write; reads never take it
    /// (they see the old file or the new one, thanks to the atomic rename).
    pub writes: tokio::sync::Mutex<()>,
}

/// The file tools for the workspace at `root`: `read_file` and
/// `list_files`, plus `write_file` and `edit_file` unless `read_only`.
/// The root need not exist yet; a call fails clearly until it does.
pub fn file_tools(root: PathBuf, read_only: bool) -> Vec<Arc<dyn Tool>> {
    let shared = Arc::new(Shared {
        workspace: Workspace::new(root),
        writes: tokio::sync::Mutex::new(()),
    });
    let mut tools = vec![
        typed(ReadFile(shared.clone())),
        typed(ListFiles(shared.clone())),
    ];
    if !read_only {
        tools.push(typed(WriteFile(shared.clone())));
        tools.push(typed(EditFile(shared)));
    }
    tools
}

/// Runs bounded blocking file work, giving up the wait (not the work) when
/// the call is cancelled.
pub(crate) async fn run_cancellable<T: Send + 'static>(
    context: &ToolContext,
    work: impl FnOnce() -> Result<T, ToolError> + Send + 'static,
) -> Result<T, ToolError> {
    if context.cancel.is_cancelled() {
        return Err(ToolError::Cancelled);
    }
    tokio::select! {
        result = tokio::task::spawn_blocking(work) => joined(result),
        () = context.cancel.cancelled() => Err(ToolError::Cancelled),
    }
}

/// Runs blocking work that changes files to its end: checks for
/// cancellation only before starting.
pub(crate) async fn run_to_end<T: Send + 'static>(
    context: &ToolContext,
    work: impl FnOnce() -> Result<T, ToolError> + Send + 'static,
) -> Result<T, ToolError> {
    if context.cancel.is_cancelled() {
        return Err(ToolError::Cancelled);
    }
    joined(tokio::task::spawn_blocking(work).await)
}

fn joined<T>(result: Result<Result<T, ToolError>, tokio::task::JoinError>) -> Result<T, ToolError> {
    result.unwrap_or_else(|e| Err(ToolError::Failed(format!("the file task failed: {e}"))))
}

/// `1234 B`, `1.2 KiB`, `3.4 MiB`, `5.6 GiB`.
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 3] = ["KiB", "MiB", "GiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Whether the start of a file looks like something other than UTF-8
/// text: a NUL byte, or bytes that are not UTF-8 (an incomplete character
/// cut by the end of `head` does not count).
pub(crate) fn looks_binary(head: &[u8]) -> bool {
    if head.contains(&0) {
        return true;
    }
    match std::str::from_utf8(head) {
        Ok(_) => false,
        Err(e) => e.error_len().is_some(),
    }
}
