//! HTML → Markdown of a page's main content, for a model to read. Owns two steps: choosing the
//! part of the page that is the content (semantic `<main>`/`<article>` first, else the block
//! that holds the most paragraph text) with navigation, footers, scripts and ad or share blocks
//! left out; and writing that part as Markdown that keeps headings, lists, tables, links,
//! emphasis and code. Text is not escaped: the reader is a model, not a Markdown renderer,
//! and escapes would only cost tokens.

use std::collections::HashMap;

use ego_tree::NodeRef;
use scraper::{ElementRef, Html, Node, Selector};

/// A page made readable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readable {
    /// The page's title (`<title>`, else `og:title`, else the first `<h1>`).
    pub title: Option<String>,
    /// The main content as Markdown.
    pub markdown: String,
}

/// Elements whose content is never page text.
const NEVER: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "embed",
    "head", "title", "meta", "link", "base", "button", "input", "select", "textarea", "option",
    "form", "dialog", "audio", "video", "source", "track", "map", "area",
];

/// Elements that frame a page rather than carry its content.
const CHROME: &[&str] = &["nav", "footer", "aside", "menu"];

/// Roles of the same kind.
const CHROME_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "menu",
    "menubar",
    "search",
    "dialog",
    "alert",
    "tablist",
];

/// Words in a class or id that mark a block as page furniture.
const FURNITURE: &[&str] = &[
    "nav",
    "navbar",
    "navigation",
    "menu",
    "sidebar",
    "footer",
    "breadcrumb",
    "breadcrumbs",
    "cookie",
    "cookies",
    "consent",
    "gdpr",
    "banner",
    "advert",
    "advertisement",
    "ads",
    "ad",
    "sponsor",
    "sponsored",
    "promo",
    "share",
    "sharing",
    "social",
    "related",
    "comments",
    "newsletter",
    "subscribe",
    "popup",
    "modal",
    "skip",
    "pagination",
    "pager",
    "masthead",
    "toolbar",
    "widget",
    "disqus",
    "dropdown",
    "toc",
    "navbox",
    "catlinks",
    "noprint",
    "editsection",
];

/// Words that mark a block as content even when a furniture word is there too
/// (`main-nav-content` is rare; `article-share` is not, so this list stays short).
const CONTENT_WORDS: &[&str] = &["article", "content", "main", "post", "entry", "body"];

/// Pages whose tags nest deeper than this are read as flat text (see [`nesting_depth`]).
const MAX_PARSE_DEPTH: usize = 256;

/// Elements with no end tag, or whose end tag is usually left out (they close themselves when
/// the next one starts), so they do not add to the nesting.
const NO_NESTING: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "param", "keygen", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup",
    "thead", "tbody", "tfoot", "colgroup", "caption", "rb", "rt", "rp", "html", "head", "body",
];

/// Elements whose content is raw text, skipped whole when scanning.
const RAW_TEXT: &[&str] = &[
    "script", "style", "textarea", "title", "xmp", "noembed", "noframes",
];

/// The deepest nesting of open tags, estimated in one linear pass (end tags close, void and
/// self-closing tags do not open, comments and raw text are skipped).
fn nesting_depth(html: &str) -> usize {
    let bytes = html.as_bytes();
    let (mut depth, mut max, mut i) = (0usize, 0usize, 0usize);
    let lower = |b: u8| b.to_ascii_lowercase();
    while let Some(off) = bytes[i..].iter().position(|b| *b == b'<') {
        i += off + 1;
        match bytes.get(i) {
            Some(b'/') => {
                depth = depth.saturating_sub(1);
            }
            Some(b'!') if bytes[i..].starts_with(b"!--") => {
                i = find_ci(bytes, i + 3, b"-->").map_or(bytes.len(), |e| e + 3);
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let end = bytes[i..]
                    .iter()
                    .position(|b| !b.is_ascii_alphanumeric() && *b != b'-')
                    .map_or(bytes.len(), |p| i + p);
                let name: String = bytes[i..end].iter().map(|b| lower(*b) as char).collect();
                let close = bytes[end..]
                    .iter()
                    .position(|b| *b == b'>')
                    .map_or(bytes.len(), |p| end + p);
                let self_closing = close > 0 && bytes.get(close - 1) == Some(&b'/');
                if RAW_TEXT.contains(&name.as_str()) {
                    let closing = format!("</{name}");
                    i = find_ci(bytes, close, closing.as_bytes()).unwrap_or(bytes.len());
                    continue;
                }
                if !self_closing && !NO_NESTING.contains(&name.as_str()) {
                    depth += 1;
                    max = max.max(depth);
                }
                i = close;
            }
            _ => {}
        }
    }
    max
}

