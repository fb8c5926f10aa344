//! A web page fetched through the network guard and made readable: HTML as Markdown of its
//! main content (`support::html`), JSON pretty-printed, text as is, images as images; read a
//! window at a time, with the converted page cached briefly (LRU, TTL) so paging never fetches
//! it again. `fetch_url` and the `fetch` prompt are its users.

use std::sync::Arc;

use base64::Engine;

use crate::error::{ToolError, blocking};
use crate::policy::net::{Fetched, NetGuard};
use crate::support::cache::TtlCache;
use crate::support::{html, text};

/// A piece of a rendered page: text, or an image in base64.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Text(String),
    Image { mime: String, base64: String },
}

/// A fetched page, converted once and kept for paging.
#[derive(Debug)]
pub struct Page {
    pub final_url: String,
    pub status: u16,
    pub content_type: String,
    pub title: Option<String>,
    pub body: Body,
}

#[derive(Debug)]
pub enum Body {
    /// Readable text and its length in characters.
    Text {
        text: String,
        chars: usize,
    },
    Image {
        mime: String,
        data: Vec<u8>,
    },
}

impl Page {
    fn weight(&self) -> usize {
        match &self.body {
            Body::Text { text, .. } => text.len(),
            Body::Image { data, .. } => data.len(),
        }
    }
}

/// Converted pages by (URL, raw).
pub type PageCache = TtlCache<(String, bool), Arc<Page>>;

/// How one fetch behaves.
#[derive(Debug, Clone, Copy)]
pub struct FetchOptions {
    /// Consult robots.txt (model-started fetches); the user's own requests skip it.
    pub robots: bool,
    /// Largest image returned as image content.
    pub max_image_bytes: u64,
}

const ACCEPT: &str =
    "text/html,application/xhtml+xml,application/json;q=0.9,text/*;q=0.8,image/*;q=0.7,*/*;q=0.5";

/// The page at `url`, from the cache when it is fresh there. The flag says it was cached.
pub async fn fetch_page(
    net: &NetGuard,
    cache: &PageCache,
    url: &str,
    raw: bool,
    options: FetchOptions,
) -> Result<(Arc<Page>, bool), ToolError> {
    let parsed = url::Url::parse(url)
        .map_err(|e| ToolError::invalid(format!("`{url}` is not a valid URL: {e}")))?;
    let key = (parsed.to_string(), raw);
    if let Some(p) = cache.get(&key) {
        return Ok((p, true));
    }
    if options.robots {
        net.robots_allow(&parsed).await?;
    }
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT,
        reqwest::header::HeaderValue::from_static(ACCEPT),
    );
    let fetched = net
        .send(reqwest::Method::GET, parsed.as_str(), headers, None, None)
        .await?;
    let page = blocking(move || convert(fetched, raw, options.max_image_bytes)).await?;
    let page = Arc::new(page);
    if (200..300).contains(&page.status) {
        cache.put(key, page.clone(), page.weight());
    }
    Ok((page, false))
}

/// What kind of body a response carries, from its Content-Type (sniffed when missing).
fn content_type(f: &Fetched) -> String {
    let declared = f
        .headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !declared.trim().is_empty() {
        return declared;
    }
    let head = &f.body[..f.body.len().min(512)];
    let head_text = String::from_utf8_lossy(head).to_ascii_lowercase();
    if head_text.contains("<html") || head_text.contains("<!doctype html") {
        return "text/html".into();
    }
    crate::support::mime::detect(
        std::path::Path::new(f.final_url.path()),
        head,
        !text::looks_binary(head),
    )
}

/// Decodes a text body: the charset the header names, else a BOM, else (for HTML) a
/// `<meta charset>` near the top, else UTF-8.
fn decode(body: &[u8], content_type: &str, is_html: bool) -> String {
    let label = content_type
        .split(';')
        .skip(1)
        .filter_map(|p| p.trim().strip_prefix("charset="))
        .map(|c| c.trim_matches(['"', '\'']).to_owned())
        .next()
        .or_else(|| is_html.then(|| meta_charset(body)).flatten());
    let encoding = label
        .and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    let (text, _, _) = encoding.decode(body);
    text.into_owned()
}

