//! What every inference backend can do (the [`Backend`] trait), the request and reply types
//! the AI tools speak, and [`Endpoint`]: the HTTP plumbing one backend uses to reach its one
//! configured base URL (timeouts, size caps, streamed bodies, error reading). A new backend
//! type is one file implementing the trait with an `Endpoint`.

use super::context::Window;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderName, HeaderValue};
use serde::Serialize;
use serde_json::Value;

use super::AiError;
use crate::config::{BackendKind, BackendSettings};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Receives generated text as it arrives.
pub type TextSink<'a> = &'a mut (dyn FnMut(&str) + Send);
/// Receives a pull's status lines as they arrive.
pub type PullSink<'a> = &'a mut (dyn FnMut(PullUpdate) + Send);

/// One model a backend offers, as `ai_list_models` reports it.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct ModelEntry {
    /// The name to pass as `model` (prefixed with `backend/` when not on the default backend).
    pub name: String,
    pub backend: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// Parameter count, e.g. `8.0B`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantization: Option<String>,
    /// Whether it is in memory now (Ollama says; other servers do not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loaded: Option<bool>,
    /// Tokens a request gets, when the server says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_length: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_at: Option<String>,
}

/// One model in detail (`ai_model_info`).
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct ModelDetails {
    pub name: String,
    pub backend: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantization: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    // `ai_model_info`: the tokens a request gets, as `ai_agent` uses it (a backend's own
    // `show` fills in the trained length; the tool moves it to `trained_context_length`).
    /// Tokens a request gets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_length: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_source: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trained_context_length: Option<u64>,
    /// Length of its embedding vectors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedding_length: Option<u64>,
    /// What it can do, e.g. `completion`, `tools`, `vision`, `embedding`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<String>,
    /// Default generation parameters (Ollama's Modelfile `PARAMETER` lines).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_parameters: Option<String>,
    /// The prompt template, cut to 2000 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_at: Option<String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Image {
    pub mime: String,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct Message {
    pub role: Role,
    pub content: String,
    pub images: Vec<Image>,
}

impl Message {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            images: Vec::new(),
        }
    }
}

/// Structured output: any JSON object, or JSON matching a schema.
#[derive(Debug, Clone)]
pub enum Format {
    Json,
    Schema(Value),
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub seed: Option<i64>,
    pub max_tokens: Option<u32>,
    pub stop: Vec<String>,
    /// The context to run the model with (Ollama's `num_ctx`; other servers fix it at start).
    pub context_tokens: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<Message>,
    pub options: Options,
    pub format: Option<Format>,
}

#[derive(Debug, Clone)]
pub struct GenerateRequest {
    pub model: String,
    pub prompt: String,
    pub system: Option<String>,
    /// Send the prompt as is, without the model's chat template.
    pub raw: bool,
    pub images: Vec<Image>,
    pub options: Options,
    pub format: Option<Format>,
}

/// A finished generation with what the backend reported about it.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    pub content: String,
    pub done_reason: Option<String>,
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    pub load_ms: Option<f64>,
    pub prompt_ms: Option<f64>,
    pub generation_ms: Option<f64>,
}

#[derive(Debug, Clone, Default)]
pub struct Embeddings {
    pub vectors: Vec<Vec<f32>>,
    pub prompt_tokens: Option<u64>,
}

/// A backend that answered its health check.
#[derive(Debug, Clone, Default)]
pub struct Health {
    pub version: Option<String>,
    pub models: Option<usize>,
}

/// One status line of a pull.
#[derive(Debug, Clone, Default)]
pub struct PullUpdate {
    pub status: String,
    pub digest: Option<String>,
    pub total: Option<u64>,
    pub completed: Option<u64>,
}

/// An inference server of one type. Every method talks to the backend's configured base URL
/// only; dropping a returned future closes its connection, which stops a generation upstream.
pub trait Backend: Send + Sync {
    fn endpoint(&self) -> &Endpoint;
    fn health(&self) -> BoxFuture<'_, Result<Health, AiError>>;
    fn list(&self) -> BoxFuture<'_, Result<Vec<ModelEntry>, AiError>>;
    fn show<'a>(&'a self, model: &'a str) -> BoxFuture<'a, Result<ModelDetails, AiError>>;
    fn chat<'a>(
        &'a self,
        req: &'a ChatRequest,
        sink: TextSink<'a>,
    ) -> BoxFuture<'a, Result<Reply, AiError>>;
    fn generate<'a>(
        &'a self,
        req: &'a GenerateRequest,
        sink: TextSink<'a>,
    ) -> BoxFuture<'a, Result<Reply, AiError>>;
    /// The context a request to `model` gets: what the server runs it with when it says so,
    /// else what the model was trained for (`Trained`), else `None`.
    fn window<'a>(&'a self, model: &'a str) -> BoxFuture<'a, Result<Option<Window>, AiError>>;
    fn embed<'a>(
        &'a self,
        model: &'a str,
        inputs: &'a [String],
    ) -> BoxFuture<'a, Result<Embeddings, AiError>>;
    /// Downloads a model; backends that cannot say so.
    fn pull<'a>(
        &'a self,
        model: &'a str,
        sink: PullSink<'a>,
    ) -> BoxFuture<'a, Result<(), AiError>> {
        let _ = (model, sink);
        Box::pin(async move { Err(self.endpoint().unsupported("pull models")) })
    }
}

