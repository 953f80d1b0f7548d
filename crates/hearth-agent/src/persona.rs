//! The system prompt, from the persona files in an agent's workspace:
//! `AGENTS.md` (how to work) and `SOUL.md` (who to be), the pair OpenClaw
//! users already write. Files are read at each turn so edits apply at once.

use std::io;
use std::path::Path;

/// The instructions file `hearth init` writes.
pub const AGENTS_FILE: &str = "AGENTS.md";
/// The persona file `hearth init` writes.
pub const SOUL_FILE: &str = "SOUL.md";

/// Used when an agent has no workspace or its files are empty.
pub const FALLBACK_PROMPT: &str =
    "You are Hearth, a helpful personal assistant. Answer clearly and concisely.";

/// Longest persona file read, so a runaway file cannot eat the context.
const MAX_FILE_BYTES: u64 = 64 * 1024;

const DEFAULT_AGENTS_MD: &str = "# Instructions\n\n\
You are a personal assistant running on the user's own machine through Hearth.\n\
- Answer the question that was asked; be concise unless asked for detail.\n\
- Say so when you do not know something instead of guessing.\n\
- Never reveal secrets, tokens or file contents you were not asked for.\n";

const DEFAULT_SOUL_MD: &str = "# Persona\n\n\
Warm, direct and practical. You respect the user's time and privacy.\n";

/// Builds the system prompt from the workspace, or the fallback prompt.
pub fn system_prompt(workspace: Option<&Path>) -> String {
    let Some(dir) = workspace else {
        return FALLBACK_PROMPT.to_owned();
    };
    let mut prompt = String::new();
    for name in [AGENTS_FILE, SOUL_FILE] {
        if let Some(text) = read_capped(&dir.join(name)) {
            let text = text.trim();
            if !text.is_empty() {
                if !prompt.is_empty() {
                    prompt.push_str("\n\n");
                }
                prompt.push_str(text);
            }
        }
    }
    if prompt.is_empty() {
        FALLBACK_PROMPT.to_owned()
    } else {
        prompt
    }
}

fn read_capped(path: &Path) -> Option<String> {
    use std::io::Read;
    let file = std::fs::File::open(path).ok()?;
    let mut text = String::new();
    file.take(MAX_FILE_BYTES).read_to_string(&mut text).ok()?;
    Some(text)
}

/// Writes the default persona files into `workspace`, keeping any that
/// already exist (a user's edits are never overwritten).
pub fn write_defaults(workspace: &Path) -> io::Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(workspace)?;
    let mut written = Vec::new();
    for (name, text) in [
        (AGENTS_FILE, DEFAULT_AGENTS_MD),
        (SOUL_FILE, DEFAULT_SOUL_MD),
    ] {
        let path = workspace.join(name);
        if !path.exists() {
            std::fs::write(&path, text)?;
            written.push(path);
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_joins_both_files_and_falls_back_when_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(system_prompt(Some(dir.path())), FALLBACK_PROMPT);
        assert_eq!(write_defaults(dir.path()).unwrap().len(), 2);
        let prompt = system_prompt(Some(dir.path()));
        assert!(
            prompt.starts_with("# Instructions") && prompt.contains("# Persona"),
            "{prompt}"
        );
        std::fs::write(dir.path().join(SOUL_FILE), "Be a pirate.").unwrap();
        assert!(
            write_defaults(dir.path()).unwrap().is_empty(),
            "existing files are kept"
        );
        assert!(system_prompt(Some(dir.path())).ends_with("Be a pirate."));
    }
}
