//! Skills: folders holding a `SKILL.md` (YAML front matter, then Markdown
//! instructions) that the model reads on demand.
//!
//! The format is the one Anthropic's Agent Skills and OpenClaw use, so their
//! skills work unchanged. How the parts fit:
//!
//! - `manifest`: splits a `SKILL.md` into front matter and body, parses the
//!   YAML and validates `name` and `description`; reads requirements in
//!   Hearth's form (`requires:`) and OpenClaw's (`metadata.openclaw.requires`).
//! - `discover`: walks the [`SkillRoot`]s in precedence order, bounded in
//!   files read and bytes per file, and keeps the first skill of each name.
//! - [`gate`]: checks requirements against a [`SkillEnv`] (the real machine,
//!   or a fixed one in tests) and says why a skill is unavailable.
//! - `catalog`: the [`SkillCatalog`] the agent holds: the system-prompt
//!   section listing ready skills, and reading a skill's body or files.
//! - `render`: the table `hearth skills list` prints.
//! - `tool`: [`ReadSkill`], the `read_skill` tool the model calls.
//!
//! Where skills come from, highest precedence first: the agent's workspace
//! (`<workspace>/skills`), the user's skills folder, skills bundled with
//! Hearth, then extra folders named in config. A name found in a higher
//! root hides the same name in lower ones, whether or not the higher copy
//! is ready: a workspace copy is how a user overrides (or disables) a skill.
//!
//! A catalog is a snapshot taken at discovery. Bodies and supporting files
//! are read from disk when the model asks, so edits to instructions apply
//! at once; edits to front matter apply at the next discovery.

mod catalog;
mod discover;
pub mod gate;
mod manifest;
mod render;
mod tool;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;

pub use catalog::{Skill, SkillCatalog, SkillError, SkillProblem};
pub use gate::{Gate, SkillEnv, StaticEnv, SystemEnv};
pub use manifest::{LoadError, Requirements};
pub use render::render_list;
pub use tool::{ReadSkill, ReadSkillArgs};

/// The file that makes a folder a skill.
pub const SKILL_FILE: &str = "SKILL.md";

/// Most `SKILL.md` files read in one discovery, across all roots. Each one
/// found costs a parse and a line in `hearth skills list`; 256 is far more
/// than anyone curates by hand, and keeps a stray huge folder from making
/// discovery slow.
pub const MAX_SKILLS: usize = 256;

/// Largest `SKILL.md`, and largest supporting file `read_skill` returns.
/// A skill's body goes into the model's context whole: past 64 KiB it
/// would crowd out the conversation on any local model.
pub const MAX_FILE_BYTES: u64 = 64 * 1024;

/// Largest skills section in the system prompt (about 1,000 tokens). The
/// list is cut, with a note, past this: the prompt must leave room for the
/// conversation on small local models.
pub const MAX_PROMPT_BYTES: usize = 4 * 1024;

/// Most entries looked at in one directory while walking a root, so that
/// pointing a root at a huge folder (a home directory) costs little.
pub const MAX_DIR_ENTRIES: usize = 1024;

/// Where a skill was found. The order of the variants is the precedence:
/// a skill from an earlier variant hides one of the same name from a later
/// one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkillSource {
    /// `<workspace>/skills`: this agent's own skills and overrides.
    Workspace,
    /// The user's skills folder, shared by every agent.
    User,
    /// Skills shipped with Hearth.
    Bundled,
    /// Extra folders named in config (OpenClaw's `extraDirs`).
    Extra,
}

impl SkillSource {
    pub fn as_str(self) -> &'static str {
        match self {
            SkillSource::Workspace => "workspace",
            SkillSource::User => "user",
            SkillSource::Bundled => "bundled",
            SkillSource::Extra => "extra",
        }
    }
}

impl fmt::Display for SkillSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A folder whose subfolders are skills.
///
/// Each direct subfolder holding a `SKILL.md` is a skill. A subfolder
/// without one is taken as a group and its own subfolders are looked at
/// (one level only: `skills/github/gh-issues/SKILL.md`), the way people
/// keep a cloned collection of skills. Folders whose name starts with `.`
/// are skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillRoot {
    pub path: PathBuf,
    pub source: SkillSource,
}

impl SkillRoot {
    pub fn new(path: impl Into<PathBuf>, source: SkillSource) -> Self {
        SkillRoot {
            path: path.into(),
            source,
        }
    }
}
