//! Hearth's built-in tools, each a [`hearth_core::Tool`] the agent is
//! given as `Arc<dyn Tool>`.
//!
//! - [`workspace`]: the jail the file tools work in: model-given paths
//!   resolved under one root, symlinks checked, files opened so they
//!   cannot be outside it, atomic writes.
//! - [`files`]: `read_file`, `write_file`, `edit_file`, `list_files`, one
//!   file each ([`file_tools`] builds them).
//! - [`exec`]: `exec`: a shell command in the workspace under an approval
//!   policy, with a time limit, capped output and a scrubbed environment.
//! - [`web_fetch`]: `web_fetch` ([`web_fetch_tool`]): an http(s) page as
//!   readable text. `config.rs` holds its settings, `address.rs` the
//!   address policy and the resolver that enforces it, `html.rs` the
//!   bounded HTML to Markdown conversion.
//!
//! ```text
//! model arguments ─▶ TypedTool::run ─▶ Workspace::resolve / open_read / write_atomic ─▶ disk
//!                                   └▶ WebFetch: check URL ─▶ GuardedResolver ─▶ GET (hops) ─▶ html ─▶ text
//! ```
//!
//! Every tool bounds what it reads and returns, and reports failures as
//! [`hearth_core::ToolError`]s written for the model to act on.

pub mod exec;
pub mod files;
pub mod web_fetch;
pub mod workspace;

pub use exec::{Exec, ExecConfig, ExecPolicy};
pub use files::file_tools;
pub use web_fetch::{WebFetchConfig, web_fetch_tool};
pub use workspace::Workspace;

#[cfg(test)]
mod tests;
