//! `hearth doctor`: checks the install piece by piece and says how to fix
//! each problem. Exit code 1 if any check fails.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use serde_json::{Value, json};

use crate::config::{self, Config};
use crate::paths;

#[derive(Debug)]
struct Check {
    name: String,
    ok: bool,
    detail: String,
    fix: Option<String>,
}

fn pass(name: impl Into<String>, detail: impl Into<String>) -> Check {
    Check {
        name: name.into(),
        ok: true,
        detail: detail.into(),
        fix: None,
    }
}

fn fail(name: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Check {
    Check {
        name: name.into(),
        ok: false,
        detail: detail.into(),
        fix: Some(fix.into()),
    }
}

pub async fn run(flag: Option<&Path>, json_out: bool) -> Result<ExitCode> {
    let mut checks = Vec::new();
    let path = super::config_path(flag)?;
    let config = check_config(&path, &mut checks);
    if let Some(config) = &config {
        check_state_dir(config, &mut checks);
        check_port(config, &mut checks).await;
        check_models(config, &mut checks).await;
        check_memory(config, &mut checks);
        check_agents(config, &mut checks);
    }
    let failed = checks.iter().filter(|c| !c.ok).count();
    if json_out {
        let rows: Vec<Value> = checks
            .iter()
            .map(|c| json!({ "check": c.name, "ok": c.ok, "detail": c.detail, "fix": c.fix }))
            .collect();
        super::print_json(&json!({ "ok": failed == 0, "checks": rows }));
    } else {
        for c in &checks {
            println!(
                "{} {:<22} {}",
                if c.ok { "ok  " } else { "FAIL" },
                c.name,
                c.detail
            );
            if let Some(fix) = &c.fix {
                println!("     {:<22} fix: {fix}", "");
            }
        }
        println!(
            "\n{}",
            if failed == 0 {
                "All checks passed.".to_owned()
            } else {
                format!("{failed} check(s) failed.")
            }
        );
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn check_config(path: &PathBuf, checks: &mut Vec<Check>) -> Option<Config> {
    if !path.exists() {
        checks.push(fail(
            "config file",
            format!("{} does not exist", path.display()),
            "run `hearth init`",
        ));
        return None;
    }
    let config = match Config::load(path, config::process_env()) {
        Ok(config) => {
            checks.push(pass("config file", format!("{} is valid", path.display())));
            config
        }
        Err(error) => {
            checks.push(fail(
                "config file",
                error.to_string(),
                "edit the file; `hearth config check` re-validates it",
            ));
            return None;
        }
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                checks.push(fail(
                    "config permissions",
                    format!("mode {mode:o}: others can read the gateway token"),
                    format!("chmod 600 {}", path.display()),
                ));
            } else {
                checks.push(pass("config permissions", format!("mode {mode:o}")));
            }
        }
    }
    Some(config)
}

fn check_state_dir(config: &Config, checks: &mut Vec<Check>) {
    let dir = match config.data_dir() {
        Ok(dir) => dir,
        Err(error) => {
            checks.push(fail(
                "state directory",
                error.to_string(),
                "set [state] dir in the config",
            ));
            return;
        }
    };
    if !dir.exists() {
        checks.push(fail(
            "state directory",
            format!("{} does not exist", dir.display()),
            "run `hearth init` (or `hearth run` creates it)",
        ));
        return;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&dir)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0);
        if mode & 0o077 != 0 {
            checks.push(fail(
                "state permissions",
                format!("{} has mode {mode:o}", dir.display()),
                format!("chmod 700 {}", dir.display()),
            ));
        } else {
            checks.push(pass(
                "state permissions",
                format!("{} mode {mode:o}", dir.display()),
            ));
        }
    }
    let probe = dir.join(".doctor-write-test");
    match std::fs::write(&probe, b"ok").and_then(|()| std::fs::remove_file(&probe)) {
        Ok(()) => checks.push(pass("state writable", dir.display().to_string())),
        Err(e) => checks.push(fail(
            "state writable",
            format!("{}: {e}", dir.display()),
            "fix the directory's owner or permissions",
        )),
    }
    let db = paths::database_file(&dir);
    if db.exists() {
        match rusqlite_version(&db) {
            Ok(version) => checks.push(pass(
                "database",
                format!("{} (schema {version})", db.display()),
            )),
            Err(e) => checks.push(fail(
                "database",
                format!("{}: {e}", db.display()),
                "restore it from a backup, or move it away to start fresh",
            )),
        }
    } else {
        checks.push(pass(
            "database",
            format!("{} will be created at first start", db.display()),
        ));
    }
}

fn rusqlite_version(db: &Path) -> Result<String, String> {
    let store = hearth_store::SqliteStore::open(db, hearth_store::SqliteOptions::default())
        .map_err(|e| e.to_string())?;
    drop(store);
    Ok(format!("v{}", hearth_store::migrations::MIGRATIONS.len()))
}

