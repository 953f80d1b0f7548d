//! The Matrix account: log in (or check the given token), then long-poll
//! `/sync`, accept invitations, and hand each new room message to the
//! pipeline; the sync position is saved only after a whole batch is
//! recorded, so nothing is lost across a crash and nothing is answered
//! twice (a refetched message is a duplicate by its event id). Replies
//! are sent with a transaction id derived from the outbox's idempotency
//! key, which the server itself deduplicates.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use hearth_core::{
    Capabilities, Channel, ChannelContext, ChannelError, Conversation, HealthState, InboundError,
    Markup, Measure, Origin, OutboundMessage, PlatformMessage, Sender, now_ms,
};
use parking_lot::Mutex;
use serde_json::{Value, json};

use super::client::{ApiError, Client};
use super::config::MatrixConfig;
use super::state::{MAX_ROOMS, StateFile, SyncState};
use super::wire::{Event, Rooms};
use crate::access::GroupPolicy;
use crate::deliver::{Progress, prepare_with_source};
use crate::files::FileStore;
use crate::limits::TokenBucket;
use crate::previews::{Previews, preview_text};
use crate::recent::RecentIds;
use crate::text::addressed;

/// Longest rendered piece, in bytes. Matrix caps a whole event at 64 KiB;
/// a piece travels twice (markdown `body` and HTML `formatted_body`).
const MAX_MESSAGE: usize = 16_000;
/// Sends across all rooms; Synapse's default allows ~0.2/s sustained
/// with bursts of 10 per user, and answers 429 with a wait beyond that.
const SEND_BURST: u32 = 10;
const SEND_INTERVAL: Duration = Duration::from_millis(200);
/// How long a batch waits before it is fetched again when the pipeline
/// is busy.
const BUSY_PAUSE: Duration = Duration::from_secs(1);
/// Own event ids remembered, to recognise replies to the bot.
const REMEMBERED_SENDS: usize = 1024;

/// How a sync batch went.
enum Handled {
    /// Every event is recorded: move past the batch.
    All,
    /// Something must be fetched again: keep the position.
    Retry,
    ShuttingDown,
}

/// One Matrix account.
pub struct MatrixChannel {
    name: String,
    config: MatrixConfig,
    client: Client,
    /// The access token in use; cleared when the server ends the session.
    token: Mutex<Option<String>>,
    display_name: Mutex<Option<String>>,
    state_file: StateFile,
    /// User id → their direct chat with the bot (saved with the state).
    people: Mutex<HashMap<String, String>>,
    sent: Mutex<RecentIds>,
    /// Encrypted rooms already told that the bot cannot read them.
    told_encrypted: Mutex<RecentIds>,
    files: FileStore,
    sends: TokenBucket,
    progress: Progress,
    preview_slots: Previews,
}

impl std::fmt::Debug for MatrixChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MatrixChannel")
            .field("name", &self.name)
            .field("homeserver", &self.config.homeserver)
            .field("user_id", &self.config.user_id)
            .finish()
    }
}

impl MatrixChannel {
    /// `state_path` is where the sync position is kept (`None`: memory
    /// only, so every start begins at "now").
    pub fn new(
        name: impl Into<String>,
        config: MatrixConfig,
        files: FileStore,
        state_path: Option<PathBuf>,
    ) -> Self {
        // The long poll holds a request open for sync_timeout_secs.
        let timeout = Duration::from_secs(config.sync_timeout_secs + 15);
        let client = Client::new(&config.homeserver, timeout).unwrap_or_else(|_| {
            // validate() checked the URL; a default keeps `new` infallible.
            Client::new("https://invalid.invalid", timeout).expect("a valid URL")
        });
        Self {
            name: name.into(),
            client,
            token: Mutex::new(None),
            display_name: Mutex::new(None),
            state_file: StateFile::new(state_path),
            people: Mutex::new(HashMap::new()),
            sent: Mutex::new(RecentIds::new(REMEMBERED_SENDS)),
            told_encrypted: Mutex::new(RecentIds::new(REMEMBERED_SENDS)),
            files,
            sends: TokenBucket::new(SEND_BURST, SEND_INTERVAL),
            progress: Progress::default(),
            preview_slots: Previews::default(),
            config,
        }
    }

    fn me(&self) -> &str {
        &self.config.user_id
    }

