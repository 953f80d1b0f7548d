//! The hooks' configuration: `[[agents.<id>.hooks]]` and
//! `[[channels.<name>.hooks]]` arrays of tables, each tagged by `kind`.
//! Plain data; [`super::HookPipeline::build`] validates and compiles it.

use serde::{Deserialize, Serialize};

use super::Stage;

/// One hook of a pipeline. Hooks run in the order they are listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HookConfig {
    /// Replaces personal data with tokens such as `[email]`.
    Redact(RedactConfig),
    /// Appends a fixed text, by default to replies only.
    Disclaimer(DisclaimerConfig),
    /// Blocks or flags text that contains listed words or patterns.
    Filter(FilterConfig),
}

impl HookConfig {
    /// The optional name given in the config, used in reports and errors.
    pub fn name(&self) -> Option<&str> {
        match self {
            HookConfig::Redact(c) => c.name.as_deref(),
            HookConfig::Disclaimer(c) => c.name.as_deref(),
            HookConfig::Filter(c) => c.name.as_deref(),
        }
    }

    pub fn kind(&self) -> HookKind {
        match self {
            HookConfig::Redact(_) => HookKind::Redact,
            HookConfig::Disclaimer(_) => HookKind::Disclaimer,
            HookConfig::Filter(_) => HookKind::Filter,
        }
    }

    /// The stages this hook runs in.
    pub fn stages(&self) -> &[Stage] {
        match self {
            HookConfig::Redact(c) => &c.stages,
            HookConfig::Disclaimer(c) => &c.stages,
            HookConfig::Filter(c) => &c.stages,
        }
    }
}

/// The `kind` of a hook, for reports and errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookKind {
    Redact,
    Disclaimer,
    Filter,
}

impl HookKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HookKind::Redact => "redact",
            HookKind::Disclaimer => "disclaimer",
            HookKind::Filter => "filter",
        }
    }
}

/// `kind = "redact"`: finds personal data and replaces each span with a
/// token. Detectors run on the text as it reached the hook, in a fixed
/// priority (e-mails, cards, national ids, phones, words); a span already
/// taken by an earlier detector is not matched again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RedactConfig {
    /// A name for reports and errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// When the hook runs. Default both: the agent never sees the data
    /// and a reply never repeats it.
    #[serde(default = "both_stages")]
    pub stages: Vec<Stage>,
    /// E-mail addresses (`local@domain.tld`). Default true.
    #[serde(default = "yes")]
    pub emails: bool,
    /// Phone numbers: `+CC …` or `00 CC …`, North American
    /// `(415) 555-2671`, national numbers with a leading 0 such as
    /// `030 1234567`. Default true.
    #[serde(default = "yes")]
    pub phones: bool,
    /// Payment card numbers: 13–19 digits that pass the Luhn check, bare
    /// (starting 2–6) or grouped as printed by spaces or dashes. Default
    /// true.
    #[serde(default = "yes")]
    pub cards: bool,
    /// National identity numbers to detect, by name. Default
    /// `["us_ssn", "uk_nino", "es_dni"]`: the formats whose shape alone
    /// rarely occurs by chance. `de_tax_id` and `nl_bsn` are runs of bare
    /// digits that a random number of the same length passes about one
    /// time in ten, so they are opt-in.
    #[serde(default = "default_national_ids")]
    pub national_ids: Vec<NationalId>,
    /// Words or phrases to redact: whole words, case-insensitive; a space
    /// in a phrase matches any run of white space.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<String>,
    /// `typed` (default): `[email]`, `[phone]`, `[card]`, `[id]`, and
    /// `token` for listed words. `uniform`: `token` for everything.
    #[serde(default)]
    pub replacement: Replacement,
    /// The token for listed words (and for everything when `replacement =
    /// "uniform"`). Default `[redacted]`.
    #[serde(default = "default_token")]
    pub token: String,
}

impl Default for RedactConfig {
    /// Every detector on with its defaults, both stages, no words.
    fn default() -> Self {
        RedactConfig {
            name: None,
            stages: both_stages(),
            emails: true,
            phones: true,
            cards: true,
            national_ids: default_national_ids(),
            words: Vec::new(),
            replacement: Replacement::Typed,
            token: default_token(),
        }
    }
}

