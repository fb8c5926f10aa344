//! `web_search`: a query to the configured search providers (a SearXNG instance's JSON API, the
//! Brave Search API, DuckDuckGo's HTML page), tried in order until one answers, through the network guard. Returns
//! title, URL and snippet per hit.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::SearchProvider;
use crate::policy::net::NetGuard;
use crate::server::Switchboard;
use crate::support::html;
use crate::tools::ToolError;

/// Words a model uses for this tool's job beyond its description: `search_tools` matches them.
pub const KEYWORDS: &str =
    "search web internet online google bing look up find websites results news latest";

/// Most hits one call returns.
const MAX_RESULTS: usize = 50;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebSearchArgs {
    /// What to search for.
    pub query: String,
    /// Hits to return (default from web.search.max_results, at most 50).
    #[serde(default)]
    pub max_results: Option<usize>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Hit {
    pub title: String,
    pub url: String,
    pub snippet: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SearchResults {
    /// The provider that answered: searxng, brave or duckduckgo.
    pub provider: String,
    pub results: Vec<Hit>,
    /// Providers that failed before this one answered, with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
}

pub async fn web_search(
    net: &NetGuard,
    providers: &[SearchProvider],
    default_max: usize,
    args: WebSearchArgs,
) -> Result<SearchResults, ToolError> {
    let query = args.query.trim();
    if query.is_empty() {
        return Err(ToolError::invalid("the query is empty"));
    }
    if providers.is_empty() {
        return Err(ToolError::invalid(
            "no search provider is configured: add web.search.providers in config.yaml, e.g. {kind: duckduckgo} (no key), {kind: searxng, url: http://localhost:8888} or {kind: brave, api_key: env:BRAVE_API_KEY}; switchboard reads config.yaml when it starts, so restart it (or reconnect it in the host) after the change",
        ));
    }
    let max = args
        .max_results
        .unwrap_or(default_max)
        .clamp(1, MAX_RESULTS);
    let mut skipped = Vec::new();
    for p in providers {
        match search_one(net, p, query, max).await {
            Ok((name, mut results)) => {
                results.truncate(max);
                return Ok(SearchResults {
                    provider: name.to_owned(),
                    results,
                    skipped,
                });
            }
            Err(why) => skipped.push(why),
        }
    }
    Err(ToolError::invalid(format!(
        "every search provider failed: {}",
        skipped.join("; ")
    )))
}

async fn search_one(
    net: &NetGuard,
    provider: &SearchProvider,
    query: &str,
    max: usize,
) -> Result<(&'static str, Vec<Hit>), String> {
    let (name, url, credential, accept) = match provider {
        SearchProvider::Searxng { url } => {
            let mut u = url.join("search").map_err(|e| e.to_string())?;
            u.query_pairs_mut()
                .append_pair("q", query)
                .append_pair("format", "json");
            ("searxng", u, None, "application/json")
        }
        SearchProvider::Brave { url, key } => {
            let mut u = url.clone();
            u.query_pairs_mut()
                .append_pair("q", query)
                .append_pair("count", &max.min(20).to_string());
            ("brave", u, Some(("brave", key)), "application/json")
        }
        SearchProvider::DuckDuckGo { url } => {
            let mut u = url.clone();
            u.query_pairs_mut().append_pair("q", query);
            ("duckduckgo", u, None, "text/html")
        }
    };
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT,
        reqwest::header::HeaderValue::from_static(accept),
    );
    let fetched = net
        .send(
            reqwest::Method::GET,
            url.as_str(),
            headers,
            None,
            credential,
        )
        .await
        .map_err(|e| format!("{name}: {e}"))?;
    if !(200..300).contains(&fetched.status) {
        return Err(format!("{name}: HTTP {}", fetched.status));
    }
    let hits = match provider {
        SearchProvider::Searxng { .. } => json_hits(&fetched.body, "/results", "content"),
        SearchProvider::Brave { .. } => json_hits(&fetched.body, "/web/results", "description"),
        SearchProvider::DuckDuckGo { .. } => {
            duckduckgo_hits(&String::from_utf8_lossy(&fetched.body), &fetched.final_url)
        }
    }
    .map_err(|why| format!("{name}: {why}"))?;
    Ok((name, hits))
}

/// Hits from a JSON API: a list at `list` whose items have title, url and `snippet_key`.
fn json_hits(body: &[u8], list: &str, snippet_key: &str) -> Result<Vec<Hit>, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("the answer is not JSON ({e})"))?;
    let text = |h: &Value, k: &str| h.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    Ok(v.pointer(list)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|h| {
                    let url = text(h, "url");
                    (!url.is_empty()).then(|| Hit {
                        title: html::fragment_text(&text(h, "title")),
                        snippet: html::fragment_text(&text(h, snippet_key)),
                        url,
                    })
                })
                .collect()
        })
        .unwrap_or_default())
}

