//! Smoke tests of the `hearth` command line as a user runs it: exit codes,
//! messages, files written.

use std::path::Path;
use std::process::{Command, Output};

use crate::common::{Daemon, TestDir, free_port, hearth_bin, toml_string};

/// `hearth <args>` with HOME and the XDG dirs inside `home`, so nothing
/// of the real user's is read or written.
fn hearth(home: &Path, args: &[&str]) -> Output {
    Command::new(hearth_bin())
        .args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("NO_COLOR", "1")
        .env_remove("HEARTH_CONFIG")
        .env_remove("RUST_LOG")
        .output()
        .expect("run hearth")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn init_writes_private_config_and_refuses_a_second_time() {
    let dir = TestDir::new("init");
    let first = hearth(dir.path(), &["init"]);
    assert!(
        first.status.success(),
        "init failed: {}",
        text(&first.stderr)
    );
    let config = dir.path().join("config/hearth/config.toml");
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(&config)
            .expect("config written")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode, 0o600, "the config holds the token");
    let written = std::fs::read_to_string(&config).expect("read config");
    assert!(
        dir.path().join("data/hearth/agents/main").is_dir(),
        "the main agent's workspace"
    );

    let second = hearth(dir.path(), &["init"]);
    let stderr = text(&second.stderr);
    assert_eq!(
        second.status.code(),
        Some(2),
        "a second init refuses as a usage error"
    );
    assert!(
        stderr.contains("already exists") && stderr.contains("--force"),
        "unclear refusal: {stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&config).expect("read config"),
        written,
        "a refused init changes nothing"
    );
}

#[test]
fn config_check_names_file_and_line_of_an_unknown_key() {
    let dir = TestDir::new("check");
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[gateway]\nbind = \"127.0.0.1:1\"\nbnid = \"x\"\n").expect("write");
    let out = hearth(
        dir.path(),
        &["--config", path.to_str().expect("utf-8"), "config", "check"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a bad config is a usage error: {stderr}"
    );
    assert!(
        stderr.contains(&format!("{}:3:", path.display())) && stderr.contains("bnid"),
        "the error should name file:line and the key: {stderr}"
    );
}

#[test]
fn status_without_a_daemon_says_how_to_start_it() {
    let dir = TestDir::new("status");
    let path = dir.path().join("hearth.toml");
    let config = format!(
        "[gateway]\nbind = \"127.0.0.1:{}\"\n[state]\ndir = {}\n\
         [models.echo]\nprovider = \"echo\"\n[agents.main]\nmodel = \"echo\"\n",
        free_port(),
        toml_string(&dir.path().join("state"))
    );
    std::fs::write(&path, config).expect("write");
    let out = hearth(
        dir.path(),
        &["--config", path.to_str().expect("utf-8"), "status"],
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("hearth run"),
        "status should say how to start: {stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_one_message_prints_the_answer() {
    let dir = TestDir::new("chat");
    let daemon = Daemon::start(dir.path(), "").await;
    let config = daemon.config_path.to_str().expect("utf-8").to_owned();
    let home = dir.path().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        hearth(&home, &["--config", &config, "chat", "-m", "hi"])
    })
    .await
    .expect("join");
    assert!(out.status.success(), "chat failed: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hi\n");
}

#[test]
fn protocol_schema_prints_json_schema() {
    let dir = TestDir::new("schema");
    let out = hearth(dir.path(), &["protocol", "schema"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let schema: serde_json::Value = serde_json::from_str(&stdout).expect("schema is JSON");
    assert!(schema.is_object());
    assert!(
        stdout.contains("\"RequestFrame\""),
        "no RequestFrame in the schema"
    );
}

#[test]
fn channels_add_appends_a_valid_table_per_type_and_refuses_bad_requests() {
    let dir = TestDir::new("channels-add");
    assert!(hearth(dir.path(), &["init"]).status.success());
    let config = dir.path().join("config/hearth/config.toml");
    let before = std::fs::read_to_string(&config).expect("config");

    // Printing only changes nothing.
    let shown = hearth(dir.path(), &["channels", "add", "irc"]);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    assert!(text(&shown.stdout).contains("[channels.irc]"));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);

    for kind in [
        "irc", "xmpp", "telegram", "matrix", "mqtt", "webhook", "email",
    ] {
        let added = hearth(dir.path(), &["channels", "add", kind, "--write"]);
        assert!(added.status.success(), "{kind}: {}", text(&added.stderr));
        let check = hearth(dir.path(), &["config", "check"]);
        assert!(check.status.success(), "{kind}: {}", text(&check.stderr));
    }
    let written = std::fs::read_to_string(&config).unwrap();
    for kind in [
        "irc", "xmpp", "telegram", "matrix", "mqtt", "webhook", "email",
    ] {
        assert!(written.contains(&format!("[channels.{kind}]")), "{written}");
    }

    // The same name twice, an unknown type, a bad name: refused, unchanged.
    for args in [
        &["channels", "add", "irc", "--write"][..],
        &["channels", "add", "carrier-pigeon", "--write"][..],
        &["channels", "add", "irc", "--name", "Bad Name", "--write"][..],
    ] {
        let refused = hearth(dir.path(), args);
        assert_eq!(
            refused.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&refused.stderr)
        );
    }
    assert_eq!(std::fs::read_to_string(&config).unwrap(), written);
}

#[test]
fn skills_list_shows_ready_and_gated_skills_with_the_reason() {
    let dir = TestDir::new("skills");
    let workspace = dir.path().join("ws");
    let write = |name: &str, extra: &str| {
        let folder = workspace.join("skills").join(name);
        std::fs::create_dir_all(&folder).expect("mkdir");
        std::fs::write(
            folder.join("SKILL.md"),
            format!(
                "---\nname: {name}\ndescription: The {name} skill.\n{extra}---\nBody of {name}.\n"
            ),
        )
        .expect("write");
    };
    write("weather", "");
    write(
        "deploy",
        "requires:\n  bins: [surely-not-installed-tool]\n  env: [HEARTH_TEST_NO_SUCH_VAR]\n",
    );
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[models.echo]\nprovider = \"echo\"\n[agents.main]\nmodel = \"echo\"\nworkspace = {}\n[tools]\nskills_dir = {}\n",
            toml_string(&workspace),
            toml_string(&dir.path().join("shared-skills")),
        ),
    )
    .expect("write config");
    let out = hearth(
        dir.path(),
        &["--config", config.to_str().unwrap(), "skills", "list"],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains("weather") && stdout.contains("ready"),
        "{stdout}"
    );
    assert!(
        stdout.contains("deploy") && stdout.contains("missing"),
        "{stdout}"
    );
    assert!(stdout.contains("surely-not-installed-tool"), "{stdout}");
    assert!(stdout.contains("HEARTH_TEST_NO_SUCH_VAR"), "{stdout}");
    let out = hearth(
        dir.path(),
        &[
            "--config",
            config.to_str().unwrap(),
            "--json",
            "skills",
            "list",
        ],
    );
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let skills = listed[0]["skills"].as_array().expect("skills");
    let ready: Vec<(&str, bool)> = skills
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["ready"].as_bool().unwrap()))
        .collect();
    assert_eq!(ready, [("deploy", false), ("weather", true)]);
}
