//! `web_fetch`: fetches an http(s) URL and returns it as readable text,
//! within a size and time limit, refusing non-public addresses unless the
//! configuration allows them.
//!
//! One call: check the URL, send a GET through a client whose resolver
//! only yields allowed addresses ([`address`]), follow redirects by hand
//! (each hop checked again, at most `max_redirects`), refuse binary
//! content types before reading the body, read at most `max_bytes`, turn
//! HTML into Markdown ([`html`]) and cap the text at `max_chars`. The whole
//! call, conversion included, runs within `timeout_secs`.

pub(crate) mod address;
pub mod config;
pub(crate) mod html;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hearth_core::{Tool, ToolContext, ToolError, ToolResult, TypedTool, typed};
use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use schemars::JsonSchema;
use serde::Deserialize;
use url::Url;

pub use config::WebFetchConfig;

use crate::files::{human_size, looks_binary};
use address::{AddressPolicy, Blocked, GuardedResolver};

/// Characters of text returned when the model names no `max_chars`
/// (about 5k tokens), and the most it may ask for.
pub const DEFAULT_MAX_CHARS: u32 = 20_000;
pub const MAX_CHARS_LIMIT: u32 = 100_000;

/// HTML conversions running at once. They are CPU-bound and each holds a
/// parsed page: more than the cores only adds memory.
const CONVERSIONS_AT_ONCE: usize = 2;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebFetchArgs {
    /// The http or https URL to fetch.
    pub url: String,
    /// The most characters of text to return (100-100000). Default 20000.
    #[serde(default)]
    pub max_chars: Option<u32>,
}

/// The `web_fetch` tool. Build it with [`web_fetch_tool`].
#[derive(Debug)]
pub struct WebFetch {
    config: WebFetchConfig,
    policy: Arc<AddressPolicy>,
    client: reqwest::Client,
    conversions: Arc<tokio::sync::Semaphore>,
}

/// The `web_fetch` tool with these settings, after [`WebFetchConfig::validate`].
pub fn web_fetch_tool(config: WebFetchConfig) -> Result<Arc<dyn Tool>, String> {
    Ok(typed(WebFetch::new(config)?))
}

impl WebFetch {
    pub fn new(config: WebFetchConfig) -> Result<Self, String> {
        config.validate()?;
        let policy = Arc::new(AddressPolicy::new(&config));
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver(policy.clone())))
            // Redirects are followed by hand, each hop checked.
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve names where the resolver cannot check.
            .no_proxy()
            .user_agent(config.user_agent.clone())
            .connect_timeout(Duration::from_secs(config.timeout_secs))
            .build()
            .map_err(|e| format!("web_fetch: cannot build the HTTP client: {e}"))?;
        Ok(Self {
            config,
            policy,
            client,
            conversions: Arc::new(tokio::sync::Semaphore::new(CONVERSIONS_AT_ONCE)),
        })
    }
}

#[async_trait]
impl TypedTool for WebFetch {
    type Args = WebFetchArgs;
    const NAME: &'static str = "web_fetch";

    fn description(&self) -> String {
        "Fetch a web page (http or https) and return it as readable text: HTML is turned \
         into Markdown without scripts, styles and navigation; plain text and JSON come \
         back as they are. The result starts with the final URL, status, content type and \
         title."
            .into()
    }

    async fn run(&self, context: &ToolContext, args: WebFetchArgs) -> ToolResult {
        let max_chars = args.max_chars.unwrap_or(DEFAULT_MAX_CHARS);
        if !(100..=MAX_CHARS_LIMIT).contains(&max_chars) {
            return Err(ToolError::InvalidArguments(format!(
                "max_chars must be 100-{MAX_CHARS_LIMIT}"
            )));
        }
        let url = Url::parse(args.url.trim()).map_err(|e| {
            ToolError::InvalidArguments(format!("`{}` is not a URL: {e}", args.url))
        })?;
        let timeout = Duration::from_secs(self.config.timeout_secs);
        tokio::select! {
            result = tokio::time::timeout(timeout, self.fetch(url, max_chars as usize)) => {
                result.unwrap_or(Err(ToolError::TimedOut(self.config.timeout_secs)))
            }
            () = context.cancel.cancelled() => Err(ToolError::Cancelled),
        }
    }
}

/// How a response body is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Html,
    Text,
    /// No usable content type: decided from the bytes.
    Unknown,
    Binary,
}

