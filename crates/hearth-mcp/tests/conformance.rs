//! The official MCP conformance runner (`@modelcontextprotocol/conformance`,
//! client mode) against `examples/conformance_client.rs`, which connects
//! through `McpManager` as the daemon does.
//!
//! For each client scenario the runner starts a test server, runs the
//! client with the server's URL, and checks the traffic. Its servers bind
//! every interface, so each run happens in a network namespace of its own
//! (`unshare -n`, loopback only). Every scenario the pinned runner knows is
//! in [`EXPECTED`] with the outcome we claim; a change either way fails the
//! test, as does a scenario the table does not know.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use crate::support::bin;

/// Each client scenario of @modelcontextprotocol/conformance 0.1.16, and
/// whether hearth-mcp passes it.
const EXPECTED: &[(&str, bool)] = &[
    ("initialize", true),
    ("tools_call", true),
    // SEP-1699: resume an SSE stream the server closed, after its `retry`,
    // with Last-Event-ID (rmcp does this).
    ("sse-retry", true),
    // No elicitation: the agent cannot fill in a server's form in the
    // middle of a call, so the client declares no such capability.
    ("elicitation-sep1034-client-defaults", false),
    // No OAuth: HTTP servers get the static headers of their config
    // (e.g. `Authorization = "Bearer ..."`).
    ("auth/metadata-default", false),
    ("auth/metadata-var1", false),
    ("auth/metadata-var2", false),
    ("auth/metadata-var3", false),
    ("auth/basic-cimd", false),
    ("auth/scope-from-www-authenticate", false),
    ("auth/scope-from-scopes-supported", false),
    ("auth/scope-omitted-when-undefined", false),
    ("auth/scope-step-up", false),
    ("auth/scope-retry-limit", false),
    ("auth/token-endpoint-auth-basic", false),
    ("auth/token-endpoint-auth-post", false),
    ("auth/token-endpoint-auth-none", false),
    ("auth/pre-registration", false),
    ("auth/2025-03-26-oauth-metadata-backcompat", false),
    ("auth/2025-03-26-oauth-endpoint-fallback", false),
    // Passes only because without OAuth no token goes anywhere, let alone
    // to a mismatched resource.
    ("auth/resource-mismatch", true),
    ("auth/offline-access-scope", false),
    ("auth/offline-access-not-supported", false),
    ("auth/client-credentials-jwt", false),
    ("auth/client-credentials-basic", false),
    ("auth/cross-app-access-complete-flow", false),
];

#[test]
fn the_conformance_runner_agrees_with_the_scenarios_we_claim() {
    let client = conformance_client();
    let runner = bin("mcp-conformance");

    let listed = client_scenarios(&runner);
    let known: Vec<&str> = EXPECTED.iter().map(|(s, _)| *s).collect();
    let unknown: Vec<&String> = listed
        .iter()
        .filter(|s| !known.contains(&s.as_str()))
        .collect();
    let gone: Vec<&&str> = known
        .iter()
        .filter(|s| !listed.iter().any(|l| l == *s))
        .collect();
    assert!(
        unknown.is_empty() && gone.is_empty(),
        "the runner's client scenarios changed: new {unknown:?}, gone {gone:?}; update EXPECTED"
    );

    let mut wrong = Vec::new();
    for (scenario, expect_pass) in EXPECTED {
        let mut run = run_scenario(&runner, &client, scenario);
        // sse-retry also checks the reconnection's timing (500 ms, late by
        // at most 200): on a loaded machine a run can come out "slightly
        // late", a warning. One more run tells that from a real failure.
        if *expect_pass && !run.passed && run.only_warnings {
            run = run_scenario(&runner, &client, scenario);
        }
        if run.passed != *expect_pass {
            wrong.push(format!(
                "{scenario}: expected {}, got {}\n{}",
                if *expect_pass { "pass" } else { "fail" },
                if run.passed { "pass" } else { "fail" },
                run.output
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

/// The example binary cargo built beside this test, checked to be newer
/// than the sources it is built from (`cargo test --test integration`
/// alone does not rebuild examples).
fn conformance_client() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/integration-<hash> → target/<profile>/examples/
    let path = exe
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("examples/conformance_client");
    let rebuild = "build it with `cargo build -p hearth-mcp --example conformance_client` \
                   (a plain `cargo test -p hearth-mcp` does)";
    let built = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| panic!("{} is missing: {rebuild}", path.display()));
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sources = [
        crate_dir.join("src"),
        crate_dir.join("examples"),
        crate_dir.join("Cargo.toml"),
        crate_dir.join("../hearth-core/src"),
    ];
    let newest = sources.iter().map(|p| newest_mtime(p)).max().unwrap();
    assert!(
        newest <= built,
        "{} is older than its sources: {rebuild}",
        path.display()
    );
    path
}

fn newest_mtime(path: &Path) -> SystemTime {
    let meta = std::fs::metadata(path).unwrap();
    let own = meta.modified().unwrap();
    if !meta.is_dir() {
        return own;
    }
    std::fs::read_dir(path)
        .unwrap()
        .map(|entry| newest_mtime(&entry.unwrap().path()))
        .fold(own, SystemTime::max)
}

/// `conformance list`'s client scenarios.
fn client_scenarios(runner: &str) -> Vec<String> {
    let out = Command::new(runner)
        .arg("list")
        .output()
        .expect("run the conformance runner");
    assert!(out.status.success(), "conformance list failed: {out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let section = text
        .split_once("Client scenarios")
        .expect("a client section in `conformance list`")
        .1;
    section
        .lines()
        .filter_map(|line| line.trim().strip_prefix("- "))
        .map(|rest| rest.split_whitespace().next().unwrap_or("").to_owned())
        .collect()
}

struct Run {
    passed: bool,
    /// Failed on warnings alone (no check failed).
    only_warnings: bool,
    output: String,
}

fn run_scenario(runner: &str, client: &Path, scenario: &str) -> Run {
    let results = tempfile::tempdir().unwrap();
    let out = Command::new("timeout")
        .arg("120")
        .args([
            "unshare",
            "-n",
            "sh",
            "-c",
            r#"ip link set lo up && exec "$@""#,
            "sh",
        ])
        .arg(runner)
        .args(["client", "--scenario", scenario, "--command"])
        .arg(client)
        .arg("-o")
        .arg(results.path())
        .env("RUST_LOG", "hearth_mcp=debug")
        .output()
        .expect("run unshare (util-linux) and the conformance runner");
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !output.contains("unshare failed"),
        "the conformance runner's servers bind every interface, so it runs in a network \
         namespace, which needs root (CAP_SYS_ADMIN):\n{output}"
    );
    let statuses = check_statuses(results.path());
    let only_warnings =
        statuses.iter().any(|s| s == "WARNING") && !statuses.iter().any(|s| s == "FAILURE");
    // Keep the end of the runner's report, which lists the failed checks.
    let tail: String = {
        let lines: Vec<&str> = output.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    };
    Run {
        passed: out.status.success(),
        only_warnings,
        output: tail,
    }
}

/// The `status` of every check in the run's `checks.json`.
fn check_statuses(dir: &Path) -> Vec<String> {
    let mut statuses = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if path.file_name().is_some_and(|n| n == "checks.json") {
            let text = std::fs::read_to_string(&path).unwrap();
            let checks: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            for check in checks.as_array().into_iter().flatten() {
                statuses.push(check["status"].as_str().unwrap_or("").to_owned());
            }
        }
    }
    statuses
}
