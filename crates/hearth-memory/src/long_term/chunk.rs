//! Cutting long documents into overlapping chunks that fit the embedder.
//!
//! Length is counted in *units*: a word of Latin-script text or one CJK
//! character (roughly a word piece each for MiniLM's tokenizer; a Latin
//! word averages about 1.3 pieces, hence the default of 180 units under a
//! 256-token limit). A chunk ends at a sentence or paragraph end when one
//! falls in its last third, so chunks read as whole thoughts; consecutive
//! chunks share `overlap` units so a fact on a boundary is in both.

use super::fts::is_cjk;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkOptions {
    pub max_units: usize,
    pub overlap: usize,
}

impl Default for ChunkOptions {
    fn default() -> Self {
        Self {
            max_units: 180,
            overlap: 30,
        }
    }
}

/// A unit's byte range in the text and whether a sentence ends after it.
#[derive(Debug, Clone, Copy)]
struct Unit {
    start: usize,
    end: usize,
    sentence_end: bool,
}

fn units(text: &str) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    let mut word_start: Option<usize> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        if is_cjk(c) {
            if let Some(s) = word_start.take() {
                out.push(Unit {
                    start: s,
                    end: i,
                    sentence_end: false,
                });
            }
            out.push(Unit {
                start: i,
                end: i + c.len_utf8(),
                sentence_end: false,
            });
        } else if c.is_whitespace() {
            if let Some(s) = word_start.take() {
                out.push(Unit {
                    start: s,
                    end: i,
                    sentence_end: false,
                });
            }
            // A blank line ends a paragraph.
            if c == '\n' && next == Some('\n') {
                mark_end(&mut out);
            }
        } else {
            if word_start.is_none() {
                word_start = Some(i);
            }
            if matches!(c, '。' | '！' | '？') {
                if let Some(s) = word_start.take() {
                    out.push(Unit {
                        start: s,
                        end: i + c.len_utf8(),
                        sentence_end: true,
                    });
                }
            } else if matches!(c, '.' | '!' | '?') && next.is_none_or(char::is_whitespace) {
                out.push(Unit {
                    start: word_start.take().unwrap_or(i),
                    end: i + c.len_utf8(),
                    sentence_end: true,
                });
            }
        }
    }
    if let Some(s) = word_start {
        out.push(Unit {
            start: s,
            end: text.len(),
            sentence_end: true,
        });
    }
    out
}

fn mark_end(units: &mut [Unit]) {
    if let Some(last) = units.last_mut() {
        last.sentence_end = true;
    }
}

/// The chunks of `text`, in order. Text that fits is one chunk (trimmed).
pub fn chunk(text: &str, options: ChunkOptions) -> Vec<String> {
    let max = options.max_units.max(8);
    let overlap = options.overlap.min(max / 2);
    let units = units(text);
    if units.len() <= max {
        let trimmed = text.trim();
        return if trimmed.is_empty() {
            Vec::new()
        } else {
            vec![trimmed.to_owned()]
        };
    }
    let mut chunks = Vec::new();
    let mut start = 0;
    loop {
        let hard_end = (start + max).min(units.len());
        let mut end = hard_end;
        if hard_end < units.len() {
            // Prefer a sentence end in the last third of the window.
            let earliest = start + max * 2 / 3;
            if let Some(cut) = (earliest..hard_end).rev().find(|&i| units[i].sentence_end) {
                end = cut + 1;
            }
        }
        chunks.push(
            text[units[start].start..units[end - 1].end]
                .trim()
                .to_owned(),
        );
        if end == units.len() {
            break;
        }
        start = (end - overlap).max(start + 1);
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentence(n: usize) -> String {
        format!("Sentence number {n} says something about topic {n}.")
    }

    #[test]
    fn short_text_is_one_chunk() {
        assert_eq!(
            chunk("  one two three. ", ChunkOptions::default()),
            ["one two three."]
        );
        assert!(chunk("   ", ChunkOptions::default()).is_empty());
    }

    #[test]
    fn long_text_is_cut_at_sentences_with_overlap() {
        let text: Vec<String> = (0..100).map(sentence).collect();
        let text = text.join(" ");
        let options = ChunkOptions {
            max_units: 40,
            overlap: 8,
        };
        let chunks = chunk(&text, options);
        assert!(chunks.len() > 10, "{}", chunks.len());
        for (i, c) in chunks.iter().enumerate() {
            assert!(c.split_whitespace().count() <= 40, "chunk {i} too long");
            if i + 1 < chunks.len() {
                assert!(c.ends_with('.'), "chunk {i} ends mid-sentence: {c}");
                // The next chunk starts with the end of this one.
                let tail: Vec<&str> = c.split_whitespace().rev().take(3).collect();
                assert!(
                    chunks[i + 1].contains(tail[0]),
                    "no overlap after chunk {i}"
                );
            }
        }
        // Every sentence is in some chunk.
        for n in 0..100 {
            assert!(
                chunks.iter().any(|c| c.contains(&sentence(n))),
                "sentence {n} lost"
            );
        }
    }

    #[test]
    fn chinese_is_counted_per_character() {
        let text = "我们今天去北京吃烤鸭。".repeat(40);
        let chunks = chunk(
            &text,
            ChunkOptions {
                max_units: 50,
                overlap: 10,
            },
        );
        assert!(chunks.len() > 5);
        for c in &chunks {
            assert!(c.chars().count() <= 50);
            assert!(c.ends_with('。') || c == chunks.last().unwrap());
        }
    }
}
