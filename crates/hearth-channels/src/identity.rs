//! Identity links: one person's accounts on several channels, named once
//! in the config (`[identity_links] alice = ["irc:alice", "telegram:42"]`),
//! share one direct-chat session.

use std::collections::{BTreeMap, HashMap};

/// `channel:sender id` → person, built from the config's lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdentityLinks {
    by_account: HashMap<(String, String), String>,
}

impl IdentityLinks {
    /// From `person → ["channel:sender", ...]`. Refuses an entry without a
    /// channel, a person name that cannot be part of a session key, and an
    /// account linked to two people.
    pub fn new(links: &BTreeMap<String, Vec<String>>) -> Result<Self, String> {
        let mut by_account = HashMap::new();
        for (person, accounts) in links {
            if person.is_empty()
                || !person
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '.')
            {
                return Err(format!(
                    "identity_links: {person:?} must be a name of letters, digits, '-', '_' or '.'"
                ));
            }
            for account in accounts {
                let Some((channel, sender)) = account.split_once(':') else {
                    return Err(format!(
                        "identity_links.{person}: {account:?} must be \"<channel>:<sender id>\""
                    ));
                };
                if channel.is_empty() || sender.is_empty() {
                    return Err(format!(
                        "identity_links.{person}: {account:?} must be \"<channel>:<sender id>\""
                    ));
                }
                let key = (channel.to_owned(), sender.to_owned());
                if let Some(other) = by_account.insert(key, person.clone()) {
                    return Err(format!(
                        "identity_links: {account:?} is linked to both {other:?} and {person:?}"
                    ));
                }
            }
        }
        Ok(Self { by_account })
    }

    /// The person an account belongs to.
    pub fn person(&self, channel: &str, sender_id: &str) -> Option<&str> {
        self.by_account
            .get(&(channel.to_owned(), sender_id.to_owned()))
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_map_accounts_to_people_and_refuse_ambiguity() {
        let mut config = BTreeMap::new();
        config.insert(
            "alice".to_owned(),
            vec!["irc:alice".to_owned(), "telegram:42".to_owned()],
        );
        let links = IdentityLinks::new(&config).unwrap();
        assert_eq!(links.person("telegram", "42"), Some("alice"));
        assert_eq!(links.person("irc", "42"), None);

        config.insert("bob".to_owned(), vec!["irc:alice".to_owned()]);
        assert!(IdentityLinks::new(&config).unwrap_err().contains("both"));
        config.remove("bob");
        config.insert("carol".to_owned(), vec!["no-channel".to_owned()]);
        assert!(IdentityLinks::new(&config).is_err());
    }
}
