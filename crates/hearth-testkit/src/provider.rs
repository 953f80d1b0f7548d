//! Test doubles and contract checks for [`Provider`]: a scripted provider
//! whose answers a test lays out call by call, and the stream contract every
//! real provider's tests assert.

use async_trait::async_trait;
use futures::StreamExt;
use hearth_core::{
    ChatEvent, ChatRequest, ChatStream, FinishReason, Provider, ProviderError, Usage,
};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::time::Instant;

/// What a [`ScriptedProvider`] does on one call.
#[derive(Debug, Clone)]
pub enum Reply {
    /// `chat` fails before any event.
    Fail(ProviderError),
    /// `chat` succeeds and the stream yields these items.
    Stream(Vec<Result<ChatEvent, ProviderError>>),
    /// `chat` succeeds, the stream yields these events, then never ends
    /// (for idle-timeout tests).
    StreamThenHang(Vec<ChatEvent>),
    /// `chat` never returns (for first-event timeout tests).
    Hang,
}

impl Reply {
    /// A complete answer: one text delta, usage, `Finished(Stop)`.
    pub fn text(text: &str) -> Reply {
        Reply::Stream(vec![
            Ok(ChatEvent::TextDelta(text.to_string())),
            Ok(ChatEvent::Usage(Usage {
                input_tokens: 1,
                output_tokens: 1,
            })),
            Ok(ChatEvent::Finished(FinishReason::Stop)),
        ])
    }

    /// An answer that calls tools: `(id, name, arguments JSON text)` each,
    /// streamed as one fragment per call, then `Finished(ToolCalls)`.
    pub fn tool_calls(calls: &[(&str, &str, &str)]) -> Reply {
        let mut events: Vec<Result<ChatEvent, ProviderError>> = calls
            .iter()
            .enumerate()
            .map(|(index, (id, name, arguments))| {
                Ok(ChatEvent::ToolCallDelta {
                    index: index as u32,
                    id: Some(id.to_string()),
                    name: Some(name.to_string()),
                    arguments: arguments.to_string(),
                })
            })
            .collect();
        events.push(Ok(ChatEvent::Finished(FinishReason::ToolCalls)));
        Reply::Stream(events)
    }
}

/// A provider that replays scripted [`Reply`]s in order, then repeats its
/// default reply, and records every request and when it arrived (in tokio
/// time, so paused-clock tests can check backoff).
#[derive(Debug)]
pub struct ScriptedProvider {
    name: String,
    script: Mutex<VecDeque<Reply>>,
    default: Reply,
    calls: Mutex<Vec<(Instant, ChatRequest)>>,
    /// Set when a stream this provider returned is dropped.
    dropped: Arc<AtomicBool>,
}

impl ScriptedProvider {
    /// `default` answers every call after the script runs out.
    pub fn new(name: &str, script: impl IntoIterator<Item = Reply>, default: Reply) -> Arc<Self> {
        Arc::new(Self {
            name: name.to_string(),
            script: Mutex::new(script.into_iter().collect()),
            default,
            calls: Mutex::new(Vec::new()),
            dropped: Arc::new(AtomicBool::new(false)),
        })
    }

    /// A provider that always gives `reply`.
    pub fn always(name: &str, reply: Reply) -> Arc<Self> {
        Self::new(name, [], reply)
    }

    /// How many times `chat` was called.
    pub fn call_count(&self) -> usize {
        self.calls.lock().len()
    }

    /// The requests received, in order.
    pub fn requests(&self) -> Vec<ChatRequest> {
        self.calls.lock().iter().map(|(_, r)| r.clone()).collect()
    }

    /// When each call arrived.
    pub fn call_times(&self) -> Vec<Instant> {
        self.calls.lock().iter().map(|(t, _)| *t).collect()
    }

    /// Whether a stream returned by this provider has been dropped.
    pub fn stream_dropped(&self) -> bool {
        self.dropped.load(Ordering::SeqCst)
    }
}

/// Sets a flag when dropped; carried inside returned streams.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[async_trait]
impl Provider for ScriptedProvider {
    fn name(&self) -> &str {
        &self.name
    }

    async fn chat(&self, request: ChatRequest) -> Result<ChatStream, ProviderError> {
        self.calls.lock().push((Instant::now(), request));
        let reply = self
            .script
            .lock()
            .pop_front()
            .unwrap_or_else(|| self.default.clone());
        let flag = DropFlag(self.dropped.clone());
        match reply {
            Reply::Fail(err) => Err(err),
            Reply::Hang => futures::future::pending().await,
            Reply::Stream(items) => Ok(futures::stream::iter(items)
                .map(move |item| {
                    let _keep = &flag;
                    item
                })
                .boxed()),
            Reply::StreamThenHang(events) => Ok(futures::stream::iter(events.into_iter().map(Ok))
                .chain(futures::stream::pending())
                .map(move |item| {
                    let _keep = &flag;
                    item
                })
                .boxed()),
        }
    }
}

/// Asserts the [`Provider`] stream contract on the events of one
/// successful answer: exactly one `Finished`, and it comes last; at most one
/// `Usage`; every tool call's first fragment names it, and tool-call indexes
/// start at 0 and have no gaps (so [`hearth_core::Completion::apply`] never
/// invents an empty call).
pub fn assert_stream_contract(events: &[ChatEvent]) {
    let finished: Vec<_> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e, ChatEvent::Finished(_)))
        .collect();
    assert_eq!(finished.len(), 1, "exactly one Finished: {events:?}");
    assert_eq!(
        finished[0].0,
        events.len() - 1,
        "Finished comes last: {events:?}"
    );
    let usages = events
        .iter()
        .filter(|e| matches!(e, ChatEvent::Usage(_)))
        .count();
    assert!(usages <= 1, "at most one Usage: {events:?}");
    let mut seen: Vec<u32> = Vec::new();
    for e in events {
        if let ChatEvent::ToolCallDelta {
            index, id, name, ..
        } = e
            && !seen.contains(index)
        {
            assert_eq!(
                *index as usize,
                seen.len(),
                "tool-call indexes are dense: {events:?}"
            );
            assert!(
                id.is_some() && name.is_some(),
                "a tool call's first fragment carries id and name: {events:?}"
            );
            seen.push(*index);
        }
    }
}
