//! Markdown from an agent's workspace: `MEMORY.md` and every `*.md` under
//! `memory/` are chunked into memories (source `file:<relative path>`).
//! A file is re-read only when its SHA-256 changed; a deleted file's
//! memories are removed. [`watch_markdown`] re-runs the import when the
//! files change.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::params;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::sql::now_ms;
use super::{ChunkOptions, LongTermMemory, NewMemory, blocking};
use crate::MemoryError;

/// Bounds one import: files considered and bytes read per file.
const MAX_FILES: usize = 1000;
const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// Changes arriving within this window are imported together (an editor
/// saving writes several events).
const DEBOUNCE: Duration = Duration::from_millis(300);

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Files read and (re)embedded.
    pub imported: Vec<String>,
    pub unchanged: usize,
    /// Files gone since the last import, whose memories were removed.
    pub removed: Vec<String>,
    /// Files skipped, with the reason (too large, unreadable).
    pub skipped: Vec<String>,
    pub chunks: usize,
}

/// The Markdown files of a workspace that feed memory, relative paths
/// with `/` separators, sorted.
fn memory_files(workspace: &Path) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    let top = workspace.join("MEMORY.md");
    if top.is_file() {
        files.push(("MEMORY.md".to_owned(), top));
    }
    let mut pending = vec![workspace.join("memory")];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() && path.extension().is_some_and(|e| e == "md") {
                if let Ok(relative) = path.strip_prefix(workspace) {
                    let relative: Vec<String> = relative
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy().into_owned())
                        .collect();
                    files.push((relative.join("/"), path));
                }
            }
            if files.len() >= MAX_FILES {
                break;
            }
        }
    }
    files.sort();
    files
}

/// Brings `agent`'s file memories in line with its workspace.
pub async fn import_markdown(
    memory: &LongTermMemory,
    agent: &str,
    workspace: &Path,
) -> Result<ImportReport, MemoryError> {
    let mut report = ImportReport::default();
    let files = memory_files(workspace);
    let known = known_files(memory, agent).await?;
    for (relative, path) in &files {
        let source = format!("file:{relative}");
        let text = match std::fs::metadata(path) {
            Ok(m) if m.len() > MAX_FILE_BYTES => {
                report
                    .skipped
                    .push(format!("{relative}: over {MAX_FILE_BYTES} bytes"));
                continue;
            }
            _ => match std::fs::read_to_string(path) {
                Ok(text) => text,
                Err(e) => {
                    report.skipped.push(format!("{relative}: {e}"));
                    continue;
                }
            },
        };
        let hash = format!("{:x}", Sha256::digest(text.as_bytes()));
        if known.iter().any(|(p, h)| p == relative && *h == hash) {
            report.unchanged += 1;
            continue;
        }
        let chunks = if text.trim().is_empty() {
            memory.remove_source(agent, &source).await?
        } else {
            let document = NewMemory {
                text,
                kind: "document".into(),
                source: Some(source),
                ..NewMemory::new(agent, "")
            };
            memory
                .add_document(document, ChunkOptions::default(), true)
                .await?
                .len()
        };
        record_file(memory, agent, relative, Some((&hash, chunks))).await?;
        report.chunks += chunks;
        report.imported.push(relative.clone());
    }
    for (relative, _) in known {
        if !files.iter().any(|(p, _)| *p == relative) {
            memory
                .remove_source(agent, &format!("file:{relative}"))
                .await?;
            record_file(memory, agent, &relative, None).await?;
            report.removed.push(relative);
        }
    }
    Ok(report)
}

async fn known_files(
    memory: &LongTermMemory,
    agent: &str,
) -> Result<Vec<(String, String)>, MemoryError> {
    let inner = memory.inner().clone();
    let agent = agent.to_owned();
    blocking(move || {
        let conn = inner.conn.lock();
        let mut statement = conn.prepare("SELECT path, sha256 FROM mem_files WHERE agent = ?1")?;
        let rows = statement.query_map([agent], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    })
    .await
}

/// Records (or with `None`, forgets) what was imported from a file.
async fn record_file(
    memory: &LongTermMemory,
    agent: &str,
    relative: &str,
    imported: Option<(&str, usize)>,
) -> Result<(), MemoryError> {
    let inner = memory.inner().clone();
    let (agent, relative) = (agent.to_owned(), relative.to_owned());
    let imported = imported.map(|(h, n)| (h.to_owned(), n as i64));
    blocking(move || {
        let conn = inner.conn.lock();
        match imported {
            Some((hash, chunks)) => conn.execute(
                "INSERT INTO mem_files (agent, path, sha256, chunks, imported_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (agent, path) DO UPDATE SET sha256 = excluded.sha256,
                     chunks = excluded.chunks, imported_ms = excluded.imported_ms",
                params![agent, relative, hash, chunks, now_ms()],
            )?,
            None => conn.execute(
                "DELETE FROM mem_files WHERE agent = ?1 AND path = ?2",
                params![agent, relative],
            )?,
        };
        Ok(())
    })
    .await
}

/// Imports now, then again whenever the workspace's memory files change,
/// until `shutdown`. Errors are logged, not fatal: a bad edit must not
/// stop the watcher.
pub fn watch_markdown(
    memory: LongTermMemory,
    agent: String,
    workspace: PathBuf,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    use notify::{RecursiveMode, Watcher};
    tokio::spawn(async move {
        // One pending signal is enough: every import rescans everything.
        let (tx, mut rx) = mpsc::channel::<()>(1);
        let mut watcher = match notify::recommended_watcher(
            move |event: notify::Result<notify::Event>| {
                if event.is_ok() {
                    let _ = tx.try_send(());
                }
            },
        ) {
            Ok(w) => Some(w),
            Err(error) => {
                tracing::warn!(%error, "cannot watch memory files; imported once at start only");
                None
            }
        };
        let mut watching_memory_dir = false;
        if let Some(w) = watcher.as_mut()
            && let Err(error) = w.watch(&workspace, RecursiveMode::NonRecursive)
        {
            tracing::warn!(%error, workspace = %workspace.display(), "cannot watch the workspace");
        }
        loop {
            let memory_dir = workspace.join("memory");
            if !watching_memory_dir
                && memory_dir.is_dir()
                && let Some(w) = watcher.as_mut()
            {
                watching_memory_dir = w.watch(&memory_dir, RecursiveMode::Recursive).is_ok();
            }
            match import_markdown(&memory, &agent, &workspace).await {
                Ok(report) if !report.imported.is_empty() || !report.removed.is_empty() => {
                    tracing::info!(%agent, imported = ?report.imported, removed = ?report.removed, chunks = report.chunks, "memory files imported");
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%agent, %error, "memory file import failed"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                signal = rx.recv() => if signal.is_none() { return },
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(DEBOUNCE) => {}
            }
            while rx.try_recv().is_ok() {}
        }
    })
}
