//! read_file, write_file, edit_file and list_files on a temporary
//! workspace.

use std::os::unix::fs::symlink;
use std::sync::Arc;

use hearth_core::{Tool, ToolError};
use hearth_tools::file_tools;
use hearth_tools::files::READ_MAX_BYTES;
use serde_json::json;

use super::call;

struct Fixture {
    root: tempfile::TempDir,
    outside: tempfile::TempDir,
    tools: Vec<Arc<dyn Tool>>,
}

impl Fixture {
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "secret").unwrap();
        let tools = file_tools(root.path().to_path_buf(), false);
        Self {
            root,
            outside,
            tools,
        }
    }

    fn tool(&self, name: &str) -> &dyn Tool {
        self.tools
            .iter()
            .find(|t| t.spec().name == name)
            .map(|t| t.as_ref())
            .unwrap()
    }

    fn write(&self, path: &str, content: impl AsRef<[u8]>) {
        let path = self.root.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.root.path().join(path)).unwrap()
    }
}

fn failed(result: Result<String, ToolError>) -> String {
    match result {
        Err(ToolError::Failed(message)) => message,
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[test]
fn specs_name_the_tools_and_describe_every_argument() {
    let fixture = Fixture::new();
    let names: Vec<String> = fixture.tools.iter().map(|t| t.spec().name).collect();
    assert_eq!(
        names,
        ["read_file", "list_files", "write_file", "edit_file"]
    );
    for tool in &fixture.tools {
        let spec = tool.spec();
        assert_eq!(
            spec.parameters["additionalProperties"], false,
            "{}",
            spec.name
        );
        let properties = spec.parameters["properties"].as_object().unwrap();
        for (name, property) in properties {
            assert!(
                property["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty()),
                "{}.{name} has no description",
                spec.name
            );
        }
    }
    let read_only = file_tools(fixture.root.path().to_path_buf(), true);
    let names: Vec<String> = read_only.iter().map(|t| t.spec().name).collect();
    assert_eq!(names, ["read_file", "list_files"]);
}

#[tokio::test]
async fn read_file_returns_text_and_line_ranges_with_notes() {
    let fixture = Fixture::new();
    let text: String = (1..=10).map(|i| format!("line {i}\n")).collect();
    fixture.write("notes.txt", &text);
    let read = fixture.tool("read_file");

    assert_eq!(
        call(read, json!({"path": "notes.txt"})).await.unwrap(),
        text
    );
    let part = call(read, json!({"path": "notes.txt", "offset": 3, "limit": 2}))
        .await
        .unwrap();
    assert!(part.starts_with("line 3\nline 4\n"), "{part}");
    assert!(!part.contains("line 5"), "{part}");
    assert!(
        part.contains("lines 3-4; more follows: read on with offset=5"),
        "{part}"
    );
    let tail = call(read, json!({"path": "notes.txt", "offset": 9}))
        .await
        .unwrap();
    assert!(tail.starts_with("line 9\nline 10\n"), "{tail}");
    assert!(tail.contains("the end of the file"), "{tail}");
    let past = call(read, json!({"path": "notes.txt", "offset": 50}))
        .await
        .unwrap();
    assert!(past.contains("has 10 lines"), "{past}");

    assert!(matches!(
        call(read, json!({"path": "notes.txt", "offset": 0})).await,
        Err(ToolError::InvalidArguments(_))
    ));
    assert!(matches!(
        call(read, json!({"path": "notes.txt", "lines": 3})).await,
        Err(ToolError::InvalidArguments(m)) if m.contains("lines")
    ));
    assert!(failed(call(read, json!({"path": "nope.txt"})).await).contains("does not exist"));
}

#[tokio::test]
async fn read_file_caps_large_files_and_refuses_binary_ones() {
    let fixture = Fixture::new();
    // 400 KiB in 100-byte lines.
    let line = format!("{}\n", "x".repeat(99));
    fixture.write("big.log", line.repeat(4096));
    let read = fixture.tool("read_file");
    let first = call(read, json!({"path": "big.log"})).await.unwrap();
    let (body, note) = first.rsplit_once("\n\n[").unwrap();
    assert!(body.len() <= READ_MAX_BYTES, "{}", body.len());
    let shown = READ_MAX_BYTES / 100;
    assert_eq!(body.lines().count(), shown + 1, "the last line is partial");
    assert!(
        note.contains(&format!("line {} is cut", shown + 1)),
        "{note}"
    );
    assert!(note.contains(&format!("offset={}", shown + 2)), "{note}");

    // A single line longer than the limit comes back cut, not whole.
    fixture.write("minified.js", "y".repeat(READ_MAX_BYTES * 2));
    let cut = call(read, json!({"path": "minified.js"})).await.unwrap();
    assert!(cut.len() < READ_MAX_BYTES + 200, "{}", cut.len());

    fixture.write("image.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    let binary = failed(call(read, json!({"path": "image.png"})).await);
    assert!(binary.contains("binary"), "{binary}");
    fixture.write("latin1.txt", b"caf\xe9 au lait");
    assert!(failed(call(read, json!({"path": "latin1.txt"})).await).contains("UTF-8"));
}

#[tokio::test]
async fn paths_cannot_leave_the_workspace() {
    let fixture = Fixture::new();
    symlink(fixture.outside.path(), fixture.root.path().join("escape")).unwrap();
    let secret = fixture.outside.path().join("secret.txt");
    for (tool, arguments) in [
        ("read_file", json!({"path": secret.to_str().unwrap()})),
        ("read_file", json!({"path": "../secret.txt"})),
        ("read_file", json!({"path": "escape/secret.txt"})),
        (
            "write_file",
            json!({"path": "escape/new.txt", "content": "x"}),
        ),
        ("write_file", json!({"path": "../new.txt", "content": "x"})),
        (
            "edit_file",
            json!({"path": "escape/secret.txt", "old": "secret", "new": "owned"}),
        ),
        ("list_files", json!({"path": "escape"})),
    ] {
        let result = call(fixture.tool(tool), arguments.clone()).await;
        assert!(
            matches!(result, Err(ToolError::Denied(_))),
            "{tool} {arguments}: {result:?}"
        );
    }
    assert_eq!(std::fs::read_to_string(secret).unwrap(), "secret");
    assert!(!fixture.outside.path().join("new.txt").exists());
}

#[tokio::test]
async fn write_file_creates_replaces_and_needs_create_dirs_for_new_directories() {
    let fixture = Fixture::new();
    let write = fixture.tool("write_file");
    let created = call(write, json!({"path": "a.txt", "content": "one"}))
        .await
        .unwrap();
    assert!(created.starts_with("created `a.txt`"), "{created}");
    let replaced = call(write, json!({"path": "a.txt", "content": "two"}))
        .await
        .unwrap();
    assert!(replaced.starts_with("replaced `a.txt`"), "{replaced}");
    assert_eq!(fixture.read("a.txt"), "two");

    let missing = failed(call(write, json!({"path": "new/dir/b.txt", "content": "b"})).await);
    assert!(missing.contains("create_dirs"), "{missing}");
    assert!(!fixture.root.path().join("new").exists());
    call(
        write,
        json!({"path": "new/dir/b.txt", "content": "b", "create_dirs": true}),
    )
    .await
    .unwrap();
    assert_eq!(fixture.read("new/dir/b.txt"), "b");

    let huge = "z".repeat(2 * 1024 * 1024);
    assert!(matches!(
        call(write, json!({"path": "huge.txt", "content": huge})).await,
        Err(ToolError::InvalidArguments(_))
    ));
    assert!(!fixture.root.path().join("huge.txt").exists());
    std::fs::create_dir(fixture.root.path().join("adir")).unwrap();
    assert!(
        failed(call(write, json!({"path": "adir", "content": "x"})).await).contains("directory")
    );

    // Nothing but the files written: no temporary file left behind.
    let mut names: Vec<String> = std::fs::read_dir(fixture.root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["a.txt", "adir", "new"]);
}

#[tokio::test]
async fn edit_file_replaces_exactly_one_match_or_says_why_not() {
    let fixture = Fixture::new();
    fixture.write(
        "code.rs",
        "let a = 1;\nlet b = 1;\nlet c = 1;\nfn main() {}\n",
    );
    let edit = fixture.tool("edit_file");

    let done = call(
        edit,
        json!({"path": "code.rs", "old": "fn main() {}", "new": "fn main() { run(); }"}),
    )
    .await
    .unwrap();
    assert_eq!(done, "replaced 1 occurrence in `code.rs`");
    assert!(fixture.read("code.rs").ends_with("fn main() { run(); }\n"));

    let missing = failed(call(edit, json!({"path": "code.rs", "old": "let d", "new": "x"})).await);
    assert!(missing.contains("not found"), "{missing}");
    let ambiguous = failed(
        call(
            edit,
            json!({"path": "code.rs", "old": " = 1;", "new": " = 2;"}),
        )
        .await,
    );
    assert!(ambiguous.contains("occurs 3 times"), "{ambiguous}");
    assert!(ambiguous.contains("replace_all"), "{ambiguous}");
    assert!(
        fixture.read("code.rs").starts_with("let a = 1;"),
        "unchanged after errors"
    );

    let all = call(
        edit,
        json!({"path": "code.rs", "old": " = 1;", "new": " = 2;", "replace_all": true}),
    )
    .await
    .unwrap();
    assert_eq!(all, "replaced 3 occurrences in `code.rs`");
    assert_eq!(
        fixture.read("code.rs"),
        "let a = 2;\nlet b = 2;\nlet c = 2;\nfn main() { run(); }\n"
    );

    assert!(matches!(
        call(edit, json!({"path": "code.rs", "old": "", "new": "x"})).await,
        Err(ToolError::InvalidArguments(_))
    ));

    // CRLF files take `old`/`new` written with plain newlines.
    fixture.write("win.txt", "one\r\ntwo\r\nthree\r\n");
    call(
        edit,
        json!({"path": "win.txt", "old": "one\ntwo", "new": "1\n2"}),
    )
    .await
    .unwrap();
    assert_eq!(fixture.read("win.txt"), "1\r\n2\r\nthree\r\n");
}

#[tokio::test]
async fn list_files_marks_directories_sizes_and_links_and_stays_bounded() {
    let fixture = Fixture::new();
    fixture.write("src/main.rs", "fn main() {}\n");
    fixture.write("src/lib/util.rs", "x".repeat(2048));
    fixture.write("README.md", "hi");
    fixture.write(".git/HEAD", "ref");
    symlink("src/main.rs", fixture.root.path().join("main_link")).unwrap();
    symlink(fixture.outside.path(), fixture.root.path().join("escape")).unwrap();
    let list = fixture.tool("list_files");

    let top = call(list, json!({})).await.unwrap();
    assert_eq!(
        top,
        "4 entries in `.`:\n.git/\nREADME.md  (2 B)\nmain_link -> src/main.rs\nsrc/\n\
         [1 symbolic link leading outside the workspace (or nowhere) not shown]"
    );
    let all = call(list, json!({"recursive": true})).await.unwrap();
    assert!(all.contains("src/lib/util.rs  (2.0 KiB)"), "{all}");
    assert!(all.contains("src/main.rs  (13 B)"), "{all}");
    assert!(!all.contains(".git/HEAD"), "{all}");
    assert!(!all.contains("secret"), "{all}");

    let sub = call(list, json!({"path": "src"})).await.unwrap();
    assert_eq!(sub, "2 entries in `src`:\nsrc/lib/\nsrc/main.rs  (13 B)");

    for i in 0..30 {
        fixture.write(&format!("many/f{i:02}.txt"), "");
    }
    let bounded = call(list, json!({"path": "many", "max_entries": 5}))
        .await
        .unwrap();
    assert_eq!(
        bounded.lines().filter(|l| l.starts_with("many/")).count(),
        5
    );
    assert!(bounded.contains("more entries not shown"), "{bounded}");
    assert!(matches!(
        call(list, json!({"max_entries": 5000})).await,
        Err(ToolError::InvalidArguments(_))
    ));
    assert!(failed(call(list, json!({"path": "README.md"})).await).contains("not a directory"));
}
