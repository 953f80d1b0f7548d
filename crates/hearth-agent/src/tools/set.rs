//! [`ToolSet`]: the tools offered in one turn, by name, and the check of a
//! call's arguments against the tool's schema before it runs.

use std::collections::BTreeMap;
use std::sync::Arc;

use hearth_core::{Tool, ToolCall, ToolError, ToolSpec};

/// Errors listed back to the model after the first, so it can fix several
/// fields at once without a huge message.
const MORE_ERRORS_SHOWN: usize = 3;

/// The tools of one turn. Built per turn from a [`super::ToolSource`] and
/// the agent's and channel's policies, so a tool added or removed (an MCP
/// server reconnecting) shows at the next turn.
#[derive(Debug, Clone, Default)]
pub struct ToolSet {
    tools: BTreeMap<String, Arc<dyn Tool>>,
    specs: Vec<ToolSpec>,
}

impl ToolSet {
    /// A set of `tools`. When two share a name the first wins, with a
    /// warning: names are how the model addresses them.
    pub fn new(tools: impl IntoIterator<Item = Arc<dyn Tool>>) -> Self {
        Self::with_specs(tools.into_iter().map(|tool| {
            let spec = tool.spec();
            (tool, spec)
        }))
    }

    /// A set of tools whose specs were already taken (building a spec
    /// generates a schema: done once per tool per turn).
    pub fn with_specs(tools: impl IntoIterator<Item = (Arc<dyn Tool>, ToolSpec)>) -> Self {
        let mut set = Self::default();
        for (tool, spec) in tools {
            if set.tools.contains_key(&spec.name) {
                tracing::warn!(tool = %spec.name, "two tools share a name; keeping the first");
                continue;
            }
            set.tools.insert(spec.name.clone(), tool);
            set.specs.push(spec);
        }
        set
    }

    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    pub fn len(&self) -> usize {
        self.tools.len()
    }

    /// What the model is offered, in the order the tools were given.
    pub fn specs(&self) -> &[ToolSpec] {
        &self.specs
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tools.keys().map(String::as_str)
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Tool>> {
        self.tools.get(name)
    }

    /// Finds the called tool and checks its arguments. The error is written
    /// for the model: it says what is wrong and what would be right.
    pub fn resolve(
        &self,
        call: &ToolCall,
    ) -> Result<(&Arc<dyn Tool>, serde_json::Value), ToolError> {
        let Some(tool) = self.tools.get(&call.name) else {
            let known: Vec<&str> = self.names().collect();
            return Err(ToolError::InvalidArguments(format!(
                "there is no tool named {:?}; the tools are: {}",
                call.name,
                known.join(", ")
            )));
        };
        let arguments = parse_arguments(&call.arguments)?;
        let spec = self
            .specs
            .iter()
            .find(|s| s.name == call.name)
            .expect("every tool has its spec");
        validate(&spec.parameters, &arguments)?;
        Ok((tool, arguments))
    }
}

/// Parses the model's argument text. Empty text means no arguments (some
/// models send `""` for a tool without parameters).
fn parse_arguments(text: &str) -> Result<serde_json::Value, ToolError> {
    if text.trim().is_empty() {
        return Ok(serde_json::Value::Object(Default::default()));
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        ToolError::InvalidArguments(format!("the arguments are not valid JSON ({e})"))
    })?;
    if !value.is_object() {
        return Err(ToolError::InvalidArguments(format!(
            "the arguments must be a JSON object, not {value}"
        )));
    }
    Ok(value)
}

/// Checks `arguments` against a JSON Schema. A schema that does not
/// compile is the tool's fault, not the model's, and is reported as a
/// failure. Compiled per call: calls are rare next to model tokens, and
/// this keeps no cache to bound.
pub fn validate(
    schema: &serde_json::Value,
    arguments: &serde_json::Value,
) -> Result<(), ToolError> {
    let validator = jsonschema::validator_for(schema)
        .map_err(|e| ToolError::Failed(format!("the tool's own schema is invalid: {e}")))?;
    let errors: Vec<String> = validator
        .iter_errors(arguments)
        .map(|error| {
            let at = error.instance_path().as_str().to_owned();
            if at.is_empty() {
                error.to_string()
            } else {
                format!("{at}: {error}")
            }
        })
        .collect();
    let Some(first) = errors.first() else {
        return Ok(());
    };
    let mut message = first.clone();
    if errors.len() > 1 {
        let more: Vec<&str> = errors[1..]
            .iter()
            .take(MORE_ERRORS_SHOWN)
            .map(String::as_str)
            .collect();
        message.push_str("; also ");
        message.push_str(&more.join("; "));
        if errors.len() - 1 > MORE_ERRORS_SHOWN {
            message.push_str(&format!(
                "; and {} more",
                errors.len() - 1 - MORE_ERRORS_SHOWN
            ));
        }
    }
    Err(ToolError::InvalidArguments(message))
}
