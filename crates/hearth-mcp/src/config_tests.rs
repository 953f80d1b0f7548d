//! Tests of the `[mcp.servers.<name>]` shape and its validation.

use super::*;

fn parse(toml_text: &str) -> Result<McpConfig, String> {
    toml::from_str::<McpConfig>(toml_text).map_err(|e| e.to_string())
}

#[test]
fn stdio_and_http_servers_parse_with_defaults() {
    let config = parse(
        r#"
        [servers.files]
        command = "mcp-server-filesystem"
        args = ["/tmp/notes"]
        env = { DEBUG = "1" }
        allow = ["read_text_file"]

        [servers.remote]
        url = "https://mcp.example.com/mcp"
        headers = { Authorization = "Bearer secret" }
        deny = ["delete_everything"]
        expose_resources = true
        call_timeout_secs = 5
        "#,
    )
    .unwrap();
    config.validate().unwrap();
    let servers = config.into_servers();
    assert_eq!(servers.len(), 2);
    let files = &servers[0];
    assert_eq!(files.name, "files");
    assert!(
        matches!(&files.transport, Transport::Stdio { command, args, .. }
        if command == "mcp-server-filesystem" && args == &["/tmp/notes"])
    );
    assert_eq!(files.call_timeout_secs, 60);
    assert!(files.enabled);
    assert!(!files.expose_resources);
    assert!(files.allows("read_text_file"));
    assert!(!files.allows("write_file"));

    let remote = &servers[1];
    assert!(
        matches!(&remote.transport, Transport::Http { url, headers, .. }
        if url == "https://mcp.example.com/mcp" && headers["Authorization"] == "Bearer secret")
    );
    assert!(remote.expose_resources);
    assert_eq!(remote.call_timeout_secs, 5);
    assert!(remote.allows("anything"));
    assert!(!remote.allows("delete_everything"));
}

#[test]
fn deny_wins_over_allow() {
    let mut config = McpServerConfig::stdio("x", "true", &[]);
    config.allow = Some(vec!["a".into(), "b".into()]);
    config.deny = vec!["b".into()];
    assert!(config.allows("a"));
    assert!(!config.allows("b"));
    assert!(!config.allows("c"));
}

#[test]
fn the_transport_is_command_or_url() {
    let both = parse("[servers.x]\ncommand = \"a\"\nurl = \"https://e.com\"\n").unwrap_err();
    assert!(both.contains("not both"), "{both}");
    let neither = parse("[servers.x]\nallow = []\n").unwrap_err();
    assert!(neither.contains("give `command`"), "{neither}");
    let mixed = parse("[servers.x]\nurl = \"https://e.com\"\nargs = [\"a\"]\n").unwrap_err();
    assert!(mixed.contains("for `command` servers"), "{mixed}");
    let mixed = parse("[servers.x]\ncommand = \"a\"\nheaders = { A = \"b\" }\n").unwrap_err();
    assert!(mixed.contains("for `url` servers"), "{mixed}");
}

#[test]
fn unknown_fields_are_refused() {
    let err = parse("[servers.x]\ncommand = \"a\"\ntimeout = 3\n").unwrap_err();
    assert!(err.contains("unknown field"), "{err}");
    let err = parse("[servers.x]\ncommand = \"a\"\nname = \"y\"\n").unwrap_err();
    assert!(err.contains("unknown field"), "{err}");
    let err = parse("[other]\n").unwrap_err();
    assert!(err.contains("unknown field"), "{err}");
}

#[test]
fn names_are_checked() {
    for bad in ["", "Files", "a.b", "a b", &"x".repeat(33), "a__b", "a_"] {
        let err = McpServerConfig::stdio(bad, "true", &[])
            .validate()
            .unwrap_err();
        assert!(err.message.contains("server name"), "{bad:?}: {err}");
    }
    for good in ["files", "my-server_2", "_x", &"x".repeat(32)] {
        McpServerConfig::stdio(good, "true", &[])
            .validate()
            .unwrap();
    }
}

#[test]
fn plain_http_only_to_loopback_unless_allowed() {
    for ok in [
        "https://mcp.example.com/mcp",
        "http://127.0.0.1:8080/mcp",
        "http://localhost:3001/mcp",
        "http://[::1]:3001/mcp",
    ] {
        McpServerConfig::http("x", ok).validate().unwrap();
    }
    let err = McpServerConfig::http("x", "http://10.0.0.5/mcp")
        .validate()
        .unwrap_err();
    assert!(err.to_string().contains("allow_insecure_http"), "{err}");
    let mut insecure = McpServerConfig::http("x", "http://10.0.0.5/mcp");
    if let Transport::Http {
        allow_insecure_http,
        ..
    } = &mut insecure.transport
    {
        *allow_insecure_http = true;
    }
    insecure.validate().unwrap();
    for bad in ["ftp://example.com/", "not a url", "file:///tmp/x"] {
        assert!(McpServerConfig::http("x", bad).validate().is_err(), "{bad}");
    }
}

#[test]
fn headers_values_and_limits_are_checked() {
    let with_header = |name: &str, value: &str| {
        let mut config = McpServerConfig::http("x", "https://e.com/mcp");
        if let Transport::Http { headers, .. } = &mut config.transport {
            headers.insert(name.into(), value.into());
        }
        config.validate()
    };
    with_header("Authorization", "Bearer abc").unwrap();
    with_header("X-Api-Key", "abc").unwrap();
    assert!(with_header("Mcp-Session-Id", "abc").is_err());
    assert!(with_header("bad header", "abc").is_err());
    assert!(with_header("X-Ok", "line\nbreak").is_err());

    let mut config = McpServerConfig::stdio("x", "true", &[]);
    config.call_timeout_secs = 0;
    assert!(config.validate().is_err());
    let mut config = McpServerConfig::stdio("x", " ", &[]);
    assert!(config.validate().is_err());
    config = McpServerConfig::stdio("x", "true", &[]);
    config.allow = Some(vec![" ".into()]);
    assert!(config.validate().is_err());
}

#[test]
fn debug_output_hides_secrets() {
    let config = parse(
        "[servers.x]\nurl = \"https://e.com/mcp\"\nheaders = { Authorization = \"Bearer hunter2\" }\n",
    )
    .unwrap();
    let printed = format!("{config:?}");
    assert!(printed.contains("Authorization"), "{printed}");
    assert!(!printed.contains("hunter2"), "{printed}");
}

#[test]
fn the_toml_shape_round_trips() {
    let config = parse(
        "[servers.a]\ncommand = \"run\"\nargs = [\"x\"]\nenabled = false\n\n\
         [servers.b]\nurl = \"https://e.com/mcp\"\nexpose_prompts = true\n",
    )
    .unwrap();
    let text = toml::to_string(&config).unwrap();
    assert_eq!(parse(&text).unwrap(), config, "{text}");
}

#[test]
fn the_schema_describes_the_toml_shape() {
    let schema = serde_json::to_value(schemars::schema_for!(McpConfig)).unwrap();
    let text = schema.to_string();
    for field in ["command", "url", "headers", "allow", "expose_resources"] {
        assert!(text.contains(field), "{field} missing from {text}");
    }
}
