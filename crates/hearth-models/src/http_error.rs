//! Turns HTTP failures of any model API (status, headers, JSON error body,
//! transport errors) into a classified [`ProviderError`], so the router can
//! decide between retry, fallback and giving up the same way for every
//! provider.

use hearth_core::{ErrorKind, ProviderError};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use std::time::{Duration, SystemTime};

/// The longest slice of a non-JSON error body we put in a message: enough to
/// recognise an HTML error page or a proxy's text, not a whole page in a log.
const MAX_RAW_BODY: usize = 300;

/// Classifies a non-2xx answer. `secret` is the API key in use: it is cut
/// out of the message in case a server echoes it back.
pub(crate) fn classify(
    provider: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    secret: Option<&str>,
) -> ProviderError {
    let detail = ErrorDetail::parse(body);
    let kind = kind_for(status, &detail);
    let mut message = format!("{provider} answered HTTP {}: {}", status.as_u16(), detail);
    redact(&mut message, secret);
    let retry_after = if kind.is_retryable() {
        retry_after(headers, SystemTime::now())
    } else {
        None
    };
    ProviderError::new(kind, message).with_retry_after(retry_after)
}

/// Classifies an error that arrived inside a 200 stream (OpenRouter and
/// Anthropic send these as SSE events). There is no status code, so only
/// the error's type/code and message decide.
pub(crate) fn classify_stream_error(
    provider: &str,
    detail: ErrorDetail,
    secret: Option<&str>,
) -> ProviderError {
    let kind = if detail.is_context_length() {
        ErrorKind::ContextLength
    } else {
        match detail.kind_hint() {
            Some(kind) => kind,
            // An unknown error mid-stream is most often the server giving up
            // under load; a retry (before any output) is the useful answer.
            None => ErrorKind::Transient,
        }
    };
    let mut message = format!("{provider} stream error: {detail}");
    redact(&mut message, secret);
    ProviderError::new(kind, message)
}

/// A transport failure: connection refused, reset, TLS, a read timeout.
/// All are worth a retry or a fallback.
pub(crate) fn from_transport(provider: &str, err: reqwest::Error) -> ProviderError {
    // The URL is not secret for our providers, but some APIs put keys in
    // query strings; leave it out and keep the cause chain, which is where
    // the useful part ("connection refused") is.
    let err = err.without_url();
    let mut message = format!("{provider} request failed: {err}");
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    ProviderError::new(ErrorKind::Transient, message)
}

pub(crate) fn redact(message: &mut String, secret: Option<&str>) {
    if let Some(secret) = secret.filter(|s| s.len() >= 4)
        && message.contains(secret)
    {
        *message = message.replace(secret, "[redacted]");
    }
}

fn kind_for(status: StatusCode, detail: &ErrorDetail) -> ErrorKind {
    match status.as_u16() {
        401 | 403 => ErrorKind::Auth,
        // OpenAI answers an exhausted account with 429 too, but no wait will
        // fix a quota: treat it like a credential problem so the router moves
        // on to the next model instead of retrying.
        429 if detail.code_or_type_is("insufficient_quota") => ErrorKind::Auth,
        429 => ErrorKind::RateLimited,
        503 | 529 => ErrorKind::Overloaded,
        _ if detail.code_or_type_is("overloaded_error") => ErrorKind::Overloaded,
        400 | 413 | 422 if detail.is_context_length() => ErrorKind::ContextLength,
        408 => ErrorKind::Transient,
        400..=499 => ErrorKind::InvalidRequest,
        _ => ErrorKind::Transient,
    }
}

/// How long the server asked us to wait: `retry-after-ms` (OpenAI, precise)
/// first, then `Retry-After` as delay-seconds or an HTTP-date.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = header("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// What a provider said about its error. Both APIs nest it under `error`:
/// OpenAI `{"error":{"message","type","code"}}`, Anthropic
/// `{"type":"error","error":{"type","message"}}`; Ollama and some proxies send
/// `{"error":"text"}`; anything else is kept as (truncated) raw text.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct ErrorDetail {
    pub message: String,
    pub kind: Option<String>,
    pub code: Option<String>,
}

