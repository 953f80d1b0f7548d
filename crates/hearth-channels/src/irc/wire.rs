//! IRC lines (RFC 1459 / 2812 with IRCv3 tags): parsing what the server
//! sends and formatting what the client sends. Private to the adapter.
//!
//! Hand-written: the grammar is one line of prefix, command and
//! parameters, smaller than any crate's API around it.

/// One parsed line, borrowing from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Line<'a> {
    /// The sender (`nick!user@host` or a server name), without the `:`.
    pub prefix: Option<&'a str>,
    /// Upper-case command or three-digit numeric.
    pub command: &'a str,
    pub params: Vec<&'a str>,
}

impl<'a> Line<'a> {
    /// Parses a line without its CR LF. `None` for an empty or
    /// command-less line.
    pub fn parse(mut line: &'a str) -> Option<Self> {
        // IRCv3 message tags: not used by this adapter.
        if line.starts_with('@') {
            line = line.split_once(' ')?.1.trim_start();
        }
        let mut prefix = None;
        if let Some(rest) = line.strip_prefix(':') {
            let (p, rest) = rest.split_once(' ')?;
            prefix = Some(p);
            line = rest.trim_start();
        }
        let (head, trailing) = match line.split_once(" :") {
            Some((head, trailing)) => (head, Some(trailing)),
            None => (line, None),
        };
        let mut words = head.split(' ').filter(|w| !w.is_empty());
        let command = words.next()?;
        let mut params: Vec<&str> = words.collect();
        params.extend(trailing);
        Some(Self {
            prefix,
            command,
            params,
        })
    }

    /// The nick in a `nick!user@host` prefix.
    pub fn nick(&self) -> Option<&'a str> {
        let prefix = self.prefix?;
        Some(prefix.split_once('!').map_or(prefix, |(nick, _)| nick))
    }

    pub fn param(&self, index: usize) -> &'a str {
        self.params.get(index).copied().unwrap_or("")
    }
}

/// True for a channel name (as opposed to a nick).
pub(super) fn is_channel(target: &str) -> bool {
    target.starts_with(['#', '&', '+', '!'])
}

/// Removes what would let text break out of one IRC line or one
/// parameter: CR, LF and NUL.
pub(super) fn sanitize(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '\r' | '\n' | '\0'))
        .collect()
}

/// A CTCP request (`\x01VERSION\x01`): not a message for the assistant.
pub(super) fn is_ctcp(text: &str) -> bool {
    text.starts_with('\u{1}')
}
