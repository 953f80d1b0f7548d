//! `POST /hooks/<channel>`: webhook ingress for channels that receive over
//! HTTP. No gateway token here: each channel's handler checks its own
//! signature or secret, and an unknown channel is a 404 that reveals
//! nothing else.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hearth_core::WebhookRequest;
use serde_json::json;

use crate::state::GatewayState;

pub async fn hook(
    State(state): State<Arc<GatewayState>>,
    Path(channel): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Some(handler) = state
        .webhooks
        .get()
        .and_then(|hooks| hooks.get(&channel))
        .cloned()
    else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "no such webhook" })),
        )
            .into_response();
    };
    let request = WebhookRequest {
        headers: headers
            .iter()
            .filter_map(|(name, value)| {
                Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
            })
            .collect(),
        body: body.to_vec(),
    };
    let response = handler.handle(request).await;
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(response.body)).into_response()
}
