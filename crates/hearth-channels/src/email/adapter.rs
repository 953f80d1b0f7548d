//! The mailbox: IMAP (async-imap) fetches unseen mail, records each one and
//! only then flags it `\Seen`, and waits in IDLE for more; replies go out
//! over SMTP (lettre) in the sender's thread, with a Message-ID derived from
//! the idempotency key so a retried send is one mail to the recipient.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use async_imap::extensions::idle::IdleResponse;
use async_trait::async_trait;
use futures::TryStreamExt;
use hearth_core::{
    Capabilities, Channel, ChannelContext, ChannelError, Conversation, HealthState, InboundError,
    Markup, Measure, Origin, OutboundMessage, PlatformMessage, Sender, now_ms,
};
use lettre::message::header::{ContentType, InReplyTo, References};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::net::TcpStream;
use tokio_util::either::Either;

use super::config::{EmailConfig, MailSecurity, split_server};
use super::wire::{Received, parse, reply_subject};
use crate::deliver::prepare;

type Stream = Either<TcpStream, tokio_rustls::client::TlsStream<TcpStream>>;
type Session = async_imap::Session<Stream>;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// Subjects and references of recent mails, for replying in their thread.
const MAX_THREADS: usize = 1024;

/// Where a reply to a mail goes in its thread.
#[derive(Debug, Clone)]
struct Thread {
    subject: String,
    /// The References of the reply: the mail's own plus its id.
    references: Vec<String>,
}

/// One mailbox.
pub struct EmailChannel {
    name: String,
    config: EmailConfig,
    /// A parking_lot mutex: inserts and lookups only.
    threads: parking_lot::Mutex<(HashMap<String, Thread>, VecDeque<String>)>,
}

impl std::fmt::Debug for EmailChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailChannel")
            .field("name", &self.name)
            .field("address", &self.config.address)
            .finish()
    }
}

fn transient(what: &str) -> impl Fn(async_imap::error::Error) -> ChannelError + '_ {
    move |e| ChannelError::transient(format!("IMAP {what}: {e}"))
}

impl EmailChannel {
    pub fn new(name: impl Into<String>, config: EmailConfig) -> Self {
        Self {
            name: name.into(),
            config,
            threads: parking_lot::Mutex::default(),
        }
    }

