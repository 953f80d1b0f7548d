//! Renders a GGUF model's Hugging Face (Jinja) chat template into a prompt, falling back to a
//! prompted `<tool_call>` format when the template itself knows nothing about tools.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use hearth_core::{ChatMessage, Role, ToolCall, ToolSpec};
use minijinja::value::{Enumerator, Kwargs, Object, ObjectRepr, Value, ValueKind};
use minijinja::{AutoEscape, Environment, Error, ErrorKind};
use serde_json::Value as JsonValue;

/// Name the template is registered under; it shows up in error locations (`chat_template:3`).
const TEMPLATE_NAME: &str = "chat_template";

/// Opens a tool call in the prompted (Hermes/Qwen style) format.
pub const TOOL_CALL_OPEN: &str = "<tool_call>";
/// Closes a tool call in the prompted format.
pub const TOOL_CALL_CLOSE: &str = "</tool_call>";

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("the model's chat template does not compile: {0}")]
    Compile(String),
    #[error("the model's chat template failed to render: {0}")]
    Render(String),
}

/// A compiled chat template plus the special tokens it is rendered with.
#[derive(Debug)]
pub struct ChatTemplate {
    env: Environment<'static>,
    bos_token: String,
    eos_token: String,
    supports_tools: bool,
}

impl ChatTemplate {
    pub fn new(source: &str, bos_token: &str, eos_token: &str) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        // Mirror transformers' `ImmutableSandboxedEnvironment(trim_blocks=True,
        // lstrip_blocks=True)`: templates are written against that whitespace handling.
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        // Prompts are plain text; HTML-escaping would corrupt them.
        env.set_auto_escape_callback(|_| AutoEscape::None);
        // Compile errors then quote the offending template line (render errors opt out).
        env.set_debug(true);
        // Python `str`/`dict`/`list` methods (`.strip()`, `.items()`, ...) that HF templates call.
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", raise_exception);
        env.add_function("strftime_now", strftime_now);
        // minijinja's own `tojson` is HTML-safe (`'` becomes `\u0027`) and compact; models were
        // trained on Python's `json.dumps` output, so replace it.
        env.add_filter("tojson", tojson);
        let compile_error = |err: Error| TemplateError::Compile(format!("{err:#}"));
        env.add_template_owned(TEMPLATE_NAME, replace_generation_tags(source))
            .map_err(compile_error)?;
        let template = env.get_template(TEMPLATE_NAME).map_err(compile_error)?;
        // Static analysis rather than a text search, so `tools` inside a string or comment
        // does not count.
        let supports_tools = template.undeclared_variables(false).contains("tools");
        Ok(Self {
            env,
            bos_token: bos_token.to_owned(),
            eos_token: eos_token.to_owned(),
            supports_tools,
        })
    }

    /// Whether the template itself renders a `tools` list (HF templates that mention `tools`).
    pub fn supports_tools(&self) -> bool {
        self.supports_tools
    }

    /// The prompt text for `messages`, ending with the assistant header when `add_generation_prompt`.
    pub fn render(
        &self,
        messages: &[ChatMessage],
        tools: &[ToolSpec],
        add_generation_prompt: bool,
    ) -> Result<String, TemplateError> {
        let tool_traffic = |m: &ChatMessage| m.role == Role::Tool || !m.tool_calls.is_empty();
        let uses_tools = !tools.is_empty() || messages.iter().any(tool_traffic);
        let prompted;
        let (messages, tools) = if self.supports_tools || !uses_tools {
            (messages, tools)
        } else {
            prompted = prompted_messages(messages, tools);
            (prompted.as_slice(), &[][..])
        };
        let messages = messages.iter().map(message_value).collect::<Vec<_>>();
        // HF passes `tools=None` when there are none; templates test `if tools`.
        let tools = (!tools.is_empty()).then(|| tools.iter().map(tool_value).collect::<Vec<_>>());
        let ctx = minijinja::context! {
            messages => Value::from(messages),
            tools => Value::from(tools),
            bos_token => &self.bos_token,
            eos_token => &self.eos_token,
            add_generation_prompt => add_generation_prompt,
        };
        self.env
            .get_template(TEMPLATE_NAME)
            .and_then(|template| template.render(ctx))
            .map_err(render_error)
    }
}

/// `{err}` already names the failing `chat_template:LINE`. `{err:#}` would add
/// "Referenced variables", i.e. the whole conversation, to every logged render error, so
/// only the cause chain is appended (filters such as `tojson` report details there).
fn render_error(err: Error) -> TemplateError {
    let causes = std::iter::successors(std::error::Error::source(&err), |cause| cause.source());
    TemplateError::Render(causes.fold(err.to_string(), |text, cause| format!("{text}: {cause}")))
}

