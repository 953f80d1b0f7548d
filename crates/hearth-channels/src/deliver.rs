//! The shared half of sending: a reply's markdown becomes the platform's
//! markup in pieces that fit its limit, and a reply cut into several
//! messages resumes after its last sent piece when the outbox retries it,
//! instead of posting the first pieces twice.

use std::collections::{HashMap, VecDeque};

use hearth_core::{Capabilities, ChannelError, Markup};
use parking_lot::Mutex;

use crate::text::{chunk, render};

/// The messages to post for `markdown`: chunked on the markdown (so cuts
/// fall at paragraph, line or sentence boundaries, never inside a code
/// fence), each chunk rendered, and a chunk whose rendering outgrew the
/// limit (escaping and tags add length) cut again with a smaller budget.
pub fn prepare(markdown: &str, caps: &Capabilities) -> Vec<String> {
    prepare_with_source(markdown, caps)
        .into_iter()
        .map(|piece| piece.rendered)
        .collect()
}

/// One message of a reply: its markdown and its rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub source: String,
    pub rendered: String,
}

/// Like [`prepare`], keeping each piece's markdown beside its rendering,
/// for platforms whose messages carry both (Matrix: `body` and
/// `formatted_body`). The rendering fits the limit; the source is at most
/// as long as the chunk it came from.
pub fn prepare_with_source(markdown: &str, caps: &Capabilities) -> Vec<Piece> {
    let limit = caps.max_text.max(1);
    let mut out = Vec::new();
    for piece in chunk(markdown, limit, caps.measure) {
        render_fitting(&piece, caps, limit, &mut out);
    }
    out.retain(|p| !p.rendered.trim().is_empty());
    out
}

fn render_fitting(markdown: &str, caps: &Capabilities, limit: usize, out: &mut Vec<Piece>) {
    let rendered = render(markdown, caps.markup);
    let size = caps.measure.len(&rendered);
    if size <= limit {
        out.push(Piece {
            source: markdown.to_owned(),
            rendered,
        });
        return;
    }
    // Shrink the budget by how much rendering grew this piece, and retry
    // on smaller markdown pieces; give up on markup when that cannot help.
    let source = caps.measure.len(markdown).max(1);
    let budget = limit * source / size * 9 / 10;
    if budget >= 16 && budget < source {
        // Each smaller piece is checked against the platform's limit again
        // (not the budget: that shrank every piece geometrically).
        for piece in chunk(markdown, budget, caps.measure) {
            render_fitting(&piece, caps, limit, out);
        }
    } else {
        let plain = render(markdown, Markup::Plain);
        out.extend(
            chunk(&plain, limit, caps.measure)
                .into_iter()
                .map(|p| Piece {
                    source: p.clone(),
                    rendered: p,
                }),
        );
    }
}

/// Replies whose progress is remembered at most; the oldest is forgotten
/// first (a retry of it then starts from its first piece again).
const MAX_TRACKED_REPLIES: usize = 1024;

/// Pieces already posted per idempotency key, for replies sent as several
/// messages on platforms without idempotent sends.
#[derive(Debug, Default)]
pub struct Progress {
    // A parking_lot mutex: lookups and updates only, never held across an
    // await.
    sent: Mutex<(HashMap<String, usize>, VecDeque<String>)>,
}

impl Progress {
    /// How many pieces of this reply were posted already.
    pub fn done(&self, key: &str) -> usize {
        self.sent.lock().0.get(key).copied().unwrap_or(0)
    }

    /// Records that `count` pieces of the reply are posted.
    pub fn record(&self, key: &str, count: usize) {
        let mut guard = self.sent.lock();
        let (map, order) = &mut *guard;
        if map.insert(key.to_owned(), count).is_none() {
            order.push_back(key.to_owned());
            if order.len() > MAX_TRACKED_REPLIES
                && let Some(old) = order.pop_front()
            {
                map.remove(&old);
            }
        }
    }

