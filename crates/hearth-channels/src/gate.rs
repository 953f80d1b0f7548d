//! The gate between an adapter and the pipeline: applies the channel's
//! access policy, runs pairing for unknown senders, limits each sender's
//! rate, names the session, and makes the message's id from the
//! platform's so a redelivered message is recognised as a duplicate.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hearth_core::{
    Admission, AgentId, Channel, Conversation, InboundError, InboundMessage, InboundSink,
    OutboundMessage, PairingOutcome, PairingStore, Pipeline, PlatformMessage, SessionKey, now_ms,
};
use rand::Rng;

use crate::access::{AccessConfig, Decision, decide};
use crate::identity::IdentityLinks;
use crate::limits::SenderLimiter;
use crate::typing::Typing;

/// How long a pairing code stays valid.
pub const PAIRING_TTL: Duration = Duration::from_secs(60 * 60);
/// Live codes one channel holds at most; further strangers are ignored
/// until one expires or is approved, so nobody can flood the table.
pub const MAX_PENDING_PAIRINGS: usize = 3;
/// Characters of a code: no 0/O, 1/I/L, so it reads back unambiguously.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CODE_LEN: usize = 8;

/// A new pairing code.
pub fn pairing_code() -> String {
    let mut rng = rand::rng();
    (0..CODE_LEN)
        .map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char)
        .collect()
}

/// Everything the gate of one channel needs.
pub struct Gate {
    pub channel: Arc<dyn Channel>,
    pub agent: AgentId,
    pub access: AccessConfig,
    pub links: Arc<IdentityLinks>,
    pub pairing: Arc<dyn PairingStore>,
    pub pipeline: Arc<dyn Pipeline>,
    pub limiter: SenderLimiter,
    pub typing: Arc<Typing>,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("channel", &self.channel.name())
            .field("agent", &self.agent)
            .field("access", &self.access)
            .finish()
    }
}

/// `agent:<agent>:<channel>:<direct|group>:<id>[:<thread>]`, or
/// `agent:<agent>:person:<name>` for a direct chat with a linked identity,
/// so one person's chats on several platforms share one session.
pub fn session_key(
    agent: &AgentId,
    channel: &str,
    conversation: &Conversation,
    sender_id: &str,
    links: &IdentityLinks,
) -> Result<SessionKey, hearth_core::InvalidId> {
    if !conversation.is_group()
        && let Some(person) = links.person(channel, sender_id)
    {
        return SessionKey::for_agent(agent, &format!("person:{person}"));
    }
    let kind = if conversation.is_group() {
        "group"
    } else {
        "direct"
    };
    let mut rest = format!("{channel}:{kind}:{}", conversation.id);
    if let Some(thread) = &conversation.thread {
        rest.push(':');
        rest.push_str(thread);
    }
    SessionKey::for_agent(agent, &rest)
}

impl Gate {
    /// The run id: the platform's message id scoped by channel and
    /// conversation (ids are per chat on some platforms), so a redelivery
    /// maps to the same run; a fresh id where the platform gives none.
    fn run_id(&self, message: &PlatformMessage) -> String {
        match &message.origin.message_id {
            Some(id) => format!(
                "{}:{}:{}",
                message.channel, message.origin.conversation.id, id
            ),
            None => format!("{}:{}", message.channel, uuid_like()),
        }
    }

    async fn offer_code(&self, message: &PlatformMessage) -> Result<Admission, InboundError> {
        let now = now_ms();
        let outcome = self
            .pairing
            .request_pairing(
                &message.channel,
                &message.origin.sender,
                &pairing_code(),
                now,
                PAIRING_TTL.as_millis() as i64,
                MAX_PENDING_PAIRINGS,
            )
            .await
            .map_err(|e| InboundError::Busy(e.to_string()))?;
        let request = match outcome {
            PairingOutcome::Created(request) => request,
            // Told once already; do not answer every message with it.
            PairingOutcome::Existing(_) => return Ok(Admission::PairingPending),
            PairingOutcome::TooMany => return Ok(Admission::Ignored("too many pending pairings")),
        };
        tracing::info!(channel = %message.channel, sender = %request.sender.id, "pairing code issued");
        let text = format!(
            "Hello! I only talk with people my owner knows. Ask them to run:\n\n\
             hearth pairing approve {} {}\n\n\
             (the code is valid for one hour).",
            message.channel, request.code
        );
        let prompt = OutboundMessage {
            idempotency_key: format!("pairing:{}:{}", message.channel, request.code),
            session_key: session_key(
                &self.agent,
                &message.channel,
                &message.origin.conversation,
                &message.origin.sender.id,
                &self.links,
            )
            .map_err(|e| InboundError::Rejected(e.to_string()))?,
            channel: message.channel.clone(),
            text,
            to: Some(message.origin.conversation.clone()),
            reply_to: message.origin.message_id.clone(),
        };
        // Not through the outbox: a lost prompt costs nothing, the sender
        // writes again and the code is listed by `hearth pairing list`.
        if let Err(error) = self.channel.send(&prompt).await {
            tracing::warn!(channel = %message.channel, %error, "could not send the pairing code");
        }
        Ok(Admission::PairingPending)
    }
}

#[async_trait]
impl InboundSink for Gate {
    async fn submit(&self, message: PlatformMessage) -> Result<Admission, InboundError> {
        let origin = &message.origin;
        match decide(&self.access, origin) {
            Decision::Admit => {}
            Decision::Ignore(reason) => return Ok(Admission::Ignored(reason)),
            Decision::CheckApproval { offer_code } => {
                let approved = self
                    .pairing
                    .is_approved(&message.channel, &origin.sender.id)
                    .await
                    .map_err(|e| InboundError::Busy(e.to_string()))?;
                if !approved {
                    if offer_code {
                        return self.offer_code(&message).await;
                    }
                    return Ok(Admission::Ignored("sender not allowed"));
                }
            }
        }
        if !self.limiter.allow(&message.channel, &origin.sender.id) {
            return Ok(Admission::Ignored("sender over the rate limit"));
        }
        let session_key = session_key(
            &self.agent,
            &message.channel,
            &origin.conversation,
            &origin.sender.id,
            &self.links,
        )
        .map_err(|e| InboundError::Rejected(e.to_string()))?;
        let run_id = self.run_id(&message);
        self.typing
            .remember(&run_id, self.channel.clone(), origin.conversation.clone());
        let inbound = InboundMessage {
            id: run_id,
            session_key,
            agent_id: self.agent.clone(),
            channel: message.channel,
            text: message.text,
            context: Vec::new(),
            received_at_ms: message.received_at_ms,
            origin: Some(message.origin),
        };
        self.pipeline.submit(inbound).await
    }
}

/// 128 random bits in hex: unique enough for run ids of platforms that
/// give messages no id of their own.
fn uuid_like() -> String {
    let bits: u128 = rand::rng().random();
    format!("{bits:032x}")
}
