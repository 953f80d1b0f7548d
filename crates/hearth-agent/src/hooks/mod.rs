//! Pre- and post-processing hooks: a pipeline of redaction, disclaimer
//! and content-filter hooks run over a message before the agent sees it
//! ([`Stage::Inbound`]) and over a reply before it is sent
//! ([`Stage::Outbound`]).
//!
//! - `config`: the TOML shape, `[[agents.<id>.hooks]]` and
//!   `[[channels.<name>.hooks]]`, tagged by `kind` ([`HookConfig`]).
//! - [`HookPipeline::build`] validates and compiles a list (every regex
//!   once, here); it touches no file or network, so a config check or a
//!   hot reload can refuse bad hooks without side effects.
//! - [`HookPipeline::apply`] runs the hooks of one stage in order over a
//!   text and reports a [`HookOutcome`]: the new text, how many spans were
//!   redacted, the flags raised, and whether a filter blocked it. Once a
//!   hook blocks, the hooks after it do not run.
//! - `redact` with its detectors (`cards`, `national`, `phone`, `words`,
//!   `edges`, `checksum`), `disclaimer` and `filter` are the hooks;
//!   `outcome` holds what a run reports, `error` why a list was refused.
//!
//! What the caller does with an outcome: a blocked inbound message is not
//! given to the model, and the block's message is the reply; a blocked
//! reply is replaced by the message. Flags are for logs and the audit
//! trail; a flagged text goes on unchanged. The matched text a flag or
//! block quotes is the text as that hook saw it: put a filter after a
//! redact hook and its reports carry tokens, not personal data.
//!
//! Hooks will become tools of the plugin system; this is the pipeline
//! they will run in.

mod cards;
mod checksum;
mod config;
mod disclaimer;
mod edges;
mod error;
mod filter;
mod national;
mod outcome;
mod phone;
mod redact;
mod words;

use serde::{Deserialize, Serialize};

pub use config::{
    DEFAULT_BLOCK_MESSAGE, DisclaimerConfig, FilterAction, FilterConfig, HookConfig, HookKind,
    NationalId, RedactConfig, Replacement,
};
pub use error::{HookConfigError, HookProblem, WordReason};
pub use filter::FilterRule;
pub use outcome::{Blocked, Flag, HookOutcome, HookRef, Layer};

use disclaimer::Disclaimer;
use filter::Filter;
use redact::Redactor;

/// Longest hook name, in characters.
const MAX_NAME_CHARS: usize = 64;

/// Which way a text is going.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// A user's message, before the agent sees it.
    Inbound,
    /// The agent's reply, before it is sent.
    Outbound,
}

/// A compiled list of hooks and the order each stage runs them in.
#[derive(Debug, Clone, Default)]
pub struct HookPipeline {
    hooks: Vec<Compiled>,
    /// Indices into `hooks` of those that run inbound, in running order.
    inbound: Vec<usize>,
    /// The same for outbound.
    outbound: Vec<usize>,
}

#[derive(Debug, Clone)]
struct Compiled {
    hook: HookRef,
    stages: Vec<Stage>,
    action: Action,
}

#[derive(Debug, Clone)]
enum Action {
    Redact(Redactor),
    Disclaimer(Disclaimer),
    Filter(Filter),
}

impl HookPipeline {
    /// Validates and compiles `configs` (every regex is compiled here, once:
    /// patterns that do not compile, empty texts, empty or oversized word
    /// lists are refused, naming the hook). Touches no file or network.
    /// Both stages run the hooks in list order.
    pub fn build(configs: &[HookConfig]) -> Result<HookPipeline, HookConfigError> {
        let hooks = compile_all(configs, None)?;
        let all: Vec<usize> = (0..hooks.len()).collect();
        Ok(HookPipeline::ordered(hooks, &all, &all))
    }

    /// The pipeline of an agent answering on a channel. The channel is the
    /// outer layer and the agent the inner one, like nested middleware:
    ///
    /// - inbound, the channel's hooks run first, then the agent's: the
    ///   channel's rules hold for everything that arrives on it, whichever
    ///   agent answers, and the agent's hooks see text that already meets
    ///   them (redacted before an agent's filter quotes it in a report);
    /// - outbound, the agent's hooks run first, then the channel's: the
    ///   channel has the last word on everything sent through it, so its
    ///   filter and redaction also cover what the agent's hooks added,
    ///   and its disclaimer ends up last, below the agent's.
    ///
    /// An error names the layer and the hook's index within its list.
    pub fn build_layered(
        agent: &[HookConfig],
        channel: &[HookConfig],
    ) -> Result<HookPipeline, HookConfigError> {
        let mut hooks = compile_all(agent, Some(Layer::Agent))?;
        hooks.extend(compile_all(channel, Some(Layer::Channel))?);
        let agent_part: Vec<usize> = (0..agent.len()).collect();
        let channel_part: Vec<usize> = (agent.len()..hooks.len()).collect();
        let inbound = [channel_part.as_slice(), &agent_part].concat();
        let outbound = [agent_part.as_slice(), &channel_part].concat();
        Ok(HookPipeline::ordered(hooks, &inbound, &outbound))
    }

