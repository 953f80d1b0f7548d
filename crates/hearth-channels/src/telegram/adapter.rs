//! The Telegram bot: `getMe` once per connection, then updates by long
//! polling (the offset advances only past updates the pipeline recorded)
//! or by webhook; replies as HTML in pieces of 4096 UTF-16 units, typing
//! indicators, attachments downloaded to the file store.

use std::time::Duration;

use async_trait::async_trait;
use hearth_core::{
    Admission, Capabilities, Channel, ChannelContext, ChannelError, Conversation, HealthState,
    InboundError, Markup, Measure, Origin, OutboundMessage, PlatformMessage, Sender,
    WebhookHandler, WebhookRequest, WebhookResponse, now_ms,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::config::{TelegramConfig, TelegramMode};
use super::wire::{ApiResponse, File, Message, Update, User, utf16_remove, utf16_slice};
use crate::deliver::{Progress, prepare};
use crate::files::FileStore;
use crate::limits::TokenBucket;
use crate::previews::{Previews, preview_text};

/// Telegram's message limit, in UTF-16 code units.
const MAX_MESSAGE: usize = 4096;
/// Sends per second across all chats stay under Telegram's 30/s.
const SEND_BURST: u32 = 20;
const SEND_INTERVAL: Duration = Duration::from_millis(40);
/// How long a failed API call waits when Telegram gives no retry_after.
const ERROR_PAUSE: Duration = Duration::from_secs(1);

/// A Bot API failure, classified.
#[derive(Debug)]
enum ApiError {
    /// Network, 5xx, 429: retry (after `retry_after` if given).
    Transient(String, Option<Duration>),
    /// 4xx other than 429: retrying the same call cannot help.
    Refused(u16, String),
}

impl From<ApiError> for ChannelError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::Transient(message, retry_after) => ChannelError::Transient {
                message,
                retry_after,
            },
            ApiError::Refused(code, message) => {
                ChannelError::Permanent(format!("Telegram refused ({code}): {message}"))
            }
        }
    }
}

/// What `getMe` told us: who we are, to recognise mentions.
#[derive(Debug, Clone, Default)]
struct Me {
    id: i64,
    username: String,
}

/// One Telegram bot.
pub struct TelegramChannel {
    name: String,
    config: TelegramConfig,
    http: reqwest::Client,
    me: parking_lot::Mutex<Option<Me>>,
    /// Webhook mode: where updates go while started.
    context: parking_lot::Mutex<Option<ChannelContext>>,
    files: FileStore,
    sends: TokenBucket,
    progress: Progress,
    preview_slots: Previews,
}

impl std::fmt::Debug for TelegramChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelegramChannel")
            .field("name", &self.name)
            .field("api_url", &self.config.api_url)
            .finish()
    }
}

impl TelegramChannel {
    pub fn new(name: impl Into<String>, config: TelegramConfig, files: FileStore) -> Self {
        Self {
            name: name.into(),
            http: reqwest::Client::builder()
                // Long polls hold the request open for poll_timeout_secs.
                .timeout(Duration::from_secs(config.poll_timeout_secs + 15))
                .build()
                .unwrap_or_default(),
            config,
            me: parking_lot::Mutex::default(),
            context: parking_lot::Mutex::default(),
            files,
            sends: TokenBucket::new(SEND_BURST, SEND_INTERVAL),
            progress: Progress::default(),
            preview_slots: Previews::default(),
        }
    }

    fn method_url(&self, method: &str) -> String {
        format!(
            "{}/bot{}/{method}",
            self.config.api_url.trim_end_matches('/'),
            self.config.token
        )
    }

