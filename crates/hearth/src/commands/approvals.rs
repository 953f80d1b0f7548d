//! `hearth approvals`: the commands waiting for an operator's yes, and the
//! answers, through the running daemon's `exec.approval.*` methods.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use serde_json::{Value, json};

use crate::cli::ApprovalsAction;
use crate::config::Config;

pub async fn run(
    config: &Config,
    action: Option<ApprovalsAction>,
    json_out: bool,
) -> Result<ExitCode> {
    let action = action.unwrap_or(ApprovalsAction::List);
    let mut client = super::connect(config).await?;
    match action {
        ApprovalsAction::List => {
            let result = client.request("exec.approval.list", json!({})).await?;
            client.close().await;
            if json_out {
                super::print_json(&result);
            } else {
                let list = result["approvals"].as_array().cloned().unwrap_or_default();
                if list.is_empty() {
                    println!("no commands are waiting for approval");
                }
                for pending in &list {
                    print_request(pending);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        ApprovalsAction::Approve { id } | ApprovalsAction::Deny { id } if id.trim().is_empty() => {
            anyhow::bail!("give the id `hearth approvals list` shows")
        }
        ApprovalsAction::Approve { id } => resolve(client, &id, "allow-once", json_out).await,
        ApprovalsAction::Deny { id } => resolve(client, &id, "deny", json_out).await,
        ApprovalsAction::Watch => {
            println!("waiting for approval requests (Ctrl-C to stop)");
            loop {
                let event = match client.next_event(Duration::from_secs(3600)).await {
                    Ok(event) => event,
                    Err(hearth_gateway::client::ClientError::Timeout(_)) => continue,
                    Err(error) => return Err(error.into()),
                };
                match event.name.as_str() {
                    "exec.approval.requested" if json_out => super::print_json(&event.payload),
                    "exec.approval.requested" => print_request(&event.payload),
                    "exec.approval.resolved" if json_out => super::print_json(&event.payload),
                    "exec.approval.resolved" => println!(
                        "{}  {}",
                        event.payload["id"].as_str().unwrap_or("?"),
                        event.payload["decision"]["decision"]
                            .as_str()
                            .unwrap_or("?")
                    ),
                    _ => {}
                }
            }
        }
    }
}

async fn resolve(
    mut client: hearth_gateway::client::Client,
    id: &str,
    decision: &str,
    json_out: bool,
) -> Result<ExitCode> {
    let result = client
        .request(
            "exec.approval.resolve",
            json!({ "id": id, "decision": decision }),
        )
        .await;
    client.close().await;
    let result = result?;
    if json_out {
        super::print_json(&result);
    } else if decision == "deny" {
        println!("denied {id}");
    } else {
        println!("approved {id}: the command runs now");
    }
    Ok(ExitCode::SUCCESS)
}

fn print_request(pending: &Value) {
    let left_s = (pending["expiresAtMs"].as_i64().unwrap_or(0) - hearth_core::now_ms()) / 1000;
    println!(
        "{}  {}  (agent {}, asked by {}, expires in {left_s} s)",
        pending["id"].as_str().unwrap_or("?"),
        pending["command"].as_str().unwrap_or("?"),
        pending["agentId"].as_str().unwrap_or("?"),
        pending["caller"].as_str().unwrap_or("?"),
    );
    if let Some(cwd) = pending["cwd"].as_str() {
        println!("    in {cwd}");
    }
}
