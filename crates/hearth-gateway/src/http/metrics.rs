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
        with_channels(state.runtime.metrics().render(), &state),
    )
}

/// Appends each channel's health as gauges (before the OpenMetrics `# EOF`):
/// `hearth_channel_up` is 1 while connected, and
/// `hearth_channel_reconnects` counts lost connections.
fn with_channels(mut text: String, state: &GatewayState) -> String {
    let Some(channels) = state.channels.get() else {
        return text;
    };
    let statuses = channels.statuses();
    let Some(rows) = statuses.as_array().filter(|rows| !rows.is_empty()) else {
        return text;
    };
    if text.ends_with("# EOF\n") {
        text.truncate(text.len() - "# EOF\n".len());
    }
    text.push_str("# HELP hearth_channel_up 1 while the channel is connected.\n");
    text.push_str("# TYPE hearth_channel_up gauge\n");
    let label = |row: &serde_json::Value, key: &str| {
        row[key]
            .as_str()
            .unwrap_or_default()
            .replace(['\\', '"', '\n'], "_")
    };
    for row in rows {
        let up = u8::from(row["health"]["state"] == "up");
        let (name, kind) = (label(row, "name"), label(row, "kind"));
        text.push_str(&format!(
            "hearth_channel_up{{channel=\"{name}\",type=\"{kind}\"}} {up}\n"
        ));
    }
    text.push_str("# HELP hearth_channel_reconnects Connections the channel lost.\n");
    text.push_str("# TYPE hearth_channel_reconnects gauge\n");
    for row in rows {
        let count = row["health"]["reconnects"].as_u64().unwrap_or(0);
        let (name, kind) = (label(row, "name"), label(row, "kind"));
        text.push_str(&format!(
            "hearth_channel_reconnects{{channel=\"{name}\",type=\"{kind}\"}} {count}\n"
        ));
    }
    text.push_str("# EOF\n");
    text
}