    /// The access token: the cached one, else a password login or the
    /// configured token after checking whose it is.
    async fn session(&self) -> Result<String, ChannelError> {
        if let Some(token) = self.token.lock().clone() {
            return Ok(token);
        }
        let user = &self.config.user_id;
        let token = match (&self.config.access_token, &self.config.password) {
            (Some(token), _) => {
                let owner = self.client.whoami(token).await.map_err(|e| match e {
                    ApiError::LoggedOut(_) | ApiError::Refused(401 | 403, _) => {
                        ChannelError::Permanent(
                            "Matrix rejects the access_token; make a new one".into(),
                        )
                    }
                    other => other.into(),
                })?;
                if owner != *user {
                    return Err(ChannelError::Permanent(format!(
                        "the access_token belongs to {owner}, not {user}"
                    )));
                }
                token.clone()
            }
            (None, Some(password)) => self
                .client
                .login(user, password, &self.config.device_id)
                .await
                .map_err(|e| match e {
                    ApiError::Refused(code @ (400 | 401 | 403), message) => {
                        ChannelError::Permanent(format!(
                            "Matrix refuses the login of {user} ({code}: {message}); \
                             check user_id and password"
                        ))
                    }
                    other => other.into(),
                })?,
            (None, None) => {
                return Err(ChannelError::Permanent(
                    "no password or access_token configured".into(),
                ));
            }
        };
        if let Some(name) = self.client.display_name(&token, user).await {
            *self.display_name.lock() = Some(name);
        }
        *self.token.lock() = Some(token.clone());
        Ok(token)
    }

    /// The server ended the session: log in again if we can.
    fn logged_out(&self, message: String) -> ChannelError {
        self.token.lock().take();
        if self.config.password.is_some() {
            ChannelError::Transient {
                message: format!("{message}; logging in again"),
                retry_after: None,
            }
        } else {
            ChannelError::Permanent(format!(
                "Matrix revoked the access_token ({message}); configure a new one"
            ))
        }
    }

    fn api_error(&self, error: ApiError) -> ChannelError {
        match error {
            ApiError::LoggedOut(message) => self.logged_out(message),
            other => other.into(),
        }
    }

    /// Accepts invitations, then records the new messages of joined rooms.
    /// `first` is a sync from nowhere: its timelines are history.
    async fn handle(
        &self,
        context: &ChannelContext,
        token: &str,
        state: &mut SyncState,
        rooms: Rooms,
        first: bool,
    ) -> Handled {
        for room_id in rooms.leave.keys() {
            state.direct.remove(room_id);
        }
        for (room_id, invited) in &rooms.invite {
            let direct = invited.invite_state.events.iter().any(|e| {
                e.state_key.as_deref() == Some(self.me())
                    && e.membership() == Some("invite")
                    && e.content.get("is_direct") == Some(&Value::Bool(true))
            });
            if !self.config.auto_join
                || (!direct && self.config.access.groups == GroupPolicy::Disabled)
            {
                continue;
            }
            match self.client.join(token, room_id).await {
                Ok(()) => {
                    tracing::info!(channel = %self.name, room = %room_id, direct, "joined room");
                    state.remember_room(room_id, direct);
                }
                Err(ApiError::Refused(code, message)) => {
                    tracing::warn!(channel = %self.name, room = %room_id, code, %message, "cannot join");
                }
                // The invitation is shown once: fetch the batch again.
                Err(error) => {
                    tracing::warn!(channel = %self.name, ?error, "join failed; will retry");
                    return Handled::Retry;
                }
            }
        }
        if first {
            return Handled::All;
        }
        for (room_id, room) in rooms.join {
            let names: HashMap<&str, &str> = room
                .state
                .events
                .iter()
                .chain(&room.timeline.events)
                .filter(|e| e.membership().is_some())
                .filter_map(|e| {
                    let name = e.content.get("displayname")?.as_str()?;
                    Some((e.state_key.as_deref()?, name))
                })
                .collect();
            for event in after_own_arrival(&room.timeline.events, self.me()) {
                if event.sender == self.me() {
                    continue;
                }
                match event.kind.as_str() {
                    "m.room.message" => {}
                    "m.room.encrypted" => {
                        context.health.inbound();
                        self.tell_encrypted(token, &room_id).await;
                        continue;
                    }
                    _ => continue,
                }
                context.health.inbound();
                let direct = match state.direct.get(&room_id) {
                    Some(direct) => *direct,
                    // Joined before this state was kept: two members make
                    // a direct chat.
                    None => match self.client.joined_members(token, &room_id).await {
                        Ok(count) => {
                            state.remember_room(&room_id, count <= 2);
                            count <= 2
                        }
                        Err(error) => {
                            tracing::warn!(channel = %self.name, ?error, "members unknown; will retry");
                            return Handled::Retry;
                        }
                    },
                };
                if direct {
                    self.remember_person(&event.sender, &room_id);
                }
                let name = names.get(event.sender.as_str()).map(|n| n.to_string());
                let Some(message) = self.normalize(token, &room_id, event, direct, name).await
                else {
                    continue;
                };
                match context.inbound.submit(message).await {
                    Ok(_) | Err(InboundError::Rejected(_)) => {}
                    Err(InboundError::Busy(reason)) => {
                        tracing::warn!(channel = %self.name, %reason, "pipeline busy; will refetch");
                        return Handled::Retry;
                    }
                    Err(InboundError::ShuttingDown) => return Handled::ShuttingDown,
                }
            }
        }
        Handled::All
    }

