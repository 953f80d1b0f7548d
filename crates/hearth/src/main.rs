//! The `hearth` binary: parses the command line, loads the config, and runs
//! the daemon or one of its client and maintenance commands. The only crate
//! that uses `anyhow`; errors are printed with their causes and mapped to
//! exit codes (1: failure, 2: bad usage or config).

mod channels;
mod cli;
mod commands;
mod config;
mod daemon;
mod embedded;
mod memory;
mod paths;
mod tools;
mod wiring;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

/// A mistake in how the command was called (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            // Problems in what the user wrote (config, a refused init) exit 2.
            let usage = error.downcast_ref::<UsageError>().is_some()
                || error.downcast_ref::<config::ConfigError>().is_some()
                || matches!(
                    error.downcast_ref::<config::InitError>(),
                    Some(config::InitError::AlreadyExists { .. })
                );
            ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let json = cli.json;
    match cli.command {
        Command::Init { force } => commands::init::run(cli.config.as_deref(), force, json),
        Command::Run { pull } => {
            let file = commands::config_path(cli.config.as_deref())?;
            let config = commands::load_config(cli.config.as_deref())?;
            commands::init_logging(&config);
            daemon::run(config, pull, &file)
                .await
                .map(|()| ExitCode::SUCCESS)
        }
        Command::Chat {
            message,
            agent,
            session,
        } => {
            let config = commands::load_config(cli.config.as_deref())?;
            commands::chat::run(&config, message, agent, session, json).await
        }
        Command::Status => {
            commands::status::run(&commands::load_config(cli.config.as_deref())?, json).await
        }
        Command::Doctor => commands::doctor::run(cli.config.as_deref(), json).await,
        Command::Sessions { action } => {
            commands::sessions::run(&commands::load_config(cli.config.as_deref())?, action, json)
                .await
        }
        Command::Models { action, check } => {
            commands::models::dispatch(cli.config.as_deref(), action, check, json).await
        }
        Command::Config {
            action: cli::ConfigAction::Check,
        } => commands::config_check(cli.config.as_deref(), json),
        Command::Protocol {
            action: cli::ProtocolAction::Schema,
        } => {
            println!(
                "{}",
                serde_json::to_string_pretty(&hearth_gateway::protocol::schema::protocol_schema())?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            target: cli::BenchTarget::Gateway { turns },
        } => commands::bench::gateway(turns, json).await,
        Command::Bench {
            target:
                cli::BenchTarget::Engine {
                    model,
                    threads,
                    tokens,
                    rounds,
                },
        } => {
            let model = match model {
                Some(model) => model,
                None => embedded::store(&paths::default_data_dir()?)
                    .path_of(hearth_engine::store::DEFAULT_MODEL),
            };
            commands::bench::engine::run(model, threads, tokens, rounds, json).await
        }
        Command::Bench {
            target:
                cli::BenchTarget::Memory {
                    items,
                    queries,
                    embedder,
                },
        } => {
            let embedder = match embedder {
                Some(dir) => dir,
                None => hearth_memory::embed::embedder_dir(&paths::models_dir(
                    &paths::default_data_dir()?,
                )),
            };
            commands::bench::memory::run(items, queries, &embedder, json).await
        }
        Command::Channels { action } => {
            commands::channels::run(cli.config.as_deref(), action, json).await
        }
        Command::Pairing { action } => {
            commands::channels::pairing(
                &commands::load_config(cli.config.as_deref())?,
                action,
                json,
            )
            .await
        }
        Command::Skills { action } => {
            let config = commands::load_config(cli.config.as_deref())?;
            match action.unwrap_or(cli::SkillsAction::List { agent: None }) {
                cli::SkillsAction::List { agent } => {
                    commands::skills::list(&config, agent.as_deref(), json)
                }
            }
        }
        Command::Approvals { action } => {
            commands::approvals::run(&commands::load_config(cli.config.as_deref())?, action, json)
                .await
        }
        Command::Memory { action } => {
            commands::memory::run(&commands::load_config(cli.config.as_deref())?, action, json)
                .await
        }
    }
}
