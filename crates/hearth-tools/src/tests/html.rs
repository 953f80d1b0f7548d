//! HTML to Markdown: what is kept, what is dropped, and the limits that
//! keep hostile markup from crashing or exhausting the process.

use std::time::{Duration, Instant};

use url::Url;

use crate::web_fetch::html::{MAX_DEPTH, STACK_BYTES, to_markdown};

fn base() -> Url {
    Url::parse("https://example.com/docs/page.html").unwrap()
}

/// Converts on a thread with the tool's stack size, as the tool does.
fn convert(html: String) -> crate::web_fetch::html::Page {
    std::thread::Builder::new()
        .stack_size(STACK_BYTES)
        .spawn(move || to_markdown(&html, &base()))
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn readable_text_keeps_headings_links_and_lists_and_drops_noise() {
    let page = convert(
        r##"<!doctype html><html><head><title> The
        Title </title><style>body { color: red }</style>
        <script>var secret = "in head";</script></head>
        <body><nav><a href="/">Home</a> | <a href="/about">About</a></nav>
        <h1>Main heading</h1>
        <p>Read <a href="other.html">the other page</a> or
        <a href="https://rust-lang.org/">Rust</a>. <a href="#top">Top</a></p>
        <img src="data:image/png;base64,AAAA" alt="a chart">
        <ul><li>first</li><li>second</li></ul>
        <script>document.write("script text")</script>
        <footer>copyright</footer></body></html>"##
            .into(),
    );
    assert_eq!(page.title.as_deref(), Some("The Title"));
    assert!(!page.cut);
    let md = &page.markdown;
    assert!(md.contains("# Main heading"), "{md}");
    assert!(
        md.contains("[the other page](https://example.com/docs/other.html)"),
        "{md}"
    );
    assert!(md.contains("[Rust](https://rust-lang.org/)"), "{md}");
    assert!(md.contains("Top") && !md.contains("#top"), "{md}");
    assert!(
        md.contains("[image: a chart]") && !md.contains("base64"),
        "{md}"
    );
    assert!(md.contains("first") && md.contains("second"), "{md}");
    for noise in [
        "secret",
        "script text",
        "color: red",
        "About",
        "copyright",
        "The Title",
    ] {
        assert!(!md.contains(noise), "{noise:?} left in {md}");
    }
    assert!(!md.contains("\n\n\n"), "{md}");
}

#[test]
fn deeply_nested_markup_is_cut_quickly_instead_of_overflowing_the_stack() {
    // 100,000 nested divs: without the limits, an abort (stack overflow)
    // or minutes of parsing.
    let html = format!(
        "<html><body><p>before</p>{}deep text{}</body></html>",
        "<div>".repeat(100_000),
        "</div>".repeat(100_000)
    );
    let started = Instant::now();
    let page = convert(html);
    assert!(page.cut);
    assert!(page.markdown.contains("before"), "{}", page.markdown);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn nesting_just_under_the_limit_converts_whole() {
    let depth = MAX_DEPTH - 10;
    let html = format!(
        "<html><body>{}deep text{}</body></html>",
        "<div>".repeat(depth),
        "</div>".repeat(depth)
    );
    let page = convert(html);
    assert!(!page.cut);
    assert!(page.markdown.contains("deep text"));
}

#[test]
fn unclosed_formatting_elements_cannot_multiply_the_tree() {
    // Each paragraph re-opens every unclosed <b>: 3,000 x 100,000 nodes
    // without the node limit.
    let mut html = String::from("<html><body><div>");
    for i in 0..3_000 {
        html.push_str(&format!("<b id={i}>"));
    }
    html.push_str("</div>");
    html.push_str(&"<p>x".repeat(100_000));
    let started = Instant::now();
    let page = convert(html);
    assert!(page.cut);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}