    fn remember_person(&self, user_id: &str, room_id: &str) {
        let mut people = self.people.lock();
        if people.len() < MAX_ROOMS || people.contains_key(user_id) {
            people.insert(user_id.to_owned(), room_id.to_owned());
        }
    }

    /// The room a message to `to` goes to: a room id as is; a user id (a
    /// direct conversation named by its person, as pairing notices are)
    /// maps to that person's direct chat, made if there is none.
    async fn room_for(&self, token: &str, to: &Conversation) -> Result<String, ChannelError> {
        if !to.id.starts_with('@') {
            return Ok(to.id.clone());
        }
        if let Some(room) = self.people.lock().get(&to.id).cloned() {
            return Ok(room);
        }
        let room = self
            .client
            .create_direct(token, &to.id)
            .await
            .map_err(|e| self.api_error(e))?;
        self.remember_person(&to.id, &room);
        Ok(room)
    }

    /// A room message as a platform message, or `None` when it is not one
    /// for the assistant (an edit, a bot's notice, no text).
    async fn normalize(
        &self,
        token: &str,
        room_id: &str,
        event: &Event,
        direct: bool,
        sender_name: Option<String>,
    ) -> Option<PlatformMessage> {
        if event.is_edit() {
            return None;
        }
        let mut notes = Vec::new();
        let (mut text, attachment) = match event.msgtype() {
            "m.text" | "m.emote" => (event.body().to_owned(), None),
            "m.image" | "m.file" | "m.audio" | "m.video" => {
                let attachment = self.attachment(token, room_id, event, &mut notes).await;
                // A body other than the file name is a caption (Matrix 1.10).
                let filename = event.content.get("filename").and_then(Value::as_str);
                let caption = match filename {
                    Some(name) if name != event.body() => event.body().to_owned(),
                    _ => String::new(),
                };
                (caption, attachment)
            }
            // m.notice is what bots send: answering it risks a bot loop.
            _ => return None,
        };
        let reply_to = event.reply_to().map(str::to_owned);
        if reply_to.is_some() {
            text = strip_reply_fallback(&text);
        }
        let mentioned = direct || {
            let names = [
                self.display_name.lock().clone(),
                Some(self.config.localpart().to_owned()),
            ];
            let mut hit = event.mentions(self.me())
                || event
                    .formatted_body()
                    .is_some_and(|html| html.contains(&format!("matrix.to/#/{}", self.me())))
                || reply_to
                    .as_deref()
                    .is_some_and(|id| self.sent.lock().contains(id));
            for name in names.iter().flatten() {
                if let Some(stripped) = addressed(&text, name) {
                    text = stripped;
                    hit = true;
                    break;
                }
            }
            hit
        };
        for note in notes {
            text = format!("{text}\n{note}").trim().to_owned();
        }
        if text.trim().is_empty() && attachment.is_none() {
            return None;
        }
        let mut conversation = if direct {
            Conversation::direct(room_id)
        } else {
            Conversation::group(room_id)
        };
        conversation.thread = event.thread_root().map(str::to_owned);
        Some(PlatformMessage {
            channel: self.name.clone(),
            text,
            origin: Origin {
                conversation,
                sender: Sender {
                    id: event.sender.clone(),
                    name: sender_name,
                },
                message_id: Some(event.event_id.clone()),
                reply_to,
                mentioned,
                attachments: attachment.into_iter().collect(),
            },
            received_at_ms: now_ms(),
        })
    }

