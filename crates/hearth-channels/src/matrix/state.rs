//! What the adapter keeps across restarts, in one small JSON file under
//! the channel's data directory: the sync position (so messages sent while
//! Hearth was away are answered, and history is not answered again) and
//! which rooms are direct chats (Matrix marks a DM only on the invitation,
//! which the server shows once).

use std::collections::HashMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Rooms remembered at most; a room beyond this is classified again from
/// its member count.
pub const MAX_ROOMS: usize = 10_000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    /// The account this state belongs to; another account starts afresh.
    pub user_id: String,
    /// `next_batch` of the last sync whose events were all recorded.
    pub since: Option<String>,
    /// Room id → whether it is a direct chat.
    #[serde(default)]
    pub direct: HashMap<String, bool>,
    /// User id → the direct chat the bot last talked to them in, for
    /// messages addressed to a person (pairing notices).
    #[serde(default)]
    pub dm_rooms: HashMap<String, String>,
}

impl SyncState {
    pub fn remember_room(&mut self, room_id: &str, direct: bool) {
        if self.direct.len() >= MAX_ROOMS && !self.direct.contains_key(room_id) {
            return;
        }
        self.direct.insert(room_id.to_owned(), direct);
    }
}

/// The state file; `None` path keeps state in memory only (tests).
#[derive(Debug, Clone)]
pub struct StateFile {
    path: Option<PathBuf>,
}

impl StateFile {
    pub fn new(path: Option<PathBuf>) -> Self {
        Self { path }
    }

    /// The saved state for `user_id`, or a fresh one (also when the file
    /// is unreadable: the worst case is answering nothing from before).
    pub fn load(&self, user_id: &str) -> SyncState {
        let saved = self
            .path
            .as_ref()
            .and_then(|path| std::fs::read(path).ok())
            .and_then(|bytes| serde_json::from_slice::<SyncState>(&bytes).ok())
            .filter(|state| state.user_id == user_id);
        saved.unwrap_or_else(|| SyncState {
            user_id: user_id.to_owned(),
            ..SyncState::default()
        })
    }

    /// Writes the state atomically (a temporary file renamed over the old
    /// one), so a crash leaves the old or the new state, never half.
    pub async fn save(&self, state: &SyncState) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let bytes = serde_json::to_vec(state).map_err(std::io::Error::other)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        let temporary = path.with_extension("json.tmp");
        tokio::fs::write(&temporary, bytes).await?;
        tokio::fs::rename(&temporary, path).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn state_survives_a_restart_and_belongs_to_one_account() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(Some(dir.path().join("sub").join("matrix-sync.json")));
        let mut state = file.load("@bot:localhost");
        assert_eq!(state.since, None);
        state.since = Some("s72_1".into());
        state.remember_room("!dm", true);
        file.save(&state).await.unwrap();
        assert_eq!(file.load("@bot:localhost"), state);
        let other = file.load("@other:localhost");
        assert_eq!(other.since, None, "another account starts afresh");
        assert!(other.direct.is_empty());
    }
}