/// The system-prompt block that teaches a tool-unaware model the `<tool_call>` format.
pub fn tool_instructions(tools: &[ToolSpec]) -> String {
    let mut out = String::from(
        "# Tools\n\nYou may call one or more tools to help with the user's request. \
         The tools are described by JSON objects within <tools></tools> tags:\n<tools>\n",
    );
    for tool in tools {
        // Built by hand so `name` comes first whatever serde_json's map ordering is.
        out.push_str(&format!(
            "{{\"name\": {}, \"description\": {}, \"parameters\": {}}}\n",
            JsonValue::String(tool.name.clone()),
            JsonValue::String(tool.description.clone()),
            tool.parameters
        ));
    }
    out.push_str(&format!(
        "</tools>\n\nTo call a tool, reply with exactly:\n\
         {TOOL_CALL_OPEN}{{\"name\": \"<tool name>\", \"arguments\": {{...}}}}{TOOL_CALL_CLOSE}\n\
         with the arguments as a JSON object matching the tool's parameters, one \
         {TOOL_CALL_OPEN} block per call. Tool results come back inside \
         <tool_response></tool_response> tags."
    ));
    out
}

/// Rewrites tool traffic into plain system/user/assistant text for templates without tool
/// support, so the model still sees the tools, its earlier calls and their results.
fn prompted_messages(messages: &[ChatMessage], tools: &[ToolSpec]) -> Vec<ChatMessage> {
    let mut out: Vec<ChatMessage> = Vec::with_capacity(messages.len() + 1);
    let mut last_was_tool = false;
    for message in messages {
        let is_tool = message.role == Role::Tool;
        match message.role {
            Role::Tool => {
                let response = format!("<tool_response>\n{}\n</tool_response>", message.content);
                match out.last_mut() {
                    // Merge consecutive results so strict templates still see user/assistant
                    // alternation.
                    Some(prev) if last_was_tool => {
                        prev.content.push('\n');
                        prev.content.push_str(&response);
                    }
                    _ => out.push(plain(Role::User, response)),
                }
            }
            Role::Assistant if !message.tool_calls.is_empty() => {
                let calls = message.tool_calls.iter().map(prompted_call);
                let text = Some(message.content.clone()).filter(|text| !text.is_empty());
                let content = text.into_iter().chain(calls).collect::<Vec<_>>();
                out.push(plain(Role::Assistant, content.join("\n")));
            }
            role => out.push(plain(role, message.content.clone())),
        }
        last_was_tool = is_tool;
    }
    if !tools.is_empty() {
        let instructions = tool_instructions(tools);
        match out.first_mut() {
            Some(first) if first.role == Role::System => {
                if !first.content.is_empty() {
                    first.content.push_str("\n\n");
                }
                first.content.push_str(&instructions);
            }
            _ => out.insert(0, plain(Role::System, instructions)),
        }
    }
    out
}

fn plain(role: Role, content: String) -> ChatMessage {
    ChatMessage {
        role,
        content,
        tool_calls: Vec::new(),
        tool_call_id: None,
    }
}

/// `<tool_call>{"name": .., "arguments": ..}</tool_call>` with compact arguments, as the
/// instructions ask the model to write it; arguments that are not JSON become a JSON string.
fn prompted_call(call: &ToolCall) -> String {
    let arguments = serde_json::from_str::<JsonValue>(&call.arguments)
        .unwrap_or_else(|_| JsonValue::String(call.arguments.clone()));
    let name = JsonValue::String(call.name.clone());
    format!("{TOOL_CALL_OPEN}{{\"name\": {name}, \"arguments\": {arguments}}}{TOOL_CALL_CLOSE}")
}

/// A message in the HF/OpenAI shape; optional fields are left out (not null) because
/// templates test them with `is defined`.
fn message_value(message: &ChatMessage) -> Value {
    let mut fields = vec![
        ("role", Value::from(message.role.as_str())),
        ("content", Value::from(message.content.as_str())),
    ];
    if !message.tool_calls.is_empty() {
        let calls = message.tool_calls.iter().map(tool_call_value);
        fields.push(("tool_calls", Value::from(calls.collect::<Vec<_>>())));
    }
    if let Some(id) = &message.tool_call_id {
        fields.push(("tool_call_id", Value::from(id.as_str())));
    }
    ordered(fields)
}