    async fn connect(&self) -> Result<Session, ChannelError> {
        let (host, port) = split_server(&self.config.imap_server)
            .ok_or_else(|| ChannelError::Permanent("imap_server must be host:port".into()))?;
        let tcp = TcpStream::connect((host, port)).await.map_err(|e| {
            ChannelError::transient(format!("connect {}: {e}", self.config.imap_server))
        })?;
        let stream: Stream = match self.config.imap_security {
            MailSecurity::Plain => Either::Left(tcp),
            _ => {
                let connector = crate::tls::connector(self.config.tls_ca_file.as_deref())?;
                let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_owned())
                    .map_err(|e| {
                    ChannelError::Permanent(format!("imap_server {host:?}: {e}"))
                })?;
                let tls = connector
                    .connect(name, tcp)
                    .await
                    .map_err(|e| ChannelError::transient(format!("TLS with {host}: {e}")))?;
                Either::Right(tls)
            }
        };
        let mut client = async_imap::Client::new(stream);
        client
            .read_response()
            .await
            .map_err(|e| ChannelError::transient(format!("IMAP greeting: {e}")))?
            .ok_or_else(|| ChannelError::transient("the IMAP server closed at once"))?;
        let mut session = client
            .login(&self.config.username, &self.config.password)
            .await
            .map_err(|(e, _)| match e {
                async_imap::error::Error::No(_) | async_imap::error::Error::Bad(_) => {
                    ChannelError::Permanent(format!("IMAP login refused: {e}"))
                }
                other => ChannelError::transient(format!("IMAP login: {other}")),
            })?;
        session
            .select(&self.config.mailbox)
            .await
            .map_err(transient("select"))?;
        Ok(session)
    }

    fn remember(&self, id: &str, thread: Thread) {
        let mut guard = self.threads.lock();
        let (map, order) = &mut *guard;
        if map.insert(id.to_owned(), thread).is_none() {
            order.push_back(id.to_owned());
            if order.len() > MAX_THREADS
                && let Some(old) = order.pop_front()
            {
                map.remove(&old);
            }
        }
    }

    fn normalize(&self, mail: Received) -> Option<PlatformMessage> {
        if mail.automatic || mail.from == self.config.address.to_lowercase() {
            tracing::debug!(channel = %self.name, from = %mail.from, "automatic or own mail ignored");
            return None;
        }
        if mail.text.is_empty() {
            return None;
        }
        let id = mail.message_id.clone();
        if let Some(id) = &id {
            let mut references = mail.references.clone();
            references.push(id.clone());
            self.remember(
                id,
                Thread {
                    subject: mail.subject.clone(),
                    references,
                },
            );
        }
        // One session per mail thread: its first message names it.
        let mut conversation = Conversation::direct(&mail.from);
        conversation.thread = mail.references.first().cloned().or_else(|| id.clone());
        let text = if mail.subject.trim().is_empty() || !mail.references.is_empty() {
            mail.text
        } else {
            format!("{}\n\n{}", mail.subject.trim(), mail.text)
        };
        Some(PlatformMessage {
            channel: self.name.clone(),
            text,
            origin: Origin {
                conversation,
                sender: Sender {
                    id: mail.from,
                    name: mail.from_name,
                },
                message_id: id.clone(),
                reply_to: id,
                mentioned: true,
                attachments: Vec::new(),
            },
            received_at_ms: now_ms(),
        })
    }

    /// Records every unseen mail, flagging each `\Seen` once recorded.
    /// Returns false if the pipeline was busy (try again later).
    async fn fetch_unseen(
        &self,
        session: &mut Session,
        context: &ChannelContext,
    ) -> Result<bool, ChannelError> {
        let mut uids: Vec<u32> = session
            .uid_search("UNSEEN")
            .await
            .map_err(transient("search"))?
            .into_iter()
            .collect();
        uids.sort_unstable();
        for uid in uids {
            let fetches: Vec<_> = session
                .uid_fetch(uid.to_string(), "BODY.PEEK[]")
                .await
                .map_err(transient("fetch"))?
                .try_collect()
                .await
                .map_err(transient("fetch"))?;
            let Some(raw) = fetches.iter().find_map(|f| f.body().map(<[u8]>::to_vec)) else {
                continue;
            };
            context.health.inbound();
            if let Some(message) = parse(&raw).and_then(|mail| self.normalize(mail)) {
                match context.inbound.submit(message).await {
                    Ok(_) | Err(InboundError::Rejected(_)) => {}
                    Err(InboundError::Busy(reason)) => {
                        tracing::warn!(channel = %self.name, %reason, "pipeline busy; the mail stays unseen");
                        return Ok(false);
                    }
                    Err(InboundError::ShuttingDown) => return Ok(false),
                }
            }
            session
                .uid_store(uid.to_string(), "+FLAGS (\\Seen)")
                .await
                .map_err(transient("store"))?
                .try_collect::<Vec<_>>()
                .await
                .map_err(transient("store"))?;
        }
        Ok(true)
    }

    fn smtp(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, ChannelError> {
        let (host, port) = split_server(&self.config.smtp_server)
            .ok_or_else(|| ChannelError::Permanent("smtp_server must be host:port".into()))?;
        let bad =
            |e: lettre::transport::smtp::Error| ChannelError::Permanent(format!("SMTP setup: {e}"));
        let builder = match self.config.smtp_security {
            MailSecurity::Plain => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            MailSecurity::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(bad)?
            }
            MailSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(bad)?,
        }
        .port(port)
        .timeout(Some(CONNECT_TIMEOUT));
        let builder = if self.config.smtp_auth {
            let user = self
                .config
                .smtp_username
                .clone()
                .unwrap_or_else(|| self.config.username.clone());
            let password = self
                .config
                .smtp_password
                .clone()
                .unwrap_or_else(|| self.config.password.clone());
            builder.credentials(Credentials::new(user, password))
        } else {
            builder
        };
        Ok(builder.build())
    }
}

