//! `SKILL.md` parsing: front matter split from the body, YAML parsed,
//! `name` and `description` validated, requirements read in both forms.
//!
//! Validation follows the Agent Skills rules (name: 1–64 lowercase letters,
//! digits and single hyphens, not at either end; description: non-empty,
//! at most 1,024 characters). Every other key is tolerated, since skills
//! written for other tools carry their own (`license`, `allowed-tools`,
//! `homepage`, `user-invocable`, ...).
//!
//! Requirements come from Hearth's `requires:` (checked strictly: a typo
//! like `bin:` is an error, not a silently ungated skill) and from OpenClaw's
//! `metadata.openclaw` (read as leniently as OpenClaw reads it: lists or
//! comma-separated strings, and a `metadata` that is a JSON string).

use serde::Deserialize;
use serde_norway::Value;

/// Longest skill name.
const MAX_NAME_CHARS: usize = 64;
/// Longest description.
const MAX_DESCRIPTION_CHARS: usize = 1024;
/// Keys under `metadata` that hold OpenClaw's block: the current one, then
/// the project's former name, which older skills still use.
const OPENCLAW_KEYS: [&str; 2] = ["openclaw", "clawdbot"];

/// Why a `SKILL.md` (or a folder meant to hold skills) was not loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read: {0}")]
    Io(String),
    #[error("not a directory")]
    NotADirectory,
    #[error("{size} bytes, more than the {limit}-byte limit")]
    TooLarge { size: u64, limit: u64 },
    #[error("not UTF-8 text")]
    NotUtf8,
    #[error("no front matter: the file must start with a `---` line")]
    NoFrontMatter,
    #[error("front matter is not closed by a `---` line")]
    UnterminatedFrontMatter,
    #[error("front matter is not valid YAML: {0}")]
    Yaml(String),
    #[error("front matter is not a mapping of keys to values")]
    NotAMapping,
    #[error("`{0}` is missing")]
    Missing(&'static str),
    #[error("`{0}` must be a string")]
    NotAString(&'static str),
    #[error("invalid name `{name}`: {reason}")]
    InvalidName { name: String, reason: &'static str },
    #[error("invalid description: {0}")]
    InvalidDescription(&'static str),
    #[error("invalid `requires`: {0}")]
    InvalidRequires(String),
    #[error("skipped: more than {0} skills found")]
    LimitReached(usize),
}

/// What a skill needs before it is offered to the model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requirements {
    /// Commands that must all be on `PATH`.
    pub bins: Vec<String>,
    /// Commands of which at least one must be on `PATH`.
    pub any_bins: Vec<String>,
    /// Environment variables that must be set and non-empty.
    pub env: Vec<String>,
    /// Operating systems the skill runs on (`linux`, `darwin`, `win32`, as
    /// OpenClaw names them; `macos` and `windows` also match). Empty: any.
    pub os: Vec<String>,
    /// OpenClaw config paths (`browser.enabled`). Hearth has no OpenClaw
    /// config, so these are kept for display and not checked.
    pub config: Vec<String>,
    /// OpenClaw's `always: true`: offered whatever the other requirements say.
    pub always: bool,
}

impl Requirements {
    pub fn is_empty(&self) -> bool {
        self.bins.is_empty()
            && self.any_bins.is_empty()
            && self.env.is_empty()
            && self.os.is_empty()
            && self.config.is_empty()
    }

    fn merge(&mut self, other: Requirements) {
        extend_unique(&mut self.bins, other.bins);
        extend_unique(&mut self.any_bins, other.any_bins);
        extend_unique(&mut self.env, other.env);
        extend_unique(&mut self.os, other.os);
        extend_unique(&mut self.config, other.config);
        self.always |= other.always;
    }
}

/// A parsed and validated front matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Manifest {
    pub name: String,
    pub description: String,
    pub requires: Requirements,
}

/// Hearth's own requirement form, top-level in the front matter.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HearthRequires {
    #[serde(default)]
    bins: Vec<String>,
    #[serde(default, rename = "any-bins", alias = "anyBins", alias = "any_bins")]
    any_bins: Vec<String>,
    #[serde(default)]
    env: Vec<String>,
    #[serde(default)]
    os: Vec<String>,
}

/// Splits a `SKILL.md` into its front matter (without the `---` lines) and
/// its body. The file must open with a `---` line (after an optional byte
/// order mark); the front matter ends at the next line that is `---`.
pub(crate) fn split(text: &str) -> Result<(&str, &str), LoadError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().ok_or(LoadError::NoFrontMatter)?;
    if first.trim_end() != "---" {
        return Err(LoadError::NoFrontMatter);
    }
    let start = first.len();
    let mut offset = start;
    for line in lines {
        if line.trim_end() == "---" {
            let front = &text[start..offset];
            let body = &text[offset + line.len()..];
            return Ok((front, body));
        }
        offset += line.len();
    }
    Err(LoadError::UnterminatedFrontMatter)
}

