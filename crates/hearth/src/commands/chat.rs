//! `hearth chat`: talk to an agent through the running daemon, streaming
//! the answer as it is written. `-m` sends one message and exits.

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use hearth_gateway::client::Client;
use serde_json::json;

use crate::config::Config;

/// Longest wait for the next piece of an answer before giving up.
const ANSWER_IDLE_TIMEOUT: Duration = Duration::from_secs(600);

pub async fn run(
    config: &Config,
    message: Option<String>,
    agent: Option<String>,
    session: Option<String>,
    json: bool,
) -> Result<ExitCode> {
    let agent = agent.unwrap_or_else(|| config.default_agent.clone());
    let session = session.unwrap_or_else(|| format!("agent:{agent}:main"));
    let mut client = super::connect(config).await?;
    if let Some(message) = message {
        let answer = turn(&mut client, &agent, &session, &message, !json).await?;
        if json {
            super::print_json(&answer);
        }
        return Ok(if answer["state"] == "final" {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    eprintln!("Chatting with {agent} in {session}. Empty line or Ctrl-D to quit.");
    let stdin = std::io::stdin();
    loop {
        eprint!("> ");
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        turn(&mut client, &agent, &session, line.trim(), true).await?;
    }
    client.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Sends one message and follows its events to the end. Returns the final
/// `chat` event's payload.
async fn turn(
    client: &mut Client,
    agent: &str,
    session: &str,
    message: &str,
    print: bool,
) -> Result<serde_json::Value> {
    let run_id = uuid::Uuid::new_v4().to_string();
    let sent = client
        .request("chat.send", json!({ "sessionKey": session, "agentId": agent, "message": message, "idempotencyKey": run_id }))
        .await?;
    let run_id = sent["runId"]
        .as_str()
        .context("the daemon did not return a run id")?
        .to_owned();
    let mut stdout = std::io::stdout();
    loop {
        let event = client.next_event(ANSWER_IDLE_TIMEOUT).await?;
        if event.name != "chat" || event.payload["runId"] != run_id.as_str() {
            continue;
        }
        match event.payload["state"].as_str() {
            Some("delta") if print => {
                write!(
                    stdout,
                    "{}",
                    event.payload["deltaText"].as_str().unwrap_or("")
                )?;
                stdout.flush()?;
            }
            Some("final") | Some("aborted") => {
                if print {
                    writeln!(stdout)?;
                }
                return Ok(event.payload);
            }
            Some("error") => {
                if print {
                    writeln!(stdout)?;
                }
                bail!(
                    "{}",
                    event.payload["errorMessage"]
                        .as_str()
                        .unwrap_or("the run failed")
                );
            }
            _ => {}
        }
    }
}