/// Hits from DuckDuckGo's HTML results page: each `.result` (ads left out) has a
/// `.result__a` link, whose target is DuckDuckGo's redirect with the real URL in `uddg`, and a
/// `.result__snippet`. A page without results and without its "no results" notice is an error
/// (a rate-limit page, or changed markup), so the next provider gets its turn.
fn duckduckgo_hits(page: &str, base: &url::Url) -> Result<Vec<Hit>, String> {
    let doc = scraper::Html::parse_document(page);
    let sel = |s: &str| scraper::Selector::parse(s).expect("static selector");
    let (result, link, snippet) = (
        sel(".result:not(.result--ad)"),
        sel("a.result__a"),
        sel(".result__snippet"),
    );
    let mut hits = Vec::new();
    for r in doc.select(&result) {
        let Some(a) = r.select(&link).next() else {
            continue;
        };
        let Some(target) = a.attr("href").and_then(|h| base.join(h).ok()) else {
            continue;
        };
        let url = target
            .query_pairs()
            .find(|(k, _)| k == "uddg")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| target.to_string());
        hits.push(Hit {
            title: html::fragment_text(&a.inner_html()),
            url,
            snippet: r
                .select(&snippet)
                .next()
                .map(|s| html::fragment_text(&s.inner_html()))
                .unwrap_or_default(),
        });
    }
    if hits.is_empty() && doc.select(&sel(".no-results")).next().is_none() {
        return Err("the results page had no results it could read (a rate-limit page, or its markup changed)".into());
    }
    Ok(hits)
}

#[tool_router(router = web_search_router, vis = "pub(crate)")]
impl Switchboard {
    /// Search the web; returns title, URL and snippet per hit. Read a hit with fetch_url.
    #[tool(annotations(
        title = "Web search",
        read_only_hint = true,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    pub async fn web_search(
        &self,
        Parameters(args): Parameters<WebSearchArgs>,
    ) -> Result<Json<SearchResults>, ToolError> {
        let net = self.net()?;
        let web = &self.settings.web;
        web_search(&net, &web.search, web.search_max_results, args)
            .await
            .map(Json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_hits_are_plain_text() {
        let body = br#"{"results": [{"title": "<strong>Rust</strong> &amp; tokio", "url": "https://a.example/", "content": "x &lt;3"}, {"title": "no url"}]}"#;
        let hits = json_hits(body, "/results", "content").unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(
            (hits[0].title.as_str(), hits[0].snippet.as_str()),
            ("Rust & tokio", "x <3")
        );
    }

    #[test]
    fn duckduckgo_results_page() {
        let base = url::Url::parse("https://html.duckduckgo.com/html/?q=rust").unwrap();
        let page = r#"<div class="result results_links result--ad"><a class="result__a" href="https://ads.example/">Ad</a></div>
            <div class="result results_links results_links_deep web-result"><h2 class="result__title">
            <a rel="nofollow" class="result__a" href="//duckduckgo.com/l/?uddg=https%3A%2F%2Fwww.rust-lang.org%2Flearn&amp;rut=abc">Learn <b>Rust</b></a></h2>
            <a class="result__snippet" href="x">A language &amp; <b>tools</b>.</a></div>"#;
        let hits = duckduckgo_hits(page, &base).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].url, "https://www.rust-lang.org/learn");
        assert_eq!(hits[0].title, "Learn Rust");
        assert_eq!(hits[0].snippet, "A language & tools.");
        assert!(
            duckduckgo_hits(r#"<div class="no-results">No results.</div>"#, &base)
                .unwrap()
                .is_empty()
        );
        assert!(duckduckgo_hits("<form id=challenge-form></form>", &base).is_err());
    }
}
