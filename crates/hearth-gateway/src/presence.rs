//! Who is connected: one presence entry per authenticated connection plus
//! the gateway itself, announced to every connection as a `presence` event
//! whenever a client joins or leaves.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::{Value, json};

use crate::protocol::events::PresenceUpdate;
use tokio::sync::broadcast;

/// Pending presence notices per connection; a slow connection that misses
/// some still gets the next full snapshot.
const NOTICE_BUFFER: usize = 64;

#[derive(Debug)]
pub struct Presence {
    entries: Mutex<BTreeMap<String, Value>>,
    changes: broadcast::Sender<Arc<Value>>,
}

impl Default for Presence {
    fn default() -> Self {
        Self {
            entries: Mutex::default(),
            changes: broadcast::channel(NOTICE_BUFFER).0,
        }
    }
}

impl Presence {
    /// Records a connected client and announces the new snapshot.
    pub fn join(&self, conn_id: &str, entry: Value) {
        self.entries.lock().insert(conn_id.to_owned(), entry);
        self.announce();
    }

    pub fn leave(&self, conn_id: &str) {
        if self.entries.lock().remove(conn_id).is_some() {
            self.announce();
        }
    }

    /// The connected clients' entries.
    pub fn clients(&self) -> Vec<Value> {
        self.entries.lock().values().cloned().collect()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Value>> {
        self.changes.subscribe()
    }

    fn announce(&self) {
        let snapshot = json!(PresenceUpdate {
            presence: self.clients()
        });
        // Nobody listening is fine.
        let _ = self.changes.send(Arc::new(snapshot));
    }
}
