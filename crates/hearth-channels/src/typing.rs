//! Feedback while a turn runs: "typing…" on platforms that show it, and
//! streaming previews (the answer so far in one message, edited as it
//! grows) on channels that turned them on. The gate remembers which
//! conversation each run answers; the host is told when a run starts,
//! grows and finishes, and repeats the indicator meanwhile (platforms clear
//! it after about 5 seconds).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use hearth_core::{Channel, Conversation};
use parking_lot::Mutex;
use tokio::sync::watch;
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
/// Shortest time between two preview edits of one run (Telegram allows
/// about one edit a second per chat; Matrix clients flicker faster).
const PREVIEW_INTERVAL: Duration = Duration::from_millis(1500);

type Route = (Arc<dyn Channel>, Conversation);

/// A running run's feedback task: its stop switch, and where the answer
/// so far goes when the channel shows previews.
struct Active {
    stop: CancellationToken,
    text: Option<watch::Sender<String>>,
}

/// The typing indicators of every channel.
#[derive(Default)]
pub struct Typing {
    // parking_lot mutexes: inserts and lookups only, never across an await.
    routes: Mutex<(HashMap<String, Route>, VecDeque<String>)>,
    active: Mutex<HashMap<String, Active>>,
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
        if !channel.capabilities().typing && !channel.previews() {
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

    /// The run started: show the indicator (and previews) until it
    /// finishes.
    pub fn started(&self, run_id: &str) {
        let Some((channel, conversation)) = self.routes.lock().0.get(run_id).cloned() else {
            return;
        };
        let mut active = self.active.lock();
        if active.len() >= MAX_ACTIVE || active.contains_key(run_id) {
            return;
        }
        let stop = self.shutdown.child_token();
        let typing = channel.capabilities().typing;
        let (text, mut grown) = watch::channel(String::new());
        let previews = channel.previews();
        active.insert(
            run_id.to_owned(),
            Active {
                stop: stop.clone(),
                text: previews.then_some(text),
            },
        );
        let run_id = run_id.to_owned();
        self.tasks.spawn(async move {
            let deadline = tokio::time::Instant::now() + MAX_TYPING;
            let mut next_typing = tokio::time::Instant::now();
            let mut previews = previews;
            loop {
                tokio::select! {
                    // The end of the run wins over a last preview.
                    biased;
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep_until(deadline) => return,
                    _ = tokio::time::sleep_until(next_typing), if typing => {
                        if let Err(error) = channel.typing(&conversation).await {
                            tracing::debug!(channel = channel.name(), %error, "typing indicator failed");
                        }
                        next_typing = tokio::time::Instant::now() + RENEW;
                    }
                    changed = grown.changed(), if previews => {
                        if changed.is_err() {
                            previews = false;
                            continue;
                        }
                        let so_far = grown.borrow_and_update().clone();
                        if let Err(error) = channel.preview(&conversation, &run_id, &so_far).await {
                            tracing::debug!(channel = channel.name(), %error, "preview failed");
                        }
                        tokio::select! {
                            _ = stop.cancelled() => return,
                            _ = tokio::time::sleep(PREVIEW_INTERVAL) => {}
                        }
                    }
                }
            }
        });
    }

    /// The run's answer so far is `text`: the next preview shows it.
    pub fn grew(&self, run_id: &str, text: &str) {
        if let Some(Active {
            text: Some(sender), ..
        }) = self.active.lock().get(run_id)
        {
            sender.send_replace(text.to_owned());
        }
    }

    /// The run finished: stop its indicator and forget it.
    pub fn finished(&self, run_id: &str) {
        if let Some(active) = self.active.lock().remove(run_id) {
            active.stop.cancel();
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

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use hearth_core::{ChannelError, OutboundMessage};

    /// A channel that shows previews and records them.
    #[derive(Debug, Default)]
    struct Recorder {
        shown: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl Channel for Recorder {
        fn name(&self) -> &str {
            "recorder"
        }
        async fn send(&self, _: &OutboundMessage) -> Result<(), ChannelError> {
            Ok(())
        }
        fn previews(&self) -> bool {
            true
        }
        async fn preview(&self, _: &Conversation, _: &str, text: &str) -> Result<(), ChannelError> {
            self.shown.lock().push(text.to_owned());
            Ok(())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn previews_follow_the_answer_at_a_bounded_rate() {
        let feedback = Typing::default();
        let channel = Arc::new(Recorder::default());
        feedback.remember("run", channel.clone(), Conversation::direct("alice"));
        feedback.started("run");
        // 3 s of an answer growing every 100 ms.
        let mut text = String::new();
        for i in 0..30 {
            text.push_str(&format!("w{i} "));
            feedback.grew("run", &text);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        feedback.finished("run");
        tokio::task::yield_now().await;
        let shown = channel.shown.lock().clone();
        assert!(
            (2..=3).contains(&shown.len()),
            "one preview per {PREVIEW_INTERVAL:?}: {shown:?}"
        );
        assert!(shown[0].starts_with("w0"), "{shown:?}");
        assert!(
            shown.windows(2).all(|w| w[1].len() > w[0].len()),
            "{shown:?}"
        );
        feedback.grew("run", "after the end");
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(
            channel.shown.lock().len(),
            shown.len(),
            "none after the end"
        );
        feedback.stop().await;
    }
}
