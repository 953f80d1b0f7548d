//! The keyword half of hybrid search: an in-memory BM25 index over the
//! words of every item, held beside the vector index and filtered by the
//! same in-memory fields.
//!
//! Why not FTS5 for this: FTS5 scores every row a query matches and its
//! trigram phrases need position merges per row, so a query of ordinary
//! words costs 10–30 ms at 100k items (measured, see docs/benchmarks.md);
//! joining the rows for the filter adds more. Here a query walks only the
//! posting lists of its rarest words and checks the filter in memory, well
//! under a millisecond. FTS5 stays as the durable substring index and
//! answers what words cannot (a fragment inside a word, a CJK run).
//!
//! Words are lowercased alphanumeric runs with a light plural stemmer;
//! CJK text, which has no spaces, becomes overlapping character bigrams
//! (the usual approach for Chinese and Japanese; it also finds the
//! two-character words a trigram index misses).

use std::borrow::Cow;

use rustc_hash::FxHashMap;

use super::fts::{STOPWORDS, is_cjk};

/// BM25's saturation and length normalisation (the usual defaults).
const K1: f32 = 1.2;
const B: f32 = 0.75;
/// Words of a query scored, rarest first: each costs a walk of its
/// posting list, and common words barely move BM25.
const MAX_QUERY_TERMS: usize = 8;
/// A longer run (a hash, base64) is cut: enough to stay distinctive.
const MAX_TERM_CHARS: usize = 48;
/// Two-letter function words (FTS5's list starts at three letters, the
/// trigram index's shortest term).
const SHORT_STOPWORDS: &[&str] = &[
    "an", "as", "at", "be", "by", "do", "he", "if", "in", "is", "it", "me", "my", "no", "of", "on",
    "or", "so", "to", "up", "us", "we",
];

/// Items holding one word: parallel arrays, so a query's walk reads
/// everything BM25 needs without a lookup per item.
#[derive(Debug, Default)]
struct Postings {
    ids: Vec<u64>,
    counts: Vec<u16>,
    /// The item's length in words (saturating).
    lengths: Vec<u16>,
}

#[derive(Debug)]
struct Document {
    length: u32,
    terms: Box<[u32]>,
}

#[derive(Debug, Default)]
pub struct Lexicon {
    term_ids: FxHashMap<Box<str>, u32>,
    postings: Vec<Postings>,
    documents: FxHashMap<u64, Document>,
    total_length: u64,
}

impl Lexicon {
    /// Indexes `text` under `id` (replacing what `id` held).
    pub fn add(&mut self, id: u64, text: &str) {
        self.remove(id);
        let mut counts: FxHashMap<u32, u16> = FxHashMap::default();
        let mut length = 0u32;
        for_each_token(text, |token| {
            length += 1;
            let term = match self.term_ids.get(token) {
                Some(&term) => term,
                None => {
                    let term = self.postings.len() as u32;
                    self.postings.push(Postings::default());
                    self.term_ids.insert(token.into(), term);
                    term
                }
            };
            let count = counts.entry(term).or_default();
            *count = count.saturating_add(1);
        });
        let mut terms = Vec::with_capacity(counts.len());
        for (term, count) in counts {
            let postings = &mut self.postings[term as usize];
            postings.ids.push(id);
            postings.counts.push(count);
            postings
                .lengths
                .push(length.min(u32::from(u16::MAX)) as u16);
            terms.push(term);
        }
        self.total_length += u64::from(length);
        self.documents.insert(
            id,
            Document {
                length,
                terms: terms.into(),
            },
        );
    }

    pub fn remove(&mut self, id: u64) {
        let Some(document) = self.documents.remove(&id) else {
            return;
        };
        self.total_length -= u64::from(document.length);
        for &term in &document.terms {
            let postings = &mut self.postings[term as usize];
            if let Some(at) = postings.ids.iter().position(|&p| p == id) {
                postings.ids.swap_remove(at);
                postings.counts.swap_remove(at);
                postings.lengths.swap_remove(at);
            }
        }
    }