impl WebFetch {
    async fn fetch(&self, mut url: Url, max_chars: usize) -> ToolResult {
        let requested = url.clone();
        let mut redirects = 0;
        let response = loop {
            self.policy.check_url(&url)?;
            let response = self
                .client
                .get(url.clone())
                .header(
                    ACCEPT,
                    "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5",
                )
                .send()
                .await
                .map_err(|e| request_error(&url, &e))?;
            let location = response.headers().get(LOCATION);
            match location {
                Some(location) if response.status().is_redirection() => {
                    if redirects == self.config.max_redirects {
                        return Err(ToolError::Failed(format!(
                            "`{requested}` redirected more than {} times",
                            self.config.max_redirects
                        )));
                    }
                    let next = location
                        .to_str()
                        .ok()
                        .and_then(|l| url.join(l).ok())
                        .ok_or_else(|| {
                            ToolError::Failed(format!("`{url}` redirected to an invalid URL"))
                        })?;
                    tracing::debug!(from = %url, to = %next, "web_fetch: redirect");
                    url = next;
                    redirects += 1;
                }
                _ => break response,
            }
        };

        let status = response.status();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut kind = classify(content_type.as_deref());
        if kind == Kind::Binary {
            return Err(ToolError::Failed(format!(
                "`{url}` is {}, which web_fetch cannot read: it reads HTML and text",
                content_type.as_deref().unwrap_or("binary")
            )));
        }
        let (body, body_cut) = read_capped(response, self.config.max_bytes, &url).await?;
        if kind == Kind::Unknown {
            kind = sniff(&body);
            if kind == Kind::Binary {
                return Err(ToolError::Failed(format!(
                    "`{url}` is binary content, which web_fetch cannot read: it reads HTML \
                     and text"
                )));
            }
        }
        let text = decode(body, body_cut);
        let (title, text, markup_cut) = if kind == Kind::Html {
            let page = self.convert(text, url.clone()).await?;
            (page.title, page.markdown, page.cut)
        } else {
            (None, text, false)
        };

        let total_chars = text.chars().count();
        let mut header = format!(
            "URL: {url}\nStatus: {}\nContent-Type: {}\n",
            status,
            content_type.as_deref().unwrap_or("(none)")
        );
        if url != requested {
            header.push_str(&format!("Redirected from: {requested}\n"));
        }
        if let Some(title) = &title {
            header.push_str(&format!("Title: {title}\n"));
        }
        if body_cut {
            header.push_str(&format!(
                "Note: only the first {} of the body were read\n",
                human_size(self.config.max_bytes)
            ));
        }
        if markup_cut {
            header.push_str("Note: the page's markup is too large or too deeply nested; only its first part was converted\n");
        }
        if total_chars > max_chars {
            header.push_str(&format!(
                "Note: the text is cut to {max_chars} of its {total_chars} characters\n"
            ));
        }
        let shown: String = text.chars().take(max_chars).collect();

        if status.is_client_error() || status.is_server_error() {
            let excerpt: String = shown.chars().take(1000).collect();
            return Err(ToolError::Failed(format!(
                "HTTP {status}\n{header}\n{excerpt}"
            )));
        }
        Ok(format!("{header}\n{shown}"))
    }

    /// Runs the HTML conversion on its own thread (see [`html`] for the
    /// stack size), at most [`CONVERSIONS_AT_ONCE`] at a time. The permit
    /// moves into the thread, so a conversion abandoned by a timeout still
    /// counts until it ends.
    async fn convert(&self, text: String, url: Url) -> Result<html::Page, ToolError> {
        let permit = self
            .conversions
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ToolError::Failed("web_fetch is shutting down".into()))?;
        let (done, result) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("web_fetch-html".into())
            .stack_size(html::STACK_BYTES)
            .spawn(move || {
                let page = html::to_markdown(&text, &url);
                drop(permit);
                let _ = done.send(page);
            })
            .map_err(|e| ToolError::Failed(format!("cannot start the HTML conversion: {e}")))?;
        result
            .await
            .map_err(|_| ToolError::Failed("the HTML conversion failed".into()))
    }
}

fn classify(content_type: Option<&str>) -> Kind {
    let Some(content_type) = content_type else {
        return Kind::Unknown;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "text/html" | "application/xhtml+xml" => Kind::Html,
        "" | "application/octet-stream" => Kind::Unknown,
        "application/json"
        | "application/xml"
        | "application/javascript"
        | "application/ecmascript"
        | "application/x-javascript"
        | "application/yaml"
        | "application/x-yaml"
        | "application/toml"
        | "application/x-ndjson"
        | "application/sql"
        | "application/graphql"
        | "application/x-sh" => Kind::Text,
        e if e.starts_with("text/") || e.ends_with("+json") || e.ends_with("+xml") => Kind::Text,
        _ => Kind::Binary,
    }
}

/// A body without a usable content type: binary, HTML or text.
fn sniff(body: &[u8]) -> Kind {
    let head = &body[..body.len().min(8 * 1024)];
    if looks_binary(head) {
        return Kind::Binary;
    }
    let start = String::from_utf8_lossy(&head[..head.len().min(1024)]).to_ascii_lowercase();
    let start = start.trim_start_matches('\u{feff}').trim_start();
    if start.starts_with("<!doctype html") || start.starts_with("<html") {
        Kind::Html
    } else {
        Kind::Text
    }
}

/// The body as text. A cut in the middle of a character drops it; other
/// invalid bytes become U+FFFD (pages in legacy encodings lose their
/// non-ASCII letters: there is no charset conversion).
fn decode(mut body: Vec<u8>, cut: bool) -> String {
    if cut {
        if let Err(e) = std::str::from_utf8(&body) {
            if e.error_len().is_none() {
                body.truncate(e.valid_up_to());
            }
        }
    }
    match String::from_utf8(body) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// Reads at most `max` bytes of the body; returns whether more was left.
async fn read_capped(
    mut response: reqwest::Response,
    max: u64,
    url: &Url,
) -> Result<(Vec<u8>, bool), ToolError> {
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    let expected = response.content_length().unwrap_or(0) as usize;
    let mut body = Vec::with_capacity(expected.min(max));
    while let Some(chunk) = response.chunk().await.map_err(|e| request_error(url, &e))? {
        let room = max - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
}

/// A request failure as the model should read it: a refused address is
/// `Denied`, a timeout `TimedOut`, the rest `Failed` with the root cause.
fn request_error(url: &Url, error: &reqwest::Error) -> ToolError {
    let mut causes = Vec::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(blocked) = cause.downcast_ref::<Blocked>() {
            return ToolError::Denied(blocked.to_string());
        }
        causes.push(cause.to_string());
        source = cause.source();
    }
    if error.is_timeout() {
        return ToolError::Failed(format!("`{url}`: the connection timed out"));
    }
    ToolError::Failed(format!("fetching `{url}` failed: {}", causes.join(": ")))
}
