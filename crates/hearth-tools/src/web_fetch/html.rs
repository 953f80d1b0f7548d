//! HTML → readable Markdown for `web_fetch`: html5ever parses the page
//! under limits, htmd turns the tree into Markdown without the page's
//! scripts, styles and navigation.
//!
//! **Why the limits.** A spec-compliant HTML parser does what the page
//! says, and a hostile page can say a lot. Measured with html5ever on
//! this machine (debug build): 2,000 nested `<div>`s (10 KB) overflow the 2 MiB stack
//! of htmd's recursive walk, which aborts the whole process; 50,000 take
//! 19 s to parse (the tree builder scans its stack of open elements for
//! each new element); and 13 KB of unclosed formatting elements followed
//! by paragraphs build a million nodes (each paragraph re-opens every
//! unclosed `<b>`), so 2 MiB would build billions. So the parser is driven
//! here, not through `parse_document`: a [`TreeSink`] wrapper counts the
//! nodes created and measures the depth of every insertion, and a
//! [`TokenSink`] wrapper stops feeding the tree builder once either limit
//! is reached. The page is then converted as far as it was built, and the
//! result says it was cut. After the parse, subtrees deeper than
//! [`MAX_CONVERT_DEPTH`] are dropped (moves by the adoption agency can
//! deepen a tree without an insertion), and the conversion runs on a
//! thread with a [`STACK_BYTES`] stack.

use std::borrow::Cow;
use std::cell::Cell;
use std::rc::Rc;

use htmd::HtmlToMarkdown;
use htmd::element_handler::Handlers;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::tree_builder::{
    ElementFlags, NodeOrText, QuirksMode, TreeBuilder, TreeBuilderOpts, TreeSink,
};
use html5ever::{Attribute, ExpandedName, QualName, TokenizerResult};
use markup5ever_rcdom::{Handle, NodeData, RcDom};
use url::Url;

/// Deepest insertion the parser may make. Real pages stay well under 100.
pub(crate) const MAX_DEPTH: usize = 256;
/// Most nodes the parser may create. A long Wikipedia article has about
/// 100,000.
pub(crate) const MAX_NODES: usize = 300_000;
/// Subtrees below this depth are dropped before conversion.
pub(crate) const MAX_CONVERT_DEPTH: usize = 2 * MAX_DEPTH;
/// The conversion thread's stack: htmd recurses once per level, about
/// 1–2 KiB a level in a debug build, so this leaves a wide margin over
/// [`MAX_CONVERT_DEPTH`].
pub(crate) const STACK_BYTES: usize = 16 * 1024 * 1024;

/// Elements whose content is not reading matter.
const SKIPPED: &[&str] = &[
    "head", "script", "style", "noscript", "template", "svg", "math", "canvas", "iframe", "object",
    "embed", "nav", "aside", "footer", "form", "button", "select", "input", "textarea", "dialog",
];

/// A page as text.
#[derive(Debug)]
pub(crate) struct Page {
    pub title: Option<String>,
    pub markdown: String,
    /// The markup hit a limit and only part of it was converted.
    pub cut: bool,
}

/// Converts `html`, resolving links against `base` (the page's URL).
pub(crate) fn to_markdown(html: &str, base: &Url) -> Page {
    let (document, limited) = parse_limited(html);
    let pruned = prune_deep(&document, MAX_CONVERT_DEPTH);
    let title = find_title(&document);
    let markdown = converter(base.clone()).tree_to_markdown(&document);
    Page {
        title,
        markdown: tidy(&markdown),
        cut: limited || pruned,
    }
}

fn converter(base: Url) -> HtmlToMarkdown {
    HtmlToMarkdown::builder()
        .skip_tags(SKIPPED.to_vec())
        // Images as their alt text: their URLs (often `data:` URIs) are
        // noise to a model.
        .add_handler(vec!["img"], |_: &dyn Handlers, element: htmd::Element| {
            let alt = attribute(element.attrs, "alt")?;
            let alt = alt.split_whitespace().collect::<Vec<_>>().join(" ");
            (!alt.is_empty()).then(|| format!("[image: {alt}]").into())
        })
        // Links with absolute URLs, so the model can fetch them next.
        .add_handler(
            vec!["a"],
            move |handlers: &dyn Handlers, element: htmd::Element| {
                let content = handlers.walk_children(element.node).content;
                let text = content.trim();
                let target =
                    attribute(element.attrs, "href").and_then(|href| absolute(&base, &href));
                Some(match target {
                    Some(url) if !text.is_empty() => {
                        let lead = if content.starts_with(char::is_whitespace) {
                            " "
                        } else {
                            ""
                        };
                        let tail = if content.ends_with(char::is_whitespace) {
                            " "
                        } else {
                            ""
                        };
                        format!("{lead}[{text}]({url}){tail}").into()
                    }
                    _ => content.into(),
                })
            },
        )
        .build()
}