    /// Downloads a file message's media into the file store.
    async fn attachment(
        &self,
        token: &str,
        room_id: &str,
        event: &Event,
        notes: &mut Vec<String>,
    ) -> Option<hearth_core::Attachment> {
        let (url, name, mime, size) = event.media()?;
        let name = if name.is_empty() { "file" } else { name };
        if let Err(error) = self.files.check_size(name, size.unwrap_or(0)) {
            notes.push(format!("[attachment not downloaded: {error}]"));
            return None;
        }
        let bytes = match self
            .client
            .download(token, url, self.files.max_bytes())
            .await
        {
            Ok(bytes) => bytes,
            Err(error) => {
                notes.push(format!("[attachment {name} not downloaded: {error}]"));
                return None;
            }
        };
        let prefix = format!("{room_id}-{}", event.event_id);
        match self
            .files
            .save(&prefix, name, mime.map(str::to_owned), &bytes)
            .await
        {
            Ok(saved) => Some(saved),
            Err(error) => {
                notes.push(format!("[attachment not saved: {error}]"));
                None
            }
        }
    }

    /// The bot cannot decrypt end-to-end encrypted rooms: say so once per
    /// room instead of staying silent.
    async fn tell_encrypted(&self, token: &str, room_id: &str) {
        if !self.told_encrypted.lock().insert(room_id) {
            return;
        }
        tracing::warn!(channel = %self.name, room = %room_id, "encrypted message: cannot read it");
        let content = json!({
            "msgtype": "m.notice",
            "body": "I can't read end-to-end encrypted messages. Please talk to me in a room without encryption.",
        });
        let txn = format!("hearth-encrypted-notice-{room_id}");
        if let Err(error) = self.client.send(token, room_id, &txn, &content).await {
            tracing::warn!(channel = %self.name, ?error, "could not send the encryption notice");
        }
    }

    /// A piece's event content: the markdown as `body`, the HTML beside
    /// it when it differs.
    fn piece_content(piece: &crate::deliver::Piece) -> Value {
        let mut content = json!({ "msgtype": "m.text", "body": piece.source });
        if piece.rendered != piece.source {
            content["format"] = json!("org.matrix.custom.html");
            content["formatted_body"] = json!(piece.rendered);
        }
        content
    }

    /// A piece's event content, in the conversation's thread, the first
    /// piece quoting the message it answers.
    pub(crate) fn content(
        piece: &crate::deliver::Piece,
        to: &Conversation,
        reply_to: Option<&str>,
        first: bool,
    ) -> Value {
        let mut content = Self::piece_content(piece);
        if let Some(thread) = &to.thread {
            content["m.relates_to"] = json!({
                "rel_type": "m.thread",
                "event_id": thread,
                "is_falling_back": true,
                "m.in_reply_to": { "event_id": reply_to.unwrap_or(thread) },
            });
        } else if first && let Some(reply_to) = reply_to {
            content["m.relates_to"] = json!({ "m.in_reply_to": { "event_id": reply_to } });
        }
        content
    }

    /// An edit of `event_id` to `new`: the new content under
    /// `m.new_content`, and a `* ` fallback for clients without edits.
    pub(crate) fn edit_content(event_id: &str, new: Value) -> Value {
        let mut content = new.clone();
        if let Some(body) = new["body"].as_str() {
            content["body"] = json!(format!("* {body}"));
        }
        if let Some(html) = new["formatted_body"].as_str() {
            content["formatted_body"] = json!(format!("* {html}"));
        }
        content["m.new_content"] = new;
        content["m.relates_to"] = json!({ "rel_type": "m.replace", "event_id": event_id });
        content
    }

    /// Sends `content` to `room_id`, remembering the event as the bot's.
    async fn post(
        &self,
        token: &str,
        room_id: &str,
        txn: &str,
        content: &Value,
    ) -> Result<String, ChannelError> {
        self.sends.acquire().await;
        let event_id = self
            .client
            .send(token, room_id, txn, content)
            .await
            .map_err(|e| self.api_error(e))?;
        self.sent.lock().insert(&event_id);
        Ok(event_id)
    }
}

/// The events of a timeline that came after the bot was invited to (or
/// joined) the room: what came before is history, not addressed to it.
pub(crate) fn after_own_arrival<'a>(events: &'a [Event], me: &str) -> &'a [Event] {
    let own = |event: &Event, membership: &str| {
        event.state_key.as_deref() == Some(me) && event.membership() == Some(membership)
    };
    let cut = events
        .iter()
        .rposition(|e| own(e, "invite"))
        .or_else(|| events.iter().rposition(|e| own(e, "join")));
    match cut {
        Some(index) => &events[index + 1..],
        None => events,
    }
}