/// The last thing a request to a backend showed about its health.
#[derive(Debug, Clone)]
pub enum Seen {
    Up(Instant),
    Down(Instant, String),
}

/// One backend's HTTP side: its base URL, headers, limits and the shared client.
pub struct Endpoint {
    pub name: String,
    pub kind: BackendKind,
    pub base_url: String,
    pub timeout: Duration,
    headers: Vec<(HeaderName, HeaderValue)>,
    client: reqwest::Client,
    max_bytes: u64,
    /// Updated by every request, so health reports what calls saw too.
    pub seen: Mutex<Option<Seen>>,
    health: Mutex<Option<Health>>,
}

impl Endpoint {
    pub fn new(s: &BackendSettings, client: reqwest::Client, max_bytes: u64) -> Self {
        Self {
            name: s.name.clone(),
            kind: s.kind,
            base_url: s.base_url.clone(),
            timeout: s.timeout,
            headers: s.headers.clone(),
            client,
            max_bytes,
            seen: Mutex::new(None),
            health: Mutex::new(None),
        }
    }

    pub fn cached_health(&self) -> Option<Health> {
        self.health
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn remember_health(&self, h: Health) {
        *self.health.lock().unwrap_or_else(|e| e.into_inner()) = Some(h);
    }

    /// `path` after the base URL; a path starting with `root:` after the server's root (the
    /// base without a final `/v1`), for servers' own endpoints beside their OpenAI API.
    pub fn url(&self, path: &str) -> String {
        match path.strip_prefix("root:") {
            Some(p) => format!(
                "{}{p}",
                self.base_url.trim_end_matches('/').trim_end_matches("/v1")
            ),
            None => format!("{}{path}", self.base_url),
        }
    }

    pub fn unsupported(&self, what: &str) -> AiError {
        AiError::Unsupported {
            backend: self.name.clone(),
            kind: self.kind.as_str(),
            what: what.to_owned(),
        }
    }

    fn note(&self, seen: Seen) {
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(seen);
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut rb = self.client.request(method, self.url(path));
        for (k, v) in &self.headers {
            rb = rb.header(k, v);
        }
        rb
    }

    /// Sends a request and returns the response when its status is a success; otherwise the
    /// backend's error, read from its body. `whole` bounds the entire exchange by the
    /// backend's timeout (a pull is bounded only between chunks).
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        whole: bool,
    ) -> Result<reqwest::Response, AiError> {
        let mut rb = self.request(method, path);
        if let Some(b) = body {
            rb = rb.json(b);
        }
        if whole {
            rb = rb.timeout(self.timeout);
        }
        // A kept-alive connection the server closed while idle fails before any answer; the
        // request never reached the server, so it is sent once more on a new connection.
        let again = rb.try_clone();
        let resp = match rb.send().await {
            Ok(r) => r,
            Err(e) if !e.is_connect() && !e.is_timeout() && e.is_request() && again.is_some() => {
                tracing::debug!(backend = %self.name, error = %e, "retrying on a new connection");
                match again.map(|rb| rb.send()) {
                    Some(fut) => fut.await.map_err(|e| self.transport_error(e))?,
                    None => return Err(self.transport_error(e)),
                }
            }
            Err(e) => return Err(self.transport_error(e)),
        };
        self.note(Seen::Up(Instant::now()));
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let mut resp = resp;
        let mut text = Vec::new();
        while let Ok(Some(chunk)) = resp.chunk().await {
            text.extend_from_slice(&chunk);
            if text.len() > 64 * 1024 {
                break;
            }
        }
        let message = error_message(&String::from_utf8_lossy(&text));
        Err(AiError::Status {
            backend: self.name.clone(),
            status: status.as_u16(),
            message,
        })
    }

    /// A whole JSON answer, capped at `ai.max_response_bytes`.
    pub async fn json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, AiError> {
        let mut resp = self.send(method, path, body, true).await?;
        let mut buf = Vec::new();
        while let Some(chunk) = self.chunk(&mut resp).await? {
            buf.extend_from_slice(&chunk);
            self.check_size(buf.len())?;
        }
        serde_json::from_slice(&buf).map_err(|e| self.protocol(format!("not JSON: {e}")))
    }

