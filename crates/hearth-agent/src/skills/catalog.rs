//! The skill catalog an agent holds: what was found, what is ready, the
//! system-prompt section that lists ready skills, and reading a skill's
//! instructions or supporting files when the model asks.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use super::discover::{self, read_capped};
use super::gate::{self, Gate, SkillEnv};
use super::manifest::{self, LoadError, Requirements};
use super::{MAX_FILE_BYTES, MAX_PROMPT_BYTES, SKILL_FILE, SkillRoot, SkillSource};

/// Longest description shown on a skill's line in the prompt; the whole
/// description (up to 1,024 characters) would let three skills fill the
/// section.
const MAX_PROMPT_DESCRIPTION_CHARS: usize = 256;
/// Room kept at the end of the prompt section for the "N more" note.
const PROMPT_NOTE_RESERVE: usize = 64;
/// Longest list of skill names in an error the model reads.
const MAX_NAMES_BYTES: usize = 2 * 1024;
/// Placeholder OpenClaw skills use for their own folder.
const BASE_DIR_PLACEHOLDER: &str = "{baseDir}";

const PROMPT_HEADER: &str = "## Skills\n\
Skills are instructions for particular tasks. When a task matches one of the \
skills below, call the `read_skill` tool with the skill's name first, then \
follow the instructions it returns. Read a skill only when you need it.\n\n";

/// One skill: the winner of its name across the roots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skill {
    pub name: String,
    pub description: String,
    /// The skill's folder (canonical), holding `SKILL.md` and its files.
    pub dir: PathBuf,
    pub source: SkillSource,
    pub requires: Requirements,
    pub gate: Gate,
    /// Lower-precedence skills of the same name that this one hides.
    pub shadowed: Vec<PathBuf>,
}

impl Skill {
    pub fn is_ready(&self) -> bool {
        self.gate.is_ready()
    }
}

/// A `SKILL.md` (or root) that could not be loaded. It costs the catalog
/// that one skill only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillProblem {
    pub path: PathBuf,
    pub error: LoadError,
}

/// Why a skill or one of its files cannot be read. The messages are
/// written for the model, which reads them as tool results.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkillError {
    #[error("no skill named `{name}`; available skills: {available}")]
    Unknown { name: String, available: String },
    #[error("skill `{name}` is not available here: {}", reasons.join("; "))]
    Unavailable { name: String, reasons: Vec<String> },
    #[error("invalid path `{path}`: {reason}")]
    InvalidPath { path: String, reason: &'static str },
    #[error("`{path}` leads outside the skill's folder")]
    OutsideSkill { path: String },
    #[error("no file `{path}` in skill `{name}`")]
    NotFound { name: String, path: String },
    #[error("reading `{path}`: {error}")]
    Load { path: String, error: LoadError },
}

/// The skills found at one discovery. Immutable: share it behind an `Arc`
/// and discover again to pick up new or changed skills.
#[derive(Debug, Clone, Default)]
pub struct SkillCatalog {
    /// Sorted by name, one per name.
    skills: Vec<Skill>,
    problems: Vec<SkillProblem>,
    roots: Vec<SkillRoot>,
}

impl SkillCatalog {
    /// Walks `roots` (see [`SkillRoot`] for the layout and
    /// [`SkillSource`] for precedence) and gates each skill against `env`.
    ///
    /// Never fails: a root that cannot be read or a `SKILL.md` that is
    /// invalid becomes a [`SkillProblem`] and the rest load. A root that
    /// does not exist is skipped silently.
    pub fn discover(roots: &[SkillRoot], env: &dyn SkillEnv) -> SkillCatalog {
        let (found, problems) = discover::discover(roots);
        let mut skills: Vec<Skill> = found
            .into_iter()
            .map(|f| Skill {
                gate: gate::check(&f.manifest.requires, env),
                name: f.manifest.name,
                description: f.manifest.description,
                dir: f.dir,
                source: f.source,
                requires: f.manifest.requires,
                shadowed: f.shadowed,
            })
            .collect();
        skills.sort_by(|a, b| a.name.cmp(&b.name));
        SkillCatalog {
            skills,
            problems,
            roots: roots.to_vec(),
        }
    }

    /// Every skill, ready or not, sorted by name.
    pub fn skills(&self) -> &[Skill] {
        &self.skills
    }

    /// What could not be loaded, in discovery order.
    pub fn problems(&self) -> &[SkillProblem] {
        &self.problems
    }

    /// The roots this catalog was discovered from.
    pub fn roots(&self) -> &[SkillRoot] {
        &self.roots
    }

    pub fn get(&self, name: &str) -> Option<&Skill> {
        self.skills
            .binary_search_by(|s| s.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.skills[i])
    }

    /// The skills offered to the model, sorted by name.
    pub fn ready(&self) -> impl Iterator<Item = &Skill> {
        self.skills.iter().filter(|s| s.is_ready())
    }

    /// The system-prompt section: how to use skills, then `- name:
    /// description` for each ready skill. Empty when no skill is ready.
    /// At most [`MAX_PROMPT_BYTES`]; past that the list is cut with a note.
    pub fn prompt_section(&self) -> String {
        self.prompt_section_within(MAX_PROMPT_BYTES)
    }