    /// Posts pieces `0..count` of the reply `key` with `send_piece`,
    /// starting after the last one an earlier attempt posted, and records
    /// each as it goes; on an error the next attempt resumes there.
    pub async fn resume<F, Fut>(
        &self,
        key: &str,
        count: usize,
        mut send_piece: F,
    ) -> Result<(), ChannelError>
    where
        F: FnMut(usize) -> Fut,
        Fut: std::future::Future<Output = Result<(), ChannelError>>,
    {
        for index in self.done(key)..count {
            send_piece(index).await?;
            self.record(key, index + 1);
        }
        self.finish(key);
        Ok(())
    }

    /// The reply is fully posted: forget it.
    pub fn finish(&self, key: &str) {
        let mut guard = self.sent.lock();
        let (map, order) = &mut *guard;
        map.remove(key);
        order.retain(|k| k != key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearth_core::Measure;

    fn caps(max_text: usize, markup: Markup) -> Capabilities {
        Capabilities {
            max_text,
            measure: Measure::Chars,
            markup,
            ..Capabilities::default()
        }
    }

    #[test]
    fn every_piece_fits_after_rendering() {
        // Escaping makes '<' five characters long in HTML.
        let text = "a < b and c < d. ".repeat(60);
        let caps = caps(200, Markup::TelegramHtml);
        let pieces = prepare(&text, &caps);
        assert!(pieces.len() > 1);
        for piece in &pieces {
            assert!(
                piece.chars().count() <= 200,
                "{} chars",
                piece.chars().count()
            );
        }
        let joined: String = pieces.join(" ");
        assert_eq!(joined.matches("&lt;").count(), 120);
    }

    #[test]
    fn a_long_reply_takes_few_pieces_when_markup_adds_length() {
        // Regression: every re-cut piece was measured against the shrunk
        // budget, so a 30 KB reply came in 26 pieces of 50 B to 12 KB.
        let caps = Capabilities {
            max_text: 16_000,
            measure: Measure::Bytes,
            markup: Markup::MatrixHtml,
            ..Capabilities::default()
        };
        let text = (0..400)
            .map(|p| format!("paragraph {p} with a few more words in it"))
            .collect::<Vec<_>>()
            .join("\n\n");
        let pieces = prepare_with_source(&text, &caps);
        let rendered: usize = pieces.iter().map(|p| p.rendered.len()).sum();
        assert!(
            pieces.len() <= rendered / 16_000 + 2,
            "{} pieces for {rendered} bytes: {:?}",
            pieces.len(),
            pieces.iter().map(|p| p.rendered.len()).collect::<Vec<_>>()
        );
        assert!(pieces.iter().all(|p| p.rendered.len() <= 16_000));
    }

    #[test]
    fn code_fences_survive_chunking_and_rendering() {
        let code = (0..40)
            .map(|i| format!("let x{i} = {i};\n"))
            .collect::<String>();
        let text = format!("Here:\n\n```rust\n{code}```\n\nDone.");
        let pieces = prepare(&text, &caps(300, Markup::Markdown));
        assert!(pieces.len() > 2);
        for piece in pieces.iter().filter(|p| p.contains("let x")) {
            // Every piece opens and closes its fences, so each renders as code.
            assert_eq!(piece.matches("```").count() % 2, 0, "{piece}");
            let first_code = piece.find("let x").unwrap();
            assert!(piece[..first_code].contains("```rust"), "{piece}");
        }
    }

    #[test]
    fn progress_is_bounded_and_forgets_finished_replies() {
        let progress = Progress::default();
        progress.record("a", 2);
        assert_eq!(progress.done("a"), 2);
        progress.finish("a");
        assert_eq!(progress.done("a"), 0);
        for i in 0..MAX_TRACKED_REPLIES + 10 {
            progress.record(&i.to_string(), 1);
        }
        assert_eq!(progress.done("0"), 0);
        assert_eq!(progress.done(&(MAX_TRACKED_REPLIES + 9).to_string()), 1);
        assert!(progress.sent.lock().0.len() <= MAX_TRACKED_REPLIES);
    }
}
