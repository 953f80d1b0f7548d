//! Discovery: walks the skill roots in precedence order, reads each
//! `SKILL.md` (bounded) and keeps the first skill of each name.
//!
//! Work is bounded three ways: at most [`MAX_DIR_ENTRIES`] entries looked
//! at per directory, at most [`MAX_SKILLS`] `SKILL.md` files read in all,
//! and at most [`MAX_FILE_BYTES`] read from each. Directories are listed in
//! name order so the same folders always give the same catalog.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::catalog::SkillProblem;
use super::manifest::{self, LoadError, Manifest};
use super::{MAX_DIR_ENTRIES, MAX_FILE_BYTES, MAX_SKILLS, SKILL_FILE, SkillRoot, SkillSource};

/// A skill that won its name, before gating.
#[derive(Debug)]
pub(crate) struct Found {
    pub manifest: Manifest,
    pub dir: PathBuf,
    pub source: SkillSource,
    pub shadowed: Vec<PathBuf>,
}

/// Walks `roots`; returns the skills (first of each name in precedence
/// order) and what could not be loaded.
pub(crate) fn discover(roots: &[SkillRoot]) -> (Vec<Found>, Vec<SkillProblem>) {
    let mut ordered: Vec<&SkillRoot> = roots.iter().collect();
    // Stable: roots of the same source keep the order they were given in.
    ordered.sort_by_key(|root| root.source);

    let mut found: Vec<Found> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut problems = Vec::new();
    let mut files_read = 0usize;

    'roots: for root in ordered {
        for dir in skill_dirs(&root.path, &mut problems) {
            if files_read == MAX_SKILLS {
                problems.push(SkillProblem {
                    path: dir.join(SKILL_FILE),
                    error: LoadError::LimitReached(MAX_SKILLS),
                });
                break 'roots;
            }
            files_read += 1;
            let manifest = match load(&dir) {
                Ok(manifest) => manifest,
                Err(error) => {
                    problems.push(SkillProblem {
                        path: dir.join(SKILL_FILE),
                        error,
                    });
                    continue;
                }
            };
            // A skill's files are checked against its canonical folder when
            // the model reads them; resolving it once here also makes a
            // symlinked skill folder show where it really is.
            let dir = fs::canonicalize(&dir).unwrap_or(dir);
            match by_name.get(&manifest.name) {
                Some(&winner) => found[winner].shadowed.push(dir),
                None => {
                    by_name.insert(manifest.name.clone(), found.len());
                    found.push(Found {
                        manifest,
                        dir,
                        source: root.source,
                        shadowed: Vec::new(),
                    });
                }
            }
        }
    }
    (found, problems)
}

/// The folders under `root` that hold a `SKILL.md`: its direct subfolders,
/// and the subfolders of a direct subfolder that holds none (a group).
fn skill_dirs(root: &Path, problems: &mut Vec<SkillProblem>) -> Vec<PathBuf> {
    match fs::metadata(root) {
        Ok(meta) if meta.is_dir() => {}
        // A root that does not exist is normal: most users have no
        // workspace skills, and the user folder is created on demand.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Vec::new(),
        Ok(_) => {
            problems.push(SkillProblem {
                path: root.to_owned(),
                error: LoadError::NotADirectory,
            });
            return Vec::new();
        }
        Err(e) => {
            problems.push(SkillProblem {
                path: root.to_owned(),
                error: LoadError::Io(e.to_string()),
            });
            return Vec::new();
        }
    }
    let mut dirs = Vec::new();
    for child in subdirs(root, problems) {
        if child.join(SKILL_FILE).is_file() {
            dirs.push(child);
        } else {
            dirs.extend(
                subdirs(&child, problems)
                    .into_iter()
                    .filter(|grandchild| grandchild.join(SKILL_FILE).is_file()),
            );
        }
    }
    dirs
}

/// The visible subdirectories of `dir` (following symlinks), in name order,
/// from at most [`MAX_DIR_ENTRIES`] entries.
fn subdirs(dir: &Path, problems: &mut Vec<SkillProblem>) -> Vec<PathBuf> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            problems.push(SkillProblem {
                path: dir.to_owned(),
                error: LoadError::Io(e.to_string()),
            });
            return Vec::new();
        }
    };
    let mut names: Vec<_> = entries
        .take(MAX_DIR_ENTRIES)
        .filter_map(Result::ok)
        .map(|entry| entry.file_name())
        .filter(|name| !name.to_string_lossy().starts_with('.'))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| dir.join(name))
        .filter(|path| path.is_dir())
        .collect()
}

fn load(dir: &Path) -> Result<Manifest, LoadError> {
    let text = read_capped(&dir.join(SKILL_FILE), MAX_FILE_BYTES)?;
    let (manifest, _body) = manifest::parse(&text)?;
    Ok(manifest)
}

/// Reads a text file of at most `limit` bytes; a larger one is refused
/// without being read.
pub(crate) fn read_capped(path: &Path, limit: u64) -> Result<String, LoadError> {
    let file = fs::File::open(path).map_err(|e| LoadError::Io(e.to_string()))?;
    let size = file
        .metadata()
        .map_err(|e| LoadError::Io(e.to_string()))?
        .len();
    if size > limit {
        return Err(LoadError::TooLarge { size, limit });
    }
    // The file can grow between the check and the read: read one byte past
    // the limit to notice.
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| LoadError::Io(e.to_string()))?;
    if bytes.len() as u64 > limit {
        return Err(LoadError::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    String::from_utf8(bytes).map_err(|_| LoadError::NotUtf8)
}
