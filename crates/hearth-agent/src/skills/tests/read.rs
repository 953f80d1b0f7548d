//! What the model gets: the prompt section, bodies and files (never from
//! outside a skill's folder), the `read_skill` tool; and `hearth skills list`.

use std::fs;
use std::sync::Arc;

use hearth_core::{AgentId, SessionKey, ToolContext, ToolError, typed};
use tokio_util::sync::CancellationToken;

use super::*;

#[test]
fn prompt_section_lists_only_ready_skills() {
    let roots = Roots::new();
    write_skill(&roots.user, "github", OPENCLAW_STYLE);
    write_skill(&roots.user, "pdf-processing", CLAUDE_STYLE);
    let section = roots.discover(&empty_env()).prompt_section();
    assert!(section.contains("`read_skill`"), "{section}");
    assert!(section.contains(
        "\n- pdf-processing: Extract text and tables from PDF files. Use when the user mentions PDFs.\n"
    ));
    assert!(!section.contains("github"), "{section}");

    let nothing = SkillCatalog::default();
    assert_eq!(nothing.prompt_section(), "");
}

#[test]
fn prompt_section_is_bounded_with_a_note() {
    let roots = Roots::new();
    let description = "word ".repeat(200);
    for i in 0..40 {
        let name = format!("skill-{i:02}");
        write_skill(&roots.user, &name, &skill_md(&name, &description, "", ""));
    }
    let catalog = roots.discover(&empty_env());
    let section = catalog.prompt_section();
    assert!(section.len() <= MAX_PROMPT_BYTES, "{}", section.len());
    let listed = section
        .lines()
        .filter(|l| l.starts_with("- skill-"))
        .count();
    assert!(listed > 0 && listed < 40, "{listed}");
    assert!(section.ends_with(&format!(
        "({} more skills not listed for space.)\n",
        40 - listed
    )));
    // Long descriptions are cut on their line.
    assert!(section.lines().all(|l| l.chars().count() <= 300));

    let small = catalog.prompt_section_within(600);
    assert!(small.len() <= 600);
}

#[test]
fn read_returns_the_body_without_front_matter() {
    let roots = Roots::new();
    let dir = write_skill(&roots.user, "pdf-processing", CLAUDE_STYLE);
    let catalog = roots.discover(&empty_env());
    let text = catalog.read("pdf-processing").unwrap();
    let dir = fs::canonicalize(dir).unwrap().display().to_string();
    assert!(text.contains(&format!("(folder: {dir})")), "{text}");
    assert!(text.contains("# PDF processing"));
    assert!(!text.contains("license:"), "{text}");
    assert!(!text.contains("---"), "{text}");
    // OpenClaw's placeholder becomes the folder.
    assert!(
        text.contains(&format!("python3 {dir}/scripts/extract.py")),
        "{text}"
    );
}

