//! Front matter: validation, unknown keys, both requirement forms, gating.

use super::*;

#[test]
fn claude_style_skill_loads_with_unknown_keys_tolerated() {
    let roots = Roots::new();
    write_skill(&roots.user, "pdf-processing", CLAUDE_STYLE);
    let catalog = roots.discover(&empty_env());
    assert!(catalog.problems().is_empty(), "{:?}", catalog.problems());
    let skill = catalog.get("pdf-processing").expect("skill loaded");
    assert_eq!(
        skill.description,
        "Extract text and tables from PDF files. Use when the user mentions PDFs."
    );
    assert_eq!(skill.source, SkillSource::User);
    assert!(skill.requires.is_empty());
    assert!(skill.is_ready());
    // `metadata` without an `openclaw` block gates nothing.
    assert_eq!(catalog.ready().count(), 1);
}

#[test]
fn openclaw_metadata_requires_are_read_and_gate() {
    let roots = Roots::new();
    write_skill(&roots.user, "github", OPENCLAW_STYLE);

    let ready = roots.discover(&full_env());
    let skill = ready.get("github").expect("skill loaded");
    assert_eq!(skill.requires.bins, ["gh"]);
    assert_eq!(skill.requires.any_bins, ["python3", "python"]);
    assert_eq!(skill.requires.env, ["GITHUB_TOKEN"]);
    // Recorded for display, not checked: Hearth has no OpenClaw config.
    assert_eq!(skill.requires.config, ["browser.enabled"]);
    assert_eq!(skill.gate, Gate::Ready);

    let missing = roots.discover(&empty_env());
    assert_eq!(
        missing.get("github").unwrap().gate.reasons(),
        [
            "binary `gh` not on PATH",
            "none of `python3`, `python` on PATH",
            "environment variable GITHUB_TOKEN not set",
        ]
    );
    assert_eq!(missing.ready().count(), 0);
}

#[test]
fn openclaw_metadata_as_a_json_string_and_the_legacy_key_are_read() {
    let roots = Roots::new();
    let quoted = skill_md(
        "quoted",
        "Quoted metadata.",
        "metadata: '{\"openclaw\": {\"requires\": {\"bins\": \"jq, curl\"}}}'\n",
        "Body.",
    );
    write_skill(&roots.user, "quoted", &quoted);
    let legacy = skill_md(
        "legacy",
        "Old key.",
        "metadata:\n  {\n    \"clawdbot\": { \"requires\": { \"env\": [\"OLD_TOKEN\"] } }\n  }\n",
        "Body.",
    );
    write_skill(&roots.user, "legacy", &legacy);
    let catalog = roots.discover(&empty_env());
    assert!(catalog.problems().is_empty(), "{:?}", catalog.problems());
    assert_eq!(catalog.get("quoted").unwrap().requires.bins, ["jq", "curl"]);
    assert_eq!(
        catalog.get("legacy").unwrap().gate.reasons(),
        ["environment variable OLD_TOKEN not set"]
    );
}

#[test]
fn hearth_requires_form_gates_and_rejects_typos() {
    let roots = Roots::new();
    let hearth = skill_md(
        "deploy",
        "Deploy the site.",
        "requires:\n  bins: [git, rsync]\n  env: [DEPLOY_KEY]\n  os: [macos]\n",
        "Body.",
    );
    write_skill(&roots.workspace, "deploy", &hearth);
    let typo = skill_md("typo", "Typo.", "requires:\n  bin: [git]\n", "Body.");
    write_skill(&roots.workspace, "typo", &typo);

    let catalog = roots.discover(&full_env());
    assert_eq!(
        catalog.get("deploy").unwrap().gate.reasons(),
        [
            "runs only on macos (this is linux)",
            "binary `rsync` not on PATH",
            "environment variable DEPLOY_KEY not set",
        ]
    );
    assert!(catalog.get("typo").is_none());
    assert!(matches!(
        problem(&catalog, "typo"),
        LoadError::InvalidRequires(message) if message.contains("bin")
    ));

    let darwin = StaticEnv::new(["git", "rsync"], ["DEPLOY_KEY"]).with_os("macos");
    assert!(roots.discover(&darwin).get("deploy").unwrap().is_ready());
}

