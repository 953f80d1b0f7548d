//! Discovery: precedence and shadowing, folder layout, bounds, the real environment.

use std::fs;

use super::*;

#[test]
fn workspace_wins_a_name_and_records_the_copy_it_hides() {
    let roots = Roots::new();
    write_skill(
        &roots.user,
        "notes",
        &skill_md("notes", "User copy.", "", ""),
    );
    let ws = write_skill(
        &roots.workspace,
        "notes",
        &skill_md(
            "notes",
            "Workspace copy.",
            "requires:\n  bins: [missing-tool]\n",
            "",
        ),
    );
    let catalog = roots.discover(&empty_env());
    assert_eq!(catalog.skills().len(), 1);
    let notes = catalog.get("notes").unwrap();
    assert_eq!(notes.source, SkillSource::Workspace);
    assert_eq!(notes.description, "Workspace copy.");
    assert_eq!(notes.dir, fs::canonicalize(ws).unwrap());
    assert_eq!(
        notes.shadowed,
        [fs::canonicalize(roots.user.join("notes")).unwrap()]
    );
    // The override wins even though it is gated: that is how a workspace
    // disables a user skill. The hidden ready copy is not offered.
    assert!(!notes.is_ready());
    assert_eq!(catalog.prompt_section(), "");
}

#[test]
fn groups_one_level_deep_are_found_hidden_and_deeper_folders_are_not() {
    let roots = Roots::new();
    write_skill(
        &roots.user,
        "collection/alpha",
        &skill_md("alpha", "A.", "", ""),
    );
    write_skill(
        &roots.user,
        "collection/deep/beta",
        &skill_md("beta", "B.", "", ""),
    );
    write_skill(&roots.user, ".hidden", &skill_md("hidden", "H.", "", ""));
    let catalog = roots.discover(&empty_env());
    let names: Vec<&str> = catalog.skills().iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["alpha"]);
    assert!(catalog.problems().is_empty());
}

#[test]
fn missing_roots_are_skipped_and_a_file_root_is_a_problem() {
    let roots = Roots::new();
    let file_root = roots.user.join("not-a-dir");
    fs::write(&file_root, "x").unwrap();
    let catalog = SkillCatalog::discover(
        &[
            SkillRoot::new(roots.user.join("absent"), SkillSource::User),
            SkillRoot::new(&file_root, SkillSource::Extra),
        ],
        &empty_env(),
    );
    assert!(catalog.skills().is_empty());
    assert_eq!(catalog.problems().len(), 1);
    assert_eq!(catalog.problems()[0].error, LoadError::NotADirectory);
}

#[test]
fn discovery_stops_after_the_skill_limit() {
    let roots = Roots::new();
    for i in 0..MAX_SKILLS + 3 {
        let name = format!("s{i:03}");
        write_skill(&roots.user, &name, &skill_md(&name, "Many.", "", ""));
    }
    let catalog = roots.discover(&empty_env());
    assert_eq!(catalog.skills().len(), MAX_SKILLS);
    assert_eq!(catalog.problems().len(), 1);
    assert_eq!(
        catalog.problems()[0].error,
        LoadError::LimitReached(MAX_SKILLS)
    );
    assert!(catalog.get("s256").is_none());
}

#[cfg(unix)]
#[test]
fn a_symlinked_skill_folder_is_found_and_resolved() {
    use std::os::unix::fs::symlink;
    let roots = Roots::new();
    let elsewhere = roots.workspace.parent().unwrap().join("elsewhere");
    write_skill(
        &elsewhere,
        "linked",
        &skill_md("linked", "Linked.", "", "Body."),
    );
    symlink(elsewhere.join("linked"), roots.user.join("linked")).unwrap();
    let catalog = roots.discover(&empty_env());
    let skill = catalog.get("linked").expect("found through the link");
    assert_eq!(
        skill.dir,
        fs::canonicalize(elsewhere.join("linked")).unwrap()
    );
}

#[test]
fn system_env_checks_path_and_variables() {
    let env = SystemEnv;
    assert!(!env.has_bin("hearth-no-such-binary-3f9c"));
    assert!(!env.has_bin("../sh"));
    assert!(!env.has_bin(""));
    assert!(!env.has_env("HEARTH_NO_SUCH_VARIABLE_3F9C"));
    #[cfg(unix)]
    assert!(env.has_bin("sh"));
    // PATH is set wherever tests run.
    assert!(env.has_env("PATH"));
}
