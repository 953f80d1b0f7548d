//! The MQTT connection (rumqttc): a persistent session subscribed to the
//! inbound topics at QoS 1, each message acknowledged only after the
//! pipeline recorded it; replies published at QoS 1, never retained, and
//! counted as sent only once the broker's PUBACK arrives.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use async_trait::async_trait;
use hearth_core::{
    Capabilities, Channel, ChannelContext, ChannelError, Conversation, HealthState, InboundError,
    Markup, Measure, Origin, OutboundMessage, PlatformMessage, Sender, now_ms,
};
use rumqttc::{AsyncClient, Event, EventLoop, Incoming, MqttOptions, Outgoing, Publish, QoS};
use tokio::sync::{mpsc, oneshot, watch};

use super::config::{MqttConfig, ReplyFormat, valid_topic};
use super::wire::{ReplyPart, decode};
use crate::deliver::{Progress, prepare};

/// Requests the client may queue for the event loop.
const REQUEST_QUEUE: usize = 64;
/// How long a reply waits for a connection, and then for its PUBACK.
const SEND_WAIT: Duration = Duration::from_secs(10);
/// Inbound messages read ahead of the recorder; past it the poller waits.
const INBOUND_QUEUE: usize = 64;
/// Attempts to hand a message to a busy pipeline before leaving it
/// unacknowledged (the broker redelivers it at the next connection).
const SUBMIT_ATTEMPTS: u32 = 3;

/// Publishes waiting for their packet id, then for their PUBACK.
#[derive(Debug, Default)]
struct Acks {
    unassigned: VecDeque<oneshot::Sender<()>>,
    by_pkid: HashMap<u16, oneshot::Sender<()>>,
}

/// One MQTT broker account.
pub struct MqttChannel {
    name: String,
    config: MqttConfig,
    client: parking_lot::Mutex<Option<AsyncClient>>,
    connected: watch::Sender<bool>,
    /// A parking_lot mutex: pushes and pops only, never across an await.
    acks: parking_lot::Mutex<Acks>,
    /// Serializes "register the waiter, queue the publish" so waiters and
    /// packet ids pair up in order. A tokio mutex: held across the queueing.
    publishing: tokio::sync::Mutex<()>,
    progress: Progress,
}

impl std::fmt::Debug for MqttChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttChannel")
            .field("name", &self.name)
            .field("broker", &self.config.broker)
            .finish()
    }
}

impl MqttChannel {
    pub fn new(name: impl Into<String>, config: MqttConfig) -> Self {
        Self {
            name: name.into(),
            config,
            client: parking_lot::Mutex::default(),
            connected: watch::channel(false).0,
            acks: parking_lot::Mutex::default(),
            publishing: tokio::sync::Mutex::new(()),
            progress: Progress::default(),
        }
    }

    fn options(&self) -> Result<MqttOptions, ChannelError> {
        let (host, port) = self
            .config
            .broker
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
            .ok_or_else(|| ChannelError::Permanent(format!("broker {:?}", self.config.broker)))?;
        let client_id = self
            .config
            .client_id
            .clone()
            .unwrap_or_else(|| format!("hearth-{}", self.name));
        let mut options = MqttOptions::new(client_id, host, port);
        options.set_keep_alive(Duration::from_secs(self.config.keep_alive_secs));
        // A persistent session: the broker queues QoS 1 messages for us
        // while we are disconnected, and redelivers what we did not ack.
        options.set_clean_session(false);
        options.set_manual_acks(true);
        let packet = self.config.max_payload_bytes + 4096;
        options.set_max_packet_size(packet.max(64 * 1024), packet.max(64 * 1024));
        if let Some(user) = &self.config.username {
            options.set_credentials(user, self.config.password.clone().unwrap_or_default());
        }
        Ok(options)
    }