    /// The `k` best items by BM25 among those `keep` accepts, best first.
    /// `None` when no word of the query is indexed at all (for any item).
    pub fn search(
        &self,
        query: &str,
        k: usize,
        keep: impl Fn(u64) -> bool,
    ) -> Option<Vec<(u64, f32)>> {
        let mut terms: Vec<u32> = Vec::new();
        for_each_token(query, |token| {
            if let Some(&term) = self.term_ids.get(token)
                && !terms.contains(&term)
                && !self.postings[term as usize].ids.is_empty()
            {
                terms.push(term);
            }
        });
        terms.sort_by_key(|&t| self.postings[t as usize].ids.len());
        terms.truncate(MAX_QUERY_TERMS);
        if terms.is_empty() {
            return None;
        }
        if k == 0 {
            return Some(Vec::new());
        }

        let documents = self.documents.len() as f32;
        let average_length = (self.total_length as f32 / documents).max(1.0);
        // NaN marks an item the filter refused, so it is checked once.
        let mut scores: FxHashMap<u64, f32> = FxHashMap::default();
        for term in terms {
            let postings = &self.postings[term as usize];
            let frequency = postings.ids.len() as f32;
            let idf = (1.0 + (documents - frequency + 0.5) / (frequency + 0.5)).ln();
            let walk = postings
                .ids
                .iter()
                .zip(&postings.counts)
                .zip(&postings.lengths);
            for ((&id, &count), &length) in walk {
                let score = scores
                    .entry(id)
                    .or_insert_with(|| if keep(id) { 0.0 } else { f32::NAN });
                if score.is_nan() {
                    continue;
                }
                let count = f32::from(count);
                let norm = K1 * (1.0 - B + B * f32::from(length) / average_length);
                *score += idf * count * (K1 + 1.0) / (count + norm);
            }
        }
        let mut ranked: Vec<(u64, f32)> = scores.into_iter().filter(|(_, s)| *s > 0.0).collect();
        if ranked.len() > k {
            ranked.select_nth_unstable_by(k - 1, |a, b| b.1.total_cmp(&a.1));
            ranked.truncate(k);
        }
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
        Some(ranked)
    }
}

/// Calls `each` with every indexed token of `text`, in order.
pub fn for_each_token(text: &str, mut each: impl FnMut(&str)) {
    let mut word = String::new();
    let mut word_chars = 0usize;
    let mut previous_cjk: Option<char> = None;
    let mut cjk_run = 0usize;
    let mut bigram = String::new();
    for c in text.chars() {
        if is_cjk(c) {
            end_word(&mut word, &mut word_chars, &mut each);
            if let Some(p) = previous_cjk {
                bigram.clear();
                bigram.push(p);
                bigram.push(c);
                each(&bigram);
            }
            previous_cjk = Some(c);
            cjk_run += 1;
        } else {
            end_cjk_run(previous_cjk.take(), std::mem::take(&mut cjk_run), &mut each);
            if c.is_alphanumeric() || c == '_' {
                if word_chars < MAX_TERM_CHARS {
                    word.extend(c.to_lowercase());
                    word_chars += 1;
                }
            } else {
                end_word(&mut word, &mut word_chars, &mut each);
            }
        }
    }
    end_word(&mut word, &mut word_chars, &mut each);
    end_cjk_run(previous_cjk, cjk_run, &mut each);
}

/// Emits the word collected so far (unless too short or a stopword) and
/// starts a new one. `chars` counts its characters as they are pushed.
fn end_word(word: &mut String, chars: &mut usize, each: &mut impl FnMut(&str)) {
    if *chars >= 2
        && !STOPWORDS.contains(&word.as_str())
        && !SHORT_STOPWORDS.contains(&word.as_str())
    {
        each(&stem(word));
    }
    word.clear();
    *chars = 0;
}

