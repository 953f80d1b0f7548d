//! From the agent's markdown to a platform's own markup.
//!
//! Models answer in CommonMark; platforms take different things: Telegram
//! a small HTML subset, Matrix HTML beside a plain body, IRC control codes,
//! some only plain text. The markdown is parsed once (pulldown-cmark) and
//! written out per flavour. Raw HTML in the markdown is never passed
//! through: it is shown as text, so a reply cannot inject tags. Links keep
//! their target only for safe schemes.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

pub use hearth_core::Markup;

/// Schemes a link may point at; anything else (`javascript:`, `data:`)
/// is shown as text.
const SAFE_SCHEMES: &[&str] = &["http://", "https://", "mailto:", "tg://", "matrix:"];

/// `markdown` in the platform's markup.
pub fn render(markdown: &str, markup: Markup) -> String {
    if markup == Markup::Markdown {
        return markdown.to_owned();
    }
    let mut renderer = Renderer {
        markup,
        out: String::new(),
        lists: Vec::new(),
        links: Vec::new(),
        quote_depth: 0,
        fresh: false,
    };
    let parser = Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH);
    for event in parser {
        renderer.event(event);
    }
    renderer.out.trim_end().to_owned()
}

struct Renderer {
    markup: Markup,
    out: String,
    /// Open lists: the next number of an ordered list, `None` for bullets.
    lists: Vec<Option<u64>>,
    /// Open links' targets (`None` when unsafe, so shown as text).
    links: Vec<Option<String>>,
    quote_depth: usize,
    /// A container (quote, list item) was just opened: its first block
    /// needs no gap before it.
    fresh: bool,
}

impl Renderer {
    fn html(&self) -> bool {
        matches!(self.markup, Markup::TelegramHtml | Markup::MatrixHtml)
    }

    fn text(&mut self, text: &str) {
        self.fresh = false;
        if self.html() {
            escape_into(&mut self.out, text);
        } else {
            self.out.push_str(text);
        }
    }

    /// Starts a block: a blank line after the previous one (a line break
    /// inside a list; none in HTML, whose tags separate blocks), and the
    /// quote marker in text flavours.
    fn block_start(&mut self) {
        if !self.out.is_empty() && !self.fresh && self.markup != Markup::MatrixHtml {
            let want = if self.lists.is_empty() { 2 } else { 1 };
            let have = self.out.len() - self.out.trim_end_matches('\n').len();
            for _ in have..want {
                self.out.push('\n');
            }
        }
        self.fresh = false;
        if !self.html() && self.quote_depth > 0 {
            self.out.push_str(&"> ".repeat(self.quote_depth));
        }
    }

