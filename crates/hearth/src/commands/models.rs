//! `hearth models`: the configured models and the GGUF files on disk;
//! `pull`, `add` and `rm` manage the files, `load` and `unload` act on the
//! running daemon, `check` asks each model whether it answers.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use hearth_models::ProviderKind;
use serde_json::{Value, json};

use crate::cli::ModelsAction;
use crate::config::Config;
use crate::embedded;

pub async fn dispatch(
    config_flag: Option<&Path>,
    action: Option<ModelsAction>,
    check: bool,
    json_out: bool,
) -> Result<ExitCode> {
    let action = action.unwrap_or(if check {
        ModelsAction::Check
    } else {
        ModelsAction::List
    });
    // The model store works before `hearth init`: on a fresh machine the
    // setup pulls the model first, into the default data dir.
    let config_file = super::config_path(config_flag)?;
    if !config_file.exists()
        && matches!(
            action,
            ModelsAction::Pull { .. } | ModelsAction::Add { .. } | ModelsAction::Rm { .. }
        )
    {
        let store = embedded::store(&crate::paths::default_data_dir()?);
        return run(None, store, action, json_out).await;
    }
    let config = super::load_config(config_flag)?;
    let store = embedded::store(&config.data_dir()?);
    run(Some(&config), store, action, json_out).await
}

async fn run(
    config: Option<&Config>,
    store: hearth_engine::store::ModelStore,
    action: ModelsAction,
    json_out: bool,
) -> Result<ExitCode> {
    let needs_config = || config.context("this needs a config file; run `hearth init`");
    match action {
        ModelsAction::List => list(needs_config()?, false, json_out).await,
        ModelsAction::Check => list(needs_config()?, true, json_out).await,
        ModelsAction::Pull { name, force } if name == hearth_memory::embed::DEFAULT_EMBEDDER => {
            let models = store.dir().to_path_buf();
            let python = std::env::var("HEARTH_PYTHON").unwrap_or_else(|_| "python3".into());
            let dir = tokio::task::spawn_blocking(move || {
                hearth_memory::embed::pull_embedder(&models, force, &python, &mut |line| {
                    eprintln!("{line}")
                })
            })
            .await??;
            report(json_out, json!({ "ok": true, "name": name, "path": dir }));
            Ok(ExitCode::SUCCESS)
        }
        ModelsAction::Pull { name, force } => {
            let model = embedded::pull(store, &name, force).await?;
            report(
                json_out,
                json!({ "ok": true, "name": model.name, "path": model.path, "sizeBytes": model.size_bytes }),
            );
            Ok(ExitCode::SUCCESS)
        }
        ModelsAction::Add { path, name, force } => {
            let model = store.add(&path, name.as_deref(), force)?;
            report(
                json_out,
                json!({ "ok": true, "name": model.name, "path": model.path, "sizeBytes": model.size_bytes }),
            );
            Ok(ExitCode::SUCCESS)
        }
        ModelsAction::Rm { name } => {
            let path = store.remove(&name)?;
            let used_by: Vec<&String> = config
                .iter()
                .flat_map(|c| c.models.iter())
                .filter(|(_, m)| m.provider == ProviderKind::Embedded && m.model == name)
                .map(|(n, _)| n)
                .collect();
            if !used_by.is_empty() && !json_out {
                eprintln!(
                    "note: [models.{}] still names {name}; it will not load until the file is back",
                    used_by[0]
                );
            }
            report(json_out, json!({ "ok": true, "removed": path }));
            Ok(ExitCode::SUCCESS)
        }
        ModelsAction::Load { name } => {
            daemon_call(needs_config()?, "models.load", &name, json_out).await
        }
        ModelsAction::Unload { name } => {
            daemon_call(needs_config()?, "models.unload", &name, json_out).await
        }
    }
}

fn report(json_out: bool, value: Value) {
    if json_out {
        super::print_json(&value);
    } else if let Some(path) = value.get("removed") {
        println!("removed {}", path.as_str().unwrap_or_default());
    } else {
        println!(
            "{} at {}",
            value["name"].as_str().unwrap_or_default(),
            value["path"].as_str().unwrap_or_default()
        );
    }
}