/// Where `needle` (ASCII, any case) first occurs in `hay` at or after `from`.
fn find_ci(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| from + p)
}

/// A page as plain text through html5ever's tokenizer alone (linear, no tree): text outside
/// scripts and styles, a line break at each block tag.
fn flat_text(html: &str) -> String {
    use html5ever::tendril::StrTendril;
    use html5ever::tokenizer::states::RawKind;
    use html5ever::tokenizer::{
        BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer,
    };
    use std::cell::RefCell;

    #[derive(Default)]
    struct Sink {
        out: RefCell<String>,
        skipping: RefCell<Option<String>>,
    }
    impl TokenSink for Sink {
        type Handle = ();
        fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
            match token {
                Token::TagToken(tag) => {
                    let name: &str = &tag.name;
                    if tag.kind == TagKind::EndTag {
                        let mut skipping = self.skipping.borrow_mut();
                        if skipping.as_deref() == Some(name) {
                            *skipping = None;
                        }
                    } else if let Some(kind) = match name {
                        "script" => Some(RawKind::ScriptData),
                        "style" | "xmp" | "noembed" | "noframes" | "iframe" => {
                            Some(RawKind::Rawtext)
                        }
                        "textarea" | "title" => Some(RawKind::Rcdata),
                        _ => None,
                    } {
                        *self.skipping.borrow_mut() = Some(name.to_owned());
                        return TokenSinkResult::RawData(kind);
                    }
                    if !matches!(
                        name,
                        "a" | "span"
                            | "b"
                            | "i"
                            | "em"
                            | "strong"
                            | "code"
                            | "small"
                            | "sup"
                            | "sub"
                            | "abbr"
                            | "cite"
                            | "mark"
                            | "u"
                            | "s"
                            | "q"
                            | "kbd"
                    ) {
                        self.out.borrow_mut().push('\n');
                    }
                }
                Token::CharacterTokens(t) if self.skipping.borrow().is_none() => {
                    self.out.borrow_mut().push_str(&t);
                }
                _ => {}
            }
            TokenSinkResult::Continue
        }
    }
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let tok = Tokenizer::new(Sink::default(), Default::default());
    let _ = tok.feed(&input);
    tok.end();
    let text = tok.sink.out.take();
    text.lines()
        .map(collapse)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Nesting rendered as structure; deeper content becomes plain text.
const MAX_DEPTH: usize = 200;

/// Text shorter than this is not counted as a paragraph when scoring blocks.
const MIN_PARAGRAPH: usize = 25;

/// Converts a whole HTML document; `base` resolves relative links and images.
pub fn readable(html: &str, url: &url::Url) -> Readable {
    if nesting_depth(html) > MAX_PARSE_DEPTH {
        // The tree builder's cost grows with the square of the nesting; a page this deep is
        // hostile or broken, so it is read as flat text with a linear tokenizer instead.
        return Readable {
            title: None,
            markdown: flat_text(html),
        };
    }
    let doc = Html::parse_document(html);
    let base = document_base(&doc, url);
    let title = title(&doc);
    let root = main_content(&doc);
    let page = page_key(url);
    let ctx = Ctx {
        base: &base,
        page: &page,
        strict: root.is_body,
        root_text: text_chars(root.element),
        depth: std::cell::Cell::new(0),
    };
    let mut markdown = Blocks::render(&ctx, root.element);
    if let Some(t) = &title
        && !markdown.starts_with("# ")
        && !root
            .element
            .descendent_elements()
            .any(|e| e.value().name() == "h1")
    {
        markdown = format!("# {t}\n\n{markdown}");
    }
    Readable { title, markdown }
}

/// Converts a fragment (no main-content choice), e.g. a snippet in search results.
pub fn fragment_text(html: &str) -> String {
    let doc = Html::parse_fragment(html);
    collapse(&doc.root_element().text().collect::<String>())
}

fn selector(s: &str) -> Selector {
    Selector::parse(s).expect("static selector")
}

/// `<base href>` when the page sets one, resolved against the page's own URL.
fn document_base(doc: &Html, url: &url::Url) -> url::Url {
    doc.select(&selector("base[href]"))
        .next()
        .and_then(|b| url.join(b.attr("href")?).ok())
        .unwrap_or_else(|| url.clone())
}

