//! `hearth status`: is the daemon up, and what is it doing.

use std::process::ExitCode;

use anyhow::Result;
use serde_json::{Value, json};

use crate::config::Config;

pub async fn run(config: &Config, json_out: bool) -> Result<ExitCode> {
    let addr = super::daemon_addr(config);
    let mut client = match super::connect(config).await {
        Ok(client) => client,
        Err(error) => {
            if json_out {
                super::print_json(
                    &json!({ "running": false, "address": addr.to_string(), "error": format!("{error:#}") }),
                );
            } else {
                println!(
                    "hearth is not running at {addr} ({error:#}).\nStart it with `hearth run`."
                );
            }
            return Ok(ExitCode::from(1));
        }
    };
    let status = client.request("status", json!({})).await?;
    client.close().await;
    if json_out {
        super::print_json(
            &json!({ "running": true, "address": addr.to_string(), "status": status }),
        );
        return Ok(ExitCode::SUCCESS);
    }
    let h = &status["hearth"];
    println!(
        "hearth {} running at {addr}, up {}s",
        h["version"].as_str().unwrap_or("?"),
        h["uptimeMs"].as_u64().unwrap_or(0) / 1000
    );
    println!(
        "queue: {} pending, {} running",
        h["pending"], h["activeRuns"]
    );
    println!("sessions: {}", status["sessions"]["count"]);
    for agent in status["sessions"]["byAgent"]
        .as_array()
        .into_iter()
        .flatten()
    {
        println!(
            "  agent {}: {} sessions",
            agent["agentId"].as_str().unwrap_or("?"),
            agent["count"]
        );
    }
    println!("models:");
    for model in h["models"].as_array().into_iter().flatten() {
        println!(
            "  {} ({} {}) breaker {}",
            model["id"].as_str().unwrap_or("?"),
            model["provider"].as_str().unwrap_or("?"),
            model["name"].as_str().unwrap_or(""),
            model["breaker"].as_str().unwrap_or("?")
        );
    }
    let channels = status["channelSummary"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !channels.is_empty() {
        println!("channels:");
        for row in &channels {
            println!("  {}", super::channels::status_line(row));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A session row for humans.
pub fn session_line(row: &Value) -> String {
    format!(
        "{:<40} {:>5} msgs  {:>8} tokens  updated {}s ago",
        row["key"].as_str().unwrap_or("?"),
        row["messageCount"].as_u64().unwrap_or(0),
        row["totalTokens"].as_u64().unwrap_or(0),
        row["age"].as_i64().unwrap_or(0) / 1000
    )
}