async fn check_port(config: &Config, checks: &mut Vec<Check>) {
    let bind = config.gateway.bind;
    match tokio::net::TcpListener::bind(bind).await {
        Ok(listener) => {
            drop(listener);
            checks.push(pass("port", format!("{bind} is free")));
        }
        Err(_) => {
            let url = format!("http://{}/healthz", super::daemon_addr(config));
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(2))
                .build();
            let hearth = match client {
                Ok(c) => c
                    .get(&url)
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false),
                Err(_) => false,
            };
            if hearth {
                checks.push(pass(
                    "port",
                    format!("{bind} is served by a running hearth"),
                ));
            } else {
                checks.push(fail(
                    "port",
                    format!("{bind} is in use by another program"),
                    "stop that program or change [gateway] bind",
                ));
            }
        }
    }
    if !bind.ip().is_loopback() {
        if config.gateway.token().is_some() {
            checks.push(pass(
                "exposure",
                format!("{bind} is reachable from the network; token auth is on"),
            ));
        } else {
            checks.push(fail(
                "exposure",
                format!("{bind} is reachable from the network without a token"),
                "set [gateway] token",
            ));
        }
    }
}

async fn check_models(config: &Config, checks: &mut Vec<Check>) {
    for (name, model) in &config.models {
        let label = format!("model {name}");
        if model.provider == hearth_models::ProviderKind::Embedded {
            checks.push(check_embedded(config, name, model, label));
            continue;
        }
        match model.build(name) {
            Err(error) => checks.push(fail(label, error.to_string(), "fix the [models] entry (an API key variable may be unset)")),
            Ok(entry) => match entry.check_reachable().await {
                Ok(()) => checks.push(pass(label, format!("{} {} reachable", entry.provider_kind(), entry.model()))),
                Err(error) => checks.push(fail(
                    label,
                    format!("{} {}: {error}", entry.provider_kind(), model.base_url.as_deref().unwrap_or("default URL")),
                    "start the model server (e.g. `ollama serve`) or point base_url at a running one",
                )),
            },
        }
    }
}

/// An embedded model: its settings, and its file's GGUF header (cheap:
/// the weights are not loaded).
fn check_embedded(
    config: &Config,
    name: &str,
    model: &hearth_models::ModelConfig,
    label: String,
) -> Check {
    let Ok(data_dir) = config.data_dir() else {
        return fail(label, "no data dir", "set [state] dir");
    };
    let engine = match crate::embedded::engine_config(name, model, &data_dir) {
        Ok(engine) => engine,
        Err(error) => return fail(label, error, "fix the [models] entry"),
    };
    match hearth_engine::gguf::inspect(&engine.path) {
        Ok(info) => pass(
            label,
            format!(
                "embedded {} ({}) at {}",
                model.model,
                info.architecture,
                engine.path.display()
            ),
        ),
        Err(error) => fail(
            label,
            error.to_string(),
            "`hearth models pull smollm2-135m` fetches the default; `hearth models add FILE.gguf` adds another",
        ),
    }
}

/// Memory's embedder: the in-process model's files (cheap: not loaded),
/// or the remote one's settings.
fn check_memory(config: &Config, checks: &mut Vec<Check>) {
    let memory = &config.memory;
    if !memory.enabled {
        checks.push(pass("memory", "off ([memory] enabled = false)"));
        return;
    }
    if let Some(remote) = &memory.remote {
        checks.push(pass(
            "memory",
            format!("embeddings from {} ({})", remote.base_url, remote.model),
        ));
        return;
    }
    let Ok(data_dir) = config.data_dir() else {
        return;
    };
    let dir = memory.embedder_dir.clone().unwrap_or_else(|| {
        hearth_memory::embed::embedder_dir(&crate::paths::models_dir(&data_dir))
    });
    match hearth_memory::embed::LocalEmbedder::check_files(&dir) {
        Ok(()) => checks.push(pass(
            "memory",
            format!("embedding model at {}", dir.display()),
        )),
        Err(error) => checks.push(fail(
            "memory",
            error.to_string(),
            "`hearth models pull all-minilm-l6-v2` (or `hearth run --pull`)",
        )),
    }
}

fn check_agents(config: &Config, checks: &mut Vec<Check>) {
    let Ok(data) = config.data_dir() else { return };
    let Ok(agents) = config.agents() else { return };
    for (id, settings) in agents {
        let workspace = settings
            .workspace
            .clone()
            .unwrap_or_else(|| paths::agent_workspace(&data, &id));
        let missing: Vec<&str> = [
            hearth_agent::persona::AGENTS_FILE,
            hearth_agent::persona::SOUL_FILE,
        ]
        .into_iter()
        .filter(|f| !workspace.join(f).exists())
        .collect();
        if missing.is_empty() {
            checks.push(pass(
                format!("agent {id}"),
                format!("persona files in {}", workspace.display()),
            ));
        } else {
            checks.push(fail(
                format!("agent {id}"),
                format!(
                    "{} missing in {} (a default prompt is used)",
                    missing.join(", "),
                    workspace.display()
                ),
                "run `hearth init --force` to recreate defaults, or write the files",
            ));
        }
    }
}
