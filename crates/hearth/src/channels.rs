//! The chat channels in the daemon: built from `[channels.*]`, started
//! after recovery, stopped after the pipeline drains; and the
//! `channels.*` / `pairing.*` control methods over them and the store.

use std::sync::Arc;
use std::time::Duration;

use hearth_channels::host::{ChannelHost, HostedChannel};
use hearth_channels::identity::IdentityLinks;
use hearth_core::{
    AgentId, Conversation, HealthCell, OutboundMessage, PairingStore, SessionKey, now_ms,
};
use hearth_gateway::protocol::channels::{
    ChannelsStatus, PairingApprove, PairingList, PairingRevoke,
};
use hearth_gateway::{ChannelsApi, MemoryAction, MemoryApiError};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;

/// How long shutdown waits for channels to say goodbye (IRC QUIT, ...).
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// The running channels and what stops them.
pub struct ChannelService {
    pub host: Arc<ChannelHost>,
    pub pairing: Arc<dyn PairingStore>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

impl std::fmt::Debug for ChannelService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelService")
            .field("host", &self.host)
            .finish()
    }
}

impl ChannelService {
    /// The channels of `config`, built but not connected. The config was
    /// validated, so names, agents and links are known to be good.
    pub fn from_config(
        config: &Config,
        data_dir: &std::path::Path,
        pairing: Arc<dyn PairingStore>,
    ) -> Result<Self, String> {
        let default_agent = config.default_agent_id().map_err(|e| e.to_string())?;
        let links = IdentityLinks::new(&config.identity_links)?;
        let mut hosted = Vec::new();
        for (name, entry) in &config.channels {
            let agent = match entry.agent() {
                Some(agent) => AgentId::new(agent).map_err(|e| format!("[channels.{name}] {e}"))?,
                None => default_agent.clone(),
            };
            let built = entry.build(name, data_dir);
            hosted.push(HostedChannel {
                channel: built.channel,
                webhook: built.webhook,
                kind: entry.kind(),
                agent,
                access: entry.access().clone(),
                health: HealthCell::default(),
            });
        }
        Ok(Self {
            host: Arc::new(ChannelHost::new(hosted, links)),
            pairing,
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
        })
    }

    /// Connects every channel; messages go to `runtime`, whose run events
    /// drive the typing indicators.
    pub fn start(&self, runtime: &hearth_agent::Runtime) {
        self.host.start(
            Arc::new(runtime.clone()),
            self.pairing.clone(),
            &self.shutdown,
            &self.tasks,
        );
        let mut events = runtime.subscribe();
        let typing = self.host.typing().clone();
        let shutdown = self.shutdown.clone();
        self.tasks.spawn(async move {
            use hearth_agent::events::RunEventKind;
            use tokio::sync::broadcast::error::RecvError;
            loop {
                let event = tokio::select! {
                    _ = shutdown.cancelled() => break,
                    event = events.recv() => event,
                };
                match event {
                    Ok(event) => match &event.kind {
                        RunEventKind::Started { .. } => typing.started(&event.run_id),
                        RunEventKind::Delta { text, .. } => typing.grew(&event.run_id, text),
                        RunEventKind::Finished(_) => typing.finished(&event.run_id),
                        _ => {}
                    },
                    // Missed events only cost an indicator or a preview.
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => break,
                }
            }
            typing.stop().await;
        });
    }

    /// Disconnects every channel, waiting a bounded time.
    pub async fn stop(&self) {
        self.shutdown.cancel();
        self.tasks.close();
        if tokio::time::timeout(STOP_TIMEOUT, self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("some channels did not stop within {STOP_TIMEOUT:?}");
        }
    }

    fn has_channel(&self, name: &str) -> bool {
        self.host.channels().any(|c| c.name() == name)
    }

    /// Tells a newly approved sender, best effort.
    async fn welcome(&self, channel: &str, sender: &str) {
        let Some(target) = self.host.channels().find(|c| c.name() == channel).cloned() else {
            return;
        };
        let Ok(session_key) = SessionKey::new(format!("pairing:{channel}:{sender}")) else {
            return;
        };
        let message = OutboundMessage {
            idempotency_key: format!("pairing-approved:{channel}:{sender}:{}", now_ms()),
            session_key,
            channel: channel.to_owned(),
            text: "You are approved: I will answer your messages from now on.".into(),
            to: Some(Conversation::direct(sender)),
            reply_to: None,
        };
        if let Err(error) = target.send(&message).await {
            tracing::warn!(%channel, %sender, %error, "could not tell the sender they are approved");
        }
    }
}

fn invalid(message: impl Into<String>) -> MemoryApiError {
    MemoryApiError {
        invalid: true,
        message: message.into(),
    }
}

fn unavailable(message: impl ToString) -> MemoryApiError {
    MemoryApiError {
        invalid: false,
        message: message.to_string(),
    }
}

/// The method's typed parameters, or an `invalid` error naming it.
fn typed<T: serde::de::DeserializeOwned>(method: &str, params: Value) -> Result<T, MemoryApiError> {
    serde_json::from_value(params).map_err(|e| invalid(format!("invalid params for {method}: {e}")))
}

/// The handle the gateway holds.
#[derive(Debug, Clone)]
pub struct ChannelsHandle(pub Arc<ChannelService>);

impl ChannelsApi for ChannelsHandle {
    fn statuses(&self) -> Value {
        json!(self.0.host.statuses())
    }

    fn call(&self, method: &str, params: Value) -> MemoryAction {
        let service = self.0.clone();
        let method = method.to_owned();
        Box::pin(async move {
            match method.as_str() {
                "channels.status" => {
                    let _: ChannelsStatus = typed(&method, params)?;
                    Ok(json!({ "channels": service.host.statuses() }))
                }
                "pairing.list" => {
                    let p: PairingList = typed(&method, params)?;
                    let channel = p.channel.as_deref();
                    let requests = service
                        .pairing
                        .pairing_requests(channel, now_ms())
                        .await
                        .map_err(unavailable)?;
                    let approved = service
                        .pairing
                        .approved_senders(channel)
                        .await
                        .map_err(unavailable)?;
                    Ok(json!({ "requests": requests, "approved": approved }))
                }
                "pairing.approve" => {
                    let p: PairingApprove = typed(&method, params)?;
                    let (channel, code) = (p.channel.as_str(), p.code.as_str());
                    if !service.has_channel(channel) {
                        return Err(invalid(format!(
                            "no channel named {channel:?} is configured"
                        )));
                    }
                    let approved = service
                        .pairing
                        .approve_pairing(channel, code, "operator", now_ms())
                        .await
                        .map_err(unavailable)?
                        .ok_or_else(|| {
                            invalid(format!(
                                "no live pairing code {code:?} on {channel} (codes expire after an hour; `hearth pairing list` shows the live ones)"
                            ))
                        })?;
                    service.welcome(channel, &approved.sender.id).await;
                    Ok(json!({ "ok": true, "approved": approved }))
                }
                "pairing.revoke" => {
                    let p: PairingRevoke = typed(&method, params)?;
                    let removed = service
                        .pairing
                        .revoke_sender(&p.channel, &p.sender)
                        .await
                        .map_err(unavailable)?;
                    Ok(json!({ "ok": true, "removed": removed }))
                }
                other => Err(invalid(format!("unknown method: {other}"))),
            }
        })
    }
}