async fn daemon_call(
    config: &Config,
    method: &str,
    name: &str,
    json_out: bool,
) -> Result<ExitCode> {
    let mut client = super::connect(config).await?;
    let answer = client
        .request(method, json!({ "name": name }))
        .await
        .with_context(|| format!("{method} {name}"))?;
    if json_out {
        super::print_json(&answer);
    } else if method == "models.load" {
        println!(
            "{name} loaded ({}, {} ms)",
            answer["architecture"].as_str().unwrap_or("?"),
            answer["loadMs"]
        );
    } else {
        println!("{name} unloaded");
    }
    Ok(ExitCode::SUCCESS)
}

/// The configured models, then the files in the store. With `check`,
/// each model is asked whether it answers (an embedded one is loaded).
async fn list(config: &Config, check: bool, json_out: bool) -> Result<ExitCode> {
    let data_dir = config.data_dir()?;
    let mut rows = Vec::new();
    let mut failed = false;
    for (name, model) in &config.models {
        let reachable = if !check {
            None
        } else if model.provider == ProviderKind::Embedded {
            Some(check_embedded(name, model, &data_dir).await)
        } else {
            Some(match model.build(name) {
                Ok(entry) => entry.check_reachable().await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            })
        };
        failed |= matches!(reachable, Some(Err(_)));
        let used_by: Vec<&str> = config
            .agents
            .iter()
            .filter(|(_, a)| &a.model == name || a.fallbacks.contains(name))
            .map(|(id, _)| id.as_str())
            .collect();
        let path = (model.provider == ProviderKind::Embedded)
            .then(|| embedded::store(&data_dir).resolve(&model.model));
        rows.push(json!({
            "name": name,
            "provider": model.provider.as_str(),
            "model": model.model,
            "baseUrl": model.base_url,
            "path": path,
            "fileExists": path.as_ref().map(|p| p.exists()),
            "usedBy": used_by,
            "reachable": reachable.as_ref().map(|r| r.is_ok()),
            "error": reachable.and_then(|r| r.err()),
        }));
    }
    let store = embedded::store(&data_dir);
    let files: Vec<Value> = store
        .list()?
        .into_iter()
        .map(|m| {
            json!({
                "name": m.name,
                "path": m.path,
                "sizeBytes": m.size_bytes,
                "architecture": m.info.as_ref().ok().map(|i| i.architecture.clone()),
                "error": m.info.err(),
            })
        })
        .collect();
    if json_out {
        super::print_json(&json!({ "models": rows, "files": files, "store": store.dir() }));
    } else {
        for r in &rows {
            let state = match (r["reachable"].as_bool(), r["fileExists"].as_bool()) {
                (Some(true), _) => "  ok".to_owned(),
                (Some(false), _) => format!("  FAILED: {}", r["error"].as_str().unwrap_or("")),
                (None, Some(false)) => "  (file missing: `hearth models pull`)".to_owned(),
                _ => String::new(),
            };
            println!(
                "{:<12} {:<10} {:<24} used by {}{}",
                r["name"].as_str().unwrap_or(""),
                r["provider"].as_str().unwrap_or(""),
                r["model"].as_str().unwrap_or(""),
                r["usedBy"],
                state
            );
        }
        println!("\nmodel files in {}:", store.dir().display());
        if files.is_empty() {
            println!("  (none; `hearth models pull smollm2-135m` fetches the default)");
        }
        for f in &files {
            let what = match f["architecture"].as_str() {
                Some(arch) => arch.to_owned(),
                None => format!("INVALID: {}", f["error"].as_str().unwrap_or("")),
            };
            println!(
                "  {:<24} {:>8.1} MB  {}",
                f["name"].as_str().unwrap_or(""),
                f["sizeBytes"].as_u64().unwrap_or(0) as f64 / 1e6,
                what
            );
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Loads the model and asks it for one token.
async fn check_embedded(
    name: &str,
    model: &hearth_models::ModelConfig,
    data_dir: &Path,
) -> Result<(), String> {
    use hearth_core::Provider;
    let config = embedded::engine_config(name, model, data_dir)?;
    let handle = hearth_engine::EmbeddedModel::new(name, config);
    handle.load().await.map_err(|e| e.to_string())?;
    let request = hearth_core::ChatRequest {
        messages: vec![hearth_core::ChatMessage::user("Say OK.")],
        max_tokens: Some(1),
        ..Default::default()
    };
    handle
        .complete(request)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}
