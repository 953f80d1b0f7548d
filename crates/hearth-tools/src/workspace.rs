//! The agent's workspace as a jail: model-given relative paths resolved
//! under one root, and files opened so that they cannot be outside it.
//!
//! Resolution is in two steps. The path is first normalized without the
//! file system: absolute paths are refused, `.` is dropped and `..` pops a
//! component, and popping past the root is refused. The operating system
//! never sees a `..`. Then the deepest ancestor that exists is
//! canonicalized (every symlink in it resolved) and must lie under the
//! canonical root; the components after it do not exist yet, so none of
//! them is a symlink. A symlink that points nowhere is refused, since
//! creating a file through it would create its target.
//!
//! **Time of check to time of use.** Between the check and the open, a
//! directory on the path could be swapped for a symlink by another process
//! (or by another tool, such as a shell, running for the same agent). What
//! this module does about it:
//!
//! - files are opened with `O_NOFOLLOW`, so the last component is never
//!   followed, and with `O_NONBLOCK`, so a FIFO cannot hang the call;
//! - after the open, the descriptor's real path (`/proc/self/fd/N`, which
//!   the kernel fills from the open file itself, not from the path we gave)
//!   must still be under the root, or the call is refused. This makes
//!   reads and the creation of a write's temporary file race-free on Linux;
//!   where `/proc` is missing, the check is skipped and the path check
//!   alone stands;
//! - a write goes to a temporary file in the checked directory and is then
//!   renamed over the target. If the directory were swapped after the
//!   temporary file was verified, the rename would look for the temporary
//!   file in the new place and fail, so content still cannot land outside.
//!
//! What remains: listing a directory reads it by path, so a directory
//! swapped at the wrong moment can have its entry names (never contents)
//! listed. Fully closing that needs `openat2(RESOLVE_BENEATH)` or a
//! capability crate such as `cap-std`, which this crate does without: the
//! workspace is the agent's own directory, and the only ways to plant a
//! symlink in it are tools (a shell) that are already gated by approval.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

use hearth_core::ToolError;

/// A directory the file tools are confined to.
#[derive(Debug, Clone)]
pub struct Workspace {
    root: PathBuf,
}

/// A path inside the workspace, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The canonical workspace root, as it was when the path was checked.
    pub root: PathBuf,
    /// The absolute path: the canonical form of its existing part, then
    /// the components that do not exist (yet).
    pub path: PathBuf,
}

impl Resolved {
    /// The path relative to the root, as the model should name it (`.`
    /// for the root itself).
    pub fn display(&self) -> String {
        relative(&self.root, &self.path)
    }
}

/// `path` relative to `root`, with `/` separators; `.` for the root.
pub(crate) fn relative(root: &Path, path: &Path) -> String {
    match path.strip_prefix(root) {
        Ok(rest) if rest.as_os_str().is_empty() => ".".into(),
        Ok(rest) => rest.to_string_lossy().into_owned(),
        Err(_) => path.to_string_lossy().into_owned(),
    }
}

impl Workspace {
    /// A workspace rooted at `root`. The root is canonicalized at every
    /// call rather than here, so a root created (or moved back) after the
    /// tools were built still works.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The root as configured.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn canonical_root(&self) -> Result<PathBuf, ToolError> {
        let root = std::fs::canonicalize(&self.root).map_err(|e| {
            ToolError::Failed(format!(
                "the workspace directory {} is not usable: {e}",
                self.root.display()
            ))
        })?;
        if !root.is_dir() {
            return Err(ToolError::Failed(format!(
                "the workspace {} is not a directory",
                self.root.display()
            )));
        }
        Ok(root)
    }

    /// Resolves a model-given path (relative to the root; empty or `.`
    /// means the root) to a checked absolute path. The target need not
    /// exist.
    pub fn resolve(&self, path: &str) -> Result<Resolved, ToolError> {
        let normalized = normalize(path)?;
        let root = self.canonical_root()?;
        let joined = root.join(&normalized);

        // Walk up to the deepest ancestor that exists and canonicalize it.
        let mut existing = joined.as_path();
        let mut missing = Vec::new();
        let canonical = loop {
            match std::fs::canonicalize(existing) {
                Ok(canonical) => break canonical,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    // Present but unresolvable: a symlink to nowhere.
                    if std::fs::symlink_metadata(existing).is_ok() {
                        return Err(ToolError::Denied(format!(
                            "`{}` is a symbolic link to something that does not exist",
                            relative(&root, existing)
                        )));
                    }
                    let (Some(name), Some(parent)) = (existing.file_name(), existing.parent())
                    else {
                        return Err(escape(path));
                    };
                    missing.push(name.to_owned());
                    existing = parent;
                }
                Err(e) => return Err(io_error(path, &e)),
            }
        };
        if !canonical.starts_with(&root) {
            return Err(escape(path));
        }
        let mut resolved = canonical;
        for name in missing.iter().rev() {
            resolved.push(name);
        }
        Ok(Resolved {
            root,
            path: resolved,
        })
    }

    /// Opens an existing regular file for reading, refusing symlinks at the
    /// last component and files that turn out to be outside the root.
    pub fn open_read(&self, path: &str) -> Result<(File, Resolved), ToolError> {
        let resolved = self.resolve(path)?;
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&resolved.path)
            .map_err(|e| io_error(path, &e))?;
        verify_inside(&resolved.root, &file, path)?;
        let meta = file.metadata().map_err(|e| io_error(path, &e))?;
        if meta.is_dir() {
            return Err(ToolError::Failed(format!(
                "`{path}` is a directory; use list_files to see what is in it"
            )));
        }
        if !meta.is_file() {
            return Err(ToolError::Failed(format!("`{path}` is not a regular file")));
        }
        Ok((file, resolved))
    }
}

