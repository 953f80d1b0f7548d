//! The XMPP connection (tokio-xmpp): login with SASL over STARTTLS, the
//! initial presence and room joins, chat and groupchat messages
//! normalized, replies sent as chat or groupchat messages.

use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use hearth_core::{
    Capabilities, Channel, ChannelContext, ChannelError, Conversation, HealthState, InboundError,
    Markup, Measure, Origin, OutboundMessage, PlatformMessage, Sender, now_ms,
};
use sasl::common::Credentials;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_xmpp::connect::{
    DnsConfig, ServerConnector, StartTlsServerConnector, TcpServerConnector,
};
use tokio_xmpp::jid::{BareJid, Jid};
use tokio_xmpp::parsers::message::{Id, Lang, Message, MessageType};
use tokio_xmpp::parsers::muc::Muc;
use tokio_xmpp::parsers::muc::muc::History;
use tokio_xmpp::parsers::ns;
use tokio_xmpp::parsers::presence::Presence;
use tokio_xmpp::parsers::stream_features::StreamFeatures;
use tokio_xmpp::stanzastream::{StanzaStage, StanzaToken};
use tokio_xmpp::xmlstream::Timeouts;
use tokio_xmpp::{Client, Event, Stanza, client_login};

use super::config::{XmppConfig, XmppSecurity};
use crate::deliver::{Progress, prepare};
use crate::text::addressed;

/// How long a reply waits for a connection, and then to be written.
const SEND_WAIT: Duration = Duration::from_secs(10);
/// Stanzas queued towards the connection at most.
const OUTGOING_QUEUE: usize = 64;
/// Inbound messages read ahead of the recorder.
const INBOUND_QUEUE: usize = 64;

type Outgoing = (Stanza, oneshot::Sender<StanzaToken>);

/// One XMPP account.
pub struct XmppChannel {
    name: String,
    config: XmppConfig,
    outgoing: parking_lot::Mutex<Option<mpsc::Sender<Outgoing>>>,
    connected: watch::Sender<bool>,
    progress: Progress,
}

impl std::fmt::Debug for XmppChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XmppChannel")
            .field("name", &self.name)
            .field("jid", &self.config.jid)
            .finish()
    }
}

impl XmppChannel {
    pub fn new(name: impl Into<String>, config: XmppConfig) -> Self {
        Self {
            name: name.into(),
            config,
            outgoing: parking_lot::Mutex::default(),
            connected: watch::channel(false).0,
            progress: Progress::default(),
        }
    }

    fn dns(&self, jid: &BareJid) -> DnsConfig {
        match self
            .config
            .server
            .as_deref()
            .and_then(|s| s.rsplit_once(':'))
        {
            Some((host, port)) => {
                let port: u16 = port.parse().unwrap_or(5222);
                if host.parse::<std::net::IpAddr>().is_ok() {
                    DnsConfig::addr(&format!("{host}:{port}"))
                } else {
                    DnsConfig::no_srv(host, port)
                }
            }
            None => DnsConfig::srv_default_client(jid.domain().as_str()),
        }
    }

    /// Logs in once and hangs up, to tell bad credentials (permanent)
    /// from an unreachable server (transient) before starting the client:
    /// tokio-xmpp's own reconnect loop retries refused logins forever.
    async fn check_login(&self, jid: &BareJid) -> Result<(), ChannelError> {
        let dns = self.dns(jid);
        match self.config.security {
            XmppSecurity::Starttls => {
                self.try_login(StartTlsServerConnector::from(dns), jid)
                    .await
            }
            XmppSecurity::Plain => self.try_login(TcpServerConnector::from(dns), jid).await,
        }
    }

    async fn try_login<C: ServerConnector>(
        &self,
        connector: C,
        jid: &BareJid,
    ) -> Result<(), ChannelError> {
        let transient =
            |e: tokio_xmpp::Error| ChannelError::transient(format!("XMPP connect: {e}"));
        let full: Jid = jid.clone().into();
        let attempt = async {
            let (pending, binding) = connector
                .connect(&full, ns::JABBER_CLIENT, Timeouts::default())
                .await
                .map_err(transient)?;
            let (features, stream): (StreamFeatures, _) = pending
                .recv_features()
                .await
                .map_err(|e| transient(e.into()))?;
            let username = jid
                .node()
                .map(|n| n.as_str().to_owned())
                .unwrap_or_default();
            let creds = Credentials::default()
                .with_username(username)
                .with_password(self.config.password.clone())
                .with_channel_binding(binding);
            match client_login(stream, features.sasl_mechanisms, creds).await {
                Ok(_) => Ok(()),
                Err(tokio_xmpp::Error::Auth(e)) => Err(ChannelError::Permanent(format!(
                    "XMPP login as {jid} refused ({e}); check jid and password"
                ))),
                Err(e) => Err(transient(e)),
            }
        };
        tokio::time::timeout(Duration::from_secs(30), attempt)
            .await
            .map_err(|_| ChannelError::transient("XMPP login timed out"))?
    }