fn attribute(attrs: &[Attribute], name: &str) -> Option<String> {
    attrs
        .iter()
        .find(|a| &*a.name.local == name)
        .map(|a| a.value.to_string())
}

/// A link target as an absolute URL the model can use, or `None` for
/// fragments, scripts and other schemes.
fn absolute(base: &Url, href: &str) -> Option<String> {
    let href = href.trim();
    if href.is_empty() || href.starts_with('#') {
        return None;
    }
    let url = base.join(href).ok()?;
    matches!(url.scheme(), "http" | "https" | "mailto")
        .then(|| url.as_str().replace('(', "%28").replace(')', "%29"))
}

/// Trailing spaces dropped and runs of blank lines folded into one.
fn tidy(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut blank_run = 0;
    for line in markdown.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_owned()
}

/// The text of the document's first HTML `<title>`.
fn find_title(document: &Handle) -> Option<String> {
    let mut stack = vec![document.clone()];
    while let Some(node) = stack.pop() {
        if let NodeData::Element { name, .. } = &node.data {
            if &*name.local == "title" && name.ns == html5ever::ns!(html) {
                let mut text = String::new();
                for child in node.children.borrow().iter() {
                    if let NodeData::Text { contents } = &child.data {
                        text.push_str(&contents.borrow());
                    }
                }
                let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
                return (!text.is_empty()).then_some(text);
            }
            if name.ns != html5ever::ns!(html) {
                continue;
            }
        }
        stack.extend(node.children.borrow().iter().rev().cloned());
    }
    None
}

/// Drops the children of nodes at `max` depth; returns whether any went.
fn prune_deep(document: &Handle, max: usize) -> bool {
    let mut pruned = false;
    let mut stack = vec![(document.clone(), 0usize)];
    while let Some((node, depth)) = stack.pop() {
        if depth >= max {
            if !node.children.borrow().is_empty() {
                // RcDom drops subtrees iteratively: no recursion here.
                node.children.borrow_mut().clear();
                pruned = true;
            }
            continue;
        }
        stack.extend(
            node.children
                .borrow()
                .iter()
                .map(|c| (c.clone(), depth + 1)),
        );
    }
    pruned
}

/// How far the parse may go, shared by the two wrappers.
#[derive(Debug, Default)]
struct Limits {
    nodes: Cell<usize>,
    stop: Cell<bool>,
}

impl Limits {
    fn count_node(&self) {
        self.nodes.set(self.nodes.get() + 1);
        if self.nodes.get() > MAX_NODES {
            self.stop.set(true);
        }
    }

    /// Stops the parse when a node is inserted at `MAX_DEPTH` or deeper
    /// under `parent`. Walks up at most `MAX_DEPTH` parents.
    fn check_depth(&self, parent: &Handle) {
        let mut depth = 0;
        let mut current = parent.clone();
        loop {
            let up = current.parent.take();
            current.parent.set(up.clone());
            let Some(up) = up.and_then(|weak| weak.upgrade()) else {
                break;
            };
            depth += 1;
            if depth >= MAX_DEPTH {
                self.stop.set(true);
                return;
            }
            current = up;
        }
    }
}

/// Parses with html5ever's tokenizer and tree builder under [`Limits`].
/// Returns the document and whether a limit stopped the parse.
fn parse_limited(html: &str) -> (Handle, bool) {
    let limits = Rc::new(Limits::default());
    let sink = LimitedDom {
        dom: RcDom::default(),
        limits: limits.clone(),
    };
    let builder = TreeBuilder::new(
        sink,
        TreeBuilderOpts {
            // As htmd parses: `<noscript>` content as text (then skipped).
            scripting_enabled: true,
            ..TreeBuilderOpts::default()
        },
    );
    let tokenizer = Tokenizer::new(
        Gate {
            builder,
            limits: limits.clone(),
        },
        TokenizerOpts::default(),
    );
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    // `Script` results only pause for a script to run; there is none.
    while let TokenizerResult::Script(_) = tokenizer.feed(&input) {}
    tokenizer.end();
    let document = tokenizer.sink.builder.sink.dom.document.clone();
    (document, limits.stop.get())
}

