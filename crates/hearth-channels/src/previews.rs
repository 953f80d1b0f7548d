//! Streaming previews, the shared half: per run, the provisional message
//! an adapter posted and keeps editing while the answer grows. The reply's
//! `send` closes the run's slot before it turns the preview into the
//! reply's first piece, and holds the slot meanwhile; a closed slot stays
//! (until the bounded map drops it), so a late preview edit can neither
//! overwrite the reply nor post a new message after it.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use hearth_core::Capabilities;
use parking_lot::Mutex;

use crate::text::chunk;

/// Runs whose preview is remembered at most; the oldest is forgotten first
/// (its reply is then posted as a new message, the preview left as is).
const MAX_PREVIEWS: usize = 256;

/// One run's provisional message.
#[derive(Debug, Default)]
pub struct PreviewSlot {
    /// The platform's id of the posted preview, once posted.
    pub message_id: Option<String>,
    /// The reply took over: previews stop.
    pub closed: bool,
}

pub type Slot = Arc<tokio::sync::Mutex<PreviewSlot>>;

/// The previews of one channel.
#[derive(Debug, Default)]
pub struct Previews {
    // A parking_lot mutex over the map only; each slot has its own async
    // mutex, held across the platform call that edits it.
    slots: Mutex<(HashMap<String, Slot>, VecDeque<String>)>,
}

impl Previews {
    /// The slot of `run_id`, made on first use.
    pub fn slot(&self, run_id: &str) -> Slot {
        let mut guard = self.slots.lock();
        let (map, order) = &mut *guard;
        if let Some(slot) = map.get(run_id) {
            return slot.clone();
        }
        let slot = Slot::default();
        map.insert(run_id.to_owned(), slot.clone());
        order.push_back(run_id.to_owned());
        if order.len() > MAX_PREVIEWS
            && let Some(old) = order.pop_front()
        {
            map.remove(&old);
        }
        slot
    }

    /// For the reply of `run_id`: closes its slot (made if needed, so a
    /// preview arriving later is dropped) and holds it while the reply is
    /// sent, with the preview to turn into the reply's first piece.
    pub async fn close(&self, run_id: &str) -> Closed {
        let mut guard = self.slot(run_id).lock_owned().await;
        guard.closed = true;
        Closed {
            message_id: guard.message_id.clone(),
            _held: guard,
        }
    }
}

/// A run's closed slot, held until dropped.
#[derive(Debug)]
pub struct Closed {
    /// The preview shown, if any.
    pub message_id: Option<String>,
    _held: tokio::sync::OwnedMutexGuard<PreviewSlot>,
}

/// What a preview shows of the answer so far: its first piece that fits
/// the platform, as plain text (half-written markup may not parse), marked
/// unfinished. `None` while there is nothing to show.
pub fn preview_text(text: &str, caps: &Capabilities) -> Option<String> {
    let limit = caps.max_text.saturating_sub(2).max(1);
    let first = chunk(text.trim(), limit, caps.measure).into_iter().next()?;
    let first = first.trim_end();
    (!first.is_empty()).then(|| format!("{first} …"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_core::Measure;

    #[test]
    fn previews_fit_and_slots_are_bounded() {
        let caps = Capabilities {
            max_text: 40,
            measure: Measure::Chars,
            ..Capabilities::default()
        };
        assert_eq!(preview_text("  ", &caps), None);
        assert_eq!(preview_text("Hello", &caps).as_deref(), Some("Hello …"));
        let long = preview_text(&"word ".repeat(40), &caps).unwrap();
        assert!(long.chars().count() <= 40, "{long}");
        let previews = Previews::default();
        let first = previews.slot("run-0");
        assert!(Arc::ptr_eq(&first, &previews.slot("run-0")));
        for i in 1..=MAX_PREVIEWS {
            previews.slot(&format!("run-{i}"));
        }
        assert!(
            !Arc::ptr_eq(&first, &previews.slot("run-0")),
            "the oldest was forgotten"
        );
        assert!(previews.slots.lock().0.len() <= MAX_PREVIEWS);
    }
}
