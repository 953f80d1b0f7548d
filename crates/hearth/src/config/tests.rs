//! Tests of loading, overrides, validation, the template and `init`.

use super::*;
use hearth_models::ProviderKind;
use std::path::Path;

const MINIMAL: &str = r#"
[models.local]
provider = "echo"

[agents.main]
model = "local"
"#;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Writes `text` to a config file in a fresh temp dir and loads it.
fn load(text: &str, vars: &[(&str, &str)]) -> (Result<Config, ConfigError>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    (Config::load(&path, env(vars)), dir)
}

fn load_err(text: &str, vars: &[(&str, &str)]) -> String {
    let (result, _dir) = load(text, vars);
    result.unwrap_err().to_string()
}

#[test]
fn template_loads_validates_and_round_trips() {
    let token = Token::generate();
    let text = render_template(&token, Some("/var/lib/hearth"));
    let config = Config::parse(Path::new("config.toml"), &text, env(&[])).unwrap();
    config.validate().unwrap();

    // What the template spells out must equal the built-in defaults, so
    // the comments never lie about what removing a line does.
    assert_eq!(config.gateway.token(), Some(token.expose()));
    assert_eq!(config.gateway.bind.to_string(), "127.0.0.1:18789");
    let defaults = GatewayConfig {
        token: config.gateway.token.clone(),
        ..GatewayConfig::default()
    };
    assert_eq!(config.gateway, defaults);
    assert_eq!(config.pipeline, PipelineConfig::default());
    assert_eq!(config.log, LogConfig::default());
    assert_eq!(config.router, hearth_models::RouterSettings::default());
    assert_eq!(config.state.sqlite_synchronous, SyncMode::Normal);
    assert_eq!(config.data_dir().unwrap(), Path::new("/var/lib/hearth"));

    assert_eq!(config.default_agent, "main");
    let local = &config.models["local"];
    assert_eq!(local.provider, ProviderKind::Embedded);
    assert_eq!(local.base_url, None);
    assert_eq!(local.model, hearth_engine::store::DEFAULT_MODEL);
    let engine =
        crate::embedded::engine_config("local", local, Path::new("/var/lib/hearth")).unwrap();
    assert_eq!(
        engine.path,
        Path::new("/var/lib/hearth/models/smollm2-135m.gguf")
    );
    assert_eq!(
        engine,
        hearth_engine::EngineConfig {
            path: engine.path.clone(),
            ..hearth_engine::EngineConfig::new("")
        }
    );
    assert_eq!(config.models.len(), 1, "examples must stay commented out");
    let agents = config.agents().unwrap();
    assert_eq!(agents[&hearth_core::AgentId::main()].model, "local");
    assert_eq!(
        config.default_agent_id().unwrap(),
        hearth_core::AgentId::main()
    );

    // Tokens are fresh each time and the no-data-dir variant loads too.
    assert_ne!(Token::generate().expose(), token.expose());
    assert_eq!(token.expose().len(), 64);
    let text = render_template(&token, None);
    let config = Config::parse(Path::new("c.toml"), &text, env(&[])).unwrap();
    config.validate().unwrap();
    assert_eq!(config.state.dir, None);
}

#[test]
fn conversions_carry_the_values_over() {
    let text = format!(
        "{MINIMAL}\n[state]\nsqlite_synchronous = \"full\"\n[pipeline]\nmax_concurrent_turns = 3\ndrain_timeout_secs = 2\n"
    );
    let (config, _dir) = load(&text, &[]);
    let config = config.unwrap();
    let runtime = config.runtime_config();
    assert_eq!(runtime.max_concurrent_turns, 3);
    assert_eq!(runtime.max_pending, 1024);
    assert_eq!(runtime.drain_timeout, std::time::Duration::from_secs(2));
    assert_eq!(
        config.sqlite_options().synchronous,
        hearth_store::Synchronous::Full
    );
}

#[test]
fn unknown_key_names_file_line_and_column() {
    let text = format!("{MINIMAL}\n[gateway]\nbnd = \"127.0.0.1:1\"\n");
    let (result, dir) = load(&text, &[]);
    let err = result.unwrap_err();
    let path = dir.path().join("config.toml");
    let msg = err.to_string();
    // MINIMAL ends on line 6 (it starts with a newline); then a blank
    // line, `[gateway]`, and the bad key on line 9.
    assert!(
        msg.starts_with(&format!("{}:9:1: unknown field `bnd`", path.display())),
        "{msg}"
    );
    assert!(msg.contains("expected one of `bind`, `token`"), "{msg}");
    assert!(matches!(
        err,
        ConfigError::Parse {
            position: Some((9, 1)),
            ..
        }
    ));
}