    /// The device's message as a platform message, or `None` to drop it.
    fn normalize(&self, publish: &Publish) -> Option<PlatformMessage> {
        if publish.retain {
            // A retained command would be replayed at every reconnect.
            tracing::warn!(channel = %self.name, topic = %publish.topic, "retained message ignored; publish commands without the retain flag");
            return None;
        }
        let Some(inbound) = decode(&publish.payload) else {
            tracing::warn!(channel = %self.name, topic = %publish.topic, "payload is neither text nor JSON with \"text\"; ignored");
            return None;
        };
        if inbound.text.trim().is_empty() {
            return None;
        }
        let sender = inbound
            .sender
            .unwrap_or_else(|| publish.topic.rsplit('/').next().unwrap_or("").to_owned());
        if sender.is_empty() {
            return None;
        }
        let mut conversation = Conversation::direct(&sender);
        // A device-chosen reply topic rides as the conversation's thread,
        // so the reply (even after a restart) finds its way back.
        conversation.thread = inbound.reply_to.filter(|t| valid_topic(t));
        Some(PlatformMessage {
            channel: self.name.clone(),
            text: inbound.text,
            origin: Origin {
                conversation,
                sender: Sender {
                    id: sender,
                    name: None,
                },
                message_id: inbound.id,
                reply_to: None,
                mentioned: true,
                attachments: Vec::new(),
            },
            received_at_ms: now_ms(),
        })
    }

    /// Hands a message to the pipeline; true once it is recorded (or
    /// decided against) and may be acknowledged.
    async fn submit(&self, context: &ChannelContext, message: PlatformMessage) -> bool {
        for attempt in 1..=SUBMIT_ATTEMPTS {
            match context.inbound.submit(message.clone()).await {
                Ok(_) => return true,
                Err(InboundError::Rejected(reason)) => {
                    tracing::warn!(channel = %self.name, %reason, "message rejected");
                    return true;
                }
                Err(InboundError::ShuttingDown) => return false,
                Err(InboundError::Busy(reason)) => {
                    tracing::warn!(channel = %self.name, %reason, attempt, "pipeline busy");
                    tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
                }
            }
        }
        false
    }

    /// Polls the connection: MQTT traffic, PUBACKs for our publishes, and
    /// inbound messages handed to `inbound` in order. It never waits on the
    /// pipeline itself, so a reply sent while a message is being recorded
    /// (a pairing prompt) still gets its PUBACK.
    async fn drive(
        &self,
        context: &ChannelContext,
        eventloop: &mut EventLoop,
        inbound: mpsc::Sender<Publish>,
    ) -> Result<(), ChannelError> {
        loop {
            let event = tokio::select! {
                _ = context.shutdown.cancelled() => return Ok(()),
                event = eventloop.poll() => event.map_err(|e| ChannelError::transient(format!("MQTT: {e}")))?,
            };
            match event {
                Event::Incoming(Incoming::ConnAck(_)) => {
                    self.connected.send_replace(true);
                    context.health.set(HealthState::Up, None);
                    tracing::info!(channel = %self.name, broker = %self.config.broker, "MQTT connected");
                }
                Event::Incoming(Incoming::Publish(publish)) => {
                    context.health.inbound();
                    tokio::select! {
                        _ = context.shutdown.cancelled() => return Ok(()),
                        sent = inbound.send(publish) => if sent.is_err() { return Ok(()) },
                    }
                }
                Event::Outgoing(Outgoing::Publish(pkid)) => {
                    let mut acks = self.acks.lock();
                    if let Some(waiter) = acks.unassigned.pop_front() {
                        acks.by_pkid.insert(pkid, waiter);
                    }
                }
                Event::Incoming(Incoming::PubAck(ack)) => {
                    if let Some(waiter) = self.acks.lock().by_pkid.remove(&ack.pkid) {
                        let _ = waiter.send(());
                    }
                }
                _ => {}
            }
        }
    }

    /// Records inbound messages one by one, in arrival order, and
    /// acknowledges each once recorded. Ends when the poller stops.
    async fn record(
        &self,
        context: &ChannelContext,
        client: &AsyncClient,
        mut inbound: mpsc::Receiver<Publish>,
    ) {
        while let Some(publish) = inbound.recv().await {
            let acked = match self.normalize(&publish) {
                Some(message) => self.submit(context, message).await,
                None => true,
            };
            // Non-blocking: if the connection is gone the ack is dropped and
            // the broker redelivers, which the message id makes harmless.
            if acked && client.try_ack(&publish).is_err() {
                tracing::debug!(channel = %self.name, "ack not sent; the broker will redeliver");
            }
        }
    }