/// How redacted spans are replaced.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Replacement {
    /// A token naming what was removed: `[email]`, `[phone]`, `[card]`, `[id]`.
    #[default]
    Typed,
    /// The configured `token` for every span.
    Uniform,
}

/// A national identity number format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NationalId {
    /// US Social Security number, `123-45-6789` or `123 45 6789`; areas
    /// 000, 666 and 900–999, group 00 and serial 0000 are never issued.
    UsSsn,
    /// UK National Insurance number, `AB 12 34 56 C`, with the prefixes
    /// HMRC never allocates excluded.
    UkNino,
    /// Spanish DNI (`12345678Z`) and NIE (`X1234567L`), with the check
    /// letter verified.
    EsDni,
    /// German tax id (Steuer-IdNr), 11 digits, with the ISO 7064 check
    /// digit and the digit-repetition rule verified.
    DeTaxId,
    /// Dutch citizen service number (BSN), 9 digits passing the
    /// "elfproef" (11-test).
    NlBsn,
}

impl NationalId {
    pub const ALL: [NationalId; 5] = [
        NationalId::UsSsn,
        NationalId::UkNino,
        NationalId::EsDni,
        NationalId::DeTaxId,
        NationalId::NlBsn,
    ];
}

/// `kind = "disclaimer"`: appends a fixed text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DisclaimerConfig {
    /// A name for reports and errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The text appended; must not be empty.
    pub text: String,
    /// When the hook runs. Default `["outbound"]`: replies only.
    #[serde(default = "outbound_only")]
    pub stages: Vec<Stage>,
    /// Put between the message and the disclaimer. Default a blank line.
    #[serde(default = "default_separator")]
    pub separator: String,
    /// Leave the text alone when it already contains the disclaimer
    /// (compared ignoring differences in white space). Default true, so a
    /// reply that quotes it, or passes two pipelines, carries it once.
    #[serde(default = "yes")]
    pub skip_if_present: bool,
}

impl DisclaimerConfig {
    /// A disclaimer with the defaults: replies only, after a blank line,
    /// skipped when already present.
    pub fn new(text: impl Into<String>) -> Self {
        DisclaimerConfig {
            name: None,
            text: text.into(),
            stages: outbound_only(),
            separator: default_separator(),
            skip_if_present: true,
        }
    }
}

/// `kind = "filter"`: looks for listed words and regex patterns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterConfig {
    /// A name for reports and errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// When the hook runs. Default both.
    #[serde(default = "both_stages")]
    pub stages: Vec<Stage>,
    /// Words or phrases: whole words, case-insensitive.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<String>,
    /// Regular expressions (Rust `regex` syntax), case-sensitive unless
    /// they start with `(?i)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patterns: Vec<String>,
    /// What a match does.
    pub action: FilterAction,
    /// Shown instead of the text when it is blocked. Only for `action =
    /// "block"`; default "This message was blocked by a content filter."
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl FilterConfig {
    /// A filter for both stages with no words or patterns yet.
    pub fn new(action: FilterAction) -> Self {
        FilterConfig {
            name: None,
            stages: both_stages(),
            words: Vec::new(),
            patterns: Vec::new(),
            action,
            message: None,
        }
    }
}

/// What a content filter does with a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FilterAction {
    /// Stop the pipeline; the caller shows the filter's message instead.
    Block,
    /// Keep the text and report the match.
    Flag,
}

/// The message a blocking filter shows when none is configured.
pub const DEFAULT_BLOCK_MESSAGE: &str = "This message was blocked by a content filter.";

fn yes() -> bool {
    true
}

fn both_stages() -> Vec<Stage> {
    vec![Stage::Inbound, Stage::Outbound]
}

fn outbound_only() -> Vec<Stage> {
    vec![Stage::Outbound]
}

fn default_national_ids() -> Vec<NationalId> {
    vec![NationalId::UsSsn, NationalId::UkNino, NationalId::EsDni]
}

fn default_token() -> String {
    "[redacted]".into()
}

fn default_separator() -> String {
    "\n\n".into()
}
