//! The IRC connection: registration (PASS, SASL PLAIN, NICK/USER), joins,
//! PING/PONG and a liveness watchdog, PRIVMSG normalized into
//! [`PlatformMessage`]s, and replies sent line by line under flood control.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use hearth_core::{
    Admission, Capabilities, Channel, ChannelContext, ChannelError, Conversation, HealthState,
    InboundError, Markup, Measure, Origin, OutboundMessage, PlatformMessage, Sender, now_ms,
};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, watch};

use super::config::IrcConfig;
use super::wire::{Line, is_channel, is_ctcp, sanitize};
use crate::deliver::{Progress, prepare};
use crate::limits::TokenBucket;
use crate::reconnect::Liveness;
use crate::text::addressed as mention;

/// Longest line read from the server (IRCv3 allows 8191 bytes of tags plus
/// 512 of message); a longer one is cut there and the rest skipped.
const MAX_LINE: usize = 8192 + 512;
/// How long connecting and registering may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a reply waits for a reconnect before the outbox retries it.
const SEND_WAIT: Duration = Duration::from_secs(10);
/// Alternative nicks tried when the nick is taken.
const MAX_NICK_TRIES: usize = 5;

type Writer = Box<dyn AsyncWrite + Send + Unpin>;
type Reader = BufReader<Box<dyn AsyncRead + Send + Unpin>>;

/// One IRC network account.
pub struct IrcChannel {
    name: String,
    config: IrcConfig,
    /// The live connection's write half; `None` while disconnected. A tokio
    /// mutex: held across the write of one line.
    writer: Mutex<Option<Writer>>,
    /// The nick the server gave us (for mentions); empty while offline.
    nick: parking_lot::Mutex<String>,
    connected: watch::Sender<bool>,
    flood: TokenBucket,
    progress: Progress,
}

impl std::fmt::Debug for IrcChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IrcChannel")
            .field("name", &self.name)
            .field("server", &self.config.server)
            .finish()
    }
}

impl IrcChannel {
    pub fn new(name: impl Into<String>, config: IrcConfig) -> Self {
        let flood = TokenBucket::new(
            config.flood_burst,
            Duration::from_millis(config.flood_interval_ms),
        );
        Self {
            name: name.into(),
            config,
            writer: Mutex::new(None),
            nick: parking_lot::Mutex::default(),
            connected: watch::channel(false).0,
            flood,
            progress: Progress::default(),
        }
    }