    fn client(&self, jid: BareJid) -> Client {
        let dns = self.dns(&jid);
        let password = self.config.password.clone();
        match self.config.security {
            XmppSecurity::Starttls => Client::new_starttls(jid, password, dns, Timeouts::default()),
            XmppSecurity::Plain => Client::new_plaintext(jid, password, dns, Timeouts::default()),
        }
    }

    /// Presence and room joins, once the stream is up.
    async fn announce(&self, client: &mut Client) -> Result<(), ChannelError> {
        let io = |e: std::io::Error| ChannelError::transient(format!("XMPP send: {e}"));
        client
            .send_stanza(Presence::available().into())
            .await
            .map_err(io)?;
        let nick = self.config.room_nick();
        for room in &self.config.rooms {
            let occupant: Jid = format!("{room}/{nick}")
                .parse()
                .map_err(|e| ChannelError::Permanent(format!("room {room}: {e}")))?;
            // No history: old lines must not be answered again.
            let muc = Muc::new().with_history(History::new().with_maxstanzas(0));
            let join = Presence::available().with_to(occupant).with_payload(muc);
            client.send_stanza(join.into()).await.map_err(io)?;
        }
        Ok(())
    }

    /// A chat or groupchat message as a platform message, or `None`.
    fn normalize(&self, message: &Message) -> Option<PlatformMessage> {
        let from = message.from.clone()?;
        let (_, body) = message.get_best_body_cloned(vec![])?;
        if body.trim().is_empty() {
            return None;
        }
        let delayed = message.payloads.iter().any(|p| p.is("delay", ns::DELAY));
        let (conversation, sender, text, mentioned) = match message.type_ {
            MessageType::Groupchat => {
                // Room history replayed on join is not for us to answer.
                if delayed {
                    return None;
                }
                let room = from.to_bare().to_string();
                let nick = from.resource()?.to_string();
                let own = self.config.room_nick();
                if nick == own {
                    return None; // our own message, reflected by the room
                }
                let (text, mentioned) = match addressed(&body, &own) {
                    Some(stripped) => (stripped, true),
                    None => (body, false),
                };
                let sender = Sender {
                    id: format!("{room}/{nick}"),
                    name: Some(nick),
                };
                (Conversation::group(room), sender, text, mentioned)
            }
            MessageType::Chat | MessageType::Normal => {
                let bare = from.to_bare().to_string();
                let sender = Sender {
                    id: bare.clone(),
                    name: None,
                };
                (Conversation::direct(bare), sender, body, true)
            }
            _ => return None,
        };
        Some(PlatformMessage {
            channel: self.name.clone(),
            text,
            origin: Origin {
                conversation,
                sender,
                message_id: message.id.as_ref().map(|id| id.0.clone()),
                reply_to: None,
                mentioned,
                attachments: Vec::new(),
            },
            received_at_ms: now_ms(),
        })
    }

    /// Drives the stream: events in, stanzas out. Inbound messages go to
    /// `inbound` in order; this loop never waits on the pipeline, so a reply
    /// sent while a message is being recorded still goes out.
    async fn drive(
        &self,
        context: &ChannelContext,
        client: &mut Client,
        outgoing: &mut mpsc::Receiver<Outgoing>,
        inbound: mpsc::Sender<PlatformMessage>,
    ) -> Result<(), ChannelError> {
        let mut online_before = false;
        loop {
            tokio::select! {
                _ = context.shutdown.cancelled() => return Ok(()),
                Some((stanza, reply)) = outgoing.recv() => {
                    let token = client
                        .send_stanza(stanza)
                        .await
                        .map_err(|e| ChannelError::transient(format!("XMPP send: {e}")))?;
                    let _ = reply.send(token);
                }
                event = client.next() => match event {
                    None => return Err(ChannelError::transient("the XMPP stream ended")),
                    Some(Event::Online { bound_jid, .. }) => {
                        // tokio-xmpp reconnects by itself and says only
                        // "online" again: count that as a reconnect.
                        if online_before {
                            context.health.set(HealthState::Reconnecting, Some("the XMPP stream was re-established".into()));
                        }
                        online_before = true;
                        self.announce(client).await?;
                        self.connected.send_replace(true);
                        context.health.set(HealthState::Up, None);
                        tracing::info!(channel = %self.name, jid = %bound_jid, "XMPP online");
                    }
                    Some(Event::Disconnected(error)) => {
                        // tokio-xmpp reconnects on its own (and resumes the
                        // session where the server allows); we rejoin rooms
                        // at the next Online.
                        self.connected.send_replace(false);
                        tracing::warn!(channel = %self.name, %error, "XMPP disconnected; reconnecting");
                        context.health.set(HealthState::Reconnecting, Some(error.to_string()));
                    }
                    Some(Event::Stanza(Stanza::Message(message))) => {
                        context.health.inbound();
                        if let Some(normalized) = self.normalize(&message) {
                            tokio::select! {
                                _ = context.shutdown.cancelled() => return Ok(()),
                                sent = inbound.send(normalized) => if sent.is_err() { return Ok(()) },
                            }
                        }
                    }
                    Some(Event::Stanza(_)) => {}
                },
            }
        }
    }

