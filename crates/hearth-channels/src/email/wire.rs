//! Mail as the adapter reads it (mail-parser) and writes it (lettre).
//! Private to the adapter.

use mail_parser::{HeaderValue, MessageParser};

/// What the adapter needs of one received mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Received {
    /// The sender's address, lower case.
    pub from: String,
    pub from_name: Option<String>,
    /// Without angle brackets.
    pub message_id: Option<String>,
    pub subject: String,
    /// The thread's ids, oldest first (References, then In-Reply-To).
    pub references: Vec<String>,
    /// The new text: quoted lines and the signature dropped.
    pub text: String,
    /// An auto-reply, a bounce or list traffic: never answered (mail loops).
    pub automatic: bool,
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(id) => vec![id.to_string()],
        HeaderValue::TextList(list) => list.iter().map(|id| id.to_string()).collect(),
        _ => Vec::new(),
    }
}

/// The part a person wrote: up to the signature separator, without the
/// quoted tail (`> ...` lines and the "On ... wrote:" line before them).
pub(super) fn new_text(body: &str) -> String {
    let mut lines: Vec<&str> = Vec::new();
    for line in body.lines() {
        if line == "-- " || line == "--" {
            break;
        }
        lines.push(line);
    }
    while let Some(last) = lines.last() {
        let trimmed = last.trim();
        let quoted = trimmed.is_empty() || trimmed.starts_with('>');
        let attribution = trimmed.ends_with("wrote:") && lines.len() > 1;
        if !(quoted || attribution) {
            break;
        }
        lines.pop();
    }
    lines.join("\n").trim().to_owned()
}

pub(super) fn parse(raw: &[u8]) -> Option<Received> {
    let message = MessageParser::default().parse(raw)?;
    let from = message.from()?.first()?;
    let address = from.address()?.to_lowercase();
    let mut references = ids(message.references());
    for id in ids(message.in_reply_to()) {
        if !references.contains(&id) {
            references.push(id);
        }
    }
    let header = |name: &str| {
        message
            .header_raw(name)
            .map(|v| v.trim().to_lowercase())
            .unwrap_or_default()
    };
    let auto_submitted = header("Auto-Submitted");
    let precedence = header("Precedence");
    let automatic = (!auto_submitted.is_empty() && auto_submitted != "no")
        || matches!(precedence.as_str(), "bulk" | "list" | "junk")
        || message.header_raw("List-Id").is_some()
        || address.starts_with("mailer-daemon@")
        || address.starts_with("postmaster@");
    Some(Received {
        from: address,
        from_name: from.name().map(str::to_owned),
        message_id: message.message_id().map(str::to_owned),
        subject: message.subject().unwrap_or_default().to_owned(),
        references,
        text: new_text(&message.body_text(0).unwrap_or_default()),
        automatic,
    })
}

/// `Re: <subject>`, without stacking `Re: Re:`.
pub(super) fn reply_subject(subject: &str) -> String {
    let trimmed = subject.trim();
    if trimmed.to_lowercase().starts_with("re:") {
        trimmed.to_owned()
    } else if trimmed.is_empty() {
        "Re: your message".to_owned()
    } else {
        format!("Re: {trimmed}")
    }
}