#[test]
fn read_refuses_unknown_and_gated_skills() {
    let roots = Roots::new();
    write_skill(&roots.user, "github", OPENCLAW_STYLE);
    write_skill(&roots.user, "pdf-processing", CLAUDE_STYLE);
    let catalog = roots.discover(&empty_env());
    match catalog.read("nope") {
        Err(SkillError::Unknown { available, .. }) => assert_eq!(available, "pdf-processing"),
        other => panic!("{other:?}"),
    }
    match catalog.read("github") {
        Err(error @ SkillError::Unavailable { .. }) => {
            assert!(
                error.to_string().contains("binary `gh` not on PATH"),
                "{error}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        catalog.read_file("github", "README.md"),
        Err(SkillError::Unavailable { .. })
    ));
}

#[test]
fn read_file_reads_inside_and_refuses_escapes() {
    let roots = Roots::new();
    let dir = write_skill(&roots.user, "pdf-processing", CLAUDE_STYLE);
    fs::create_dir_all(dir.join("references")).unwrap();
    fs::write(dir.join("references/api.md"), "API notes").unwrap();
    fs::write(roots.user.join("secret.txt"), "secret").unwrap();
    fs::write(dir.join("big.txt"), "x".repeat(MAX_FILE_BYTES as usize + 1)).unwrap();
    let catalog = roots.discover(&empty_env());
    let read = |path: &str| catalog.read_file("pdf-processing", path);

    assert_eq!(read("references/api.md").unwrap(), "API notes");
    assert_eq!(read("./references/api.md").unwrap(), "API notes");
    assert!(matches!(
        read("../secret.txt"),
        Err(SkillError::OutsideSkill { .. })
    ));
    assert!(matches!(
        read("references/../../secret.txt"),
        Err(SkillError::OutsideSkill { .. })
    ));
    let absolute = roots.user.join("secret.txt").display().to_string();
    assert!(matches!(
        read(&absolute),
        Err(SkillError::OutsideSkill { .. })
    ));
    assert!(matches!(
        read("missing.md"),
        Err(SkillError::NotFound { .. })
    ));
    assert!(matches!(
        read("references"),
        Err(SkillError::InvalidPath { .. })
    ));
    assert!(matches!(read(""), Err(SkillError::InvalidPath { .. })));
    assert!(matches!(
        read("big.txt"),
        Err(SkillError::Load {
            error: LoadError::TooLarge { .. },
            ..
        })
    ));
}

#[cfg(unix)]
#[test]
fn read_file_refuses_symlinks_leading_out() {
    use std::os::unix::fs::symlink;
    let roots = Roots::new();
    let dir = write_skill(&roots.user, "pdf-processing", CLAUDE_STYLE);
    fs::write(roots.user.join("secret.txt"), "secret").unwrap();
    fs::write(dir.join("inside.md"), "inside").unwrap();
    symlink(roots.user.join("secret.txt"), dir.join("leak.txt")).unwrap();
    symlink(&roots.user, dir.join("up")).unwrap();
    symlink(dir.join("inside.md"), dir.join("alias.md")).unwrap();
    let catalog = roots.discover(&empty_env());
    let read = |path: &str| catalog.read_file("pdf-processing", path);

    assert!(matches!(
        read("leak.txt"),
        Err(SkillError::OutsideSkill { .. })
    ));
    assert!(matches!(
        read("up/secret.txt"),
        Err(SkillError::OutsideSkill { .. })
    ));
    // A link that stays inside the folder is fine.
    assert_eq!(read("alias.md").unwrap(), "inside");
}

fn context() -> ToolContext {
    ToolContext {
        agent_id: AgentId::new("main").unwrap(),
        session_key: SessionKey::new("test:1").unwrap(),
        run_id: "run".into(),
        call_id: "call".into(),
        channel: "gateway".into(),
        origin: None,
        cancel: CancellationToken::new(),
    }
}

#[tokio::test]
async fn read_skill_tool_reads_and_maps_errors() {
    let roots = Roots::new();
    let dir = write_skill(&roots.user, "pdf-processing", CLAUDE_STYLE);
    fs::write(dir.join("notes.md"), "notes").unwrap();
    write_skill(&roots.user, "github", OPENCLAW_STYLE);
    let catalog = Arc::new(roots.discover(&empty_env()));
    let tool = typed(ReadSkill::new(catalog));

    let spec = tool.spec();
    assert_eq!(spec.name, "read_skill");
    assert_eq!(spec.parameters["required"], serde_json::json!(["name"]));
    assert!(
        spec.parameters["properties"]["path"]["description"]
            .as_str()
            .unwrap()
            .contains("relative to that folder")
    );

    let ctx = context();
    let body = tool
        .call(&ctx, serde_json::json!({"name": "pdf-processing"}))
        .await
        .unwrap();
    assert!(body.contains("# PDF processing"));
    let file = tool
        .call(
            &ctx,
            serde_json::json!({"name": "pdf-processing", "path": "notes.md"}),
        )
        .await
        .unwrap();
    assert_eq!(file, "notes");

    match tool.call(&ctx, serde_json::json!({"name": "nope"})).await {
        Err(ToolError::InvalidArguments(message)) => {
            assert!(message.contains("pdf-processing"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        tool.call(&ctx, serde_json::json!({"name": "github"})).await,
        Err(ToolError::Denied(_))
    ));
    assert!(matches!(
        tool.call(
            &ctx,
            serde_json::json!({"name": "pdf-processing", "path": "../x"})
        )
        .await,
        Err(ToolError::Denied(_))
    ));
}

#[test]
fn render_list_shows_status_reasons_shadows_and_problems() {
    let roots = Roots::new();
    write_skill(&roots.user, "github", OPENCLAW_STYLE);
    write_skill(&roots.user, "pdf-processing", CLAUDE_STYLE);
    write_skill(&roots.workspace, "pdf-processing", CLAUDE_STYLE);
    write_skill(&roots.user, "broken", "---\ndescription: x\n---\n");
    let text = render_list(&roots.discover(&full_env().with_os("linux")));
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("DESCRIPTION"),
        "{text}"
    );
    let github = lines.iter().find(|l| l.starts_with("github")).unwrap();
    assert!(
        github.contains("user") && github.contains("ready"),
        "{text}"
    );
    let pdf = lines
        .iter()
        .find(|l| l.starts_with("pdf-processing"))
        .unwrap();
    assert!(pdf.contains("workspace"), "{text}");
    assert!(text.contains("\n    hides "), "{text}");
    assert!(text.contains("2 of 2 skills ready."), "{text}");
    assert!(text.contains("Problems:\n"), "{text}");
    assert!(
        text.contains("broken/SKILL.md: `name` is missing"),
        "{text}"
    );

    let gated = render_list(&roots.discover(&empty_env()));
    let github = gated.lines().position(|l| l.starts_with("github")).unwrap();
    let lines: Vec<&str> = gated.lines().collect();
    assert!(lines[github].contains("missing"), "{gated}");
    assert_eq!(
        lines[github + 1],
        "    - binary `gh` not on PATH",
        "{gated}"
    );
    assert_eq!(
        lines[github + 2],
        "    - none of `python3`, `python` on PATH",
        "{gated}"
    );

    let none = render_list(&SkillCatalog::discover(
        &[SkillRoot::new(roots.user.join("absent"), SkillSource::User)],
        &empty_env(),
    ));
    assert!(
        none.starts_with("No skills found.\nLooked in:\n  user"),
        "{none}"
    );
}
