//! Gating: whether a skill's requirements hold on this machine, and if not,
//! why, in words `hearth skills list` can show.
//!
//! The machine is behind [`SkillEnv`] so that tests (and callers that add
//! config-provided variables) decide what exists; [`SystemEnv`] is the real
//! one and [`StaticEnv`] a fixed one.

use std::collections::BTreeSet;

use super::manifest::Requirements;

/// What a skill's requirements are checked against.
pub trait SkillEnv: Send + Sync {
    /// Whether the command `name` can be run from `PATH`.
    fn has_bin(&self, name: &str) -> bool;
    /// Whether the environment variable `name` is set to something non-empty.
    fn has_env(&self, name: &str) -> bool;
    /// The operating system, as OpenClaw (and Node) name it: `linux`,
    /// `darwin`, `win32`, ...
    fn os(&self) -> String {
        platform_name(std::env::consts::OS).to_owned()
    }
}

/// The real machine: `PATH` and the process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemEnv;

impl SkillEnv for SystemEnv {
    fn has_bin(&self, name: &str) -> bool {
        // Only bare command names: `which` would resolve `../x` or `/x`
        // against the working directory, which is not what a skill's
        // "needs `gh` on PATH" means.
        if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\\']) {
            return false;
        }
        // The `which` crate rather than a hand-written PATH scan: it checks
        // the executable bit on Unix and PATHEXT (`gh.exe`) on Windows,
        // which a short scan would get wrong, and it has no dependencies
        // beyond libc.
        which::which(name).is_ok()
    }

    fn has_env(&self, name: &str) -> bool {
        !name.is_empty()
            && !name.contains('=')
            && std::env::var_os(name).is_some_and(|v| !v.is_empty())
    }
}

/// A fixed environment: exactly the commands and variables given.
#[derive(Debug, Clone, Default)]
pub struct StaticEnv {
    pub bins: BTreeSet<String>,
    pub env: BTreeSet<String>,
    /// `None`: this machine's.
    pub os: Option<String>,
}

impl StaticEnv {
    pub fn new<B, E>(bins: B, env: E) -> Self
    where
        B: IntoIterator,
        B::Item: Into<String>,
        E: IntoIterator,
        E::Item: Into<String>,
    {
        StaticEnv {
            bins: bins.into_iter().map(Into::into).collect(),
            env: env.into_iter().map(Into::into).collect(),
            os: None,
        }
    }

    pub fn with_os(mut self, os: impl Into<String>) -> Self {
        self.os = Some(os.into());
        self
    }
}

impl SkillEnv for StaticEnv {
    fn has_bin(&self, name: &str) -> bool {
        self.bins.contains(name)
    }

    fn has_env(&self, name: &str) -> bool {
        self.env.contains(name)
    }

    fn os(&self) -> String {
        match &self.os {
            Some(os) => platform_name(os).to_owned(),
            None => platform_name(std::env::consts::OS).to_owned(),
        }
    }
}

/// Whether a skill can be offered to the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    Ready,
    /// Something it needs is missing; one reason per missing thing.
    Missing {
        reasons: Vec<String>,
    },
}

impl Gate {
    pub fn is_ready(&self) -> bool {
        matches!(self, Gate::Ready)
    }

    /// The reasons, empty when ready.
    pub fn reasons(&self) -> &[String] {
        match self {
            Gate::Ready => &[],
            Gate::Missing { reasons } => reasons,
        }
    }
}

/// Checks `requires` against `env`. Every missing thing is reported, not
/// just the first, so the user can fix them in one go.
pub fn check(requires: &Requirements, env: &dyn SkillEnv) -> Gate {
    if requires.always {
        return Gate::Ready;
    }
    let mut reasons = Vec::new();
    if !requires.os.is_empty() {
        let here = env.os();
        if !requires.os.iter().any(|os| platform_name(os) == here) {
            reasons.push(format!(
                "runs only on {} (this is {here})",
                requires.os.join(", ")
            ));
        }
    }
    for bin in &requires.bins {
        if !env.has_bin(bin) {
            reasons.push(format!("binary `{bin}` not on PATH"));
        }
    }
    if !requires.any_bins.is_empty() && !requires.any_bins.iter().any(|b| env.has_bin(b)) {
        let names: Vec<String> = requires.any_bins.iter().map(|b| format!("`{b}`")).collect();
        reasons.push(format!("none of {} on PATH", names.join(", ")));
    }
    for var in &requires.env {
        if !env.has_env(var) {
            reasons.push(format!("environment variable {var} not set"));
        }
    }
    if reasons.is_empty() {
        Gate::Ready
    } else {
        Gate::Missing { reasons }
    }
}

/// An OS name in OpenClaw's (Node's) spelling; Rust's and common spellings
/// map to it.
fn platform_name(os: &str) -> &str {
    match os.trim() {
        "macos" | "mac" | "osx" | "darwin" => "darwin",
        "windows" | "win" | "win32" => "win32",
        other => other,
    }
}