    /// Keeps, for each stage, the hooks of `order` configured for it.
    fn ordered(hooks: Vec<Compiled>, inbound: &[usize], outbound: &[usize]) -> HookPipeline {
        let runs_in = |stage: Stage, order: &[usize]| -> Vec<usize> {
            order
                .iter()
                .copied()
                .filter(|&i| hooks[i].stages.contains(&stage))
                .collect()
        };
        let inbound = runs_in(Stage::Inbound, inbound);
        let outbound = runs_in(Stage::Outbound, outbound);
        HookPipeline {
            hooks,
            inbound,
            outbound,
        }
    }

    /// True when no hook is configured.
    pub fn is_empty(&self) -> bool {
        self.hooks.is_empty()
    }

    /// True when no hook runs in `stage`, so `apply` would return the text
    /// unchanged.
    pub fn is_empty_for(&self, stage: Stage) -> bool {
        self.order(stage).is_empty()
    }

    /// The hooks that run in `stage`, in running order.
    pub fn hooks_for(&self, stage: Stage) -> impl Iterator<Item = &HookRef> {
        self.order(stage).iter().map(|&i| &self.hooks[i].hook)
    }

    fn order(&self, stage: Stage) -> &[usize] {
        match stage {
            Stage::Inbound => &self.inbound,
            Stage::Outbound => &self.outbound,
        }
    }

    /// Runs the hooks of `stage` in order over `text`. A blocking filter
    /// that matches stops the run.
    pub fn apply(&self, stage: Stage, text: &str) -> HookOutcome {
        let mut outcome = HookOutcome {
            text: text.to_owned(),
            blocked: None,
            flags: Vec::new(),
            redactions: 0,
        };
        for &i in self.order(stage) {
            let Compiled { hook, action, .. } = &self.hooks[i];
            match action {
                Action::Redact(redactor) => {
                    if let Some((text, count)) = redactor.redact(&outcome.text) {
                        outcome.text = text;
                        outcome.redactions += count;
                    }
                }
                Action::Disclaimer(disclaimer) => disclaimer.apply(&mut outcome.text),
                Action::Filter(filter) if filter.action == FilterAction::Block => {
                    if let Some(hit) = filter.hits(&outcome.text, true).into_iter().next() {
                        let reason = format!("{hook}: {} matched {:?}", hit.rule, hit.matched);
                        outcome.blocked = Some(Blocked {
                            hook: hook.clone(),
                            rule: hit.rule,
                            matched: hit.matched,
                            reason,
                            message: filter.message.clone(),
                        });
                        break;
                    }
                }
                Action::Filter(filter) => {
                    outcome
                        .flags
                        .extend(
                            filter
                                .hits(&outcome.text, false)
                                .into_iter()
                                .map(|hit| Flag {
                                    hook: hook.clone(),
                                    rule: hit.rule,
                                    matched: hit.matched,
                                    count: hit.count,
                                }),
                        );
                }
            }
        }
        outcome
    }
}

fn compile_all(
    configs: &[HookConfig],
    layer: Option<Layer>,
) -> Result<Vec<Compiled>, HookConfigError> {
    configs
        .iter()
        .enumerate()
        .map(|(index, config)| {
            let hook = HookRef {
                layer,
                index,
                kind: config.kind(),
                name: config.name().map(str::to_owned),
            };
            match compile(config) {
                Ok(action) => Ok(Compiled {
                    hook,
                    stages: config.stages().to_vec(),
                    action,
                }),
                Err(problem) => Err(HookConfigError { hook, problem }),
            }
        })
        .collect()
}

fn compile(config: &HookConfig) -> Result<Action, HookProblem> {
    if let Some(name) = config.name() {
        if name.trim().is_empty() {
            return Err(HookProblem::EmptyName);
        }
        let len = name.chars().count();
        if len > MAX_NAME_CHARS {
            return Err(HookProblem::TooLong {
                field: "name",
                len,
                max: MAX_NAME_CHARS,
            });
        }
    }
    if config.stages().is_empty() {
        return Err(HookProblem::NoStages);
    }
    Ok(match config {
        HookConfig::Redact(c) => Action::Redact(Redactor::build(c)?),
        HookConfig::Disclaimer(c) => Action::Disclaimer(Disclaimer::build(c)?),
        HookConfig::Filter(c) => Action::Filter(Filter::build(c)?),
    })
}

#[cfg(test)]
mod tests;