#[async_trait]
impl Channel for EmailChannel {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            // One reply is one mail.
            max_text: 1_000_000,
            measure: Measure::Chars,
            markup: Markup::Plain,
            threads: true,
            ..Capabilities::default()
        }
    }

    async fn start(&self, context: ChannelContext) -> Result<(), ChannelError> {
        let mut session = tokio::select! {
            _ = context.shutdown.cancelled() => return Ok(()),
            session = tokio::time::timeout(CONNECT_TIMEOUT, self.connect()) => session
                .map_err(|_| ChannelError::transient("IMAP connect timed out"))??,
        };
        context.health.set(HealthState::Up, None);
        tracing::info!(channel = %self.name, server = %self.config.imap_server, "IMAP connected");
        loop {
            if !self.fetch_unseen(&mut session, &context).await? {
                tokio::select! {
                    _ = context.shutdown.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_secs(2)) => continue,
                }
            }
            let mut idle = session.idle();
            idle.init().await.map_err(transient("idle"))?;
            let (wait, stop) = idle.wait_with_timeout(Duration::from_secs(self.config.idle_secs));
            let stopping = tokio::select! {
                _ = context.shutdown.cancelled() => true,
                response = wait => match response.map_err(transient("idle"))? {
                    IdleResponse::NewData(_) | IdleResponse::Timeout | IdleResponse::ManualInterrupt => false,
                },
            };
            drop(stop);
            session = idle.done().await.map_err(transient("idle done"))?;
            if stopping {
                break;
            }
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), session.logout()).await;
        Ok(())
    }

    async fn send(&self, message: &OutboundMessage) -> Result<(), ChannelError> {
        let Some(to) = &message.to else {
            return Err(ChannelError::Permanent("the reply has no address".into()));
        };
        let thread = message
            .reply_to
            .as_ref()
            .and_then(|id| self.threads.lock().0.get(id).cloned());
        let subject = reply_subject(thread.as_ref().map_or("", |t| t.subject.as_str()));
        let bad = |what: &str, e: String| ChannelError::Permanent(format!("{what}: {e}"));
        let mut builder = Message::builder()
            .from(
                self.config
                    .address
                    .parse()
                    .map_err(|e: lettre::address::AddressError| bad("from", e.to_string()))?,
            )
            .to(to
                .id
                .parse()
                .map_err(|e: lettre::address::AddressError| bad("to", e.to_string()))?)
            .subject(subject)
            // Stable across retries: the recipient's client shows one mail.
            .message_id(Some(format!(
                "<{}@hearth>",
                message.idempotency_key.replace(['<', '>', ' '], "_")
            )))
            .header(ContentType::TEXT_PLAIN);
        if let Some(reply_to) = &message.reply_to {
            builder = builder.header(InReplyTo::from(format!("<{reply_to}>")));
            let references = thread
                .map(|t| t.references)
                .unwrap_or_else(|| vec![reply_to.clone()]);
            let joined = references
                .iter()
                .map(|r| format!("<{r}>"))
                .collect::<Vec<_>>()
                .join(" ");
            builder = builder.header(References::from(joined));
        }
        let body = prepare(&message.text, &self.capabilities()).join("\n\n");
        let email = builder
            .body(body)
            .map_err(|e| bad("message", e.to_string()))?;
        match self.smtp()?.send(email).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => {
                Err(ChannelError::Permanent(format!("SMTP refused: {e}")))
            }
            Err(e) => Err(ChannelError::transient(format!("SMTP: {e}"))),
        }
    }
}
