//! The runtime as the [`Pipeline`] chat channels feed: their messages take
//! the same path as the gateway's (durable accept, lane, turn, outbox).

use async_trait::async_trait;
use hearth_core::{Admission, InboundError, InboundMessage, Pipeline};

use crate::runtime::{Runtime, SubmitError, Submitted};

#[async_trait]
impl Pipeline for Runtime {
    async fn submit(&self, message: InboundMessage) -> Result<Admission, InboundError> {
        match Runtime::submit(self, message).await {
            Ok(Submitted::Accepted { .. }) => Ok(Admission::Accepted),
            Ok(Submitted::Duplicate(_)) => Ok(Admission::Duplicate),
            Err(SubmitError::ShuttingDown) => Err(InboundError::ShuttingDown),
            Err(error @ SubmitError::UnknownAgent(_)) => {
                Err(InboundError::Rejected(error.to_string()))
            }
            // Full, starting, or the store failed: the platform should
            // redeliver later where it can.
            Err(error) => Err(InboundError::Busy(error.to_string())),
        }
    }
}
