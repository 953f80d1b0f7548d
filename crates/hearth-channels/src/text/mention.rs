//! Whether a group message addresses the bot by name, for platforms
//! where a mention is only text (IRC, XMPP rooms).

/// If `text` addresses `nick` (`nick: hi`, `nick, hi`, or the nick as a
/// word anywhere), the text without a leading address. Case-insensitive,
/// as IRC nicks are.
pub fn addressed(text: &str, nick: &str) -> Option<String> {
    let lower = text.to_lowercase();
    let nick = nick.to_lowercase();
    if let Some(rest) = lower.strip_prefix(&nick)
        && rest.starts_with([':', ',', ' '])
    {
        let cut = text.len() - rest.len();
        return Some(text[cut..].trim_start_matches([':', ',', ' ']).to_owned());
    }
    let word_char = |c: char| c.is_alphanumeric() || "_-[]\\`^{}|".contains(c);
    let found = lower.match_indices(&nick).any(|(at, _)| {
        let before = lower[..at].chars().next_back();
        let after = lower[at + nick.len()..].chars().next();
        !before.is_some_and(word_char) && !after.is_some_and(word_char)
    });
    found.then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::addressed;

    #[test]
    fn mentions_are_found_and_stripped() {
        assert_eq!(
            addressed("hearth: what time", "Hearth").as_deref(),
            Some("what time")
        );
        assert_eq!(addressed("HEARTH, hi", "hearth").as_deref(), Some("hi"));
        assert_eq!(
            addressed("ask hearth about it", "hearth").as_deref(),
            Some("ask hearth about it")
        );
        assert_eq!(addressed("hearthstone is a game", "hearth"), None);
        assert_eq!(addressed("the_hearth_ bot", "hearth"), None);
    }
}
