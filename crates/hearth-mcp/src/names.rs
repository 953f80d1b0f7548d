//! The names MCP tools are offered under: `<server>__<tool>`, within what
//! OpenAI and Anthropic accept for a tool name (`^[a-zA-Z0-9_-]{1,64}$`).
//!
//! A server's tool names are free text, so characters outside that set
//! become `_`, and a name too long (or taken by an earlier tool of the same
//! server) is cut and given a suffix hashed from the server's own name. The
//! hash is FNV-1a, written out here, so a name stays the same across
//! restarts and Rust versions, and a model's transcript keeps naming the
//! same tool.

use std::collections::HashSet;

/// Between the server's name and the tool's.
pub const SEPARATOR: &str = "__";

/// The longest tool name model APIs accept.
pub const MAX_TOOL_NAME: usize = 64;

/// `_` and eight hex digits.
const SUFFIX_LEN: usize = 9;

/// The names given out for one server, so that two of its tools never
/// share one.
#[derive(Debug, Default)]
pub(crate) struct NameTable {
    taken: HashSet<String>,
}

impl NameTable {
    /// The name for `tool` of `server`, unique in this table; `None` only
    /// if even the hashed form is taken (two names with one hash).
    pub(crate) fn assign(&mut self, server: &str, tool: &str) -> Option<String> {
        let plain = exposed_name(server, tool);
        if self.taken.insert(plain.clone()) {
            return Some(plain);
        }
        let hashed = hashed_name(server, tool);
        self.taken.insert(hashed.clone()).then_some(hashed)
    }
}

/// `<server>__<tool>`, sanitized, and cut with a hash suffix when longer
/// than [`MAX_TOOL_NAME`].
pub fn exposed_name(server: &str, tool: &str) -> String {
    let name = format!("{server}{SEPARATOR}{}", sanitize(tool));
    if name.len() <= MAX_TOOL_NAME {
        name
    } else {
        hashed_name(server, tool)
    }
}

fn hashed_name(server: &str, tool: &str) -> String {
    let mut name = format!("{server}{SEPARATOR}{}", sanitize(tool));
    // Every character is ASCII after sanitizing, so any cut is a boundary.
    name.truncate(MAX_TOOL_NAME - SUFFIX_LEN);
    let hash = fnv1a(tool.as_bytes());
    name.push_str(&format!("_{:08x}", (hash >> 32) as u32 ^ hash as u32));
    name
}

fn sanitize(tool: &str) -> String {
    tool.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(name: &str) -> bool {
        (1..=MAX_TOOL_NAME).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    }

    #[test]
    fn plain_names_are_prefixed() {
        assert_eq!(exposed_name("files", "read_file"), "files__read_file");
        assert_eq!(exposed_name("ev", "get-sum"), "ev__get-sum");
    }

    #[test]
    fn odd_characters_become_underscores() {
        assert_eq!(exposed_name("x", "a.b/c d"), "x__a_b_c_d");
        assert_eq!(exposed_name("x", "café"), "x__caf_");
        assert!(valid(&exposed_name("x", "🙂")));
    }

    #[test]
    fn long_names_are_cut_with_a_stable_hash() {
        let server = "s".repeat(32);
        let tool = "t".repeat(100);
        let name = exposed_name(&server, &tool);
        assert_eq!(name.len(), MAX_TOOL_NAME);
        assert!(valid(&name), "{name}");
        assert_eq!(name, exposed_name(&server, &tool), "stable");
        let other = exposed_name(&server, &format!("{tool}x"));
        assert_ne!(name, other, "names differing past the cut differ");
        // Pinned, so a change of hash (which would rename tools under a
        // model's feet) shows up here.
        assert_eq!(
            exposed_name("srv", &"x".repeat(80)),
            format!("srv__{}_{:08x}", "x".repeat(50), {
                let h = fnv1a("x".repeat(80).as_bytes());
                (h >> 32) as u32 ^ h as u32
            })
        );
    }

    #[test]
    fn names_that_sanitize_alike_stay_distinct() {
        let mut table = NameTable::default();
        let a = table.assign("x", "a.b").unwrap();
        let b = table.assign("x", "a_b").unwrap();
        let c = table.assign("x", "a b").unwrap();
        assert_eq!(a, "x__a_b");
        assert_ne!(a, b);
        assert_ne!(b, c);
        for name in [a, b, c] {
            assert!(valid(&name), "{name}");
        }
    }
}
