//! The workspace jail: what resolves, what is refused, and atomic writes.

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use hearth_core::ToolError;

use crate::workspace::Workspace;

fn setup() -> (tempfile::TempDir, tempfile::TempDir, Workspace) {
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("docs")).unwrap();
    std::fs::write(root.path().join("docs/a.txt"), "a").unwrap();
    std::fs::write(outside.path().join("secret.txt"), "secret").unwrap();
    let workspace = Workspace::new(root.path());
    (root, outside, workspace)
}

fn denied(result: Result<impl std::fmt::Debug, ToolError>) -> String {
    match result {
        Err(ToolError::Denied(message)) => message,
        other => panic!("expected Denied, got {other:?}"),
    }
}

#[test]
fn relative_paths_resolve_under_the_canonical_root() {
    let (root, _outside, workspace) = setup();
    let canonical = std::fs::canonicalize(root.path()).unwrap();
    let resolved = workspace.resolve("docs/a.txt").unwrap();
    assert_eq!(resolved.path, canonical.join("docs/a.txt"));
    assert_eq!(resolved.display(), "docs/a.txt");
    // `..` that stays inside is fine; the root itself is `.`.
    assert_eq!(
        workspace.resolve("docs/../docs/./a.txt").unwrap().path,
        canonical.join("docs/a.txt")
    );
    assert_eq!(workspace.resolve("").unwrap().display(), ".");
    assert_eq!(workspace.resolve("docs/..").unwrap().path, canonical);
}

#[test]
fn absolute_paths_and_escapes_are_denied() {
    let (root, outside, workspace) = setup();
    let absolute = root.path().join("docs/a.txt");
    assert!(denied(workspace.resolve(absolute.to_str().unwrap())).contains("absolute"));
    assert!(denied(workspace.resolve("/etc/passwd")).contains("absolute"));
    assert!(denied(workspace.resolve("..")).contains("outside"));
    assert!(denied(workspace.resolve("docs/../../x")).contains("outside"));
    let sneaky = format!(
        "../{}/secret.txt",
        outside.path().file_name().unwrap().to_str().unwrap()
    );
    denied(workspace.resolve(&sneaky));
    assert!(matches!(
        workspace.resolve("a\0b"),
        Err(ToolError::InvalidArguments(_))
    ));
}

#[test]
fn symlinks_out_of_the_root_are_denied_and_in_root_ones_resolve() {
    let (root, outside, workspace) = setup();
    symlink(outside.path(), root.path().join("out_dir")).unwrap();
    symlink(
        outside.path().join("secret.txt"),
        root.path().join("out_file"),
    )
    .unwrap();
    symlink("docs/a.txt", root.path().join("in_file")).unwrap();
    symlink(outside.path().join("missing"), root.path().join("dangling")).unwrap();

    denied(workspace.resolve("out_dir/secret.txt"));
    denied(workspace.resolve("out_file"));
    // A new file under a directory symlinked out of the root.
    denied(workspace.resolve("out_dir/new.txt"));
    denied(workspace.open_read("out_file"));
    // Creating through a dangling symlink would create its target.
    assert!(denied(workspace.resolve("dangling")).contains("does not exist"));
    assert!(!outside.path().join("missing").exists());

    let canonical = std::fs::canonicalize(root.path()).unwrap();
    let inside = workspace.resolve("in_file").unwrap();
    assert_eq!(inside.path, canonical.join("docs/a.txt"));
    let (_, resolved) = workspace.open_read("in_file").unwrap();
    assert_eq!(resolved.display(), "docs/a.txt");
}

#[test]
fn missing_components_are_appended_to_the_checked_ancestor() {
    let (root, _outside, workspace) = setup();
    let canonical = std::fs::canonicalize(root.path()).unwrap();
    let resolved = workspace.resolve("docs/new/deeper/file.md").unwrap();
    assert_eq!(resolved.path, canonical.join("docs/new/deeper/file.md"));
}

#[test]
fn open_read_refuses_directories_and_special_files_without_hanging() {
    let (root, _outside, workspace) = setup();
    assert!(matches!(
        workspace.open_read("docs"),
        Err(ToolError::Failed(m)) if m.contains("directory")
    ));
    let status = std::process::Command::new("mkfifo")
        .arg(root.path().join("pipe"))
        .status()
        .unwrap();
    assert!(status.success());
    // O_NONBLOCK: opening a FIFO with no writer returns at once.
    assert!(matches!(
        workspace.open_read("pipe"),
        Err(ToolError::Failed(m)) if m.contains("not a regular file")
    ));
    assert!(matches!(
        workspace.open_read("nope.txt"),
        Err(ToolError::Failed(m)) if m.contains("does not exist")
    ));
}

#[test]
fn a_missing_root_fails_clearly() {
    let workspace = Workspace::new("/nonexistent/hearth-workspace");
    assert!(matches!(
        workspace.resolve("a.txt"),
        Err(ToolError::Failed(m)) if m.contains("/nonexistent/hearth-workspace")
    ));
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn atomic_writes_replace_keep_permissions_and_leave_no_temporary_file() {
    let (root, _outside, workspace) = setup();
    let script = root.path().join("docs/run.sh");
    std::fs::write(&script, "old").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o750)).unwrap();

    let resolved = workspace.resolve("docs/run.sh").unwrap();
    let created = workspace.write_atomic(&resolved, b"new", false).unwrap();
    assert!(!created);
    assert_eq!(std::fs::read_to_string(&script).unwrap(), "new");
    let mode = std::fs::metadata(&script).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o750);
    assert_eq!(entries(&root.path().join("docs")), ["a.txt", "run.sh"]);

    // A new file in a new directory needs create_dirs.
    let nested = workspace.resolve("x/y/z.txt").unwrap();
    assert!(matches!(
        workspace.write_atomic(&nested, b"z", false),
        Err(ToolError::Failed(m)) if m.contains("create_dirs")
    ));
    assert!(!root.path().join("x").exists());
    assert!(workspace.write_atomic(&nested, b"z", true).unwrap());
    assert_eq!(
        std::fs::read_to_string(root.path().join("x/y/z.txt")).unwrap(),
        "z"
    );
    assert_eq!(entries(&root.path().join("x/y")), ["z.txt"]);
}

#[test]
fn writing_through_an_in_root_symlink_changes_its_target_only() {
    let (root, outside, workspace) = setup();
    symlink("docs/a.txt", root.path().join("link")).unwrap();
    let resolved = workspace.resolve("link").unwrap();
    workspace
        .write_atomic(&resolved, b"through link", false)
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(root.path().join("docs/a.txt")).unwrap(),
        "through link"
    );
    assert_eq!(
        std::fs::read_to_string(outside.path().join("secret.txt")).unwrap(),
        "secret"
    );
}