    /// The next piece of a streamed body.
    pub async fn chunk(
        &self,
        resp: &mut reqwest::Response,
    ) -> Result<Option<bytes::Bytes>, AiError> {
        resp.chunk().await.map_err(|e| self.transport_error(e))
    }

    pub fn check_size(&self, total: usize) -> Result<(), AiError> {
        if total as u64 > self.max_bytes {
            return Err(AiError::TooLarge {
                backend: self.name.clone(),
                limit: self.max_bytes,
            });
        }
        Ok(())
    }

    /// The cap for one streamed line or event.
    pub fn item_cap(&self) -> usize {
        usize::try_from(self.max_bytes).unwrap_or(usize::MAX)
    }

    pub fn protocol(&self, detail: String) -> AiError {
        AiError::Protocol {
            backend: self.name.clone(),
            detail,
        }
    }

    pub fn transport_error(&self, e: reqwest::Error) -> AiError {
        if e.is_timeout() {
            return AiError::Timeout {
                backend: self.name.clone(),
                secs: self.timeout.as_secs(),
            };
        }
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            detail = s.to_string();
            source = s.source();
        }
        if e.is_connect() || e.is_request() {
            self.note(Seen::Down(Instant::now(), detail.clone()));
            return AiError::Unreachable {
                backend: self.name.clone(),
                kind: self.kind,
                url: self.base_url.clone(),
                detail,
            };
        }
        AiError::Protocol {
            backend: self.name.clone(),
            detail: format!("the connection failed: {detail}"),
        }
    }
}

/// The message inside an error body: Ollama's `{"error": "..."}`, OpenAI's
/// `{"error": {"message": "..."}}`, or the text itself.
pub fn error_message(body: &str) -> String {
    let trimmed = body.trim();
    if let Ok(v) = serde_json::from_str::<Value>(trimmed) {
        let e = &v["error"];
        if let Some(s) = e.as_str() {
            return s.to_owned();
        }
        if let Some(s) = e["message"].as_str() {
            return s.to_owned();
        }
        if let Some(s) = v["message"].as_str() {
            return s.to_owned();
        }
    }
    let mut s: String = trimmed.chars().take(500).collect();
    if s.is_empty() {
        s = "(no message)".into();
    }
    s
}

/// A parameter count as people write it: `134.5M`, `8.0B`.
pub fn params_label(n: u64) -> String {
    let f = n as f64;
    if f >= 1e9 {
        format!("{:.1}B", f / 1e9)
    } else if f >= 1e6 {
        format!("{:.1}M", f / 1e6)
    } else {
        format!("{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_of_both_dialects_are_read() {
        assert_eq!(
            error_message(r#"{"error":"model \"x\" not found, try pulling it first"}"#),
            "model \"x\" not found, try pulling it first"
        );
        assert_eq!(
            error_message(
                r#"{"error":{"message":"The model `x` does not exist","type":"invalid_request_error","code":"model_not_found"}}"#
            ),
            "The model `x` does not exist"
        );
        assert_eq!(error_message("Bad Gateway"), "Bad Gateway");
        assert_eq!(error_message(""), "(no message)");
    }

    /// A server that drops a kept-alive connection instead of answering its next request (what
    /// an idle-timeout close racing a new request looks like): the request is sent again on a
    /// new connection, once.
    #[tokio::test]
    async fn a_dropped_kept_alive_connection_is_retried_once() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let ok =
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
            // First connection: answer one request, then close on the second.
            let (mut c, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            let _ = c.read(&mut buf).await;
            c.write_all(ok).await.unwrap();
            let _ = c.read(&mut buf).await;
            drop(c);
            // Later connections answer.
            loop {
                let (mut c, _) = listener.accept().await.unwrap();
                let _ = c.read(&mut buf).await;
                let _ = c.write_all(ok).await;
            }
        });
        let settings = BackendSettings {
            name: "t".into(),
            kind: BackendKind::OpenAi,
            base_url: format!("http://127.0.0.1:{port}"),
            default_model: None,
            timeout: Duration::from_secs(5),
            headers: Vec::new(),
        };
        let ep = Endpoint::new(&settings, reqwest::Client::new(), 1024);
        let body = serde_json::json!({"x": 1});
        ep.json(reqwest::Method::POST, "/a", Some(&body))
            .await
            .unwrap();
        ep.json(reqwest::Method::POST, "/b", Some(&body))
            .await
            .unwrap();
    }

    #[test]
    fn parameter_counts_read_like_model_cards() {
        assert_eq!(params_label(134_515_008), "134.5M");
        assert_eq!(params_label(8_030_261_248), "8.0B");
    }
}
