//! HTTP on the gateway's port: probes, metrics, the OpenAI-compatible
//! API and channel webhooks.
//!
//! - `probes`: `/healthz`, `/readyz`, `/startupz` (unauthenticated, no data).
//! - `metrics`: `/metrics`, Prometheus text.
//! - `openai`: `/v1/chat/completions` (stream and not) and `/v1/models`.
//! - `hooks`: `POST /hooks/<channel>`, verified by the channel itself.
//! - `error`: the one `ApiError` type, in OpenAI's error shape.

pub(crate) mod error;
pub(crate) mod hooks;
pub(crate) mod metrics;
pub(crate) mod openai;
pub(crate) mod probes;
