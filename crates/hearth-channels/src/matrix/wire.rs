//! The client-server API's JSON, as far as the adapter reads it. Every
//! field is optional on the wire (servers omit empty sections), so every
//! field has a default; event contents stay `Value` and are read with the
//! accessors below, since clients put anything in them.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

/// `POST /login` and `GET /account/whoami`.
#[derive(Debug, Deserialize)]
pub struct Session {
    pub user_id: String,
    #[serde(default)]
    pub access_token: Option<String>,
}

/// An error body: `{"errcode": "M_FORBIDDEN", "error": "..."}`.
#[derive(Debug, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub errcode: String,
    #[serde(default)]
    pub error: String,
    /// On 429 `M_LIMIT_EXCEEDED`.
    #[serde(default)]
    pub retry_after_ms: Option<u64>,
}

/// `GET /sync`.
#[derive(Debug, Default, Deserialize)]
pub struct Sync {
    pub next_batch: String,
    #[serde(default)]
    pub rooms: Rooms,
}

#[derive(Debug, Default, Deserialize)]
pub struct Rooms {
    #[serde(default)]
    pub join: HashMap<String, JoinedRoom>,
    #[serde(default)]
    pub invite: HashMap<String, InvitedRoom>,
    #[serde(default)]
    pub leave: HashMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct JoinedRoom {
    #[serde(default)]
    pub timeline: Timeline,
    #[serde(default)]
    pub state: Events,
}

#[derive(Debug, Default, Deserialize)]
pub struct Timeline {
    #[serde(default)]
    pub events: Vec<Event>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Events {
    #[serde(default)]
    pub events: Vec<Event>,
}

#[derive(Debug, Default, Deserialize)]
pub struct InvitedRoom {
    #[serde(default)]
    pub invite_state: Events,
}

/// A room event (or a stripped state event in an invite).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Event {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub event_id: String,
    #[serde(default)]
    pub sender: String,
    #[serde(default)]
    pub state_key: Option<String>,
    #[serde(default)]
    pub content: Value,
}

impl Event {
    fn str(&self, key: &str) -> Option<&str> {
        self.content.get(key)?.as_str()
    }

    pub fn msgtype(&self) -> &str {
        self.str("msgtype").unwrap_or_default()
    }

    pub fn body(&self) -> &str {
        self.str("body").unwrap_or_default()
    }

    /// `formatted_body`, when the format is Matrix HTML.
    pub fn formatted_body(&self) -> Option<&str> {
        (self.str("format") == Some("org.matrix.custom.html"))
            .then(|| self.str("formatted_body"))
            .flatten()
    }

    /// `membership` of an `m.room.member` event.
    pub fn membership(&self) -> Option<&str> {
        (self.kind == "m.room.member")
            .then(|| self.str("membership"))
            .flatten()
    }

    fn relates_to(&self) -> Option<&Value> {
        self.content.get("m.relates_to")
    }

    /// The event this one replies to.
    pub fn reply_to(&self) -> Option<&str> {
        self.relates_to()?
            .get("m.in_reply_to")?
            .get("event_id")?
            .as_str()
    }

    /// The thread root, for an event in a thread.
    pub fn thread_root(&self) -> Option<&str> {
        let relation = self.relates_to()?;
        (relation.get("rel_type")?.as_str()? == "m.thread")
            .then(|| relation.get("event_id")?.as_str())
            .flatten()
    }

    /// Whether this is an edit of an earlier message (`m.replace`).
    pub fn is_edit(&self) -> bool {
        self.relates_to()
            .and_then(|r| r.get("rel_type"))
            .and_then(Value::as_str)
            == Some("m.replace")
    }

    /// Whether the sender tagged `user_id` as an intentional mention.
    pub fn mentions(&self, user_id: &str) -> bool {
        self.content
            .get("m.mentions")
            .and_then(|m| m.get("user_ids"))
            .and_then(Value::as_array)
            .is_some_and(|ids| ids.iter().any(|id| id.as_str() == Some(user_id)))
    }

    /// The `mxc://` URL, name, MIME type and size of a file message.
    pub fn media(&self) -> Option<(&str, &str, Option<&str>, Option<u64>)> {
        let url = self.str("url")?;
        let info = self.content.get("info");
        let mime = info.and_then(|i| i.get("mimetype")).and_then(Value::as_str);
        let size = info.and_then(|i| i.get("size")).and_then(Value::as_u64);
        let name = self.str("filename").unwrap_or_else(|| self.body());
        Some((url, name, mime, size))
    }
}

/// `PUT /rooms/{room}/send/...`.
#[derive(Debug, Deserialize)]
pub struct Sent {
    pub event_id: String,
}

/// `GET /rooms/{room}/joined_members`.
#[derive(Debug, Default, Deserialize)]
pub struct JoinedMembers {
    #[serde(default)]
    pub joined: HashMap<String, Value>,
}

/// `GET /profile/{user}/displayname`.
#[derive(Debug, Default, Deserialize)]
pub struct DisplayName {
    #[serde(default)]
    pub displayname: Option<String>,
}