    fn inline(&mut self, markup_open: [&str; 4]) {
        let [telegram, matrix, irc, plain] = markup_open;
        let piece = match self.markup {
            Markup::TelegramHtml => telegram,
            Markup::MatrixHtml => matrix,
            Markup::Irc => irc,
            Markup::Plain | Markup::Markdown => plain,
        };
        self.out.push_str(piece);
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => self.text(&text),
            Event::Code(code) => {
                self.inline(["<code>", "<code>", "\x11", ""]);
                self.text(&code);
                self.inline(["</code>", "</code>", "\x11", ""]);
            }
            // Raw HTML is shown, never interpreted.
            Event::Html(html) | Event::InlineHtml(html) => self.text(&html),
            Event::SoftBreak | Event::HardBreak => {
                if self.markup == Markup::MatrixHtml {
                    self.out.push_str("<br>");
                } else {
                    self.out.push('\n');
                }
            }
            Event::Rule => {
                self.block_start();
                self.inline(["———", "<hr>", "———", "———"]);
            }
            _ => {}
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph => {
                self.block_start();
                if self.markup == Markup::MatrixHtml {
                    self.out.push_str("<p>");
                }
            }
            Tag::Heading { level, .. } => {
                self.block_start();
                let n = heading_number(level);
                match self.markup {
                    Markup::MatrixHtml => self.out.push_str(&format!("<h{n}>")),
                    _ => self.inline(["<b>", "", "\x02", ""]),
                }
            }
            Tag::BlockQuote(_) => {
                // Text flavours mark each block inside instead.
                if self.html() {
                    self.block_start();
                    self.out.push_str("<blockquote>");
                    self.fresh = true;
                }
                self.quote_depth += 1;
            }
            Tag::CodeBlock(kind) => {
                self.block_start();
                if self.html() {
                    match kind {
                        CodeBlockKind::Fenced(lang) if !lang.is_empty() => {
                            let lang = lang.split_whitespace().next().unwrap_or_default();
                            self.out.push_str("<pre><code class=\"language-");
                            escape_into(&mut self.out, lang);
                            self.out.push_str("\">");
                        }
                        _ => self.out.push_str("<pre><code>"),
                    }
                }
            }
            Tag::List(first) => {
                if self.lists.is_empty() {
                    self.block_start();
                }
                if self.markup == Markup::MatrixHtml {
                    self.out
                        .push_str(if first.is_some() { "<ol>" } else { "<ul>" });
                }
                self.lists.push(first);
            }
            Tag::Item => {
                self.fresh = true;
                if self.markup == Markup::MatrixHtml {
                    self.out.push_str("<li>");
                    return;
                }
                if !self.out.is_empty() && !self.out.ends_with('\n') {
                    self.out.push('\n');
                }
                let depth = self.lists.len().saturating_sub(1);
                self.out.push_str(&"  ".repeat(depth));
                let marker = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        let marker = format!("{n}. ");
                        *n += 1;
                        marker
                    }
                    _ => "• ".to_owned(),
                };
                self.out.push_str(&marker);
                self.fresh = true;
            }
            Tag::Emphasis => self.inline(["<i>", "<em>", "\x1d", ""]),
            Tag::Strong => self.inline(["<b>", "<strong>", "\x02", ""]),
            Tag::Strikethrough => self.inline(["<s>", "<del>", "\x1e", ""]),
            Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => {
                let safe = SAFE_SCHEMES.iter().any(|s| dest_url.starts_with(s));
                let target = safe.then(|| dest_url.to_string());
                if self.html()
                    && let Some(url) = &target
                {
                    self.out.push_str("<a href=\"");
                    escape_into(&mut self.out, url);
                    self.out.push_str("\">");
                }
                self.links.push(target);
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph if self.markup == Markup::MatrixHtml => self.out.push_str("</p>"),
            TagEnd::Heading(level) => match self.markup {
                Markup::MatrixHtml => {
                    self.out.push_str(&format!("</h{}>", heading_number(level)));
                }
                _ => self.inline(["</b>", "", "\x02", ""]),
            },
            TagEnd::BlockQuote(_) => {
                self.quote_depth = self.quote_depth.saturating_sub(1);
                if self.html() {
                    let trimmed = self.out.trim_end().len();
                    self.out.truncate(trimmed);
                    self.out.push_str("</blockquote>");
                }
            }
            TagEnd::CodeBlock => {
                if self.html() {
                    if self.out.ends_with('\n') {
                        self.out.pop();
                    }
                    self.out.push_str("</code></pre>");
                } else if self.out.ends_with('\n') {
                    self.out.pop();
                }
            }
            TagEnd::List(_) => {
                let ordered = matches!(self.lists.pop(), Some(Some(_)));
                if self.markup == Markup::MatrixHtml {
                    self.out.push_str(if ordered { "</ol>" } else { "</ul>" });
                }
            }
            TagEnd::Item if self.markup == Markup::MatrixHtml => self.out.push_str("</li>"),
            TagEnd::Emphasis => self.inline(["</i>", "</em>", "\x1d", ""]),
            TagEnd::Strong => self.inline(["</b>", "</strong>", "\x02", ""]),
            TagEnd::Strikethrough => self.inline(["</s>", "</del>", "\x1e", ""]),
            TagEnd::Link | TagEnd::Image => match self.links.pop().flatten() {
                Some(_) if self.html() => self.out.push_str("</a>"),
                // Text flavours show the target unless the text is it.
                Some(url) if !self.out.ends_with(url.as_str()) => {
                    self.out.push_str(&format!(" ({url})"));
                }
                Some(_) => {}
                None => {}
            },
            _ => {}
        }
    }
}

