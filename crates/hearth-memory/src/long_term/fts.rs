//! Turning a user's query into an FTS5 query over the trigram index.
//!
//! The trigram tokenizer indexes every three-character substring, so a
//! quoted term matches wherever it occurs as a substring, in any script.
//! Latin words of three letters or more become quoted terms, OR-ed so BM25
//! ranks rows by how many (and how rare) of them they hold. A run of CJK
//! characters has no spaces to split on, so it contributes each of its
//! trigrams as a term. Two-character CJK words (common in Chinese) are
//! shorter than a trigram: when a query has nothing longer, it is answered
//! with LIKE, which scans but still finds them.

/// How to search the text of items for one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextQuery {
    /// An FTS5 `MATCH` expression.
    Match(String),
    /// Substrings too short for the trigram index.
    Like(Vec<String>),
    /// Nothing searchable (stopwords only, or empty).
    Nothing,
}

/// Words so common they only add noise (and cost) to BM25.
pub const STOPWORDS: &[&str] = &[
    "the", "and", "for", "are", "but", "not", "you", "your", "with", "this", "that", "from",
    "have", "has", "was", "were", "what", "when", "where", "which", "who", "how", "why", "can",
    "does", "did", "about", "into", "than", "then", "them", "they", "their", "there", "these",
    "those", "will", "would", "could", "should", "our", "its", "all", "any", "some", "also",
];

/// Terms of a query kept, longest first (longer substrings are rarer, so
/// they carry the ranking; every term kept costs a posting-list scan and
/// scoring of every row it matches).
const MAX_TERMS: usize = 8;

pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF     // Hiragana, Katakana
        | 0x3400..=0x4DBF   // CJK Extension A
        | 0x4E00..=0x9FFF   // CJK Unified Ideographs
        | 0xAC00..=0xD7AF   // Hangul syllables
        | 0xF900..=0xFAFF   // CJK Compatibility Ideographs
        | 0x20000..=0x2FA1F // Extensions B and later
    )
}

pub fn build(query: &str) -> TextQuery {
    let mut terms: Vec<String> = Vec::new();
    let mut short: Vec<String> = Vec::new();
    for run in runs(query) {
        match run {
            Run::Word(word) => {
                let word = word.to_lowercase();
                if word.chars().count() >= 3 && !STOPWORDS.contains(&word.as_str()) {
                    terms.push(word);
                }
            }
            Run::Cjk(chars) => match chars.len() {
                0 | 1 => {}
                2 => short.push(chars.iter().collect()),
                _ => terms.extend(chars.windows(3).map(|w| w.iter().collect::<String>())),
            },
        }
    }
    dedup(&mut terms);
    dedup(&mut short);
    if !terms.is_empty() {
        if terms.len() > MAX_TERMS {
            // Stable: among equal lengths the query's order decides.
            terms.sort_by_key(|t| std::cmp::Reverse(t.chars().count()));
            terms.truncate(MAX_TERMS);
        }
        let quoted: Vec<String> = terms
            .iter()
            .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
            .collect();
        TextQuery::Match(quoted.join(" OR "))
    } else if !short.is_empty() {
        short.truncate(MAX_TERMS);
        TextQuery::Like(short)
    } else {
        TextQuery::Nothing
    }
}

fn dedup(terms: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    terms.retain(|t| seen.insert(t.clone()));
}

enum Run {
    Word(String),
    Cjk(Vec<char>),
}

/// Splits text into alphanumeric words and runs of CJK characters;
/// everything else separates them.
fn runs(text: &str) -> Vec<Run> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut cjk = Vec::new();
    for c in text.chars() {
        if is_cjk(c) {
            if !word.is_empty() {
                out.push(Run::Word(std::mem::take(&mut word)));
            }
            cjk.push(c);
        } else {
            if !cjk.is_empty() {
                out.push(Run::Cjk(std::mem::take(&mut cjk)));
            }
            if c.is_alphanumeric() || c == '_' {
                word.push(c);
            } else if !word.is_empty() {
                out.push(Run::Word(std::mem::take(&mut word)));
            }
        }
    }
    if !word.is_empty() {
        out.push(Run::Word(word));
    }
    if !cjk.is_empty() {
        out.push(Run::Cjk(cjk));
    }
    out
}

/// Escapes `%`, `_` and `\` for a LIKE pattern with `ESCAPE '\'`.
pub fn like_pattern(term: &str) -> String {
    let mut out = String::from("%");
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_words_become_or_terms_without_stopwords() {
        assert_eq!(
            build("What is the Rust borrow checker?"),
            TextQuery::Match("\"rust\" OR \"borrow\" OR \"checker\"".into())
        );
    }

    #[test]
    fn cjk_runs_become_trigrams() {
        assert_eq!(
            build("北京烤鸭"),
            TextQuery::Match("\"北京烤\" OR \"京烤鸭\"".into())
        );
    }

    #[test]
    fn two_character_chinese_words_fall_back_to_like() {
        assert_eq!(
            build("北京 天气"),
            TextQuery::Like(vec!["北京".into(), "天气".into()])
        );
    }

    #[test]
    fn long_queries_keep_their_longest_terms() {
        let query = "alpha bravo charlie delta echo foxtrot golf hotel india juliett kilo";
        let TextQuery::Match(expression) = build(query) else {
            panic!("a match")
        };
        assert_eq!(expression.matches(" OR ").count(), MAX_TERMS - 1);
        assert!(expression.contains("\"foxtrot\"") && expression.contains("\"juliett\""));
        assert!(!expression.contains("\"golf\""), "{expression}");
    }

    #[test]
    fn quotes_cannot_break_out_of_a_term() {
        assert_eq!(
            build("say\"hello\" OR x"),
            TextQuery::Match("\"say\" OR \"hello\"".into())
        );
        assert_eq!(build("a an to"), TextQuery::Nothing);
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_a"), "%50\\%\\_a%");
    }
}