    /// [`Self::prompt_section`] within `max_bytes` instead of the default;
    /// empty if not even the header and one note fit.
    pub fn prompt_section_within(&self, max_bytes: usize) -> String {
        let ready: Vec<&Skill> = self.ready().collect();
        if ready.is_empty() || max_bytes < PROMPT_HEADER.len() + PROMPT_NOTE_RESERVE {
            return String::new();
        }
        let budget = max_bytes - PROMPT_NOTE_RESERVE;
        let mut section = String::from(PROMPT_HEADER);
        let mut listed = 0;
        for skill in &ready {
            let line = format!(
                "- {}: {}\n",
                skill.name,
                one_line(&skill.description, MAX_PROMPT_DESCRIPTION_CHARS)
            );
            if section.len() + line.len() > budget {
                break;
            }
            section.push_str(&line);
            listed += 1;
        }
        let left = ready.len() - listed;
        if left > 0 {
            section.push_str(&format!("({left} more skills not listed for space.)\n"));
        }
        section
    }

    /// The instructions of a ready skill: its `SKILL.md` without the front
    /// matter, read from disk now, under a line giving the skill's folder
    /// (which files it mentions are relative to). OpenClaw's `{baseDir}`
    /// placeholder is replaced by that folder.
    pub fn read(&self, name: &str) -> Result<String, SkillError> {
        let skill = self.ready_skill(name)?;
        let path = skill.dir.join(SKILL_FILE);
        let text = read_capped(&path, MAX_FILE_BYTES).map_err(|error| SkillError::Load {
            path: path.display().to_string(),
            error,
        })?;
        // The front matter was valid at discovery; if it was broken since,
        // the whole file is still the best instructions there are.
        let body = manifest::split(&text).map_or(text.as_str(), |(_, body)| body);
        let dir = skill.dir.display().to_string();
        let body = body.trim().replace(BASE_DIR_PLACEHOLDER, &dir);
        Ok(format!(
            "Skill `{}` (folder: {dir}). Files it mentions are relative to that \
             folder; read them with `read_skill` and `path`.\n\n{body}\n",
            skill.name
        ))
    }

    /// A supporting file of a ready skill, by its path relative to the
    /// skill's folder. Refused: absolute paths, `..`, and anything that
    /// resolves (through symlinks) outside the folder, all as
    /// [`SkillError::OutsideSkill`]; files over
    /// [`MAX_FILE_BYTES`] or not UTF-8.
    pub fn read_file(&self, name: &str, relative: &str) -> Result<String, SkillError> {
        let skill = self.ready_skill(name)?;
        let invalid = |reason| SkillError::InvalidPath {
            path: relative.to_owned(),
            reason,
        };
        if relative.trim().is_empty() {
            return Err(invalid("it is empty"));
        }
        let rel = Path::new(relative);
        // Checked on the text first, so `..` and absolute paths are refused
        // even where they would happen to land back inside the folder.
        let escapes = rel.components().any(|c| {
            matches!(
                c,
                Component::ParentDir | Component::RootDir | Component::Prefix(_)
            )
        });
        if escapes {
            return Err(SkillError::OutsideSkill {
                path: relative.to_owned(),
            });
        }
        let io_error = |path: &Path, e: io::Error| SkillError::Load {
            path: path.display().to_string(),
            error: LoadError::Io(e.to_string()),
        };
        let base = fs::canonicalize(&skill.dir).map_err(|e| io_error(&skill.dir, e))?;
        // Canonical paths resolve every symlink, so a link inside the folder
        // that points out of it is caught by the prefix check. (The folder
        // belongs to the user; a link swapped in between this check and the
        // read is not a threat this guards against.)
        let real = match fs::canonicalize(base.join(rel)) {
            Ok(real) => real,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(SkillError::NotFound {
                    name: skill.name.clone(),
                    path: relative.to_owned(),
                });
            }
            Err(e) => return Err(io_error(rel, e)),
        };
        if !real.starts_with(&base) {
            return Err(SkillError::OutsideSkill {
                path: relative.to_owned(),
            });
        }
        if !real.is_file() {
            return Err(invalid("it is not a file"));
        }
        read_capped(&real, MAX_FILE_BYTES).map_err(|error| SkillError::Load {
            path: relative.to_owned(),
            error,
        })
    }

    fn ready_skill(&self, name: &str) -> Result<&Skill, SkillError> {
        match self.get(name.trim()) {
            Some(skill) if skill.is_ready() => Ok(skill),
            Some(skill) => Err(SkillError::Unavailable {
                name: skill.name.clone(),
                reasons: skill.gate.reasons().to_vec(),
            }),
            None => Err(SkillError::Unknown {
                name: name.to_owned(),
                available: self.available_names(),
            }),
        }
    }

    /// The ready skills' names for an error message, bounded.
    fn available_names(&self) -> String {
        let names: Vec<&str> = self.ready().map(|s| s.name.as_str()).collect();
        if names.is_empty() {
            return "none".to_owned();
        }
        let mut out = String::new();
        for (i, name) in names.iter().enumerate() {
            if out.len() + name.len() + 2 > MAX_NAMES_BYTES {
                out.push_str(&format!(" and {} more", names.len() - i));
                break;
            }
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(name);
        }
        out
    }
}

/// `text` on one line (runs of whitespace become one space), cut to
/// `max_chars` characters with an ellipsis.
pub(crate) fn one_line(text: &str, max_chars: usize) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() <= max_chars {
        return joined;
    }
    let mut cut: String = joined.chars().take(max_chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}