#[test]
fn openclaw_always_skips_the_other_requirements() {
    let roots = Roots::new();
    let always = skill_md(
        "always-on",
        "Always.",
        "metadata: {\"openclaw\": {\"always\": true, \"requires\": {\"bins\": [\"nope\"]}}}\n",
        "Body.",
    );
    write_skill(&roots.user, "always-on", &always);
    assert!(
        roots
            .discover(&empty_env())
            .get("always-on")
            .unwrap()
            .is_ready()
    );
}

#[test]
fn a_missing_or_invalid_name_or_description_is_a_problem_not_fatal() {
    let roots = Roots::new();
    write_skill(&roots.user, "good", &skill_md("good", "Fine.", "", "Body."));
    write_skill(
        &roots.user,
        "no-name",
        "---\ndescription: No name.\n---\nBody.",
    );
    write_skill(&roots.user, "no-desc", "---\nname: no-desc\n---\nBody.");
    write_skill(&roots.user, "upper", &skill_md("Upper", "Bad.", "", ""));
    write_skill(&roots.user, "double", &skill_md("a--b", "Bad.", "", ""));
    write_skill(&roots.user, "edge", &skill_md("-edge", "Bad.", "", ""));
    write_skill(
        &roots.user,
        "long",
        &skill_md(&"a".repeat(65), "Bad.", "", ""),
    );
    write_skill(
        &roots.user,
        "number",
        &skill_md("\"42\"", "Fine too.", "", ""),
    );
    write_skill(
        &roots.user,
        "int-name",
        "---\nname: [x]\ndescription: d\n---\n",
    );
    let long_description = "d".repeat(1025);
    write_skill(
        &roots.user,
        "long-desc",
        &skill_md("long-desc", &long_description, "", ""),
    );
    write_skill(&roots.user, "plain", "# Just markdown\n");
    write_skill(&roots.user, "open", "---\nname: open\ndescription: x\n");
    write_skill(&roots.user, "bad-yaml", "---\nname: [unclosed\n---\n");

    let catalog = roots.discover(&empty_env());
    let names: Vec<&str> = catalog.skills().iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["42", "good"]);
    assert_eq!(problem(&catalog, "no-name"), &LoadError::Missing("name"));
    assert_eq!(
        problem(&catalog, "no-desc"),
        &LoadError::Missing("description")
    );
    for folder in ["upper", "double", "edge", "long"] {
        assert!(
            matches!(problem(&catalog, folder), LoadError::InvalidName { .. }),
            "{folder}: {:?}",
            problem(&catalog, folder)
        );
    }
    assert_eq!(
        problem(&catalog, "int-name"),
        &LoadError::NotAString("name")
    );
    assert!(matches!(
        problem(&catalog, "long-desc"),
        LoadError::InvalidDescription(_)
    ));
    assert_eq!(problem(&catalog, "plain"), &LoadError::NoFrontMatter);
    assert_eq!(
        problem(&catalog, "open"),
        &LoadError::UnterminatedFrontMatter
    );
    assert!(matches!(problem(&catalog, "bad-yaml"), LoadError::Yaml(_)));
    assert_eq!(catalog.problems().len(), 11);
}

#[test]
fn crlf_and_byte_order_mark_are_accepted() {
    let roots = Roots::new();
    let text =
        "\u{feff}---\r\nname: windows\r\ndescription: Saved on Windows.\r\n---\r\nBody line.\r\n";
    write_skill(&roots.user, "windows", text);
    let catalog = roots.discover(&empty_env());
    assert_eq!(
        catalog.get("windows").unwrap().description,
        "Saved on Windows."
    );
    assert!(catalog.read("windows").unwrap().contains("Body line."));
}

#[test]
fn an_oversized_skill_file_is_refused_unread() {
    let roots = Roots::new();
    let body = "x".repeat(MAX_FILE_BYTES as usize);
    write_skill(
        &roots.user,
        "huge",
        &skill_md("huge", "Too big.", "", &body),
    );
    let catalog = roots.discover(&empty_env());
    assert!(catalog.get("huge").is_none());
    assert!(matches!(
        problem(&catalog, "huge"),
        LoadError::TooLarge { limit, .. } if *limit == MAX_FILE_BYTES
    ));
}