    /// Sends what is queued (acks above all: an ack left unsent makes the
    /// broker redeliver the message) and then DISCONNECT, waiting a
    /// bounded time for the event loop to write them.
    async fn flush_and_disconnect(client: &AsyncClient, eventloop: &mut EventLoop) {
        if client.try_disconnect().is_err() {
            return;
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
    }

    /// Publishes one message at QoS 1 and waits for the broker's PUBACK.
    async fn publish(&self, topic: &str, payload: Vec<u8>) -> Result<(), ChannelError> {
        let mut connected = self.connected.subscribe();
        tokio::time::timeout(SEND_WAIT, connected.wait_for(|up| *up))
            .await
            .map_err(|_| ChannelError::transient("not connected to the MQTT broker"))?
            .map_err(|_| ChannelError::transient("not connected to the MQTT broker"))?;
        let client = self
            .client
            .lock()
            .clone()
            .ok_or_else(|| ChannelError::transient("not connected to the MQTT broker"))?;
        let (done, acked) = oneshot::channel();
        {
            let _order = self.publishing.lock().await;
            self.acks.lock().unassigned.push_back(done);
            if let Err(error) = client
                .publish(topic, QoS::AtLeastOnce, false, payload)
                .await
            {
                self.acks.lock().unassigned.pop_back();
                return Err(ChannelError::transient(format!("MQTT publish: {error}")));
            }
        }
        tokio::time::timeout(SEND_WAIT, acked)
            .await
            .map_err(|_| ChannelError::transient("no PUBACK from the broker"))?
            .map_err(|_| ChannelError::transient("the connection dropped before the PUBACK"))
    }

    fn disconnected(&self) {
        self.connected.send_replace(false);
        *self.client.lock() = None;
        // Waiters of this connection will never get their PUBACK.
        let mut acks = self.acks.lock();
        acks.unassigned.clear();
        acks.by_pkid.clear();
    }
}

#[async_trait]
impl Channel for MqttChannel {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            max_text: self.config.max_payload_bytes,
            measure: Measure::Bytes,
            markup: Markup::Plain,
            ..Capabilities::default()
        }
    }

    async fn start(&self, context: ChannelContext) -> Result<(), ChannelError> {
        let (client, mut eventloop) = AsyncClient::new(self.options()?, REQUEST_QUEUE);
        for filter in &self.config.inbound_topics {
            client
                .subscribe(filter, QoS::AtLeastOnce)
                .await
                .map_err(|e| ChannelError::transient(format!("MQTT subscribe: {e}")))?;
        }
        *self.client.lock() = Some(client.clone());
        let (tx, rx) = mpsc::channel(INBOUND_QUEUE);
        // Both in this task: the poller ends first (shutdown or error),
        // dropping `tx`; the recorder then finishes what is queued.
        let (result, ()) = tokio::join!(
            self.drive(&context, &mut eventloop, tx),
            self.record(&context, &client, rx)
        );
        if result.is_ok() {
            Self::flush_and_disconnect(&client, &mut eventloop).await;
        }
        self.disconnected();
        result
    }

    async fn send(&self, message: &OutboundMessage) -> Result<(), ChannelError> {
        let Some(to) = &message.to else {
            return Err(ChannelError::Permanent(
                "the reply has no MQTT target".into(),
            ));
        };
        let topic = match &to.thread {
            Some(topic) => topic.clone(),
            None => self.config.reply_topic.replace("{sender}", &to.id),
        };
        if !valid_topic(&topic) {
            return Err(ChannelError::Permanent(format!(
                "bad reply topic {topic:?}"
            )));
        }
        let pieces = prepare(&message.text, &self.capabilities());
        let key = &message.idempotency_key;
        self.progress
            .resume(key, pieces.len(), |index| {
                let payload = match self.config.reply_format {
                    ReplyFormat::Text => Ok(pieces[index].clone().into_bytes()),
                    ReplyFormat::Json => serde_json::to_vec(&ReplyPart {
                        id: key,
                        part: index + 1,
                        parts: pieces.len(),
                        text: &pieces[index],
                        in_reply_to: message.reply_to.as_deref(),
                    })
                    .map_err(|e| ChannelError::Permanent(e.to_string())),
                };
                let topic = &topic;
                async move { self.publish(topic, payload?).await }
            })
            .await
    }
}
