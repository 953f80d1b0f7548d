//! Cutting a long reply into messages that fit a platform's limit.
//!
//! The text is read as blocks: paragraphs (separated by blank lines) and
//! fenced code blocks. Blocks are packed greedily into chunks. A block too
//! long for one chunk is cut at the coarsest boundary that works: lines,
//! then sentence ends, then spaces, then (a single word longer than the
//! limit) characters. A code block is never cut silently: each part is
//! closed and reopened with the same fence line, so every message renders
//! as code on its own.

pub use hearth_core::Measure;

/// Length of one character as `measure` counts it.
fn char_len(measure: Measure, c: char) -> usize {
    match measure {
        Measure::Chars => 1,
        Measure::Utf16 => c.len_utf16(),
        Measure::Bytes => c.len_utf8(),
    }
}

/// Cuts `text` into chunks of at most `limit` (as `measure` counts), in
/// order. Empty or blank text gives no chunks. Each chunk is trimmed of
/// blank lines at its ends.
///
/// # Panics
/// If `limit` is too small to hold a code fence's opening and closing
/// lines plus one character: platforms' limits are in the hundreds or
/// thousands, and a caller passing 8 has a bug.
pub fn chunk(text: &str, limit: usize, measure: Measure) -> Vec<String> {
    assert!(limit >= 16, "a chunk limit of {limit} is too small");
    let mut pieces: Vec<(String, &'static str)> = Vec::new();
    for block in blocks(text) {
        let gap = block.gap;
        let parts = match &block.kind {
            Kind::Prose(prose) => split_prose(prose, limit, measure),
            Kind::Code { open, body, close } => split_code(open, body, close, limit, measure),
        };
        for (n, part) in parts.into_iter().enumerate() {
            pieces.push((part, if n == 0 { gap } else { "\n" }));
        }
    }
    pack(pieces, limit, measure)
}

#[derive(Debug)]
enum Kind {
    Prose(String),
    Code {
        open: String,
        body: Vec<String>,
        close: String,
    },
}

#[derive(Debug)]
struct Block {
    kind: Kind,
    /// What separated it from the block before: a blank line or a newline.
    gap: &'static str,
}

/// A fence line: up to three spaces, then three or more backticks or
/// tildes (CommonMark).
fn fence(line: &str) -> Option<(char, usize)> {
    let trimmed = line.trim_start_matches(' ');
    if line.len() - trimmed.len() > 3 {
        return None;
    }
    let marker = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let run = trimmed.chars().take_while(|c| *c == marker).count();
    (run >= 3).then_some((marker, run))
}

fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut prose: Vec<&str> = Vec::new();
    let mut gap = "\n\n";
    let mut lines = text.lines();
    let flush = |prose: &mut Vec<&str>, gap: &mut &'static str, out: &mut Vec<Block>| {
        if !prose.is_empty() {
            out.push(Block {
                kind: Kind::Prose(prose.join("\n")),
                gap,
            });
            prose.clear();
            *gap = "\n";
        }
    };
    while let Some(line) = lines.next() {
        if line.trim().is_empty() {
            flush(&mut prose, &mut gap, &mut out);
            gap = "\n\n";
            continue;
        }
        let Some((marker, run)) = fence(line) else {
            prose.push(line);
            continue;
        };
        flush(&mut prose, &mut gap, &mut out);
        let mut body = Vec::new();
        let mut close = None;
        for inner in lines.by_ref() {
            // A closing fence: the same marker, at least as long, nothing
            // after it.
            if let Some((m, r)) = fence(inner)
                && m == marker
                && r >= run
                && inner.trim().chars().all(|c| c == marker)
            {
                close = Some(inner.to_owned());
                break;
            }
            body.push(inner.to_owned());
        }
        // An unclosed fence runs to the end of the text; close it so the
        // chunk renders as code.
        let close = close.unwrap_or_else(|| marker.to_string().repeat(run));
        out.push(Block {
            kind: Kind::Code {
                open: line.to_owned(),
                body,
                close,
            },
            gap,
        });
        gap = "\n";
    }
    flush(&mut prose, &mut gap, &mut out);
    out
}

/// Prose cut at the coarsest boundary that makes every part fit.
fn split_prose(text: &str, limit: usize, measure: Measure) -> Vec<String> {
    if measure.len(text) <= limit {
        return vec![text.to_owned()];
    }
    for boundary in [Boundary::Line, Boundary::Sentence, Boundary::Space] {
        let parts = split_after(text, boundary);
        if parts.len() > 1 {
            let mut out = Vec::new();
            let mut current = String::new();
            for part in parts {
                if measure.len(&current) + measure.len(part) <= limit {
                    current.push_str(part);
                    continue;
                }
                if !current.trim().is_empty() {
                    out.push(current.trim_end().to_owned());
                }
                current = String::new();
                if measure.len(part) <= limit {
                    current.push_str(part);
                } else {
                    // Still too long: cut it at a finer boundary.
                    out.extend(split_prose(part.trim_end(), limit, measure));
                }
            }
            if !current.trim().is_empty() {
                out.push(current.trim_end().to_owned());
            }
            return out;
        }
    }
    split_chars(text, limit, measure)
}

