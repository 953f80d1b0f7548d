//! `list_files`: what is in a workspace directory, optionally recursive,
//! bounded by `max_entries`.
//!
//! One entry a line, with paths relative to the workspace root (so they
//! can be passed straight to the other file tools): directories end in
//! `/`, files show their size, symlinks that stay inside the workspace
//! show their target and are never descended into (no loops), and
//! symlinks leading out of it are left out and counted. A recursive
//! listing does not descend into `.git`.

use std::fs::FileType;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use hearth_core::{ToolContext, ToolError, ToolResult, TypedTool};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{LIST_DEFAULT_ENTRIES, LIST_MAX_ENTRIES, Shared, human_size, run_cancellable};
use crate::workspace::{Workspace, io_error, relative};

/// Entries read from one directory at most: a directory with millions of
/// entries must not be read (and sorted) whole for a listing of 200.
const MAX_SCANNED_PER_DIR: usize = 10_000;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListArgs {
    /// The directory, relative to the workspace root. Default: the root.
    #[serde(default)]
    pub path: Option<String>,
    /// Also list the contents of subdirectories. Default false.
    #[serde(default)]
    pub recursive: Option<bool>,
    /// The most entries to return (1-2000). Default 200.
    #[serde(default)]
    pub max_entries: Option<u32>,
}

#[derive(Debug)]
pub struct ListFiles(pub(crate) Arc<Shared>);

#[async_trait]
impl TypedTool for ListFiles {
    type Args = ListArgs;
    const NAME: &'static str = "list_files";

    fn description(&self) -> String {
        "List a directory of the workspace (default its root): one entry a line, \
         directories ending in `/`, files with their size. Paths are relative to the \
         workspace root."
            .into()
    }

    async fn run(&self, context: &ToolContext, args: ListArgs) -> ToolResult {
        let max = args.max_entries.unwrap_or(LIST_DEFAULT_ENTRIES);
        if max == 0 || max > LIST_MAX_ENTRIES {
            return Err(ToolError::InvalidArguments(format!(
                "max_entries must be 1-{LIST_MAX_ENTRIES}"
            )));
        }
        let shared = self.0.clone();
        run_cancellable(context, move || {
            list(
                &shared.workspace,
                args.path.as_deref().unwrap_or("."),
                args.recursive.unwrap_or(false),
                max as usize,
            )
        })
        .await
    }
}

/// One directory entry, as read.
struct Entry {
    path: PathBuf,
    kind: FileType,
}

/// What the walk found, and what it left out.
#[derive(Default)]
struct Listing {
    lines: Vec<String>,
    outside_links: usize,
    /// Stopped at `max_entries` with entries left.
    full: bool,
    /// Directories with more entries than were read.
    cut_dirs: Vec<String>,
}

pub(crate) fn list(workspace: &Workspace, path: &str, recursive: bool, max: usize) -> ToolResult {
    let resolved = workspace.resolve(path)?;
    let meta = std::fs::symlink_metadata(&resolved.path).map_err(|e| io_error(path, &e))?;
    if !meta.is_dir() {
        return Err(ToolError::Failed(format!(
            "`{path}` is a file, not a directory; use read_file to read it"
        )));
    }
    let root = &resolved.root;
    let mut listing = Listing::default();
    // Depth first, each directory's entries sorted by name: a stack of the
    // entries still to show, per open directory.
    let mut stack = vec![read_sorted(root, &resolved.path, &mut listing)?];
    while let Some(pending) = stack.last_mut() {
        let Some(entry) = pending.pop() else {
            stack.pop();
            continue;
        };
        if listing.lines.len() == max {
            listing.full = true;
            break;
        }
        let shown = relative(root, &entry.path);
        if entry.kind.is_dir() {
            listing.lines.push(format!("{shown}/"));
            let is_git = entry.path.file_name().is_some_and(|n| n == ".git");
            if recursive && !is_git {
                // A directory that vanished or cannot be read is shown but
                // not descended into.
                if let Ok(entries) = read_sorted(root, &entry.path, &mut listing) {
                    stack.push(entries);
                }
            }
        } else if entry.kind.is_symlink() {
            match std::fs::canonicalize(&entry.path) {
                Ok(target) if target.starts_with(root) => {
                    let dir = if target.is_dir() { "/" } else { "" };
                    listing
                        .lines
                        .push(format!("{shown} -> {}{dir}", relative(root, &target)));
                }
                // Out of the workspace, or pointing nowhere.
                _ => listing.outside_links += 1,
            }
        } else if entry.kind.is_file() {
            let size = std::fs::symlink_metadata(&entry.path).map_or(0, |m| m.len());
            listing
                .lines
                .push(format!("{shown}  ({})", human_size(size)));
        } else {
            listing.lines.push(format!("{shown}  (special file)"));
        }
    }
    Ok(render(&resolved.display(), recursive, listing))
}

/// A directory's entries, sorted so that `pop` yields them by name.
fn read_sorted(root: &Path, dir: &Path, listing: &mut Listing) -> Result<Vec<Entry>, ToolError> {
    let shown = relative(root, dir);
    let reader = std::fs::read_dir(dir).map_err(|e| io_error(&shown, &e))?;
    let mut entries = Vec::new();
    for entry in reader {
        if entries.len() == MAX_SCANNED_PER_DIR {
            listing.cut_dirs.push(shown);
            break;
        }
        let Ok(entry) = entry else { continue };
        // `file_type` comes from the directory entry: it does not follow
        // symlinks.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        entries.push(Entry {
            path: entry.path(),
            kind,
        });
    }
    entries.sort_by(|a, b| b.path.cmp(&a.path));
    Ok(entries)
}

fn render(dir: &str, recursive: bool, listing: Listing) -> String {
    let mut out = if listing.lines.is_empty() {
        format!("`{dir}` is empty")
    } else {
        format!(
            "{} entr{} in `{dir}`{}:\n{}",
            listing.lines.len(),
            if listing.lines.len() == 1 { "y" } else { "ies" },
            if recursive { " (recursive)" } else { "" },
            listing.lines.join("\n")
        )
    };
    if listing.full {
        out.push_str(
            "\n[more entries not shown: list a subdirectory, or raise max_entries (at most 2000)]",
        );
    }
    for dir in &listing.cut_dirs {
        out.push_str(&format!(
            "\n[`{dir}` has more than {MAX_SCANNED_PER_DIR} entries; only some were read]"
        ));
    }
    if listing.outside_links > 0 {
        out.push_str(&format!(
            "\n[{} symbolic link{} leading outside the workspace (or nowhere) not shown]",
            listing.outside_links,
            if listing.outside_links == 1 { "" } else { "s" }
        ));
    }
    out
}