#[test]
fn bad_value_names_its_line() {
    let text = format!("{MINIMAL}[pipeline]\nmax_pending = \"lots\"\n");
    let msg = load_err(&text, &[]);
    assert!(
        msg.contains("config.toml:8:15: invalid type: string \"lots\""),
        "{msg}"
    );

    let msg = load_err(
        &format!("{MINIMAL}[gateway]\nbind = \"localhost:1\"\n"),
        &[],
    );
    assert!(
        msg.contains("config.toml:8:8: invalid socket address"),
        "{msg}"
    );
    let msg = load_err(&format!("{MINIMAL}[log]\nformat = \"xml\"\n"), &[]);
    assert!(
        msg.contains("config.toml:8:10: unknown variant `xml`"),
        "{msg}"
    );
    let msg = load_err("[gateway\n", &[]);
    assert!(msg.contains("config.toml:1:"), "{msg}");
}

#[test]
fn env_overrides_apply() {
    let (config, _dir) = load(
        MINIMAL,
        &[
            ("HEARTH_GATEWAY__BIND", "127.0.0.1:9000"),
            ("HEARTH_PIPELINE__MAX_PENDING", "10"),
            ("HEARTH_MODELS__LOCAL__MAX_TOKENS", "64"),
            ("HEARTH_AGENTS__OPS", "{ model = \"local\" }"),
            ("HEARTH_DEFAULT_AGENT", "ops"),
            ("HEARTH_AGENTS__MAIN__FALLBACKS", "[\"local\"]"),
            // Not config: ignored.
            ("HEARTH_CONFIG", "/elsewhere.toml"),
            ("HEARTH_LOG", "debug"),
            ("HEARTH_TEST_KEY", "x"),
            ("PATH", "/bin"),
        ],
    );
    let config = config.unwrap();
    assert_eq!(config.gateway.bind.port(), 9000);
    assert_eq!(config.pipeline.max_pending, 10);
    assert_eq!(config.models["local"].max_tokens, Some(64));
    assert_eq!(config.default_agent, "ops");
    assert_eq!(config.agents["main"].fallbacks, vec!["local".to_string()]);
}

#[test]
fn env_override_may_supply_what_the_file_lacks() {
    // The file alone is missing `[agents.main] model`; the variable fixes it.
    let text = "[models.local]\nprovider = \"echo\"\n[agents.main]\n";
    let (config, _dir) = load(text, &[("HEARTH_AGENTS__MAIN__MODEL", "local")]);
    assert_eq!(config.unwrap().agents["main"].model, "local");
}

#[test]
fn bad_env_value_names_the_variable() {
    let msg = load_err(MINIMAL, &[("HEARTH_PIPELINE__MAX_PENDING", "lots")]);
    assert!(
        msg.starts_with("environment variable HEARTH_PIPELINE__MAX_PENDING: invalid type"),
        "{msg}"
    );
    assert!(msg.contains("pipeline.max_pending"), "{msg}");

    let msg = load_err(MINIMAL, &[("HEARTH_GATEWAY__BND", "127.0.0.1:1")]);
    assert!(
        msg.starts_with("environment variable HEARTH_GATEWAY__BND: unknown field `bnd`"),
        "{msg}"
    );

    // A token that looks like a number gets a quoting hint.
    let msg = load_err(MINIMAL, &[("HEARTH_GATEWAY__TOKEN", "12345")]);
    assert!(
        msg.contains("HEARTH_GATEWAY__TOKEN") && msg.contains("quote it"),
        "{msg}"
    );

    let msg = load_err(MINIMAL, &[("HEARTH_GATEWAY_BIND", "0.0.0.0:1")]);
    assert!(msg.contains("did you mean HEARTH_GATEWAY__BIND?"), "{msg}");

    let text = format!("{MINIMAL}[gateway]\nbind = \"127.0.0.1:1\"\n");
    let msg = load_err(&text, &[("HEARTH_GATEWAY__BIND__PORT", "1")]);
    assert!(msg.contains("`gateway.bind` is not a table"), "{msg}");
}

#[test]
fn file_errors_keep_their_location_even_with_overrides() {
    let text = format!("{MINIMAL}[gateway]\nbnd = 1\n");
    let msg = load_err(&text, &[("HEARTH_PIPELINE__MAX_PENDING", "5")]);
    assert!(
        msg.contains("config.toml:8:1: unknown field `bnd`"),
        "{msg}"
    );
}