#[derive(Debug, Clone, Copy)]
enum Boundary {
    Line,
    Sentence,
    Space,
}

/// Splits after each boundary, keeping the separator with the part before
/// it, so the parts concatenate back to `text`.
fn split_after(text: &str, boundary: Boundary) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let next = chars.peek().map(|&(_, n)| n);
        let cut = match boundary {
            Boundary::Line => c == '\n',
            Boundary::Sentence => {
                // "end. Next" cuts after the space; CJK full stops need none.
                (matches!(c, '.' | '!' | '?') && next.is_some_and(char::is_whitespace))
                    || matches!(c, '。' | '！' | '？')
            }
            Boundary::Space => c.is_whitespace() && !next.is_some_and(char::is_whitespace),
        };
        if cut {
            let mut end = at + c.len_utf8();
            // The space after a sentence end goes with that sentence.
            if matches!(boundary, Boundary::Sentence)
                && let Some(&(space_at, space)) = chars.peek()
                && space.is_whitespace()
            {
                end = space_at + space.len_utf8();
                chars.next();
            }
            parts.push(&text[start..end]);
            start = end;
        }
    }
    if start < text.len() {
        parts.push(&text[start..]);
    }
    parts
}

/// The last resort: a run with no boundary (a URL, a hash) cut between
/// characters.
fn split_chars(text: &str, limit: usize, measure: Measure) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut length = 0;
    for c in text.chars() {
        let size = char_len(measure, c);
        if length + size > limit {
            out.push(std::mem::take(&mut current));
            length = 0;
        }
        current.push(c);
        length += size;
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// A code block, whole if it fits, else in parts that each open and close
/// the fence.
fn split_code(
    open: &str,
    body: &[String],
    close: &str,
    limit: usize,
    measure: Measure,
) -> Vec<String> {
    let whole = render_code(open, body, close);
    if measure.len(&whole) <= limit {
        return vec![whole];
    }
    // Room for the body of each part: the fences and their newlines.
    let room = limit
        .saturating_sub(measure.len(open) + measure.len(close) + 2)
        .max(1);
    let mut lines: Vec<String> = Vec::new();
    for line in body {
        if measure.len(line) <= room {
            lines.push(line.clone());
        } else {
            lines.extend(split_chars(line, room, measure));
        }
    }
    let mut out = Vec::new();
    let mut part: Vec<String> = Vec::new();
    let mut length = 0;
    for line in lines {
        let size = measure.len(&line);
        // +1 for the newline joining it to the line before.
        if !part.is_empty() && length + 1 + size > room {
            out.push(render_code(open, &part, close));
            part.clear();
            length = 0;
        }
        length += size + usize::from(!part.is_empty());
        part.push(line);
    }
    if !part.is_empty() {
        out.push(render_code(open, &part, close));
    }
    out
}

fn render_code(open: &str, body: &[String], close: &str) -> String {
    let mut out = String::from(open);
    for line in body {
        out.push('\n');
        out.push_str(line);
    }
    out.push('\n');
    out.push_str(close);
    out
}

/// Packs pieces (each already within the limit) greedily into chunks,
/// joined by the gap that separated them in the text.
fn pack(pieces: Vec<(String, &'static str)>, limit: usize, measure: Measure) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for (piece, gap) in pieces {
        if current.is_empty() {
            current = piece;
        } else if measure.len(&current) + measure.len(gap) + measure.len(&piece) <= limit {
            current.push_str(gap);
            current.push_str(&piece);
        } else {
            out.push(std::mem::replace(&mut current, piece));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_fits(chunks: &[String], limit: usize, measure: Measure) {
        for c in chunks {
            assert!(
                measure.len(c) <= limit,
                "{} > {limit}: {c:?}",
                measure.len(c)
            );
            assert!(!c.trim().is_empty(), "empty chunk in {chunks:?}");
        }
    }

    /// Every word of the input, in order, across the chunks.
    fn words(text: &str) -> Vec<&str> {
        text.split_whitespace().collect()
    }

    #[test]
    fn short_text_is_one_chunk_unchanged_and_blank_text_none() {
        let text = "Hello!\n\nA second paragraph.";
        assert_eq!(chunk(text, 100, Measure::Chars), [text]);
        assert!(chunk("  \n\n ", 100, Measure::Chars).is_empty());
    }

    #[test]
    fn paragraphs_are_kept_whole_when_they_fit() {
        let text = "First paragraph here.\n\nSecond paragraph here.\n\nThird one.";
        let chunks = chunk(text, 45, Measure::Chars);
        assert_eq!(
            chunks,
            [
                "First paragraph here.\n\nSecond paragraph here.",
                "Third one."
            ]
        );
    }

    #[test]
    fn a_long_paragraph_is_cut_at_sentence_ends_then_spaces() {
        let text = "One short sentence. Another sentence follows it! Does a third fit? \
                    Averyveryverylongwordthatcannotbecut at all here.";
        let chunks = chunk(text, 30, Measure::Chars);
        assert_fits(&chunks, 30, Measure::Chars);
        assert_eq!(chunks[0], "One short sentence.");
        assert_eq!(chunks[1], "Another sentence follows it!");
        let rejoined = chunks.join(" ");
        assert_eq!(words(&rejoined).concat(), words(text).concat());
    }

    #[test]
    fn a_code_block_moves_whole_to_the_next_chunk() {
        let text =
            "Here is the fix:\n\n```rust\nfn main() {\n    println!(\"hi\");\n}\n```\n\nDone.";
        let chunks = chunk(text, 50, Measure::Chars);
        assert_fits(&chunks, 50, Measure::Chars);
        assert_eq!(chunks[0], "Here is the fix:");
        assert_eq!(
            chunks[1],
            "```rust\nfn main() {\n    println!(\"hi\");\n}\n```"
        );
        assert_eq!(chunks[2], "Done.");
    }

    #[test]
    fn a_code_block_longer_than_the_limit_is_closed_and_reopened() {
        let body: Vec<String> = (0..30).map(|n| format!("let x{n} = {n};")).collect();
        let text = format!("```rust\n{}\n```", body.join("\n"));
        let chunks = chunk(&text, 80, Measure::Chars);
        assert!(chunks.len() > 3);
        assert_fits(&chunks, 80, Measure::Chars);
        let mut lines = Vec::new();
        for c in &chunks {
            assert!(c.starts_with("```rust\n") && c.ends_with("\n```"), "{c:?}");
            lines.extend(
                c.lines()
                    .filter(|l| !l.starts_with("```"))
                    .map(str::to_owned),
            );
        }
        assert_eq!(lines, body, "every line once, in order");
    }

    #[test]
    fn an_unclosed_fence_is_closed_and_fences_need_the_same_marker() {
        let chunks = chunk("~~~~\ncode\n```\nstill code", 100, Measure::Chars);
        assert_eq!(chunks, ["~~~~\ncode\n```\nstill code\n~~~~"]);
    }

    #[test]
    fn a_word_longer_than_the_limit_is_cut_between_characters() {
        let url = format!("https://example.com/{}", "a".repeat(70));
        let chunks = chunk(&url, 32, Measure::Chars);
        assert_fits(&chunks, 32, Measure::Chars);
        assert_eq!(chunks.concat(), url);
    }

    #[test]
    fn limits_count_utf16_units_or_bytes_when_the_platform_does() {
        // Each emoji is one char, two UTF-16 units and four bytes.
        let text = "😀".repeat(30);
        for (measure, per_chunk) in [
            (Measure::Chars, 20),
            (Measure::Utf16, 10),
            (Measure::Bytes, 5),
        ] {
            let chunks = chunk(&text, 20, measure);
            assert_fits(&chunks, 20, measure);
            assert_eq!(chunks[0].chars().count(), per_chunk, "{measure:?}");
            assert_eq!(chunks.concat(), text);
        }
    }

    #[test]
    fn chinese_is_cut_after_full_stops() {
        let text = "我喜欢北京烤鸭。明天会下雨。周末去爬山吧！";
        let chunks = chunk(text, 16, Measure::Chars);
        assert_eq!(chunks, ["我喜欢北京烤鸭。明天会下雨。", "周末去爬山吧！"]);
    }

    #[test]
    fn mixed_long_text_always_fits_and_loses_no_word() {
        let mut text = String::new();
        for n in 0..40 {
            text.push_str(&format!(
                "Paragraph {n} says something. It goes on for a while, line {n}.\n"
            ));
            if n % 7 == 0 {
                text.push_str("\n```\nlet code = 1;\nlet more = 2;\n```\n\n");
            }
        }
        for limit in [64, 100, 333, 2000] {
            let chunks = chunk(&text, limit, Measure::Chars);
            assert_fits(&chunks, limit, Measure::Chars);
            assert_eq!(words(&chunks.join("\n")), words(&text), "limit {limit}");
        }
    }
}
