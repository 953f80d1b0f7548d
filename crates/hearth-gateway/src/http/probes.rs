//! Liveness, readiness and startup probes, unauthenticated and free of
//! data, as Kubernetes and OpenClaw's CLI expect them.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::GatewayState;

fn no_store(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(body),
    )
        .into_response()
}

/// The process answers: it is alive.
pub async fn healthz() -> Response {
    no_store(StatusCode::OK, json!({ "ok": true, "status": "live" }))
}

/// Recovery is done and the listener is up; 503 while starting or stopping.
pub async fn readyz(State(state): State<Arc<GatewayState>>) -> Response {
    if state.is_ready() {
        no_store(StatusCode::OK, json!({ "ready": true }))
    } else {
        no_store(StatusCode::SERVICE_UNAVAILABLE, json!({ "ready": false }))
    }
}

pub async fn startupz(State(state): State<Arc<GatewayState>>) -> Response {
    if state.is_ready() {
        no_store(
            StatusCode::OK,
            json!({ "ok": true, "status": "started", "uptimeMs": state.uptime_ms() }),
        )
    } else {
        no_store(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "status": "starting", "pendingReason": "recovering" }),
        )
    }
}
