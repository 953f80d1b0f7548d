//! The host that runs every configured channel: each in its own task,
//! behind its [`Gate`], restarted with jittered backoff when its connection
//! drops or its task panics, stopped on shutdown. A channel that fails
//! never takes the daemon or the other channels down; its state is in
//! [`ChannelHost::statuses`].

use std::sync::Arc;
use std::time::Duration;

use hearth_core::{
    AgentId, Capabilities, Channel, ChannelContext, ChannelError, ChannelHealth, HealthCell,
    HealthState, PairingStore, Pipeline, WebhookHandler,
};
use serde::Serialize;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::access::AccessConfig;
use crate::gate::Gate;
use crate::identity::IdentityLinks;
use crate::limits::SenderLimiter;
use crate::reconnect::Backoff;
use crate::typing::Typing;

/// First and longest pause between reconnects.
const RECONNECT_BASE: Duration = Duration::from_millis(500);
const RECONNECT_MAX: Duration = Duration::from_secs(60);
/// A connection that stayed up this long resets the backoff: its drop is
/// a new incident, not the next failure of a flapping one.
const STABLE_AFTER: Duration = Duration::from_secs(30);

/// One configured channel account.
pub struct HostedChannel {
    pub channel: Arc<dyn Channel>,
    /// For channels receiving at `POST /hooks/<name>`.
    pub webhook: Option<Arc<dyn WebhookHandler>>,
    /// The adapter type (`irc`, `mqtt`, ...).
    pub kind: &'static str,
    pub agent: AgentId,
    pub access: AccessConfig,
    pub health: HealthCell,
}

impl std::fmt::Debug for HostedChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostedChannel")
            .field("name", &self.channel.name())
            .field("kind", &self.kind)
            .field("agent", &self.agent)
            .finish()
    }
}

/// A channel's row in `hearth channels status`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelStatus {
    pub name: String,
    pub kind: String,
    pub agent: String,
    pub capabilities: Capabilities,
    pub health: ChannelHealth,
}

#[derive(Debug, Default)]
pub struct ChannelHost {
    channels: Vec<HostedChannel>,
    links: Arc<IdentityLinks>,
    typing: Arc<Typing>,
}

impl ChannelHost {
    pub fn new(channels: Vec<HostedChannel>, links: IdentityLinks) -> Self {
        Self {
            channels,
            links: Arc::new(links),
            typing: Arc::default(),
        }
    }

    /// Typing indicators: tell it when runs start and finish.
    pub fn typing(&self) -> &Arc<Typing> {
        &self.typing
    }

    /// Webhook handlers by channel name, for the gateway's `/hooks/`.
    pub fn webhooks(&self) -> std::collections::HashMap<String, Arc<dyn WebhookHandler>> {
        self.channels
            .iter()
            .filter_map(|h| Some((h.channel.name().to_owned(), h.webhook.clone()?)))
            .collect()
    }

    /// The channels, to register for delivery.
    pub fn channels(&self) -> impl Iterator<Item = &Arc<dyn Channel>> {
        self.channels.iter().map(|h| &h.channel)
    }

    pub fn statuses(&self) -> Vec<ChannelStatus> {
        self.channels
            .iter()
            .map(|h| ChannelStatus {
                name: h.channel.name().to_owned(),
                kind: h.kind.to_owned(),
                agent: h.agent.to_string(),
                capabilities: h.channel.capabilities(),
                health: h.health.get(),
            })
            .collect()
    }

    /// Starts every channel on `tracker`; they stop when `shutdown` fires.
    pub fn start(
        &self,
        pipeline: Arc<dyn Pipeline>,
        pairing: Arc<dyn PairingStore>,
        shutdown: &CancellationToken,
        tracker: &TaskTracker,
    ) {
        for hosted in &self.channels {
            let gate = Arc::new(Gate {
                channel: hosted.channel.clone(),
                agent: hosted.agent.clone(),
                access: hosted.access.clone(),
                links: self.links.clone(),
                pairing: pairing.clone(),
                pipeline: pipeline.clone(),
                limiter: SenderLimiter::default(),
                typing: self.typing.clone(),
            });
            let context = ChannelContext {
                inbound: gate,
                shutdown: shutdown.clone(),
                health: hosted.health.clone(),
            };
            tracker.spawn(supervise(hosted.channel.clone(), context));
        }
    }
}

/// Runs one channel's connections until shutdown.
pub async fn supervise(channel: Arc<dyn Channel>, context: ChannelContext) {
    let name = channel.name().to_owned();
    let health = context.health.clone();
    let shutdown = context.shutdown.clone();
    let mut backoff = Backoff::new(RECONNECT_BASE, RECONNECT_MAX);
    loop {
        let started = Instant::now();
        let run = {
            let channel = channel.clone();
            let context = context.clone();
            // Its own task, so a panic in the adapter is caught here.
            tokio::spawn(async move { channel.start(context).await })
        };
        let result = run.await;
        if shutdown.is_cancelled() {
            health.set(HealthState::Stopped, None);
            return;
        }
        let reason = match result {
            Ok(Ok(())) => "the connection ended".to_owned(),
            Ok(Err(ChannelError::Permanent(reason))) => {
                tracing::error!(channel = %name, %reason, "channel stopped; fix its config and restart");
                health.set(HealthState::Failed, Some(reason));
                return;
            }
            Ok(Err(error)) => error.to_string(),
            Err(join) => format!("the adapter crashed: {join}"),
        };
        if started.elapsed() >= STABLE_AFTER {
            backoff.reset();
        }
        let delay = backoff.next_delay();
        tracing::warn!(channel = %name, %reason, delay_ms = delay.as_millis() as u64, "channel disconnected; reconnecting");
        health.set(HealthState::Reconnecting, Some(reason));
        tokio::select! {
            _ = shutdown.cancelled() => {
                health.set(HealthState::Stopped, None);
                return;
            }
            _ = tokio::time::sleep(delay) => {}
        }
    }
}
