//! A local Telegram Bot API server replaying the payloads the Bot API
//! documents (core.telegram.org/bots/api): `getMe`, `getUpdates` long
//! polling with offset confirmation, `sendMessage`, `editMessageText`,
//! `sendChatAction`,
//! `setWebhook` / `deleteWebhook`, `getFile` and file downloads. Tests
//! inject user messages and read what the bot sent; the adapter under test
//! runs its real HTTP code against it, only the base URL differs.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::sync::Notify;

/// The bot's identity as `getMe` reports it.
pub const BOT_ID: i64 = 7_000_001;
pub const BOT_USERNAME: &str = "hearth_bot";

#[derive(Debug, Default)]
struct Inner {
    /// Pending updates, oldest first; confirmed ones are dropped.
    updates: Vec<Value>,
    /// The newest message delivered, for [`BotApi::redeliver_last`].
    last_message: Option<Value>,
    next_update_id: i64,
    next_message_id: i64,
    sent: Vec<Value>,
    /// Each sent message's current text, by message id.
    texts: HashMap<i64, String>,
    edits: Vec<Value>,
    actions: Vec<Value>,
    webhook: Option<Value>,
    /// Failures to answer, per method, in order: (HTTP code, retry_after).
    failures: HashMap<String, Vec<(u16, Option<u64>)>>,
    files: HashMap<String, (String, Vec<u8>)>,
    calls: HashMap<String, u32>,
}

#[derive(Debug)]
struct Shared {
    token: String,
    /// During an outage every call answers 502 and long polls are cut.
    down: std::sync::atomic::AtomicBool,
    inner: Mutex<Inner>,
    new_update: Notify,
    new_sent: Notify,
}