fn meta_charset(body: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(&body[..body.len().min(2048)]).to_ascii_lowercase();
    let at = head.find("charset=")? + "charset=".len();
    let rest = head[at..].trim_start_matches(['"', '\'']);
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))?;
    (end > 0).then(|| rest[..end].to_owned())
}

fn convert(f: Fetched, raw: bool, max_image_bytes: u64) -> Result<Page, ToolError> {
    let ct = content_type(&f);
    let essence = ct.split(';').next().unwrap_or("").trim().to_owned();
    let final_url = f.final_url.to_string();
    let page = |title, body| Page {
        final_url: final_url.clone(),
        status: f.status,
        content_type: essence.clone(),
        title,
        body,
    };
    let text_body = |text: String| Body::Text {
        chars: text.chars().count(),
        text,
    };
    if essence.starts_with("image/") {
        if f.body.len() as u64 > max_image_bytes {
            return Err(ToolError::invalid(format!(
                "`{final_url}` is an image of {}, over the {} returned inline (web.fetch.max_image_bytes); save it with download_file",
                text::human_bytes(f.body.len() as u64),
                text::human_bytes(max_image_bytes)
            )));
        }
        return Ok(page(
            None,
            Body::Image {
                mime: essence.clone(),
                data: f.body.clone(),
            },
        ));
    }
    let is_html = matches!(essence.as_str(), "text/html" | "application/xhtml+xml");
    let is_json = essence == "application/json" || essence.ends_with("+json");
    let is_text = essence.starts_with("text/")
        || is_json
        || essence.ends_with("+xml")
        || matches!(
            essence.as_str(),
            "application/xml"
                | "application/javascript"
                | "application/x-yaml"
                | "application/yaml"
                | "application/toml"
        );
    if !is_text && text::looks_binary(&f.body[..f.body.len().min(8192)]) {
        return Err(ToolError::invalid(format!(
            "`{final_url}` is {essence} ({}), not text or an image; save it with download_file",
            text::human_bytes(f.body.len() as u64)
        )));
    }
    let decoded = decode(&f.body, &ct, is_html);
    if raw {
        return Ok(page(None, text_body(decoded)));
    }
    if is_html {
        let r = html::readable(&decoded, &f.final_url);
        return Ok(page(r.title, text_body(r.markdown)));
    }
    if is_json && let Ok(v) = serde_json::from_str::<serde_json::Value>(&decoded) {
        let pretty = serde_json::to_string_pretty(&v).unwrap_or(decoded);
        return Ok(page(None, text_body(pretty)));
    }
    Ok(page(None, text_body(decoded)))
}

/// The part of a text page a call returns: from `start` (characters), at most `max`
/// characters, cut after a line break when one falls in the window's last fifth. Returns the
/// text and where the next window starts, if anything is left.
pub fn window(text: &str, chars: usize, start: usize, max: usize) -> (&str, Option<usize>) {
    let byte_at = |n: usize| {
        text.char_indices()
            .nth(n)
            .map(|(i, _)| i)
            .unwrap_or(text.len())
    };
    let from = byte_at(start);
    if start + max >= chars {
        return (&text[from..], None);
    }
    let mut to = from
        + text[from..]
            .char_indices()
            .nth(max)
            .map(|(i, _)| i)
            .unwrap_or(text.len() - from);
    let mut next = start + max;
    if let Some(nl) = text[from..to].rfind('\n') {
        let nl_chars = text[from..from + nl].chars().count() + 1;
        if nl_chars * 5 >= max * 4 {
            to = from + nl + 1;
            next = start + nl_chars;
        }
    }
    (&text[from..to], Some(next))
}

