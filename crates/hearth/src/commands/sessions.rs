//! `hearth sessions`: list, show, reset and delete sessions through the
//! running daemon (so it can stop a running turn before deleting).

use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;

use crate::cli::SessionsAction;
use crate::config::Config;

pub async fn run(
    config: &Config,
    action: Option<SessionsAction>,
    json_out: bool,
) -> Result<ExitCode> {
    let mut client = super::connect(config).await?;
    let action = action.unwrap_or(SessionsAction::List {
        limit: 50,
        agent: None,
    });
    let result = match &action {
        SessionsAction::List { limit, agent } => {
            client
                .request("sessions.list", json!({ "limit": limit, "agentId": agent }))
                .await?
        }
        SessionsAction::Show { key, limit } => {
            client
                .request("chat.history", json!({ "sessionKey": key, "limit": limit }))
                .await?
        }
        SessionsAction::Reset { key } => {
            client
                .request("sessions.reset", json!({ "key": key }))
                .await?
        }
        SessionsAction::Delete { key } => {
            client
                .request("sessions.delete", json!({ "key": key }))
                .await?
        }
    };
    client.close().await;
    if json_out {
        super::print_json(&result);
        return Ok(ExitCode::SUCCESS);
    }
    match action {
        SessionsAction::List { .. } => {
            let rows = result["sessions"].as_array().cloned().unwrap_or_default();
            if rows.is_empty() {
                println!("no sessions yet");
            }
            for row in &rows {
                println!("{}", super::status::session_line(row));
            }
        }
        SessionsAction::Show { .. } => {
            for m in result["messages"].as_array().into_iter().flatten() {
                println!(
                    "[{}] {}",
                    m["role"].as_str().unwrap_or("?"),
                    m["content"][0]["text"].as_str().unwrap_or("")
                );
            }
        }
        SessionsAction::Reset { key } => println!(
            "reset {key}: new transcript {}",
            result["sessionId"].as_str().unwrap_or("?")
        ),
        SessionsAction::Delete { key } => {
            if result["deleted"] == true {
                println!("deleted {key}");
            } else {
                println!("no session {key}");
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
