//! `hearth run`: builds the daemon from the config, recovers unfinished
//! work, serves until SIGTERM / Ctrl-C, then drains within a bound.
//!
//! Order matters for "nothing lost": the listener is bound first (so a
//! port clash fails fast), recovery runs while `/readyz` still answers 503,
//! and on shutdown the pipeline drains *before* connections close, so
//! clients waiting on a turn still get its answer.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use hearth_agent::{AgentRegistry, Channels, LocalChannel, Metrics, Runtime};
use hearth_gateway::{Auth, GatewayConfig, GatewayState};
use hearth_models::Router;
use hearth_store::SqliteStore;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::paths;
use crate::wiring::Routes;

/// Everything `hearth run` starts, built and ready to serve.
pub struct Daemon {
    pub state: Arc<GatewayState>,
    pub runtime: Runtime,
    pub listener: TcpListener,
}

/// Creates the state directory readable by the owner only.
pub fn prepare_data_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the state directory {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot restrict permissions of {}", dir.display()))?;
    }
    Ok(())
}

pub async fn build(config: &Config) -> Result<Daemon> {
    let data_dir = config.data_dir()?;
    prepare_data_dir(&data_dir)?;
    let db_path = config.database_file()?;
    let store = Arc::new(
        SqliteStore::open(&db_path, config.sqlite_options())
            .with_context(|| format!("cannot open the database {}", db_path.display()))?,
    );
    let router =
        Router::from_config(&config.models, config.router.clone()).context("invalid [models]")?;
    let routes = Arc::new(Routes(router));
    let default_agent = config.default_agent_id()?;
    let registry = AgentRegistry::load(
        config.agents()?,
        default_agent,
        routes.clone(),
        store.clone(),
        paths::agents_dir(&data_dir),
    )
    .await
    .context("cannot load agents")?;
    // Gateway clients (WebSocket and HTTP) read replies from events and the
    // store; platform channels register here as they arrive.
    let channels = Channels::default()
        .with(Arc::new(LocalChannel("gateway")))
        .with(Arc::new(LocalChannel("openai")));
    let runtime = Runtime::new(
        store,
        Arc::new(registry),
        channels,
        Arc::new(Metrics::default()),
        config.runtime_config(),
    );
    let bind = config.gateway.bind;
    let listener = TcpListener::bind(bind).await.with_context(|| {
        format!("cannot listen on {bind}: is another hearth running (`hearth status`)? Change [gateway] bind to use another port")
    })?;
    let gateway_config = GatewayConfig {
        max_payload_bytes: config.gateway.max_payload_bytes,
        tick_interval_ms: config.gateway.tick_interval_ms,
        ..GatewayConfig::default()
    };
    let state = GatewayState::new(
        runtime.clone(),
        Auth::new(config.gateway.token().map(str::to_owned)),
        gateway_config,
        routes,
    );
    Ok(Daemon {
        state,
        runtime,
        listener,
    })
}

pub async fn run(config: Config) -> Result<()> {
    let Daemon {
        state,
        runtime,
        listener,
    } = build(&config).await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(hearth_gateway::serve(listener, state.clone()));
    let resumed = runtime.start().await.context("recovery failed")?;
    state.set_ready();
    tracing::info!(%addr, resumed, agents = runtime.agents().list().len(), "hearth is ready");
    eprintln!(
        "hearth {} listening on ws://{addr} (HTTP on the same port)",
        env!("CARGO_PKG_VERSION")
    );

    wait_for_signal().await;
    tracing::info!("shutting down: draining in-flight turns");
    runtime.shutdown().await;
    state.shutdown.cancel();
    match server.await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::error!(%error, "server error"),
        Err(error) => tracing::error!(%error, "server task failed"),
    }
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        ) {
            Ok(term) => term,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops the daemon");
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