#[derive(Deserialize)]
struct Envelope {
    error: ErrorField,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ErrorField {
    Text(String),
    Object(ErrorObject),
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct ErrorObject {
    #[serde(default)]
    message: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    /// A string for OpenAI, a number for some compatible servers.
    #[serde(default)]
    code: Option<serde_json::Value>,
}

impl From<ErrorObject> for ErrorDetail {
    fn from(o: ErrorObject) -> Self {
        let code = o.code.and_then(|c| match c {
            serde_json::Value::String(s) => Some(s),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        });
        ErrorDetail {
            message: o.message.unwrap_or_default(),
            kind: o.kind,
            code,
        }
    }
}

impl ErrorDetail {
    pub(crate) fn parse(body: &str) -> Self {
        match serde_json::from_str::<Envelope>(body) {
            Ok(Envelope {
                error: ErrorField::Object(o),
            }) => o.into(),
            Ok(Envelope {
                error: ErrorField::Text(message),
            }) => ErrorDetail {
                message,
                ..Default::default()
            },
            Err(_) => {
                let body = body.trim();
                let mut end = body.len().min(MAX_RAW_BODY);
                while !body.is_char_boundary(end) {
                    end -= 1;
                }
                ErrorDetail {
                    message: if body.is_empty() {
                        "(empty body)".into()
                    } else {
                        body[..end].to_string()
                    },
                    ..Default::default()
                }
            }
        }
    }

    fn code_or_type_is(&self, wanted: &str) -> bool {
        self.code.as_deref() == Some(wanted) || self.kind.as_deref() == Some(wanted)
    }

    /// The phrases the common servers use when the prompt does not fit:
    /// OpenAI and vLLM ("maximum context length", code
    /// `context_length_exceeded`), Anthropic ("prompt is too long"),
    /// llama.cpp server ("exceeds the available context size",
    /// `exceed_context_size_error`).
    fn is_context_length(&self) -> bool {
        if self.code_or_type_is("context_length_exceeded")
            || self.code_or_type_is("exceed_context_size_error")
        {
            return true;
        }
        let m = self.message.to_ascii_lowercase();
        [
            "maximum context length",
            "prompt is too long",
            "context length",
            "context size",
            "context window",
        ]
        .iter()
        .any(|p| m.contains(p))
    }

    /// The kind an error type names without a status code (stream errors).
    fn kind_hint(&self) -> Option<ErrorKind> {
        let t = self.kind.as_deref().or(self.code.as_deref())?;
        Some(match t {
            "overloaded_error" => ErrorKind::Overloaded,
            "rate_limit_error" | "rate_limit_exceeded" => ErrorKind::RateLimited,
            "authentication_error" | "permission_error" | "insufficient_quota" => ErrorKind::Auth,
            "invalid_request_error" | "not_found_error" | "request_too_large" => {
                ErrorKind::InvalidRequest
            }
            "api_error" | "server_error" => ErrorKind::Transient,
            _ => return None,
        })
    }
}

impl std::fmt::Display for ErrorDetail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        match (&self.kind, &self.code) {
            (Some(k), Some(c)) if k != c => write!(f, " ({k}, {c})"),
            (Some(k), _) => write!(f, " ({k})"),
            (None, Some(c)) => write!(f, " ({c})"),
            (None, None) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn kind(status: u16, body: &str) -> ErrorKind {
        classify(
            "p",
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            body,
            None,
        )
        .kind
    }

    #[test]
    fn statuses_map_to_kinds() {
        assert_eq!(kind(401, ""), ErrorKind::Auth);
        assert_eq!(kind(403, ""), ErrorKind::Auth);
        assert_eq!(kind(429, ""), ErrorKind::RateLimited);
        assert_eq!(kind(503, ""), ErrorKind::Overloaded);
        assert_eq!(kind(529, ""), ErrorKind::Overloaded);
        assert_eq!(kind(500, ""), ErrorKind::Transient);
        assert_eq!(kind(502, ""), ErrorKind::Transient);
        assert_eq!(kind(408, ""), ErrorKind::Transient);
        assert_eq!(
            kind(400, r#"{"error":{"message":"bad"}}"#),
            ErrorKind::InvalidRequest
        );
        assert_eq!(kind(404, ""), ErrorKind::InvalidRequest);
        assert_eq!(kind(422, ""), ErrorKind::InvalidRequest);
    }

    #[test]
    fn context_length_is_recognised_by_code_and_phrase() {
        let openai = r#"{"error":{"message":"This model's maximum context length is 8192 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}"#;
        let anthropic = r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#;
        let llamacpp = r#"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error"}}"#;
        for body in [openai, anthropic, llamacpp] {
            assert_eq!(kind(400, body), ErrorKind::ContextLength, "{body}");
        }
    }

    #[test]
    fn quota_and_overload_types_override_status() {
        let quota = r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#;
        assert_eq!(kind(429, quota), ErrorKind::Auth);
        let overloaded =
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert_eq!(kind(500, overloaded), ErrorKind::Overloaded);
    }

    #[test]
    fn message_carries_provider_text_and_hides_the_key() {
        let body = r#"{"error":{"message":"Incorrect API key provided: sk-secret-123","type":"invalid_request_error","code":"invalid_api_key"}}"#;
        let e = classify(
            "openai",
            StatusCode::UNAUTHORIZED,
            &HeaderMap::new(),
            body,
            Some("sk-secret-123"),
        );
        assert!(
            e.message.contains("Incorrect API key provided"),
            "{}",
            e.message
        );
        assert!(e.message.contains("invalid_api_key"), "{}", e.message);
        assert!(e.message.contains("HTTP 401"), "{}", e.message);
        assert!(!e.message.contains("sk-secret-123"), "{}", e.message);
    }

    #[test]
    fn plain_text_and_string_errors_are_kept() {
        assert_eq!(
            ErrorDetail::parse(r#"{"error":"model 'x' not found"}"#).message,
            "model 'x' not found"
        );
        assert_eq!(
            ErrorDetail::parse("<html>Bad Gateway</html>").message,
            "<html>Bad Gateway</html>"
        );
        let long = "é".repeat(400);
        assert!(ErrorDetail::parse(&long).message.len() <= MAX_RAW_BODY);
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")]), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "Sun, 06 Nov 1994 08:50:07 GMT")]),
                now
            ),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "Sun, 06 Nov 1994 08:49:00 GMT")]),
                now
            ),
            Some(Duration::ZERO)
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "7"), ("retry-after-ms", "1500")]),
                now
            ),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(retry_after(&headers(&[("retry-after", "-3")]), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn retry_after_is_only_kept_for_retryable_errors() {
        let h = headers(&[("retry-after", "3")]);
        let limited = classify("p", StatusCode::TOO_MANY_REQUESTS, &h, "", None);
        assert_eq!(limited.retry_after, Some(Duration::from_secs(3)));
        let bad = classify("p", StatusCode::BAD_REQUEST, &h, "", None);
        assert_eq!(bad.retry_after, None);
    }

    #[test]
    fn stream_errors_classify_by_type() {
        let d = ErrorDetail::parse(
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        );
        let e = classify_stream_error("anthropic", d, None);
        assert_eq!(e.kind, ErrorKind::Overloaded);
        assert!(e.message.contains("Overloaded"));
        let e = classify_stream_error("x", ErrorDetail::parse(r#"{"error":"boom"}"#), None);
        assert_eq!(e.kind, ErrorKind::Transient);
    }
}
