//! `hearth run`: builds the daemon from the config, recovers unfinished
//! work, serves until SIGTERM / Ctrl-C, then drains within a bound.
//!
//! Order matters for "nothing lost": the listener is bound first (so a
//! port clash fails fast), recovery runs while `/readyz` still answers 503,
//! and on shutdown the pipeline drains *before* connections close, so
//! clients waiting on a turn still get its answer.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use hearth_agent::tools::{ApprovalBroker, RuntimeSlot};
use hearth_agent::{AgentRegistry, Channels, LocalChannel, Metrics, Runtime};
use hearth_engine::EmbeddedModel;
use hearth_gateway::{Auth, GatewayConfig, GatewayState};
use hearth_models::{ModelEntry, Router};
use hearth_store::SqliteStore;
use tokio::net::TcpListener;

use crate::channels::{ChannelService, ChannelsHandle};
use crate::config::Config;
use crate::embedded;
use crate::memory::{MemoryHandle, MemoryService};
use crate::paths;
use crate::wiring::{ReloadSource, Routes};

/// Everything `hearth run` starts, built and ready to serve.
pub struct Daemon {
    pub routes: Arc<Routes>,
    pub state: Arc<GatewayState>,
    pub runtime: Runtime,
    pub listener: TcpListener,
    pub memory: Option<Arc<MemoryService>>,
    pub channels: Arc<ChannelService>,
    /// The MCP servers' connections, stopped after the drain.
    pub mcp: Option<Arc<hearth_mcp::McpManager>>,
    /// Wakes the scheduler when a schedule is added.
    pub schedules: Arc<tokio::sync::Notify>,
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

/// The router over every configured model; embedded ones are served by
/// their reloadable handles.
fn build_router(
    config: &Config,
    embedded: &BTreeMap<String, Arc<EmbeddedModel>>,
) -> Result<Router, hearth_models::BuildError> {
    config.router.validate()?;
    let mut router = Router::new(config.router.clone());
    for (name, model) in &config.models {
        model.validate().map_err(|e| e.in_model(name))?;
        let entry = match embedded.get(name) {
            Some(handle) => ModelEntry::new(
                name.clone(),
                handle.clone() as Arc<dyn hearth_core::Provider>,
                model.model.clone(),
                model.limits(),
            ),
            None => model.build(name).map_err(|e| e.in_model(name))?,
        };
        router.add(entry)?;
    }
    Ok(router)
}

/// A fresh machine's first `hearth run`: if the default agent's model is
/// an embedded one whose file is not there, say exactly what to run
/// instead of starting a daemon that can only answer errors.
fn require_default_model(
    config: &Config,
    embedded: &BTreeMap<String, Arc<EmbeddedModel>>,
    pull: bool,
) -> Result<()> {
    let Ok(agent) = config.default_agent_id() else {
        return Ok(());
    };
    let Some(model_name) = config.agents.get(agent.as_str()).map(|a| a.model.clone()) else {
        return Ok(());
    };
    let Some(model) = embedded.get(&model_name) else {
        return Ok(());
    };
    let path = model.config().path;
    let known = embedded::known_stem(&path);
    if path.exists() || (pull && known.is_some()) {
        return Ok(());
    }
    let fix = match known {
        Some(stem) => {
            format!("run `hearth models pull {stem}` (or start with `hearth run --pull`)")
        }
        None => {
            let stem = path.file_stem().unwrap_or_default().to_string_lossy();
            format!("put the GGUF there, or `hearth models add /path/to/model.gguf --name {stem}`")
        }
    };
    let path = path.display();
    Err(crate::UsageError(format!(
        "the model file of [models.{model_name}] is missing: {path}\n{fix}"
    ))
    .into())
}

/// Loads every embedded model. A model that fails to load (missing or
/// corrupt file) is reported and left unloaded: the daemon still serves the
/// other models, and requests to this one fail with the reason. A missing
/// file is fetched first when `pull` is set and the model is a known one.
async fn load_embedded(
    models: &BTreeMap<String, Arc<EmbeddedModel>>,
    pull: Option<&Path>,
) -> Result<()> {
    for (name, model) in models {
        let path = model.config().path;
        if let Some(data_dir) = pull
            && !path.exists()
            && let Some(stem) = embedded::known_stem(&path)
        {
            embedded::pull(embedded::store(data_dir), stem, false)
                .await
                .with_context(|| format!("cannot pull the model of [models.{name}]"))?;
        }
        match model.load().await {
            Ok(info) => {
                tracing::info!(model = %name, architecture = %info.gguf.architecture, load_ms = info.load_time.as_millis() as u64, "embedded model ready")
            }
            Err(error) => {
                tracing::error!(model = %name, %error, "embedded model not loaded; other models keep serving");
                eprintln!("warning: [models.{name}] is not loaded: {error}");
            }
        }
    }
    Ok(())
}

pub async fn build(config: &Config, pull: bool, config_file: Option<&Path>) -> Result<Daemon> {
    let data_dir = config.data_dir()?;
    prepare_data_dir(&data_dir)?;
    let db_path = config.database_file()?;
    let store = Arc::new(
        SqliteStore::open(&db_path, config.sqlite_options())
            .with_context(|| format!("cannot open the database {}", db_path.display()))?,
    );
    let embedded = embedded::from_config(&config.models, &data_dir)
        .map_err(|e| anyhow::anyhow!("invalid [models]: {e}"))?;
    let router = build_router(config, &embedded).context("invalid [models]")?;
    require_default_model(config, &embedded, pull)?;
    load_embedded(&embedded, pull.then_some(data_dir.as_path())).await?;
    let routes = Arc::new(Routes {
        router,
        embedded: embedded.clone(),
        reload: config_file.map(|file| ReloadSource {
            config_file: file.to_path_buf(),
            data_dir: data_dir.clone(),
        }),
    });
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
    // store; chat platforms deliver through their adapters.
    let platform = Arc::new(
        ChannelService::from_config(config, &data_dir, store.clone())
            .map_err(|e| anyhow::anyhow!("invalid [channels]: {e}"))?,
    );
    let mut channels = Channels::default()
        .with(Arc::new(LocalChannel("gateway")))
        .with(Arc::new(LocalChannel("openai")));
    for channel in platform.host.channels() {
        channels = channels.with(channel.clone());
    }
    let registry = Arc::new(registry);
    let memory = MemoryService::open(&config.memory, &data_dir, pull, registry.clone()).await?;
    let mut runtime = Runtime::new(
        store,
        registry,
        channels,
        Arc::new(Metrics::default()),
        config.runtime_config(),
    );
    if let Some(memory) = &memory {
        runtime = runtime.with_memory(memory.clone());
    }
    let approvals = ApprovalBroker::new(Duration::from_secs(config.tools.approval_timeout_secs));
    let slot = RuntimeSlot::default();
    let mut shared = hearth_agent::tools::session_tools(slot.clone());
    shared.push(
        hearth_tools::web_fetch_tool(config.tools.web_fetch.clone())
            .map_err(|e| anyhow::anyhow!("invalid [tools.web_fetch]: {e}"))?,
    );
    if let Some(memory) = &memory {
        shared.extend(crate::tools::memory::memory_tools(memory.clone()));
    }
    // The scheduler's tools wake its loop when they add a schedule.
    let schedules = Arc::new(tokio::sync::Notify::new());
    shared.extend(hearth_agent::schedule_tools(
        runtime.store().clone(),
        schedules.clone(),
    ));
    // Servers connect in the background; their tools appear as they do.
    let mcp = (!config.mcp.servers.is_empty()).then(|| {
        Arc::new(hearth_mcp::McpManager::start(
            config.mcp.clone().into_servers(),
            tokio_util::sync::CancellationToken::new(),
        ))
    });
    let tools = crate::tools::DaemonTools::new(
        shared,
        config.tools.exec.clone(),
        approvals.clone(),
        config.tools.files.read_only,
        config.user_skills_dir()?,
        mcp.clone(),
    );
    let channel_policies = config
        .tools
        .channels
        .iter()
        .map(|(name, policy)| (name.clone(), policy.clone()))
        .collect();
    runtime = runtime
        .with_tools(Arc::new(tools), channel_policies)
        .with_channel_hooks(config.channel_hooks()?);
    // The session tools reach the runtime they belong to.
    let _ = slot.set(runtime.downgrade());
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
        routes.clone(),
    );
    if let Some(memory) = &memory {
        let _ = state.memory.set(Arc::new(MemoryHandle(memory.clone())));
    }
    let _ = state
        .channels
        .set(Arc::new(ChannelsHandle(platform.clone())));
    let _ = state.webhooks.set(platform.host.webhooks());
    let _ = state.approvals.set(approvals);
    Ok(Daemon {
        routes,
        state,
        runtime,
        listener,
        memory,
        channels: platform,
        mcp,
        schedules,
    })
}