#[test]
fn non_loopback_bind_requires_a_token() {
    let msg = load_err(MINIMAL, &[("HEARTH_GATEWAY__BIND", "0.0.0.0:18789")]);
    assert!(
        msg.contains("refusing to bind 0.0.0.0:18789") && msg.contains("gateway.token"),
        "{msg}"
    );
    // An empty token is no token.
    let msg = load_err(
        MINIMAL,
        &[
            ("HEARTH_GATEWAY__BIND", "[::]:18789"),
            ("HEARTH_GATEWAY__TOKEN", ""),
        ],
    );
    assert!(msg.contains("refusing to bind [::]:18789"), "{msg}");

    let (config, _dir) = load(
        MINIMAL,
        &[
            ("HEARTH_GATEWAY__BIND", "0.0.0.0:18789"),
            ("HEARTH_GATEWAY__TOKEN", "s3cret-s3cret"),
        ],
    );
    assert_eq!(config.unwrap().gateway.token(), Some("s3cret-s3cret"));
    // Loopback needs none.
    let (config, _dir) = load(MINIMAL, &[("HEARTH_GATEWAY__BIND", "[::1]:1")]);
    assert!(config.is_ok());
}

#[test]
fn agents_must_name_defined_models() {
    let text = "[models.local]\nprovider = \"echo\"\n[agents.main]\nmodel = \"x\"\nfallbacks = [\"local\", \"y\"]\n";
    let msg = load_err(text, &[]);
    assert!(
        msg.contains(r#"[agents.main] model "x" is not defined under [models]"#),
        "{msg}"
    );
    assert!(
        msg.contains(r#"[agents.main] fallback "y" is not defined under [models]"#),
        "{msg}"
    );
    assert!(msg.starts_with("invalid configuration in "), "{msg}");
}

#[test]
fn validation_reports_every_problem_by_table_and_key() {
    let text = r#"
default_agent = "nobody"
[gateway]
max_payload_bytes = 10
[state]
dir = "relative/dir"
[pipeline]
max_concurrent_turns = 0
[log]
level = "info,=="
[router]
breaker_failures = 0
[models.bad]
provider = "openai"
[agents.Main]
model = "bad"
"#;
    let (result, _dir) = load(text, &[]);
    let ConfigError::Invalid { problems, path } = result.unwrap_err() else {
        panic!("expected Invalid");
    };
    assert!(path.is_some());
    let all = problems.join("\n");
    for want in [
        "[gateway] max_payload_bytes = 10",
        "[state] dir",
        "[pipeline] max_concurrent_turns must be at least 1",
        "[log] level",
        "[router] `breaker_failures` must be at least 1",
        "[models.bad] `model` is required",
        "[agents.Main] invalid agent id",
        r#"default_agent "nobody" is not defined under [agents]"#,
    ] {
        assert!(all.contains(want), "missing {want:?} in:\n{all}");
    }
}

#[test]
fn missing_file_says_to_run_init() {
    let dir = tempfile::tempdir().unwrap();
    let err = Config::load(&dir.path().join("nope.toml"), env(&[])).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("nope.toml") && msg.contains("hearth init"),
        "{msg}"
    );
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let (config, _dir) = load(MINIMAL, &[("HEARTH_GATEWAY__TOKEN", "sekrit-value")]);
    assert!(!format!("{config:?}").contains("sekrit-value"));
}

#[cfg(unix)]
mod init_tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn init_writes_a_private_loadable_config_and_workspace() {
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("etc/hearth/config.toml");
        let data = dir.path().join("data");
        let report = init(&config_path, Some(&data), false).unwrap();

        assert_eq!(mode(&config_path), 0o600);
        assert_eq!(mode(&data), 0o700);
        assert_eq!(report.workspace, data.join("agents/main"));
        assert!(report.workspace.join("AGENTS.md").is_file());
        assert_eq!(report.persona_files.len(), 2);
        assert!(report.backup.is_none());

        let config = Config::load(&config_path, env(&[])).unwrap();
        assert_eq!(config.gateway.token(), Some(report.token.expose()));
        assert_eq!(config.data_dir().unwrap(), data);
    }

    #[test]
    fn second_init_refuses_then_force_keeps_a_backup() {
        let dir = tempfile::tempdir().unwrap();
        let config_path = dir.path().join("config.toml");
        let data = dir.path().join("data");
        let first = init(&config_path, Some(&data), false).unwrap();
        let before = std::fs::read_to_string(&config_path).unwrap();

        let err = init(&config_path, Some(&data), false).unwrap_err();
        assert!(matches!(err, InitError::AlreadyExists { .. }));
        assert!(err.to_string().contains("--force"), "{err}");
        assert_eq!(std::fs::read_to_string(&config_path).unwrap(), before);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);

        let second = init(&config_path, Some(&data), true).unwrap();
        let backup = second.backup.expect("a backup");
        let name = backup.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("config.toml.bak."), "{name}");
        assert_eq!(std::fs::read_to_string(&backup).unwrap(), before);
        assert_eq!(mode(&backup), 0o600);
        assert_eq!(mode(&config_path), 0o600);
        assert_ne!(second.token.expose(), first.token.expose());
        assert!(
            second.persona_files.is_empty(),
            "existing personas are kept"
        );

        // Two forced inits in the same second keep both backups.
        let third = init(&config_path, Some(&data), true).unwrap();
        assert_ne!(third.backup.unwrap(), backup);
    }
}