/// Normalizes a relative path without touching the file system.
fn normalize(path: &str) -> Result<PathBuf, ToolError> {
    if path.contains('\0') {
        return Err(ToolError::InvalidArguments(
            "the path contains a NUL character".into(),
        ));
    }
    let given = Path::new(path);
    if given.is_absolute() || path.starts_with('/') {
        return Err(ToolError::Denied(format!(
            "`{path}` is absolute; give a path relative to the workspace root"
        )));
    }
    let mut normalized = PathBuf::new();
    for component in given.components() {
        match component {
            Component::CurDir => {}
            Component::Normal(part) => normalized.push(part),
            Component::ParentDir => {
                if !normalized.pop() {
                    return Err(escape(path));
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(ToolError::Denied(format!(
                    "`{path}` is absolute; give a path relative to the workspace root"
                )));
            }
        }
    }
    Ok(normalized)
}

fn escape(path: &str) -> ToolError {
    ToolError::Denied(format!("`{path}` is outside the workspace"))
}

/// Checks where an open descriptor really is (see the module doc).
pub(crate) fn verify_inside(root: &Path, file: &File, path: &str) -> Result<(), ToolError> {
    use std::os::fd::AsRawFd;
    let Ok(real) = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())) else {
        // No /proc (or not Linux): the path check is all there is.
        return Ok(());
    };
    if real.starts_with(root) {
        Ok(())
    } else {
        Err(escape(path))
    }
}

/// An I/O error as the model should read it, naming its path.
pub(crate) fn io_error(path: &str, error: &io::Error) -> ToolError {
    match error.kind() {
        io::ErrorKind::NotFound => ToolError::Failed(format!("`{path}` does not exist")),
        io::ErrorKind::PermissionDenied => {
            ToolError::Failed(format!("`{path}`: permission denied"))
        }
        io::ErrorKind::NotADirectory => {
            ToolError::Failed(format!("`{path}`: a part of the path is not a directory"))
        }
        _ if error.raw_os_error() == Some(libc::ELOOP) => ToolError::Denied(format!(
            "`{path}` became a symbolic link while it was being opened"
        )),
        _ => ToolError::Failed(format!("`{path}`: {error}")),
    }
}

/// Names temporary files apart within the process (the pid apart across
/// processes); `create_new` refuses a name that exists anyway.
static TEMP_COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Removes a temporary file unless the write got as far as the rename.
struct TempGuard(Option<PathBuf>);

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Workspace {
    /// Replaces (or creates) the file at `resolved` with `content`
    /// atomically: a temporary file in the same directory, written and
    /// synced, then renamed over the target, so a reader sees the old
    /// content or the new, never a mix, and a crash leaves the old file.
    /// Keeps the permissions of a file it replaces. Returns whether the
    /// file was created.
    pub fn write_atomic(
        &self,
        resolved: &Resolved,
        content: &[u8],
        create_dirs: bool,
    ) -> Result<bool, ToolError> {
        use std::io::Write;
        let shown = resolved.display();
        let (Some(parent), Some(_)) = (resolved.path.parent(), resolved.path.file_name()) else {
            return Err(ToolError::Failed(format!("`{shown}` is not a file name")));
        };
        if resolved.path == resolved.root {
            return Err(ToolError::Failed(
                "that is the workspace directory itself, not a file".into(),
            ));
        }
        match std::fs::symlink_metadata(parent) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(ToolError::Failed(format!(
                    "`{}` is not a directory",
                    relative(&resolved.root, parent)
                )));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound && create_dirs => {
                std::fs::create_dir_all(parent).map_err(|e| io_error(&shown, &e))?;
                // The new directories were checked not to exist; make sure
                // nothing was swapped in while they were being created.
                let canonical = std::fs::canonicalize(parent).map_err(|e| io_error(&shown, &e))?;
                if !canonical.starts_with(&resolved.root) {
                    return Err(escape(&shown));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(ToolError::Failed(format!(
                    "the directory `{}` does not exist; set create_dirs to true to create it",
                    relative(&resolved.root, parent)
                )));
            }
            Err(e) => return Err(io_error(&shown, &e)),
        }
        let previous = match std::fs::symlink_metadata(&resolved.path) {
            Ok(meta) if meta.is_dir() => {
                return Err(ToolError::Failed(format!("`{shown}` is a directory")));
            }
            Ok(meta) => Some(meta.permissions()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_error(&shown, &e)),
        };

        let (mut file, temp) = create_temp(parent).map_err(|e| io_error(&shown, &e))?;
        let mut guard = TempGuard(Some(temp.clone()));
        verify_inside(&resolved.root, &file, &shown)?;
        if let Some(permissions) = previous.clone() {
            file.set_permissions(permissions)
                .map_err(|e| io_error(&shown, &e))?;
        }
        file.write_all(content).map_err(|e| io_error(&shown, &e))?;
        file.sync_all().map_err(|e| io_error(&shown, &e))?;
        drop(file);
        std::fs::rename(&temp, &resolved.path).map_err(|e| io_error(&shown, &e))?;
        guard.0 = None;
        // The rename is durable once the directory is synced.
        if let Ok(dir) = File::open(parent) {
            let _ = dir.sync_all();
        }
        Ok(previous.is_none())
    }
}

/// A new, empty file in `dir` that did not exist before (`O_EXCL`, which
/// also refuses to follow a symlink planted under the name). Mode 0666
/// before the umask, like any new file.
fn create_temp(dir: &Path) -> io::Result<(File, PathBuf)> {
    use std::os::unix::fs::OpenOptionsExt as _;
    loop {
        let n = TEMP_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = dir.join(format!(".hearth-{}-{n}.tmp", std::process::id()));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o666)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
        {
            Ok(file) => return Ok((file, path)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}