    async fn connect(&self) -> Result<(Reader, Writer), ChannelError> {
        let tcp = TcpStream::connect(&self.config.server)
            .await
            .map_err(|e| ChannelError::transient(format!("connect {}: {e}", self.config.server)))?;
        let _ = tcp.set_nodelay(true);
        if !self.config.tls {
            let (read, write) = tokio::io::split(tcp);
            return Ok((BufReader::new(Box::new(read)), Box::new(write)));
        }
        let connector = crate::tls::connector(self.config.tls_ca_file.as_deref())?;
        let host = self
            .config
            .server
            .rsplit_once(':')
            .map_or(self.config.server.as_str(), |(h, _)| h);
        let server_name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_owned())
            .map_err(|e| ChannelError::Permanent(format!("server name {host:?}: {e}")))?;
        let tls = connector
            .connect(server_name, tcp)
            .await
            .map_err(|e| ChannelError::transient(format!("TLS with {host}: {e}")))?;
        let (read, write) = tokio::io::split(tls);
        Ok((BufReader::new(Box::new(read)), Box::new(write)))
    }

    /// Writes one raw line (CR LF added).
    async fn write_line(writer: &mut Writer, line: &str) -> std::io::Result<()> {
        writer.write_all(line.as_bytes()).await?;
        writer.write_all(b"\r\n").await?;
        writer.flush().await
    }

    /// PASS, CAP/SASL, NICK, USER; then waits for the welcome (001).
    async fn register(
        &self,
        reader: &mut Reader,
        writer: &mut Writer,
    ) -> Result<String, ChannelError> {
        let config = &self.config;
        let io = |e: std::io::Error| ChannelError::transient(format!("registration: {e}"));
        if let Some(password) = &config.server_password {
            Self::write_line(writer, &format!("PASS {}", sanitize(password)))
                .await
                .map_err(io)?;
        }
        if config.sasl.is_some() {
            Self::write_line(writer, "CAP REQ :sasl")
                .await
                .map_err(io)?;
        }
        let mut nick = config.nick.clone();
        let username = config.username.as_deref().unwrap_or(&config.nick);
        Self::write_line(writer, &format!("NICK {nick}"))
            .await
            .map_err(io)?;
        Self::write_line(
            writer,
            &format!(
                "USER {} 0 * :{}",
                sanitize(username),
                sanitize(&config.realname)
            ),
        )
        .await
        .map_err(io)?;
        let mut tries = 0;
        let mut buf = Vec::new();
        loop {
            let Some(raw) = read_line(reader, &mut buf).await.map_err(io)? else {
                return Err(ChannelError::transient(
                    "the server closed the connection during registration",
                ));
            };
            let Some(line) = Line::parse(&raw) else {
                continue;
            };
            match line.command {
                "PING" => Self::write_line(writer, &format!("PONG :{}", line.param(0)))
                    .await
                    .map_err(io)?,
                "001" => return Ok(line.param(0).to_owned()),
                // Nick in use / unavailable: try another.
                "433" | "437" => {
                    tries += 1;
                    if tries > MAX_NICK_TRIES {
                        return Err(ChannelError::transient(format!(
                            "nick {} and {MAX_NICK_TRIES} alternatives are taken",
                            config.nick
                        )));
                    }
                    nick.push('_');
                    Self::write_line(writer, &format!("NICK {nick}"))
                        .await
                        .map_err(io)?;
                }
                "432" => {
                    return Err(ChannelError::Permanent(format!(
                        "the server refuses the nick {nick:?}"
                    )));
                }
                "464" => {
                    return Err(ChannelError::Permanent(
                        "the server password is wrong".into(),
                    ));
                }
                "CAP" => {
                    let sub = line.param(1);
                    if sub == "ACK" && line.param(2).split(' ').any(|c| c == "sasl") {
                        Self::write_line(writer, "AUTHENTICATE PLAIN")
                            .await
                            .map_err(io)?;
                    } else if sub == "NAK" {
                        return Err(ChannelError::Permanent(
                            "the server does not offer SASL; remove [sasl] or use another server"
                                .into(),
                        ));
                    }
                }
                "AUTHENTICATE" if line.param(0) == "+" => {
                    let Some(sasl) = &config.sasl else { continue };
                    let token = base64::engine::general_purpose::STANDARD
                        .encode(format!("{0}\0{0}\0{1}", sasl.username, sasl.password));
                    Self::write_line(writer, &format!("AUTHENTICATE {token}"))
                        .await
                        .map_err(io)?;
                }
                "903" => Self::write_line(writer, "CAP END").await.map_err(io)?,
                "904" | "905" | "906" => {
                    return Err(ChannelError::Permanent(format!(
                        "SASL login as {:?} failed: {}",
                        config
                            .sasl
                            .as_ref()
                            .map(|s| s.username.as_str())
                            .unwrap_or(""),
                        line.params.last().copied().unwrap_or("")
                    )));
                }
                "ERROR" => {
                    return Err(ChannelError::transient(format!(
                        "the server said: {}",
                        line.param(0)
                    )));
                }
                _ => {}
            }
        }
    }

    /// A PRIVMSG as a platform message, or `None` if it is not one for the
    /// assistant (CTCP, a notice, our own echo).
    pub(super) fn normalize(&self, line: &Line<'_>, nick: &str) -> Option<PlatformMessage> {
        if line.command != "PRIVMSG" {
            return None;
        }
        let sender = line.nick()?;
        let target = line.param(0);
        let text = line.param(1);
        if is_ctcp(text) || sender.eq_ignore_ascii_case(nick) || text.trim().is_empty() {
            return None;
        }
        let (conversation, text, mentioned) = if is_channel(target) {
            match mention(text, nick) {
                Some(stripped) => (Conversation::group(target), stripped, true),
                None => (Conversation::group(target), text.to_owned(), false),
            }
        } else {
            (Conversation::direct(sender), text.to_owned(), true)
        };
        Some(PlatformMessage {
            channel: self.name.clone(),
            text,
            origin: Origin {
                conversation,
                sender: Sender {
                    id: sender.to_owned(),
                    name: None,
                },
                // IRC gives messages no id (without the IRCv3 msgid tag):
                // nothing is redelivered either, so there is nothing to
                // dedupe.
                message_id: None,
                reply_to: None,
                mentioned,
                attachments: Vec::new(),
            },
            received_at_ms: now_ms(),
        })
    }

    async fn run(&self, context: &ChannelContext, mut reader: Reader) -> Result<(), ChannelError> {
        let nick = self.nick.lock().clone();
        let liveness = Liveness::new(Duration::from_secs(self.config.ping_secs));
        let mut pinged = false;
        let mut buf = Vec::new();
        loop {
            let raw = tokio::select! {
                _ = context.shutdown.cancelled() => {
                    self.send_raw("QUIT :shutting down").await.ok();
                    return Ok(());
                }
                _ = liveness.silent() => {
                    if pinged {
                        return Err(ChannelError::transient("the server stopped answering"));
                    }
                    pinged = true;
                    liveness.touch();
                    self.send_raw("PING :hearth").await.map_err(|e| ChannelError::transient(e.to_string()))?;
                    continue;
                }
                read = read_line(&mut reader, &mut buf) => match read {
                    Ok(Some(raw)) => raw,
                    Ok(None) => return Err(ChannelError::transient("the server closed the connection")),
                    Err(e) => return Err(ChannelError::transient(format!("read: {e}"))),
                },
            };
            liveness.touch();
            pinged = false;
            let Some(line) = Line::parse(&raw) else {
                continue;
            };
            match line.command {
                "PING" => self
                    .send_raw(&format!("PONG :{}", line.param(0)))
                    .await
                    .map_err(|e| ChannelError::transient(e.to_string()))?,
                "ERROR" => {
                    return Err(ChannelError::transient(format!(
                        "the server said: {}",
                        line.param(0)
                    )));
                }
                "NICK" if line.nick() == Some(self.nick.lock().as_str()) => {
                    *self.nick.lock() = line.param(0).to_owned();
                }
                "PRIVMSG" => {
                    let current = self.nick.lock().clone();
                    let Some(message) =
                        self.normalize(&line, if current.is_empty() { &nick } else { &current })
                    else {
                        continue;
                    };
                    context.health.inbound();
                    match context.inbound.submit(message).await {
                        Ok(
                            Admission::Accepted | Admission::Duplicate | Admission::PairingPending,
                        ) => {}
                        Ok(Admission::Ignored(reason)) => {
                            tracing::debug!(channel = %self.name, reason, "message ignored")
                        }
                        // IRC cannot redeliver: say so instead of dropping silently.
                        Err(InboundError::Busy(_)) => {
                            let to = line.nick().unwrap_or_default();
                            self.send_raw(&format!(
                                "NOTICE {to} :Busy right now, please say that again in a minute."
                            ))
                            .await
                            .ok();
                        }
                        Err(error) => {
                            tracing::warn!(channel = %self.name, %error, "inbound message refused")
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Sends one raw line if connected.
    async fn send_raw(&self, line: &str) -> std::io::Result<()> {
        let mut guard = self.writer.lock().await;
        match guard.as_mut() {
            Some(writer) => Self::write_line(writer, line).await,
            None => Err(std::io::Error::new(
                std::io::ErrorKind::NotConnected,
                "not connected",
            )),
        }
    }

    /// Waits up to [`SEND_WAIT`] for a live connection.
    async fn wait_connected(&self) -> Result<(), ChannelError> {
        let mut connected = self.connected.subscribe();
        tokio::time::timeout(SEND_WAIT, connected.wait_for(|up| *up))
            .await
            .map_err(|_| ChannelError::transient("not connected to the IRC server"))?
            .map_err(|_| ChannelError::transient("not connected to the IRC server"))?;
        Ok(())
    }

    fn disconnected(&self) {
        self.connected.send_replace(false);
    }
}

#[async_trait]
impl Channel for IrcChannel {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            max_text: self.config.max_line_bytes,
            measure: Measure::Bytes,
            markup: Markup::Irc,
            ..Capabilities::default()
        }
    }

    async fn start(&self, context: ChannelContext) -> Result<(), ChannelError> {
        let connecting = async {
            let (mut reader, mut writer) = self.connect().await?;
            let nick = self.register(&mut reader, &mut writer).await?;
            Ok::<_, ChannelError>((reader, writer, nick))
        };
        let (reader, mut writer, nick) = tokio::select! {
            _ = context.shutdown.cancelled() => return Ok(()),
            done = tokio::time::timeout(CONNECT_TIMEOUT, connecting) => done
                .map_err(|_| ChannelError::transient(format!("no welcome from {} within {CONNECT_TIMEOUT:?}", self.config.server)))??,
        };
        for channel in &self.config.channels {
            Self::write_line(&mut writer, &format!("JOIN {}", sanitize(channel)))
                .await
                .map_err(|e| ChannelError::transient(e.to_string()))?;
        }
        tracing::info!(channel = %self.name, server = %self.config.server, %nick, "IRC connected");
        *self.nick.lock() = nick;
        *self.writer.lock().await = Some(writer);
        self.connected.send_replace(true);
        context.health.set(HealthState::Up, None);
        let result = self.run(&context, reader).await;
        self.disconnected();
        *self.writer.lock().await = None;
        result
    }

    async fn send(&self, message: &OutboundMessage) -> Result<(), ChannelError> {
        let Some(to) = &message.to else {
            return Err(ChannelError::Permanent(
                "the reply has no IRC target".into(),
            ));
        };
        let target = sanitize(&to.id);
        if target.is_empty() || target.contains(' ') {
            return Err(ChannelError::Permanent(format!(
                "bad IRC target {:?}",
                to.id
            )));
        }
        // IRC has no multi-line messages: every line is its own PRIVMSG.
        let lines: Vec<String> = prepare(&message.text, &self.capabilities())
            .iter()
            .flat_map(|piece| piece.lines().map(str::to_owned).collect::<Vec<_>>())
            .filter(|line| !line.trim().is_empty())
            .collect();
        let key = &message.idempotency_key;
        self.progress
            .resume(key, lines.len(), |index| {
                let line = format!("PRIVMSG {target} :{}", sanitize(&lines[index]));
                async move {
                    self.wait_connected().await?;
                    self.flood.acquire().await;
                    self.send_raw(&line)
                        .await
                        .map_err(|error| ChannelError::transient(format!("IRC write: {error}")))
                }
            })
            .await
    }
}

/// Reads one line (without CR LF), at most [`MAX_LINE`] bytes; invalid
/// UTF-8 is replaced rather than refused (IRC has no fixed encoding).
/// Cancel-safe: a partial line stays in `buf` for the next call.
async fn read_line(reader: &mut Reader, buf: &mut Vec<u8>) -> std::io::Result<Option<String>> {
    let room = MAX_LINE.saturating_sub(buf.len()) as u64;
    let read = (&mut *reader).take(room).read_until(b'\n', buf).await?;
    if read == 0 && buf.is_empty() {
        return Ok(None);
    }
    if !buf.ends_with(b"\n") {
        if buf.len() < MAX_LINE {
            // End of stream in the middle of a line.
            buf.clear();
            return Ok(None);
        }
        // Overlong: skip to the end of the line.
        let mut skipped = Vec::new();
        reader.read_until(b'\n', &mut skipped).await?;
    }
    let text = String::from_utf8_lossy(buf)
        .trim_end_matches(['\r', '\n'])
        .to_owned();
    buf.clear();
    Ok(Some(text))
}

/// The adapter, shared: for the host and the outbox.
pub fn channel(name: &str, config: IrcConfig) -> Arc<IrcChannel> {
    Arc::new(IrcChannel::new(name, config))
}