fn title(doc: &Html) -> Option<String> {
    let non_empty = |s: String| {
        let s = collapse(&s);
        (!s.is_empty()).then_some(s)
    };
    doc.select(&selector("title"))
        .next()
        .and_then(|t| non_empty(t.text().collect()))
        .or_else(|| {
            doc.select(&selector(r#"meta[property="og:title"]"#))
                .next()
                .and_then(|m| non_empty(m.attr("content")?.to_owned()))
        })
        .or_else(|| {
            doc.select(&selector("h1"))
                .next()
                .and_then(|h| non_empty(h.text().collect()))
        })
}

struct Root<'a> {
    element: ElementRef<'a>,
    /// No semantic or scored container was found: the whole body is rendered, so link-heavy
    /// blocks (menus without a `<nav>`) are dropped too.
    is_body: bool,
}

/// The element holding the page's content.
fn main_content(doc: &Html) -> Root<'_> {
    let body = doc
        .select(&selector("body"))
        .next()
        .unwrap_or_else(|| doc.root_element());
    let text_len = |e: ElementRef| e.text().map(|t| t.trim().len()).sum::<usize>();
    let body_len = text_len(body).max(1);
    // A semantic container with a fair share of the text.
    for s in [r#"[role="main"]"#, "main"] {
        if let Some(m) = doc.select(&selector(s)).next()
            && text_len(m) * 5 >= body_len
        {
            return Root {
                element: m,
                is_body: false,
            };
        }
    }
    let articles: Vec<ElementRef> = doc
        .select(&selector("article"))
        .filter(|a| {
            !a.ancestors().any(|p| {
                p.value()
                    .as_element()
                    .is_some_and(|e| e.name() == "article")
            })
        })
        .collect();
    let sized: Vec<(usize, ElementRef)> = articles.iter().map(|a| (text_len(*a), *a)).collect();
    if let Some(&(best_len, best)) = sized.iter().max_by_key(|(len, _)| *len) {
        let total: usize = sized.iter().map(|(len, _)| len).sum();
        // One article, or one that clearly dominates (not a list of teasers).
        if best_len * 2 >= total && best_len * 4 >= body_len {
            return Root {
                element: best,
                is_body: false,
            };
        }
    }
    // Readability's idea, reduced: paragraphs score their parent (and half for the
    // grandparent); the best-scoring block is the content when it holds most of the text.
    let mut scores: HashMap<ego_tree::NodeId, (f64, ElementRef)> = HashMap::new();
    for p in body.select(&selector("p, pre, td, blockquote")) {
        if is_excluded(p.value(), true) {
            continue;
        }
        let text = collapse(&p.text().collect::<String>());
        if text.len() < MIN_PARAGRAPH {
            continue;
        }
        let score = 1.0 + text.matches(',').count() as f64 + (text.len() as f64 / 100.0).min(3.0);
        let mut parents = p.ancestors().filter_map(ElementRef::wrap);
        if let Some(parent) = parents.next() {
            scores.entry(parent.id()).or_insert((0.0, parent)).0 += score;
            if let Some(grand) = parents.next() {
                scores.entry(grand.id()).or_insert((0.0, grand)).0 += score / 2.0;
            }
        }
    }
    let best = scores
        .into_values()
        .filter(|(_, e)| !matches!(e.value().name(), "body" | "html"))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    if let Some((_, e)) = best
        && text_len(e) * 2 >= body_len
    {
        return Root {
            element: e,
            is_body: false,
        };
    }
    Root {
        element: body,
        is_body: true,
    }
}

/// Whether an element is left out: never text, page chrome, hidden, or furniture by its class
/// or id. `strict` also drops `<header>` (a site header when rendering the whole body).
fn is_excluded(e: &scraper::node::Element, strict: bool) -> bool {
    let name = e.name();
    if NEVER.contains(&name) || CHROME.contains(&name) || (strict && name == "header") {
        return true;
    }
    if e.attr("hidden").is_some() || e.attr("aria-hidden") == Some("true") {
        return true;
    }
    if e.attr("role")
        .is_some_and(|r| CHROME_ROLES.contains(&r.trim().to_ascii_lowercase().as_str()))
    {
        return true;
    }
    if e.attr("style").is_some_and(|s| {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let s = s.to_ascii_lowercase();
        s.contains("display:none") || s.contains("visibility:hidden")
    }) {
        return true;
    }
    if matches!(
        name,
        "html"
            | "body"
            | "main"
            | "article"
            | "pre"
            | "code"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
    ) {
        return false;
    }
    let mut words = e
        .attr("class")
        .into_iter()
        .chain(e.attr("id"))
        .flat_map(|v| v.split(|c: char| !c.is_ascii_alphanumeric()))
        .map(str::to_ascii_lowercase);
    let mut furniture = false;
    for w in words.by_ref() {
        if CONTENT_WORDS.contains(&w.as_str()) {
            return false;
        }
        furniture |= FURNITURE.contains(&w.as_str());
    }
    furniture
}

