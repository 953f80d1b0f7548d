//! The TOML shape, its defaults, and the settings `build` refuses.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::super::{
    FilterAction, FilterConfig, HookConfig, HookConfigError, HookPipeline, HookProblem, Layer,
    NationalId, RedactConfig, Replacement, Stage, WordReason,
};

/// The part of the daemon's config that holds hooks.
#[derive(Debug, Deserialize)]
struct Config {
    #[serde(default)]
    agents: BTreeMap<String, Section>,
    #[serde(default)]
    channels: BTreeMap<String, Section>,
}

#[derive(Debug, Deserialize)]
struct Section {
    #[serde(default)]
    hooks: Vec<HookConfig>,
}

fn parse(toml_text: &str) -> Result<Config, String> {
    toml::from_str(toml_text).map_err(|e| e.to_string())
}

/// The first TOML block of docs/hooks.md, so the documented example is
/// one that parses and behaves as the page says.
fn documented_example() -> &'static str {
    let page = include_str!("../../../../../docs/hooks.md");
    let start = page.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let len = page[start..].find("```").expect("the block's end");
    &page[start..start + len]
}

#[test]
fn the_documented_example_parses_with_its_defaults() {
    let config = parse(documented_example()).unwrap();
    let agent = &config.agents["main"].hooks;
    let channel = &config.channels["support"].hooks;
    let HookConfig::Redact(redact) = &agent[0] else {
        panic!("{:?}", agent[0]);
    };
    assert_eq!(redact.stages, [Stage::Inbound, Stage::Outbound]);
    assert!(redact.emails && redact.phones && redact.cards);
    assert_eq!(
        redact.national_ids,
        [NationalId::UsSsn, NationalId::UkNino, NationalId::DeTaxId]
    );
    assert_eq!(redact.replacement, Replacement::Typed);
    assert_eq!(redact.token, "[redacted]");
    let HookConfig::Filter(filter) = &agent[1] else {
        panic!("{:?}", agent[1]);
    };
    assert_eq!(filter.action, FilterAction::Block);
    assert_eq!(agent[1].name(), Some("no credentials"));
    let HookConfig::Disclaimer(disclaimer) = &channel[1] else {
        panic!("{:?}", channel[1]);
    };
    assert_eq!(disclaimer.stages, [Stage::Outbound]);
    assert_eq!(disclaimer.separator, "\n\n");
    assert!(disclaimer.skip_if_present);

    let p = HookPipeline::build_layered(agent, channel).unwrap();
    let out = p.apply(Stage::Outbound, "Ask Project  Falcon: password = hunter2");
    assert!(out.is_blocked());
    let out = p.apply(Stage::Inbound, "I want a refund, call +44 20 7946 0958");
    assert_eq!(out.text, "I want a refund, call [phone]");
    assert_eq!(out.flags.len(), 1);
}

#[test]
fn a_config_survives_a_round_trip() {
    let config = parse(documented_example()).unwrap();
    let hooks = &config.agents["main"].hooks;
    #[derive(serde::Serialize, Deserialize)]
    struct List {
        hooks: Vec<HookConfig>,
    }
    let written = toml::to_string(&List {
        hooks: hooks.clone(),
    })
    .unwrap();
    let read: List = toml::from_str(&written).unwrap();
    assert_eq!(&read.hooks, hooks, "{written}");
}

#[test]
fn unknown_fields_kinds_and_names_are_refused_clearly() {
    let typo = parse("[[agents.a.hooks]]\nkind = \"redact\"\nemail = false\n").unwrap_err();
    assert!(typo.contains("unknown field `email`"), "{typo}");
    assert!(
        typo.contains("emails"),
        "should list the known fields: {typo}"
    );

    let kind = parse("[[agents.a.hooks]]\nkind = \"redcat\"\n").unwrap_err();
    assert!(kind.contains("unknown variant `redcat`"), "{kind}");

    let id =
        parse("[[agents.a.hooks]]\nkind = \"redact\"\nnational_ids = [\"fr_nir\"]\n").unwrap_err();
    assert!(id.contains("unknown variant `fr_nir`"), "{id}");

    let action = parse("[[agents.a.hooks]]\nkind = \"filter\"\nwords = [\"x\"]\n").unwrap_err();
    assert!(action.contains("missing field `action`"), "{action}");

    let stage =
        parse("[[agents.a.hooks]]\nkind = \"disclaimer\"\ntext = \"x\"\nstages = [\"both\"]\n")
            .unwrap_err();
    assert!(stage.contains("unknown variant `both`"), "{stage}");
}

fn problem(hooks: Vec<HookConfig>) -> HookConfigError {
    HookPipeline::build(&hooks).expect_err("should be refused")
}

#[test]
fn an_invalid_pattern_is_refused_naming_the_hook_and_pattern() {
    let err = problem(vec![
        HookConfig::Redact(RedactConfig::default()),
        HookConfig::Filter(FilterConfig {
            patterns: vec!["fine".into(), "(unclosed".into()],
            ..FilterConfig::new(FilterAction::Block)
        }),
    ]);
    assert_eq!(err.hook.index, 1);
    let HookProblem::InvalidPattern { pattern, .. } = &err.problem else {
        panic!("{err}");
    };
    assert_eq!(pattern, "(unclosed");
    let shown = err.to_string();
    assert!(
        shown.starts_with("hooks[1] (filter): pattern \"(unclosed\""),
        "{shown}"
    );
}

