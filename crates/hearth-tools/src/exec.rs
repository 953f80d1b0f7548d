//! The `exec` tool: a shell command in the agent's workspace, under an
//! approval policy (`deny`, `allowlist`, `ask` — the default — or `full`),
//! with a time limit, a capped output and a scrubbed environment.
//!
//! Under `ask`, a command not on the allowlist waits for an operator's yes
//! through the [`Approver`] (the control protocol's `exec.approval.*` and
//! `hearth approvals`); no answer in time is a no.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hearth_core::{
    ApprovalDecision, ApprovalRequest, Approver, ToolContext, ToolError, ToolResult, TypedTool,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Longest command text accepted: a command is a line, not a script file.
const MAX_COMMAND_CHARS: usize = 8192;
/// Environment variables a command keeps. Everything else (API keys, tokens
/// in the daemon's environment) is removed.
const KEPT_ENV: &[&str] = &[
    "PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "USER", "TERM",
];
/// Characters that chain, substitute or redirect: a command holding one of
/// them never matches an allowlisted program name (`ls; rm -rf ~` is not
/// `ls`). Exact allowlist entries still match.
const SHELL_META: &[char] = &[
    ';', '&', '|', '`', '$', '>', '<', '\n', '(', ')', '\\', '*', '?', '~', '{', '[',
];

/// When a command may run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExecPolicy {
    /// Never.
    Deny,
    /// Only commands on the allowlist.
    Allowlist,
    /// Allowlisted commands run; any other waits for an operator's yes.
    #[default]
    Ask,
    /// Every command runs. For a machine you do not mind losing.
    Full,
}

/// `[tools.exec]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ExecConfig {
    /// `deny`, `allowlist`, `ask` (default) or `full`.
    pub policy: ExecPolicy,
    /// Commands that need no approval: a program name (`ls`, `git`), which
    /// matches a simple command starting with it, or a whole command line
    /// (`git status --short`), which matches exactly.
    pub allowlist: Vec<String>,
    /// Seconds a command may run before it and its children are killed.
    /// Default 60.
    pub timeout_secs: u64,
    /// Bytes of output (stdout and stderr each) kept. Default 32 KiB.
    pub max_output_bytes: usize,
    /// The shell commands run with (`<shell> -c <command>`). Default `/bin/sh`.
    pub shell: PathBuf,
}

impl Default for ExecConfig {
    fn default() -> Self {
        Self {
            policy: ExecPolicy::Ask,
            allowlist: Vec::new(),
            timeout_secs: 60,
            max_output_bytes: 32 * 1024,
            shell: PathBuf::from("/bin/sh"),
        }
    }
}

impl ExecConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=3600).contains(&self.timeout_secs) {
            return Err(format!(
                "timeout_secs {} is outside 1..=3600",
                self.timeout_secs
            ));
        }
        if !(256..=16 * 1024 * 1024).contains(&self.max_output_bytes) {
            return Err(format!(
                "max_output_bytes {} is outside 256..=16777216",
                self.max_output_bytes
            ));
        }
        if self.allowlist.iter().any(|entry| entry.trim().is_empty()) {
            return Err("allowlist has an empty entry".into());
        }
        Ok(())
    }

    /// Whether `command` is allowlisted.
    pub fn allows(&self, command: &str) -> bool {
        let command = command.trim();
        let simple = !command.contains(SHELL_META);
        let program = command.split_whitespace().next().unwrap_or_default();
        self.allowlist.iter().any(|entry| {
            let entry = entry.trim();
            entry == command || (simple && !entry.contains(' ') && entry == program)
        })
    }
}

/// The `exec` tool.
#[derive(Debug, Clone)]
pub struct Exec {
    config: ExecConfig,
    /// Where commands run: the agent's workspace.
    workdir: PathBuf,
    approver: Option<Arc<dyn Approver>>,
}

impl Exec {
    pub fn new(config: ExecConfig, workdir: PathBuf, approver: Option<Arc<dyn Approver>>) -> Self {
        Self {
            config,
            workdir,
            approver,
        }
    }
}

/// `exec`'s arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecArgs {
    /// The shell command to run, e.g. `ls -la` or `git log -5 --oneline`.
    pub command: String,
}

#[async_trait]
impl TypedTool for Exec {
    type Args = ExecArgs;
    const NAME: &'static str = "exec";

    fn description(&self) -> String {
        let when = match self.config.policy {
            ExecPolicy::Deny => "Commands are disabled on this assistant.",
            ExecPolicy::Allowlist => "Only allowlisted commands run; others are refused.",
            ExecPolicy::Ask => {
                "Commands that are not allowlisted wait for the operator's approval."
            }
            ExecPolicy::Full => "Commands run without approval.",
        };
        format!(
            "Runs a shell command in the agent's workspace folder and returns its exit code and output. {when} Time limit {} s.",
            self.config.timeout_secs
        )
    }

    fn max_duration(&self) -> Option<Duration> {
        let approval = self
            .approver
            .as_ref()
            .map_or(Duration::ZERO, |a| a.timeout());
        Some(approval + Duration::from_secs(self.config.timeout_secs + 5))
    }

