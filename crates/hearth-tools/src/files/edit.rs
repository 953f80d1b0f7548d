//! `edit_file`: replaces an exact piece of text in a workspace file.
//!
//! Exact match only, no fuzzy matching: a near miss silently editing the
//! wrong place is worse than an error the model can act on. The one
//! leniency is line endings: in a file with CRLF line endings, `old` and
//! `new` written with plain `\n` are matched and written with CRLF.

use std::io::Read;
use std::sync::Arc;

use async_trait::async_trait;
use hearth_core::{ToolContext, ToolError, ToolResult, TypedTool};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{EDIT_MAX_BYTES, Shared, human_size, looks_binary, run_to_end};
use crate::workspace::{Workspace, io_error};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EditArgs {
    /// The file, relative to the workspace root.
    pub path: String,
    /// The exact text to replace, including whitespace and line breaks. It
    /// must occur exactly once unless replace_all is true.
    pub old: String,
    /// The text to put in its place.
    pub new: String,
    /// Replace every occurrence of `old` instead of requiring exactly one.
    /// Default false.
    #[serde(default)]
    pub replace_all: Option<bool>,
}

#[derive(Debug)]
pub struct EditFile(pub(crate) Arc<Shared>);

#[async_trait]
impl TypedTool for EditFile {
    type Args = EditArgs;
    const NAME: &'static str = "edit_file";

    fn description(&self) -> String {
        "Replace an exact piece of text in a workspace file. `old` must match the file \
         exactly (read the file first) and occur once, unless replace_all is true."
            .into()
    }

    async fn run(&self, context: &ToolContext, args: EditArgs) -> ToolResult {
        if args.old.is_empty() {
            return Err(ToolError::InvalidArguments(
                "`old` is empty; to create a file or replace all of it, use write_file".into(),
            ));
        }
        if args.old == args.new {
            return Err(ToolError::InvalidArguments(
                "`old` and `new` are the same; nothing would change".into(),
            ));
        }
        let shared = self.0.clone();
        // Held across the read and the write: see `Shared::writes`.
        let _writing = shared.writes.lock().await;
        let work = shared.clone();
        run_to_end(context, move || edit(&work.workspace, &args)).await
    }
}

pub(crate) fn edit(workspace: &Workspace, args: &EditArgs) -> ToolResult {
    let path = &args.path;
    let (file, resolved) = workspace.open_read(path)?;
    let size = file.metadata().map_err(|e| io_error(path, &e))?.len();
    if size > EDIT_MAX_BYTES {
        return Err(ToolError::Failed(format!(
            "`{path}` is {}; edit_file edits files of at most {}",
            human_size(size),
            human_size(EDIT_MAX_BYTES)
        )));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // The size can change under us: never read past the limit.
    file.take(EDIT_MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(path, &e))?;
    if bytes.len() as u64 > EDIT_MAX_BYTES {
        return Err(ToolError::Failed(format!(
            "`{path}` grew past {} while being read",
            human_size(EDIT_MAX_BYTES)
        )));
    }
    if looks_binary(&bytes) {
        return Err(ToolError::Failed(format!(
            "`{path}` is not UTF-8 text; edit_file edits text files only"
        )));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| ToolError::Failed(format!("`{path}` is not UTF-8 text")))?;

    let (old, new) = match_line_endings(&text, &args.old, &args.new);
    let count = text.matches(old.as_str()).count();
    let replace_all = args.replace_all.unwrap_or(false);
    match count {
        0 => {
            return Err(ToolError::Failed(format!(
                "`old` was not found in `{path}`. It must match exactly, including spaces, \
                 indentation and line breaks: read the file and copy the text from it"
            )));
        }
        1 => {}
        n if !replace_all => {
            return Err(ToolError::Failed(format!(
                "`old` occurs {n} times in `{path}`. Include more of the surrounding text so \
                 it matches once, or set replace_all to true to replace all {n}"
            )));
        }
        _ => {}
    }
    let edited = if replace_all {
        text.replace(old.as_str(), &new)
    } else {
        text.replacen(old.as_str(), &new, 1)
    };
    if edited.len() as u64 > EDIT_MAX_BYTES {
        return Err(ToolError::Failed(format!(
            "the edited file would be {}; the limit is {}",
            human_size(edited.len() as u64),
            human_size(EDIT_MAX_BYTES)
        )));
    }
    workspace.write_atomic(&resolved, edited.as_bytes(), false)?;
    Ok(format!(
        "replaced {count} occurrence{} in `{}`",
        if count == 1 { "" } else { "s" },
        resolved.display()
    ))
}

/// `old` and `new` with CRLF line endings when the file uses them and
/// `old` only matches that way.
fn match_line_endings(text: &str, old: &str, new: &str) -> (String, String) {
    let crlf = |s: &str| s.replace("\r\n", "\n").replace('\n', "\r\n");
    if old.contains('\n') && !old.contains("\r\n") && text.contains("\r\n") && !text.contains(old) {
        (crlf(old), crlf(new))
    } else {
        (old.to_owned(), new.to_owned())
    }
}