#[test]
fn a_pattern_matching_everything_is_refused() {
    let err = problem(vec![HookConfig::Filter(FilterConfig {
        patterns: vec!["a*".into()],
        ..FilterConfig::new(FilterAction::Flag)
    })]);
    assert!(err.to_string().contains("empty string"), "{err}");
}

#[test]
fn a_layered_error_names_the_layer() {
    let bad = HookConfig::Filter(FilterConfig {
        patterns: vec!["[".into()],
        ..FilterConfig::new(FilterAction::Flag)
    });
    let ok = HookConfig::Redact(RedactConfig::default());
    let err = HookPipeline::build_layered(std::slice::from_ref(&ok), &[ok.clone(), bad.clone()])
        .unwrap_err();
    assert_eq!((err.hook.layer, err.hook.index), (Some(Layer::Channel), 1));
    assert!(
        err.to_string().starts_with("channel hooks[1] (filter)"),
        "{err}"
    );
    let err = HookPipeline::build_layered(&[bad], &[ok]).unwrap_err();
    assert!(
        err.to_string().starts_with("agent hooks[0] (filter)"),
        "{err}"
    );
}

fn parsed_problem(toml_text: &str) -> HookProblem {
    let config = parse(toml_text).unwrap();
    HookPipeline::build(&config.agents["a"].hooks)
        .expect_err("should be refused")
        .problem
}

/// A hook's TOML body and a test of the problem it must be refused with.
type Case = (&'static str, fn(&HookProblem) -> bool);

#[test]
fn settings_that_cannot_work_are_refused() {
    let cases: &[Case] = &[
        ("kind = \"disclaimer\"\ntext = \"  \"", |p| {
            matches!(p, HookProblem::EmptyText)
        }),
        ("kind = \"disclaimer\"\ntext = \"x\"\nstages = []", |p| {
            matches!(p, HookProblem::NoStages)
        }),
        ("kind = \"filter\"\naction = \"block\"", |p| {
            matches!(p, HookProblem::NothingToFilter)
        }),
        (
            "kind = \"filter\"\naction = \"block\"\nwords = [\"x\"]\nmessage = \" \"",
            |p| matches!(p, HookProblem::EmptyMessage),
        ),
        (
            "kind = \"filter\"\naction = \"flag\"\nwords = [\"x\"]\nmessage = \"no\"",
            |p| matches!(p, HookProblem::MessageWithoutBlock),
        ),
        (
            "kind = \"filter\"\naction = \"flag\"\nwords = [\"\"]",
            |p| {
                matches!(
                    p,
                    HookProblem::BadWord {
                        reason: WordReason::Empty,
                        ..
                    }
                )
            },
        ),
        (
            "kind = \"filter\"\naction = \"flag\"\nwords = [\" x\"]",
            |p| {
                matches!(
                    p,
                    HookProblem::BadWord {
                        reason: WordReason::SurroundingSpace,
                        ..
                    }
                )
            },
        ),
        ("kind = \"redact\"\nwords = [\"a\\nb\"]", |p| {
            matches!(
                p,
                HookProblem::BadWord {
                    reason: WordReason::ControlCharacter,
                    ..
                }
            )
        }),
        (
            "kind = \"redact\"\nemails = false\nphones = false\ncards = false\nnational_ids = []",
            |p| matches!(p, HookProblem::NothingToRedact),
        ),
        ("kind = \"redact\"\ntoken = \"\"", |p| {
            matches!(p, HookProblem::EmptyToken)
        }),
        ("kind = \"redact\"\nname = \"\"", |p| {
            matches!(p, HookProblem::EmptyName)
        }),
    ];
    for (body, expected) in cases {
        let problem = parsed_problem(&format!("[[agents.a.hooks]]\n{body}\n"));
        assert!(expected(&problem), "{body}: got {problem:?}");
    }
}

#[test]
fn word_lists_are_bounded() {
    let err = problem(vec![HookConfig::Redact(RedactConfig {
        words: (0..5_001).map(|i| format!("w{i}")).collect(),
        ..RedactConfig::default()
    })]);
    assert!(
        matches!(err.problem, HookProblem::TooMany { count: 5_001, .. }),
        "{err}"
    );
    let big = HookPipeline::build(&[HookConfig::Redact(RedactConfig {
        words: (0..5_000).map(|i| format!("wörd{i}")).collect(),
        ..RedactConfig::default()
    })])
    .expect("the largest allowed list compiles");
    assert_eq!(
        big.apply(Stage::Inbound, "a WÖRD4999 b").text,
        "a [redacted] b"
    );
}

#[test]
fn the_json_schema_describes_every_kind() {
    let schema = serde_json::to_string(&schemars::schema_for!(HookConfig)).unwrap();
    for needle in [
        "\"redact\"",
        "\"disclaimer\"",
        "\"filter\"",
        "national_ids",
        "uk_nino",
    ] {
        assert!(schema.contains(needle), "{needle} missing from the schema");
    }
}