    async fn run(&self, context: &ToolContext, args: ExecArgs) -> ToolResult {
        let command = args.command.trim();
        if command.is_empty() {
            return Err(ToolError::InvalidArguments("command is empty".into()));
        }
        if command.chars().count() > MAX_COMMAND_CHARS {
            return Err(ToolError::InvalidArguments(format!(
                "command is longer than {MAX_COMMAND_CHARS} characters"
            )));
        }
        self.authorize(context, command).await?;
        tracing::info!(command, caller = %context.caller(), agent = %context.agent_id, "running a command");
        self.spawn(context, command).await
    }
}

impl Exec {
    async fn authorize(&self, context: &ToolContext, command: &str) -> Result<(), ToolError> {
        let allowlisted = self.config.allows(command);
        match self.config.policy {
            ExecPolicy::Full => Ok(()),
            ExecPolicy::Deny => Err(ToolError::Denied(
                "commands are disabled here (exec policy `deny`)".into(),
            )),
            ExecPolicy::Allowlist if allowlisted => Ok(()),
            ExecPolicy::Allowlist => Err(ToolError::Denied(format!(
                "`{command}` is not on the allowlist (exec policy `allowlist`)"
            ))),
            ExecPolicy::Ask if allowlisted => Ok(()),
            ExecPolicy::Ask => {
                let Some(approver) = &self.approver else {
                    return Err(ToolError::Denied(
                        "this command needs an operator's approval and none can be asked".into(),
                    ));
                };
                let request = ApprovalRequest {
                    tool: "exec".into(),
                    command: command.to_owned(),
                    cwd: Some(self.workdir.display().to_string()),
                    agent_id: context.agent_id.clone(),
                    session_key: context.session_key.clone(),
                    caller: context.caller(),
                };
                match approver.approve(request, &context.cancel).await {
                    ApprovalDecision::Approved { .. } => Ok(()),
                    ApprovalDecision::Denied { .. } => Err(ToolError::Denied(
                        "the operator refused to run this command".into(),
                    )),
                    ApprovalDecision::Expired => Err(ToolError::Denied(format!(
                        "no operator approved this command within {} s; it did not run",
                        approver.timeout().as_secs()
                    ))),
                    ApprovalDecision::Cancelled => Err(ToolError::Cancelled),
                }
            }
        }
    }

    async fn spawn(&self, context: &ToolContext, command: &str) -> ToolResult {
        std::fs::create_dir_all(&self.workdir)
            .map_err(|e| ToolError::Failed(format!("cannot create the workspace folder: {e}")))?;
        let mut process = tokio::process::Command::new(&self.config.shell);
        process
            .arg("-c")
            .arg(command)
            .current_dir(&self.workdir)
            .env_clear()
            .envs(
                KEPT_ENV
                    .iter()
                    .filter_map(|k| std::env::var_os(k).map(|v| (k, v))),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so a time-out kills what it started too.
            .process_group(0)
            .kill_on_drop(true);
        let mut child = process.spawn().map_err(|e| {
            ToolError::Failed(format!("cannot start {}: {e}", self.config.shell.display()))
        })?;
        let group = child.id();
        let limit = self.config.max_output_bytes;
        let stdout = read_capped(child.stdout.take(), limit);
        let stderr = read_capped(child.stderr.take(), limit);
        let timeout = Duration::from_secs(self.config.timeout_secs);
        let waited = async {
            let (status, out, err) = tokio::join!(child.wait(), stdout, stderr);
            (status, out, err)
        };
        let outcome = tokio::select! {
            result = tokio::time::timeout(timeout, waited) => result.map_err(|_| ToolError::TimedOut(timeout.as_secs())),
            _ = context.cancel.cancelled() => Err(ToolError::Cancelled),
        };
        let (status, out, err) = match outcome {
            Ok(done) => done,
            Err(error) => {
                kill_group(group);
                return Err(error);
            }
        };
        // Children left in the background must not outlive the call.
        kill_group(group);
        let status = status
            .map_err(|e| ToolError::Failed(format!("waiting for the command failed: {e}")))?;
        let code = status
            .code()
            .map_or_else(|| "killed by a signal".to_owned(), |c| c.to_string());
        let mut text = format!("exit code: {code}\n");
        if !out.is_empty() {
            text.push_str("stdout:\n");
            text.push_str(&out);
            if !out.ends_with('\n') {
                text.push('\n');
            }
        }
        if !err.is_empty() {
            text.push_str("stderr:\n");
            text.push_str(&err);
        }
        if out.is_empty() && err.is_empty() {
            text.push_str("(no output)");
        }
        Ok(text)
    }
}

/// Reads a pipe to the end, keeping the first `limit` bytes (the rest is
/// drained so the command does not block on a full pipe) and noting how
/// much was cut.
async fn read_capped(pipe: Option<impl AsyncRead + Unpin>, limit: usize) -> String {
    let Some(mut pipe) = pipe else {
        return String::new();
    };
    let mut kept = Vec::new();
    let mut total = 0usize;
    // On the heap: two of these futures live in one call.
    let mut buffer = vec![0u8; 8192];
    loop {
        match pipe.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                total += n;
                let room = limit.saturating_sub(kept.len());
                kept.extend_from_slice(&buffer[..n.min(room)]);
            }
        }
    }
    let mut text = String::from_utf8_lossy(&kept).into_owned();
    if total > kept.len() {
        text.push_str(&format!(
            "\n[… {} more bytes not shown]",
            total - kept.len()
        ));
    }
    text
}

fn kill_group(group: Option<u32>) {
    if let Some(pid) = group.and_then(|p| i32::try_from(p).ok()) {
        // The group may be gone already: nothing to do then.
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}