#[test]
fn the_templates_engine_example_parses_when_uncommented() {
    let text = render_template(&Token::generate(), Some("/d"))
        .replace("# [models.local.engine]", "[models.local.engine]")
        .replace("# threads = 1 ", "threads = 1 ")
        .replace("# slots = 4 ", "slots = 4 ")
        .replace("# context = 2048 ", "context = 2048 ")
        .replace("# kv_cache = \"f16\" ", "kv_cache = \"q8_0\" ")
        .replace(
            "# [models.local.engine.sampling]",
            "[models.local.engine.sampling]",
        )
        .replace("# temperature = 0.7", "temperature = 0.2")
        .replace("# seed = 42", "seed = 42");
    let (config, _dir) = load(&text, &[]);
    let config = config.unwrap();
    let engine =
        crate::embedded::engine_config("local", &config.models["local"], Path::new("/d")).unwrap();
    assert_eq!(engine.threads, Some(1));
    assert_eq!(engine.kv_cache, hearth_engine::config::KvCache::Q8_0);
    assert_eq!(engine.sampling.temperature, 0.2);
    assert_eq!(engine.sampling.seed, Some(42));
}

#[test]
fn a_bad_engine_table_names_the_model_and_the_field() {
    let mut model = hearth_models::ModelConfig::new(ProviderKind::Embedded, "smollm2-135m");
    model.engine = Some(serde_json::json!({ "slots": 0 }));
    let error = crate::embedded::engine_config("local", &model, Path::new("/d")).unwrap_err();
    assert!(
        error.contains("[models.local.engine]") && error.contains("slots"),
        "{error}"
    );
    model.engine = Some(serde_json::json!({ "slotz": 2 }));
    let error = crate::embedded::engine_config("local", &model, Path::new("/d")).unwrap_err();
    assert!(error.contains("slotz"), "{error}");
}

#[test]
fn tools_hooks_and_mcp_tables_are_checked_before_anything_starts() {
    let ok = format!(
        "{MINIMAL}\n[tools.exec]\npolicy = \"allowlist\"\nallowlist = [\"ls\"]\n\
         [tools.channels.gateway]\ndeny = [\"group:runtime\"]\nworking_message = \"Working…\"\n\
         [[hooks.channels.gateway]]\nkind = \"redact\"\n\
         [mcp.servers.files]\ncommand = \"mcp-server-filesystem\"\nargs = [\"/tmp\"]\n"
    );
    let (config, _dir) = load(&ok, &[]);
    let config = config.unwrap();
    assert_eq!(config.tools.exec.allowlist, ["ls"]);
    assert_eq!(config.channel_hooks().unwrap().len(), 1);
    assert!(config.mcp.servers.contains_key("files"));

    let msg = load_err(
        &format!(
            "{MINIMAL}\n[tools.channels.nowhere]\ndeny = [\"exec\"]\n\
             [tools.channels.gateway]\nallow = [\"group:shell\"]\n\
             [tools.exec]\ntimeout_secs = 0\n\
             [[hooks.channels.gateway]]\nkind = \"filter\"\naction = \"block\"\npatterns = [\"(\"]\n"
        ),
        &[],
    );
    for expected in [
        "[tools.channels.nowhere] names no channel",
        "[tools.channels.gateway] unknown tool group \"group:shell\"",
        "[tools.exec] timeout_secs 0",
        "[hooks.channels.gateway]",
    ] {
        assert!(msg.contains(expected), "{expected:?} not in {msg}");
    }
    // A typo inside [tools] is an unknown key, not a silent default.
    let msg = load_err(
        &format!("{MINIMAL}\n[tools.exec]\npolicey = \"full\"\n"),
        &[],
    );
    assert!(msg.contains("policey"), "{msg}");
}
