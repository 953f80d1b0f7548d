//! Tests for skills, one file per part: `manifest` (front matter, both
//! requirement forms, gating), `discover` (precedence, layout, bounds) and
//! `read` (the prompt section, reading bodies and files, the tool, the list).
//! Shared here: temporary roots and sample skills.

mod discover;
mod manifest;
mod read;

use std::fs;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use super::*;

pub(super) fn write_skill(root: &Path, folder: &str, content: &str) -> PathBuf {
    let dir = root.join(folder);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(SKILL_FILE), content).unwrap();
    dir
}

pub(super) fn skill_md(name: &str, description: &str, extra: &str, body: &str) -> String {
    format!("---\nname: {name}\ndescription: {description}\n{extra}---\n{body}")
}

/// An environment with `gh`, `git`, `python3` and `GITHUB_TOKEN`, on Linux.
pub(super) fn full_env() -> StaticEnv {
    StaticEnv::new(["gh", "git", "python3"], ["GITHUB_TOKEN"]).with_os("linux")
}

pub(super) fn empty_env() -> StaticEnv {
    StaticEnv::default().with_os("linux")
}

pub(super) struct Roots {
    _tmp: TempDir,
    pub workspace: PathBuf,
    pub user: PathBuf,
}

impl Roots {
    pub fn new() -> Roots {
        let tmp = TempDir::new().unwrap();
        let workspace = tmp.path().join("workspace/skills");
        let user = tmp.path().join("user/skills");
        fs::create_dir_all(&workspace).unwrap();
        fs::create_dir_all(&user).unwrap();
        Roots {
            _tmp: tmp,
            workspace,
            user,
        }
    }

    pub fn list(&self) -> Vec<SkillRoot> {
        // Given lowest first on purpose: precedence comes from the source.
        vec![
            SkillRoot::new(&self.user, SkillSource::User),
            SkillRoot::new(&self.workspace, SkillSource::Workspace),
        ]
    }

    pub fn discover(&self, env: &dyn SkillEnv) -> SkillCatalog {
        SkillCatalog::discover(&self.list(), env)
    }
}

pub(super) fn problem<'a>(catalog: &'a SkillCatalog, folder: &str) -> &'a LoadError {
    let found = catalog
        .problems()
        .iter()
        .find(|p| p.path.parent().is_some_and(|d| d.ends_with(folder)))
        .unwrap_or_else(|| panic!("no problem for {folder}: {:?}", catalog.problems()));
    &found.error
}

pub(super) const CLAUDE_STYLE: &str = "---\n\
name: pdf-processing\n\
description: >\n  Extract text and tables from PDF files.\n  Use when the user mentions PDFs.\n\
license: Apache-2.0\n\
allowed-tools: Bash(python3:*) Read\n\
compatibility: Designed for Claude Code\n\
metadata:\n  author: example-org\n  version: \"1.0\"\n\
---\n\
# PDF processing\n\nRun `python3 {baseDir}/scripts/extract.py FILE`.\n";

pub(super) const OPENCLAW_STYLE: &str = "---\n\
name: github\n\
description: \"Work with GitHub issues and pull requests using the gh CLI.\"\n\
homepage: https://cli.github.com\n\
user-invocable: true\n\
metadata: {\"openclaw\": {\"emoji\": \"🐙\", \"requires\": {\"bins\": [\"gh\"], \"anyBins\": [\"python3\", \"python\"], \"env\": [\"GITHUB_TOKEN\"], \"config\": [\"browser.enabled\"]}, \"install\": [{\"id\": \"brew\", \"kind\": \"brew\", \"formula\": \"gh\", \"bins\": [\"gh\"]}]}}\n\
---\n\
Use `gh issue list`.\n";
