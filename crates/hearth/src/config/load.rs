//! Reading the config: file → `toml::Table` → environment overrides →
//! [`Config`] → [`Config::validate`].
//!
//! Environment overrides are `HEARTH_<SECTION>__<KEY>` variables: the part
//! after `HEARTH_` is split on `__` into a key path and lowercased, so
//! `HEARTH_GATEWAY__BIND` sets `gateway.bind` and
//! `HEARTH_MODELS__LOCAL__BASE_URL` sets `models.local.base_url`. The one
//! top-level key, `default_agent`, is `HEARTH_DEFAULT_AGENT`. The value is
//! read as a TOML value when it is one (`10`, `true`, `"quoted"`,
//! `["a", "b"]`, `{ provider = "echo" }`) and as a plain string otherwise.
//!
//! Every other `HEARTH_*` variable (`HEARTH_CONFIG`, `HEARTH_LOG`, a test's
//! `HEARTH_TEST_KEY`, ...) is ignored — except one that looks like a
//! section with a single underscore (`HEARTH_GATEWAY_BIND`), which is
//! refused: silently ignoring a typo'd override is how a daemon ends up on
//! the wrong port.
//!
//! Error locations: a problem in the file is reported as `file:line:col`
//! from the TOML parser's spans; a problem introduced by an override names
//! the variable. Because spans exist only for the file's own text, the file
//! is deserialized on its own to tell the two apart (see [`blame`]).

use super::error::{ConfigError, line_column};
use super::schema::Config;
use std::path::Path;

const PREFIX: &str = "HEARTH_";

/// Sections a single-underscore variable is checked against for typos.
const SECTIONS: &[&str] = &[
    "GATEWAY", "STATE", "PIPELINE", "LOG", "ROUTER", "MODELS", "AGENTS",
];

/// One applicable `HEARTH_*` variable.
#[derive(Debug, Clone)]
struct Override {
    var: String,
    /// Lowercased key path, e.g. `["gateway", "bind"]`.
    path: Vec<String>,
    value: toml::Value,
    /// Whether the raw text was taken as TOML (a number, bool, ...) rather
    /// than a plain string: used to hint at quoting in errors.
    typed: bool,
}

impl Config {
    /// Reads `path`, applies the `HEARTH_*` overrides found in `env` and
    /// validates the result. Pass [`process_env`] for the real environment.
    pub fn load(
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ConfigError::NotFound {
                    path: path.to_path_buf(),
                });
            }
            Err(error) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    error,
                });
            }
        };
        let config = Config::parse(path, &text, env)?;
        config.validate().map_err(|e| e.in_file(path))?;
        Ok(config)
    }

    /// Parses `text` (the contents of `path`, which is used only in error
    /// messages) and applies overrides, without validating.
    pub fn parse(
        path: &Path,
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let file_error = |e: toml::de::Error| ConfigError::Parse {
            path: path.to_path_buf(),
            position: e.span().map(|span| line_column(text, span.start)),
            message: e.message().trim_end().to_string(),
        };
        let table: toml::Table = text.parse().map_err(file_error)?;
        let overrides = overrides(env)?;
        if overrides.is_empty() {
            // The direct path keeps the parser's spans for every error.
            return toml::from_str(text).map_err(file_error);
        }
        let merged = apply(table.clone(), &overrides)?;
        match merged.try_into::<Config>() {
            Ok(config) => Ok(config),
            Err(error) => Err(blame(text, table, &overrides, &error).unwrap_or_else(file_error)),
        }
    }
}

/// The process environment as UTF-8 pairs. `std::env::vars` would panic on
/// a non-UTF-8 variable anywhere in the environment; such variables cannot
/// be overrides anyway, so they are skipped.
pub fn process_env() -> impl Iterator<Item = (String, String)> {
    std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
}

