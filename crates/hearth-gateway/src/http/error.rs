//! The HTTP API's error type: a status, a code from one table, and a message
//! safe to show. Internal details are logged, never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// OpenAI-style `type`: `invalid_request_error`, `authentication_error`,
    /// `rate_limit_error`, `server_error`, `provider_error`.
    pub kind: &'static str,
    pub message: String,
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "authentication_error", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "message": self.message, "type": self.kind, "code": self.status.as_u16() } });
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs
            && let Ok(value) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl From<hearth_agent::SubmitError> for ApiError {
    fn from(error: hearth_agent::SubmitError) -> Self {
        use hearth_agent::SubmitError::*;
        match error {
            Busy { .. } | SessionBusy { .. } => {
                let mut e = Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limit_error",
                    error.to_string(),
                );
                e.retry_after_secs = Some(1);
                e
            }
            ShuttingDown | Starting => {
                let mut e = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "server_error",
                    error.to_string(),
                );
                e.retry_after_secs = Some(if matches!(error, Starting) { 1 } else { 5 });
                e
            }
            UnknownAgent(id) => Self::new(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                format!("unknown model (agent) \"{id}\""),
            ),
            Store(e) => e.into(),
        }
    }
}

impl From<hearth_core::StoreError> for ApiError {
    fn from(error: hearth_core::StoreError) -> Self {
        tracing::error!(%error, "storage failure");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "storage failure; see the server log",
        )
    }
}
