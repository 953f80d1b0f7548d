//! [`Route`]: one agent's primary model and ordered fallbacks, and the policy
//! of a call across them — per-attempt timeout, retries with backoff,
//! fallback, circuit breakers, and an idle timeout once the answer streams.
//!
//! The policy, and why:
//! - An attempt must produce its first event within the model's `timeout`;
//!   after that only the gap between events is bounded (`idle_timeout`), as
//!   a long answer may legitimately stream for minutes.
//! - Retryable errors (rate limit, overload, network) are retried on the
//!   same model up to its `max_retries`, waiting what the server asked
//!   (`Retry-After`, capped) or an exponential backoff with jitter.
//! - Then the next model is tried. `Auth` and `InvalidRequest` also move on
//!   at once (another provider may accept the key or the request);
//!   `ContextLength` returns at once, since every fallback would get the
//!   same too-long prompt — the agent must compact and ask again.
//! - Once the first event has been passed on, nothing is retried: a retry
//!   would repeat output the user has already seen. A mid-stream error ends
//!   the stream as it is.

use super::{RouterSettings, Slot};
use async_trait::async_trait;
use futures::StreamExt;
use hearth_core::{ChatEvent, ChatRequest, ChatStream, ErrorKind, Provider, ProviderError};
use std::sync::Arc;
use std::time::Duration;

/// A primary model and its fallbacks, usable wherever a
/// [`Provider`] is (typically held as `Arc<dyn Provider>` by an agent).
/// The request's `model` field is ignored: each model entry sends its own
/// configured model name.
#[derive(Debug, Clone)]
pub struct Route {
    slots: Vec<Arc<Slot>>,
    settings: Arc<RouterSettings>,
}

/// A started answer and the name of the model that gives it.
pub struct Routed {
    /// The `[models.<name>]` name that answered.
    pub model: String,
    pub stream: ChatStream,
}

impl std::fmt::Debug for Routed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Routed")
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("entry", &self.entry)
            .field("breaker", &self.breaker)
            .finish_non_exhaustive()
    }
}

/// What an attempt's failure means for the breaker and for the call.
fn counts_against_model(kind: ErrorKind) -> bool {
    !matches!(
        kind,
        ErrorKind::ContextLength | ErrorKind::InvalidRequest | ErrorKind::Cancelled
    )
}

impl Route {
    pub(super) fn new(slots: Vec<Arc<Slot>>, settings: Arc<RouterSettings>) -> Self {
        Self { slots, settings }
    }

    /// The model names, primary first.
    pub fn models(&self) -> Vec<&str> {
        self.slots.iter().map(|s| s.entry.name()).collect()
    }

    /// Like [`Provider::chat`], and also says which model answered.
    pub async fn chat_routed(&self, request: ChatRequest) -> Result<Routed, ProviderError> {
        let mut last_error: Option<ProviderError> = None;
        let mut skipped: Vec<&str> = Vec::new();
        for (position, slot) in self.slots.iter().enumerate() {
            let more_models = position + 1 < self.slots.len();
            let name = slot.entry.name();
            let limits = slot.entry.limits();
            let mut retries = 0u32;
            loop {
                let Some(permit) = slot.breaker.try_acquire() else {
                    skipped.push(name);
                    break;
                };
                let mut attempt = request.clone();
                attempt.model = slot.entry.model().to_string();
                match first_event(slot, attempt, limits.timeout).await {
                    Ok((first, rest)) => {
                        permit.success();
                        if position > 0 || retries > 0 {
                            tracing::info!(model = name, retries, "model answered");
                        }
                        return Ok(Routed {
                            model: name.to_string(),
                            stream: guard_stream(first, rest, limits.idle_timeout, slot.clone()),
                        });
                    }
                    Err(mut err) => {
                        err.message = format!("model {name:?}: {}", err.message);
                        match err.kind {
                            ErrorKind::Cancelled => return Err(err),
                            // The model is up; the request is the problem.
                            ErrorKind::ContextLength => {
                                permit.success();
                                return Err(err);
                            }
                            ErrorKind::InvalidRequest => permit.success(),
                            _ => permit.failure(),
                        }
                        let wait = (err.kind.is_retryable() && retries < limits.max_retries)
                            .then(|| self.retry_delay(retries, &err, more_models))
                            .flatten();
                        match wait {
                            Some(wait) => {
                                tracing::warn!(model = name, kind = %err.kind, ?wait, error = %err.message, "retrying model");
                                tokio::time::sleep(wait).await;
                                retries += 1;
                                last_error = Some(err);
                            }
                            None => {
                                tracing::warn!(model = name, kind = %err.kind, error = %err.message, "model failed; trying the next one");
                                last_error = Some(err);
                                break;
                            }
                        }
                    }
                }
            }
        }
        Err(match last_error {
            Some(mut err) => {
                if !skipped.is_empty() {
                    err.message = format!(
                        "{} (skipped, circuit open: {})",
                        err.message,
                        skipped.join(", ")
                    );
                }
                err
            }
            None => ProviderError::new(
                ErrorKind::Unavailable,
                format!(
                    "no model available: circuit open for {}",
                    skipped.join(", ")
                ),
            ),
        })
    }