/// Whitespace runs → one space, trimmed.
fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A URL without its fragment: links to the page itself (footnotes, sections) are in-page.
fn page_key(u: &url::Url) -> String {
    let mut u = u.clone();
    u.set_fragment(None);
    u.to_string()
}

fn text_chars(e: ElementRef) -> usize {
    e.text().map(|t| t.trim().chars().count()).sum()
}

struct Ctx<'a> {
    base: &'a url::Url,
    /// The page's own URL without fragment.
    page: &'a str,
    strict: bool,
    /// Characters of text in the content root; a link farm is dropped only when it is less
    /// than half of that (on an index page the links are the content).
    root_text: usize,
    /// How deep the renderer is in the tree: past [`MAX_DEPTH`] an element's text is taken
    /// flat, so a hostile page of nested tags cannot exhaust the stack.
    depth: std::cell::Cell<usize>,
}

impl Ctx<'_> {
    /// An absolute http(s) URL for a link or image, or `None` for in-page anchors, scripts
    /// and data URLs (nothing a reader can follow).
    fn href(&self, raw: &str) -> Option<String> {
        let raw = raw.trim();
        if raw.is_empty() || raw.starts_with('#') {
            return None;
        }
        let u = self.base.join(raw).ok()?;
        if u.fragment().is_some() && page_key(&u) == self.page {
            return None;
        }
        matches!(u.scheme(), "http" | "https" | "mailto" | "ftp").then(|| u.to_string())
    }
}

/// Block-level Markdown being written: finished blocks plus the paragraph in progress.
struct Blocks<'c, 'b> {
    ctx: &'c Ctx<'b>,
    out: Vec<String>,
    line: String,
}

impl<'c, 'b> Blocks<'c, 'b> {
    fn new(ctx: &'c Ctx<'b>) -> Self {
        Self {
            ctx,
            out: Vec::new(),
            line: String::new(),
        }
    }

    /// The element's content as Markdown blocks separated by blank lines.
    fn render(ctx: &'c Ctx<'b>, e: ElementRef) -> String {
        Self::blocks(ctx, e).join("\n\n")
    }

    fn blocks(ctx: &'c Ctx<'b>, e: ElementRef) -> Vec<String> {
        let mut b = Self::new(ctx);
        b.children(*e);
        b.flush();
        b.out
    }

    /// The element's content on one line (headings, links, table cells).
    fn inline(ctx: &'c Ctx<'b>, e: ElementRef) -> String {
        collapse(&Self::blocks(ctx, e).join(" ").replace('\n', " "))
    }

    fn flush(&mut self) {
        let line = self.line.trim();
        if !line.is_empty() {
            // A `<br>` leaves a line break; trim the spaces around it.
            let text = line
                .split('\n')
                .map(str::trim)
                .collect::<Vec<_>>()
                .join("\n");
            self.out.push(text);
        }
        self.line.clear();
    }

    fn push_block(&mut self, block: String) {
        self.flush();
        if !block.trim().is_empty() {
            self.out.push(block);
        }
    }

    /// Text with its whitespace collapsed; a space at either end survives as one space.
    fn text(&mut self, t: &str) {
        fn space(line: &mut String) {
            if !line.is_empty() && !line.ends_with([' ', '\n']) {
                line.push(' ');
            }
        }
        if t.starts_with(char::is_whitespace) {
            space(&mut self.line);
        }
        for (i, word) in t.split_whitespace().enumerate() {
            if i > 0 {
                self.line.push(' ');
            }
            self.line.push_str(word);
        }
        if t.ends_with(char::is_whitespace) {
            space(&mut self.line);
        }
    }

    /// Appends inline Markdown as it is.
    fn inline_piece(&mut self, s: &str) {
        self.line.push_str(s);
    }

    fn children(&mut self, n: NodeRef<Node>) {
        for c in n.children() {
            self.node(c);
        }
    }

    fn node(&mut self, n: NodeRef<Node>) {
        match n.value() {
            Node::Text(t) => self.text(t),
            Node::Element(_) => {
                if let Some(e) = ElementRef::wrap(n) {
                    self.element(e);
                }
            }
            _ => {}
        }
    }

    fn element(&mut self, e: ElementRef) {
        let depth = self.ctx.depth.get();
        if depth >= MAX_DEPTH {
            if !is_excluded(e.value(), self.ctx.strict) {
                self.text(" ");
                self.text(&collapse(&e.text().collect::<String>()));
                self.text(" ");
            }
            return;
        }
        self.ctx.depth.set(depth + 1);
        self.element_within_depth(e);
        self.ctx.depth.set(depth);
    }

