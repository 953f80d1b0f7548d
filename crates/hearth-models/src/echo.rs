//! The `echo` provider, FOR BENCHMARKS AND TESTS ONLY: it answers at once
//! with the text of the last user message.
//!
//! It exists to measure the gateway's own overhead (channels, store, agent
//! loop) without a model in the way, at thousands of turns per second, and
//! to give end-to-end tests a deterministic model. It does no IO, spawns
//! nothing and allocates only the answer itself. Its "token" counts are
//! whitespace-separated words: cheap, deterministic, and not comparable to
//! any real tokenizer.

use async_trait::async_trait;
use futures::StreamExt;
use hearth_core::{
    ChatEvent, ChatRequest, ChatStream, FinishReason, Provider, ProviderError, Role, Usage,
};

/// See the module documentation: not a model, a mirror.
#[derive(Debug, Clone, Copy, Default)]
pub struct EchoProvider;

impl EchoProvider {
    pub fn new() -> Self {
        Self
    }
}

fn words(text: &str) -> u32 {
    u32::try_from(text.split_whitespace().count()).unwrap_or(u32::MAX)
}

#[async_trait]
impl Provider for EchoProvider {
    fn name(&self) -> &str {
        "echo"
    }

    async fn chat(&self, request: ChatRequest) -> Result<ChatStream, ProviderError> {
        let answer = request
            .messages
            .iter()
            .rev()
            .find(|m| m.role == Role::User)
            .map(|m| m.content.clone())
            .unwrap_or_default();
        let usage = Usage {
            input_tokens: request
                .messages
                .iter()
                .map(|m| words(&m.content))
                .fold(0u32, u32::saturating_add),
            output_tokens: words(&answer),
        };
        // One delta, not one per word: the point is to measure the gateway,
        // and real providers' first-delta path is what matters most.
        let events = [
            Ok(ChatEvent::TextDelta(answer)),
            Ok(ChatEvent::Usage(usage)),
            Ok(ChatEvent::Finished(FinishReason::Stop)),
        ];
        Ok(futures::stream::iter(events).boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_core::ChatMessage;

    #[tokio::test]
    async fn echoes_the_last_user_message() {
        let request = ChatRequest {
            model: String::new(),
            messages: vec![
                ChatMessage::system("be brief"),
                ChatMessage::user("first"),
                ChatMessage::assistant("ok"),
                ChatMessage::user("hello there"),
                ChatMessage::tool_result("c1", "tool output"),
            ],
            ..Default::default()
        };
        let mut stream = EchoProvider::new().chat(request.clone()).await.unwrap();
        let mut events = Vec::new();
        while let Some(e) = stream.next().await {
            events.push(e.unwrap());
        }
        hearth_testkit::provider::assert_stream_contract(&events);
        assert_eq!(events[0], ChatEvent::TextDelta("hello there".into()));
        assert_eq!(
            events[1],
            ChatEvent::Usage(Usage {
                input_tokens: 8,
                output_tokens: 2
            })
        );
        let done = EchoProvider::new().complete(request).await.unwrap();
        assert_eq!(done.text, "hello there");
        assert_eq!(done.finish_reason, Some(FinishReason::Stop));
    }

    #[tokio::test]
    async fn no_user_message_gives_an_empty_answer() {
        let request = ChatRequest {
            messages: vec![ChatMessage::system("s")],
            ..Default::default()
        };
        let done = EchoProvider::new().complete(request).await.unwrap();
        assert_eq!(done.text, "");
        assert_eq!(done.finish_reason, Some(FinishReason::Stop));
    }

    #[tokio::test]
    async fn is_cheap_enough_for_overhead_benchmarks() {
        // A loose bound that still fails if someone adds IO or a sleep: the
        // gateway benchmark needs well over 1000 turns/s from it.
        let request = ChatRequest {
            messages: vec![ChatMessage::user("ping")],
            ..Default::default()
        };
        let provider = EchoProvider::new();
        let start = std::time::Instant::now();
        for _ in 0..2000 {
            let done = provider.complete(request.clone()).await.unwrap();
            assert_eq!(done.text, "ping");
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
    }
}
