//! Workspace tidiness, checked like a test (rust-analyzer's `tidy` idea):
//! every Rust file opens with a `//!` line saying what it is for and stays
//! small enough to be one thing; no ignore attribute hides a test.

use std::path::{Path, PathBuf};

/// Past this a file is usually two things (STYLE.md).
const MAX_LINES: usize = 800;

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

fn workspace_files() -> Vec<PathBuf> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut files = Vec::new();
    rust_files(crates, &mut files);
    files.retain(|f| !f.components().any(|c| c.as_os_str() == "target"));
    assert!(
        files.len() > 50,
        "expected the workspace's files, found {}",
        files.len()
    );
    files
}

#[test]
fn every_file_says_what_it_is_for_and_stays_small() {
    let mut problems = Vec::new();
    for file in workspace_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        if !text.starts_with("//! ") {
            problems.push(format!("{}: does not open with a //! line", file.display()));
        }
        let lines = text.lines().count();
        if lines > MAX_LINES {
            problems.push(format!(
                "{}: {lines} lines (max {MAX_LINES})",
                file.display()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_test_is_hidden_behind_ignore() {
    let needle = concat!("#[", "ignore");
    let hidden: Vec<_> = workspace_files()
        .into_iter()
        .filter(|f| std::fs::read_to_string(f).unwrap().contains(needle))
        .collect();
    assert!(hidden.is_empty(), "tests hidden behind ignore: {hidden:?}");
}