    /// Calls a Bot API method with a JSON body.
    async fn call<T: DeserializeOwned>(&self, method: &str, body: Value) -> Result<T, ApiError> {
        let response = self
            .http
            .post(self.method_url(method))
            .json(&body)
            .send()
            .await
            // The URL holds the token: keep it out of errors and logs.
            .map_err(|e| ApiError::Transient(format!("{method}: {}", e.without_url()), None))?;
        let status = response.status().as_u16();
        let parsed: ApiResponse<T> = response.json().await.map_err(|e| {
            ApiError::Transient(
                format!("{method}: HTTP {status}, {}", e.without_url()),
                None,
            )
        })?;
        if parsed.ok
            && let Some(result) = parsed.result
        {
            return Ok(result);
        }
        let code = parsed.error_code.unwrap_or(status);
        let description = parsed
            .description
            .unwrap_or_else(|| "no description".into());
        let retry_after = parsed
            .parameters
            .and_then(|p| p.retry_after)
            .map(Duration::from_secs);
        if code == 429 || code >= 500 {
            Err(ApiError::Transient(
                format!("{method}: {description}"),
                retry_after,
            ))
        } else {
            Err(ApiError::Refused(code, format!("{method}: {description}")))
        }
    }

    async fn get_me(&self) -> Result<Me, ChannelError> {
        let user: User = self.call("getMe", json!({})).await.map_err(|e| match e {
            ApiError::Refused(401 | 404, _) => ChannelError::Permanent(
                "Telegram rejects the bot token (401); check `token`".into(),
            ),
            other => other.into(),
        })?;
        let me = Me {
            id: user.id,
            username: user.username.unwrap_or_default(),
        };
        *self.me.lock() = Some(me.clone());
        Ok(me)
    }

    /// Replaces the text of a message the bot sent. Telegram refuses an
    /// edit to the same text ("message is not modified"): that is done too.
    async fn edit(&self, mut body: Value) -> Result<(), ApiError> {
        self.sends.acquire().await;
        match self.call::<Value>("editMessageText", body.clone()).await {
            Ok(_) => Ok(()),
            Err(ApiError::Refused(400, description)) if description.contains("not modified") => {
                Ok(())
            }
            Err(ApiError::Refused(400, description)) if description.contains("parse entities") => {
                let html = body["text"].as_str().unwrap_or_default().to_owned();
                body["parse_mode"] = Value::Null;
                body["text"] = json!(html_to_plain(&html));
                self.call::<Value>("editMessageText", body)
                    .await
                    .map(|_| ())
            }
            Err(error) => Err(error),
        }
    }

    /// Whether the bot is addressed, and the text without the @mention.
    fn mention(&self, message: &Message, me: &Me) -> (bool, String) {
        let (text, entities) = match &message.text {
            Some(text) => (text.clone(), &message.entities),
            None => (
                message.caption.clone().unwrap_or_default(),
                &message.caption_entities,
            ),
        };
        let handle = format!("@{}", me.username).to_lowercase();
        for entity in entities {
            let hit = match entity.kind.as_str() {
                "mention" => utf16_slice(&text, entity.offset, entity.length)
                    .is_some_and(|m| m.to_lowercase() == handle),
                "text_mention" => entity.user.as_ref().is_some_and(|u| u.id == me.id),
                "bot_command" => utf16_slice(&text, entity.offset, entity.length)
                    .is_some_and(|c| c.to_lowercase().ends_with(&handle)),
                _ => false,
            };
            if hit {
                let stripped = if entity.kind == "mention" {
                    utf16_remove(&text, entity.offset, entity.length)
                } else {
                    text.clone()
                };
                return (true, stripped.trim().to_owned());
            }
        }
        // Replying to one of the bot's messages addresses it too.
        let replied_to_bot = message
            .reply_to_message
            .as_ref()
            .and_then(|m| m.from.as_ref())
            .is_some_and(|u| u.id == me.id);
        (replied_to_bot, text)
    }