    /// How long to wait before retrying, or `None` to move to the next
    /// model now.
    fn retry_delay(
        &self,
        retries: u32,
        err: &ProviderError,
        more_models: bool,
    ) -> Option<Duration> {
        let cap = Duration::from_secs(self.settings.retry_after_cap_secs);
        if let Some(asked) = err.retry_after {
            if asked <= cap {
                return Some(asked);
            }
            // Waiting less than asked would likely just be refused again;
            // a fallback may answer now.
            return if more_models { None } else { Some(cap) };
        }
        let base = Duration::from_millis(self.settings.backoff_base_ms);
        let max = Duration::from_millis(self.settings.backoff_max_ms);
        let exp = base.saturating_mul(1u32 << retries.min(16)).min(max);
        // "Equal jitter": between half and all of the exponential delay.
        Some(exp.mul_f64(0.5 + 0.5 * jitter()))
    }
}

/// A number in [0, 1). std's `RandomState` is seeded randomly per thread and
/// re-keyed per instance: enough to spread retries, no extra dependency.
fn jitter() -> f64 {
    use std::hash::BuildHasher;
    let bits = std::collections::hash_map::RandomState::new().hash_one(0u8);
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// Starts the answer and waits for its first event, within `timeout`.
async fn first_event(
    slot: &Slot,
    request: ChatRequest,
    timeout: Duration,
) -> Result<(ChatEvent, ChatStream), ProviderError> {
    let start = async {
        let mut stream = slot.provider.chat(request).await?;
        match stream.next().await {
            Some(Ok(event)) => Ok((event, stream)),
            Some(Err(err)) => Err(err),
            None => Err(ProviderError::new(
                ErrorKind::Transient,
                "the answer ended before its first event",
            )),
        }
    };
    match tokio::time::timeout(timeout, start).await {
        Ok(result) => result,
        Err(_) => Err(ProviderError::new(
            ErrorKind::Transient,
            format!("no answer within {timeout:?}"),
        )),
    }
}

/// The stream handed to the caller: `first`, then `rest` with a bound on the
/// gap between events. Mid-stream failures still count against the model's
/// breaker.
fn guard_stream(first: ChatEvent, rest: ChatStream, idle: Duration, slot: Arc<Slot>) -> ChatStream {
    let tail = futures::stream::unfold(Some(rest), move |rest| {
        let slot = slot.clone();
        async move {
            let mut rest = rest?;
            let item = match tokio::time::timeout(idle, rest.next()).await {
                Ok(None) => return None,
                Ok(Some(Ok(event))) => return Some((Ok(event), Some(rest))),
                Ok(Some(Err(err))) => err,
                Err(_) => ProviderError::new(
                    ErrorKind::Transient,
                    format!("the answer stalled: no event for {idle:?}"),
                ),
            };
            if counts_against_model(item.kind) {
                slot.breaker.record_failure();
            }
            let mut item = item;
            item.message = format!("model {:?}: {}", slot.entry.name(), item.message);
            Some((Err(item), None))
        }
    });
    futures::stream::once(async move { Ok(first) })
        .chain(tail)
        .boxed()
}

#[async_trait]
impl Provider for Route {
    fn name(&self) -> &str {
        "route"
    }

    async fn chat(&self, request: ChatRequest) -> Result<ChatStream, ProviderError> {
        Ok(self.chat_routed(request).await?.stream)
    }
}
