//! The chain: order, stages, blocking, flagging, disclaimers, and the
//! layering of agent and channel hooks.

use super::super::{
    DEFAULT_BLOCK_MESSAGE, DisclaimerConfig, FilterAction, FilterConfig, FilterRule, HookConfig,
    HookKind, HookPipeline, HookRef, Layer, RedactConfig, Stage,
};
use super::outcome;

fn filter(action: FilterAction, words: &[&str], patterns: &[&str]) -> FilterConfig {
    FilterConfig {
        words: words.iter().map(|w| w.to_string()).collect(),
        patterns: patterns.iter().map(|p| p.to_string()).collect(),
        ..FilterConfig::new(action)
    }
}

fn disclaimer(text: &str) -> HookConfig {
    HookConfig::Disclaimer(DisclaimerConfig::new(text))
}

fn build(hooks: Vec<HookConfig>) -> HookPipeline {
    HookPipeline::build(&hooks).expect("valid hooks")
}

#[test]
fn a_block_stops_the_chain_and_carries_the_message() {
    let p = build(vec![
        HookConfig::Redact(RedactConfig::default()),
        HookConfig::Filter(FilterConfig {
            name: Some("no secrets".into()),
            message: Some("I can't send that.".into()),
            ..filter(FilterAction::Block, &["classified"], &[])
        }),
        disclaimer("Not legal advice."),
    ]);
    let out = outcome(&p, Stage::Outbound, "This is CLASSIFIED, mail a@b.io");
    let blocked = out.blocked.as_ref().expect("blocked");
    assert_eq!(blocked.message, "I can't send that.");
    assert_eq!(blocked.rule, FilterRule::Word);
    assert_eq!(blocked.matched, "CLASSIFIED");
    assert_eq!(blocked.hook.index, 1);
    assert_eq!(blocked.hook.name.as_deref(), Some("no secrets"));
    assert!(
        blocked.reason.contains("hooks[1] (filter \"no secrets\")"),
        "{}",
        blocked.reason
    );
    // The redaction before the block happened; the disclaimer after it did not.
    assert_eq!(out.redactions, 1);
    assert_eq!(out.text, "This is CLASSIFIED, mail [email]");
    assert!(out.is_blocked());

    let fine = outcome(&p, Stage::Outbound, "All clear.");
    assert!(fine.blocked.is_none());
    assert_eq!(fine.text, "All clear.\n\nNot legal advice.");
}

#[test]
fn a_block_without_a_message_uses_the_default() {
    let p = build(vec![HookConfig::Filter(filter(
        FilterAction::Block,
        &[],
        &[r"(?i)\bdrop\s+table\b"],
    ))]);
    let out = outcome(&p, Stage::Inbound, "please DROP  TABLE users");
    let blocked = out.blocked.expect("blocked");
    assert_eq!(blocked.message, DEFAULT_BLOCK_MESSAGE);
    assert_eq!(
        blocked.rule,
        FilterRule::Pattern(r"(?i)\bdrop\s+table\b".into())
    );
    assert_eq!(blocked.matched, "DROP  TABLE");
    assert!(
        outcome(&p, Stage::Inbound, "a dropped table")
            .blocked
            .is_none()
    );
}

#[test]
fn a_flag_keeps_the_text_and_reports_each_rule() {
    let p = build(vec![
        HookConfig::Filter(filter(
            FilterAction::Flag,
            &["refund"],
            &[r"\$\d+", "lawyer"],
        )),
        disclaimer("Not legal advice."),
    ]);
    let text = "Refund $40 now, refund $50 later";
    let out = outcome(&p, Stage::Outbound, text);
    assert!(out.blocked.is_none());
    assert_eq!(out.text, format!("{text}\n\nNot legal advice."));
    assert_eq!(out.flags.len(), 2, "{:?}", out.flags);
    assert_eq!(out.flags[0].rule, FilterRule::Word);
    assert_eq!(out.flags[0].matched, "Refund");
    assert_eq!(out.flags[0].count, 2);
    assert_eq!(out.flags[1].rule, FilterRule::Pattern(r"\$\d+".into()));
    assert_eq!(out.flags[1].matched, "$40");
    assert_eq!(out.flags[1].count, 2);
    assert!(outcome(&p, Stage::Outbound, "fine").flags.is_empty());
}

#[test]
fn a_filter_after_redaction_reports_tokens_not_the_data() {
    let watch = || HookConfig::Filter(filter(FilterAction::Flag, &[], &[r"\S+@\S+|\[email\]"]));
    let redact = || HookConfig::Redact(RedactConfig::default());

    let after = build(vec![redact(), watch()]);
    let out = outcome(&after, Stage::Inbound, "I am bob@example.com");
    assert_eq!(out.flags[0].matched, "[email]");

    let before = build(vec![watch(), redact()]);
    let out = outcome(&before, Stage::Inbound, "I am bob@example.com");
    assert_eq!(out.flags[0].matched, "bob@example.com");
    assert_eq!(out.text, "I am [email]");
}

#[test]
fn long_matches_are_quoted_short() {
    let p = build(vec![HookConfig::Filter(filter(
        FilterAction::Flag,
        &[],
        &["x+"],
    ))]);
    let out = outcome(&p, Stage::Inbound, &"x".repeat(500));
    assert_eq!(out.flags[0].matched, format!("{}…", "x".repeat(100)));
}