    /// Downloads the message's document or largest photo, if any.
    async fn attachment(
        &self,
        message: &Message,
        notes: &mut Vec<String>,
    ) -> Option<hearth_core::Attachment> {
        let (file_id, name, mime, size) = if let Some(doc) = &message.document {
            let name = doc.file_name.clone().unwrap_or_else(|| "document".into());
            (
                doc.file_id.clone(),
                name,
                doc.mime_type.clone(),
                doc.file_size,
            )
        } else {
            let photo = message
                .photo
                .iter()
                .max_by_key(|p| p.file_size.unwrap_or(0))?;
            (
                photo.file_id.clone(),
                "photo.jpg".to_owned(),
                Some("image/jpeg".to_owned()),
                photo.file_size,
            )
        };
        if let Err(error) = self.files.check_size(&name, size.unwrap_or(0)) {
            notes.push(format!("[attachment not downloaded: {error}]"));
            return None;
        }
        let file: File = match self.call("getFile", json!({ "file_id": file_id })).await {
            Ok(file) => file,
            Err(error) => {
                notes.push(format!("[attachment {name} unavailable: {error:?}]"));
                return None;
            }
        };
        let path = file.file_path?;
        if let Err(error) = self.files.check_size(&name, file.file_size.unwrap_or(0)) {
            notes.push(format!("[attachment not downloaded: {error}]"));
            return None;
        }
        let url = format!(
            "{}/file/bot{}/{path}",
            self.config.api_url.trim_end_matches('/'),
            self.config.token
        );
        let bytes = match self
            .http
            .get(url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
        {
            Ok(response) => response.bytes().await.ok()?,
            Err(error) => {
                notes.push(format!(
                    "[attachment {name} not downloaded: {}]",
                    error.without_url()
                ));
                return None;
            }
        };
        let prefix = format!("{}-{}", message.chat.id, message.message_id);
        match self.files.save(&prefix, &name, mime, &bytes).await {
            Ok(saved) => Some(saved),
            Err(error) => {
                notes.push(format!("[attachment not saved: {error}]"));
                None
            }
        }
    }

    /// An update as a platform message, or `None` if it is not one for
    /// the assistant (another bot, a service message, no text).
    async fn normalize(&self, update: Update, me: &Me) -> Option<PlatformMessage> {
        let message = update.message?;
        let from = message.from.clone()?;
        if from.is_bot {
            return None;
        }
        let group = matches!(message.chat.kind.as_str(), "group" | "supergroup");
        let (mentioned, mut text) = if group {
            self.mention(&message, me)
        } else {
            let text = message
                .text
                .clone()
                .or_else(|| message.caption.clone())
                .unwrap_or_default();
            (true, text)
        };
        let mut notes = Vec::new();
        let attachment = self.attachment(&message, &mut notes).await;
        for note in notes {
            text = format!("{text}\n{note}").trim().to_owned();
        }
        if text.trim().is_empty() && attachment.is_none() {
            return None;
        }
        let mut conversation = if group {
            Conversation::group(message.chat.id.to_string())
        } else {
            Conversation::direct(message.chat.id.to_string())
        };
        if message.is_topic_message {
            conversation.thread = message.message_thread_id.map(|t| t.to_string());
        }
        let name = match &from.last_name {
            Some(last) => format!("{} {last}", from.first_name),
            None => from.first_name.clone(),
        };
        Some(PlatformMessage {
            channel: self.name.clone(),
            text,
            origin: Origin {
                conversation,
                sender: Sender {
                    id: from.id.to_string(),
                    name: Some(name).filter(|n| !n.is_empty()).or(from.username),
                },
                message_id: Some(message.message_id.to_string()),
                reply_to: message.reply_to_message.map(|m| m.message_id.to_string()),
                mentioned,
                attachments: attachment.into_iter().collect(),
            },
            received_at_ms: now_ms(),
        })
    }

    /// Long polling: fetch, record each update, and only then move the
    /// offset past it (Telegram redelivers what is not confirmed).
    async fn poll(&self, context: &ChannelContext, me: &Me) -> Result<(), ChannelError> {
        // Polling and a webhook exclude each other.
        self.call::<bool>("deleteWebhook", json!({ "drop_pending_updates": false }))
            .await?;
        context.health.set(HealthState::Up, None);
        tracing::info!(channel = %self.name, bot = %me.username, "Telegram polling");
        let mut offset: Option<i64> = None;
        loop {
            let body = json!({
                "offset": offset,
                "timeout": self.config.poll_timeout_secs,
                "allowed_updates": ["message"],
            });
            let updates: Vec<Update> = tokio::select! {
                _ = context.shutdown.cancelled() => return Ok(()),
                updates = self.call("getUpdates", body) => updates?,
            };
            for update in updates {
                let id = update.update_id;
                context.health.inbound();
                if let Some(message) = self.normalize(update, me).await {
                    match context.inbound.submit(message).await {
                        Ok(_) | Err(InboundError::Rejected(_)) => {}
                        Err(InboundError::Busy(reason)) => {
                            // Leave this update unconfirmed; fetch it again.
                            tracing::warn!(channel = %self.name, %reason, "pipeline busy; will refetch");
                            tokio::time::sleep(ERROR_PAUSE).await;
                            break;
                        }
                        Err(InboundError::ShuttingDown) => return Ok(()),
                    }
                }
                offset = Some(id + 1);
            }
        }
    }
}

#[async_trait]
impl WebhookHandler for TelegramChannel {
    async fn handle(&self, request: WebhookRequest) -> WebhookResponse {
        let expected = self.config.webhook_secret.as_deref().unwrap_or_default();
        let given = request
            .header("x-telegram-bot-api-secret-token")
            .unwrap_or_default();
        let matches = !expected.is_empty()
            && expected.len() == given.len()
            && expected
                .bytes()
                .zip(given.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !matches {
            return WebhookResponse {
                status: 401,
                body: json!({ "error": "bad secret token" }),
            };
        }
        let (Some(context), Some(me)) = (self.context.lock().clone(), self.me.lock().clone())
        else {
            return WebhookResponse {
                status: 503,
                body: json!({ "error": "not running" }),
            };
        };
        let update: Update = match serde_json::from_slice(&request.body) {
            Ok(update) => update,
            // Telegram would retry a malformed update forever: take it.
            Err(e) => {
                return WebhookResponse {
                    status: 200,
                    body: json!({ "ignored": e.to_string() }),
                };
            }
        };
        context.health.inbound();
        let Some(message) = self.normalize(update, &me).await else {
            return WebhookResponse {
                status: 200,
                body: json!({}),
            };
        };
        match context.inbound.submit(message).await {
            Ok(
                Admission::Accepted
                | Admission::Duplicate
                | Admission::PairingPending
                | Admission::Ignored(_),
            )
            | Err(InboundError::Rejected(_)) => WebhookResponse {
                status: 200,
                body: json!({}),
            },
            // Not recorded: Telegram retries the update later.
            Err(error) => WebhookResponse {
                status: 503,
                body: json!({ "error": error.to_string() }),
            },
        }
    }
}

#[async_trait]
impl Channel for TelegramChannel {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            max_text: MAX_MESSAGE,
            measure: Measure::Utf16,
            markup: Markup::TelegramHtml,
            edits: true,
            typing: true,
            threads: true,
            reactions: false,
            attachments: true,
        }
    }

