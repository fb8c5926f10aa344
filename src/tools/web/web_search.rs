//! `web_search`: a query to the configured search providers (a SearXNG instance's JSON API, the
//! Brave Search API), tried in order until one answers, through the network guard. Returns
//! title, URL and snippet per hit.

use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::SearchProvider;
use crate::policy::net::NetGuard;
use crate::server::Switchboard;
use crate::tools::ToolError;

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
    /// The provider that answered: searxng or brave.
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
            "no search provider is configured: add web.search.providers in config.yaml, e.g. {kind: searxng, url: http://localhost:8888} or {kind: brave, api_key: env:BRAVE_API_KEY}",
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
    let (name, url, credential) = match provider {
        SearchProvider::Searxng { url } => {
            let mut u = url.join("search").map_err(|e| e.to_string())?;
            u.query_pairs_mut()
                .append_pair("q", query)
                .append_pair("format", "json");
            ("searxng", u, None)
        }
        SearchProvider::Brave { url, key } => {
            let mut u = url.clone();
            u.query_pairs_mut()
                .append_pair("q", query)
                .append_pair("count", &max.min(20).to_string());
            ("brave", u, Some(("brave", key)))
        }
    };
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT,
        reqwest::header::HeaderValue::from_static("application/json"),
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
    let v: Value = serde_json::from_slice(&fetched.body)
        .map_err(|e| format!("{name}: the answer is not JSON ({e})"))?;
    let (list, snippet_key) = match provider {
        SearchProvider::Searxng { .. } => (v.get("results"), "content"),
        SearchProvider::Brave { .. } => (v.pointer("/web/results"), "description"),
    };
    let text = |h: &Value, k: &str| h.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let hits = list
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|h| {
                    let url = text(h, "url");
                    (!url.is_empty()).then(|| Hit {
                        title: strip_tags(&text(h, "title")),
                        snippet: strip_tags(&text(h, snippet_key)),
                        url,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok((name, hits))
}

/// Providers mark matches with `<strong>`; the model wants plain text.
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

#[tool_router(router = web_search_router, vis = "pub(crate)")]
impl Switchboard {
    /// Search the web with the configured providers (SearXNG, Brave) and get title, URL and snippet per hit. Use http_request or download_file to read a hit.
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
    #[test]
    fn tags_and_entities_are_stripped() {
        assert_eq!(
            super::strip_tags("<strong>Rust</strong> &amp; <em>tokio</em> &lt;3"),
            "Rust & tokio <3"
        );
    }
}