/// A lone CJK character is a word of its own; longer runs gave bigrams.
fn end_cjk_run(last: Option<char>, run: usize, each: &mut impl FnMut(&str)) {
    if let (Some(c), 1) = (last, run) {
        each(c.encode_utf8(&mut [0; 4]));
    }
}

/// Harman's "S" stemmer: folds English plurals onto their singular
/// ("memories" → "memory", "cats" → "cat") without a dictionary, the same
/// way for items and queries. Words it does not recognise pass through.
fn stem(word: &str) -> Cow<'_, str> {
    if !word.is_ascii() || word.len() <= 3 {
        return Cow::Borrowed(word);
    }
    if word.ends_with("ies") && !word.ends_with("eies") && !word.ends_with("aies") {
        return Cow::Owned(format!("{}y", &word[..word.len() - 3]));
    }
    let keep = if word.ends_with("es") {
        !(word.ends_with("aes") || word.ends_with("ees") || word.ends_with("oes"))
    } else {
        word.ends_with('s') && !word.ends_with("us") && !word.ends_with("ss")
    };
    Cow::Borrowed(if keep { &word[..word.len() - 1] } else { word })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for_each_token(text, |t| out.push(t.to_owned()));
        out
    }

    #[test]
    fn words_are_lowercased_stemmed_and_stopwords_dropped() {
        assert_eq!(
            tokens("The Memories of boxes, the cats; a x snake_case"),
            ["memory", "boxe", "cat", "snake_case"]
        );
        assert_eq!(
            tokens("memory memories glass"),
            ["memory", "memory", "glass"]
        );
    }

    #[test]
    fn cjk_runs_become_bigrams_and_lone_characters_stay() {
        assert_eq!(tokens("北京烤鸭 好"), ["北京", "京烤", "烤鸭", "好"]);
        assert_eq!(tokens("Rust是语言"), ["rust", "是语", "语言"]);
    }

    #[test]
    fn rare_words_outrank_common_ones_and_the_filter_applies() {
        let mut lexicon = Lexicon::default();
        for id in 0..50 {
            lexicon.add(id, "a note about the garden and the weather");
        }
        lexicon.add(100, "the weather was fine for the zeppelin ride");
        lexicon.add(101, "the zeppelin ride was fine in the cold");
        let hits = lexicon.search("zeppelin weather", 10, |_| true).unwrap();
        assert_eq!(hits[0].0, 100, "both words beat one: {hits:?}");
        assert_eq!(hits[1].0, 101);
        assert!(hits[1].1 > hits[2].1, "the rare word outweighs the common");
        let hits = lexicon
            .search("zeppelin weather", 10, |id| id != 100)
            .unwrap();
        assert_eq!(hits[0].0, 101);
        assert!(hits.iter().all(|(id, _)| *id != 100));
    }

    #[test]
    fn removed_and_replaced_items_are_forgotten() {
        let mut lexicon = Lexicon::default();
        lexicon.add(1, "orange juice");
        lexicon.add(2, "orange peel");
        lexicon.remove(1);
        assert_eq!(lexicon.search("juice", 5, |_| true), None);
        lexicon.add(2, "apple pie");
        assert_eq!(lexicon.search("orange", 5, |_| true), None);
        assert_eq!(lexicon.search("apple", 5, |_| true).unwrap()[0].0, 2);
        assert_eq!(lexicon.documents.len(), 1);
        assert_eq!(lexicon.total_length, 2);
    }

    #[test]
    fn unknown_words_are_told_apart_from_filtered_out_matches() {
        let mut lexicon = Lexicon::default();
        lexicon.add(1, "orange juice");
        assert_eq!(lexicon.search("the and", 5, |_| true), None);
        assert_eq!(lexicon.search("banana", 5, |_| true), None);
        assert_eq!(lexicon.search("orange", 5, |_| false), Some(vec![]));
    }
}