    async fn start(&self, context: ChannelContext) -> Result<(), ChannelError> {
        let me = self.get_me().await?;
        match self.config.mode {
            TelegramMode::Polling => self.poll(&context, &me).await,
            TelegramMode::Webhook => {
                let url = self.config.webhook_url.clone().unwrap_or_default();
                self.call::<bool>(
                    "setWebhook",
                    json!({
                        "url": url,
                        "secret_token": self.config.webhook_secret,
                        "allowed_updates": ["message"],
                    }),
                )
                .await?;
                *self.context.lock() = Some(context.clone());
                context.health.set(HealthState::Up, None);
                context.shutdown.cancelled().await;
                *self.context.lock() = None;
                Ok(())
            }
        }
    }

    async fn send(&self, message: &OutboundMessage) -> Result<(), ChannelError> {
        let Some(to) = &message.to else {
            return Err(ChannelError::Permanent(
                "the reply has no Telegram chat".into(),
            ));
        };
        let chat_id: i64 = to
            .id
            .parse()
            .map_err(|_| ChannelError::Permanent(format!("bad Telegram chat id {:?}", to.id)))?;
        let thread: Option<i64> = to.thread.as_deref().and_then(|t| t.parse().ok());
        let pieces = prepare(&message.text, &self.capabilities());
        let key = &message.idempotency_key;
        // A streamed preview becomes the first piece. The closed slot is
        // held until the reply is sent, so no preview edit lands after it.
        let closed = if self.previews() {
            Some(self.preview_slots.close(key).await)
        } else {
            None
        };
        let preview_id = closed.as_ref().and_then(|c| c.message_id.clone());
        self.progress
            .resume(key, pieces.len(), |index| {
                let mut body = json!({
                    "chat_id": chat_id,
                    "text": pieces[index],
                    "parse_mode": "HTML",
                    "message_thread_id": thread,
                });
                let edit = match (&preview_id, index) {
                    (Some(id), 0) => Some(id.clone()),
                    _ => None,
                };
                // The first piece quotes the message it answers.
                if index == 0
                    && let Some(reply_to) = message
                        .reply_to
                        .as_deref()
                        .and_then(|r| r.parse::<i64>().ok())
                {
                    body["reply_parameters"] =
                        json!({ "message_id": reply_to, "allow_sending_without_reply": true });
                }
                let piece = &pieces[index];
                async move {
                    if let Some(id) = edit {
                        let body = json!({
                            "chat_id": chat_id,
                            "message_id": id.parse::<i64>().unwrap_or_default(),
                            "text": piece,
                            "parse_mode": "HTML",
                        });
                        return Ok(self.edit(body).await?);
                    }
                    self.sends.acquire().await;
                    match self.call::<Value>("sendMessage", body.clone()).await {
                        Ok(_) => Ok(()),
                        // Markup Telegram cannot parse: send the same piece as plain text.
                        Err(ApiError::Refused(400, description))
                            if description.contains("parse entities") =>
                        {
                            body["parse_mode"] = Value::Null;
                            body["text"] = json!(html_to_plain(piece));
                            self.call::<Value>("sendMessage", body).await?;
                            Ok(())
                        }
                        Err(error) => Err(error.into()),
                    }
                }
            })
            .await
    }