pub async fn run(config: Config, pull: bool, config_file: &Path) -> Result<()> {
    let Daemon {
        routes,
        state,
        runtime,
        listener,
        memory,
        channels,
        mcp,
        schedules,
    } = build(&config, pull, Some(config_file)).await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(hearth_gateway::serve(listener, state.clone()));
    let resumed = runtime.start().await.context("recovery failed")?;
    // After recovery, so replayed runs come before new messages.
    channels.start(&runtime);
    let stop_scheduler = tokio_util::sync::CancellationToken::new();
    let scheduler = tokio::spawn(hearth_agent::run_scheduler(
        runtime.clone(),
        stop_scheduler.clone(),
        schedules,
    ));
    state.set_ready();
    tracing::info!(%addr, resumed, agents = runtime.agents().list().len(), "hearth is ready");
    eprintln!(
        "hearth {} listening on ws://{addr} (HTTP on the same port)",
        env!("CARGO_PKG_VERSION")
    );

    wait_for_signal(&routes).await;
    tracing::info!("shutting down: draining in-flight turns");
    // No new firings during the drain; a due one fires after the restart.
    stop_scheduler.cancel();
    let _ = scheduler.await;
    runtime.shutdown().await;
    // After the drain, so its replies still go out on live connections.
    channels.stop().await;
    if let Some(mcp) = &mcp {
        // After the drain: no turn calls an MCP tool any more.
        mcp.shutdown().await;
    }
    if let Some(memory) = &memory {
        memory.close().await;
    }
    state.shutdown.cancel();
    match server.await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::error!(%error, "server error"),
        Err(error) => tracing::error!(%error, "server task failed"),
    }
    tracing::info!("stopped");
    Ok(())
}

/// Waits for SIGTERM or Ctrl-C. SIGHUP re-reads the config and reloads
/// the embedded models whose settings or file changed, without stopping
/// anything else.
async fn wait_for_signal(routes: &Routes) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (mut term, mut hup) = match (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) {
            (Ok(term), Ok(hup)) => (term, hup),
            (Err(error), _) | (_, Err(error)) => {
                tracing::warn!(%error, "cannot listen for SIGTERM/SIGHUP; only Ctrl-C stops the daemon");
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::pin!(ctrl_c);
        loop {
            tokio::select! {
                _ = &mut ctrl_c => return,
                _ = term.recv() => return,
                _ = hup.recv() => {
                    tracing::info!("SIGHUP: reloading changed embedded models");
                    match routes.reload_changed().await {
                        Ok(names) => tracing::info!(?names, "config reload applied"),
                        Err(error) => tracing::error!(%error, "config reload refused; nothing changed"),
                    }
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
