//! One HTTP request as a model asks for it: method, headers, query, a text or JSON body and an
//! optional named credential, sent through the network guard (`policy::net`), and the response
//! shaped for a model (selected headers; the body as JSON, a text window or base64).

use std::collections::BTreeMap;

use base64::Engine;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ToolError;
use crate::policy::net::{Fetched, NetGuard, NetRefusal};

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
    pub fn to_reqwest(self) -> reqwest::Method {
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
    /// Most body bytes returned (default 20000); a longer body is cut and says where to go on.
    #[serde(default)]
    pub max_length: Option<usize>,
    /// Where the returned part of the body starts (for paging a long body).
    #[serde(default)]
    pub start_index: usize,
}

/// Body bytes returned when the call does not say.
const DEFAULT_MAX_LENGTH: usize = 20_000;

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
    /// The whole body's size.
    pub bytes: usize,
    /// Present when only part of the body is returned: repeat the call with this start_index
    /// to read on (or use download_file for a large or binary body).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_start_index: Option<usize>,
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
    let mut url = url::Url::parse(&args.url).map_err(|e| NetRefusal::BadUrl {
        url: args.url.clone(),
        why: e.to_string(),
    })?;
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
        .await?;
    let max = args.max_length.unwrap_or(DEFAULT_MAX_LENGTH).max(1);
    Ok(describe(fetched, args.start_index, max))
}

fn object_or_array(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"anyOf": [{"type": "object"}, {"type": "array"}]})
}

/// The response for the model: a JSON body parsed when it fits, otherwise the requested window
/// of the body (text cut on a character boundary, binary as base64).
fn describe(f: Fetched, start: usize, max: usize) -> HttpResponse {
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
    let mut next_start_index = None;
    let whole = start == 0 && bytes <= max;
    match String::from_utf8(f.body) {
        Ok(s) if whole && content_type.contains("json") => {
            match serde_json::from_str::<Value>(&s) {
                Ok(v) if v.is_object() || v.is_array() => json = Some(v),
                _ => text = Some(s),
            }
        }
        Ok(s) => {
            use crate::support::text::floor_char_boundary;
            let from = floor_char_boundary(&s, start);
            let mut to = floor_char_boundary(&s, from.saturating_add(max));
            if to == from && from < s.len() {
                // A window narrower than one character still returns that character.
                to = (from + 1..=s.len())
                    .find(|&i| s.is_char_boundary(i))
                    .unwrap_or(s.len());
            }
            if to < s.len() {
                next_start_index = Some(to);
            }
            text = Some(s[from..to].to_owned());
        }
        Err(e) => {
            let raw = e.into_bytes();
            let from = start.min(raw.len());
            let to = from.saturating_add(max).min(raw.len());
            if to < raw.len() {
                next_start_index = Some(to);
            }
            base64 = Some(base64::engine::general_purpose::STANDARD.encode(&raw[from..to]));
        }
    }
    HttpResponse {
        url: f.final_url.to_string(),
        status: f.status,
        headers,
        text,
        json,
        base64,
        bytes,
        next_start_index,
        redirects: f.redirects,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetched(body: &[u8], content_type: &str) -> Fetched {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::CONTENT_TYPE,
            reqwest::header::HeaderValue::from_str(content_type).unwrap(),
        );
        Fetched {
            final_url: url::Url::parse("https://example.com/").unwrap(),
            status: 200,
            headers,
            body: body.to_vec(),
            redirects: Vec::new(),
        }
    }

    #[test]
    fn long_bodies_are_paged_on_character_boundaries() {
        let r = describe(fetched("héllo".as_bytes(), "text/plain"), 0, 2);
        assert_eq!(
            (r.text.as_deref(), r.next_start_index),
            (Some("h"), Some(1))
        );
        let r = describe(fetched("héllo".as_bytes(), "text/plain"), 1, 1);
        assert_eq!(
            (r.text.as_deref(), r.next_start_index),
            (Some("é"), Some(3))
        );
        let r = describe(fetched("héllo".as_bytes(), "text/plain"), 3, 100);
        assert_eq!((r.text.as_deref(), r.next_start_index), (Some("llo"), None));
        assert_eq!(r.bytes, 6);
        // JSON is parsed only when it fits; otherwise it pages as text.
        let body = br#"{"a":[1,2,3]}"#;
        let r = describe(fetched(body, "application/json"), 0, 100);
        assert_eq!(r.json, Some(serde_json::json!({"a": [1, 2, 3]})));
        let r = describe(fetched(body, "application/json"), 0, 5);
        assert_eq!(
            (r.text.as_deref(), r.next_start_index),
            (Some(r#"{"a":"#), Some(5))
        );
        let r = describe(
            fetched(&[0, 159, 146, 150, 1], "application/octet-stream"),
            1,
            3,
        );
        assert_eq!(
            (r.base64.as_deref(), r.next_start_index),
            (Some("n5KW"), Some(4))
        );
    }
}
