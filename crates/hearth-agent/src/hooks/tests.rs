//! Tests of the hook pipeline: each detector's matches and near misses,
//! the order hooks run in, and the configuration.

mod config;
mod ids;
mod numbers;
mod pipeline;
mod text;

use super::{HookConfig, HookOutcome, HookPipeline, NationalId, RedactConfig, Stage};

/// The pipeline of one redact hook.
fn redactor(config: RedactConfig) -> HookPipeline {
    HookPipeline::build(&[HookConfig::Redact(config)]).expect("valid redact hook")
}

/// `text` through a redact hook with every default.
fn redact(text: &str) -> String {
    redactor(RedactConfig::default())
        .apply(Stage::Inbound, text)
        .text
}

/// `text` through a redact hook with only the national ids `ids` on.
fn redact_ids(ids: &[NationalId], text: &str) -> String {
    redactor(RedactConfig {
        emails: false,
        phones: false,
        cards: false,
        national_ids: ids.to_vec(),
        ..RedactConfig::default()
    })
    .apply(Stage::Inbound, text)
    .text
}

/// Asserts that each text redacts to the expected one under the defaults.
#[track_caller]
fn assert_redacts(cases: &[(&str, &str)]) {
    for (input, expected) in cases {
        assert_eq!(redact(input), *expected, "input: {input:?}");
    }
}

/// Asserts that the defaults leave each text as it is.
#[track_caller]
fn assert_untouched(texts: &[&str]) {
    for text in texts {
        assert_eq!(redact(text), *text, "should be left alone: {text:?}");
    }
}

fn outcome(pipeline: &HookPipeline, stage: Stage, text: &str) -> HookOutcome {
    pipeline.apply(stage, text)
}
