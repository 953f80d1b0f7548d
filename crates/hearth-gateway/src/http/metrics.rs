//! `/metrics`: the pipeline's Prometheus metrics in the text format.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::state::GatewayState;

pub async fn metrics(State(state): State<Arc<GatewayState>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.runtime.metrics().render(),
    )
}