fn tool_call_value(call: &ToolCall) -> Value {
    // Templates render `arguments | tojson`, so hand them the parsed object; raw text that
    // is not JSON still gets through as a string.
    let arguments = serde_json::from_str::<JsonValue>(&call.arguments)
        .map(|json| json_value(&json))
        .unwrap_or_else(|_| Value::from(call.arguments.as_str()));
    let function = ordered(vec![
        ("name", Value::from(call.name.as_str())),
        ("arguments", arguments),
    ]);
    ordered(vec![
        ("id", Value::from(call.id.as_str())),
        ("type", Value::from("function")),
        ("function", function),
    ])
}

fn tool_value(tool: &ToolSpec) -> Value {
    let function = ordered(vec![
        ("name", Value::from(tool.name.as_str())),
        ("description", Value::from(tool.description.as_str())),
        ("parameters", json_value(&tool.parameters)),
    ]);
    ordered(vec![
        ("type", Value::from("function")),
        ("function", function),
    ])
}

fn ordered(fields: Vec<(&str, Value)>) -> Value {
    let fields = fields.into_iter().map(|(k, v)| (Value::from(k), v));
    Value::from_object(OrderedMap(fields.collect()))
}

/// Converts JSON keeping object key order (minijinja's own maps sort keys unless its
/// `preserve_order` feature is on, and `tojson` output should match what HF would print).
fn json_value(json: &JsonValue) -> Value {
    match json {
        JsonValue::Object(map) => {
            let fields = map
                .iter()
                .map(|(k, v)| (Value::from(k.as_str()), json_value(v)));
            Value::from_object(OrderedMap(fields.collect()))
        }
        JsonValue::Array(items) => Value::from(items.iter().map(json_value).collect::<Vec<_>>()),
        scalar => Value::from_serialize(scalar),
    }
}

/// A map that iterates in insertion order, like a Python dict.
#[derive(Debug)]
struct OrderedMap(Vec<(Value, Value)>);

impl Object for OrderedMap {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.0
            .iter()
            .find_map(|(k, v)| (k == key).then(|| v.clone()))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.0.iter().map(|(k, _)| k.clone()).collect())
    }
}

/// HF's `raise_exception(msg)`: templates use it to reject conversations they cannot render.
fn raise_exception(message: String) -> Result<Value, Error> {
    Err(Error::new(ErrorKind::InvalidOperation, message))
}

/// HF's `tojson`: Python's `json.dumps(x, ensure_ascii=False, indent=..., separators=...,
/// sort_keys=...)`, including its `", "`/`": "` default separators.
fn tojson(value: &Value, indent: Option<Value>, kwargs: Kwargs) -> Result<String, Error> {
    let indent = indent.or(kwargs.get::<Option<Value>>("indent")?);
    let indent = match indent {
        Some(indent) if !indent.is_none() => Some(match indent.as_str() {
            Some(text) => text.to_owned(),
            None => " ".repeat(usize::try_from(indent)?),
        }),
        _ => None,
    };
    let separators: Option<Vec<String>> = kwargs.get("separators")?;
    let sort_keys: Option<bool> = kwargs.get("sort_keys")?;
    kwargs.assert_all_used()?;
    // Python drops the space after `,` when indenting (it would trail each line).
    let default_item_sep = if indent.is_some() { "," } else { ", " };
    let (item_sep, key_sep) = match separators.as_deref() {
        Some([item, key]) => (item.clone(), key.clone()),
        Some(_) => return Err(Error::new(ErrorKind::InvalidOperation, "need 2 separators")),
        None => (default_item_sep.to_owned(), ": ".to_owned()),
    };
    let style = JsonStyle {
        indent,
        item_sep,
        key_sep,
        sort_keys: sort_keys.unwrap_or(false),
    };
    let mut out = String::new();
    style.write(value, 0, &mut out)?;
    Ok(out)
}

struct JsonStyle {
    indent: Option<String>,
    item_sep: String,
    key_sep: String,
    sort_keys: bool,
}

