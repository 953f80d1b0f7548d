//! The client-server API calls the adapter makes, over reqwest, with
//! errors classified: what a retry can fix, what a new login can fix, and
//! what only the operator can.

use std::time::Duration;

use hearth_core::ChannelError;
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::wire::{DisplayName, ErrorBody, JoinedMembers, Sent, Session, Sync};

/// A client-server API failure, classified.
#[derive(Debug)]
pub enum ApiError {
    /// Network, 5xx, 429: retry (after `retry_after` if given).
    Transient(String, Option<Duration>),
    /// The access token is no longer valid (`M_UNKNOWN_TOKEN`).
    LoggedOut(String),
    /// Any other 4xx: retrying the same call cannot help.
    Refused(u16, String),
}

impl From<ApiError> for ChannelError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::Transient(message, retry_after) => ChannelError::Transient {
                message,
                retry_after,
            },
            ApiError::LoggedOut(message) => {
                ChannelError::Permanent(format!("Matrix ended the session: {message}"))
            }
            ApiError::Refused(code, message) => {
                ChannelError::Permanent(format!("Matrix refused ({code}): {message}"))
            }
        }
    }
}

/// Calls on one homeserver.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
}

impl Client {
    /// `request_timeout` bounds every call; it must exceed the sync
    /// long-poll wait.
    pub fn new(homeserver: &str, request_timeout: Duration) -> Result<Self, ChannelError> {
        let base = Url::parse(homeserver)
            .map_err(|e| ChannelError::Permanent(format!("homeserver {homeserver:?}: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(request_timeout)
            .build()
            .map_err(|e| ChannelError::Permanent(format!("HTTP client: {e}")))?;
        Ok(Self { http, base })
    }

    /// `<base>/_matrix/client/<segments...>`, each segment percent-encoded
    /// (room ids hold `!` and `:`, transaction ids anything).
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(["_matrix", "client"]);
            path.extend(segments);
        }
        url
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Result<T, ApiError> {
        let what = url.path().to_owned();
        let mut request = self.http.request(method, url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| ApiError::Transient(format!("{what}: {e}"), None))?;
        let status = response.status().as_u16();
        if response.status().is_success() {
            return response
                .json()
                .await
                .map_err(|e| ApiError::Transient(format!("{what}: bad response: {e}"), None));
        }
        let error: ErrorBody = response.json().await.unwrap_or_default();
        let message = format!("{what}: {} {}", error.errcode, error.error);
        Err(match status {
            429 => ApiError::Transient(message, error.retry_after_ms.map(Duration::from_millis)),
            401 if error.errcode == "M_UNKNOWN_TOKEN" => ApiError::LoggedOut(message),
            400..=499 => ApiError::Refused(status, message),
            _ => ApiError::Transient(message, None),
        })
    }

    /// Password login as `device_id`; the access token.
    pub async fn login(
        &self,
        user_id: &str,
        password: &str,
        device_id: &str,
    ) -> Result<String, ApiError> {
        let body = json!({
            "type": "m.login.password",
            "identifier": { "type": "m.id.user", "user": user_id },
            "password": password,
            "device_id": device_id,
            "initial_device_display_name": "Hearth",
        });
        let session: Session = self
            .call(Method::POST, self.url(&["v3", "login"]), None, Some(body))
            .await?;
        session
            .access_token
            .ok_or_else(|| ApiError::Transient("login: no access_token".into(), None))
    }

    /// Whose token this is.
    pub async fn whoami(&self, token: &str) -> Result<String, ApiError> {
        let session: Session = self
            .call(
                Method::GET,
                self.url(&["v3", "account", "whoami"]),
                Some(token),
                None,
            )
            .await?;
        Ok(session.user_id)
    }

    pub async fn display_name(&self, token: &str, user_id: &str) -> Option<String> {
        let url = self.url(&["v3", "profile", user_id, "displayname"]);
        let name: DisplayName = self.call(Method::GET, url, Some(token), None).await.ok()?;
        name.displayname.filter(|n| !n.is_empty())
    }

    /// One long poll: events after `since` (all rooms' recent state when
    /// `None`), waiting up to `timeout` for something new.
    pub async fn sync(
        &self,
        token: &str,
        since: Option<&str>,
        timeout: Duration,
    ) -> Result<Sync, ApiError> {
        // Only rooms matter: no presence, no account data, members loaded
        // lazily, a bounded timeline per room.
        const FILTER: &str = r#"{"presence":{"not_types":["*"]},"account_data":{"not_types":["*"]},"room":{"timeline":{"limit":50},"state":{"lazy_load_members":true},"ephemeral":{"not_types":["*"]},"account_data":{"not_types":["*"]}}}"#;
        let mut url = self.url(&["v3", "sync"]);
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("filter", FILTER);
            query.append_pair("timeout", &timeout.as_millis().to_string());
            if let Some(since) = since {
                query.append_pair("since", since);
            }
        }
        self.call(Method::GET, url, Some(token), None).await
    }

    pub async fn join(&self, token: &str, room_id: &str) -> Result<(), ApiError> {
        let url = self.url(&["v3", "rooms", room_id, "join"]);
        let _: Value = self
            .call(Method::POST, url, Some(token), Some(json!({})))
            .await?;
        Ok(())
    }

    /// A new direct chat with `user_id`; its room id.
    pub async fn create_direct(&self, token: &str, user_id: &str) -> Result<String, ApiError> {
        let body = json!({
            "invite": [user_id],
            "is_direct": true,
            "preset": "trusted_private_chat",
        });
        let created: Value = self
            .call(
                Method::POST,
                self.url(&["v3", "createRoom"]),
                Some(token),
                Some(body),
            )
            .await?;
        created["room_id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ApiError::Transient("createRoom: no room_id".into(), None))
    }

    pub async fn joined_members(&self, token: &str, room_id: &str) -> Result<usize, ApiError> {
        let url = self.url(&["v3", "rooms", room_id, "joined_members"]);
        let members: JoinedMembers = self.call(Method::GET, url, Some(token), None).await?;
        Ok(members.joined.len())
    }

    /// Sends a message event. The server answers a repeated `txn_id` (from
    /// the same device) with the first event's id instead of a new event.
    pub async fn send(
        &self,
        token: &str,
        room_id: &str,
        txn_id: &str,
        content: &Value,
    ) -> Result<String, ApiError> {
        let url = self.url(&["v3", "rooms", room_id, "send", "m.room.message", txn_id]);
        let sent: Sent = self
            .call(Method::PUT, url, Some(token), Some(content.clone()))
            .await?;
        Ok(sent.event_id)
    }

    pub async fn typing(&self, token: &str, room_id: &str, user_id: &str) -> Result<(), ApiError> {
        let url = self.url(&["v3", "rooms", room_id, "typing", user_id]);
        let body = json!({ "typing": true, "timeout": 30_000 });
        let _: Value = self.call(Method::PUT, url, Some(token), Some(body)).await?;
        Ok(())
    }

    /// Downloads `mxc://server/media` (authenticated media, Matrix 1.11),
    /// refusing bodies over `max_bytes`.
    pub async fn download(
        &self,
        token: &str,
        mxc: &str,
        max_bytes: u64,
    ) -> Result<Vec<u8>, String> {
        let (server, media) = mxc
            .strip_prefix("mxc://")
            .and_then(|rest| rest.split_once('/'))
            .ok_or_else(|| format!("not an mxc:// URL: {mxc}"))?;
        let url = self.url(&["v1", "media", "download", server, media]);
        let mut response = self
            .http
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| e.to_string())?;
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() as u64 > max_bytes {
                return Err(format!("larger than {max_bytes} bytes"));
            }
        }
        Ok(bytes)
    }
}