#[test]
fn the_disclaimer_is_appended_once() {
    let p = build(vec![
        disclaimer("Not legal advice."),
        disclaimer("Not legal advice."),
    ]);
    let once = outcome(&p, Stage::Outbound, "Answer.  \n").text;
    assert_eq!(once, "Answer.\n\nNot legal advice.");
    // Running the result through again changes nothing.
    assert_eq!(outcome(&p, Stage::Outbound, &once).text, once);
    // Nor does a reply that already says it, differently wrapped.
    let quoted = "Answer.\nNot legal\n   advice.";
    assert_eq!(outcome(&p, Stage::Outbound, quoted).text, quoted);
}

#[test]
fn the_disclaimer_respects_its_settings() {
    let mut config = DisclaimerConfig::new("-- sent by a bot");
    config.skip_if_present = false;
    config.separator = "\n".into();
    let p = build(vec![HookConfig::Disclaimer(config)]);
    assert_eq!(
        outcome(&p, Stage::Outbound, "hi\n-- sent by a bot").text,
        "hi\n-- sent by a bot\n-- sent by a bot"
    );
    // Outbound only by default: a message in is left alone.
    assert_eq!(outcome(&p, Stage::Inbound, "hi").text, "hi");
    // A blank reply gets no disclaimer.
    assert_eq!(outcome(&p, Stage::Outbound, "  ").text, "  ");
}

#[test]
fn hooks_run_only_in_their_stages() {
    let p = build(vec![
        HookConfig::Redact(RedactConfig {
            stages: vec![Stage::Outbound],
            ..RedactConfig::default()
        }),
        HookConfig::Filter(FilterConfig {
            stages: vec![Stage::Inbound],
            ..filter(FilterAction::Block, &["stop"], &[])
        }),
    ]);
    let inbound = outcome(&p, Stage::Inbound, "a@b.io");
    assert_eq!(inbound.text, "a@b.io");
    assert!(outcome(&p, Stage::Inbound, "stop").is_blocked());
    assert_eq!(outcome(&p, Stage::Outbound, "a@b.io").text, "[email]");
    assert!(!outcome(&p, Stage::Outbound, "stop").is_blocked());
    assert_eq!(p.hooks_for(Stage::Inbound).count(), 1);
    assert_eq!(p.hooks_for(Stage::Outbound).count(), 1);
}

#[test]
fn empty_pipelines_change_nothing() {
    let p = HookPipeline::build(&[]).unwrap();
    assert!(p.is_empty());
    assert!(p.is_empty_for(Stage::Inbound) && p.is_empty_for(Stage::Outbound));
    let out = outcome(&p, Stage::Inbound, "a@b.io");
    assert_eq!((out.text.as_str(), out.redactions), ("a@b.io", 0));

    let only_out = build(vec![disclaimer("x")]);
    assert!(!only_out.is_empty());
    assert!(only_out.is_empty_for(Stage::Inbound));
    assert!(!only_out.is_empty_for(Stage::Outbound));
    assert!(HookPipeline::default().is_empty());
}

fn layered() -> HookPipeline {
    let agent = vec![
        disclaimer("Agent note."),
        HookConfig::Filter(filter(FilterAction::Block, &["falcon"], &[])),
    ];
    let channel = vec![
        HookConfig::Redact(RedactConfig {
            words: vec!["falcon".into()],
            ..RedactConfig::default()
        }),
        disclaimer("Channel note."),
    ];
    HookPipeline::build_layered(&agent, &channel).unwrap()
}

#[test]
fn layered_inbound_runs_the_channel_first() {
    let p = layered();
    // The channel's redaction removes the word before the agent's filter
    // looks, so nothing is blocked.
    let out = outcome(&p, Stage::Inbound, "about falcon");
    assert!(out.blocked.is_none());
    assert_eq!(out.text, "about [redacted]");
    let order: Vec<(Option<Layer>, usize)> = p
        .hooks_for(Stage::Inbound)
        .map(|h| (h.layer, h.index))
        .collect();
    assert_eq!(order, [(Some(Layer::Channel), 0), (Some(Layer::Agent), 1)]);
}

#[test]
fn layered_outbound_runs_the_agent_first() {
    let p = layered();
    let out = outcome(&p, Stage::Outbound, "Done.");
    assert_eq!(out.text, "Done.\n\nAgent note.\n\nChannel note.");
    // The agent's filter sees the reply before the channel redacts it.
    let blocked = outcome(&p, Stage::Outbound, "about falcon")
        .blocked
        .unwrap();
    assert_eq!(
        blocked.hook,
        HookRef {
            layer: Some(Layer::Agent),
            index: 1,
            kind: HookKind::Filter,
            name: None
        }
    );
    let order: Vec<(Option<Layer>, usize)> = p
        .hooks_for(Stage::Outbound)
        .map(|h| (h.layer, h.index))
        .collect();
    assert_eq!(
        order,
        [
            (Some(Layer::Agent), 0),
            (Some(Layer::Agent), 1),
            (Some(Layer::Channel), 0),
            (Some(Layer::Channel), 1)
        ]
    );
}

#[test]
fn plain_build_runs_config_order_in_both_stages() {
    let p = build(vec![disclaimer("one"), {
        let mut second = DisclaimerConfig::new("two");
        second.stages = vec![Stage::Inbound, Stage::Outbound];
        HookConfig::Disclaimer(second)
    }]);
    assert_eq!(outcome(&p, Stage::Outbound, "x").text, "x\n\none\n\ntwo");
    assert_eq!(outcome(&p, Stage::Inbound, "x").text, "x\n\ntwo");
}
