//! "Typing…" while a turn runs, on platforms that show it. The gate
//! remembers which conversation each run answers; the host is told when a
//! run starts and finishes, and repeats the indicator meanwhile (platforms
//! clear it after about 5 seconds).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use hearth_core::{Channel, Conversation};
use parking_lot::Mutex;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How often the indicator is renewed.
const RENEW: Duration = Duration::from_secs(4);
/// A turn that runs longer stops showing it (a stuck turn should not type
/// forever).
const MAX_TYPING: Duration = Duration::from_secs(120);
/// Runs remembered at most, oldest forgotten first.
const MAX_ROUTES: usize = 1024;
/// Indicators running at once at most.
const MAX_ACTIVE: usize = 256;

type Route = (Arc<dyn Channel>, Conversation);

/// The typing indicators of every channel.
#[derive(Default)]
pub struct Typing {
    // parking_lot mutexes: inserts and lookups only, never across an await.
    routes: Mutex<(HashMap<String, Route>, VecDeque<String>)>,
    active: Mutex<HashMap<String, CancellationToken>>,
    tasks: TaskTracker,
    shutdown: CancellationToken,
}

impl std::fmt::Debug for Typing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Typing")
            .field("active", &self.active.lock().len())
            .finish()
    }
}

impl Typing {
    /// Notes that `run_id` answers `conversation` on `channel`.
    pub fn remember(&self, run_id: &str, channel: Arc<dyn Channel>, conversation: Conversation) {
        if !channel.capabilities().typing {
            return;
        }
        let mut guard = self.routes.lock();
        let (map, order) = &mut *guard;
        if map
            .insert(run_id.to_owned(), (channel, conversation))
            .is_none()
        {
            order.push_back(run_id.to_owned());
            if order.len() > MAX_ROUTES
                && let Some(old) = order.pop_front()
            {
                map.remove(&old);
            }
        }
    }

    /// The run started: show the indicator until it finishes.
    pub fn started(&self, run_id: &str) {
        let Some((channel, conversation)) = self.routes.lock().0.get(run_id).cloned() else {
            return;
        };
        let mut active = self.active.lock();
        if active.len() >= MAX_ACTIVE || active.contains_key(run_id) {
            return;
        }
        let stop = self.shutdown.child_token();
        active.insert(run_id.to_owned(), stop.clone());
        self.tasks.spawn(async move {
            let deadline = tokio::time::Instant::now() + MAX_TYPING;
            while tokio::time::Instant::now() < deadline {
                if let Err(error) = channel.typing(&conversation).await {
                    tracing::debug!(channel = channel.name(), %error, "typing indicator failed");
                }
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(RENEW) => {}
                }
            }
        });
    }

    /// The run finished: stop its indicator and forget it.
    pub fn finished(&self, run_id: &str) {
        if let Some(stop) = self.active.lock().remove(run_id) {
            stop.cancel();
        }
        let mut guard = self.routes.lock();
        let (map, order) = &mut *guard;
        if map.remove(run_id).is_some() {
            order.retain(|id| id != run_id);
        }
    }

    /// Stops every indicator and waits for their tasks.
    pub async fn stop(&self) {
        self.shutdown.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}
