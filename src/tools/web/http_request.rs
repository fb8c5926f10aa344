//! `http_request`: any HTTP method to a URL the network guard allows, with headers, query, a
//! text or JSON body and an optional named credential (its secret never passes through the
//! model). Returns status, selected headers and the body as text, JSON or base64.

use std::collections::BTreeMap;

use base64::Engine;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::policy::net::{Fetched, NetGuard};
use crate::server::Switchboard;
use crate::tools::ToolError;

/// Response headers worth showing; the rest are noise for a model.
const SHOWN_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "content-disposition",
    "location",
    "etag",
    "last-modified",
    "cache-control",
    "retry-after",
    "www-authenticate",
    "link",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
];

#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    #[default]
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
}

impl HttpMethod {
    fn to_reqwest(self) -> reqwest::Method {
        match self {
            Self::Get => reqwest::Method::GET,
            Self::Post => reqwest::Method::POST,
            Self::Put => reqwest::Method::PUT,
            Self::Patch => reqwest::Method::PATCH,
            Self::Delete => reqwest::Method::DELETE,
            Self::Head => reqwest::Method::HEAD,
            Self::Options => reqwest::Method::OPTIONS,
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpRequestArgs {
    /// http or https URL.
    pub url: String,
    /// GET (default), POST, PUT, PATCH, DELETE, HEAD or OPTIONS.
    #[serde(default)]
    pub method: HttpMethod,
    /// Request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Query parameters, added to the URL's own.
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// A text body.
    #[serde(default)]
    pub body: Option<String>,
    /// A JSON object body (sent with Content-Type: application/json); instead of body. Other
    /// JSON (an array) can go in body with that header.
    #[serde(default)]
    pub json: Option<serde_json::Map<String, Value>>,
    /// Name of a credential from the config (web.credentials); added only for its hosts.
    #[serde(default)]
    pub credential: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct HttpResponse {
    /// The URL that answered, after redirects.
    pub url: String,
    pub status: u16,
    /// Selected response headers (content type, length, location, caching, rate limits).
    pub headers: BTreeMap<String, String>,
    /// The body as text, when it is text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The body parsed, when it is a JSON object or array.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "object_or_array")]
    pub json: Option<Value>,
    /// The body in base64, when it is binary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
    pub bytes: usize,
    /// URLs redirected through, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<String>,
}

/// Builds and sends the request through the guard.
pub async fn http_request(
    net: &NetGuard,
    credentials: &BTreeMap<String, crate::config::Credential>,
    args: HttpRequestArgs,
) -> Result<HttpResponse, ToolError> {
    if args.body.is_some() && args.json.is_some() {
        return Err(ToolError::invalid("give `body` or `json`, not both"));
    }
    let mut url = url::Url::parse(&args.url)
        .map_err(|e| ToolError::invalid(format!("`{}` is not a valid URL: {e}", args.url)))?;
    if !args.query.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (k, v) in &args.query {
            pairs.append_pair(k, v);
        }
    }
    let mut headers = reqwest::header::HeaderMap::new();
    for (k, v) in &args.headers {
        let name = reqwest::header::HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| ToolError::invalid(format!("`{k}` is not a header name")))?;
        let value = reqwest::header::HeaderValue::from_str(v)
            .map_err(|_| ToolError::invalid(format!("header `{k}` has characters a header cannot carry (line breaks, control characters)")))?;
        headers.insert(name, value);
    }
    let body = match (&args.body, &args.json) {
        (Some(b), _) => Some(b.clone().into_bytes()),
        (_, Some(j)) => {
            if !headers.contains_key(reqwest::header::CONTENT_TYPE) {
                headers.insert(
                    reqwest::header::CONTENT_TYPE,
                    reqwest::header::HeaderValue::from_static("application/json"),
                );
            }
            Some(Value::Object(j.clone()).to_string().into_bytes())
        }
        _ => None,
    };
    let credential = super::credential(credentials, args.credential.as_deref())?;
    let fetched = net
        .send(
            args.method.to_reqwest(),
            url.as_str(),
            headers,
            body,
            credential,
        )
        .await
        .map_err(|e| ToolError::invalid(e.to_string()))?;
    Ok(describe(fetched))
}

fn object_or_array(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"anyOf": [{"type": "object"}, {"type": "array"}]})
}

fn describe(f: Fetched) -> HttpResponse {
    let headers: BTreeMap<String, String> = SHOWN_HEADERS
        .iter()
        .filter_map(|h| {
            let v = f.headers.get(*h)?.to_str().ok()?;
            Some(((*h).to_owned(), v.to_owned()))
        })
        .collect();
    let content_type = headers
        .get("content-type")
        .map(|c| c.to_ascii_lowercase())
        .unwrap_or_default();
    let bytes = f.body.len();
    let (mut text, mut json, mut base64) = (None, None, None);
    let is_json = content_type.contains("json");
    match String::from_utf8(f.body) {
        Ok(s) if is_json => match serde_json::from_str::<Value>(&s) {
            Ok(v) if v.is_object() || v.is_array() => json = Some(v),
            _ => text = Some(s),
        },
        Ok(s) => text = Some(s),
        Err(e) => base64 = Some(base64::engine::general_purpose::STANDARD.encode(e.into_bytes())),
    }
    HttpResponse {
        url: f.final_url.to_string(),
        status: f.status,
        headers,
        text,
        json,
        base64,
        bytes,
        redirects: f.redirects,
    }
}

#[tool_router(router = http_request_router, vis = "pub(crate)")]
impl Switchboard {
    /// Send an HTTP request (any method) and get status, key headers and the body (text, parsed JSON, or base64). Private and local addresses are refused unless allowed in config; use `credential` for configured API keys. A non-2xx status is a normal result.
    #[tool(annotations(
        title = "HTTP request",
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub async fn http_request(
        &self,
        Parameters(args): Parameters<HttpRequestArgs>,
    ) -> Result<Json<HttpResponse>, ToolError> {
        let net = self.net()?;
        http_request(&net, &self.settings.web.credentials, args)
            .await
            .map(Json)
    }
}
