//! `hearth models`: the configured models and, with `--check`, whether
//! each one's server answers.

use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

use crate::config::Config;

pub async fn run(config: &Config, check: bool, json_out: bool) -> Result<ExitCode> {
    let mut rows = Vec::new();
    let mut failed = false;
    for (name, model) in &config.models {
        let entry = model.build(name);
        let reachable = match (&entry, check) {
            (Ok(entry), true) => Some(entry.check_reachable().await.map_err(|e| e.to_string())),
            (Err(e), true) => Some(Err(e.to_string())),
            _ => None,
        };
        failed |= matches!(reachable, Some(Err(_)));
        let used_by: Vec<&str> = config
            .agents
            .iter()
            .filter(|(_, a)| &a.model == name || a.fallbacks.contains(name))
            .map(|(id, _)| id.as_str())
            .collect();
        rows.push(json!({
            "name": name,
            "provider": model.provider.as_str(),
            "model": model.model,
            "baseUrl": model.base_url,
            "usedBy": used_by,
            "reachable": reachable.as_ref().map(|r| r.is_ok()),
            "error": reachable.and_then(|r| r.err()),
        }));
    }
    if json_out {
        super::print_json(&json!({ "models": rows }));
    } else {
        for r in &rows {
            let state = match r["reachable"].as_bool() {
                Some(true) => "  reachable".to_owned(),
                Some(false) => format!("  UNREACHABLE: {}", r["error"].as_str().unwrap_or("")),
                None => String::new(),
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
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