/// Decides whether the merged document's `error` comes from the file or an
/// override. Returns `Err(file error)` (with spans) when the file alone
/// fails the same way, else the override error naming the variable.
fn blame(
    text: &str,
    file: toml::Table,
    overrides: &[Override],
    error: &toml::de::Error,
) -> Result<ConfigError, toml::de::Error> {
    if let Err(file_error) = toml::from_str::<Config>(text)
        && file_error.message() == error.message()
    {
        return Err(file_error);
    }
    // Apply the overrides one at a time: the first after which the final
    // error appears is the culprit. Deserializing is cheap at config size.
    let mut table = file;
    let mut before = table.clone().try_into::<Config>().err();
    for o in overrides {
        // `apply` on the merged set already succeeded, so it cannot fail here.
        if let Ok(next) = apply(table.clone(), std::slice::from_ref(o)) {
            table = next;
        }
        let after = table.clone().try_into::<Config>().err();
        let same = |e: &Option<toml::de::Error>| {
            e.as_ref().is_some_and(|e| e.message() == error.message())
        };
        if same(&after) && !same(&before) {
            return Ok(env_error(o, error));
        }
        before = after;
    }
    let vars: Vec<&str> = overrides.iter().map(|o| o.var.as_str()).collect();
    Ok(ConfigError::Env {
        var: vars.join(", "),
        message: describe(error),
    })
}

fn env_error(o: &Override, error: &toml::de::Error) -> ConfigError {
    let mut message = describe(error);
    if o.typed && error.message().contains("expected a string") {
        message.push_str(&format!(
            " (the value was read as TOML; to pass it as a string, quote it: {}='\"...\"')",
            o.var
        ));
    }
    ConfigError::Env {
        var: o.var.clone(),
        message,
    }
}

/// A span-less error's message plus the key path toml appends
/// (`... in `pipeline.max_pending``), on one line.
fn describe(error: &toml::de::Error) -> String {
    error.to_string().trim_end().replace('\n', " ")
}

/// The applicable overrides in `env`, sorted by variable name so the result
/// does not depend on the environment's order.
fn overrides(
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<Override>, ConfigError> {
    let mut out = Vec::new();
    for (var, raw) in env {
        let Some(rest) = var.strip_prefix(PREFIX) else {
            continue;
        };
        let path: Vec<String> = if rest.contains("__") {
            rest.split("__").map(str::to_ascii_lowercase).collect()
        } else if rest == "DEFAULT_AGENT" {
            vec!["default_agent".to_string()]
        } else if let Some(section) = SECTIONS
            .iter()
            .find(|s| rest.len() > s.len() + 1 && rest.starts_with(&format!("{s}_")))
        {
            let suggestion = format!("{PREFIX}{section}__{}", &rest[section.len() + 1..]);
            return Err(ConfigError::Env {
                message: format!(
                    "separate the section from the key with a double underscore: did you mean {suggestion}?"
                ),
                var,
            });
        } else {
            continue;
        };
        if path.iter().any(String::is_empty) {
            return Err(ConfigError::Env {
                var,
                message: "empty key segment (use `__` only between keys)".to_string(),
            });
        }
        let (value, typed) = parse_value(&raw);
        out.push(Override {
            var,
            path,
            value,
            typed,
        });
    }
    out.sort_by(|a, b| a.var.cmp(&b.var));
    Ok(out)
}

/// `raw` as a TOML value if it is exactly one, else as a string. Parsing it
/// as the right-hand side of a one-key document accepts every TOML value
/// form; requiring exactly one key stops a value with a newline from
/// smuggling in other keys.
fn parse_value(raw: &str) -> (toml::Value, bool) {
    if let Ok(mut table) = format!("v = {raw}").parse::<toml::Table>()
        && table.len() == 1
        && let Some(value) = table.remove("v")
    {
        let typed = !value.is_str();
        return (value, typed);
    }
    (toml::Value::String(raw.to_string()), false)
}

/// Sets each override's path in `table`, creating missing tables.
fn apply(mut table: toml::Table, overrides: &[Override]) -> Result<toml::Table, ConfigError> {
    for o in overrides {
        // `overrides` never yields an empty path (`split` gives at least one
        // segment), so `else` is unreachable.
        let Some((leaf, parents)) = o.path.split_last() else {
            continue;
        };
        let mut here = &mut table;
        for (depth, key) in parents.iter().enumerate() {
            let entry = here
                .entry(key.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            here = entry.as_table_mut().ok_or_else(|| ConfigError::Env {
                var: o.var.clone(),
                message: format!("`{}` is not a table", o.path[..=depth].join(".")),
            })?;
        }
        here.insert(leaf.clone(), o.value.clone());
    }
    Ok(table)
}
