//! The approval broker: a tool that needs an operator's yes (a shell
//! command under the `ask` policy) parks its request here; operators see
//! it over the control protocol or `hearth approvals` and answer; an
//! unanswered request expires and counts as a no.
//!
//! Requests live in memory only. A request outlives neither its run nor
//! the process: after a restart the run is resumed and asks again, which
//! is the safe way round (an approval never applies to a command it was
//! not shown for).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hearth_core::{ApprovalDecision, ApprovalRequest, Approver, now_ms};
use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::{broadcast, oneshot};
use tokio_util::sync::CancellationToken;

/// How long a request waits for an answer by default: long enough for an
/// operator to look at their phone, short enough that a chat does not hang.
pub const DEFAULT_APPROVAL_TIMEOUT: Duration = Duration::from_secs(120);
/// Requests waiting at once. Past it new requests are refused at once
/// (counted as expired): a model looping on commands cannot grow the
/// table without bound.
pub const MAX_PENDING_APPROVALS: usize = 64;
/// Events kept for slow subscribers; a lagging one re-reads the list.
const EVENT_BUFFER: usize = 256;

/// A request waiting for an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingApproval {
    pub id: String,
    #[serde(flatten)]
    pub request: ApprovalRequest,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

/// What operators are told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalEvent {
    Requested(PendingApproval),
    Resolved {
        id: String,
        decision: ApprovalDecision,
    },
}

/// Why [`ApprovalBroker::resolve`] did nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("no pending approval {0:?} (it was answered, expired or never existed)")]
    Unknown(String),
}

struct Waiting {
    pending: PendingApproval,
    answer: oneshot::Sender<ApprovalDecision>,
}

pub struct ApprovalBroker {
    waiting: Mutex<BTreeMap<String, Waiting>>,
    events: broadcast::Sender<ApprovalEvent>,
    timeout: Duration,
}

impl std::fmt::Debug for ApprovalBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApprovalBroker")
            .field("waiting", &self.waiting.lock().len())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl ApprovalBroker {
    pub fn new(timeout: Duration) -> Arc<Self> {
        Arc::new(Self {
            waiting: Mutex::default(),
            events: broadcast::channel(EVENT_BUFFER).0,
            timeout,
        })
    }

    /// Requests waiting now, oldest first.
    pub fn pending(&self) -> Vec<PendingApproval> {
        let mut list: Vec<_> = self
            .waiting
            .lock()
            .values()
            .map(|w| w.pending.clone())
            .collect();
        list.sort_by_key(|p| p.created_at_ms);
        list
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ApprovalEvent> {
        self.events.subscribe()
    }

    /// Answers request `id`. `by` names the operator, for the audit trail.
    pub fn resolve(&self, id: &str, approve: bool, by: &str) -> Result<(), ResolveError> {
        let waiting = self
            .waiting
            .lock()
            .remove(id)
            .ok_or_else(|| ResolveError::Unknown(id.to_owned()))?;
        let by = by.to_owned();
        let decision = if approve {
            ApprovalDecision::Approved { by }
        } else {
            ApprovalDecision::Denied { by }
        };
        tracing::info!(approval = %id, command = %waiting.pending.request.command, ?decision, "approval answered");
        // The requester may have gone (run aborted) a moment ago: fine.
        let _ = waiting.answer.send(decision.clone());
        let _ = self.events.send(ApprovalEvent::Resolved {
            id: id.to_owned(),
            decision,
        });
        Ok(())
    }

    /// Removes `id` if still waiting and tells subscribers how it ended.
    fn close(&self, id: &str, decision: &ApprovalDecision) {
        if self.waiting.lock().remove(id).is_some() {
            let _ = self.events.send(ApprovalEvent::Resolved {
                id: id.to_owned(),
                decision: decision.clone(),
            });
        }
    }
}

#[async_trait]
impl Approver for ApprovalBroker {
    async fn approve(
        &self,
        request: ApprovalRequest,
        cancel: &CancellationToken,
    ) -> ApprovalDecision {
        let (answer, decision) = oneshot::channel();
        let created_at_ms = now_ms();
        let pending = PendingApproval {
            id: uuid::Uuid::new_v4().simple().to_string()[..12].to_owned(),
            request,
            created_at_ms,
            expires_at_ms: created_at_ms + self.timeout.as_millis() as i64,
        };
        let id = pending.id.clone();
        {
            let mut waiting = self.waiting.lock();
            if waiting.len() >= MAX_PENDING_APPROVALS {
                tracing::warn!(command = %pending.request.command, "too many approvals waiting; refusing");
                return ApprovalDecision::Expired;
            }
            waiting.insert(
                id.clone(),
                Waiting {
                    pending: pending.clone(),
                    answer,
                },
            );
        }
        tracing::info!(approval = %id, command = %pending.request.command, caller = %pending.request.caller, "approval requested");
        let _ = self.events.send(ApprovalEvent::Requested(pending));
        let outcome = tokio::select! {
            decision = decision => decision.unwrap_or(ApprovalDecision::Cancelled),
            _ = tokio::time::sleep(self.timeout) => ApprovalDecision::Expired,
            _ = cancel.cancelled() => ApprovalDecision::Cancelled,
        };
        self.close(&id, &outcome);
        outcome
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }
}