/// Passes tokens to the tree builder until a limit is reached, then drops
/// them: the tokenizer's own work is linear, the tree builder's is not.
struct Gate {
    builder: TreeBuilder<Handle, LimitedDom>,
    limits: Rc<Limits>,
}

impl TokenSink for Gate {
    type Handle = Handle;

    fn process_token(&self, token: Token, line_number: u64) -> TokenSinkResult<Handle> {
        if self.limits.stop.get() {
            return TokenSinkResult::Continue;
        }
        self.builder.process_token(token, line_number)
    }

    fn end(&self) {
        self.builder.end();
    }

    fn adjusted_current_node_present_but_not_in_html_namespace(&self) -> bool {
        self.builder
            .adjusted_current_node_present_but_not_in_html_namespace()
    }
}

/// RcDom, counting what is built. Parse errors are dropped: RcDom would
/// keep every one, and nothing reads them.
struct LimitedDom {
    dom: RcDom,
    limits: Rc<Limits>,
}

impl TreeSink for LimitedDom {
    type Handle = Handle;
    type Output = Self;
    type ElemName<'a> = ExpandedName<'a>;

    fn finish(self) -> Self {
        self
    }

    fn parse_error(&self, _msg: Cow<'static, str>) {}

    fn get_document(&self) -> Handle {
        self.dom.get_document()
    }

    fn get_template_contents(&self, target: &Handle) -> Handle {
        self.dom.get_template_contents(target)
    }

    fn set_quirks_mode(&self, mode: QuirksMode) {
        self.dom.set_quirks_mode(mode);
    }

    fn same_node(&self, x: &Handle, y: &Handle) -> bool {
        self.dom.same_node(x, y)
    }

    fn elem_name<'a>(&'a self, target: &'a Handle) -> ExpandedName<'a> {
        self.dom.elem_name(target)
    }

    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, flags: ElementFlags) -> Handle {
        self.limits.count_node();
        self.dom.create_element(name, attrs, flags)
    }

    fn create_comment(&self, text: StrTendril) -> Handle {
        self.limits.count_node();
        self.dom.create_comment(text)
    }

    fn create_pi(&self, target: StrTendril, data: StrTendril) -> Handle {
        self.limits.count_node();
        self.dom.create_pi(target, data)
    }

    fn append(&self, parent: &Handle, child: NodeOrText<Handle>) {
        if matches!(child, NodeOrText::AppendText(_)) {
            self.limits.count_node();
        }
        self.limits.check_depth(parent);
        self.dom.append(parent, child);
    }

    fn append_before_sibling(&self, sibling: &Handle, child: NodeOrText<Handle>) {
        self.limits.count_node();
        self.limits.check_depth(sibling);
        self.dom.append_before_sibling(sibling, child);
    }

    fn append_based_on_parent_node(
        &self,
        element: &Handle,
        prev_element: &Handle,
        child: NodeOrText<Handle>,
    ) {
        self.limits.count_node();
        self.limits.check_depth(prev_element);
        self.dom
            .append_based_on_parent_node(element, prev_element, child);
    }

    fn append_doctype_to_document(&self, name: StrTendril, public: StrTendril, system: StrTendril) {
        self.dom.append_doctype_to_document(name, public, system);
    }

    fn add_attrs_if_missing(&self, target: &Handle, attrs: Vec<Attribute>) {
        self.dom.add_attrs_if_missing(target, attrs);
    }

    fn remove_from_parent(&self, target: &Handle) {
        self.dom.remove_from_parent(target);
    }

    fn reparent_children(&self, node: &Handle, new_parent: &Handle) {
        self.limits.check_depth(new_parent);
        self.dom.reparent_children(node, new_parent);
    }

    fn is_mathml_annotation_xml_integration_point(&self, target: &Handle) -> bool {
        self.dom.is_mathml_annotation_xml_integration_point(target)
    }

    fn maybe_clone_an_option_into_selectedcontent(&self, option: &Handle) {
        self.dom.maybe_clone_an_option_into_selectedcontent(option);
    }
}