    fn previews(&self) -> bool {
        self.config.stream_previews
    }

    async fn preview(
        &self,
        to: &Conversation,
        run_id: &str,
        text: &str,
    ) -> Result<(), ChannelError> {
        if !self.config.stream_previews {
            return Ok(());
        }
        let Some(text) = preview_text(text, &self.capabilities()) else {
            return Ok(());
        };
        let chat_id: i64 = to
            .id
            .parse()
            .map_err(|_| ChannelError::Permanent(format!("bad Telegram chat id {:?}", to.id)))?;
        let slot = self.preview_slots.slot(run_id);
        let mut slot = slot.lock().await;
        if slot.closed {
            return Ok(());
        }
        match slot
            .message_id
            .as_deref()
            .and_then(|id| id.parse::<i64>().ok())
        {
            Some(id) => {
                self.edit(json!({ "chat_id": chat_id, "message_id": id, "text": text }))
                    .await?;
            }
            None => {
                let thread: Option<i64> = to.thread.as_deref().and_then(|t| t.parse().ok());
                self.sends.acquire().await;
                let sent: Message = self
                    .call(
                        "sendMessage",
                        json!({ "chat_id": chat_id, "text": text, "message_thread_id": thread }),
                    )
                    .await?;
                slot.message_id = Some(sent.message_id.to_string());
            }
        }
        Ok(())
    }

    async fn typing(&self, to: &Conversation) -> Result<(), ChannelError> {
        let thread: Option<i64> = to.thread.as_deref().and_then(|t| t.parse().ok());
        self.call::<bool>(
            "sendChatAction",
            json!({ "chat_id": to.id, "action": "typing", "message_thread_id": thread }),
        )
        .await?;
        Ok(())
    }
}

/// The text of a piece of Telegram HTML: tags dropped, entities decoded.
fn html_to_plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}