/// The running server.
#[derive(Debug)]
pub struct BotApi {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for BotApi {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn api_error(code: u16, description: &str, retry_after: Option<u64>) -> Response {
    let mut body = json!({ "ok": false, "error_code": code, "description": description });
    if let Some(after) = retry_after {
        body["parameters"] = json!({ "retry_after": after });
    }
    let status =
        axum::http::StatusCode::from_u16(code).unwrap_or(axum::http::StatusCode::BAD_REQUEST);
    (status, Json(body)).into_response()
}

fn ok(result: Value) -> Response {
    Json(json!({ "ok": true, "result": result })).into_response()
}

async fn method(
    State(shared): State<Arc<Shared>>,
    Path((bot, method)): Path<(String, String)>,
    body: Option<Json<Value>>,
) -> Response {
    if shared.down.load(std::sync::atomic::Ordering::SeqCst) {
        return api_error(502, "Bad Gateway", None);
    }
    if bot != format!("bot{}", shared.token) {
        return api_error(401, "Unauthorized", None);
    }
    let body = body.map(|Json(v)| v).unwrap_or(Value::Null);
    {
        let mut inner = shared.inner.lock();
        *inner.calls.entry(method.clone()).or_default() += 1;
        if let Some(queue) = inner.failures.get_mut(&method)
            && !queue.is_empty()
        {
            let (code, retry_after) = queue.remove(0);
            let description = if code == 429 {
                "Too Many Requests: retry later"
            } else {
                "Injected failure"
            };
            return api_error(code, description, retry_after);
        }
    }
    match method.as_str() {
        "getMe" => ok(
            json!({ "id": BOT_ID, "is_bot": true, "first_name": "Hearth", "username": BOT_USERNAME }),
        ),
        "deleteWebhook" => {
            shared.inner.lock().webhook = None;
            ok(json!(true))
        }
        "setWebhook" => {
            shared.inner.lock().webhook = Some(body);
            ok(json!(true))
        }
        "getUpdates" => get_updates(&shared, &body).await,
        "sendMessage" => {
            let text = body["text"].as_str().unwrap_or_default();
            if text.is_empty() {
                return api_error(400, "Bad Request: message text is empty", None);
            }
            if text.encode_utf16().count() > 4096 {
                return api_error(400, "Bad Request: message is too long", None);
            }
            let mut inner = shared.inner.lock();
            inner.next_message_id += 1;
            let message_id = inner.next_message_id;
            inner.sent.push(body.clone());
            inner.texts.insert(message_id, text.to_owned());
            drop(inner);
            shared.new_sent.notify_waiters();
            ok(json!({
                "message_id": message_id,
                "from": { "id": BOT_ID, "is_bot": true, "first_name": "Hearth", "username": BOT_USERNAME },
                "chat": { "id": body["chat_id"], "type": "private" },
                "date": 1_700_000_000,
                "text": body["text"],
            }))
        }
        "editMessageText" => {
            let text = body["text"].as_str().unwrap_or_default();
            let id = body["message_id"].as_i64().unwrap_or_default();
            let mut inner = shared.inner.lock();
            let Some(current) = inner.texts.get(&id) else {
                return api_error(400, "Bad Request: message to edit not found", None);
            };
            if current == text {
                return api_error(
                    400,
                    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
                    None,
                );
            }
            if text.is_empty() || text.encode_utf16().count() > 4096 {
                return api_error(400, "Bad Request: MESSAGE_TOO_LONG", None);
            }
            inner.texts.insert(id, text.to_owned());
            inner.edits.push(body.clone());
            drop(inner);
            shared.new_sent.notify_waiters();
            ok(json!({
                "message_id": id,
                "chat": { "id": body["chat_id"], "type": "private" },
                "date": 1_700_000_000,
                "edit_date": 1_700_000_001,
                "text": body["text"],
            }))
        }
        "sendChatAction" => {
            shared.inner.lock().actions.push(body);
            ok(json!(true))
        }
        "getFile" => {
            let id = body["file_id"].as_str().unwrap_or_default();
            match shared.inner.lock().files.get(id) {
                Some((path, bytes)) => ok(json!({
                    "file_id": id, "file_unique_id": id, "file_size": bytes.len(), "file_path": path,
                })),
                None => api_error(400, "Bad Request: invalid file_id", None),
            }
        }
        _ => api_error(404, "Not Found", None),
    }
}

/// Long polling: drop updates below `offset` (confirmed), answer what is
/// left, or wait up to `timeout` seconds for something new.
async fn get_updates(shared: &Shared, body: &Value) -> Response {
    let offset = body["offset"].as_i64();
    let timeout = Duration::from_secs(body["timeout"].as_u64().unwrap_or(0).min(50));
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let notified = shared.new_update.notified();
        {
            let mut inner = shared.inner.lock();
            if let Some(offset) = offset {
                inner
                    .updates
                    .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
            }
            if !inner.updates.is_empty() {
                return ok(Value::Array(inner.updates.clone()));
            }
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return ok(json!([]));
        }
        if shared.down.load(std::sync::atomic::Ordering::SeqCst) {
            return api_error(502, "Bad Gateway", None);
        }
    }
}

async fn file(
    State(shared): State<Arc<Shared>>,
    Path((bot, path)): Path<(String, String)>,
) -> Response {
    if bot != format!("bot{}", shared.token) {
        return api_error(401, "Unauthorized", None);
    }
    let inner = shared.inner.lock();
    match inner.files.values().find(|(p, _)| *p == path) {
        Some((_, bytes)) => bytes.clone().into_response(),
        None => api_error(404, "Not Found", None),
    }
}

impl BotApi {
    pub async fn start(token: &str) -> BotApi {
        let shared = Arc::new(Shared {
            token: token.to_owned(),
            down: std::sync::atomic::AtomicBool::new(false),
            inner: Mutex::new(Inner {
                next_update_id: 100,
                next_message_id: 5000,
                ..Inner::default()
            }),
            new_update: Notify::new(),
            new_sent: Notify::new(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind Bot API");
        let addr = listener.local_addr().expect("addr");
        let app = axum::Router::new()
            .route("/{bot}/{method}", axum::routing::post(method))
            .route("/file/{bot}/{*path}", axum::routing::get(file))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        BotApi {
            addr,
            shared,
            task: Some(task),
        }
    }

    /// The `api_url` to configure.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// An outage of `down`: every call answers 502 Bad Gateway and long
    /// polls in flight are cut, as when Telegram's servers restart behind
    /// their front end; then it serves again with the same state.
    pub async fn restart(&mut self, down: Duration) {
        use std::sync::atomic::Ordering;
        self.shared.down.store(true, Ordering::SeqCst);
        self.shared.new_update.notify_waiters();
        tokio::time::sleep(down).await;
        self.shared.down.store(false, Ordering::SeqCst);
    }

    fn push_update(&self, message: Value) -> i64 {
        let mut inner = self.shared.inner.lock();
        inner.next_update_id += 1;
        let update = json!({ "update_id": inner.next_update_id, "message": message });
        inner.updates.push(update);
        inner.last_message = Some(message.clone());
        drop(inner);
        self.shared.new_update.notify_waiters();
        message["message_id"].as_i64().unwrap_or(0)
    }

    fn next_message_id(&self) -> i64 {
        let mut inner = self.shared.inner.lock();
        inner.next_message_id += 1;
        inner.next_message_id
    }

    fn user(id: i64, name: &str) -> Value {
        json!({ "id": id, "is_bot": false, "first_name": name, "username": name.to_lowercase() })
    }

    /// A private message from user `from` (chat id = user id). Returns its
    /// message id.
    pub fn private_message(&self, from: i64, name: &str, text: &str) -> i64 {
        let message = json!({
            "message_id": self.next_message_id(),
            "from": Self::user(from, name),
            "chat": { "id": from, "type": "private", "first_name": name },
            "date": 1_700_000_000,
            "text": text,
        });
        self.push_update(message)
    }

    /// A message in supergroup `chat`; with `mention`, it starts with
    /// `@hearth_bot` and carries the `mention` entity Telegram adds.
    pub fn group_message(
        &self,
        chat: i64,
        from: i64,
        name: &str,
        text: &str,
        mention: bool,
    ) -> i64 {
        let (text, entities) = if mention {
            let handle = format!("@{BOT_USERNAME}");
            let length = handle.encode_utf16().count();
            (
                format!("{handle} {text}"),
                json!([{ "type": "mention", "offset": 0, "length": length }]),
            )
        } else {
            (text.to_owned(), json!([]))
        };
        let message = json!({
            "message_id": self.next_message_id(),
            "from": Self::user(from, name),
            "chat": { "id": chat, "type": "supergroup", "title": "Team" },
            "date": 1_700_000_000,
            "text": text,
            "entities": entities,
        });
        self.push_update(message)
    }

    /// A private message with a document (served by `getFile`).
    pub fn document_message(
        &self,
        from: i64,
        name: &str,
        caption: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> i64 {
        let file_id = format!("file-{}", self.next_message_id());
        self.shared.inner.lock().files.insert(
            file_id.clone(),
            (format!("documents/{file_name}"), bytes.to_vec()),
        );
        let message = json!({
            "message_id": self.next_message_id(),
            "from": Self::user(from, name),
            "chat": { "id": from, "type": "private" },
            "date": 1_700_000_000,
            "caption": caption,
            "document": { "file_id": file_id, "file_unique_id": file_id, "file_name": file_name,
                          "mime_type": "text/plain", "file_size": bytes.len() },
        });
        self.push_update(message)
    }

    /// Delivers the last update's message again under a new update id, as
    /// Telegram does when an update was not confirmed.
    pub fn redeliver_last(&self) {
        let last = self.shared.inner.lock().last_message.clone();
        if let Some(message) = last {
            self.push_update(message);
        }
    }

    /// Makes the next calls of `method` fail with `code` (and retry_after).
    pub fn fail_next(&self, method: &str, code: u16, retry_after: Option<u64>, times: usize) {
        let mut inner = self.shared.inner.lock();
        let queue = inner.failures.entry(method.to_owned()).or_default();
        queue.extend(std::iter::repeat_n((code, retry_after), times));
    }

    /// What the bot sent (`sendMessage` bodies), in order.
    pub fn sent(&self) -> Vec<Value> {
        self.shared.inner.lock().sent.clone()
    }

    /// Waits until the bot has sent at least `count` messages.
    pub async fn wait_sent(&self, count: usize, limit: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.shared.new_sent.notified();
            let sent = self.sent();
            if sent.len() >= count {
                return sent;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.sent();
            }
        }
    }

    /// Every `editMessageText` call that changed a message.
    pub fn edits(&self) -> Vec<Value> {
        self.shared.inner.lock().edits.clone()
    }

    /// A sent message's current text (after edits).
    pub fn text_of(&self, message_id: i64) -> Option<String> {
        self.shared.inner.lock().texts.get(&message_id).cloned()
    }

    pub fn chat_actions(&self) -> Vec<Value> {
        self.shared.inner.lock().actions.clone()
    }

    pub fn webhook(&self) -> Option<Value> {
        self.shared.inner.lock().webhook.clone()
    }

    /// Updates not yet confirmed by an offset.
    pub fn pending_updates(&self) -> usize {
        self.shared.inner.lock().updates.len()
    }

    pub fn calls(&self, method: &str) -> u32 {
        self.shared
            .inner
            .lock()
            .calls
            .get(method)
            .copied()
            .unwrap_or(0)
    }
}