/// A reply's body without the quoted fallback (`> <@x:y> text` lines and
/// the blank line after them) that older clients prepend.
pub(crate) fn strip_reply_fallback(body: &str) -> String {
    if !body.starts_with("> ") {
        return body.to_owned();
    }
    let mut lines = body.lines().skip_while(|l| l.starts_with('>'));
    let rest: Vec<&str> = lines.by_ref().collect();
    rest.join("\n").trim_start_matches('\n').trim().to_owned()
}

#[async_trait]
impl Channel for MatrixChannel {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            max_text: MAX_MESSAGE,
            measure: Measure::Bytes,
            markup: Markup::MatrixHtml,
            edits: true,
            typing: true,
            threads: true,
            reactions: true,
            attachments: true,
        }
    }

    async fn start(&self, context: ChannelContext) -> Result<(), ChannelError> {
        let token = self.session().await?;
        let mut state = self.state_file.load(self.me());
        self.people.lock().extend(state.dm_rooms.clone());
        let wait = Duration::from_secs(self.config.sync_timeout_secs);
        let mut up = false;
        loop {
            let since = state.since.clone();
            let sync = tokio::select! {
                _ = context.shutdown.cancelled() => return Ok(()),
                sync = self.client.sync(&token, since.as_deref(), wait) => {
                    sync.map_err(|e| self.api_error(e))?
                }
            };
            if !up {
                up = true;
                context.health.set(HealthState::Up, None);
                tracing::info!(channel = %self.name, user = %self.me(), "Matrix syncing");
            }
            let first = since.is_none();
            match self
                .handle(&context, &token, &mut state, sync.rooms, first)
                .await
            {
                Handled::All => {
                    state.since = Some(sync.next_batch);
                    state.dm_rooms = self.people.lock().clone();
                    if let Err(error) = self.state_file.save(&state).await {
                        tracing::warn!(channel = %self.name, %error, "cannot save the sync position");
                    }
                }
                Handled::Retry => tokio::time::sleep(BUSY_PAUSE).await,
                Handled::ShuttingDown => return Ok(()),
            }
        }
    }

    async fn send(&self, message: &OutboundMessage) -> Result<(), ChannelError> {
        let Some(to) = &message.to else {
            return Err(ChannelError::Permanent(
                "the reply has no Matrix room".into(),
            ));
        };
        let token = self.session().await?;
        let room = self.room_for(&token, to).await?;
        let pieces = prepare_with_source(&message.text, &self.capabilities());
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
                let content = match (&preview_id, index) {
                    (Some(id), 0) => Self::edit_content(id, Self::piece_content(&pieces[0])),
                    _ => Self::content(&pieces[index], to, message.reply_to.as_deref(), index == 0),
                };
                // The same key and piece always make the same transaction
                // id: a retry after a lost response returns the first event.
                let txn = format!("hearth-{key}-{index}");
                let (token, room) = (&token, &room);
                async move {
                    self.post(token, room, &txn, &content).await?;
                    Ok(())
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
        let token = self.session().await?;
        let room = self.room_for(&token, to).await?;
        let slot = self.preview_slots.slot(run_id);
        let mut slot = slot.lock().await;
        if slot.closed {
            return Ok(());
        }
        let plain = json!({ "msgtype": "m.text", "body": text });
        match &slot.message_id {
            Some(id) => {
                let content = Self::edit_content(id, plain);
                let txn = format!("hearth-{run_id}-preview-{}", now_ms());
                self.post(&token, &room, &txn, &content).await?;
            }
            None => {
                let mut content = plain;
                if let Some(thread) = &to.thread {
                    content["m.relates_to"] = json!({
                        "rel_type": "m.thread", "event_id": thread, "is_falling_back": true,
                        "m.in_reply_to": { "event_id": thread },
                    });
                }
                let txn = format!("hearth-{run_id}-preview");
                slot.message_id = Some(self.post(&token, &room, &txn, &content).await?);
            }
        }
        Ok(())
    }

    async fn typing(&self, to: &Conversation) -> Result<(), ChannelError> {
        let token = self.session().await?;
        let room = self.room_for(&token, to).await?;
        self.client
            .typing(&token, &room, self.me())
            .await
            .map_err(|e| self.api_error(e))
    }
}
