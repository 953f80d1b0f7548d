//! The subcommands other than `run`: each a small client of the config or
//! of the running daemon.

pub mod approvals;
pub mod bench;
pub mod channels;
pub mod chat;
pub mod doctor;
pub mod init;
pub mod memory;
pub mod models;
pub mod sessions;
pub mod skills;
pub mod status;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use hearth_gateway::client::Client;

use crate::config::{self, Config, LogFormat};
use crate::paths;

pub fn config_path(flag: Option<&Path>) -> Result<PathBuf> {
    paths::config_file(flag).context("cannot find a config directory; pass --config")
}

pub fn load_config(flag: Option<&Path>) -> Result<Config> {
    let path = config_path(flag)?;
    Ok(Config::load(&path, config::process_env())?)
}

/// `hearth config check`: load and validate, touching nothing else.
pub fn config_check(flag: Option<&Path>, json: bool) -> Result<ExitCode> {
    let path = config_path(flag)?;
    Config::load(&path, config::process_env())?;
    if json {
        println!("{}", serde_json::json!({ "ok": true, "path": path }));
    } else {
        println!("config OK: {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    // llama.cpp logs every tensor it loads at info level: keep it to
    // warnings unless the filter names it (`llama-cpp-2=debug`).
    let quiet_engine = |level: &str| {
        if level.contains("llama") {
            level.to_owned()
        } else {
            format!("{level},llama-cpp-2=warn")
        }
    };
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|env| EnvFilter::try_new(quiet_engine(&env)).ok())
        .unwrap_or_else(|| EnvFilter::new(quiet_engine(&config.log.level)));
    use std::io::IsTerminal;
    // Colours only for a person at a terminal, never in a log file.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match config.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// Where a client reaches the daemon: its bind address, with a wildcard
/// bind replaced by loopback.
pub fn daemon_addr(config: &Config) -> SocketAddr {
    let mut addr = config.gateway.bind;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    addr
}

pub async fn connect(config: &Config) -> Result<Client> {
    let addr = daemon_addr(config);
    Client::connect(&format!("ws://{addr}"), config.gateway.token())
        .await
        .with_context(|| format!("hearth is not reachable at {addr}; start it with `hearth run`"))
}

/// Prints JSON data pretty or compact per `--json`'s audience (scripts).
pub fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}
