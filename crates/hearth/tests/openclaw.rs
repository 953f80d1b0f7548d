//! The real OpenClaw CLI against a real Hearth daemon: Hearth must be a
//! drop-in gateway for `openclaw agent`, `health`, `status` and the
//! gateway-backed `sessions` commands. The CLI is installed by
//! `scripts/install-openclaw.sh`; without it this test fails (never skips).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{Daemon, TOKEN, TestDir, output_file};

/// Longest one CLI call may take (Node starts in ~1.5 s; the box is shared).
const CALL_TIMEOUT: Duration = Duration::from_secs(90);

/// `$HEARTH_OPENCLAW_DIR/openclaw`, by default under the user's cache dir.
fn openclaw_wrapper() -> PathBuf {
    let dir = match std::env::var_os("HEARTH_OPENCLAW_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => {
            let cache = match std::env::var_os("XDG_CACHE_HOME") {
                Some(dir) if !dir.is_empty() => PathBuf::from(dir),
                _ => PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache"),
            };
            cache.join("hearth/openclaw")
        }
    };
    let wrapper = dir.join("openclaw");
    assert!(
        wrapper.is_file(),
        "the OpenClaw CLI is not installed at {}: run `scripts/install-openclaw.sh` \
         (from the repository root; set HEARTH_OPENCLAW_DIR to install elsewhere)",
        wrapper.display()
    );
    wrapper
}

#[derive(Debug)]
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }
}

/// The CLI in a throwaway HOME (with the `openclaw.json` that `status`
/// needs before it talks to a gateway), pointed at `url` with `token`.
struct OpenClaw {
    wrapper: PathBuf,
    home: PathBuf,
    url: String,
}

impl OpenClaw {
    fn new(home: &Path, url: String) -> OpenClaw {
        std::fs::create_dir_all(home.join(".openclaw")).expect("mkdir");
        std::fs::write(home.join(".openclaw/openclaw.json"), "{}").expect("openclaw.json");
        OpenClaw {
            wrapper: openclaw_wrapper(),
            home: home.to_path_buf(),
            url,
        }
    }

    fn run(&self, token: &str, args: &[&str]) -> Run {
        let out = self.home.join("out");
        let err = self.home.join("err");
        let mut child = Command::new(&self.wrapper)
            .args(args)
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("XDG_CACHE_HOME", self.home.join(".cache"))
            .env("XDG_DATA_HOME", self.home.join(".local/share"))
            .env("XDG_STATE_HOME", self.home.join(".local/state"))
            .env("OPENCLAW_GATEWAY_URL", &self.url)
            .env("OPENCLAW_GATEWAY_TOKEN", token)
            .env("NO_COLOR", "1")
            .env_remove("OPENCLAW_CONFIG_PATH")
            .env_remove("OPENCLAW_STATE_DIR")
            .stdin(std::process::Stdio::null())
            .stdout(output_file(&out))
            .stderr(output_file(&err))
            .spawn()
            .expect("start openclaw");
        let deadline = Instant::now() + CALL_TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait openclaw") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "openclaw {args:?} did not finish in {CALL_TIMEOUT:?}; stderr: {}",
                    std::fs::read_to_string(&err).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Run {
            status,
            stdout: std::fs::read_to_string(&out).unwrap_or_default(),
            stderr: std::fs::read_to_string(&err).unwrap_or_default(),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn openclaw_cli_against_hearth() {
    let dir = TestDir::new("openclaw");
    let daemon = Daemon::start(&dir.path().join("hearth"), "").await;
    let home = dir.path().join("home");
    let cli = OpenClaw::new(&home, daemon.ws_url());

    // agent, explicit session: the echo comes back as the payload text.
    let run = cli.run(
        TOKEN,
        &[
            "agent",
            "--agent",
            "main",
            "--session-key",
            "agent:main:oc",
            "--message",
            "hello from openclaw",
            "--json",
        ],
    );
    assert!(run.status.success(), "openclaw agent: {run:?}");
    let answer = run.json();
    assert_eq!(answer["status"], "ok", "{answer}");
    assert_eq!(
        answer["result"]["payloads"][0]["text"], "hello from openclaw",
        "{answer}"
    );

    // agent without a session key: lands in the agent's main session.
    let run = cli.run(
        TOKEN,
        &["agent", "--agent", "main", "--message", "hi", "--json"],
    );
    assert!(
        run.status.success(),
        "openclaw agent (main session): {run:?}"
    );
    let answer = run.json();
    assert_eq!(answer["result"]["payloads"][0]["text"], "hi", "{answer}");
    let mut client = daemon.client().await;
    let main = client
        .request("chat.history", json!({ "sessionKey": "agent:main:main" }))
        .await
        .expect("chat.history");
    let texts: Vec<&str> = main["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["content"][0]["text"].as_str())
        .collect();
    assert_eq!(
        texts,
        ["hi", "hi"],
        "agent:main:main holds the turn: {main}"
    );

    let run = cli.run(TOKEN, &["health", "--json"]);
    assert!(run.status.success(), "openclaw health: {run:?}");
    assert_eq!(run.json()["ok"], true, "{run:?}");

    let run = cli.run(TOKEN, &["status", "--json"]);
    assert!(run.status.success(), "openclaw status: {run:?}");
    let status = run.json();
    assert_eq!(
        status["gateway"]["reachable"], true,
        "{}",
        status["gateway"]
    );

    // sessions delete goes over the gateway (sessions.list, sessions.delete).
    let run = cli.run(
        TOKEN,
        &["sessions", "delete", "agent:main:oc", "--yes", "--json"],
    );
    assert!(run.status.success(), "openclaw sessions delete: {run:?}");
    let deleted = run.json();
    assert_eq!(deleted["results"][0]["status"], "deleted", "{deleted}");
    let gone = client
        .request("sessions.get", json!({ "key": "agent:main:oc" }))
        .await;
    assert!(gone.is_err(), "the session is still there: {gone:?}");
    client.close().await;

    // A wrong token is refused.
    let run = cli.run("not-the-token", &["health", "--json"]);
    assert!(
        !run.status.success(),
        "health with a wrong token succeeded: {run:?}"
    );
    assert!(run.stderr.contains("unauthorized"), "{run:?}");
}