/// The result text: a header (URL, status, type, title, which characters), the window, and
/// the exact call that continues.
pub fn render(
    page: &Page,
    requested: &str,
    start: usize,
    max: usize,
) -> Result<Vec<Block>, ToolError> {
    let mut head = vec![format!("URL: {}", page.final_url)];
    if page.final_url != requested && page.final_url != format!("{requested}/") {
        head[0].push_str(&format!(" (redirected from {requested})"));
    }
    let mut line = format!("Status: {} · {}", page.status, page.content_type);
    if let Some(t) = &page.title {
        line.push_str(&format!(" · Title: {t}"));
    }
    head.push(line);
    match &page.body {
        Body::Image { mime, data } => {
            head.push(format!("Image: {}", text::human_bytes(data.len() as u64)));
            Ok(vec![
                Block::Text(head.join("\n")),
                Block::Image {
                    base64: base64::engine::general_purpose::STANDARD.encode(data),
                    mime: mime.clone(),
                },
            ])
        }
        Body::Text { text: body, chars } => {
            if start > 0 && start >= *chars {
                return Err(ToolError::invalid(format!(
                    "start_index {start} is past the end: the page has {chars} characters"
                )));
            }
            let (part, next) = window(body, *chars, start, max);
            let end = next.unwrap_or(*chars);
            if start > 0 || next.is_some() {
                head.push(format!("Characters {start}–{end} of {chars}"));
            }
            let mut out = format!("{}\n\n{part}", head.join("\n"));
            if let Some(n) = next {
                out.push_str(&format!(
                    "\n\n[Cut at character {n} of {chars}. Continue with fetch_url url=\"{requested}\" start_index={n}.]"
                ));
            }
            Ok(vec![Block::Text(out)])
        }
    }
}

/// A failed status as an error the model can act on, with the start of what the server said.
pub fn status_error(page: &Page) -> ToolError {
    let said = match &page.body {
        Body::Text { text, .. } => {
            let cut = text::floor_char_boundary(text, 500);
            format!(": {}", text[..cut].trim())
        }
        Body::Image { .. } => String::new(),
    };
    ToolError::invalid(format!(
        "`{}` answered HTTP {}{said}",
        page.final_url, page.status
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_count_characters_and_prefer_line_breaks() {
        let t = "ab\ncdé\nfgh";
        let n = t.chars().count();
        assert_eq!(window(t, n, 0, 100), (t, None));
        // A break in the last fifth of the window: cut after it.
        assert_eq!(window(t, n, 0, 3), ("ab\n", Some(3)));
        assert_eq!(window(t, n, 3, 4), ("cdé\n", Some(7)));
        assert_eq!(window(t, n, 7, 4), ("fgh", None));
        // No break near the end: cut at the character.
        assert_eq!(window(t, n, 3, 2), ("cd", Some(5)));
        assert_eq!(window(t, n, 5, 1), ("é", Some(6)));
    }

    #[test]
    fn charsets_from_header_or_meta() {
        let latin = b"caf\xe9";
        assert_eq!(
            decode(latin, "text/plain; charset=ISO-8859-1", false),
            "café"
        );
        let html = b"<html><head><meta charset=\"windows-1252\"></head>caf\xe9";
        assert!(decode(html, "text/html", true).ends_with("café"));
        assert_eq!(decode("é".as_bytes(), "text/plain", false), "é");
    }

    #[test]
    fn render_says_how_to_continue() {
        let page = Page {
            final_url: "https://example.com/a".into(),
            status: 200,
            content_type: "text/html".into(),
            title: Some("A".into()),
            body: Body::Text {
                text: "one two three".into(),
                chars: 13,
            },
        };
        let Block::Text(t) = &render(&page, "https://example.com/a", 0, 4).unwrap()[0] else {
            panic!("text expected")
        };
        assert_eq!(
            t,
            "URL: https://example.com/a\nStatus: 200 · text/html · Title: A\nCharacters 0–4 of 13\n\none \n\n[Cut at character 4 of 13. Continue with fetch_url url=\"https://example.com/a\" start_index=4.]"
        );
        assert!(render(&page, "https://example.com/a", 13, 4).is_err());
    }
}