    fn element_within_depth(&mut self, e: ElementRef) {
        let el = e.value();
        if is_excluded(el, self.ctx.strict) {
            return;
        }
        if let Some(chars) = link_farm(e)
            && chars * 2 < self.ctx.root_text
        {
            return;
        }
        let name = el.name();
        match name {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                let level = usize::from(name.as_bytes()[1] - b'0');
                let text = Self::inline(self.ctx, e);
                if !text.is_empty() {
                    self.push_block(format!("{} {text}", "#".repeat(level)));
                }
            }
            "p" | "div" | "section" | "article" | "main" | "header" | "figure" | "figcaption"
            | "address" | "details" | "summary" | "center" | "hgroup" | "legend" | "fieldset"
            | "caption" => {
                self.flush();
                self.children(*e);
                self.flush();
            }
            "br" => self.line.push('\n'),
            "hr" => self.push_block("---".to_owned()),
            "ul" | "ol" => {
                let list = self.list(e);
                self.push_block(list);
            }
            "dl" => {
                let list = self.definitions(e);
                self.push_block(list);
            }
            "pre" => {
                let code = self.pre(e);
                self.push_block(code);
            }
            "blockquote" => {
                let inner = Self::render(self.ctx, e);
                let quoted = inner
                    .lines()
                    .map(|l| {
                        if l.is_empty() {
                            ">".to_owned()
                        } else {
                            format!("> {l}")
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                self.push_block(quoted);
            }
            "table" => self.table(e),
            "a" => self.link(e),
            "img" => {
                if let Some(img) = self.image(e) {
                    self.space_before();
                    self.inline_piece(&img);
                }
            }
            "strong" | "b" => self.wrap(e, "**"),
            "em" | "i" | "cite" => self.wrap(e, "*"),
            "del" | "s" | "strike" => self.wrap(e, "~~"),
            "code" | "kbd" | "samp" | "tt" => {
                let text: String = e.text().collect();
                let text = collapse(&text);
                if !text.is_empty() {
                    self.space_before_if_word();
                    self.inline_piece(&inline_code(&text));
                }
            }
            "sup" => {
                let t = Self::inline(self.ctx, e);
                if !t.is_empty() {
                    self.inline_piece(&format!("^{t}"));
                }
            }
            "li" | "dt" | "dd" | "tr" | "td" | "th" | "thead" | "tbody" | "tfoot" => {
                // Outside their containers: plain blocks.
                self.flush();
                self.children(*e);
                self.flush();
            }
            _ => self.children(*e),
        }
    }

    /// A space before an inline piece when the text before ends in a word.
    fn space_before(&mut self) {
        if self
            .line
            .ends_with(|c: char| !c.is_whitespace() && c != '(' && c != '[')
        {
            self.line.push(' ');
        }
    }

    fn space_before_if_word(&mut self) {
        if self.line.ends_with(|c: char| c.is_alphanumeric()) {
            self.line.push(' ');
        }
    }

    fn wrap(&mut self, e: ElementRef, mark: &str) {
        let blocks = Self::blocks(self.ctx, e);
        match blocks.as_slice() {
            [] => {}
            [one] if !one.contains('\n') => {
                self.attach(e, &format!("{mark}{one}{mark}"));
                let trailing = e
                    .text()
                    .last()
                    .is_some_and(|t| t.ends_with(char::is_whitespace));
                if trailing {
                    self.line.push(' ');
                }
            }
            _ => {
                // Emphasis around blocks: keep the blocks, drop the emphasis.
                for b in blocks {
                    self.push_block(b);
                }
            }
        }
    }

    fn link(&mut self, e: ElementRef) {
        let target = e.attr("href").and_then(|h| self.ctx.href(h));
        let blocks = Self::blocks(self.ctx, e);
        let text = collapse(&blocks.join(" ").replace('\n', " "));
        let Some(target) = target else {
            // No followable target: the text alone.
            if !text.is_empty() {
                self.space_before_if_word();
                self.inline_piece(&text);
            }
            return;
        };
        if blocks.len() > 1 && text.len() > 200 {
            // A card wrapped in a link: keep its blocks, then the link.
            for b in blocks {
                self.push_block(b);
            }
            self.push_block(format!("<{target}>"));
            return;
        }
        let piece = if text.is_empty() {
            match e.attr("title").map(collapse) {
                Some(t) if !t.is_empty() => format!("[{t}]({target})"),
                _ => return,
            }
        } else if text == target || text == target.trim_end_matches('/') {
            format!("<{target}>")
        } else {
            format!("[{text}]({target})")
        };
        self.attach(e, &piece);
    }

    /// Appends an inline piece made from `e`, with a space before it when `e`'s text starts
    /// with one or the text before ends in a word.
    fn attach(&mut self, e: ElementRef, piece: &str) {
        let leading = e
            .text()
            .next()
            .is_some_and(|t| t.starts_with(char::is_whitespace));
        if leading {
            self.space_before();
        } else {
            self.space_before_if_word();
        }
        self.inline_piece(piece);
    }

    fn image(&self, e: ElementRef) -> Option<String> {
        let tiny = |a: &str| {
            e.attr(a)
                .and_then(|v| v.trim_end_matches("px").parse::<u32>().ok())
                .is_some_and(|v| v <= 2)
        };
        if tiny("width") || tiny("height") {
            return None; // tracking pixels
        }
        let src = e
            .attr("src")
            .filter(|s| !s.trim_start().starts_with("data:"))
            .or_else(|| e.attr("data-src"))?;
        let src = self.ctx.href(src)?;
        let alt = collapse(e.attr("alt").unwrap_or(""));
        Some(format!("![{alt}]({src})"))
    }

    fn list(&self, e: ElementRef) -> String {
        let ordered = e.value().name() == "ol";
        let mut n: i64 = e
            .attr("start")
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(1);
        let mut items = Vec::new();
        for li in e.child_elements() {
            if is_excluded(li.value(), self.ctx.strict) {
                continue;
            }
            let blocks = if li.value().name() == "li" {
                Self::blocks(self.ctx, li)
            } else {
                // Lists nested directly in a list (invalid, common): indent under the last item.
                let inner = Self::blocks(self.ctx, li);
                if let Some(last) = items.last_mut() {
                    let nested = indent(&inner.join("\n"), "  ");
                    *last = format!("{last}\n{nested}");
                }
                continue;
            };
            if blocks.is_empty() {
                continue;
            }
            let marker = if ordered {
                let m = format!("{n}. ");
                n += 1;
                m
            } else {
                "- ".to_owned()
            };
            let pad = " ".repeat(marker.len());
            let body = blocks.join("\n");
            let mut lines = body.lines();
            let first = lines.next().unwrap_or("");
            let mut item = format!("{marker}{first}");
            for l in lines {
                item.push('\n');
                if !l.is_empty() {
                    item.push_str(&pad);
                    item.push_str(l);
                }
            }
            items.push(item);
        }
        items.join("\n")
    }

    fn definitions(&self, e: ElementRef) -> String {
        let mut out = Vec::new();
        for c in e.child_elements() {
            let text = Self::blocks(self.ctx, c).join("\n");
            if text.is_empty() {
                continue;
            }
            match c.value().name() {
                "dt" => out.push(format!("**{}**", collapse(&text))),
                _ => out.push(format!(": {}", indent(&text, "  ").trim_start())),
            }
        }
        out.join("\n")
    }

    fn pre(&self, e: ElementRef) -> String {
        let code: String = e.text().collect();
        let code = code.trim_matches('\n');
        let lang = std::iter::once(e)
            .chain(e.child_elements().filter(|c| c.value().name() == "code"))
            .flat_map(|el| el.value().classes())
            .find_map(|c| {
                c.strip_prefix("language-")
                    .or_else(|| c.strip_prefix("lang-"))
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        let fence = "`".repeat(longest_run(code, '`').max(2) + 1);
        format!("{fence}{lang}\n{code}\n{fence}")
    }

    fn table(&mut self, e: ElementRef) {
        let rows: Vec<ElementRef> = table_rows(e);
        let mut grid: Vec<Vec<String>> = Vec::new();
        let mut header = false;
        for (i, tr) in rows.iter().enumerate() {
            let mut cells = Vec::new();
            for cell in tr.child_elements() {
                if !matches!(cell.value().name(), "td" | "th") {
                    continue;
                }
                let text = Self::inline(self.ctx, cell).replace('|', "\\|");
                let span = cell
                    .attr("colspan")
                    .and_then(|s| s.trim().parse::<usize>().ok())
                    .unwrap_or(1)
                    .clamp(1, 50);
                cells.push(text);
                cells.extend(std::iter::repeat_n(String::new(), span - 1));
            }
            if i == 0 {
                header = tr.child_elements().all(|c| c.value().name() == "th")
                    || tr
                        .parent()
                        .and_then(ElementRef::wrap)
                        .is_some_and(|p| p.value().name() == "thead");
            }
            if !cells.is_empty() {
                grid.push(cells);
            }
        }
        let width = grid.iter().map(Vec::len).max().unwrap_or(0);
        let has_block_tables = e
            .descendent_elements()
            .skip(1)
            .any(|d| d.value().name() == "table");
        if width <= 1 || has_block_tables {
            // A layout table: its cells are just blocks.
            for tr in rows {
                for cell in tr.child_elements() {
                    for b in Self::blocks(self.ctx, cell) {
                        self.push_block(b);
                    }
                }
            }
            return;
        }
        let caption = e
            .child_elements()
            .find(|c| c.value().name() == "caption")
            .map(|c| Self::inline(self.ctx, c))
            .filter(|c| !c.is_empty());
        let mut lines = Vec::new();
        if let Some(c) = caption {
            lines.push(format!("**{c}**\n"));
        }
        let row = |cells: &[String]| {
            let mut padded: Vec<&str> = cells.iter().map(String::as_str).collect();
            padded.resize(width, "");
            format!("| {} |", padded.join(" | "))
        };
        let mut body = grid.iter();
        if header {
            lines.push(row(body.next().expect("a first row")));
        } else {
            lines.push(row(&vec![String::new(); width]));
        }
        lines.push(format!("|{}", " --- |".repeat(width)));
        for r in body {
            lines.push(row(r));
        }
        self.push_block(lines.join("\n"));
    }
}

/// A table's own rows (not those of tables nested in its cells).
fn table_rows(table: ElementRef) -> Vec<ElementRef> {
    let mut rows = Vec::new();
    for c in table.child_elements() {
        match c.value().name() {
            "tr" => rows.push(c),
            "thead" | "tbody" | "tfoot" => {
                rows.extend(c.child_elements().filter(|r| r.value().name() == "tr"))
            }
            _ => {}
        }
    }
    rows
}

/// A block that is mostly links (a menu without `<nav>`, a language list, a tag cloud, a
/// navigation box): at least five links and over 70 % of its text inside them. Returns the
/// block's text length when it is one.
fn link_farm(e: ElementRef) -> Option<usize> {
    if !matches!(
        e.value().name(),
        "ul" | "ol" | "div" | "section" | "table" | "p"
    ) {
        return None;
    }
    let links: Vec<ElementRef> = e
        .descendent_elements()
        .filter(|d| d.value().name() == "a")
        .collect();
    if links.len() < 5 {
        return None;
    }
    let total = text_chars(e);
    let linked: usize = links.iter().map(|a| text_chars(*a)).sum();
    (linked * 10 > total * 7).then_some(total)
}

fn inline_code(text: &str) -> String {
    let ticks = "`".repeat(longest_run(text, '`') + 1);
    if text.starts_with('`') || text.ends_with('`') {
        format!("{ticks} {text} {ticks}")
    } else {
        format!("{ticks}{text}{ticks}")
    }
}

fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for ch in s.chars() {
        run = if ch == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

fn indent(s: &str, pad: &str) -> String {
    s.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(html: &str) -> String {
        readable(
            html,
            &url::Url::parse("https://example.com/docs/page").unwrap(),
        )
        .markdown
    }

    #[test]
    fn keeps_structure_and_drops_page_chrome() {
        let html = r#"<html><head><title>Guide</title><script>var x = 1;</script>
            <style>p { color: red }</style></head><body>
            <nav><a href="/">Home</a> <a href="/about">About</a></nav>
            <main>
              <h1>Install  the <em>tool</em></h1>
              <p>First, run <code>make</code>, then read the <a href="../faq">FAQ</a>.</p>
              <ul><li>one</li><li>two<ul><li>nested</li></ul></li></ul>
              <ol start="3"><li><p>three</p></li></ol>
              <pre><code class="language-rust">fn main() {
    let answer = 42;
}</code></pre>
              <table><thead><tr><th>Name</th><th>Size</th></tr></thead>
                <tbody><tr><td>a|b</td><td>1</td></tr></tbody></table>
              <blockquote><p>Quoted</p><p>twice</p></blockquote>
              <div class="share-buttons"><a href="/tw">Tweet</a></div>
              <p hidden>secret</p><img src="/logo.png" alt="Logo"><img src="/p.gif" width="1">
            </main>
            <footer>Copyright</footer></body></html>"#;
        let r = readable(
            html,
            &url::Url::parse("https://example.com/docs/page").unwrap(),
        );
        assert_eq!(r.title.as_deref(), Some("Guide"));
        let expected = "# Install the *tool*\n\n\
            First, run `make`, then read the [FAQ](https://example.com/faq).\n\n\
            - one\n- two\n  - nested\n\n\
            3. three\n\n\
            ```rust\nfn main() {\n    let answer = 42;\n}\n```\n\n\
            | Name | Size |\n| --- | --- |\n| a\\|b | 1 |\n\n\
            > Quoted\n>\n> twice\n\n\
            ![Logo](https://example.com/logo.png)";
        assert_eq!(r.markdown, expected);
    }

    #[test]
    fn without_semantic_markup_the_densest_block_wins() {
        let para = "This paragraph has real content, with commas, and enough words to count. ";
        let html = format!(
            r#"<body><div id="top"><a href="/a">A</a><a href="/b">B</a></div>
            <div class="column"><h2>Story</h2><p>{para}</p><p>{para}</p><p>{para}</p></div>
            <div class="sidebar"><p>{para}</p></div></body>"#
        );
        let out = md(&html);
        assert!(out.starts_with("## Story\n\n"), "{out}");
        assert_eq!(out.matches("real content").count(), 3, "{out}");
    }

    #[test]
    fn whole_body_drops_menus_and_site_header() {
        let links: String = (0..6)
            .map(|i| format!(r#"<li><a href="/{i}">Link {i}</a></li>"#))
            .collect();
        let html = format!(
            r#"<body><header><h1>Site</h1></header><ul>{links}</ul>
            <p>Short text.</p><p>More <strong>bold </strong>text<br>next line.</p></body>"#
        );
        assert_eq!(md(&html), "Short text.\n\nMore **bold** text\nnext line.");
    }

    #[test]
    fn links_and_images_resolve_against_base() {
        let html = r##"<head><base href="https://cdn.example.org/x/"></head><body><main>
            <p><a href="#top">Top</a> <a href="javascript:void(0)">JS</a>
            <a href="y">rel</a> <a href="https://e.com/">https://e.com/</a>
            <a href="/z"><img src="i.png" alt="pic"></a></p></main></body>"##;
        assert_eq!(
            md(html),
            "Top JS [rel](https://cdn.example.org/x/y) <https://e.com/> [![pic](https://cdn.example.org/x/i.png)](https://cdn.example.org/z)"
        );
    }

    #[test]
    fn layout_tables_and_fences_with_backticks() {
        let html = "<main><table><tr><td><p>only</p><p>column</p></td></tr></table>\
            <pre>a ``` b</pre><p><code>x`y</code></p></main>";
        assert_eq!(md(html), "only\n\ncolumn\n\n````\na ``` b\n````\n\n``x`y``");
    }

    #[test]
    fn deep_nesting_and_big_pages_stay_bounded() {
        // Deeper than the tree builder is given: flat text, in linear time.
        let n = 100_000;
        let html = format!(
            "<main><script>if (a < b) {{}}</script>{}deep &amp; text{}<p>after</p></main>",
            "<div><span>".repeat(n),
            "</span></div>".repeat(n)
        );
        assert!(nesting_depth(&html) > MAX_PARSE_DEPTH);
        assert_eq!(md(&html), "deep & text\n\nafter");
        // Deeper than the renderer goes: the innermost part as text.
        let n = 120;
        let html = format!(
            "<main>{}deep <b>text</b>{}</main>",
            "<div><span>".repeat(n),
            "</span></div>".repeat(n)
        );
        assert_eq!(nesting_depth(&html), 2 * n + 2);
        assert_eq!(md(&html), "deep text");
        // Void, optional-end and self-closing tags, comments and raw text do not nest.
        let flat = "<p>a<p>b<br><img src=x><li>c<svg/><!-- <div><div> --><script>'<div>'</script><style></style>";
        assert_eq!(nesting_depth(flat), 0);
        let row = "<div class=\"card\"><h3>Item</h3><p>Some text, with a <a href=\"/x\">link</a> and more words.</p><ul><li>a</li><li>b</li></ul></div>";
        let big = format!("<body>{}</body>", row.repeat(20_000));
        let started = std::time::Instant::now();
        let out = md(&big);
        assert_eq!(out.matches("### Item").count(), 20_000);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn footnotes_are_in_page_and_link_lists_are_dropped_unless_they_are_the_page() {
        let langs: String = (0..12)
            .map(|i| format!(r#"<li><a href="https://l{i}.example/">Lang {i}</a></li>"#))
            .collect();
        let para =
            "Real text of the article, long enough to outweigh the list of languages by far. ";
        let html = format!(
            r##"<main><ul class="interlanguage">{langs}</ul><p>{para}{para}{para}{para}<sup><a href="https://example.com/docs/page#note-1">[1]</a></sup></p></main>"##
        );
        let out = md(&html);
        assert!(!out.contains("Lang"), "{out}");
        assert!(out.ends_with("by far. ^[1]"), "{out}");
        // An index page: the links are the content.
        let html = format!("<main><h1>Index</h1><ul>{langs}</ul></main>");
        assert!(md(&html).contains("- [Lang 11](https://l11.example/)"));
        // Code blocks are never furniture, whatever their class says.
        assert_eq!(
            md(r#"<main><pre class="lang-toc">x</pre></main>"#),
            "```toc\nx\n```"
        );
    }

    #[test]
    fn fragments_are_plain_text() {
        assert_eq!(fragment_text("a <b>bold</b>\n  move"), "a bold move");
    }
}