    /// Hands messages to the pipeline one by one, in arrival order.
    async fn record(&self, context: &ChannelContext, mut inbound: mpsc::Receiver<PlatformMessage>) {
        while let Some(message) = inbound.recv().await {
            match context.inbound.submit(message).await {
                Ok(_) => {}
                // XMPP cannot redeliver: the message is lost to us; say why.
                Err(InboundError::Busy(reason)) => {
                    tracing::warn!(channel = %self.name, %reason, "message dropped: pipeline busy")
                }
                Err(error) => tracing::warn!(channel = %self.name, %error, "message refused"),
            }
        }
    }

    /// Queues a stanza on the live connection and waits until it is written.
    async fn transmit(&self, stanza: Stanza) -> Result<(), ChannelError> {
        let mut connected = self.connected.subscribe();
        let offline = || ChannelError::transient("not connected to the XMPP server");
        tokio::time::timeout(SEND_WAIT, connected.wait_for(|up| *up))
            .await
            .map_err(|_| offline())?
            .map_err(|_| offline())?;
        let queue = self.outgoing.lock().clone().ok_or_else(offline)?;
        let (reply, token) = oneshot::channel();
        queue.send((stanza, reply)).await.map_err(|_| offline())?;
        let mut token = tokio::time::timeout(SEND_WAIT, token)
            .await
            .map_err(|_| offline())?
            .map_err(|_| offline())?;
        match tokio::time::timeout(SEND_WAIT, token.wait_for(StanzaStage::Sent)).await {
            Ok(Some(_)) => Ok(()),
            _ => Err(ChannelError::transient("the XMPP stanza was not written")),
        }
    }
}

#[async_trait]
impl Channel for XmppChannel {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            max_text: self.config.max_text,
            measure: Measure::Chars,
            markup: Markup::Plain,
            ..Capabilities::default()
        }
    }

    async fn start(&self, context: ChannelContext) -> Result<(), ChannelError> {
        let jid = BareJid::new(&self.config.jid)
            .map_err(|e| ChannelError::Permanent(format!("jid: {e}")))?;
        self.check_login(&jid).await?;
        let mut client = self.client(jid);
        let (out_tx, mut out_rx) = mpsc::channel(OUTGOING_QUEUE);
        *self.outgoing.lock() = Some(out_tx);
        let (in_tx, in_rx) = mpsc::channel(INBOUND_QUEUE);
        let (result, ()) = tokio::join!(
            self.drive(&context, &mut client, &mut out_rx, in_tx),
            self.record(&context, in_rx)
        );
        self.connected.send_replace(false);
        *self.outgoing.lock() = None;
        if result.is_ok() {
            // Orderly close: unavailable presence and the stream end.
            let _ = tokio::time::timeout(Duration::from_secs(2), client.send_end()).await;
        }
        result
    }

    async fn send(&self, message: &OutboundMessage) -> Result<(), ChannelError> {
        let Some(to) = &message.to else {
            return Err(ChannelError::Permanent(
                "the reply has no XMPP address".into(),
            ));
        };
        let target: Jid = to
            .id
            .parse()
            .map_err(|e| ChannelError::Permanent(format!("bad XMPP address {:?}: {e}", to.id)))?;
        let pieces = prepare(&message.text, &self.capabilities());
        let key = &message.idempotency_key;
        self.progress
            .resume(key, pieces.len(), |index| {
                let mut stanza = if to.is_group() {
                    Message::groupchat(target.clone())
                } else {
                    Message::chat(target.clone())
                }
                .with_body(Lang::new(), pieces[index].clone());
                // A stable id per piece lets clients drop a resent duplicate.
                stanza.id = Some(Id(format!("{key}-{}", index + 1)));
                self.transmit(stanza.into())
            })
            .await
    }
}