/// Parses and validates a whole `SKILL.md`; returns the manifest and the body.
pub(crate) fn parse(text: &str) -> Result<(Manifest, &str), LoadError> {
    let (front, body) = split(text)?;
    let value: Value = serde_norway::from_str(front).map_err(|e| LoadError::Yaml(e.to_string()))?;
    if !value.is_mapping() {
        return Err(LoadError::NotAMapping);
    }
    let name = required_string(&value, "name")?;
    validate_name(&name)?;
    let description = required_string(&value, "description")?;
    validate_description(&description)?;

    let mut requires = Requirements::default();
    if let Some(raw) = value.get("requires").filter(|v| !v.is_null()) {
        requires.merge(hearth_requires(raw)?);
    }
    if let Some(block) = value.get("metadata").and_then(openclaw_block) {
        requires.merge(openclaw_requires(&block));
    }
    Ok((
        Manifest {
            name,
            description,
            requires,
        },
        body,
    ))
}

fn required_string(value: &Value, field: &'static str) -> Result<String, LoadError> {
    match value.get(field) {
        None | Some(Value::Null) => Err(LoadError::Missing(field)),
        Some(Value::String(s)) => Ok(s.trim().to_owned()),
        Some(_) => Err(LoadError::NotAString(field)),
    }
}

/// The Agent Skills name rules.
pub(crate) fn validate_name(name: &str) -> Result<(), LoadError> {
    let bad = |reason| {
        Err(LoadError::InvalidName {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return bad("it is empty");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return bad("only lowercase letters, digits and hyphens are allowed");
    }
    if name.len() > MAX_NAME_CHARS {
        return bad("longer than 64 characters");
    }
    if name.starts_with('-') || name.ends_with('-') {
        return bad("it must not start or end with a hyphen");
    }
    if name.contains("--") {
        return bad("it must not contain two hyphens in a row");
    }
    Ok(())
}

fn validate_description(description: &str) -> Result<(), LoadError> {
    if description.is_empty() {
        return Err(LoadError::InvalidDescription("it is empty"));
    }
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(LoadError::InvalidDescription("longer than 1024 characters"));
    }
    Ok(())
}

fn hearth_requires(raw: &Value) -> Result<Requirements, LoadError> {
    let parsed: HearthRequires = serde_norway::from_value(raw.clone())
        .map_err(|e| LoadError::InvalidRequires(e.to_string()))?;
    Ok(Requirements {
        bins: clean(parsed.bins),
        any_bins: clean(parsed.any_bins),
        env: clean(parsed.env),
        os: clean(parsed.os),
        config: Vec::new(),
        always: false,
    })
}

/// OpenClaw's block under `metadata`. OpenClaw writes `metadata` as
/// single-line JSON, which YAML reads as a mapping; some skills quote it,
/// so a string is parsed too (JSON is YAML's flow syntax).
fn openclaw_block(metadata: &Value) -> Option<Value> {
    let parsed;
    let metadata = match metadata {
        Value::String(text) => {
            parsed = serde_norway::from_str::<Value>(text).ok()?;
            &parsed
        }
        other => other,
    };
    OPENCLAW_KEYS
        .iter()
        .find_map(|key| metadata.get(*key).filter(|v| v.is_mapping()).cloned())
}

fn openclaw_requires(block: &Value) -> Requirements {
    let requires = block.get("requires");
    let list = |key: &str| requires.and_then(|r| r.get(key)).map(string_list);
    Requirements {
        bins: list("bins").unwrap_or_default(),
        any_bins: list("anyBins").unwrap_or_default(),
        env: list("env").unwrap_or_default(),
        config: list("config").unwrap_or_default(),
        os: block.get("os").map(string_list).unwrap_or_default(),
        always: block
            .get("always")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    }
}

/// A list of strings as OpenClaw accepts one: a sequence (non-strings
/// dropped) or a comma-separated string.
fn string_list(value: &Value) -> Vec<String> {
    let items: Vec<String> = match value {
        Value::Sequence(items) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Value::String(text) => text.split(',').map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    clean(items)
}

fn clean(items: Vec<String>) -> Vec<String> {
    let mut out = Vec::new();
    extend_unique(
        &mut out,
        items
            .into_iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
    );
    out
}

fn extend_unique(into: &mut Vec<String>, items: Vec<String>) {
    for item in items {
        if !into.contains(&item) {
            into.push(item);
        }
    }
}