fn heading_number(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# Plan\n\nUse **bold**, _em_, ~~old~~ and `code`.\n\n\
                          - one\n- two\n\n1. first\n2. second\n\n\
                          ```rust\nlet x = 1 < 2;\n```\n\nSee [the docs](https://example.com).";

    #[test]
    fn telegram_gets_its_html_subset() {
        assert_eq!(
            render(SAMPLE, Markup::TelegramHtml),
            "<b>Plan</b>\n\nUse <b>bold</b>, <i>em</i>, <s>old</s> and <code>code</code>.\n\n\
             • one\n• two\n\n1. first\n2. second\n\n\
             <pre><code class=\"language-rust\">let x = 1 &lt; 2;</code></pre>\n\n\
             See <a href=\"https://example.com\">the docs</a>."
        );
    }

    #[test]
    fn matrix_gets_html_with_lists_and_headings() {
        let html = render(SAMPLE, Markup::MatrixHtml);
        assert!(html.starts_with("<h1>Plan</h1>"), "{html}");
        assert!(html.contains("<strong>bold</strong>, <em>em</em>, <del>old</del>"));
        assert!(html.contains("<ul><li>one</li><li>two</li></ul>"), "{html}");
        assert!(
            html.contains("<ol><li>first</li><li>second</li></ol>"),
            "{html}"
        );
        assert!(html.contains("<pre><code class=\"language-rust\">let x = 1 &lt; 2;</code></pre>"));
        assert!(html.contains("<a href=\"https://example.com\">the docs</a>"));
    }

    #[test]
    fn irc_gets_control_codes_and_plain_gets_none() {
        let irc = render("**b** _i_ ~~s~~ `c`", Markup::Irc);
        assert_eq!(irc, "\x02b\x02 \x1di\x1d \x1es\x1e \x11c\x11");
        assert_eq!(
            render(SAMPLE, Markup::Plain),
            "Plan\n\nUse bold, em, old and code.\n\n• one\n• two\n\n1. first\n2. second\n\n\
             let x = 1 < 2;\n\nSee the docs (https://example.com)."
        );
    }

    #[test]
    fn raw_html_and_unsafe_links_are_shown_as_text() {
        let text = "Hi <script>alert(1)</script> and [click](javascript:alert(1)) & more";
        let html = render(text, Markup::TelegramHtml);
        assert!(
            !html.contains("<script>") && !html.contains("href"),
            "{html}"
        );
        assert!(
            html.contains("&lt;script&gt;") && html.contains("&amp; more"),
            "{html}"
        );
        assert_eq!(
            render(text, Markup::Plain),
            "Hi <script>alert(1)</script> and click & more"
        );
        assert_eq!(
            render("<b onclick=x>hi</b>", Markup::MatrixHtml),
            "<p>&lt;b onclick=x&gt;hi&lt;/b&gt;</p>"
        );
        // A line of HTML alone is an HTML block: shown as text too.
        assert_eq!(
            render("<div>\n<script>x</script>\n</div>", Markup::TelegramHtml),
            "&lt;div&gt;\n&lt;script&gt;x&lt;/script&gt;\n&lt;/div&gt;"
        );
    }

    #[test]
    fn quotes_nested_lists_and_markdown_passthrough() {
        assert_eq!(
            render("> quoted\n\nafter", Markup::Plain),
            "> quoted\n\nafter"
        );
        assert_eq!(
            render("> quoted", Markup::TelegramHtml),
            "<blockquote>quoted</blockquote>"
        );
        assert_eq!(render("- a\n  - b\n- c", Markup::Plain), "• a\n  • b\n• c");
        assert_eq!(render(SAMPLE, Markup::Markdown), SAMPLE);
    }
}