impl JsonStyle {
    fn write(&self, value: &Value, depth: usize, out: &mut String) -> Result<(), Error> {
        match value.kind() {
            ValueKind::Undefined | ValueKind::None => out.push_str("null"),
            ValueKind::Bool => out.push_str(if value.is_true() { "true" } else { "false" }),
            ValueKind::Number if value.is_integer() => out.push_str(&value.to_string()),
            ValueKind::Number => {
                // Python prints integral floats as `1.0`.
                let f = f64::try_from(value.clone())?;
                let exact = f.fract() == 0.0 && f.abs() < 1e16;
                let text = if exact {
                    format!("{f:.1}")
                } else {
                    f.to_string()
                };
                out.push_str(&text);
            }
            // serde_json escapes exactly what Python does with `ensure_ascii=False`.
            ValueKind::String => out.push_str(&JsonValue::from(value.as_str()).to_string()),
            ValueKind::Map | ValueKind::Seq | ValueKind::Iterable => {
                let is_map = value.kind() == ValueKind::Map;
                let mut entries = Vec::new();
                for item in value.try_iter()? {
                    entries.push(if is_map {
                        // Like Python, map keys are written as strings.
                        let key = item
                            .as_str()
                            .map_or_else(|| item.to_string(), str::to_owned);
                        (key, value.get_item(&item)?)
                    } else {
                        (String::new(), item)
                    });
                }
                if is_map && self.sort_keys {
                    entries.sort_by(|a, b| a.0.cmp(&b.0));
                }
                out.push(if is_map { '{' } else { '[' });
                for (i, (key, item)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(&self.item_sep);
                    }
                    self.newline(depth + 1, out);
                    if is_map {
                        out.push_str(&JsonValue::from(key.as_str()).to_string());
                        out.push_str(&self.key_sep);
                    }
                    self.write(item, depth + 1, out)?;
                }
                if !entries.is_empty() {
                    self.newline(depth, out);
                }
                out.push(if is_map { '}' } else { ']' });
            }
            // Bytes, plain objects, invalid values: Python would fail; a string degrades better.
            _ => out.push_str(&JsonValue::from(value.to_string()).to_string()),
        }
        Ok(())
    }

    /// Python's encoder puts each item on its own indented line only when `indent` is set.
    fn newline(&self, depth: usize, out: &mut String) {
        if let Some(indent) = &self.indent {
            out.push('\n');
            out.push_str(&indent.repeat(depth));
        }
    }
}

/// HF's `strftime_now(fmt)`. HF uses local time; this uses UTC so no timezone database is
/// needed (templates only print the date, which is at most a day off).
fn strftime_now(format: String) -> String {
    let elapsed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    strftime(
        &format,
        i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX),
    )
}

/// The common C `strftime` conversions, plus glibc's `%-d` (no padding) that Llama templates use.
fn strftime(format: &str, unix_secs: i64) -> String {
    #[rustfmt::skip]
    const MONTHS: [&str; 12] = ["January", "February", "March", "April", "May", "June", "July",
        "August", "September", "October", "November", "December"];
    #[rustfmt::skip]
    const DAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
        "Saturday"];
    let days = unix_secs.div_euclid(86_400);
    let secs = unix_secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (secs / 3600, secs % 3600 / 60, secs % 60);
    // `month` is 1..=12 by construction; 1970-01-01 was a Thursday.
    let month_name = MONTHS[(month - 1) as usize];
    let day_name = DAYS[(days + 4).rem_euclid(7) as usize];
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = chars.next();
        let pad = spec != Some('-');
        if !pad {
            spec = chars.next();
        }
        let width = if pad { 2 } else { 0 };
        let num = |n: i64| format!("{n:0width$}");
        let text = match spec {
            Some('Y') => year.to_string(),
            Some('m') => num(month),
            Some('d') => num(day),
            Some('H') => num(hour),
            Some('M') => num(minute),
            Some('S') => num(second),
            Some('B') => month_name.to_owned(),
            Some('b') => month_name[..3].to_owned(),
            Some('A') => day_name.to_owned(),
            Some('a') => day_name[..3].to_owned(),
            Some('%') => "%".to_owned(),
            // Unknown conversions pass through untouched rather than failing the render.
            Some(other) => format!("%{}{other}", if pad { "" } else { "-" }),
            None => "%".to_owned(),
        };
        out.push_str(&text);
    }
    out
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// transformers' `AssistantTracker` adds `{% generation %}…{% endgeneration %}` (marking
/// assistant tokens for training masks); minijinja has no such tag, so turn the pair into a
/// no-op `{% if true %}…{% endif %}`, keeping any whitespace-control markers.
fn replace_generation_tags(source: &str) -> String {
    let mut out = source.to_owned();
    for (tag, no_op) in [("generation", "if true"), ("endgeneration", "endif")] {
        for (open, close) in [("{%", "%}"), ("{%-", "%}"), ("{%", "-%}"), ("{%-", "-%}")] {
            out = out.replace(
                &format!("{open} {tag} {close}"),
                &format!("{open} {no_op} {close}"),
            );
        }
    }
    out
}

#[cfg(test)]
#[path = "template_tests.rs"]
mod tests;
