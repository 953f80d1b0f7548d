//! The local file store for attachments: what a platform sends is
//! downloaded to `<data dir>/channels/<channel>/files/`, within a size
//! limit, under a name the sender cannot steer outside that folder.

use std::path::{Path, PathBuf};

use hearth_core::Attachment;

/// Where one channel saves attachments.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
    max_bytes: u64,
}

/// Why an attachment was not saved.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{name} is {size} bytes; the limit is {limit}")]
    TooLarge { name: String, size: u64, limit: u64 },
    #[error("cannot save {name}: {source}")]
    Io {
        name: String,
        source: std::io::Error,
    },
}

/// A file name safe to join to a directory: no separators, no leading
/// dots, printable, at most 100 characters.
pub fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_. ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.');
    let short: String = trimmed.chars().take(100).collect();
    if short.is_empty() {
        "file".into()
    } else {
        short
    }
}

impl FileStore {
    pub fn new(dir: impl Into<PathBuf>, max_bytes: u64) -> Self {
        Self {
            dir: dir.into(),
            max_bytes,
        }
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Refuses a file whose announced size is over the limit, before
    /// anything is downloaded.
    pub fn check_size(&self, name: &str, size: u64) -> Result<(), FileError> {
        if size > self.max_bytes {
            return Err(FileError::TooLarge {
                name: name.to_owned(),
                size,
                limit: self.max_bytes,
            });
        }
        Ok(())
    }

    /// Saves `bytes` as `<prefix>-<safe name>`, private to the owner.
    pub async fn save(
        &self,
        prefix: &str,
        name: &str,
        mime_type: Option<String>,
        bytes: &[u8],
    ) -> Result<Attachment, FileError> {
        self.check_size(name, bytes.len() as u64)?;
        let io = |source| FileError::Io {
            name: name.to_owned(),
            source,
        };
        tokio::fs::create_dir_all(&self.dir).await.map_err(io)?;
        let path = self
            .dir
            .join(format!("{}-{}", safe_name(prefix), safe_name(name)));
        tokio::fs::write(&path, bytes).await.map_err(io)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = tokio::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).await;
        }
        Ok(Attachment {
            file_name: safe_name(name),
            mime_type,
            path: path.display().to_string(),
            size_bytes: bytes.len() as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_escape_the_folder() {
        assert_eq!(safe_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_name(".hidden"), "hidden");
        assert_eq!(safe_name(""), "file");
        assert_eq!(safe_name("report 2026.pdf"), "report 2026.pdf");
        assert!(!safe_name("a/b\\c\0d").contains(['/', '\\', '\0']));
    }

    #[tokio::test]
    async fn files_over_the_limit_are_refused_and_others_saved_privately() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path().join("files"), 10);
        assert!(matches!(
            store.save("1", "big.bin", None, &[0; 11]).await,
            Err(FileError::TooLarge { .. })
        ));
        let saved = store
            .save("1", "../note.txt", None, b"hello")
            .await
            .unwrap();
        assert!(
            saved
                .path
                .starts_with(&dir.path().join("files").display().to_string())
        );
        assert_eq!(std::fs::read(&saved.path).unwrap(), b"hello");
        assert_eq!(saved.size_bytes, 5);
    }
}
